/**
 * Bounds on what the data readers take in, so that no file (crafted or mistaken) can make a reader or the
 * training after it run for hours or exhaust memory: a 20,000-column feature CSV of 7 MB once took 6 GB and more
 * than 10 minutes in the PCA. Every bound is an option of the commands that read data (src/cli/dataLimitsOption.ts);
 * each exceeded bound is one `DataIssue` naming the file, the line, the bound and the option that raises it.
 *
 * Memory while reading is bounded by them: the text of one file at a time (at most `maxFileBytes`), the numbers
 * read (at most `maxValues` doubles, 8 bytes each) and one small record a row (at most `maxRows`).
 */

export interface DataLimits {
  /**
   * Columns of one file: features of a feature CSV, the highest index of a libsvm file (its table is dense),
   * channels of a frames or recording CSV, heater-profile steps of a .bmerawdata file. @default 1000
   */
  readonly maxColumns: number;
  /** Rows of all the files read together: samples of feature files, frames, readings of .bmerawdata. @default 10_000_000 */
  readonly maxRows: number;
  /** Numbers held after reading: rows x columns, summed over the files. @default 250_000_000 (2 GB of doubles) */
  readonly maxValues: number;
  /** Bytes of one file (a file is read whole into one string; V8 caps a string near 512 MiB). @default 500 MiB */
  readonly maxFileBytes: number;
  /** Distinct non-empty labels of all the files together. @default 1000 */
  readonly maxClasses: number;
}

/** The real sets are far below these (widest: 128 features of the UCI drift data; most rows: 3 M frames of 2,000 simulated containers). */
export const DEFAULT_DATA_LIMITS: DataLimits = {
  maxColumns: 1000,
  maxRows: 10_000_000,
  maxValues: 250_000_000,
  maxFileBytes: 500 * 1024 * 1024,
  maxClasses: 1000,
};

/** Longest label, in UTF-16 code units: a class name, not a document. */
export const MAX_LABEL_CHARS = 128;

const count = (n: number) => n.toLocaleString('en-US');

/** Why a file of `columns` columns is refused, or null. */
export function columnsReason(columns: number, limits: DataLimits, what = 'columns'): string | null {
  return columns > limits.maxColumns ? `${count(columns)} ${what}, more than the ${count(limits.maxColumns)} a data file may have (--max-columns raises the bound)` : null;
}

/** Why a file of `bytes` bytes is refused, or null. */
export function fileSizeReason(bytes: number, limits: DataLimits): string | null {
  if (bytes <= limits.maxFileBytes) return null;
  const mib = (b: number) => (b / 2 ** 20).toFixed(b < 2 ** 20 ? 3 : 0);
  return `${mib(bytes)} MiB: too large to read whole (at most ${mib(limits.maxFileBytes)} MiB); split it into files below that (enose simulate and --record start frames-2.csv, ... by themselves), or raise the bound with --max-file-mb (up to 500)`;
}

/**
 * What the readers of one `readDataset` call have taken in so far, checked row by row against the limits. Each
 * check returns null, or the reason to refuse (the caller names the file and the line).
 */
export class ReadBudget {
  readonly limits: DataLimits;
  private rows = 0;
  private values = 0;
  private readonly classes = new Set<string>();
  private lastLabel = '';

  constructor(limits: DataLimits = DEFAULT_DATA_LIMITS) {
    this.limits = limits;
  }

  /** One more row of `columns` numbers. */
  addRow(columns: number): string | null {
    this.rows++;
    this.values += columns;
    if (this.rows > this.limits.maxRows) return `more than ${count(this.limits.maxRows)} rows in the data (--max-rows raises the bound)`;
    if (this.values > this.limits.maxValues) return `more than ${count(this.limits.maxValues)} numbers in the data (rows x columns; --max-values raises the bound)`;
    return null;
  }

  /** Numbers added without rows: the zeros a libsvm table is padded with when a later row is wider. */
  addValues(n: number): string | null {
    this.values += n;
    return this.values > this.limits.maxValues ? `more than ${count(this.limits.maxValues)} numbers in the data (rows x columns, a libsvm table held dense; --max-values raises the bound)` : null;
  }

  /** A row's label: at most MAX_LABEL_CHARS long, and at most `maxClasses` distinct ones; empty only when allowed. */
  checkLabel(label: string, emptyAllowed: boolean): string | null {
    if (label === this.lastLabel && label !== '') return null;
    if (label === '') return emptyAllowed ? null : 'empty label: every training sample needs one';
    if (label.length > MAX_LABEL_CHARS) return `label of ${count(label.length)} characters, more than ${MAX_LABEL_CHARS} (${JSON.stringify(label.slice(0, 24))}...)`;
    this.lastLabel = label;
    if (this.classes.has(label)) return null;
    this.classes.add(label);
    return this.classes.size > this.limits.maxClasses
      ? `label ${JSON.stringify(label)} is class number ${count(this.classes.size)}, more than the ${count(this.limits.maxClasses)} a data set may have (--max-classes raises the bound)`
      : null;
  }
}
