/**
 * The body of the training matrix product (gemmWasm.ts's `gemm`), blocked and packed in the manner of Goto and van
 * de Geijn (2008, "Anatomy of high-performance matrix multiplication"), without changing any sum:
 *
 *   C[r * N + n] = init + sum over k = 0 .. K-1 of A[r * ars + k * acs] * B[k * brs + n * bcs]
 *
 * - k runs in blocks of KC; the first block starts each output at its bias (or zero), a later one at the value the
 *   block before stored, so every output is still one sum in the order k = 0, 1, ..., K-1 (storing and reloading
 *   a double changes nothing).
 * - Per block, each panel of 8 outputs of B is copied into a contiguous scratch panel (KC x 8, zero beyond N): the
 *   micro-kernel then reads B at fixed offsets from one pointer (no per-step address arithmetic, no cache-set
 *   aliasing of a 256-wide row stride), and a strided B (a transposed weight matrix) costs one copy, not a pass.
 * - A is read in place when its k stride is 1; otherwise (the weight gradient's A^T) the block is first copied
 *   row-major into scratch.
 * - The micro-kernel holds 2 rows x 8 outputs in 8 f64x2 accumulators (with the 4 B vectors, a splat and a
 *   temporary, the 15 registers V8 gives SIMD on x64) and runs 4 steps of k per turn with immediate offsets. A
 *   lone last row runs as a pair of the same row (the same values stored twice to the same place).
 * Each lane is its own output: multiply and add are separate instructions, as in the plain loop.
 */
import { ADD, Body, F64, F64_LOAD, F64_STORE, F64X2_ADD, F64X2_MUL, GE_S, I32, LOAD64_SPLAT, LT_S, MUL, SHL, V128, V128_ZERO, v128Load, v128Store } from '../numeric/wasmAssembler.js';

/** Steps of k per block: a scratch panel of KC x 8 doubles (16 kB) stays in the core's first cache. */
export const KC = 256;
/** Outputs per panel and rows per tile. */
const NR = 8;
const UNROLL = 1;

const SUB = 0x6b;
const AND = 0x71;
const EQ = 0x46;
const SELECT = 0x1b;
const F64_CONST_0 = [0x44, 0, 0, 0, 0, 0, 0, 0, 0];

/**
 * Doubles of scratch `gemm` needs (a tile buffer, the B panel, and A's block when A's k stride is not 1) for
 * products whose A, when its k stride is not 1, has at most `rows` rows. It must not overlap A, B, C or the bias.
 */
export function gemmScratchDoubles(rows: number): number {
  return 2 * NR + KC * NR + rows * KC;
}

