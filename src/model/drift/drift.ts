/**
 * The drift table: train once on the first batch, then for each later batch compare no correction with each
 * calibration method fitted on that batch's feature rows alone (labels unread), scored on the same batch; the
 * views model (views.ts) re-standardised the same way; and, in a row of its own, re-standardisation followed
 * by a fine-tune on a few labelled rows of the batch (finetune.ts), scored on the batch's other rows.
 * Protocol of the UCI gas sensor drift literature ("train on batch 1, test on batch k"; Vergara et al.,
 * Sensors and Actuators B 166 (2012) 320-329).
 */
import type { FeatureTable } from '../../types.js';
import type { ModelBundle } from '../runtime/bundle.js';
import { calibrateModel, calibrateWithLabels, CALIBRATION_METHODS, type CalibrationMethod, type CalibrationOptions } from './calibration.js';
import { evaluateModel } from '../fitting/evaluation.js';
import { LABELLED_PER_CLASS, selectLabelledRows } from './finetune.js';
import { fitModel, type FitOptions } from '../fitting/fitModel.js';
import { DRIFT_VIEWS, expandViews, fitViewsModel, type FeatureView } from './views.js';

/**
 * The base model of the table: logistic regression (C = 1) on all 128 z-scored features (a full PCA rotation),
 * the reference pipeline; chosen before any test batch was scored and not changed after.
 */
export const DRIFT_BASE_MODEL: FitOptions = Object.freeze({ classifier: 'logreg', components: 128, cvFolds: 0, noveltyQuantile: 0 });

/** Published means over batches 2 to 10, same protocol (from the data set's literature; see datasets/README.md). */
export const PUBLISHED_DRIFT_MEANS: readonly { readonly method: string; readonly mean: number; readonly note: string }[] = Object.freeze([
  { method: 'SVM-rbf', mean: 38.9, note: 'no correction' },
  { method: 'SVM-comgfk', mean: 64.0, note: 'unsupervised domain adaptation' },
  { method: 'ML-comgfk', mean: 67.3, note: 'unsupervised domain adaptation' },
  { method: 'DAELM-S', mean: 80.8, note: '20 labelled target samples' },
  { method: 'AMDS-PFFA', mean: 83.2, note: 'unsupervised, trained on batches 1 and 2, tested on 3 to 10' },
]);

export interface DriftBatch {
  readonly name: string;
  readonly table: FeatureTable;
}

export interface DriftRow {
  /** The row's name in the table, e.g. `standardise`, `views + standardise`, `standardise + fine-tune`. */
  readonly name: string;
  /** `base`: the single-view model (DRIFT_BASE_MODEL); `views`: the views model over the same training rows. */
  readonly model: 'base' | 'views';
  /** `none` or the calibration method fitted on the unlabelled rows of each batch. */
  readonly method: 'none' | CalibrationMethod;
  /** True when the row also uses labelled rows of the test batch (at most `perClass` a class). */
  readonly labelled: boolean;
  /** Accuracy in percent per batch name. */
  readonly accuracy: Readonly<Record<string, number>>;
  /** Mean over all test batches. */
  readonly mean: number;
  /** Mean over the held-out batches (all but the one the settings were chosen on). */
  readonly heldOutMean: number;
}

/** The labelled row: per batch and seed, `perClass` labelled rows a class are drawn; the others are scored. */
export interface DriftLabelledOptions {
  /** @default 10 */
  readonly perClass?: number;
  /** One draw per seed; the accuracy is the mean over draws. @default [1, 2, 3, 4, 5] */
  readonly seeds?: readonly number[];
  /** @default 0.001 */
  readonly lambda?: number;
}

export interface DriftTableOptions {
  readonly methods?: readonly CalibrationMethod[];
  readonly calibration?: Omit<CalibrationOptions, 'method'>;
  readonly fit?: FitOptions;
  /** Views of the views model (null: no views rows). @default DRIFT_VIEWS */
  readonly views?: readonly FeatureView[] | null;
  /** Calibration methods scored on the views model. @default ['standardise'] */
  readonly viewMethods?: readonly CalibrationMethod[];
  /** The row that also uses labelled rows of each test batch (null: left out). @default {} */
  readonly labelled?: DriftLabelledOptions | null;
  /** The batch the settings were chosen on, left out of `heldOutMean`. @default the first test batch */
  readonly selectionBatch?: string;
  /** Called after each batch and row (progress). */
  readonly onCell?: (batch: string, row: string, accuracy: number) => void;
}

export interface DriftTable {
  readonly model: ModelBundle;
  /** The views model, or null when the table has no views rows. */
  readonly viewsModel: ModelBundle | null;
  readonly batches: readonly string[];
  readonly rows: readonly DriftRow[];
}

/**
 * Trains on `train` and scores every test batch: the base model with no correction and with each calibration
 * method, the views model with each of `viewMethods`, and the base model re-standardised and fine-tuned on a
 * few labelled rows of the batch (scored on the batch's other rows).
 */
