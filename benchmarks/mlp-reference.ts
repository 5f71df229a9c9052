/**
 * The MLP trainer as it was before the WebAssembly kernel (src/model/fitting/mlpTrainer.ts): plain loops on
 * Float64Arrays, four rows (or four weight rows) per pass, each sum in its original order. Kept as the reference
 * the new kernel is checked against: `tests/model/mlp-kernel.test.ts` trains with both and asserts the same
 * weights bit for bit, and `mlp-training.bench.ts` times both in the same run.
 */
import type { TrainerLike } from '../src/model/fitting/mlpTrainer.js';

const BETA1 = 0.9;
const BETA2 = 0.999;
const EPS = 1e-8;

/** Working state of one network in training: weights, Adam moments, gradients, activations of a batch. */
export class ReferenceTrainer implements TrainerLike {
  readonly sizes: number[];
  readonly w: Float64Array[] = [];
  readonly b: Float64Array[] = [];
  private readonly gw: Float64Array[] = [];
  private readonly gb: Float64Array[] = [];
  private readonly mw: Float64Array[] = [];
  private readonly vw: Float64Array[] = [];
  private readonly mb: Float64Array[] = [];
  private readonly vb: Float64Array[] = [];
  /** Activations per layer (batch x size) and deltas. */
  private readonly act: Float64Array[] = [];
  private readonly delta: Float64Array[] = [];
  private step = 0;

  constructor(sizes: number[], batch: number, next: () => number) {
    this.sizes = sizes;
    for (let l = 0; l + 1 < sizes.length; l++) {
      const fi = sizes[l]!;
      const fo = sizes[l + 1]!;
      // Glorot uniform with scikit-learn's factor 6 for ReLU (its MLP uses it for the output layer too).
      const bound = Math.sqrt(6 / (fi + fo));
      this.w.push(Float64Array.from({ length: fi * fo }, () => (2 * next() - 1) * bound));
      this.b.push(Float64Array.from({ length: fo }, () => (2 * next() - 1) * bound));
      for (const list of [this.gw, this.mw, this.vw]) list.push(new Float64Array(fi * fo));
      for (const list of [this.gb, this.mb, this.vb]) list.push(new Float64Array(fo));
    }
    for (const n of sizes) {
      this.act.push(new Float64Array(batch * n));
      this.delta.push(new Float64Array(batch * n));
    }
  }

  /**
   * Forward pass of `rows` rows already in act[0]; output probabilities in the last act. Four rows share each
   * pass over a layer's weights (a layer of 218 x 256 is 446 kB: read once a row, it streamed from beyond the
   * core's cache); each output is still summed over its inputs in order, so the result is the same to the bit.
   */
  forward(rows: number): void {
    const L = this.sizes.length - 1;
    for (let l = 0; l < L; l++) {
      const fi = this.sizes[l]!;
      const fo = this.sizes[l + 1]!;
      const inp = this.act[l]!;
      const out = this.act[l + 1]!;
      const w = this.w[l]!;
      const bias = this.b[l]!;
      for (let r = 0; r < rows; r++) out.set(bias, r * fo);
      let r = 0;
      for (; r + 4 <= rows; r += 4) {
        const o0 = r * fo;
        const o1 = o0 + fo;
        const o2 = o1 + fo;
        const o3 = o2 + fo;
        const i0 = r * fi;
        for (let i = 0; i < fi; i++) {
          const a0 = inp[i0 + i]!;
          const a1 = inp[i0 + fi + i]!;
          const a2 = inp[i0 + 2 * fi + i]!;
          const a3 = inp[i0 + 3 * fi + i]!;
          const wi = i * fo;
          if (a0 !== 0 && a1 !== 0 && a2 !== 0 && a3 !== 0) {
            for (let o = 0; o < fo; o++) {
              const wv = w[wi + o]!;
              out[o0 + o]! += a0 * wv;
              out[o1 + o]! += a1 * wv;
              out[o2 + o]! += a2 * wv;
              out[o3 + o]! += a3 * wv;
            }
          } else {
            if (a0 !== 0) for (let o = 0; o < fo; o++) out[o0 + o]! += a0 * w[wi + o]!;
            if (a1 !== 0) for (let o = 0; o < fo; o++) out[o1 + o]! += a1 * w[wi + o]!;
            if (a2 !== 0) for (let o = 0; o < fo; o++) out[o2 + o]! += a2 * w[wi + o]!;
            if (a3 !== 0) for (let o = 0; o < fo; o++) out[o3 + o]! += a3 * w[wi + o]!;
          }
        }
      }
      for (; r < rows; r++) {
        const ro = r * fo;
        const ri = r * fi;
        for (let i = 0; i < fi; i++) {
          const a = inp[ri + i]!;
          if (a === 0) continue;
          const wi = i * fo;
          for (let o = 0; o < fo; o++) out[ro + o]! += a * w[wi + o]!;
        }
      }
      if (l < L - 1) for (let k = 0; k < rows * fo; k++) if (out[k]! < 0) out[k] = 0;
    }
    softmaxRows(this.act[L]!, rows, this.sizes[L]!);
  }

