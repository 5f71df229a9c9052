/**
 * The first stages of a fit, on one buffer: the training rows are copied once (the rows listed, or all), the
 * scaler is fitted on that copy, which is then z-scored in place and projected in place on the PCA axes, so the
 * scores are a view of the same buffer. At 189,463 rows x 220 features that buffer is 0.33 GB; the row copy, the
 * scaled copy, the scores and the MLP's shared copy of them were four of that size before (issue 23). With
 * `shared` the buffer is a SharedArrayBuffer, which the MLP's worker threads read without a further copy.
 * The arithmetic is that of fitScaler, applyScaler and projectCentred on separate arrays: the same doubles.
 */
import type { FeatureTable } from '../../types.js';
import { applyScaler, fitScaler, type Scaler } from '../runtime/scaler.js';
import { fitPca, projectCentred, type ComponentChoice, type PcaModel } from './pca.js';

export interface CoreScores {
  readonly scaler: Scaler;
  readonly pca: PcaModel;
  /** count x pca.components, row-major: a view of the rows' buffer (shared memory with `shared`). */
  readonly scores: Float64Array;
  /** The class index of each row. */
  readonly labels: Int32Array;
  readonly count: number;
}

export function coreScores(table: FeatureTable, labelIndex: Int32Array, choice: ComponentChoice, shared: boolean, rows?: Int32Array): CoreScores {
  const width = table.width;
  const count = rows ? rows.length : table.count;
  const bytes = count * width * Float64Array.BYTES_PER_ELEMENT;
  const z = new Float64Array(shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  let labels = labelIndex;
  if (rows) {
    labels = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      z.set(table.x.subarray(rows[i] * width, (rows[i] + 1) * width), i * width);
      labels[i] = labelIndex[rows[i]];
    }
  } else {
    z.set(table.x.subarray(0, count * width));
  }
  const scaler = fitScaler(z, count, width);
  applyScaler(scaler, z, count, width, z);
  const pca = fitPca(z, count, width, choice);
  const inPlace = projectCentred(z, count, pca, z);
  // Few components: a compact copy, so that the rest of the buffer is freed (the MLP keeps the shared view).
  const scores = !shared && 2 * pca.components <= width ? inPlace.slice() : inPlace;
  return { scaler, pca, scores, labels, count };
}
