/**
 * An MLP's prediction path (see mlp.ts for the model): the networks laid out for allocation-free prediction
 * (`compileMlp`), their first layers with the scaler and PCA projection folded in (`foldMlpInput`), and the
 * forward pass on one row. Each layer is one call of the WebAssembly kernel (gemmWasm.ts: two outputs per
 * vector, every output summed over its inputs in order from its bias), which gives the same doubles as the plain
 * loop (`affineRowsInto`) that runs where WebAssembly SIMD is missing: the probabilities are the same to the bit
 * on either path.
 */
import { EnoseError } from '../../errors.js';
import { Layout, viewAt } from '../numeric/wasmMemory.js';
import { createGemv, packWeights, paddedOutputs, type Gemv } from './gemvWasm.js';
import { affineRowsInto } from '../numeric/linalg.js';

/** The networks in the kernel's memory: offsets in doubles. */
export interface MlpKernel {
  readonly gemv: Gemv;
  readonly memory: Float64Array;
  /** Where the input row is copied to. */
  readonly input: number;
  /** Two activation buffers of the widest layer (padded to the kernel's outputs), swapped layer by layer. */
  readonly a: number;
  readonly b: number;
  /**
   * Per network, per layer: weights packed for the kernel (`packWeights`: inputs x `paddedOutputs(outputs)`) and
   * bias (padded likewise, the padding zero).
   */
  readonly layers: readonly (readonly { readonly inputs: number; readonly outputs: number; readonly weights: number; readonly bias: number }[])[];
  /**
   * The novelty limit's leading projection on the same input row (`foldMlpInput`'s `leading`): `count` outputs,
   * packed weights, its bias (the projection's offset, copied in by each call) and its output; or null.
   */
  readonly leading: { readonly count: number; readonly weights: number; readonly bias: number; readonly output: number } | null;
}

type KernelLayer = { readonly inputs: number; readonly outputs: number; weightAt: (i: number, o: number) => number; readonly bias: ArrayLike<number> };

/** Lays out the networks' layers (and a leading projection) in a kernel memory, or null where WebAssembly SIMD is missing. */
function buildKernel(nets: readonly (readonly KernelLayer[])[], leading: KernelLayer | null = null): MlpKernel | null {
  const layout = new Layout();
  let widest = 0;
  for (const net of nets) for (const l of net) widest = Math.max(widest, l.inputs, paddedOutputs(l.outputs));
  const input = layout.take(widest);
  const a = layout.take(widest);
  const b = layout.take(widest);
  const place = (l: KernelLayer) => ({ inputs: l.inputs, outputs: l.outputs, weights: layout.take(l.inputs * paddedOutputs(l.outputs)), bias: layout.take(paddedOutputs(l.outputs)) });
  const at = nets.map((net) => net.map(place));
  const lead = leading === null ? null : { ...place(leading), output: layout.take(paddedOutputs(leading.outputs)) };
  const kernel = createGemv(layout.size);
  if (kernel === null) return null;
  const m = kernel.memory;
  const fill = (l: KernelLayer, to: { weights: number; bias: number }) => {
    packWeights(m, to.weights, l.inputs, l.outputs, l.weightAt);
    for (let o = 0; o < l.outputs; o++) m[to.bias + o] = l.bias[o];
  };
  nets.forEach((net, n) => net.forEach((l, k) => fill(l, at[n][k])));
  if (leading !== null && lead !== null) fill(leading, lead);
  return {
    gemv: kernel.gemv,
    memory: m,
    input,
    a,
    b,
    layers: at,
    leading: lead === null ? null : { count: lead.outputs, weights: lead.weights, bias: lead.bias, output: lead.output },
  };
}

/** A network as flat arrays plus scratch activations, for allocation-free prediction. */
export interface CompiledMlp {
  /**
   * Per network, per layer: `rows`, the weights output-major (outputs x inputs; the model file stores them
   * input-major), which the plain forward pass reads: one dot product per output, four at a time.
   */
  readonly layers: readonly {
    readonly inputs: number;
    readonly outputs: number;
    readonly rows: Float64Array;
    readonly bias: Float64Array;
  }[][];
  /** Scratch: the activations of each layer (largest width), two buffers swapped. */
  readonly a: Float64Array;
  readonly b: Float64Array;
  readonly classCount: number;
  /** The same networks in the WebAssembly kernel's memory, or null where it is missing. */
  readonly kernel: MlpKernel | null;
}

