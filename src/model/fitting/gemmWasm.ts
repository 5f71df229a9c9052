/**
 * The matrix product the MLP trains and predicts with, as a small WebAssembly module with 128-bit SIMD (which
 * Node 20 runs):
 *
 *   C[r][n] = init[n] + sum over k = 0 .. K-1 of A[r * ars + k * acs] * B[k * N + n]      (r < rows, n < N)
 *
 * with `init` a bias vector or zero. The two lanes of each f64x2 hold two different outputs n, never two terms
 * of one sum: every output is still one accumulator, started at its bias and added to term by term for k = 0, 1,
 * ..., K-1, with a separate multiply and add (no fused multiply-add), so each C[r][n] is the same double as a
 * plain loop `s = init[n]; for (k...) s += A * B` gives, bit for bit. Register tiling (2 rows x 8 outputs, or 1
 * row x 8 outputs, in 8 or 4 vector accumulators) and the loop order (outputs outermost, so an 8-output slab of B stays
 * in the core's first cache while the rows pass) change only how often the operands are loaded.
 *
 * The module is assembled from its instructions (wasmAssembler.ts: no toolchain, nothing downloaded) and works on a
 * WebAssembly.Memory that the caller allocates once and views as Float64Arrays: all offsets are in doubles.
 */

import { instantiateWithMemory, lazyModule } from '../numeric/wasmMemory.js';
import { adamBody, inactiveZeroBody, regularizeBody, reluBody, type TrainingOps } from './trainingOpsWasm.js';
import {
  ADD, assembleModule, Body, F64, F64_ADD, F64_LOAD, F64_MUL, F64_STORE, F64X2_ADD, F64X2_MUL, GE_S, I32, LE_S, LOAD64_SPLAT, LT_S, MUL, SHL, V128,
  V128_ZERO, v128Load, v128Store,
} from '../numeric/wasmAssembler.js';

export type { TrainingOps } from './trainingOpsWasm.js';
export { plainOps } from './trainingOpsWasm.js';

/** The kernel: offsets in doubles into the memory; `bias` < 0 starts every output at zero. */
export type Gemm = (c: number, a: number, b: number, bias: number, rows: number, k: number, n: number, ars: number, acs: number) => void;

/** Vectors (two outputs each) of the one-row path: more independent sums than the adder's latency needs. */
const SINGLE_ROW_VECTORS = 4;
/** Rows and vectors of the several-row path (training): 2 x 4 and 4 x 2 ran alike here, 4 x 3 or 6 x 2 spill. */
const MULTI_ROWS = 2;
const MULTI_VECTORS = 4;

