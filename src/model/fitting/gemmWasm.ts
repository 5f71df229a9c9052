/**
 * The matrix product the MLP trains with, as a small WebAssembly module with 128-bit SIMD (which Node 20 runs):
 *
 *   C[r][n] = init[n] + sum over k = 0 .. K-1 of A[r * ars + k * acs] * B[k * brs + n * bcs]      (r < rows, n < N)
 *
 * with `init` a bias vector or zero. The two lanes of each f64x2 hold two different outputs n, never two terms
 * of one sum: every output is still one accumulator, started at its bias and added to term by term for k = 0, 1,
 * ..., K-1, with a separate multiply and add (no fused multiply-add), so each C[r][n] is the same double as a
 * plain loop `s = init[n]; for (k...) s += A * B` gives, bit for bit. Blocking, packing into scratch and register
 * tiling (gemmPackedWasm.ts) change only where the operands are read from and how often.
 *
 * The module is assembled from its instructions (wasmAssembler.ts: no toolchain, nothing downloaded) and works on a
 * WebAssembly.Memory that the caller allocates once and views as Float64Arrays: all offsets are in doubles.
 */

import { instantiateWithMemory, lazyModule } from '../numeric/wasmMemory.js';
import { assembleModule } from '../numeric/wasmAssembler.js';
import { packedGemmBody } from './gemmPackedWasm.js';
import { adamBody, type TrainingOps } from './trainingOpsWasm.js';

export { gemmScratchDoubles } from './gemmPackedWasm.js';
export type { TrainingOps } from './trainingOpsWasm.js';
export { plainOps } from './trainingOpsWasm.js';

/**
 * The kernel: offsets in doubles into the memory; `bias` < 0 starts every output at zero; C is rows x n,
 * row-major; `scratch` is gemmScratchDoubles(rows) doubles that overlap nothing else. On the finished sums,
 * `relu` != 0 stores x < 0 ? 0 : x (a -0 or NaN stays as it is: the ReLU of a hidden layer) and `mask` >= 0, an
 * array laid out as C, stores mask <= 0 ? 0 : x (the deltas of units that were not active).
 */
export type Gemm = (c: number, a: number, b: number, bias: number, rows: number, k: number, n: number, ars: number, acs: number, brs: number, bcs: number, scratch: number, relu: number, mask: number) => void;

function moduleBytes(): Uint8Array {
  return assembleModule([
    { name: 'gemm', body: packedGemmBody() },
    { name: 'adam', body: adamBody(false) },
    { name: 'adamL2', body: adamBody(true) },
  ]);
}

/** The compiled module, or null where this runtime has no WebAssembly SIMD. Compiled once per thread. */
const gemmModule = lazyModule(moduleBytes);

/**
 * A memory of at least `doubles` doubles (it never grows, so views into it stay valid) with the kernel bound to
 * it; null where WebAssembly SIMD or the address space for another memory is missing (the callers then run their
 * plain loops, which give the same numbers).
 */
export function createGemm(doubles: number): { readonly memory: Float64Array; readonly gemm: Gemm; readonly ops: TrainingOps } | null {
  const mod = gemmModule();
  const bound = mod === null ? null : instantiateWithMemory(mod, doubles);
  if (bound === null) return null;
  return { memory: bound.memory, gemm: bound.exports['gemm'] as Gemm, ops: bound.exports as unknown as TrainingOps };
}

/** A plain loop of what the kernel computes, on a Float64Array: its reference in tests and its fallback. */
export function gemmPlain(mem: Float64Array, c: number, a: number, b: number, bias: number, rows: number, k: number, n: number, ars: number, acs: number, brs: number, bcs: number, relu = 0, mask = -1): void {
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < n; o++) {
      let s = bias >= 0 ? mem[bias + o] : 0;
      for (let i = 0; i < k; i++) s += mem[a + r * ars + i * acs] * mem[b + i * brs + o * bcs];
      if (relu !== 0 && s < 0) s = 0;
      if (mask >= 0 && mem[mask + r * n + o] <= 0) s = 0;
      mem[c + r * n + o] = s;
    }
  }
}
