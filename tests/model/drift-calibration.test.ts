/**
 * The drift table on real data (UCI gas sensor array drift, raw batches): train on batch 1, calibrate on each
 * later batch's unlabelled rows, score on the same batch. The figures are in datasets/README.md ("Drift
 * calibration"); `npm run eval:drift` prints them.
 */
import { describe, expect, it } from 'vitest';
import { readDataset } from '../../src/io/datasets/index.js';
import { DEFAULT_CALIBRATION_METHOD } from '../../src/model/calibration.js';
import { bestCalibrationRow, driftTable, type DriftTable } from '../../src/model/drift.js';
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
    for (const r of table.rows) console.info(r.method.padEnd(22), TEST_BATCHES.map((b) => r.accuracy[`batch${b}`]!.toFixed(1)).join(' '), `mean ${r.mean.toFixed(1)}`);
  }
  return table;
}

const row = (t: DriftTable, method: string) => t.rows.find((r) => r.method === method)!;

describe('drift calibration on real data: train on batch 1, calibrate on each later batch (unlabelled)', () => {
  it.skipIf(!have)('the default method is the best row of the table', async () => {
    const t = await theTable();
    expect(bestCalibrationRow(t).method).toBe(DEFAULT_CALIBRATION_METHOD);
  });

  // Measured 73.1% (datasets/README.md). The target of 76% is NOT reached by any method here; this
  // asserts the measured level, so that a regression shows.
  it.skipIf(!have)('the default method keeps a mean of at least 72% over batches 2-6, 8, 9 (no correction: about 50%)', async () => {
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
  // Issue 8 asks for a mean of 76% with unlabelled target data only: not reached (best 73.1%, standardise);
  // the issue stays open with what was tried, so no test claims it.
});
