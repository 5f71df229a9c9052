/** The bounds on data files (`--max-columns`, `--max-rows`, ...) of the commands that read them: one declaration, one help block. */
import { DEFAULT_DATA_LIMITS, type DataLimits } from '../io/datasets/limits.js';
import { numberOption, type Parsed } from './args.js';

export const DATA_LIMIT_OPTIONS = {
  'max-columns': { type: 'string' },
  'max-rows': { type: 'string' },
  'max-values': { type: 'string' },
  'max-file-mb': { type: 'string' },
  'max-classes': { type: 'string' },
} as const;

const d = DEFAULT_DATA_LIMITS;
const n = (x: number) => x.toLocaleString('en-US');

export const DATA_LIMITS_HELP = `  --max-columns <n>         data files: at most n columns in a file (features, libsvm's highest
                            index, channels, heater steps)                  [default: ${n(d.maxColumns)}]
  --max-rows <n>            at most n rows in the data (samples, frames, readings) [default: ${n(d.maxRows)}]
  --max-values <n>          at most n numbers held (rows x columns)        [default: ${n(d.maxValues)}]
  --max-file-mb <m>         at most m MiB a file (up to 500)                [default: ${d.maxFileBytes / 2 ** 20}]
  --max-classes <n>         at most n distinct labels (each at most 128 characters) [default: ${n(d.maxClasses)}]`;

/** The limits the options give (each bound past which a read stops with one line naming it). */
export function dataLimitsOf(command: string, parsed: Parsed): DataLimits {
  const int = (name: string, max = Number.MAX_SAFE_INTEGER) => numberOption(command, parsed, name, { integer: true, min: 1, max });
  const mib = numberOption(command, parsed, 'max-file-mb', { above: 0, max: 500 });
  return {
    maxColumns: int('max-columns', 1_000_000) ?? d.maxColumns,
    maxRows: int('max-rows') ?? d.maxRows,
    maxValues: int('max-values') ?? d.maxValues,
    maxFileBytes: mib === undefined ? d.maxFileBytes : Math.floor(mib * 2 ** 20),
    maxClasses: int('max-classes') ?? d.maxClasses,
  };
}
