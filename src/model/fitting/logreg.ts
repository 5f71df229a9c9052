/**
 * Multinomial logistic regression with an L2 penalty on the weights (not the intercepts), the objective of
 * scikit-learn's LogisticRegression(C) with lbfgs: minimise sum_i -log p(y_i | x_i) + ||W||^2 / (2C).
 * Solved by L-BFGS (Liu & Nocedal 1989) with a backtracking Armijo line search, until the gradient vanishes
 * (1e-8) or an iteration no longer lowers the objective by more than scipy's L-BFGS-B default relative
 * tolerance (about 2.2e-9), the stopping rule scikit-learn's lbfgs solver runs with. The initial inverse
 * Hessian is scaled per weight by the curvature at the start (see `inverseHessianDiagonalAtZero`), which
 * reaches that stopping rule in about half the evaluations on PCA scores; the stopping tests are unchanged.
 */
import { EnoseError } from '../../errors.js';
import type { LinearModel } from '../runtime/lda.js';

/** Rows per pass of `multinomialLoss`. */
const BLOCK_ROWS = 4;

export interface LogregOptions {
  /** Inverse regularisation strength, scikit-learn's C. @default 1 */
  readonly c?: number;
  /** @default 2000 */
  readonly maxIterations?: number;
  /** Stop when the largest gradient entry falls below this. @default 1e-8 */
  readonly gradientTolerance?: number;
  /**
   * Stop when an iteration lowers the objective by no more than this share of it: scipy's L-BFGS-B test
   * (f_k - f_k+1) / max(|f_k|, |f_k+1|, 1) below ftol, with its default ftol = 1e7 x machine epsilon, the
   * setting scikit-learn's lbfgs solver runs with. @default 2.220446049250313e-9
   */
  readonly relativeTolerance?: number;
  /** L-BFGS correction pairs kept (scipy's maxcor, which scikit-learn leaves at 10). @default 10 */
  readonly history?: number;
}

export function fitLogreg(
  scores: Float64Array,
  count: number,
  dimensions: number,
  labels: Int32Array,
  classCount: number,
  options: LogregOptions = {},
): LinearModel<'logreg'> {
  const c = options.c ?? 1;
  const maxIterations = options.maxIterations ?? 2000;
  const gradientTolerance = options.gradientTolerance ?? 1e-8;
  const relativeTolerance = options.relativeTolerance ?? 1e7 * Number.EPSILON;
  const history = options.history ?? 10;
  const stride = dimensions + 1; // per class: weights then intercept
  const size = classCount * stride;
  const logits = new Float64Array(BLOCK_ROWS * classCount);
  const residuals = new Float64Array(BLOCK_ROWS * classCount);
  const objective = (w: Float64Array, grad: Float64Array): number =>
    multinomialLoss(scores, count, dimensions, labels, classCount, c, w, grad, logits, residuals);

  const w = minimiseLbfgs(objective, new Float64Array(size), {
    maxIterations,
    gradientTolerance,
    relativeTolerance,
    history,
    diagonal: inverseHessianDiagonalAtZero(scores, count, dimensions, classCount, c),
  });
  const coef = new Array<number>(classCount * dimensions);
  const intercept = new Array<number>(classCount);
  for (let k = 0; k < classCount; k++) {
    for (let j = 0; j < dimensions; j++) coef[k * dimensions + j] = w[k * stride + j];
    intercept[k] = w[k * stride + dimensions];
  }
  return Object.freeze({ type: 'logreg' as const, coef: Object.freeze(coef), intercept: Object.freeze(intercept) });
}

interface LbfgsOptions {
  readonly maxIterations: number;
  readonly gradientTolerance: number;
  /** Stop when (f_k - f_k+1) / max(|f_k|, |f_k+1|, 1) falls below this. @default 1e-15 */
  readonly relativeTolerance?: number;
  /** Correction pairs kept (scipy's maxcor). @default 10 */
  readonly history?: number;
  /**
   * Diagonal D of the initial inverse Hessian `gamma D` (gamma = s'y / y'Dy from the last pair), such as the
   * inverse of the Hessian's diagonal; identity when omitted. It changes the search directions only: the
   * stopping tests stay on the unscaled gradient and objective.
   */
  readonly diagonal?: Float64Array;
}