export function driftTable(train: FeatureTable, tests: readonly DriftBatch[], options: DriftTableOptions = {}): DriftTable {
  const fit = options.fit ?? DRIFT_BASE_MODEL;
  const model = fitModel(train, { kind: 'features', featureNames: [...train.featureNames] }, fit);
  const selection = options.selectionBatch ?? tests[0]?.name;
  const rows: DriftRow[] = [];
  const row = (name: string, spec: Omit<DriftRow, 'name' | 'accuracy' | 'mean' | 'heldOutMean'>, score: (batch: DriftBatch) => number): void => {
    const accuracy: Record<string, number> = {};
    for (const batch of tests) {
      const value = score(batch);
      accuracy[batch.name] = value;
      options.onCell?.(batch.name, name, value);
    }
    const values = tests.map((b) => accuracy[b.name]);
    const heldOut = tests.filter((b) => b.name !== selection).map((b) => accuracy[b.name]);
    rows.push({ name, ...spec, accuracy, mean: average(values), heldOutMean: average(heldOut) });
  };
  const percent = (bundle: ModelBundle, table: FeatureTable) => 100 * evaluateModel(bundle, table).report.accuracy;

  row('none', { model: 'base', method: 'none', labelled: false }, (b) => percent(model, b.table));
  for (const method of options.methods ?? CALIBRATION_METHODS) {
    row(method, { model: 'base', method, labelled: false }, (b) => percent(calibrateModel(model, b.table, { ...options.calibration, method }), b.table));
  }
  const views = options.views === undefined ? DRIFT_VIEWS : options.views;
  let viewsModel: ModelBundle | null = null;
  if (views) {
    const vm = fitViewsModel(train, views, fit);
    viewsModel = vm;
    const expanded = new Map(tests.map((b) => [b.name, expandViews(b.table, views)]));
    for (const method of options.viewMethods ?? ['standardise']) {
      row(`views + ${method}`, { model: 'views', method, labelled: false }, (b) => {
        const t = expanded.get(b.name)!;
        return percent(calibrateModel(vm, t, { ...options.calibration, method }), t);
      });
    }
  }
  const labelled = options.labelled === undefined ? {} : options.labelled;
  if (labelled) {
    const perClass = labelled.perClass ?? LABELLED_PER_CLASS;
    const seeds = labelled.seeds ?? [1, 2, 3, 4, 5];
    const lambda = labelled.lambda ?? 0.001;
    row(`standardise + fine-tune (${perClass} labelled a class)`, { model: 'base', method: 'standardise', labelled: true }, (b) => {
      const scores = seeds.map((seed) => {
        const chosen = selectLabelledRows(b.table.labels, model.classes, perClass, seed);
        const { inside, outside } = splitRows(b.table, chosen);
        const tuned = calibrateWithLabels(model, b.table, inside, { method: 'standardise', lambda, perClass, seed }).bundle;
        return percent(tuned, outside);
      });
      return average(scores);
    });
  }
  return { model, viewsModel, batches: tests.map((b) => b.name), rows };
}

/** The rows of `table` listed in `chosen` (ascending), and all the others. */
export function splitRows(table: FeatureTable, chosen: Int32Array): { inside: FeatureTable; outside: FeatureTable } {
  const mark = new Uint8Array(table.count);
  for (const r of chosen) mark[r] = 1;
  const pick = (want: number): FeatureTable => {
    const idx: number[] = [];
    for (let i = 0; i < table.count; i++) if (mark[i] === want) idx.push(i);
    const x = new Float64Array(idx.length * table.width);
    idx.forEach((r, i) => x.set(table.x.subarray(r * table.width, (r + 1) * table.width), i * table.width));
    return {
      ...table,
      count: idx.length,
      x,
      labels: idx.map((r) => table.labels[r]),
      samples: idx.map((r) => table.samples[r]),
      groups: idx.map((r) => table.groups[r]),
    };
  };
  return { inside: pick(1), outside: pick(0) };
}

/** The unlabelled calibration row with the highest mean over all test batches. */
export function bestCalibrationRow(table: DriftTable): DriftRow {
  const rows = table.rows.filter((r) => r.method !== 'none' && !r.labelled);
  return rows.reduce((best, r) => (r.mean > best.mean ? r : best), rows[0]);
}

/** The table as Markdown, with the published means beside it. */
export function formatDriftTable(table: DriftTable): string {
  const head = `| method | ${table.batches.map((b) => b.replace(/^batch/, 'b')).join(' | ')} | mean | held-out mean |`;
  const rule = `|---|${table.batches.map(() => '---').join('|')}|---|---|`;
  const lines = [head, rule];
  for (const r of table.rows) {
    const name = r.labelled ? `${r.name} **uses labels**` : r.name;
    lines.push(`| ${name} | ${table.batches.map((b) => r.accuracy[b].toFixed(1)).join(' | ')} | ${r.mean.toFixed(1)} | ${r.heldOutMean.toFixed(1)} |`);
  }
  lines.push('');
  lines.push('Published, same protocol, mean over batches 2 to 10 (batches 7 and 10 are not in the raw files here):');
  for (const p of PUBLISHED_DRIFT_MEANS) lines.push(`- ${p.method}: ${p.mean.toFixed(1)} (${p.note})`);
  return `${lines.join('\n')}\n`;
}

function average(values: readonly number[]): number {
  return values.length > 0 ? values.reduce((s, v) => s + v, 0) / values.length : NaN;
}
