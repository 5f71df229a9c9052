/**
 * The drift table: train once on the first batch, then for each later batch compare no correction with each
 * calibration method fitted on that batch's feature rows alone (labels unread), scored on the same batch.
 * Protocol of the UCI gas sensor drift literature ("train on batch 1, test on batch k"; Vergara et al.,
 * Sensors and Actuators B 166 (2012) 320-329).
 */
import type { FeatureTable } from '../types.js';
import type { ModelBundle } from './bundle.js';
import { calibrateModel, CALIBRATION_METHODS, type CalibrationMethod, type CalibrationOptions } from './calibration.js';
import { evaluateModel } from './evaluation.js';
import { fitModel, type FitOptions } from './pipeline.js';

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
  /** `none` or a calibration method. */
  readonly method: 'none' | CalibrationMethod;
  /** Accuracy in percent per batch name. */
  readonly accuracy: Readonly<Record<string, number>>;
  /** Mean over all test batches. */
  readonly mean: number;
  /** Mean over the held-out batches (all but the one the settings were chosen on). */
  readonly heldOutMean: number;
}

export interface DriftTableOptions {
  readonly methods?: readonly CalibrationMethod[];
  readonly calibration?: Omit<CalibrationOptions, 'method'>;
  readonly fit?: FitOptions;
  /** The batch the settings were chosen on, left out of `heldOutMean`. @default the first test batch */
  readonly selectionBatch?: string;
  /** Called after each batch and method (progress). */
  readonly onCell?: (batch: string, method: string, accuracy: number) => void;
}

export interface DriftTable {
  readonly model: ModelBundle;
  readonly batches: readonly string[];
  readonly rows: readonly DriftRow[];
}

/** Trains on `train` and scores every test batch with no correction and with each calibration method. */
export function driftTable(train: FeatureTable, tests: readonly DriftBatch[], options: DriftTableOptions = {}): DriftTable {
  const model = fitModel(train, { kind: 'features', featureNames: [...train.featureNames] }, options.fit ?? DRIFT_BASE_MODEL);
  const methods = options.methods ?? CALIBRATION_METHODS;
  const selection = options.selectionBatch ?? tests[0]?.name;
  const rows: DriftRow[] = [];
  for (const method of ['none' as const, ...methods]) {
    const accuracy: Record<string, number> = {};
    for (const batch of tests) {
      const calibrated = method === 'none' ? model : calibrateModel(model, batch.table, { ...options.calibration, method });
      const value = 100 * evaluateModel(calibrated, batch.table).report.accuracy;
      accuracy[batch.name] = value;
      options.onCell?.(batch.name, method, value);
    }
    const values = tests.map((b) => accuracy[b.name]!);
    const heldOut = tests.filter((b) => b.name !== selection).map((b) => accuracy[b.name]!);
    rows.push({ method, accuracy, mean: average(values), heldOutMean: average(heldOut) });
  }
  return { model, batches: tests.map((b) => b.name), rows };
}

/** The row with the highest mean over all test batches (the default method is the best calibration row). */
export function bestCalibrationRow(table: DriftTable): DriftRow {
  const rows = table.rows.filter((r) => r.method !== 'none');
  return rows.reduce((best, r) => (r.mean > best.mean ? r : best), rows[0]!);
}

/** The table as Markdown, with the published means beside it. */
export function formatDriftTable(table: DriftTable): string {
  const head = `| method | ${table.batches.map((b) => b.replace(/^batch/, 'b')).join(' | ')} | mean | held-out mean |`;
  const rule = `|---|${table.batches.map(() => '---').join('|')}|---|---|`;
  const lines = [head, rule];
  for (const r of table.rows) {
    lines.push(`| ${r.method} | ${table.batches.map((b) => r.accuracy[b]!.toFixed(1)).join(' | ')} | ${r.mean.toFixed(1)} | ${r.heldOutMean.toFixed(1)} |`);
  }
  lines.push('');
  lines.push('Published, same protocol, mean over batches 2 to 10 (batches 7 and 10 are not in the raw files here):');
  for (const p of PUBLISHED_DRIFT_MEANS) lines.push(`- ${p.method}: ${p.mean.toFixed(1)} (${p.note})`);
  return `${lines.join('\n')}\n`;
}

function average(values: readonly number[]): number {
  return values.length > 0 ? values.reduce((s, v) => s + v, 0) / values.length : NaN;
}