/** L-BFGS minimiser of a smooth function given as value-and-gradient; returns the minimiser. */
export function minimiseLbfgs(
  fg: (x: Float64Array, grad: Float64Array) => number,
  start: Float64Array,
  options: LbfgsOptions,
): Float64Array {
  const n = start.length;
  const m = options.history ?? 10;
  const relativeTolerance = options.relativeTolerance ?? 1e-15;
  const diagonal = options.diagonal ?? null;
  if (diagonal && diagonal.length !== n) throw new EnoseError('bad-option', `L-BFGS diagonal has ${diagonal.length} entries for ${n} unknowns`);
  const x = Float64Array.from(start);
  const g = new Float64Array(n);
  let f = fg(x, g);
  const s: Float64Array[] = [];
  const y: Float64Array[] = [];
  const rho: number[] = [];
  const alpha = new Float64Array(m);
  const d = new Float64Array(n);
  const xNew = new Float64Array(n);
  const gNew = new Float64Array(n);
  let sNew: Float64Array = new Float64Array(n);
  let yNew: Float64Array = new Float64Array(n);
  for (let iter = 0; iter < options.maxIterations; iter++) {
    let gMax = 0;
    for (let i = 0; i < n; i++) gMax = Math.max(gMax, Math.abs(g[i]));
    if (gMax < options.gradientTolerance) break;
    // Two-loop recursion: d = -H g.
    for (let i = 0; i < n; i++) d[i] = -g[i];
    for (let h = s.length - 1; h >= 0; h--) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += s[h][i] * d[i];
      alpha[h] = rho[h] * dot;
      for (let i = 0; i < n; i++) d[i] -= alpha[h] * y[h][i];
    }
    if (s.length > 0) {
      const last = s.length - 1;
      let yy = 0;
      let sy = 0;
      if (diagonal) {
        for (let i = 0; i < n; i++) {
          yy += y[last][i] * diagonal[i] * y[last][i];
          sy += s[last][i] * y[last][i];
        }
        const gamma = sy / yy;
        for (let i = 0; i < n; i++) d[i] *= gamma * diagonal[i];
      } else {
        for (let i = 0; i < n; i++) {
          yy += y[last][i] * y[last][i];
          sy += s[last][i] * y[last][i];
        }
        const gamma = sy / yy;
        for (let i = 0; i < n; i++) d[i] *= gamma;
      }
    } else if (diagonal) {
      for (let i = 0; i < n; i++) d[i] *= diagonal[i];
    }
    for (let h = 0; h < s.length; h++) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += y[h][i] * d[i];
      const beta = rho[h] * dot;
      for (let i = 0; i < n; i++) d[i] += s[h][i] * (alpha[h] - beta);
    }
    let slope = 0;
    for (let i = 0; i < n; i++) slope += g[i] * d[i];
    if (!(slope < 0)) {
      // Not a descent direction (numerical trouble): restart from steepest descent.
      s.length = 0;
      y.length = 0;
      rho.length = 0;
      for (let i = 0; i < n; i++) d[i] = diagonal ? -g[i] * diagonal[i] : -g[i];
      slope = 0;
      for (let i = 0; i < n; i++) slope += g[i] * d[i];
    }
    let step = iter === 0 && s.length === 0 ? Math.min(1, 1 / Math.sqrt(-slope)) : 1;
    let fNew = Infinity;
    for (let tries = 0; tries < 60; tries++) {
      for (let i = 0; i < n; i++) xNew[i] = x[i] + step * d[i];
      fNew = fg(xNew, gNew);
      if (fNew <= f + 1e-4 * step * slope) break;
      step *= 0.5;
    }
    if (!(fNew < f)) break; // no progress possible at double precision
    let sy = 0;
    for (let i = 0; i < n; i++) {
      sNew[i] = xNew[i] - x[i];
      yNew[i] = gNew[i] - g[i];
      sy += sNew[i] * yNew[i];
    }
    const relativeChange = (f - fNew) / Math.max(Math.abs(f), Math.abs(fNew), 1);
    x.set(xNew);
    g.set(gNew);
    f = fNew;
    if (sy > 1e-12) {
      s.push(sNew);
      y.push(yNew);
      rho.push(1 / sy);
      if (s.length > m) {
        // The evicted pair's arrays hold the next pair: no allocation once the history is full.
        sNew = s.shift()!;
        yNew = y.shift()!;
        rho.shift();
      } else {
        sNew = new Float64Array(n);
        yNew = new Float64Array(n);
      }
    }
    if (relativeChange < relativeTolerance) break;
  }
  return x;
}