/** The kernel's body: see the file's comment for what it computes. */
function gemmBody(): Body {
  const f = new Body(new Array<number>(9).fill(I32));
  const [C, A, B, BIAS, ROWS, K, N, ARS, ACS] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  // Strides in bytes.
  const nb = f.local(I32);
  const arsb = f.local(I32);
  const acsb = f.local(I32);
  const n0 = f.local(I32);
  const r0 = f.local(I32);
  const k = f.local(I32);
  const pa = f.local(I32); // A's row r0 at k = 0, in bytes
  const pb = f.local(I32); // B[k][n0], in bytes
  const pk = f.local(I32); // k * acs, in bytes
  const pc = f.local(I32);
  const p1 = f.local(I32);
  const p2 = f.local(I32);
  const p3 = f.local(I32);
  const p4 = f.local(I32);
  const p5 = f.local(I32);
  const acc = Array.from({ length: Math.max(MULTI_ROWS * MULTI_VECTORS, SINGLE_ROW_VECTORS) }, () => f.local(V128));
  const bv = Array.from({ length: Math.max(MULTI_VECTORS, SINGLE_ROW_VECTORS) }, () => f.local(V128));
  const s = f.local(V128);
  const sacc = f.local(F64);
  const bytes = (l: number, out: number) => {
    f.get(l);
    f.i32(3);
    f.op(SHL);
    f.set(out);
  };
  bytes(N, nb);
  bytes(ARS, arsb);
  bytes(ACS, acsb);
  for (const p of [C, A, B]) {
    f.get(p);
    f.i32(3);
    f.op(SHL);
    f.set(p);
  }
  const initVector = (into: number, lane: number) =>
    f.ifElse(
      () => {
        f.get(BIAS);
        f.i32(0);
        f.op(GE_S);
      },
      () => {
        f.get(BIAS);
        f.get(n0);
        f.op(ADD);
        f.i32(3);
        f.op(SHL);
        f.op(...v128Load(lane * 16));
        f.set(into);
      },
      () => {
        f.op(...V128_ZERO);
        f.set(into);
      },
    );
  // acc[i] += splat(A at address (row pointer + pk)) * bv[j]
  const madd = (accIndex: number, vec: number) => {
    f.get(acc[accIndex]);
    f.get(s);
    f.get(vec);
    f.op(...F64X2_MUL);
    f.op(...F64X2_ADD);
    f.set(acc[accIndex]);
  };
  const splatFrom = (rowPtr: number) => {
    f.get(rowPtr);
    f.get(pk);
    f.op(ADD);
    f.op(...LOAD64_SPLAT);
    f.set(s);
  };
  /** A block of `width` vectors (2 `width` outputs) from column n0 for rows r0 .. r0 + rowsInBlock - 1. */
  const tile = (rowsInBlock: number, width: number) => {
    // Row pointers into A.
    f.get(A);
    f.get(r0);
    f.get(arsb);
    f.op(MUL);
    f.op(ADD);
    f.set(pa);
    const rowPtrs = [pa, p1, p2, p3, p4, p5].slice(0, rowsInBlock);
    for (let r = 1; r < rowsInBlock; r++) {
      f.get(rowPtrs[r - 1]);
      f.get(arsb);
      f.op(ADD);
      f.set(rowPtrs[r]);
    }
    for (let v = 0; v < width; v++) {
      initVector(acc[v], v);
      for (let r = 1; r < rowsInBlock; r++) {
        f.get(acc[v]);
        f.set(acc[r * width + v]);
      }
    }
    f.get(B);
    f.get(n0);
    f.i32(3);
    f.op(SHL);
    f.op(ADD);
    f.set(pb);
    f.i32(0);
    f.set(pk);
    f.i32(0);
    f.set(k);
    // One step of k: the B vectors of row k, each row's A value splatted, multiplied and added.
    const step = () => {
      for (let v = 0; v < width; v++) {
        f.get(pb);
        f.op(...v128Load(v * 16));
        f.set(bv[v]);
      }
      for (let r = 0; r < rowsInBlock; r++) {
        splatFrom(rowPtrs[r]);
        for (let v = 0; v < width; v++) madd(r * width + v, bv[v]);
      }
      f.addTo(pb, () => f.get(nb));
      f.addTo(pk, () => f.get(acsb));
    };
    // On one row, two steps per turn (less loop overhead: 3.8 -> 3.4 us for 220 x 128 here), then the odd one:
    // still k = 0, 1, 2, ... in order. Unrolled on several rows it spills registers and runs slower.
    const unroll = rowsInBlock === 1 && width === SINGLE_ROW_VECTORS;
    f.loop(
      () => {
        f.get(k);
        f.i32(unroll ? 2 : 1);
        f.op(ADD);
        f.get(K);
        f.op(LE_S);
      },
      () => {
        step();
        if (unroll) step();
        f.addTo(k, () => f.i32(unroll ? 2 : 1));
      },
    );
    f.loop(
      () => {
        f.get(k);
        f.get(K);
        f.op(LT_S);
      },
      () => {
        step();
        f.addTo(k, () => f.i32(1));
      },
    );
    // Store: C[r0 + r][n0 ..].
    f.get(C);
    f.get(r0);
    f.get(nb);
    f.op(MUL);
    f.op(ADD);
    f.get(n0);
    f.i32(3);
    f.op(SHL);
    f.op(ADD);
    f.set(pc);
    for (let r = 0; r < rowsInBlock; r++) {
      for (let v = 0; v < width; v++) {
        f.get(pc);
        f.get(acc[r * width + v]);
        f.op(...v128Store(v * 16));
      }
      if (r < rowsInBlock - 1) f.addTo(pc, () => f.get(nb));
    }
  };
  const rowsLoop = (width: number) => {
    f.i32(0);
    f.set(r0);
    // Four rows at a time with `width` vectors each (at most 8 accumulators), then one row at a time.
    const four = width === MULTI_VECTORS ? MULTI_ROWS : 1;
    f.loop(
      () => {
        f.get(r0);
        f.i32(four);
        f.op(ADD);
        f.get(ROWS);
        f.op(LE_S);
      },
      () => {
        tile(four, width);
        f.addTo(r0, () => f.i32(four));
      },
    );
    f.loop(
      () => {
        f.get(r0);
        f.get(ROWS);
        f.op(LT_S);
      },
      () => {
        tile(1, width);
        f.addTo(r0, () => f.i32(1));
      },
    );
  };
  f.i32(0);
  f.set(n0);
  // One row (a prediction): 2 SINGLE_ROW_VECTORS outputs per pass over k. Several rows (training): tiles of
  // MULTI_ROWS rows x 2 MULTI_VECTORS outputs.
  f.ifElse(
    () => {
      f.get(ROWS);
      f.i32(1);
      f.op(0x46); // i32.eq
    },
    () =>
      f.loop(
        () => {
          f.get(n0);
          f.i32(2 * SINGLE_ROW_VECTORS);
          f.op(ADD);
          f.get(N);
          f.op(LE_S);
        },
        () => {
          rowsLoop(SINGLE_ROW_VECTORS);
          f.addTo(n0, () => f.i32(2 * SINGLE_ROW_VECTORS));
        },
      ),
    () => undefined,
  );
  f.loop(
    () => {
      f.get(n0);
      f.i32(2 * MULTI_VECTORS);
      f.op(ADD);
      f.get(N);
      f.op(LE_S);
    },
    () => {
      rowsLoop(MULTI_VECTORS);
      f.addTo(n0, () => f.i32(2 * MULTI_VECTORS));
    },
  );
  f.loop(
    () => {
      f.get(n0);
      f.i32(2);
      f.op(ADD);
      f.get(N);
      f.op(LE_S);
    },
    () => {
      rowsLoop(1);
      f.addTo(n0, () => f.i32(2));
    },
  );
  // A last odd output, scalar: for each row, init + sum over k.
  f.loop(
    () => {
      f.get(n0);
      f.get(N);
      f.op(LT_S);
    },
    () => {
      f.i32(0);
      f.set(r0);
      f.loop(
        () => {
          f.get(r0);
          f.get(ROWS);
          f.op(LT_S);
        },
        () => {
          f.ifElse(
            () => {
              f.get(BIAS);
              f.i32(0);
              f.op(GE_S);
            },
            () => {
              f.get(BIAS);
              f.get(n0);
              f.op(ADD);
              f.i32(3);
              f.op(SHL);
              f.op(...F64_LOAD);
              f.set(sacc);
            },
            () => {
              f.op(0x44, 0, 0, 0, 0, 0, 0, 0, 0); // f64.const 0
              f.set(sacc);
            },
          );
          f.get(A);
          f.get(r0);
          f.get(arsb);
          f.op(MUL);
          f.op(ADD);
          f.set(pa);
          f.get(B);
          f.get(n0);
          f.i32(3);
          f.op(SHL);
          f.op(ADD);
          f.set(pb);
          f.i32(0);
          f.set(k);
          f.loop(
            () => {
              f.get(k);
              f.get(K);
              f.op(LT_S);
            },
            () => {
              f.get(sacc);
              f.get(pa);
              f.op(...F64_LOAD);
              f.get(pb);
              f.op(...F64_LOAD);
              f.op(F64_MUL);
              f.op(F64_ADD);
              f.set(sacc);
              f.addTo(pa, () => f.get(acsb));
              f.addTo(pb, () => f.get(nb));
              f.addTo(k, () => f.i32(1));
            },
          );
          f.get(C);
          f.get(r0);
          f.get(nb);
          f.op(MUL);
          f.op(ADD);
          f.get(n0);
          f.i32(3);
          f.op(SHL);
          f.op(ADD);
          f.get(sacc);
          f.op(...F64_STORE);
          f.addTo(r0, () => f.i32(1));
        },
      );
      f.addTo(n0, () => f.i32(1));
    },
  );
  return f;
}

function moduleBytes(): Uint8Array {
  return assembleModule([
    { name: 'gemm', body: gemmBody() },
    { name: 'relu', body: reluBody() },
    { name: 'inactiveZero', body: inactiveZeroBody() },
    { name: 'regularize', body: regularizeBody() },
    { name: 'adam', body: adamBody() },
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
export function gemmPlain(mem: Float64Array, c: number, a: number, b: number, bias: number, rows: number, k: number, n: number, ars: number, acs: number): void {
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < n; o++) {
      let s = bias >= 0 ? mem[bias + o] : 0;
      for (let i = 0; i < k; i++) s += mem[a + r * ars + i * acs] * mem[b + i * n + o];
      mem[c + r * n + o] = s;
    }
  }
}
