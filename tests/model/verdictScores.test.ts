/**
 * The verdict's leading PCA scores are copied from the scores `predictForVerdict` has just left in `model.scores`
 * (leadingScores.ts `leadingScoresAfterVerdict`) instead of projected a second time. `scoresAfterVerdict` mirrors
 * which scores that call computes; if the two drifted apart a verdict would carry stale scores. So on every kind
 * of model (each path of predictForVerdict: the MLP kernel's leading projection, the plain leading projection,
 * predictCompiled, with and without a novelty limit, with a transform) the copy must equal the projection
 * `leadingScoresInto` computes on the same row, double for double (Object.is).
 */
import { describe, expect, it } from 'vitest';
import { readModelFile } from '../../src/io/modelFile.js';
import type { ModelBundle } from '../../src/model/runtime/bundle.js';
import { fitModel, type FitOptions } from '../../src/model/fitting/fitModel.js';
import { leadingScoresAfterVerdict, leadingScoresInto, scoresAfterVerdict } from '../../src/model/runtime/leadingScores.js';
import { compileModel, predictForVerdict } from '../../src/model/runtime/pipeline.js';
import type { FeatureTable } from '../../src/types.js';
import { SHIPPED_MODELS } from '../helpers/models.js';
import { makeClusters, mulberry32 } from '../helpers/synthetic.js';

const table: FeatureTable = makeClusters({ seed: 11, classes: ['clear', 'cocaine', 'heroin'], perClass: 60, width: 9, separation: 2.5, scale: 3, offset: 5 });
const input = { kind: 'features' as const, featureNames: [...table.featureNames] };
const mlp = { hidden: [8], maxEpochs: 40, networks: 2, seed: 3 };

const kinds: [string, FitOptions][] = [
  ['LDA, novelty in 2 of 6 components (plain leading projection)', { classifier: 'lda', components: 6, noveltyComponents: 2 }],
  ['LDA, novelty in every component (predictCompiled)', { classifier: 'lda', components: 6 }],
  ['LDA without a novelty limit (no scores computed)', { classifier: 'lda', components: 6, noveltyQuantile: 0 }],
  ['LDA, 2 components, signed-log transform', { classifier: 'lda', components: 2, transform: 'signed-log' }],
  ['logistic regression, novelty in 4 of 6 components', { classifier: 'logreg', components: 6, noveltyComponents: 4 }],
  ['kNN (predictCompiled, every component)', { classifier: 'knn', k: 3, components: 5, noveltyComponents: 2 }],
  ['MLP, novelty in 3 of 7 components (the kernel projects them)', { classifier: 'mlp', components: 7, noveltyComponents: 3, mlp }],
  ['MLP, novelty in 2 of 7 components (fewer than a verdict carries)', { classifier: 'mlp', components: 7, noveltyComponents: 2, mlp }],
  ['MLP, novelty in every component', { classifier: 'mlp', components: 7, mlp }],
  ['MLP without a novelty limit', { classifier: 'mlp', components: 7, noveltyQuantile: 0, mlp }],
];

/** Rows of the training table and random rows around it, each checked after a prediction on itself. */
function checkRows(bundle: ModelBundle, rows: readonly Float64Array[], carried: number): number {
  const model = compileModel(bundle);
  const probs = new Float64Array(bundle.classes.length);
  const copied = new Float64Array(Math.min(carried, model.components));
  const projected = new Float64Array(copied.length);
  const scratch = new Float64Array(model.width);
  let copies = 0;
  for (const x of rows) {
    predictForVerdict(model, x, 0, probs);
    if (scoresAfterVerdict(model) >= copied.length) copies++;
    leadingScoresAfterVerdict(model, x, 0, copied, scratch);
    leadingScoresInto(model, x, 0, projected, scratch);
    for (let c = 0; c < copied.length; c++) expect(Object.is(copied[c], projected[c]), `score ${c}: ${copied[c]} copied, ${projected[c]} projected`).toBe(true);
  }
  return copies;
}

function rowsOf(t: FeatureTable, extra: number, seed: number): Float64Array[] {
  const rows = Array.from({ length: t.count }, (_, i) => t.x.slice(i * t.width, (i + 1) * t.width));
  const rand = mulberry32(seed);
  for (let i = 0; i < extra; i++) rows.push(Float64Array.from(rows[i % t.count]!, (v) => v * (0.5 + rand()) - 3 * rand()));
  return rows;
}

describe('the verdict scores copied after predictForVerdict equal their projection', () => {
  it.each(kinds)('%s', (_, options) => {
    const bundle = fitModel(table, input, { cvFolds: 0, ...options });
    const rows = rowsOf(table, 60, 5);
    const copies = checkRows(bundle, rows, 3);
    // The copy is taken where the prediction computed the scores, and only there.
    const model = compileModel(bundle);
    const computed = scoresAfterVerdict(model);
    expect(copies).toBe(computed >= Math.min(3, model.components) ? rows.length : 0);
  });

  it.each(SHIPPED_MODELS)('$name model: the kernel projects the scores the verdict carries', ({ path }) => {
    const read = readModelFile(path);
    if (!read.ok) throw new Error(read.error.reason);
    const bundle = read.value;
    const width = bundle.input.featureNames.length;
    const model = compileModel(bundle);
    expect(scoresAfterVerdict(model)).toBeGreaterThanOrEqual(3);
    // Rows around the model's own feature means: the scaler's mean plus noise in its standard deviations.
    const rand = mulberry32(9);
    const rows = Array.from({ length: 200 }, () => Float64Array.from({ length: width }, (_, j) => bundle.scaler.mean[j]! + (rand() * 4 - 2) * bundle.scaler.scale[j]!));
    expect(checkRows(bundle, rows, 3)).toBe(rows.length);
  });
});
