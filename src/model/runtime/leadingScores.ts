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