export function compileMlp(
  model: { readonly networks: readonly { readonly layers: readonly { inputs: number; outputs: number; weights: readonly number[]; bias: readonly number[] }[] }[] },
  classCount: number,
): CompiledMlp {
  let widest = classCount;
  const layers = model.networks.map((net) =>
    net.layers.map((l) => {
      widest = Math.max(widest, l.inputs, l.outputs);
      const rows = new Float64Array(l.inputs * l.outputs);
      for (let i = 0; i < l.inputs; i++) for (let o = 0; o < l.outputs; o++) rows[o * l.inputs + i] = l.weights[i * l.outputs + o];
      return { inputs: l.inputs, outputs: l.outputs, rows, bias: Float64Array.from(l.bias) };
    }),
  );
  const kernel = buildKernel(model.networks.map((net) => net.layers.map((l) => ({ inputs: l.inputs, outputs: l.outputs, weightAt: (i, o) => l.weights[i * l.outputs + o], bias: l.bias }))));
  return { layers, a: new Float64Array(widest), b: new Float64Array(widest), classCount, kernel };
}

/**
 * Class probabilities of one row of PCA scores (`input[offset .. offset + inputs)`), averaged over the networks,
 * into `out`. Allocation-free.
 */
export function predictMlpInto(mlp: CompiledMlp, input: Float64Array, offset: number, out: Float64Array): void {
  if (mlp.kernel !== null) forwardKernel(mlp.kernel, mlp.classCount, input, offset, out, null, null);
  else forwardInto(mlp, null, input, offset, out);
}

/**
 * The networks' first layers with the scaler and the PCA projection folded in, so that a feature row goes
 * straight into the networks: W'[j][o] = sum_m projection[m][j] W[m][o] and b'[o] = b[o] + sum_m offset[m] W[m][o]
 * (`projection`: components x width, row-major, the scaler already in it). The PCA projection of every component
 * then drops out of the per-sample path (the shipped recovery model: 218 x 218 multiply-adds of 103,000).
 * `offset` is the projection's offset at folding; `refreshFoldedBias` follows it when drift adaptation moves it.
 */
export interface FoldedMlp {
  readonly width: number;
  /** Per network: outputs x width, row-major (output-major, as `CompiledMlp` layers' `rows`). */
  readonly weights: readonly Float64Array[];
  /** Per network (views into the kernel's memory when there is one, so that a refold reaches it). */
  readonly bias: readonly Float64Array[];
  /** The projection offset the biases were folded with. */
  readonly offset: Float64Array;
  /** The folded networks (first layer W', the others as compiled) in the WebAssembly kernel's memory, or null. */
  readonly kernel: MlpKernel | null;
}

/**
 * `leading` > 0 also lays out the first `leading` rows of `projection` in the kernel's memory: the PCA scores the
 * novelty limit reads, projected from the same input row in the same pass (`predictMlpFoldedInto`'s `scores`).
 */
export function foldMlpInput(mlp: CompiledMlp, projection: Float64Array, offset: Float64Array, width: number, leading = 0): FoldedMlp {
  const k = offset.length;
  const weights = mlp.layers.map((layers) => {
    const { inputs, outputs, rows: w } = layers[0];
    if (inputs !== k) throw new EnoseError('bad-model', `the MLP's first layer takes ${inputs} inputs, the projection gives ${k}`);
    const folded = new Float64Array(outputs * width);
    for (let o = 0; o < outputs; o++) {
      const fo = o * width;
      for (let m = 0; m < k; m++) {
        const wmo = w[o * inputs + m];
        if (wmo === 0) continue;
        const pm = m * width;
        for (let j = 0; j < width; j++) folded[fo + j] += wmo * projection[pm + j];
      }
    }
    return folded;
  });
  const kernel = buildKernel(
    mlp.layers.map((layers, n) =>
      layers.map((l, i) =>
        i === 0
          ? { inputs: width, outputs: l.outputs, weightAt: (j: number, o: number) => weights[n][o * width + j], bias: l.bias }
          : { inputs: l.inputs, outputs: l.outputs, weightAt: (j: number, o: number) => l.rows[o * l.inputs + j], bias: l.bias },
      ),
    ),
    leading > 0 ? { inputs: width, outputs: leading, weightAt: (j: number, c: number) => projection[c * width + j], bias: offset } : null,
  );
  const bias = mlp.layers.map((layers, n) => (kernel ? viewAt(kernel.memory, kernel.layers[n][0].bias, layers[0].outputs) : new Float64Array(layers[0].outputs)));
  const folded: FoldedMlp = { width, weights, bias, offset: new Float64Array(k), kernel };
  foldBiases(mlp, folded, offset);
  return folded;
}

function foldBiases(mlp: CompiledMlp, folded: FoldedMlp, offset: Float64Array): void {
  const k = offset.length;
  mlp.layers.forEach((layers, n) => {
    const { inputs, outputs, rows: w, bias: b } = layers[0];
    const out = folded.bias[n];
    for (let o = 0; o < outputs; o++) {
      let s = b[o];
      for (let m = 0; m < k; m++) s += offset[m] * w[o * inputs + m];
      out[o] = s;
    }
  });
  folded.offset.set(offset);
}

/** Refolds the first layers' biases when `offset` moved since they were folded. Allocation-free when it has not. */
export function refreshFoldedBias(mlp: CompiledMlp, folded: FoldedMlp, offset: Float64Array): void {
  for (let m = 0; m < offset.length; m++) {
    if (offset[m] !== folded.offset[m]) {
      foldBiases(mlp, folded, offset);
      return;
    }
  }
}

