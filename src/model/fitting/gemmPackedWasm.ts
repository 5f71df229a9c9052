/**
 * The body of the training matrix product (gemmWasm.ts's `gemm`), blocked and packed in the manner of Goto and van
 * de Geijn (2008, "Anatomy of high-performance matrix multiplication"), without changing any sum:
 *
 *   C[r * N + n] = init + sum over k = 0 .. K-1 of A[r * ars + k * acs] * B[k * brs + n * bcs]
 *
 * - k runs in blocks of KC; the first block starts each output at its bias (or zero), a later one at the value the
 *   block before stored, so every output is still one sum in the order k = 0, 1, ..., K-1 (storing and reloading
 *   a double changes nothing).
 * - Per block, A is copied into scratch in groups of MR rows, interleaved (the MR values of one k side by side),
 *   and each panel of NR outputs of B into a contiguous scratch panel (KC x NR): the micro-kernel then reads both
 *   from one pointer each at fixed offsets, whatever A's and B's strides (a transposed matrix costs one copy, not
 *   a strided pass per tile, and a 256-wide row stride cannot alias the cache's sets). Rows and outputs beyond the
 *   matrix are padded (a repeated row, zero outputs) and never stored.
 * - The micro-kernel holds MR rows x NR outputs in f64x2 accumulators, each lane its own output, with a separate
 *   multiply and add as in the plain loop.
 */
import { ADD, Body, F64, F64_LOAD, F64_STORE, F64X2_ADD, F64X2_MUL, GE_S, I32, LOAD64_SPLAT, LT_S, MUL, SHL, V128, V128_ZERO, v128Load, v128Store } from '../numeric/wasmAssembler.js';

/** Steps of k per block: the B panel (KC x NR doubles, 8 kB) stays in the core's first cache while the rows pass. */
export const KC = 256;
/**
 * Register tile: MR rows x NR outputs. V8 gives SIMD 15 registers on x64: 5 x 4 takes 10 accumulators, 2 B
 * vectors, a splat and a product, and loads 7 values per 10 vector multiply-adds (2 x 8: 6 per 8, more loop
 * overhead per product; 6 x 4 or 3 x 8 spill).
 */
const MR = 2;
const NR = 8;
const VECS = NR / 2;

const SUB = 0x6b;
const AND = 0x71;
const OR = 0x72;
const EQ = 0x46;
const SELECT = 0x1b;
const F64_CONST_0 = [0x44, 0, 0, 0, 0, 0, 0, 0, 0];

/**
 * Doubles of scratch `gemm` needs for products of at most `rows` rows: a tile buffer, the B panel and A's packed
 * block. It must not overlap A, B, C or the bias.
 */
export function gemmScratchDoubles(rows: number): number {
  return MR * NR + KC * NR + Math.ceil(rows / MR) * MR * KC;
}

/** Memory access immediates: alignment 2^3, offset `bytes`. */
const memarg = (bytes: number): number[] => {
  const out = [0x03];
  let v = bytes;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
};
const loadF64 = (bytes: number) => [F64_LOAD[0], ...memarg(bytes)];
const storeF64 = (bytes: number) => [F64_STORE[0], ...memarg(bytes)];
const splat64 = (bytes: number) => [...LOAD64_SPLAT.slice(0, 2), ...memarg(bytes)];

