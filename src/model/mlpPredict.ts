/**
 * An MLP's prediction path (see mlp.ts for the model): the networks laid out for allocation-free prediction
 * (`compileMlp`), their first layers with the scaler and PCA projection folded in (`foldMlpInput`), and the
 * forward pass on one row. Each layer is one call of the WebAssembly kernel (gemmWasm.ts: two outputs per
 * vector, every output summed over its inputs in order from its bias), which gives the same doubles as the plain
 * loop (`affineRowsInto`) that runs where WebAssembly SIMD is missing: the probabilities are the same to the bit
 * on either path.
 */
import { EnoseError } from '../errors.js';
import { createGemm, Layout, viewAt, type Gemm } from './gemmWasm.js';
import { affineRowsInto } from './linalg.js';

/** The networks in the kernel's memory: offsets in doubles. */
export interface MlpKernel {
  readonly gemm: Gemm;
  readonly memory: Float64Array;
  /** Where the input row is copied to. */
  readonly input: number;
  /** Two activation buffers of the widest layer, swapped layer by layer. */
  readonly a: number;
  readonly b: number;
  /** Per network, per layer: weights input-major (inputs x outputs, as the model file stores them) and bias. */
  readonly layers: readonly (readonly { readonly inputs: number; readonly outputs: number; readonly weights: number; readonly bias: number }[])[];
}

type KernelLayer = { readonly inputs: number; readonly outputs: number; weightAt: (i: number, o: number) => number; readonly bias: ArrayLike<number> };

/** Lays out the networks' layers in a kernel memory, or null where WebAssembly SIMD is missing. */
function buildKernel(nets: readonly (readonly KernelLayer[])[]): MlpKernel | null {
  const layout = new Layout();
  let widest = 0;
  for (const net of nets) for (const l of net) widest = Math.max(widest, l.inputs, l.outputs);
  const input = layout.take(widest);
  const a = layout.take(widest);
  const b = layout.take(widest);
  const at = nets.map((net) => net.map((l) => ({ inputs: l.inputs, outputs: l.outputs, weights: layout.take(l.inputs * l.outputs), bias: layout.take(l.outputs) })));
  const kernel = createGemm(layout.size);
  if (kernel === null) return null;
  const m = kernel.memory;
  nets.forEach((net, n) =>
    net.forEach((l, k) => {
      const { weights, bias } = at[n]![k]!;
      for (let i = 0; i < l.inputs; i++) for (let o = 0; o < l.outputs; o++) m[weights + i * l.outputs + o] = l.weightAt(i, o);
      for (let o = 0; o < l.outputs; o++) m[bias + o] = l.bias[o]!;
    }),
  );
  return { gemm: kernel.gemm, memory: m, input, a, b, layers: at };
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
      for (let i = 0; i < l.inputs; i++) for (let o = 0; o < l.outputs; o++) rows[o * l.inputs + i] = l.weights[i * l.outputs + o]!;
      return { inputs: l.inputs, outputs: l.outputs, rows, bias: Float64Array.from(l.bias) };
    }),
  );
  const kernel = buildKernel(model.networks.map((net) => net.layers.map((l) => ({ inputs: l.inputs, outputs: l.outputs, weightAt: (i, o) => l.weights[i * l.outputs + o]!, bias: l.bias }))));
  return { layers, a: new Float64Array(widest), b: new Float64Array(widest), classCount, kernel };
}

/**
 * Class probabilities of one row of PCA scores (`input[offset .. offset + inputs)`), averaged over the networks,
 * into `out`. Allocation-free.
 */
