#!/usr/bin/env node
// Regenerates the drift-calibration table of datasets/README.md ("Drift calibration"): train on raw UCI batch 1,
// then for each later batch compare no correction with each calibration method fitted on that batch's feature
// rows alone (labels unread). Run: npm run eval:drift (builds first). Reads the data from
// $ENOSE_SHARED/datasets or ../shared/datasets beside the project.
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readDataset } from '../dist/io/datasets/index.js';
import { DEFAULT_CALIBRATION_METHOD } from '../dist/model/calibration.js';
import { driftTable, formatDriftTable } from '../dist/model/drift.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const shared = process.env.ENOSE_SHARED ?? resolve(root, '..', 'shared');
const raw = resolve(shared, 'datasets', 'uci-gas-drift', 'raw');
if (!existsSync(raw)) {
  console.error(`eval:drift: the UCI drift data is not at ${raw} (see datasets/README.md, "Real data: where to get it")`);
  process.exit(2);
}

async function batch(b) {
  const read = await readDataset(resolve(raw, `batch${b}.dat`));
  if (!read.ok) throw new Error(`${read.error.file}:${read.error.line}: ${read.error.reason}`);
  return read.value.table;
}

const started = performance.now();
const train = await batch(1);
const tests = [];
for (const b of [2, 3, 4, 5, 6, 8, 9]) tests.push({ name: `batch${b}`, table: await batch(b) });
const table = driftTable(train, tests, { selectionBatch: 'batch2' });
const seconds = (performance.now() - started) / 1000;

console.log('Accuracy (%) per test batch; model trained on raw batch 1 (logistic regression, all 128 features);');
console.log('each method fitted on the unlabelled rows of the test batch alone; settings chosen on batch 2;');
console.log('held-out mean = batches 3 to 9.\n');
console.log(formatDriftTable(table));
const def = table.rows.find((r) => r.method === DEFAULT_CALIBRATION_METHOD);
const best = table.rows.filter((r) => r.method !== 'none').reduce((a, r) => (r.mean > a.mean ? r : a));
console.log(`default method: ${DEFAULT_CALIBRATION_METHOD}, mean ${def.mean.toFixed(1)}% (best in this table: ${best.method}, ${best.mean.toFixed(1)}%)`);
console.log(`target 76% with unlabelled target data only: ${def.mean >= 76 ? 'reached' : 'NOT reached'}`);
console.log(`\n${seconds.toFixed(1)} s on ${cpus()[0]?.model ?? 'unknown cpu'} x ${cpus().length}, Node ${process.version}`);
