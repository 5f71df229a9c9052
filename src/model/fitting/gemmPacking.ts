/**
 * The copies the training gemm (gemmPackedWasm.ts) makes before its micro-kernel runs: A's block of k in groups
 * of MR rows interleaved, and a panel of NR outputs of B, each laid out in the order the micro-kernel reads it
 * (one pointer, fixed offsets), whatever the strides of A and B.
 */
import { ADD, LT_S, MUL, SHL, v128Load, v128Store } from '../numeric/wasmAssembler.js';
import { AND, DIV_S, F64_CONST_0, GT_S, loadF64, MR, NR, SELECT, storeF64, SUB, VECS, type GemmScope } from './gemmScope.js';

/** A's block: group g holds rows g MR .. g MR + MR - 1 (the last valid row repeated) as [k][MR], from ap on. */
export function packA(g: GemmScope): void {
  const { f, op, get, whileLt, A, ROWS, arsb, acsb, k0, kc, gstride, r, row, src, dst, end, pa, ap } = g;
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
}