export function predictMlpInto(mlp: CompiledMlp, input: Float64Array, offset: number, out: Float64Array): void {
  if (mlp.kernel !== null) forwardKernel(mlp.kernel, mlp.classCount, input, offset, out);
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

export function foldMlpInput(mlp: CompiledMlp, projection: Float64Array, offset: Float64Array, width: number): FoldedMlp {
  const k = offset.length;
  const weights = mlp.layers.map((layers) => {
    const { inputs, outputs, rows: w } = layers[0]!;
    if (inputs !== k) throw new EnoseError('bad-model', `the MLP's first layer takes ${inputs} inputs, the projection gives ${k}`);
    const folded = new Float64Array(outputs * width);
    for (let o = 0; o < outputs; o++) {
      const fo = o * width;
      for (let m = 0; m < k; m++) {
        const wmo = w[o * inputs + m]!;
        if (wmo === 0) continue;
        const pm = m * width;
        for (let j = 0; j < width; j++) folded[fo + j]! += wmo * projection[pm + j]!;
      }
    }
    return folded;
  });
  const kernel = buildKernel(
    mlp.layers.map((layers, n) =>
      layers.map((l, i) =>
        i === 0
          ? { inputs: width, outputs: l.outputs, weightAt: (j: number, o: number) => weights[n]![o * width + j]!, bias: l.bias }
          : { inputs: l.inputs, outputs: l.outputs, weightAt: (j: number, o: number) => l.rows[o * l.inputs + j]!, bias: l.bias },
      ),
    ),
  );
  const bias = mlp.layers.map((layers, n) => (kernel ? viewAt(kernel.memory, kernel.layers[n]![0]!.bias, layers[0]!.outputs) : new Float64Array(layers[0]!.outputs)));
  const folded: FoldedMlp = { width, weights, bias, offset: new Float64Array(k), kernel };
  foldBiases(mlp, folded, offset);
  return folded;
}

function foldBiases(mlp: CompiledMlp, folded: FoldedMlp, offset: Float64Array): void {
  const k = offset.length;
  mlp.layers.forEach((layers, n) => {
    const { inputs, outputs, rows: w, bias: b } = layers[0]!;
    const out = folded.bias[n]!;
    for (let o = 0; o < outputs; o++) {
      let s = b[o]!;
      for (let m = 0; m < k; m++) s += offset[m]! * w[o * inputs + m]!;
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
 * Allocation-free.
 */
export function predictMlpFoldedInto(mlp: CompiledMlp, folded: FoldedMlp, input: Float64Array, offset: number, out: Float64Array): void {
  if (folded.kernel !== null) forwardKernel(folded.kernel, mlp.classCount, input, offset, out);
  else forwardInto(mlp, folded, input, offset, out);
}

/** The plain forward pass (`affineRowsInto` per layer): where the kernel is missing, and its reference. */
export function forwardInto(mlp: CompiledMlp, folded: FoldedMlp | null, input: Float64Array, offset: number, out: Float64Array): void {
  const k = mlp.classCount;
  const nets = mlp.layers.length;
  for (let c = 0; c < k; c++) out[c] = 0;
  for (let n = 0; n < nets; n++) {
    const layers = mlp.layers[n]!;
    let src = input;
    let srcOffset = offset;
    let dst = mlp.a;
    for (let l = 0; l < layers.length; l++) {
      const layer = layers[l]!;
      const first = l === 0 && folded !== null;
      affineRowsInto(first ? folded.weights[n]! : layer.rows, first ? folded.bias[n]! : layer.bias, layer.outputs, first ? folded.width : layer.inputs, src, srcOffset, dst);
      if (l < layers.length - 1) {
        for (let o = 0; o < layer.outputs; o++) if (dst[o]! < 0) dst[o] = 0;
        src = dst;
        srcOffset = 0;
        dst = dst === mlp.a ? mlp.b : mlp.a;
      }
    }
    addSoftmax(dst, 0, k, nets, out);
  }
}

/** The forward pass through the kernel: the input row copied in once, then one kernel call per layer. */
function forwardKernel(kernel: MlpKernel, k: number, input: Float64Array, offset: number, out: Float64Array): void {
  const { memory: m, gemm, layers: nets } = kernel;
  const width = nets[0]![0]!.inputs;
  for (let j = 0; j < width; j++) m[kernel.input + j] = input[offset + j]!;
  for (let c = 0; c < k; c++) out[c] = 0;
  for (let n = 0; n < nets.length; n++) {
    const layers = nets[n]!;
    let src = kernel.input;
    let dst = kernel.a;
    for (let l = 0; l < layers.length; l++) {
      const layer = layers[l]!;
      gemm(dst, src, layer.weights, layer.bias, 1, layer.inputs, layer.outputs, layer.inputs, 1);
      if (l < layers.length - 1) {
        for (let o = dst; o < dst + layer.outputs; o++) if (m[o]! < 0) m[o] = 0;
        src = dst;
        dst = dst === kernel.a ? kernel.b : kernel.a;
      }
    }
    addSoftmax(m, dst, k, nets.length, out);
  }
}

/** Softmax of the logits at `logits[at .. at + k)` (each exponential taken once, kept there), added to `out` / nets. */
function addSoftmax(logits: Float64Array, at: number, k: number, nets: number, out: Float64Array): void {
  let max = -Infinity;
  for (let c = 0; c < k; c++) if (logits[at + c]! > max) max = logits[at + c]!;
  let sum = 0;
  for (let c = 0; c < k; c++) {
    const e = Math.exp(logits[at + c]! - max);
    logits[at + c] = e;
    sum += e;
  }
  for (let c = 0; c < k; c++) out[c]! += logits[at + c]! / sum / nets;
}
