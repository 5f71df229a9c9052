/**
 * The one-row matrix product of a prediction (an MLP layer, the novelty limit's leading projection) as a small
 * WebAssembly SIMD module, on weights packed for it:
 *
 *   c[n] = relu?(bias[n] + sum over k = 0 .. K-1 of a[k] * W[k][n])      (n < N, N a multiple of 8)
 *
 * W is packed in slabs of 8 outputs: slab by slab, each a K x 8 block, row k of the slab contiguous
 * (`packWeights`). A pass then reads its weights in one sequential stream. Laid out as the model stores them (K x N, row-major), an 8-output slab of a 128-wide layer is one cache
 * line every kilobyte: 220 lines that fall in 4 of the first cache's sets, evicted before the next slab reads
 * the rest of them (13.5 against 6.9 us for two 220 x 128 layers here, 86 against 30 us from main memory).
 *
 * As in gemmWasm.ts the two lanes of a vector hold two different outputs, multiply and add stay separate (no
 * fused multiply-add) and every output is summed from its bias for k = 0, 1, ..., K-1: the same doubles as the
 * plain loop. Four vector accumulators (8 outputs) per pass, two steps of k per turn: two networks of 220-128-64-5
 * took 8.9 us so, against 9.3 us one step a turn, 13.3 us with 16 outputs a pass and 12.8 to 13.5 us with 24 or
 * with four steps a turn (V8 keeps the smaller loop in registers). The ReLU of a hidden layer is applied at the store, as `x < 0 ? 0 : x` (a -0 or NaN stays as it is).
 */
import { instantiateWithMemory, lazyModule } from '../numeric/wasmMemory.js';
import { ADD, assembleModule, Body, F64X2_ADD, F64X2_LT, F64X2_MUL, I32, LOAD64_SPLAT, LT_S, SHL, V128, V128_ANDNOT, V128_ZERO, v128Load, v128Store } from '../numeric/wasmAssembler.js';

/** Offsets in doubles into the memory; `relu` 1 applies the ReLU to the outputs, 0 not. */
export type Gemv = (c: number, a: number, w: number, bias: number, k: number, n: number, relu: number) => void;

/** Outputs of a slab (one pass over the input). */
const SLAB = 8;

/** `n` rounded up to the kernel's multiple of 8 outputs: the size of the packed outputs, bias and result. */
export function paddedOutputs(n: number): number {
  return Math.ceil(n / SLAB) * SLAB;
}

/**
 * Writes the weights `weightAt(k, n)` (k < inputs, n < outputs) into `memory` at `at` in the kernel's packed
 * layout, `inputs x paddedOutputs(outputs)` doubles, the padding outputs zero.
 */
export function packWeights(memory: Float64Array, at: number, inputs: number, outputs: number, weightAt: (k: number, n: number) => number): void {
  const padded = paddedOutputs(outputs);
  let p = at;
  for (let n0 = 0; n0 < padded; n0 += SLAB) {
    for (let k = 0; k < inputs; k++) {
      for (let o = 0; o < SLAB; o++) memory[p++] = n0 + o < outputs ? weightAt(k, n0 + o) : 0;
    }
  }
}

function gemvBody(): Body {
  const f = new Body([I32, I32, I32, I32, I32, I32, I32]);
  const [C, A, W, BIAS, K, N, RELU] = [0, 1, 2, 3, 4, 5, 6];
  const n0 = f.local(I32);
  const pa = f.local(I32);
  const end = f.local(I32);
  const acc = Array.from({ length: SLAB / 2 }, () => f.local(V128));
  const s = f.local(V128);
  for (const p of [C, A, W, BIAS, N]) {
    f.get(p);
    f.i32(3);
    f.op(SHL);
    f.set(p);
  }
  // end = A + K doubles, in bytes.
  f.get(A);
  f.get(K);
  f.i32(3);
  f.op(SHL);
  f.op(ADD);
  f.set(end);
  f.i32(0);
  f.set(n0);
  /** One slab of `vectors` vectors (2 `vectors` outputs) from output n0; W points at its first weight. */
  const slab = (vectors: number) => {
    for (let v = 0; v < vectors; v++) {
      f.get(BIAS);
      f.get(n0);
      f.op(ADD);
      f.op(...v128Load(v * 16));
      f.set(acc[v]);
    }
    f.get(A);
    f.set(pa);
    const step = () => {
      f.get(pa);
      f.op(...LOAD64_SPLAT);
      f.set(s);
      for (let v = 0; v < vectors; v++) {
        f.get(acc[v]);
        f.get(s);
        f.get(W);
        f.op(...v128Load(v * 16));
        f.op(...F64X2_MUL);
        f.op(...F64X2_ADD);
        f.set(acc[v]);
      }
      f.addTo(W, () => f.i32(vectors * 16));
      f.addTo(pa, () => f.i32(8));
    };
    // Two steps a turn, then the odd one: still k = 0, 1, 2, ... in order.
    f.loop(
      () => {
        f.get(pa);
        f.i32(8);
        f.op(ADD);
        f.get(end);
        f.op(LT_S);
      },
      () => {
        step();
        step();
      },
    );
    f.loop(
      () => {
        f.get(pa);
        f.get(end);
        f.op(LT_S);
      },
      step,
    );
    f.ifElse(
      () => f.get(RELU),
      () => {
        for (let v = 0; v < vectors; v++) {
          f.get(acc[v]);
          f.get(acc[v]);
          f.op(...V128_ZERO);
          f.op(...F64X2_LT);
          f.op(...V128_ANDNOT);
          f.set(acc[v]);
        }
      },
      () => undefined,
    );
    for (let v = 0; v < vectors; v++) {
      f.get(C);
      f.get(n0);
      f.op(ADD);
      f.get(acc[v]);
      f.op(...v128Store(v * 16));
    }
    f.addTo(n0, () => f.i32(vectors * 16));
  };
  f.loop(
    () => {
      f.get(n0);
      f.get(N);
      f.op(LT_S);
    },
    () => slab(SLAB / 2),
  );
  return f;
}

const gemvModule = lazyModule(() => assembleModule([{ name: 'gemv', body: gemvBody() }]));

/**
 * A memory of at least `doubles` doubles (it never grows, so views into it stay valid) with the kernel bound to
 * it; null where WebAssembly SIMD is missing or the address space for another memory is not there (callers then
 * run their plain loops, which give the same numbers).
 */
export function createGemv(doubles: number): { readonly memory: Float64Array; readonly gemv: Gemv } | null {
  const mod = gemvModule();
  const bound = mod === null ? null : instantiateWithMemory(mod, doubles);
  if (bound === null) return null;
  return { memory: bound.memory, gemv: bound.exports['gemv'] as Gemv };
}

/** A plain loop of what the kernel computes on the packed weights: its reference in tests. */
export function gemvPlain(mem: Float64Array, c: number, a: number, w: number, bias: number, k: number, n: number, relu: number): void {
  for (let n0 = 0; n0 < n; n0 += SLAB) {
    for (let o = 0; o < SLAB; o++) {
      let s = mem[bias + n0 + o];
      for (let i = 0; i < k; i++) s += mem[a + i] * mem[w + n0 * k + i * SLAB + o];
      mem[c + n0 + o] = relu !== 0 && s < 0 ? 0 : s;
    }
  }
}