/**
 * The penalised multinomial negative log-likelihood at `w` (per class: `dimensions` weights, then the
 * intercept); writes its gradient into `grad`. Four rows and two classes per pass keep eight sums in flight,
 * yet every sum still runs over the features and the rows in order, so the value and the gradient are
 * bit-identical to the plain loop (per row: the logits, the softmax, then the gradient).
 * `logits` and `residuals` are scratch of 4 x classCount (allocated per call when omitted).
 */
export function multinomialLoss(
  x: Float64Array,
  count: number,
  d: number,
  labels: Int32Array,
  classCount: number,
  c: number,
  w: Float64Array,
  grad: Float64Array,
  logits = new Float64Array(BLOCK_ROWS * classCount),
  residuals = new Float64Array(BLOCK_ROWS * classCount),
): number {
  const stride = d + 1;
  const K = classCount;
  grad.fill(0);
  let f = 0;
  for (let i = 0; i < count; i += BLOCK_ROWS) {
    const rows = Math.min(BLOCK_ROWS, count - i);
    const b0 = i * d;
    if (rows === BLOCK_ROWS) {
      const b1 = b0 + d;
      const b2 = b1 + d;
      const b3 = b2 + d;
      let k = 0;
      for (; k + 1 < K; k += 2) {
        const wa = k * stride;
        const wb = wa + stride;
        let a0 = w[wa + d];
        let a1 = a0;
        let a2 = a0;
        let a3 = a0;
        let e0 = w[wb + d];
        let e1 = e0;
        let e2 = e0;
        let e3 = e0;
        for (let j = 0; j < d; j++) {
          const p = w[wa + j];
          const q = w[wb + j];
          const x0 = x[b0 + j];
          const x1 = x[b1 + j];
          const x2 = x[b2 + j];
          const x3 = x[b3 + j];
          a0 += p * x0;
          a1 += p * x1;
          a2 += p * x2;
          a3 += p * x3;
          e0 += q * x0;
          e1 += q * x1;
          e2 += q * x2;
          e3 += q * x3;
        }
        logits[k] = a0;
        logits[K + k] = a1;
        logits[2 * K + k] = a2;
        logits[3 * K + k] = a3;
        logits[k + 1] = e0;
        logits[K + k + 1] = e1;
        logits[2 * K + k + 1] = e2;
        logits[3 * K + k + 1] = e3;
      }
      for (; k < K; k++) {
        const wa = k * stride;
        let a0 = w[wa + d];
        let a1 = a0;
        let a2 = a0;
        let a3 = a0;
        for (let j = 0; j < d; j++) {
          const p = w[wa + j];
          a0 += p * x[b0 + j];
          a1 += p * x[b1 + j];
          a2 += p * x[b2 + j];
          a3 += p * x[b3 + j];
        }
        logits[k] = a0;
        logits[K + k] = a1;
        logits[2 * K + k] = a2;
        logits[3 * K + k] = a3;
      }
    } else {
      for (let r = 0; r < rows; r++) {
        const base = b0 + r * d;
        for (let k = 0; k < K; k++) {
          const wa = k * stride;
          let s = w[wa + d];
          for (let j = 0; j < d; j++) s += w[wa + j] * x[base + j];
          logits[r * K + k] = s;
        }
      }
    }
    // Softmax and loss per row; residual p_k - [k = y]. exp(0) = 1 exactly, so the largest logit needs no exp.
    for (let r = 0; r < rows; r++) {
      const o = r * K;
      let max = logits[o];
      let top = 0;
      for (let k = 1; k < K; k++) {
        if (logits[o + k] > max) {
          max = logits[o + k];
          top = k;
        }
      }
      let sum = 0;
      for (let k = 0; k < K; k++) {
        const e = k === top ? 1 : Math.exp(logits[o + k] - max);
        residuals[o + k] = e;
        sum += e;
      }
      const y = labels[i + r];
      f += max + Math.log(sum) - logits[o + y];
      const inverse = 1 / sum;
      for (let k = 0; k < K; k++) residuals[o + k] = residuals[o + k] * inverse - (k === y ? 1 : 0);
    }
    if (rows === BLOCK_ROWS) {
      const b1 = b0 + d;
      const b2 = b1 + d;
      const b3 = b2 + d;
      let k = 0;
      for (; k + 1 < K; k += 2) {
        const wa = k * stride;
        const wb = wa + stride;
        const r0 = residuals[k];
        const r1 = residuals[K + k];
        const r2 = residuals[2 * K + k];
        const r3 = residuals[3 * K + k];
        const s0 = residuals[k + 1];
        const s1 = residuals[K + k + 1];
        const s2 = residuals[2 * K + k + 1];
        const s3 = residuals[3 * K + k + 1];
        for (let j = 0; j < d; j++) {
          const x0 = x[b0 + j];
          const x1 = x[b1 + j];
          const x2 = x[b2 + j];
          const x3 = x[b3 + j];
          let g = grad[wa + j];
          g += r0 * x0;
          g += r1 * x1;
          g += r2 * x2;
          g += r3 * x3;
          grad[wa + j] = g;
          let h = grad[wb + j];
          h += s0 * x0;
          h += s1 * x1;
          h += s2 * x2;
          h += s3 * x3;
          grad[wb + j] = h;
        }
        let g = grad[wa + d];
        g += r0;
        g += r1;
        g += r2;
        g += r3;
        grad[wa + d] = g;
        let h = grad[wb + d];
        h += s0;
        h += s1;
        h += s2;
        h += s3;
        grad[wb + d] = h;
      }
      for (; k < K; k++) {
        const wa = k * stride;
        const r0 = residuals[k];
        const r1 = residuals[K + k];
        const r2 = residuals[2 * K + k];
        const r3 = residuals[3 * K + k];
        for (let j = 0; j < d; j++) {
          let g = grad[wa + j];
          g += r0 * x[b0 + j];
          g += r1 * x[b1 + j];
          g += r2 * x[b2 + j];
          g += r3 * x[b3 + j];
          grad[wa + j] = g;
        }
        let g = grad[wa + d];
        g += r0;
        g += r1;
        g += r2;
        g += r3;
        grad[wa + d] = g;
      }
    } else {
      for (let r = 0; r < rows; r++) {
        const base = b0 + r * d;
        for (let k = 0; k < K; k++) {
          const residual = residuals[r * K + k];
          const wa = k * stride;
          for (let j = 0; j < d; j++) grad[wa + j] += residual * x[base + j];
          grad[wa + d] += residual;
        }
      }
    }
  }
  for (let k = 0; k < K; k++) {
    const wb = k * stride;
    for (let j = 0; j < d; j++) {
      f += (w[wb + j] * w[wb + j]) / (2 * c);
      grad[wb + j] += w[wb + j] / c;
    }
  }
  return f;
}

