/**
 * The element-wise step of MLP training (Adam, with or without the L2 term) as WebAssembly SIMD
 * functions of the module that gemmWasm.ts assembles, and the same steps as plain loops (`plainOps`): the
 * fallback where WebAssembly SIMD is missing and the reference the tests hold them to.
 */
import { ADD, Body, F64, F64X2_ADD, F64X2_DIV, F64X2_MUL, F64X2_SPLAT, F64X2_SQRT, F64X2_SUB, I32, LT_S, SHL, V128, v128Load, v128Store } from '../numeric/wasmAssembler.js';

/**
 * The element-wise step of training, two doubles per instruction, each lane the same operations in the same
 * order as the plain loop beside it (mlpTrainer.ts), so the same doubles. Offsets in doubles; `n` is rounded up
 * to even, so arrays must have a spare double when n is odd (Layout.take gives one).
 */
export interface TrainingOps {
  /** Adam: m = b1 m + c1 g; v = b2 v + c2 g g; p = p - lr m / (sqrt(v) + eps), with c1 = 1 - b1, c2 = 1 - b2. */
  adam(p: number, g: number, m: number, v: number, n: number, lr: number, b1: number, c1: number, b2: number, c2: number, eps: number): void;
  /**
   * Adam on the L2-regularised mean gradient (g + alpha p) / rows, p before the step (scikit-learn's weight
   * gradient), in one pass: the same doubles as that gradient stored, then `adam`. g is left as it was.
   */
  adamL2(p: number, g: number, m: number, v: number, n: number, lr: number, b1: number, c1: number, b2: number, c2: number, eps: number, alpha: number, rows: number): void;
}

/** A loop over i = 0, 2, 4, ... < n, with `pointers` (parameters, offsets in doubles) turned into byte addresses. */
function pairs(params: number[], pointers: number[], n: number, body: (f: Body, at: (p: number) => void) => void): Body {
  const f = new Body(params);
  const i = f.local(I32);
  const end = f.local(I32);
  for (const p of pointers) {
    f.get(p);
    f.i32(3);
    f.op(SHL);
    f.set(p);
  }
  f.get(n);
  f.i32(3);
  f.op(SHL);
  f.set(end);
  f.i32(0);
  f.set(i);
  f.loop(
    () => {
      f.get(i);
      f.get(end);
      f.op(LT_S);
    },
    () => {
      body(f, (p) => {
        f.get(p);
        f.get(i);
        f.op(ADD);
      });
      f.addTo(i, () => f.i32(16));
    },
  );
  return f;
}

/** Adam's step (see TrainingOps.adam); with `l2`, on the gradient (g + alpha p) / rows (TrainingOps.adamL2). */
export function adamBody(l2: boolean): Body {
  // (p, g, m, v, n, lr, b1, c1, b2, c2, eps[, alpha, rows])
  const params = [I32, I32, I32, I32, I32, F64, F64, F64, F64, F64, F64, ...(l2 ? [F64, F64] : [])];
  return pairs(params, [0, 1, 2, 3], 4, (f, at) => {
    const g = f.local(V128);
    const mk = f.local(V128);
    const vk = f.local(V128);
    const splat = (param: number) => {
      f.get(param);
      f.op(...F64X2_SPLAT);
    };
    at(1);
    f.op(...v128Load(0));
    if (l2) {
      // (g + alpha * p) / rows
      splat(11);
      at(0);
      f.op(...v128Load(0));
      f.op(...F64X2_MUL);
      f.op(...F64X2_ADD);
      splat(12);
      f.op(...F64X2_DIV);
    }
    f.set(g);
    // mk = b1 * m + c1 * g
    splat(6);
    at(2);
    f.op(...v128Load(0));
    f.op(...F64X2_MUL);
    splat(7);
    f.get(g);
    f.op(...F64X2_MUL);
    f.op(...F64X2_ADD);
    f.set(mk);
    // vk = b2 * v + (c2 * g) * g
    splat(8);
    at(3);
    f.op(...v128Load(0));
    f.op(...F64X2_MUL);
    splat(9);
    f.get(g);
    f.op(...F64X2_MUL);
    f.get(g);
    f.op(...F64X2_MUL);
    f.op(...F64X2_ADD);
    f.set(vk);
    at(2);
    f.get(mk);
    f.op(...v128Store(0));
    at(3);
    f.get(vk);
    f.op(...v128Store(0));
    // p = p - (lr * mk) / (sqrt(vk) + eps)
    at(0);
    at(0);
    f.op(...v128Load(0));
    splat(5);
    f.get(mk);
    f.op(...F64X2_MUL);
    f.get(vk);
    f.op(...F64X2_SQRT);
    splat(10);
    f.op(...F64X2_ADD);
    f.op(...F64X2_DIV);
    f.op(...F64X2_SUB);
    f.op(...v128Store(0));
  });
}

/** One parameter's Adam step at offsets p, mo, v of `m`, on gradient gk. */
function adamStep(m: Float64Array, p: number, gk: number, mo: number, v: number, lr: number, b1: number, c1: number, b2: number, c2: number, eps: number): void {
  const mk = b1 * m[mo] + c1 * gk;
  const vk = b2 * m[v] + c2 * gk * gk;
  m[mo] = mk;
  m[v] = vk;
  m[p] = m[p] - (lr * mk) / (Math.sqrt(vk) + eps);
}

/** `TrainingOps` as plain loops on `memory` (exact n): the fallback without WebAssembly SIMD, and the reference. */
export function plainOps(memory: Float64Array): TrainingOps {
  const m = memory;
  return {
    adam(p, g, mo, v, n, lr, b1, c1, b2, c2, eps) {
      for (let k = 0; k < n; k++) adamStep(m, p + k, m[g + k], mo + k, v + k, lr, b1, c1, b2, c2, eps);
    },
    adamL2(p, g, mo, v, n, lr, b1, c1, b2, c2, eps, alpha, rows) {
      for (let k = 0; k < n; k++) adamStep(m, p + k, (m[g + k] + alpha * m[p + k]) / rows, mo + k, v + k, lr, b1, c1, b2, c2, eps);
    },
  };
}
