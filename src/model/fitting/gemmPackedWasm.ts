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
 *   and each panel of NR outputs of B into a contiguous scratch panel (KC x NR) (gemmPacking.ts): the micro-kernel
 *   then reads both from one pointer each at fixed offsets, whatever A's and B's strides (a transposed matrix
 *   costs one copy, not a strided pass per tile, and a 256-wide row stride cannot alias the cache's sets). Rows
 *   and outputs beyond the matrix are padded (a repeated row, zero outputs) and never stored.
 * - The micro-kernel holds MR rows x NR outputs in f64x2 accumulators, each lane its own output, with a separate
 *   multiply and add as in the plain loop.
 */
import { ADD, Body, F64X2_ADD, F64X2_LE, F64X2_LT, F64X2_MUL, GE_S, MUL, SHL, V128_ANDNOT, V128_ZERO, v128Load, v128Store } from '../numeric/wasmAssembler.js';
import { packA, packPanel } from './gemmPacking.js';
import { AND, F64_CONST_0, F64_LE, gemmScope, NE, KC, loadF64, MR, NR, OR, SELECT, splat64, storeF64, SUB, VECS } from './gemmScope.js';

/**
 * Doubles of scratch `gemm` needs for products of at most `rows` rows: a tile buffer, the B panel and A's packed
 * block. It must not overlap A, B, C or the bias.
 */
export function gemmScratchDoubles(rows: number): number {
  return MR * NR + KC * NR + Math.ceil(rows / MR) * MR * KC;
}

/**
 * Parameters, in doubles: (c, a, b, bias, rows, k, n, ars, acs, brs, bcs, scratch, relu, mask); bias < 0 starts at
 * zero; relu != 0 stores x < 0 ? 0 : x, and mask >= 0 (an array laid out as C) stores mask <= 0 ? 0 : x, both
 * on the finished sums (see gemmWasm.ts's Gemm).
 */
export function packedGemmBody(): Body {
  const g = gemmScope();
  const { f, op, get, whileLt, when, ifF64, eq, lt, hasBias, minInto, at, bytesOf } = g;
  const { C, A, B, BIAS, ROWS, K, N, ARS, ACS, BRS, BCS, SCRATCH, RELU, MASK } = g;
  const { nb, arsb, acsb, brsb, bcsb, tb, bp, ap, k0, kc, first, n0, nv, r0, rv, gstride, reluOn, maskOn, pa, qa, pb, pe, src, dst, r, j, acc, bv, s, x } = g;

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
  // A negative bias or mask (none) stays negative: only its sign is asked after this.
  when(hasBias, () => bytesOf(BIAS, BIAS));
  when(
    () => {
      get(MASK);
      f.i32(0);
      op(GE_S);
    },
    () => bytesOf(MASK, MASK),
  );
  // Scratch: the tile buffer (MR x NR), the B panel (KC x NR), A's groups (MR x KC each).
  get(tb);
  f.i32(MR * NR * 8);
  op(ADD);
  f.set(bp);
  get(bp);
  f.i32(KC * NR * 8);
  op(ADD);
  f.set(ap);

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

  /** Pushes the address in the mask of the C element whose address is in `l` (the mask is laid out as C). */
  const maskOf = (l: number) => {
    get(l, C);
    op(SUB);
    get(MASK);
    op(ADD);
  };
  const storeTile = () => {
    // ReLU on the finished sums, in the accumulators (lanes beyond the matrix are never stored).
    when(
      () => get(reluOn),
      () => {
        for (const a of acc) {
          get(a, a);
          op(...V128_ZERO);
          op(...F64X2_LT);
          op(...V128_ANDNOT);
          f.set(a);
        }
      },
    );
    /** Stores the full tile into C, through the mask or not. */
    const storeFull = (masked: boolean) => {
      for (let m = 0; m < MR; m++) {
        cRow(m);
        f.set(dst);
        for (let v = 0; v < VECS; v++) {
          get(dst, acc[m * VECS + v]);
          if (masked) {
            // x, mask <= 0 -> 0 (the mask read at this vector's place in the mask array)
            maskOf(dst);
            op(...v128Load(v * 16));
            op(...V128_ZERO);
            op(...F64X2_LE);
            op(...V128_ANDNOT);
          }
          op(...v128Store(v * 16));
        }
      }
    };
    when(
      full,
      () =>
        when(
          () => get(maskOn),
          () => storeFull(true),
          () => storeFull(false),
        ),
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
                f.set(dst);
                get(r);
                f.i32(NR);
                op(MUL);
                get(j);
                op(ADD);
                f.set(src);
                at(tb, src);
                op(...loadF64(0));
                f.set(x);
                when(
                  () => get(maskOn),
                  () => {
                    // x = mask <= 0 ? 0 : x
                    op(...F64_CONST_0);
                    get(x);
                    maskOf(dst);
                    op(...loadF64(0));
                    op(...F64_CONST_0);
                    op(F64_LE);
                    op(SELECT);
                    f.set(x);
                  },
                );
                get(dst, x);
                op(...storeF64(0));
                f.addTo(j, () => f.i32(1));
              },
            );
            f.addTo(r, () => f.i32(1));
          },
        );
      },
    );
  };

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
      // The last block (k0 + KC >= K) stores finished sums: the ReLU and the mask apply there only.
      get(k0);
      f.i32(KC);
      op(ADD);
      get(K);
      op(GE_S);
      f.set(maskOn);
      get(maskOn, RELU);
      f.i32(0);
      op(NE);
      op(AND);
      f.set(reluOn);
      get(maskOn, MASK);
      f.i32(0);
      op(GE_S);
      op(AND);
      f.set(maskOn);
      packA(g);
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
          packPanel(g);
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
