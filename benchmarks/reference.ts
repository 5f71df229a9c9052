/**
 * Plain reference computations of the model pipeline, written for clarity, not speed: the z-score scaler
 * and the PCA projection applied one after the other (not folded), a softmax over linear scores, a kNN by
 * sorting every distance, a nearest-sample search over every point. The benchmarks check the engine's
 * flat-array path against these before timing it.
 */
import type { ModelBundle } from '../src/model/runtime/bundle.js';
import { signedLog } from '../src/model/runtime/pipeline.js';

export interface ReferencePrediction {
  readonly probabilities: number[];
  readonly best: number;
  readonly scores: number[];
  /** Nearest-sample distance over the novelty limit; NaN without a limit. */
  readonly novelty: number;
}

export function referencePredict(bundle: ModelBundle, row: ArrayLike<number>): ReferencePrediction {
  const width = bundle.scaler.mean.length;
  const k = bundle.pca.components;
  const x = Array.from({ length: width }, (_, j) => (bundle.transform === 'signed-log' ? signedLog(row[j]!) : row[j]!));
  const z = x.map((v, j) => (v - bundle.scaler.mean[j]!) / bundle.scaler.scale[j]!);
  const scores: number[] = [];
  for (let c = 0; c < k; c++) {
    let s = 0;
    for (let j = 0; j < width; j++) s += z[j]! * bundle.pca.axes[j * k + c]!;
    scores.push(s);
  }
  const classCount = bundle.classes.length;
  let probabilities: number[];
  const cl = bundle.classifier;
  if (cl.type === 'knn') {
    const n = cl.labels.length;
    const d = Array.from({ length: n }, (_, i) => {
      let s = 0;
      for (let c = 0; c < k; c++) s += (cl.points[i * k + c]! - scores[c]!) ** 2;
      return { i, s };
    });
    d.sort((a, b) => a.s - b.s || a.i - b.i);
    const votes = new Array<number>(classCount).fill(0);
    const kk = Math.min(cl.k, n);
    for (let i = 0; i < kk; i++) votes[cl.labels[d[i]!.i]!]! += 1 / kk;
    probabilities = votes;
  } else if (cl.type === 'mlp') {
    probabilities = referenceMlp(cl, scores, classCount);
  } else {
    const logits = Array.from({ length: classCount }, (_, c) => {
      let s = cl.intercept[c]!;
      for (let j = 0; j < k; j++) s += cl.coef[c * k + j]! * scores[j]!;
      return s;
    });
    const max = Math.max(...logits);
    const e = logits.map((l) => Math.exp(l - max));
    const sum = e.reduce((a, b) => a + b, 0);
    probabilities = e.map((v) => v / sum);
  }
  let best = 0;
  for (let c = 1; c < classCount; c++) if (probabilities[c]! > probabilities[best]!) best = c;
  let novelty = NaN;
  if (bundle.novelty) {
    // In the leading `components` of the scores when the limit has them, each times `scale` when it has one.
    const pts = bundle.novelty.points;
    const m = bundle.novelty.components ?? k;
    const scale = bundle.novelty.scale;
    let nearest = Infinity;
    for (let i = 0; i < pts.length / m; i++) {
      let s = 0;
      for (let c = 0; c < m; c++) s += ((pts[i * m + c]! - scores[c]!) * (scale ? scale[c]! : 1)) ** 2;
      nearest = Math.min(nearest, Math.sqrt(s));
    }
    const t = bundle.novelty.threshold;
    novelty = t > 0 ? nearest / t : nearest > 0 ? Infinity : 0;
  }
  return { probabilities, best, scores, novelty };
}

/** An MLP's class probabilities, plainly: each network's ReLU hidden layers and softmax output, averaged. */
export function referenceMlp(
  model: { readonly networks: readonly { readonly layers: readonly { inputs: number; outputs: number; weights: readonly number[]; bias: readonly number[] }[] }[] },
  input: readonly number[],
  classCount: number,
): number[] {
  const probabilities = new Array<number>(classCount).fill(0);
  for (const net of model.networks) {
    let a: readonly number[] = input;
    net.layers.forEach((layer, l) => {
      const out = Array.from({ length: layer.outputs }, (_, o) => {
        let s = layer.bias[o]!;
        for (let i = 0; i < layer.inputs; i++) s += a[i]! * layer.weights[i * layer.outputs + o]!;
        return s;
      });
      a = l < net.layers.length - 1 ? out.map((v) => Math.max(0, v)) : out;
    });
    const max = Math.max(...a);
    const e = a.map((v) => Math.exp(v - max));
    const sum = e.reduce((x, y) => x + y, 0);
    e.forEach((v, c) => (probabilities[c]! += v / sum / model.networks.length));
  }
  return probabilities;
}
