/**
 * One MLP network in training (see mlp.ts for the recipe): weights, Adam moments, gradients and a minibatch's
 * activations and deltas, all in one memory allocated up front (nothing is allocated per minibatch). The three
 * matrix products of a step (forward, the weight gradients, the deltas of the layer below) run through the
 * WebAssembly kernel of gemmWasm.ts, which keeps every sum in the order of the plain loops it replaced
 * (benchmarks/mlp-reference.ts): trained weights are the same doubles, so a model's id does not change.
 */
import { Layout } from '../numeric/wasmMemory.js';
import { createGemm, gemmPlain, gemmScratchDoubles, plainOps, type Gemm, type TrainingOps } from './gemmWasm.js';

const BETA1 = 0.9;
const BETA2 = 0.999;
const EPS = 1e-8;

/** What trainNetwork drives: the kernel trainer here, or the reference one of the benchmarks. */
export interface TrainerLike {
  readonly sizes: number[];
  /** Forward pass of `rows` rows already loaded; the output probabilities in `output()`. */
  forward(rows: number): void;
  /** One Adam step on the loaded batch with labels `y`; returns the batch's mean cross-entropy. */
  train(rows: number, y: ArrayLike<number>, alpha: number, learningRate: number): number;
  /** Rows `rows[from .. from + n)` of `x` (row-major, `width` each) as the batch's input. */
  loadRows(x: Float64Array, width: number, rows: ArrayLike<number>, from: number, n: number): void;
  output(): Float64Array;
  snapshot(): { w: Float64Array[]; b: Float64Array[] };
}

export type TrainerFactory = (sizes: number[], batch: number, next: () => number) => TrainerLike;

export class KernelTrainer implements TrainerLike {
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
  /** Offsets (in doubles) of the same arrays in the kernel's memory. */
  private readonly at: Record<'w' | 'b' | 'gw' | 'gb' | 'mw' | 'vw' | 'mb' | 'vb' | 'act' | 'delta', number[]> & { ones: number; scratch: number };
  private readonly gemm: Gemm;
  private readonly ops: TrainingOps;
  private step = 0;

  constructor(sizes: number[], batch: number, next: () => number) {
    this.sizes = sizes;
    const L = sizes.length - 1;
    const layout = new Layout();
    const at = { w: [] as number[], b: [] as number[], gw: [] as number[], gb: [] as number[], mw: [] as number[], vw: [] as number[], mb: [] as number[], vb: [] as number[], act: [] as number[], delta: [] as number[] };
    for (let l = 0; l < L; l++) {
      const n = sizes[l] * sizes[l + 1];
      const o = sizes[l + 1];
      for (const key of ['w', 'gw', 'mw', 'vw'] as const) at[key].push(layout.take(n));
      for (const key of ['b', 'gb', 'mb', 'vb'] as const) at[key].push(layout.take(o));
    }
    for (const n of sizes) {
      at.act.push(layout.take(batch * n));
      at.delta.push(layout.take(batch * n));
    }
    // A row of ones: the bias gradients are its product with the deltas (1 x = x: the plain column sums).
    const ones = layout.take(batch);
    // The kernel's scratch, for its largest A: a batch of rows, or a layer's inputs (the weight gradient's A^T).
    const scratch = layout.take(gemmScratchDoubles(Math.max(batch, ...sizes)));
    const kernel = createGemm(layout.size);
    const memory = kernel?.memory ?? new Float64Array(layout.size);
    this.gemm = kernel?.gemm ?? ((c, a, b, bias, rows, k, n, ars, acs, brs, bcs, _scratch, relu, mask) => gemmPlain(memory, c, a, b, bias, rows, k, n, ars, acs, brs, bcs, relu, mask));
    this.ops = kernel?.ops ?? plainOps(memory);
    memory.fill(1, ones, ones + batch);
    const view = (offset: number, length: number) => new Float64Array(memory.buffer, memory.byteOffset + offset * 8, length);
    for (let l = 0; l < L; l++) {
      const fi = sizes[l];
      const fo = sizes[l + 1];
      // Glorot uniform with scikit-learn's factor 6 for ReLU (its MLP uses it for the output layer too).
      const bound = Math.sqrt(6 / (fi + fo));
      const w = view(at.w[l], fi * fo);
      for (let k = 0; k < w.length; k++) w[k] = (2 * next() - 1) * bound;
      const b = view(at.b[l], fo);
      for (let k = 0; k < b.length; k++) b[k] = (2 * next() - 1) * bound;
      this.w.push(w);
      this.b.push(b);
      this.gw.push(view(at.gw[l], fi * fo));
      this.mw.push(view(at.mw[l], fi * fo));
      this.vw.push(view(at.vw[l], fi * fo));
      this.gb.push(view(at.gb[l], fo));
      this.mb.push(view(at.mb[l], fo));
      this.vb.push(view(at.vb[l], fo));
    }
    sizes.forEach((n, l) => {
      this.act.push(view(at.act[l], batch * n));
      this.delta.push(view(at.delta[l], batch * n));
    });
    this.at = { ...at, ones, scratch };
  }

