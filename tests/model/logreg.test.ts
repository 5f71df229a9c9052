import { describe, expect, it } from 'vitest';
import { EnoseError } from '../../src/errors.js';
import { fitLogreg, minimiseLbfgs, multinomialLoss } from '../../src/model/fitting/logreg.js';
import { gaussian, mulberry32 } from '../helpers/synthetic.js';

/** The plain loop `multinomialLoss` is blocked from: per row the logits, the softmax, then the gradient. */
function plainLoss(x: Float64Array, count: number, d: number, labels: Int32Array, classCount: number, c: number, w: Float64Array, grad: Float64Array): number {
  const stride = d + 1;
  const logits = new Float64Array(classCount);
  const shifted = new Float64Array(classCount);
  grad.fill(0);
  let f = 0;
  for (let i = 0; i < count; i++) {
    let max = -Infinity;
    for (let k = 0; k < classCount; k++) {
      let s = w[k * stride + d]!;
      for (let j = 0; j < d; j++) s += w[k * stride + j]! * x[i * d + j]!;
      logits[k] = s;
      if (s > max) max = s;
    }
    let sum = 0;
    for (let k = 0; k < classCount; k++) {
      shifted[k] = Math.exp(logits[k]! - max);
      sum += shifted[k]!;
    }
    const y = labels[i]!;
    f += max + Math.log(sum) - logits[y]!;
    for (let k = 0; k < classCount; k++) {
      const residual = shifted[k]! * (1 / sum) - (k === y ? 1 : 0);
      for (let j = 0; j < d; j++) grad[k * stride + j]! += residual * x[i * d + j]!;
      grad[k * stride + d]! += residual;
    }
  }
  for (let k = 0; k < classCount; k++) {
    for (let j = 0; j < d; j++) {
      f += (w[k * stride + j]! * w[k * stride + j]!) / (2 * c);
      grad[k * stride + j]! += w[k * stride + j]! / c;
    }
  }
  return f;
}

function problem(seed: number, count: number, d: number, classCount: number) {
  const rand = mulberry32(seed);
  const normal = gaussian(rand);
  const labels = Int32Array.from({ length: count }, (_, i) => i % classCount);
  // Class-dependent means and very different scales per feature, as PCA scores have.
  const x = Float64Array.from({ length: count * d }, (_, i) => (normal() + (labels[Math.floor(i / d)]! - classCount / 2) * 0.8) * 10 / (1 + (i % d)));
  const w = Float64Array.from({ length: classCount * (d + 1) }, () => normal());
  return { x, labels, w };
}

describe('multinomialLoss', () => {
  it('equals the plain loop bit for bit (value and gradient), for every remainder of rows (4) and classes (2)', () => {
    for (const count of [1, 2, 3, 4, 5, 6, 7, 9, 50]) {
      for (const classCount of [1, 2, 3, 4, 5]) {
        for (const d of [1, 3, 8]) {
          const { x, labels, w } = problem(count * 31 + classCount * 7 + d, count, d, classCount);
          const ours = new Float64Array(w.length);
          const plain = new Float64Array(w.length);
          const f = multinomialLoss(x, count, d, labels, classCount, 0.7, w, ours);
          const g = plainLoss(x, count, d, labels, classCount, 0.7, w, plain);
          expect(f, `${count} rows, ${classCount} classes, ${d} dims`).toBe(g);
          expect(Array.from(ours)).toEqual(Array.from(plain));
        }
      }
    }
  });

  it('has the gradient of its value (central differences)', () => {
    const { x, labels, w } = problem(3, 23, 4, 3);
    const grad = new Float64Array(w.length);
    multinomialLoss(x, 23, 4, labels, 3, 2, w, grad);
    const scratch = new Float64Array(w.length);
    for (let i = 0; i < w.length; i++) {
      const h = 1e-6;
      const up = Float64Array.from(w);
      const down = Float64Array.from(w);
      up[i]! += h;
      down[i]! -= h;
      const numeric = (multinomialLoss(x, 23, 4, labels, 3, 2, up, scratch) - multinomialLoss(x, 23, 4, labels, 3, 2, down, scratch)) / (2 * h);
      expect(Math.abs(numeric - grad[i]!)).toBeLessThan(1e-5 * Math.max(1, Math.abs(grad[i]!)));
    }
  });
});