/** Parameters, in doubles: (c, a, b, bias, rows, k, n, ars, acs, brs, bcs, scratch); bias < 0 starts at zero. */
export function packedGemmBody(): Body {
  const f = new Body(new Array<number>(12).fill(I32));
  const [C, A, B, BIAS, ROWS, K, N, ARS, ACS, BRS, BCS, SCRATCH] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const local = () => f.local(I32);
  const [nb, arsb, acsb, brsb, bcsb, tb, bp, ap, k0, kc, first, n0, nv, r0, rv] = Array.from({ length: 15 }, local);
  const [gstride, pa, qa, pb, pe, src, dst, end, r, j, row] = Array.from({ length: 11 }, local);
  const acc = Array.from({ length: MR * VECS }, () => f.local(V128));
  const bv = Array.from({ length: VECS }, () => f.local(V128));
  const s = f.local(V128);
  const op = (...bytes: number[]) => f.op(...bytes);
  const get = (...ls: number[]) => ls.forEach((l) => f.get(l));
  const bytesOf = (from: number, into: number) => {
    get(from);
    f.i32(3);
    op(SHL);
    f.set(into);
  };
  const whileLt = (l: number, bound: () => void, body: () => void) =>
    f.loop(() => {
      get(l);
      bound();
      op(LT_S);
    }, body);
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
    get(l);
    f.i32(v);
    op(EQ);
  };
  const lt = (a: number, b: number) => {
    get(a, b);
    op(LT_S);
  };
  const hasBias = () => {
    get(BIAS);
    f.i32(0);
    op(GE_S);
  };
  /** into = min(cap, l) */
  const minInto = (into: number, cap: number) => {
    f.i32(cap);
    get(into);
    f.i32(cap);
    get(into);
    op(LT_S);
    op(SELECT);
    f.set(into);
  };
  /** Pushes p + (index << 3). */
  const at = (p: number, index: number) => {
    get(p, index);
    f.i32(3);
    op(SHL);
    op(ADD);
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
    [SCRATCH, tb],
  ] as const) {
    bytesOf(from, into);
  }
  // A negative bias (no bias) stays negative: only its sign is asked after this.
  when(hasBias, () => bytesOf(BIAS, BIAS));
  // Scratch: the tile buffer (MR x NR), the B panel (KC x NR), A's groups (MR x KC each).
  get(tb);
  f.i32(MR * NR * 8);
  op(ADD);
  f.set(bp);
  get(bp);
  f.i32(KC * NR * 8);
  op(ADD);
  f.set(ap);

  /** A's block: group g holds rows g MR .. g MR + MR - 1 (the last valid row repeated) as [k][MR]. */
  const packA = () => {
    get(kc);
    f.i32(MR * 8);
    op(MUL);
    f.set(gstride);
    f.i32(0);
    f.set(r);
    // r runs over every row of every group, padding included; dst = ap + (r / MR) gstride + (r % MR) 8.
    get(ap);
    f.set(pa);
    whileLt(
      r,
      () => {
        get(ROWS);
        f.i32(MR - 1);
        op(ADD);
        f.i32(MR);
        op(0x6d); // i32.div_s
        f.i32(MR);
        op(MUL);
      },
      () => {
        for (let m = 0; m < MR; m++) {
          // row = min(r + m, ROWS - 1)
          get(r);
          f.i32(m);
          op(ADD);
          get(ROWS);
          f.i32(1);
          op(SUB);
          get(r);
          f.i32(m);
          op(ADD);
          get(ROWS);
          op(LT_S);
          op(SELECT);
          f.set(row);
          get(A, row, arsb);
          op(MUL);
          op(ADD);
          get(k0, acsb);
          op(MUL);
          op(ADD);
          f.set(src);
          get(pa);
          f.i32(m * 8);
          op(ADD);
          f.set(dst);
          get(dst, gstride);
          op(ADD);
          f.set(end);
          whileLt(
            dst,
            () => get(end),
            () => {
              get(dst, src);
              op(...loadF64(0));
              op(...storeF64(0));
              f.addTo(src, () => get(acsb));
              f.addTo(dst, () => f.i32(MR * 8));
            },
          );
        }
        f.addTo(pa, () => get(gstride));
        f.addTo(r, () => f.i32(MR));
      },
    );
  };

  /** The B panel: bp[k][j] = B[(k0 + k) brs + (n0 + j) bcs] for j < nv, zero beyond. */
  const packPanel = () =>
    when(
      () => {
        eq(BCS, 1);
        eq(nv, NR);
        op(AND);
      },
      () => {
        // Contiguous rows of B: NR / 2 vector copies per k.
        get(B, k0, brsb);
        op(MUL);
        op(ADD);
        get(n0);
        f.i32(3);
        op(SHL);
        op(ADD);
        f.set(src);
        get(bp);
        f.set(dst);
        get(bp, kc);
        f.i32(NR * 8);
        op(MUL);
        op(ADD);
        f.set(end);
        whileLt(
          dst,
          () => get(end),
          () => {
            for (let v = 0; v < VECS; v++) {
              get(dst, src);
              op(...v128Load(v * 16));
              op(...v128Store(v * 16));
            }
            f.addTo(src, () => get(brsb));
            f.addTo(dst, () => f.i32(NR * 8));
          },
        );
      },
      () => {
        for (let m = 0; m < NR; m++) {
          get(bp);
          f.i32(m * 8);
          op(ADD);
          f.set(dst);
          get(dst, kc);
          f.i32(NR * 8);
          op(MUL);
          op(ADD);
          f.set(end);
          when(
            () => {
              get(nv);
              f.i32(m);
              op(0x4a); // i32.gt_s
            },
            () => {
              get(B, k0, brsb);
              op(MUL);
              op(ADD);
              get(n0);
              f.i32(m);
              op(ADD);
              get(bcsb);
              op(MUL);
              op(ADD);
              f.set(src);
              whileLt(
                dst,
                () => get(end),
                () => {
                  get(dst, src);
                  op(...loadF64(0));
                  op(...storeF64(0));
                  f.addTo(src, () => get(brsb));
                  f.addTo(dst, () => f.i32(NR * 8));
                },
              );
            },
            () =>
              whileLt(
                dst,
                () => get(end),
                () => {
                  get(dst);
                  op(...F64_CONST_0);
                  op(...storeF64(0));
                  f.addTo(dst, () => f.i32(NR * 8));
                },
              ),
          );
        }
      },
    );

  /** Pushes the address of C[r0 + rr][n0]. */
  const cRow = (rr: number | null) => {
    get(C, r0);
    if (rr !== null) {
      f.i32(rr);
      op(ADD);
    } else {
      get(r);
      op(ADD);
    }
    get(nb);
    op(MUL);
    op(ADD);
    get(n0);
    f.i32(3);
    op(SHL);
    op(ADD);
  };
  const full = () => {
    eq(nv, NR);
    eq(rv, MR);
    op(AND);
  };

  /** Accumulators at the bias (first block) or at the sums stored so far (later blocks). */
  const initTile = () =>
    when(
      full,
      () =>
        when(
          () => get(first),
          () =>
            when(
              hasBias,
              () => {
                for (let v = 0; v < VECS; v++) {
                  at(BIAS, n0);
                  op(...v128Load(v * 16));
                  f.set(acc[v]);
                  for (let m = 1; m < MR; m++) {
                    get(acc[v]);
                    f.set(acc[m * VECS + v]);
                  }
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
            for (let m = 0; m < MR; m++) {
              cRow(m);
              f.set(src);
              for (let v = 0; v < VECS; v++) {
                get(src);
                op(...v128Load(v * 16));
                f.set(acc[m * VECS + v]);
              }
            }
          },
        ),
      () => {
        // A tile at an edge: tb[r][j] = init for r < rv and j < nv, zero elsewhere; then the accumulators from tb.
        f.i32(0);
        f.set(r);
        whileLt(
          r,
          () => f.i32(MR),
          () => {
            f.i32(0);
            f.set(j);
            whileLt(
              j,
              () => f.i32(NR),
              () => {
                // dst = tb + (r NR + j) 8
                get(r);
                f.i32(NR);
                op(MUL);
                get(j);
                op(ADD);
                f.set(dst);
                at(tb, dst);
                ifF64(
                  () => {
                    lt(r, rv);
                    lt(j, nv);
                    op(AND);
                  },
                  () =>
                    ifF64(
                      () => get(first),
                      () => ifF64(hasBias, () => {
                        get(BIAS);
                        get(n0, j);
                        op(ADD);
                        f.i32(3);
                        op(SHL);
                        op(ADD);
                        op(...loadF64(0));
                      }, () => op(...F64_CONST_0)),
                      () => {
                        cRow(null);
                        get(j);
                        f.i32(3);
                        op(SHL);
                        op(ADD);
                        op(...loadF64(0));
                      },
                    ),
                  () => op(...F64_CONST_0),
                );
                op(...storeF64(0));
                f.addTo(j, () => f.i32(1));
              },
            );
            f.addTo(r, () => f.i32(1));
          },
        );
        for (let m = 0; m < MR; m++) {
          for (let v = 0; v < VECS; v++) {
            get(tb);
            op(...v128Load((m * NR + 2 * v) * 8));
            f.set(acc[m * VECS + v]);
          }
        }
      },
    );

  const storeTile = () =>
    when(
      full,
      () => {
        for (let m = 0; m < MR; m++) {
          cRow(m);
          f.set(dst);
          for (let v = 0; v < VECS; v++) {
            get(dst, acc[m * VECS + v]);
            op(...v128Store(v * 16));
          }
        }
      },
      () => {
        for (let m = 0; m < MR; m++) {
          for (let v = 0; v < VECS; v++) {
            get(tb, acc[m * VECS + v]);
            op(...v128Store((m * NR + 2 * v) * 8));
          }
        }
        f.i32(0);
        f.set(r);
        whileLt(
          r,
          () => get(rv),
          () => {
            f.i32(0);
            f.set(j);
            whileLt(
              j,
              () => get(nv),
              () => {
                cRow(null);
                get(j);
                f.i32(3);
                op(SHL);
                op(ADD);
                get(r);
                f.i32(NR);
                op(MUL);
                get(j);
                op(ADD);
                f.set(src);
                at(tb, src);
                op(...loadF64(0));
                op(...storeF64(0));
                f.addTo(j, () => f.i32(1));
              },
            );
            f.addTo(r, () => f.i32(1));
          },
        );
      },
    );

  /** One step of k per turn: NR / 2 B vectors, then each row's A value splatted, multiplied and added. */
  const microKernel = () => {
    get(bp);
    f.set(pb);
    get(bp, kc);
    f.i32(NR * 8);
    op(MUL);
    op(ADD);
    f.set(pe);
    get(pa);
    f.set(qa);
    whileLt(
      pb,
      () => get(pe),
      () => {
        for (let v = 0; v < VECS; v++) {
          get(pb);
          op(...v128Load(v * 16));
          f.set(bv[v]);
        }
        for (let m = 0; m < MR; m++) {
          get(qa);
          op(...splat64(m * 8));
          f.set(s);
          for (let v = 0; v < VECS; v++) {
            const a = acc[m * VECS + v];
            get(a, s, bv[v]);
            op(...F64X2_MUL);
            op(...F64X2_ADD);
            f.set(a);
          }
        }
        f.addTo(pb, () => f.i32(NR * 8));
        f.addTo(qa, () => f.i32(MR * 8));
      },
    );
  };

  f.i32(0);
  f.set(k0);
  // Blocks of k (at least one, so that K = 0 still stores the bias).
  f.loop(
    () => {
      eq(k0, 0);
      lt(k0, K);
      op(OR);
    },
    () => {
      get(K, k0);
      op(SUB);
      f.set(kc);
      minInto(kc, KC);
      eq(k0, 0);
      f.set(first);
      packA();
      f.i32(0);
      f.set(n0);
      whileLt(
        n0,
        () => get(N),
        () => {
          get(N, n0);
          op(SUB);
          f.set(nv);
          minInto(nv, NR);
          packPanel();
          get(ap);
          f.set(pa);
          f.i32(0);
          f.set(r0);
          whileLt(
            r0,
            () => get(ROWS),
            () => {
              get(ROWS, r0);
              op(SUB);
              f.set(rv);
              minInto(rv, MR);
              initTile();
              microKernel();
              storeTile();
              f.addTo(pa, () => get(gstride));
              f.addTo(r0, () => f.i32(MR));
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
