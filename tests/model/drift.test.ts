/**
 * The pipeline against its peer on real data: UCI gas sensor array drift, protocol "train on batch 1, test on
 * each other batch". Reference accuracies: the foundation issue's figures (scikit-learn 1.2) and our own run of
 * benchmarks/peer/drift_reference.py (golden/sklearn-drift.json, which says how it was made).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readDataset } from '../../src/io/datasets/index.js';
import { evaluateModel } from '../../src/model/fitting/evaluation.js';
import { fitModel, type FitOptions } from '../../src/model/fitting/fitModel.js';
import type { FeatureTable } from '../../src/types.js';
import { DRIFT_RAW, haveShared } from '../helpers/shared.js';

const golden = JSON.parse(readFileSync(new URL('./golden/sklearn-drift.json', import.meta.url), 'utf8')) as {
  issueFigures: Record<'knn' | 'logreg', Record<string, number>>;
  accuracy: Record<string, Record<string, number>>;
};
const TEST_BATCHES = [2, 3, 4, 5, 6, 8, 9];

async function batch(b: number): Promise<FeatureTable> {
  const read = await readDataset(`${DRIFT_RAW}/batch${b}.dat`);
  if (!read.ok || read.value.kind !== 'features') throw new Error(`cannot read batch${b}`);
  return read.value.table;
}

async function perBatchAccuracy(options: FitOptions): Promise<Record<string, number>> {
  const train = await batch(1);
  const model = fitModel(train, { kind: 'features', featureNames: [...train.featureNames] }, { ...options, cvFolds: 0 });
  const out: Record<string, number> = {};
  for (const b of TEST_BATCHES) out[`batch${b}`] = 100 * evaluateModel(model, await batch(b)).report.accuracy;
  return out;
}

const have = haveShared('datasets', 'uci-gas-drift', 'raw');

describe('drift data, train on batch 1: the engine matches scikit-learn', () => {
  it.skipIf(!have)('z-score + PCA 20 + kNN 5 within 1 point per batch', async () => {
    const acc = await perBatchAccuracy({ classifier: 'knn', k: 5, components: 20 });
    console.info('knn', acc);
    for (const b of TEST_BATCHES) expect(Math.abs(acc[`batch${b}`]! - golden.issueFigures.knn[`batch${b}`]!)).toBeLessThanOrEqual(1);
  });

  it.skipIf(!have)('z-score + logistic regression (full rotation) within 3 points per batch', async () => {
    const acc = await perBatchAccuracy({ classifier: 'logreg', components: 128 });
    console.info('logreg', acc);
    for (const b of TEST_BATCHES) expect(Math.abs(acc[`batch${b}`]! - golden.issueFigures.logreg[`batch${b}`]!)).toBeLessThanOrEqual(3);
  });

  it.skipIf(!have)('z-score + PCA 0.99 + LDA within 1 point per batch of our scikit-learn run', async () => {
    const acc = await perBatchAccuracy({ classifier: 'lda' });
    console.info('lda', acc);
    for (const b of TEST_BATCHES) expect(Math.abs(acc[`batch${b}`]! - golden.accuracy['lda']![`batch${b}`]!)).toBeLessThanOrEqual(1);
  });
});