  /** One Adam step on the batch in act[0] with labels `y` (rows long); returns the batch's mean cross-entropy. */
  train(rows: number, y: ArrayLike<number>, alpha: number, learningRate: number): number {
    this.forward(rows);
    const L = this.sizes.length - 1;
    const K = this.sizes[L]!;
    const p = this.act[L]!;
    const d = this.delta[L]!;
    let loss = 0;
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < K; c++) d[r * K + c] = p[r * K + c]!;
      const t = y[r]!;
      d[r * K + t]! -= 1;
      loss -= Math.log(Math.max(p[r * K + t]!, 1e-300));
    }
    for (let l = L - 1; l >= 0; l--) {
      const fi = this.sizes[l]!;
      const fo = this.sizes[l + 1]!;
      const inp = this.act[l]!;
      const dl = this.delta[l + 1]!;
      const w = this.w[l]!;
      const gw = this.gw[l]!;
      const gb = this.gb[l]!;
      gw.fill(0);
      gb.fill(0);
      for (let r = 0; r < rows; r++) {
        const ro = r * fo;
        for (let o = 0; o < fo; o++) gb[o]! += dl[ro + o]!;
      }
      // gw = inp^T dl, four weight rows at a time (they stay in the core's cache while the batch's deltas pass
      // once); each weight's gradient is still summed over the rows in order: the same to the bit.
      let i = 0;
      for (; i + 4 <= fi; i += 4) {
        const g0 = i * fo;
        const g1 = g0 + fo;
        const g2 = g1 + fo;
        const g3 = g2 + fo;
        for (let r = 0; r < rows; r++) {
          const ri = r * fi + i;
          const a0 = inp[ri]!;
          const a1 = inp[ri + 1]!;
          const a2 = inp[ri + 2]!;
          const a3 = inp[ri + 3]!;
          const ro = r * fo;
          if (a0 !== 0 && a1 !== 0 && a2 !== 0 && a3 !== 0) {
            for (let o = 0; o < fo; o++) {
              const d = dl[ro + o]!;
              gw[g0 + o]! += a0 * d;
              gw[g1 + o]! += a1 * d;
              gw[g2 + o]! += a2 * d;
              gw[g3 + o]! += a3 * d;
            }
          } else {
            if (a0 !== 0) for (let o = 0; o < fo; o++) gw[g0 + o]! += a0 * dl[ro + o]!;
            if (a1 !== 0) for (let o = 0; o < fo; o++) gw[g1 + o]! += a1 * dl[ro + o]!;
            if (a2 !== 0) for (let o = 0; o < fo; o++) gw[g2 + o]! += a2 * dl[ro + o]!;
            if (a3 !== 0) for (let o = 0; o < fo; o++) gw[g3 + o]! += a3 * dl[ro + o]!;
          }
        }
      }
      for (; i < fi; i++) {
        const wi = i * fo;
        for (let r = 0; r < rows; r++) {
          const a = inp[r * fi + i]!;
          if (a === 0) continue;
          const ro = r * fo;
          for (let o = 0; o < fo; o++) gw[wi + o]! += a * dl[ro + o]!;
        }
      }
      if (l > 0) {
        // Deltas of the layer below, through its ReLU (zero where it was not active); four rows share each
        // pass over the weights, each delta summed over the outputs in order.
        const dp = this.delta[l]!;
        let r = 0;
        for (; r + 4 <= rows; r += 4) {
          const d0 = r * fo;
          const d1 = d0 + fo;
          const d2 = d1 + fo;
          const d3 = d2 + fo;
          const ri = r * fi;
          for (let j = 0; j < fi; j++) {
            const wi = j * fo;
            let s0 = 0;
            let s1 = 0;
            let s2 = 0;
            let s3 = 0;
            for (let o = 0; o < fo; o++) {
              const wv = w[wi + o]!;
              s0 += wv * dl[d0 + o]!;
              s1 += wv * dl[d1 + o]!;
              s2 += wv * dl[d2 + o]!;
              s3 += wv * dl[d3 + o]!;
            }
            dp[ri + j] = inp[ri + j]! <= 0 ? 0 : s0;
            dp[ri + fi + j] = inp[ri + fi + j]! <= 0 ? 0 : s1;
            dp[ri + 2 * fi + j] = inp[ri + 2 * fi + j]! <= 0 ? 0 : s2;
            dp[ri + 3 * fi + j] = inp[ri + 3 * fi + j]! <= 0 ? 0 : s3;
          }
        }
        for (; r < rows; r++) {
          const ri = r * fi;
          const ro = r * fo;
          for (let j = 0; j < fi; j++) {
            if (inp[ri + j]! <= 0) {
              dp[ri + j] = 0;
              continue;
            }
            const wi = j * fo;
            let s = 0;
            for (let o = 0; o < fo; o++) s += w[wi + o]! * dl[ro + o]!;
            dp[ri + j] = s;
          }
        }
      }
      // scikit-learn: (X^T delta + alpha W) / n for the weights, mean delta for the biases.
      for (let k = 0; k < gw.length; k++) gw[k] = (gw[k]! + alpha * w[k]!) / rows;
      for (let o = 0; o < fo; o++) gb[o] = gb[o]! / rows;
    }
    this.step++;
    const lr = (learningRate * Math.sqrt(1 - Math.pow(BETA2, this.step))) / (1 - Math.pow(BETA1, this.step));
    for (let l = 0; l < L; l++) {
      adam(this.w[l]!, this.gw[l]!, this.mw[l]!, this.vw[l]!, lr);
      adam(this.b[l]!, this.gb[l]!, this.mb[l]!, this.vb[l]!, lr);
    }
    return loss / rows;
  }

  loadRows(x: Float64Array, width: number, rows: ArrayLike<number>, from: number, n: number): void {
    const a0 = this.act[0]!;
    for (let r = 0; r < n; r++) {
      const src = rows[from + r]! * width;
      for (let j = 0; j < width; j++) a0[r * width + j] = x[src + j]!;
    }
  }

  output(): Float64Array {
    return this.act[this.sizes.length - 1]!;
  }

  snapshot(): { w: Float64Array[]; b: Float64Array[] } {
    return { w: this.w.map((a) => Float64Array.from(a)), b: this.b.map((a) => Float64Array.from(a)) };
  }
}

function adam(param: Float64Array, grad: Float64Array, m: Float64Array, v: Float64Array, lr: number): void {
  for (let k = 0; k < param.length; k++) {
    const g = grad[k]!;
    const mk = BETA1 * m[k]! + (1 - BETA1) * g;
    const vk = BETA2 * v[k]! + (1 - BETA2) * g * g;
    m[k] = mk;
    v[k] = vk;
    param[k] = param[k]! - (lr * mk) / (Math.sqrt(vk) + EPS);
  }
}

function softmaxRows(a: Float64Array, rows: number, k: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * k;
    let max = -Infinity;
    for (let c = 0; c < k; c++) if (a[o + c]! > max) max = a[o + c]!;
    let sum = 0;
    for (let c = 0; c < k; c++) {
      const e = Math.exp(a[o + c]! - max);
      a[o + c] = e;
      sum += e;
    }
    for (let c = 0; c < k; c++) a[o + c] = a[o + c]! / sum;
  }
}
