/**
 * The copies the training gemm (gemmPackedWasm.ts) makes before its micro-kernel runs: A's block of k in groups
 * of MR rows interleaved, and a panel of NR outputs of B, each laid out in the order the micro-kernel reads it
 * (one pointer, fixed offsets), whatever the strides of A and B.
 */
import { ADD, LT_S, MUL, SHL, v128Load, v128Store } from '../numeric/wasmAssembler.js';
import { AND, DIV_S, F64_CONST_0, GT_S, loadF64, MR, NR, SELECT, storeF64, SUB, VECS, type GemmScope } from './gemmScope.js';

/** A's block: group g holds rows g MR .. g MR + MR - 1 (the last valid row repeated) as [k][MR], from ap on. */
export function packA(g: GemmScope): void {
  const { f, op, get, whileLt, when, ROWS, kc, gstride, r, pa, ap } = g;
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
      op(DIV_S);
      f.i32(MR);
      op(MUL);
    },
    () => {
      when(
        () => {
          // A whole pair of rows (MR = 2): vector copies.
          get(r);
          f.i32(1);
          op(ADD);
          get(ROWS);
          op(LT_S);
        },
        () => packPair(g),
        () => packRows(g),
      );
      f.addTo(pa, () => get(gstride));
      f.addTo(r, () => f.i32(MR));
    },
  );
}

/** Group r / MR row by row, each row's kc values strided into its lane of the group (any strides, any padding). */
function packRows(g: GemmScope): void {
  const { f, op, get, whileLt, A, ROWS, arsb, acsb, k0, gstride, r, row, src, dst, end, pa } = g;
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
        g.copyRun(loadF64, storeF64, 8, 1, () => get(acsb), MR * 8);
  }
}

/**
 * Rows r and r + 1 as the group [k][2]: A transposed (ars = 1, the weight gradient's inputs) has the pair side by
 * side, one vector a k; row-major A (acs = 1) gives two k of each row per pair of loads, interleaved by shuffles.
 */
function packPair(g: GemmScope): void {
  const { f, op, get, whileLt, when, eq, A, ARS, ACS, arsb, acsb, k0, kc, gstride, r, row, src, dst, end, pa } = g;
  const rowStart = () => {
    get(A, r, arsb);
    op(MUL);
    op(ADD);
    get(k0, acsb);
    op(MUL);
    op(ADD);
    f.set(src);
    get(pa);
    f.set(dst);
  };
  when(
    () => eq(ARS, 1),
    () => {
      rowStart();
      get(pa, gstride);
      op(ADD);
      f.set(end);
      g.copyRun(v128Load, v128Store, 16, 1, () => get(acsb), 16);
    },
    () =>
      when(
        () => eq(ACS, 1),
        () => {
          rowStart();
          get(src, arsb);
          op(ADD);
          f.set(row); // row r + 1
          get(pa, kc);
          f.i32(-2);
          op(AND);
          f.i32(16);
          op(MUL);
          op(ADD);
          f.set(end);
          whileLt(
            dst,
            () => get(end),
            () => {
              for (const [offset, lanes] of [
                [0, [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]],
                [16, [8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31]],
              ] as const) {
                get(dst, src);
                op(...v128Load(0));
                get(row);
                op(...v128Load(0));
                op(0xfd, 0x0d, ...lanes); // i8x16.shuffle: (row r at k, row r + 1 at k), then at k + 1
                op(...v128Store(offset));
              }
              f.addTo(src, () => f.i32(16));
              f.addTo(row, () => f.i32(16));
              f.addTo(dst, () => f.i32(32));
            },
          );
          // An odd last k.
          when(
            () => {
              get(kc);
              f.i32(1);
              op(AND);
            },
            () => {
              for (const [offset, p] of [
                [0, src],
                [8, row],
              ] as const) {
                get(dst, p);
                op(...loadF64(0));
                op(...storeF64(offset));
              }
            },
          );
        },
        () => packRows(g),
      ),
  );
}

/** The B panel: bp[k][j] = B[(k0 + k) brs + (n0 + j) bcs] for j < nv, zero beyond. */
export function packPanel(g: GemmScope): void {
  const { f, op, get, whileLt, when, eq, B, BCS, n0, nv, k0, kc, brsb, bcsb, bp, src, dst, end } = g;
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
      g.copyRun(v128Load, v128Store, 16, VECS, () => get(brsb), NR * 8);
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
            op(GT_S);
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
            g.copyRun(loadF64, storeF64, 8, 1, () => get(brsb), NR * 8);
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
}