/**
 * 1 / the diagonal of the objective's Hessian at w = 0, where every class has probability 1/K: weight (k, j)
 * sum_i x_ij^2 (K - 1) / K^2 + 1/C, intercept n (K - 1) / K^2. Used as L-BFGS's initial inverse Hessian (Jacobi
 * scaling of the initial matrix H0; Nocedal & Wright 2006, Numerical Optimization 2nd ed., section 7.2): PCA scores have very
 * different variances, and scaling each weight by its curvature cuts the iterations by a third or more.
 */
function inverseHessianDiagonalAtZero(x: Float64Array, count: number, d: number, classCount: number, c: number): Float64Array {
  const q = (classCount - 1) / (classCount * classCount);
  const squares = new Float64Array(d);
  for (let i = 0; i < count; i++) {
    const base = i * d;
    for (let j = 0; j < d; j++) squares[j] += x[base + j] * x[base + j];
  }
  const stride = d + 1;
  const out = new Float64Array(classCount * stride);
  const invert = (curvature: number): number => (curvature > 0 && Number.isFinite(curvature) ? 1 / curvature : 1);
  for (let k = 0; k < classCount; k++) {
    for (let j = 0; j < d; j++) out[k * stride + j] = invert(q * squares[j] + 1 / c);
    out[k * stride + d] = invert(q * count);
  }
  return out;
}
