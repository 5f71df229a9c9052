/**
 * What the training gemm's body (gemmPackedWasm.ts) and its packing (gemmPacking.ts) are written with: the
 * function's parameters and locals by name, and small emitters for the structured control and address arithmetic
 * they repeat (on top of wasmAssembler.ts's Body).
 */
import { ADD, Body, F64, F64_LOAD, F64_STORE, GE_S, I32, LOAD64_SPLAT, LT_S, SHL, uleb, V128 } from '../numeric/wasmAssembler.js';

/** Steps of k per block: the B panel (KC x NR doubles, 16 kB) stays in the core's first cache while the rows pass. */
export const KC = 256;
/**
 * Register tile: MR rows x NR outputs. V8 loads a step's operands before its arithmetic, so the accumulators,
 * the NR / 2 B vectors, the MR splats and a product must fit the 15 SIMD registers it gives on x64: 2 x 8 takes
 * exactly 15 (4 x 4 as many, and ran 7 % slower here; 5 x 4 spilled and ran 3 times slower, and 2 x 8 with k
 * unrolled by 2 or 4, whose loads all come first, 1.6 times slower).
 */
export const MR = 2;
export const NR = 8;
export const VECS = NR / 2;

export const SUB = 0x6b;
export const AND = 0x71;
export const OR = 0x72;
export const EQ = 0x46;
export const NE = 0x47;
export const GT_S = 0x4a;
export const DIV_S = 0x6d;
export const SELECT = 0x1b;
export const F64_LE = 0x65;
export const F64_CONST_0 = [0x44, 0, 0, 0, 0, 0, 0, 0, 0];

/** Memory access immediates: alignment 2^3, offset `bytes`. */
function memarg(bytes: number): number[] {
  return [0x03, ...uleb(bytes)];
}
export const loadF64 = (bytes: number) => [F64_LOAD[0], ...memarg(bytes)];
export const storeF64 = (bytes: number) => [F64_STORE[0], ...memarg(bytes)];
export const splat64 = (bytes: number) => [...LOAD64_SPLAT.slice(0, 2), ...memarg(bytes)];

/** The body under construction with its parameters (in doubles, then bytes) and locals, and the emitters. */
export function gemmScope() {
  const f = new Body(new Array<number>(14).fill(I32));
  const [C, A, B, BIAS, ROWS, K, N, ARS, ACS, BRS, BCS, SCRATCH, RELU, MASK] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
  const local = () => f.local(I32);
  const [nb, arsb, acsb, brsb, bcsb, tb, bp, ap, k0, kc, first, n0, nv, r0, rv] = Array.from({ length: 15 }, local);
  const [gstride, pa, qa, pb, pe, src, dst, end, r, j, row, reluOn, maskOn] = Array.from({ length: 13 }, local);
  const acc = Array.from({ length: MR * VECS }, () => f.local(V128));
  const bv = Array.from({ length: VECS }, () => f.local(V128));
  const s = f.local(V128);
  const x = f.local(F64);
  const op = (...bytes: number[]) => f.op(...bytes);
  const get = (...ls: number[]) => ls.forEach((l) => f.get(l));
  return {
    f,
    ...{ C, A, B, BIAS, ROWS, K, N, ARS, ACS, BRS, BCS, SCRATCH, RELU, MASK },
    ...{ nb, arsb, acsb, brsb, bcsb, tb, bp, ap, k0, kc, first, n0, nv, r0, rv },
    ...{ gstride, pa, qa, pb, pe, src, dst, end, r, j, row, reluOn, maskOn, acc, bv, s, x },
    op,
    get,
    /** into = from << 3 (doubles to bytes). */
    bytesOf(from: number, into: number) {
      get(from);
      f.i32(3);
      op(SHL);
      f.set(into);
    },
    /** while (l < bound) body */
    whileLt(l: number, bound: () => void, body: () => void) {
      f.loop(() => {
        get(l);
        bound();
        op(LT_S);
      }, body);
    },
    /**
     * while (dst < end) { copy `moves` values at offsets 0, width, 2 width, ... from src to dst; src += srcStep;
     * dst += dstStep }: the packing copies, with the load and store of one value (f64 or v128) and its width.
     */
    copyRun(load: (bytes: number) => number[], store: (bytes: number) => number[], width: number, moves: number, srcStep: () => void, dstStep: number) {
      this.whileLt(
        dst,
        () => get(end),
        () => {
          for (let v = 0; v < moves; v++) {
            get(dst, src);
            op(...load(v * width));
            op(...store(v * width));
          }
          f.addTo(src, srcStep);
          f.addTo(dst, () => f.i32(dstStep));
        },
      );
    },
    when(cond: () => void, a: () => void, b: () => void = () => undefined) {
      f.ifElse(cond, a, b);
    },
    /** if (cond) a else b, as an expression of type f64. */
    ifF64(cond: () => void, a: () => void, b: () => void) {
      cond();
      op(0x04, F64);
      a();
      op(0x05);
      b();
      op(0x0b);
    },
    /** Pushes l == v. */
    eq(l: number, v: number) {
      get(l);
      f.i32(v);
      op(EQ);
    },
    /** Pushes a < b. */
    lt(a: number, b: number) {
      get(a, b);
      op(LT_S);
    },
    /** Pushes bias >= 0 (a bias is given). */
    hasBias() {
      get(BIAS);
      f.i32(0);
      op(GE_S);
    },
    /** into = min(cap, into) */
    minInto(into: number, cap: number) {
      f.i32(cap);
      get(into);
      f.i32(cap);
      get(into);
      op(LT_S);
      op(SELECT);
      f.set(into);
    },
    /** Pushes p + (index << 3). */
    at(p: number, index: number) {
      get(p, index);
      f.i32(3);
      op(SHL);
      op(ADD);
    },
  };
}

export type GemmScope = ReturnType<typeof gemmScope>;