/**
 * Class probabilities of one feature row (`input[offset .. offset + width)`, after the model's transform)
 * through the folded first layers (`foldMlpInput`), averaged over the networks, into `out`. The same networks as
 * `predictMlpInto` on the row's PCA scores, summed in another order (probabilities within about 1e-13 of it).
 * With `scores` (and a kernel that holds the leading projection, `leadingInKernel`), also the row's first
 * `scores.length` PCA scores: `projectionOffset[c] + sum_j projection[c][j] x[j]`, summed in j order. Returns
 * whether it wrote them. Allocation-free.
 */
export function predictMlpFoldedInto(
  mlp: CompiledMlp,
  folded: FoldedMlp,
  input: Float64Array,
  offset: number,
  out: Float64Array,
  projectionOffset: Float64Array | null = null,
  scores: Float64Array | null = null,
): boolean {
  if (folded.kernel !== null) return forwardKernel(folded.kernel, mlp.classCount, input, offset, out, projectionOffset, scores);
  forwardInto(mlp, folded, input, offset, out);
  return false;
}

/** How many leading PCA scores the folded kernel projects beside the networks (0 without a kernel). */
export function leadingInKernel(folded: FoldedMlp): number {
  return folded.kernel?.leading?.count ?? 0;
}

/** The plain forward pass (`affineRowsInto` per layer): where the kernel is missing, and its reference. */
export function forwardInto(mlp: CompiledMlp, folded: FoldedMlp | null, input: Float64Array, offset: number, out: Float64Array): void {
  const k = mlp.classCount;
  const nets = mlp.layers.length;
  for (let c = 0; c < k; c++) out[c] = 0;
  for (let n = 0; n < nets; n++) {
    const layers = mlp.layers[n];
    let src = input;
    let srcOffset = offset;
    let dst = mlp.a;
    for (let l = 0; l < layers.length; l++) {
      const layer = layers[l];
      const first = l === 0 && folded !== null;
      affineRowsInto(first ? folded.weights[n] : layer.rows, first ? folded.bias[n] : layer.bias, layer.outputs, first ? folded.width : layer.inputs, src, srcOffset, dst);
      if (l < layers.length - 1) {
        for (let o = 0; o < layer.outputs; o++) if (dst[o] < 0) dst[o] = 0;
        src = dst;
        srcOffset = 0;
        dst = dst === mlp.a ? mlp.b : mlp.a;
      }
    }
    addSoftmax(dst, 0, k, nets, out);
  }
}

/**
 * The forward pass through the kernel: the input row copied in once, then one kernel call per layer (the ReLU
 * applied at its store) and, with `scores`, one for the leading projection.
 */
function forwardKernel(
  kernel: MlpKernel,
  k: number,
  input: Float64Array,
  offset: number,
  out: Float64Array,
  projectionOffset: Float64Array | null,
  scores: Float64Array | null,
): boolean {
  const { memory: m, gemv, layers: nets } = kernel;
  const width = nets[0][0].inputs;
  const at = kernel.input;
  for (let j = 0; j < width; j++) m[at + j] = input[offset + j];
  for (let c = 0; c < k; c++) out[c] = 0;
  for (let n = 0; n < nets.length; n++) {
    const layers = nets[n];
    let src = at;
    let dst = kernel.a;
    const last = layers.length - 1;
    for (let l = 0; l <= last; l++) {
      const layer = layers[l];
      gemv(dst, src, layer.weights, layer.bias, layer.inputs, paddedOutputs(layer.outputs), l < last ? 1 : 0);
      if (l < last) {
        src = dst;
        dst = dst === kernel.a ? kernel.b : kernel.a;
      }
    }
    addSoftmax(m, dst, k, nets.length, out);
  }
  const lead = kernel.leading;
  if (lead === null || scores === null || projectionOffset === null || scores.length !== lead.count) return false;
  const count = scores.length;
  for (let c = 0; c < count; c++) m[lead.bias + c] = projectionOffset[c];
  gemv(lead.output, at, lead.weights, lead.bias, width, paddedOutputs(count), 0);
  for (let c = 0; c < count; c++) scores[c] = m[lead.output + c];
  return true;
}

/** Softmax of the logits at `logits[at .. at + k)` (each exponential taken once, kept there), added to `out` / nets. */
function addSoftmax(logits: Float64Array, at: number, k: number, nets: number, out: Float64Array): void {
  let max = -Infinity;
  for (let c = 0; c < k; c++) if (logits[at + c] > max) max = logits[at + c];
  let sum = 0;
  for (let c = 0; c < k; c++) {
    const e = Math.exp(logits[at + c] - max);
    logits[at + c] = e;
    sum += e;
  }
  for (let c = 0; c < k; c++) out[c] += logits[at + c] / sum / nets;
}
