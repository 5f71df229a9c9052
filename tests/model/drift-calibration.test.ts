/**
 * The drift table on real data (UCI gas sensor array drift, raw batches): train on batch 1, calibrate on each
 * later batch's unlabelled rows, score on the same batch; one row also uses 10 labelled rows a class of the
 * batch and says so. The figures are in datasets/README.md ("Drift calibration"); `npm run eval:drift` prints
 * them.
 */
import { describe, expect, it } from 'vitest';
import { readDataset } from '../../src/io/datasets/index.js';
import { DEFAULT_CALIBRATION_METHOD } from '../../src/model/drift/calibration.js';
import { bestCalibrationRow, driftTable, type DriftTable } from '../../src/model/drift/drift.js';
import type { FeatureTable } from '../../src/types.js';
import { DRIFT_RAW, haveShared } from '../helpers/shared.js';

const have = haveShared('datasets', 'uci-gas-drift', 'raw');
const TEST_BATCHES = [2, 3, 4, 5, 6, 8, 9];

async function batch(b: number): Promise<FeatureTable> {
  const read = await readDataset(`${DRIFT_RAW}/batch${b}.dat`);
  if (!read.ok || read.value.kind !== 'features') throw new Error(`cannot read batch${b}`);
  return read.value.table;
}

let table: DriftTable | null = null;
async function theTable(): Promise<DriftTable> {
  if (!table) {
    const tests = [];
    for (const b of TEST_BATCHES) tests.push({ name: `batch${b}`, table: await batch(b) });
    table = driftTable(await batch(1), tests, { selectionBatch: 'batch2' });
    for (const r of table.rows) console.info(r.name.padEnd(48), TEST_BATCHES.map((b) => r.accuracy[`batch${b}`]!.toFixed(1)).join(' '), `mean ${r.mean.toFixed(1)}`);
  }
  return table;
}

const row = (t: DriftTable, name: string) => t.rows.find((r) => r.name === name)!;
const VIEWS_ROW = `views + ${DEFAULT_CALIBRATION_METHOD}`;

describe('drift calibration on real data: train on batch 1, calibrate on each later batch (unlabelled)', () => {
  it.skipIf(!have)('the best unlabelled row is the views model with the default method (re-standardisation)', async () => {
    const t = await theTable();
    const best = bestCalibrationRow(t);
    expect(best.name).toBe(VIEWS_ROW);
    expect(best.model).toBe('views');
    expect(best.method).toBe(DEFAULT_CALIBRATION_METHOD);
    expect(best.labelled).toBe(false);
  });

  // Issue 8: at least 76% mean with unlabelled target data only, a clear margin over re-standardisation.
  // Measured 76.3% (datasets/README.md), against 73.1% for re-standardising the single-view model.
  it.skipIf(!have)('the views model with the default method keeps a mean of at least 76% over batches 2-6, 8, 9', async () => {
    const t = await theTable();
    const views = row(t, VIEWS_ROW);
    const standardise = row(t, DEFAULT_CALIBRATION_METHOD);
    expect(views.mean).toBeGreaterThanOrEqual(76);
    expect(views.mean).toBeGreaterThan(standardise.mean + 2.5);
    expect(views.heldOutMean).toBeGreaterThan(standardise.heldOutMean + 2.5);
    // It loses no batch by more than a point to re-standardisation of the single-view model.
    for (const b of TEST_BATCHES) expect(views.accuracy[`batch${b}`]!).toBeGreaterThan(standardise.accuracy[`batch${b}`]! - 1);
  });

  it.skipIf(!have)('re-standardisation of the single-view model keeps a mean of at least 72% (no correction: about 50%)', async () => {
    const t = await theTable();
    const def = row(t, DEFAULT_CALIBRATION_METHOD);
    expect(def.mean).toBeGreaterThanOrEqual(72);
    expect(def.mean).toBeGreaterThan(row(t, 'none').mean + 15);
    // Every batch gains from it.
    for (const b of TEST_BATCHES.slice(1)) expect(def.accuracy[`batch${b}`]!).toBeGreaterThan(row(t, 'none').accuracy[`batch${b}`]!);
  });

  it.skipIf(!have)('no correction reproduces the foundation figures (logistic regression row) within 1 point', async () => {
    const t = await theTable();
    const published = [82.2, 62.9, 54.7, 34.5, 46.7, 32.3, 34.3];
    TEST_BATCHES.forEach((b, i) => expect(Math.abs(row(t, 'none').accuracy[`batch${b}`]! - published[i]!)).toBeLessThanOrEqual(1));
  });

  // Uses labels: 10 labelled rows a class of each batch (5 seeded draws), scored on the batch's other rows.
  it.skipIf(!have)('with 10 labelled rows a class, re-standardisation plus fine-tune keeps a mean of at least 94%', async () => {
    const t = await theTable();
    const labelled = t.rows.filter((r) => r.labelled);
    expect(labelled).toHaveLength(1);
    expect(labelled[0]!.mean).toBeGreaterThanOrEqual(94);
    for (const b of TEST_BATCHES) expect(labelled[0]!.accuracy[`batch${b}`]!).toBeGreaterThan(row(t, VIEWS_ROW).accuracy[`batch${b}`]!);
  });
});
