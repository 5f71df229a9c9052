/**
 * The training points a model keeps, in its PCA space, and the class of each where the model can say: a kNN
 * model's points with their true labels; otherwise the novelty limit's points, each given the class the model
 * itself predicts for it when it can classify a point from what is kept of it (a linear classifier on points
 * kept in all its components). An MLP's points are not classified (the novelty limit keeps fewer components than
 * the network reads, and a map of known smells should not run the network per point). Pure.
 */
import type { ModelBundle } from './bundle.js';
import { predictLinearInto } from './lda.js';

export interface KeptPoints {
  /** Row-major, `dims` numbers a point. */
  readonly points: readonly number[];
  readonly dims: number;
  /** `label`: true classes; `predicted`: the model's class; `none`: not classified. */
  readonly colouring: 'label' | 'predicted' | 'none';
  /** Why the points are not classified (null when they are). */
  readonly uncolouredBecause: string | null;
  /** The class index of point `i` (-1 when not classified); `row` holds the point's `dims` numbers. */
  classOf(i: number, row: Float64Array): number;
}

export function keptPoints(bundle: ModelBundle): KeptPoints {
  const k = bundle.pca.components;
  const cl = bundle.classifier;
  if (cl.type === 'knn') {
    const labels = cl.labels;
    return { points: cl.points, dims: k, colouring: 'label', uncolouredBecause: null, classOf: (i) => labels[i] };
  }
  const novelty = bundle.novelty;
  if (!novelty) return { points: [], dims: k, colouring: 'none', uncolouredBecause: null, classOf: () => -1 };
  const kept = novelty.components ?? k;
  if (kept !== k || cl.type === 'mlp') {
    const uncolouredBecause =
      cl.type === 'mlp'
        ? `the ${cl.type.toUpperCase()} reads ${k} components; the plot's training points keep ${kept}`
        : `the classifier reads ${k} components; the plot's training points keep ${kept}`;
    return { points: novelty.points, dims: kept, colouring: 'none', uncolouredBecause, classOf: () => -1 };
  }
  const coef = Float64Array.from(cl.coef);
  const intercept = Float64Array.from(cl.intercept);
  const probs = new Float64Array(bundle.classes.length);
  return {
    points: novelty.points,
    dims: kept,
    colouring: 'predicted',
    uncolouredBecause: null,
    classOf: (_i, row) => {
      predictLinearInto(coef, intercept, k, row, probs);
      let cls = 0;
      for (let c = 1; c < probs.length; c++) if (probs[c] > probs[cls]) cls = c;
      return cls;
    },
  };
}
