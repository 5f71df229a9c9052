/**
 * The leading PCA scores of one feature row, for the plots: each verdict carries them (the service's score plot,
 * the evaluation report), so nothing downstream runs a second engine core to find them. Projected with the model
 * as compiled now (its offset follows adaptation), whatever scores the verdict's own path computed or skipped.
 */
import type { CompiledModel } from './compiledModel.js';
import { signedLogInto } from './featureTransform.js';

/**
 * The first `out.length` PCA scores (at most the model's components) of the raw feature row at
 * `input[inputOffset .. inputOffset + width)` into `out`. `scratch` (the model's width) holds the transformed row
 * when the model transforms its input; it may be empty otherwise. Allocation-free.
 */
export function leadingScoresInto(model: CompiledModel, input: Float64Array, inputOffset: number, out: Float64Array, scratch: Float64Array): void {
  const { width, projection, offset } = model;
  let x = input;
  let xOffset = inputOffset;
  if (model.transformed !== null) {
    signedLogInto(input, inputOffset, width, scratch);
    x = scratch;
    xOffset = 0;
  }
  const count = Math.min(out.length, model.components);
  for (let c = 0; c < count; c++) {
    let s = offset[c];
    const base = c * width;
    for (let j = 0; j < width; j++) s += projection[base + j] * x[xOffset + j];
    out[c] = s;
  }
}

/**
 * How many leading PCA scores `predictForVerdict(model, ...)` (no `leading` asked) leaves in `model.scores`: every
 * component where it goes through `predictCompiled` (kNN; a linear model whose novelty limit reads them all), else
 * the novelty limit's (none without one). Each is `offset[c] + sum_j projection[c][j] x[j]` summed in j order, as
 * `leadingScoresInto` sums it: the same doubles (tests/model/verdictScores.test.ts checks every kind of model).
 */
export function scoresAfterVerdict(model: CompiledModel): number {
  const dims = Math.min(model.components, model.noveltyCount > 0 ? model.noveltyDimensions : 0);
  return model.knn || (dims >= model.components && !model.mlp) ? model.components : dims;
}

/**
 * `leadingScoresInto` right after `predictForVerdict` on the same row, with the model unchanged in between: the
 * scores that call left in `model.scores` are copied (for the shipped models the first 3 of the novelty limit's
 * 20: no second pass over the projection), the rest projected. The same doubles. Allocation-free.
 */
export function leadingScoresAfterVerdict(model: CompiledModel, input: Float64Array, inputOffset: number, out: Float64Array, scratch: Float64Array): void {
  const count = Math.min(out.length, model.components);
  if (scoresAfterVerdict(model) < count) return leadingScoresInto(model, input, inputOffset, out, scratch);
  const scores = model.scores;
  for (let c = 0; c < count; c++) out[c] = scores[c];
}