describe('minimiseLbfgs with a diagonal initial inverse Hessian', () => {
  // An ill-conditioned quadratic: f = sum_i a_i (x_i - t_i)^2 / 2 with curvatures over six decades.
  const n = 12;
  const a = Float64Array.from({ length: n }, (_, i) => 10 ** ((i % 7) - 3));
  const t = Float64Array.from({ length: n }, (_, i) => Math.sin(i + 1) * 3);
  function run(diagonal?: Float64Array): { x: Float64Array; evaluations: number } {
    let evaluations = 0;
    const fg = (x: Float64Array, g: Float64Array): number => {
      evaluations++;
      let f = 0;
      for (let i = 0; i < n; i++) {
        const r = x[i]! - t[i]!;
        f += (a[i]! * r * r) / 2;
        g[i] = a[i]! * r;
      }
      return f;
    };
    const x = minimiseLbfgs(fg, new Float64Array(n), { maxIterations: 5000, gradientTolerance: 1e-10, ...(diagonal ? { diagonal } : {}) });
    return { x, evaluations };
  }

  it('reaches the same minimiser, in fewer evaluations when the diagonal is the inverse curvature', () => {
    const plain = run();
    const scaled = run(a.map((v) => 1 / v));
    for (let i = 0; i < n; i++) {
      expect(Math.abs(plain.x[i]! - t[i]!)).toBeLessThan(1e-6);
      expect(Math.abs(scaled.x[i]! - t[i]!)).toBeLessThan(1e-6);
    }
    expect(scaled.evaluations).toBeLessThan(plain.evaluations);
  });

  it('stops on the unscaled gradient: a diagonal of ones changes nothing', () => {
    const plain = run();
    const ones = run(new Float64Array(n).fill(1));
    expect(Array.from(ones.x)).toEqual(Array.from(plain.x));
    expect(ones.evaluations).toBe(plain.evaluations);
  });

  it('rejects a diagonal of the wrong length with EnoseError bad-option', () => {
    const fg = (_x: Float64Array, g: Float64Array): number => {
      g.fill(0);
      return 0;
    };
    expect(() => minimiseLbfgs(fg, new Float64Array(3), { maxIterations: 10, gradientTolerance: 1e-8, diagonal: new Float64Array(2) })).toThrow(EnoseError);
  });
});

describe('fitLogreg', () => {
  it('stops where the objective is within the relative tolerance semantics of a tightly converged fit', () => {
    const count = 400;
    const d = 6;
    const classCount = 4;
    const { x, labels } = problem(11, count, d, classCount);
    const model = fitLogreg(x, count, d, labels, classCount, { c: 1 });
    const tight = fitLogreg(x, count, d, labels, classCount, { c: 1, relativeTolerance: 0, gradientTolerance: 1e-11, maxIterations: 20000 });
    const at = (m: typeof model): number => {
      const w = new Float64Array(classCount * (d + 1));
      for (let k = 0; k < classCount; k++) {
        for (let j = 0; j < d; j++) w[k * (d + 1) + j] = m.coef[k * d + j]!;
        w[k * (d + 1) + d] = m.intercept[k]!;
      }
      return multinomialLoss(x, count, d, labels, classCount, 1, w, new Float64Array(w.length));
    };
    const f = at(model);
    const best = at(tight);
    expect(f).toBeGreaterThanOrEqual(best - 1e-9 * Math.abs(best));
    // scipy's ftol is 2.2e-9 per iteration; the gap to the optimum stays within a few thousand of those.
    expect((f - best) / Math.abs(best)).toBeLessThan(1e-5);
  });
});