/** Parameters, in doubles: (c, a, b, bias, rows, k, n, ars, acs, brs, bcs, scratch); bias < 0 starts at zero. */
export function packedGemmBody(): Body {
  const f = new Body(new Array<number>(12).fill(I32));
  const [C, A, B, BIAS, ROWS, K, N, ARS, ACS, BRS, BCS, SCRATCH] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const i32 = () => f.local(I32);
  const [nb, arsb, acsb, brsb, bcsb, tb, bp, ap, k0, kc, first, n0, nv, r0] = Array.from({ length: 14 }, i32);
  const [abase, astride, pa0, pa1, c0, c1, pb, pe4, pe, src, dst, i, j, end] = Array.from({ length: 14 }, i32);
  const acc = Array.from({ length: 2 * (NR / 2) }, () => f.local(V128));
  const bv = Array.from({ length: NR / 2 }, () => f.local(V128));
  const s = f.local(V128);
  const op = (...bytes: number[]) => f.op(...bytes);
  const bytes = (from: number, into: number) => {
    f.get(from);
    f.i32(3);
    op(SHL);
    f.set(into);
  };
  const whileLt = (l: number, bound: () => void, body: () => void) =>
    f.loop(
      () => {
        f.get(l);
        bound();
        op(LT_S);
      },
      body,
    );
  const when = (cond: () => void, a: () => void, b: () => void = () => undefined) => f.ifElse(cond, a, b);
  /** if (cond) a else b, as an expression of type f64. */
  const ifF64 = (cond: () => void, a: () => void, b: () => void) => {
    cond();
    op(0x04, F64);
    a();
    op(0x05);
    b();
    op(0x0b);
  };
  const eq = (l: number, v: number) => {
    f.get(l);
    f.i32(v);
    op(EQ);
  };

  for (const [from, into] of [
    [N, nb],
    [ARS, arsb],
    [ACS, acsb],
    [BRS, brsb],
    [BCS, bcsb],
    [C, C],
    [A, A],
    [B, B],
    [BIAS, BIAS],
    [SCRATCH, tb],
  ] as const) {
    if (from === BIAS) {
      // A negative bias (no bias) stays negative: only its sign is asked after this.
      when(
        () => {
          f.get(BIAS);
          f.i32(0);
          op(GE_S);
        },
        () => bytes(BIAS, BIAS),
      );
    } else bytes(from, into);
  }
  // Scratch: tile buffer (2 x 8 doubles), B panel (KC x 8), A block (rows x KC).
  f.get(tb);
  f.i32(2 * NR * 8);
  op(ADD);
  f.set(bp);
  f.get(bp);
  f.i32(KC * NR * 8);
  op(ADD);
  f.set(ap);

  /** The micro-kernel's k loop over the packed panel: `steps` steps per turn while `pb` < `limit`. */
  const kLoop = (steps: number, limit: number) =>
    whileLt(
      pb,
      () => f.get(limit),
      () => {
        for (let u = 0; u < steps; u++) {
          for (let v = 0; v < NR / 2; v++) {
            f.get(pb);
            op(...v128Load(u * NR * 8 + v * 16));
            f.set(bv[v]);
          }
          for (const [r, p] of [
            [0, pa0],
            [1, pa1],
          ] as const) {
            f.get(p);
            op(...LOAD64_SPLAT.slice(0, 3), ...uleb8(u));
            f.set(s);
            for (let v = 0; v < NR / 2; v++) {
              const a = acc[r * (NR / 2) + v];
              f.get(a);
              f.get(s);
              f.get(bv[v]);
              op(...F64X2_MUL);
              op(...F64X2_ADD);
              f.set(a);
            }
          }
        }
        f.addTo(pb, () => f.i32(steps * NR * 8));
        f.addTo(pa0, () => f.i32(steps * 8));
        f.addTo(pa1, () => f.i32(steps * 8));
      },
    );

  /** tb[row * 8 + j] = (j < nv ? value(row, j address) : 0) for both rows, then the accumulators from tb. */
  const initThroughBuffer = (value: (row: number) => void) => {
    for (const row of [0, 1]) {
      f.i32(0);
      f.set(j);
      whileLt(
        j,
        () => f.i32(NR),
        () => {
          f.get(tb);
          f.get(j);
          f.i32(3);
          op(SHL);
          op(ADD);
          ifF64(
            () => {
              f.get(j);
              f.get(nv);
              op(LT_S);
            },
            () => value(row),
            () => op(...F64_CONST_0),
          );
          op(...F64_STORE.slice(0, 1), 0x03, ...uleb8(row * NR));
          f.addTo(j, () => f.i32(1));
        },
      );
    }
    for (let r = 0; r < 2; r++) {
      for (let v = 0; v < NR / 2; v++) {
        f.get(tb);
        op(...v128Load(r * NR * 8 + v * 16));
        f.set(acc[r * (NR / 2) + v]);
      }
    }
  };

  f.i32(0);
  f.set(k0);
  // Blocks of k (at least one, so that K = 0 still stores the bias).
  f.loop(
    () => {
      f.get(k0);
      f.i32(0);
      op(EQ);
      f.get(k0);
      f.get(K);
      op(LT_S);
      op(0x72); // i32.or
    },
    () => {
      // kc = min(KC, K - k0); first = k0 == 0
      f.get(K);
      f.get(k0);
      op(SUB);
      f.set(kc);
      f.i32(KC);
      f.get(kc);
      f.i32(KC);
      f.get(kc);
      op(LT_S);
      op(SELECT);
      f.set(kc);
      eq(k0, 0);
      f.set(first);
      // A's block: in place when its k stride is 1, else copied row-major into scratch (k outer: reads in order
      // when A is a transposed matrix, ars = 1).
      when(
        () => eq(ACS, 1),
        () => {
          f.get(A);
          f.get(k0);
          f.i32(3);
          op(SHL);
          op(ADD);
          f.set(abase);
          f.get(arsb);
          f.set(astride);
        },
        () => {
          f.get(ap);
          f.set(abase);
          f.get(kc);
          f.i32(3);
          op(SHL);
          f.set(astride);
          f.i32(0);
          f.set(i);
          whileLt(
            i,
            () => f.get(kc),
            () => {
              // src = A + (k0 + i) * acs, dst = ap + i
              f.get(A);
              f.get(k0);
              f.get(i);
              op(ADD);
              f.get(acsb);
              op(MUL);
              op(ADD);
              f.set(src);
              f.get(ap);
              f.get(i);
              f.i32(3);
              op(SHL);
              op(ADD);
              f.set(dst);
              f.i32(0);
              f.set(j);
              whileLt(
                j,
                () => f.get(ROWS),
                () => {
                  f.get(dst);
                  f.get(src);
                  op(...F64_LOAD);
                  op(...F64_STORE);
                  f.addTo(src, () => f.get(arsb));
                  f.addTo(dst, () => f.get(astride));
                  f.addTo(j, () => f.i32(1));
                },
              );
              f.addTo(i, () => f.i32(1));
            },
          );
        },
      );
      f.i32(0);
      f.set(n0);
      whileLt(
        n0,
        () => f.get(N),
        () => {
          // nv = min(8, N - n0)
          f.get(N);
          f.get(n0);
          op(SUB);
          f.set(nv);
          f.i32(NR);
          f.get(nv);
          f.i32(NR);
          f.get(nv);
          op(LT_S);
          op(SELECT);
          f.set(nv);
          // The B panel: bp[k * 8 + j] = B[(k0 + k) * brs + (n0 + j) * bcs] for j < nv, zero beyond.
          when(
            () => {
              eq(BCS, 1);
              eq(nv, NR);
              op(AND);
            },
            () => {
              f.get(B);
              f.get(k0);
              f.get(brsb);
              op(MUL);
              op(ADD);
              f.get(n0);
              f.i32(3);
              op(SHL);
              op(ADD);
              f.set(src);
              f.get(bp);
              f.set(dst);
              f.get(bp);
              f.get(kc);
              f.i32(6);
              op(SHL);
              op(ADD);
              f.set(end);
              whileLt(
                dst,
                () => f.get(end),
                () => {
                  for (let v = 0; v < NR / 2; v++) {
                    f.get(dst);
                    f.get(src);
                    op(...v128Load(v * 16));
                    op(...v128Store(v * 16));
                  }
                  f.addTo(src, () => f.get(brsb));
                  f.addTo(dst, () => f.i32(NR * 8));
                },
              );
            },
            () => {
              f.i32(0);
              f.set(j);
              whileLt(
                j,
                () => f.i32(NR),
                () => {
                  f.get(bp);
                  f.get(j);
                  f.i32(3);
                  op(SHL);
                  op(ADD);
                  f.set(dst);
                  f.get(dst);
                  f.get(kc);
                  f.i32(6);
                  op(SHL);
                  op(ADD);
                  f.set(end);
                  when(
                    () => {
                      f.get(j);
                      f.get(nv);
                      op(LT_S);
                    },
                    () => {
                      f.get(B);
                      f.get(k0);
                      f.get(brsb);
                      op(MUL);
                      op(ADD);
                      f.get(n0);
                      f.get(j);
                      op(ADD);
                      f.get(bcsb);
                      op(MUL);
                      op(ADD);
                      f.set(src);
                      whileLt(
                        dst,
                        () => f.get(end),
                        () => {
                          f.get(dst);
                          f.get(src);
                          op(...F64_LOAD);
                          op(...F64_STORE);
                          f.addTo(src, () => f.get(brsb));
                          f.addTo(dst, () => f.i32(NR * 8));
                        },
                      );
                    },
                    () =>
                      whileLt(
                        dst,
                        () => f.get(end),
                        () => {
                          f.get(dst);
                          op(...F64_CONST_0);
                          op(...F64_STORE);
                          f.addTo(dst, () => f.i32(NR * 8));
                        },
                      ),
                  );
                  f.addTo(j, () => f.i32(1));
                },
              );
            },
          );
          f.i32(0);
          f.set(r0);
          whileLt(
            r0,
            () => f.get(ROWS),
            () => {
              // Row pointers into A and C; a lone last row is paired with itself.
              f.get(abase);
              f.get(r0);
              f.get(astride);
              op(MUL);
              op(ADD);
              f.set(pa0);
              f.get(C);
              f.get(r0);
              f.get(nb);
              op(MUL);
              op(ADD);
              f.get(n0);
              f.i32(3);
              op(SHL);
              op(ADD);
              f.set(c0);
              const two = () => {
                f.get(r0);
                f.i32(1);
                op(ADD);
                f.get(ROWS);
                op(LT_S);
              };
              f.get(pa0);
              f.get(astride);
              op(ADD);
              f.get(pa0);
              two();
              op(SELECT);
              f.set(pa1);
              f.get(c0);
              f.get(nb);
              op(ADD);
              f.get(c0);
              two();
              op(SELECT);
              f.set(c1);
              // Accumulators: the bias (first block) or the stored partial sums (later blocks).
              when(
                () => eq(nv, NR),
                () =>
                  when(
                    () => f.get(first),
                    () =>
                      when(
                        () => {
                          f.get(BIAS);
                          f.i32(0);
                          op(GE_S);
                        },
                        () => {
                          for (let v = 0; v < NR / 2; v++) {
                            f.get(BIAS);
                            f.get(n0);
                            f.i32(3);
                            op(SHL);
                            op(ADD);
                            op(...v128Load(v * 16));
                            f.set(acc[v]);
                            f.get(acc[v]);
                            f.set(acc[NR / 2 + v]);
                          }
                        },
                        () => {
                          for (const a of acc) {
                            op(...V128_ZERO);
                            f.set(a);
                          }
                        },
                      ),
                    () => {
                      for (const [r, p] of [
                        [0, c0],
                        [1, c1],
                      ] as const) {
                        for (let v = 0; v < NR / 2; v++) {
                          f.get(p);
                          op(...v128Load(v * 16));
                          f.set(acc[r * (NR / 2) + v]);
                        }
                      }
                    },
                  ),
                () =>
                  initThroughBuffer((row) =>
                    ifF64(
                      () => f.get(first),
                      () =>
                        ifF64(
                          () => {
                            f.get(BIAS);
                            f.i32(0);
                            op(GE_S);
                          },
                          () => {
                            f.get(BIAS);
                            f.get(n0);
                            f.get(j);
                            op(ADD);
                            f.i32(3);
                            op(SHL);
                            op(ADD);
                            op(...F64_LOAD);
                          },
                          () => op(...F64_CONST_0),
                        ),
                      () => {
                        f.get(row === 0 ? c0 : c1);
                        f.get(j);
                        f.i32(3);
                        op(SHL);
                        op(ADD);
                        op(...F64_LOAD);
                      },
                    ),
                  ),
              );
              f.get(bp);
              f.set(pb);
              f.get(bp);
              f.get(kc);
              f.i32(-UNROLL);
              op(AND);
              f.i32(6);
              op(SHL);
              op(ADD);
              f.set(pe4);
              f.get(bp);
              f.get(kc);
              f.i32(6);
              op(SHL);
              op(ADD);
              f.set(pe);
              kLoop(UNROLL, pe4);
              kLoop(1, pe);
              // Store: straight into C for a full panel, else through the tile buffer, j < nv only.
              when(
                () => eq(nv, NR),
                () => {
                  for (const [r, p] of [
                    [0, c0],
                    [1, c1],
                  ] as const) {
                    for (let v = 0; v < NR / 2; v++) {
                      f.get(p);
                      f.get(acc[r * (NR / 2) + v]);
                      op(...v128Store(v * 16));
                    }
                  }
                },
                () => {
                  for (let r = 0; r < 2; r++) {
                    for (let v = 0; v < NR / 2; v++) {
                      f.get(tb);
                      f.get(acc[r * (NR / 2) + v]);
                      op(...v128Store(r * NR * 8 + v * 16));
                    }
                  }
                  for (const [r, p] of [
                    [0, c0],
                    [1, c1],
                  ] as const) {
                    f.i32(0);
                    f.set(j);
                    whileLt(
                      j,
                      () => f.get(nv),
                      () => {
                        f.get(p);
                        f.get(j);
                        f.i32(3);
                        op(SHL);
                        op(ADD);
                        f.get(tb);
                        f.get(j);
                        f.i32(3);
                        op(SHL);
                        op(ADD);
                        op(F64_LOAD[0], 0x03, ...uleb8(r * NR));
                        op(...F64_STORE);
                        f.addTo(j, () => f.i32(1));
                      },
                    );
                  }
                },
              );
              f.addTo(r0, () => f.i32(2));
            },
          );
          f.addTo(n0, () => f.i32(NR));
        },
      );
      f.addTo(k0, () => f.i32(KC));
    },
  );
  return f;
}

/** A memory offset immediate of `doubles` doubles (uleb128 of the byte offset). */
function uleb8(doubles: number): number[] {
  const out: number[] = [];
  let v = doubles * 8;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}