  /**
   * Forward pass of `rows` rows already in act[0]; output probabilities in the last act. Each output starts at
   * its bias and adds its inputs' terms in input order (the kernel's contract), as the plain loops did.
   */
  forward(rows: number): void {
    const L = this.sizes.length - 1;
    const { at } = this;
    for (let l = 0; l < L; l++) {
      const fi = this.sizes[l];
      const fo = this.sizes[l + 1];
      // Hidden layers through the ReLU, applied by the kernel as it stores the finished sums.
      this.gemm(at.act[l + 1], at.act[l], at.w[l], at.b[l], rows, fi, fo, fi, 1, fo, 1, at.scratch, l < L - 1 ? 1 : 0, -1);
    }
    softmaxRows(this.act[L], rows, this.sizes[L]);
  }

  /** One Adam step on the batch in act[0] with labels `y` (rows long); returns the batch's mean cross-entropy. */
  train(rows: number, y: ArrayLike<number>, alpha: number, learningRate: number): number {
    this.forward(rows);
    const L = this.sizes.length - 1;
    const K = this.sizes[L];
    const p = this.act[L];
    const d = this.delta[L];
    const { at } = this;
    let loss = 0;
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < K; c++) d[r * K + c] = p[r * K + c];
      const t = y[r];
      d[r * K + t] -= 1;
      loss -= Math.log(Math.max(p[r * K + t], 1e-300));
    }
    for (let l = L - 1; l >= 0; l--) {
      const fi = this.sizes[l];
      const fo = this.sizes[l + 1];
      // gb = ones^T dl and gw = inp^T dl: each summed over the rows in order.
      this.gemm(at.gb[l], at.ones, at.delta[l + 1], -1, 1, rows, fo, 0, 1, fo, 1, at.scratch, 0, -1);
      this.gemm(at.gw[l], at.act[l], at.delta[l + 1], -1, fi, rows, fo, 1, fi, fo, 1, at.scratch, 0, -1);
      if (l > 0) {
        // Deltas of the layer below, through its ReLU (zero where it was not active, masked by the kernel as it
        // stores): dl W^T, each summed over the outputs in order (the kernel reads W transposed through its strides).
        this.gemm(at.delta[l], at.delta[l + 1], at.w[l], -1, rows, fo, fi, fo, 1, 1, fo, at.scratch, 0, at.act[l]);
      }
      // scikit-learn: (X^T delta + alpha W) / n for the weights (in the Adam step below), mean delta for the biases.
      const gb = this.gb[l];
      for (let o = 0; o < fo; o++) gb[o] = gb[o] / rows;
    }
    this.step++;
    const lr = (learningRate * Math.sqrt(1 - Math.pow(BETA2, this.step))) / (1 - Math.pow(BETA1, this.step));
    for (let l = 0; l < L; l++) {
      const fo = this.sizes[l + 1];
      this.ops.adamL2(at.w[l], at.gw[l], at.mw[l], at.vw[l], this.sizes[l] * fo, lr, BETA1, 1 - BETA1, BETA2, 1 - BETA2, EPS, alpha, rows);
      this.ops.adam(at.b[l], at.gb[l], at.mb[l], at.vb[l], fo, lr, BETA1, 1 - BETA1, BETA2, 1 - BETA2, EPS);
    }
    return loss / rows;
  }

  loadRows(x: Float64Array, width: number, rows: ArrayLike<number>, from: number, n: number): void {
    const a0 = this.act[0];
    // One block copy a row (a memmove, several times the speed of an element loop).
    for (let r = 0; r < n; r++) {
      const src = rows[from + r] * width;
      a0.set(x.subarray(src, src + width), r * width);
    }
  }

  output(): Float64Array {
    return this.act[this.sizes.length - 1];
  }

  snapshot(): { w: Float64Array[]; b: Float64Array[] } {
    return { w: this.w.map((a) => Float64Array.from(a)), b: this.b.map((a) => Float64Array.from(a)) };
  }
}

function softmaxRows(a: Float64Array, rows: number, k: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * k;
    let max = -Infinity;
    for (let c = 0; c < k; c++) if (a[o + c] > max) max = a[o + c];
    let sum = 0;
    for (let c = 0; c < k; c++) {
      const e = Math.exp(a[o + c] - max);
      a[o + c] = e;
      sum += e;
    }
    for (let c = 0; c < k; c++) a[o + c] = a[o + c] / sum;
  }
}
