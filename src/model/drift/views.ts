/**
 * Feature views: every feature seen through several per-feature transforms at once (as is, signed log, log of
 * the magnitude), one linear classifier fitted per view and their logits averaged. The result is one ordinary
 * linear bundle over the expanded input (`f1 .. f128, signed-log(f1) .., log-abs(f1) ..`), so every calibration
 * method applies to it unchanged; re-standardising it re-standardises each view.
 *
 * Why: on the UCI drift data, metal-oxide responses drift multiplicatively and span decades, which a log view
 * turns into shifts that per-batch standardisation removes, while the linear view keeps what the logs compress.
 * Averaging the views' logits (a product of experts, Hinton, Neural Computation 14 (2002) 1771-1800) did better
 * than either view alone there (datasets/README.md, "Drift calibration").
 *
 * A views model reads the expanded rows: `expandForModel` builds them from the base features, which the feature
 * names describe (`signed-log(f1)` is f1 through `signedLog`). Callers that feed a model must expand first.
 */
import { EnoseError } from '../../errors.js';
import type { FeatureTable } from '../../types.js';
import { signBundle, type ModelBundle, type UnsignedBundle } from '../runtime/bundle.js';
import { signedLog } from '../runtime/pipeline.js';
import { fitModel, type FitOptions } from '../fitting/fitModel.js';

export type FeatureView = 'none' | 'signed-log' | 'log-abs';
export const FEATURE_VIEWS: readonly FeatureView[] = ['none', 'signed-log', 'log-abs'];
/** The views of the drift table's views model (chosen before any held-out batch was scored; see the README). */
export const DRIFT_VIEWS: readonly FeatureView[] = Object.freeze(['none', 'signed-log', 'log-abs'] as const);

/** Added to |x| before the log of `log-abs`, so that a zero reading stays finite (fixed, not tuned). */
export const LOG_ABS_FLOOR = 1e-3;

/** ln(|x| + 0.001): a multiplicative change of a response becomes a shift. */
export function logAbs(x: number): number {
  return Math.log(Math.abs(x) + LOG_ABS_FLOOR);
}

/** The value of `x` through `view`. */
export function applyView(view: FeatureView, x: number): number {
  return view === 'none' ? x : view === 'signed-log' ? signedLog(x) : logAbs(x);
}

/** The column name of `feature` through `view`: the name itself for `none`, else `view(feature)`. */
export function viewName(view: FeatureView, feature: string): string {
  return view === 'none' ? feature : `${view}(${feature})`;
}

const VIEW_NAME = /^(signed-log|log-abs)\((.*)\)$/s;

function parseViewName(name: string): { view: FeatureView; feature: string } {
  const m = VIEW_NAME.exec(name);
  return m ? { view: m[1] as FeatureView, feature: m[2] } : { view: 'none', feature: name };
}

/** Rows of `table` with each view's columns side by side: all features through views[0], then views[1], ... */
export function expandViews(table: FeatureTable, views: readonly FeatureView[]): FeatureTable {
  if (views.length === 0) throw new EnoseError('bad-option', 'at least one feature view is needed');
  const w = table.width;
  const width = w * views.length;
  const x = new Float64Array(table.count * width);
  for (let i = 0; i < table.count; i++) {
    const from = i * w;
    const to = i * width;
    for (let v = 0; v < views.length; v++) {
      const view = views[v];
      const base = to + v * w;
      for (let j = 0; j < w; j++) x[base + j] = applyView(view, table.x[from + j]);
    }
  }
  const featureNames = views.flatMap((view) => table.featureNames.map((f) => viewName(view, f)));
  return { ...table, featureNames, width, x };
}

/**
 * The views of a model whose input names are views of base features (`f1 .., signed-log(f1) ..`), with the
 * base feature names; null for a model over plain features.
 */
export function modelViews(bundle: ModelBundle): { readonly views: readonly FeatureView[]; readonly base: readonly string[] } | null {
  const input = bundle.input;
  if (input.kind !== 'features') return null;
  const parsed = input.featureNames.map(parseViewName);
  const views: FeatureView[] = [];
  for (const p of parsed) if (!views.includes(p.view)) views.push(p.view);
  if (views.length < 2 && views[0] === 'none') return null;
  const w = parsed.length / views.length;
  if (!Number.isInteger(w)) return null;
  const base = parsed.slice(0, w).map((p) => p.feature);
  for (let v = 0; v < views.length; v++) {
    for (let j = 0; j < w; j++) {
      const p = parsed[v * w + j];
      if (p.view !== views[v] || p.feature !== base[j]) return null;
    }
  }
  return { views, base };
}

const isLibsvmName = (name: string, j: number): boolean => name === `f${j + 1}`;

/**
 * `table` in the layout `bundle` reads: expanded into its views when the model is a views model and the table
 * holds its base features (a libsvm table narrower than the base is padded with zeros, as sparse files mean);
 * otherwise the table unchanged (a layout mismatch is then reported where the model meets the data).
 */
export function expandForModel(bundle: ModelBundle, table: FeatureTable): FeatureTable {
  const mv = modelViews(bundle);
  if (!mv) return table;
  const names = bundle.input.featureNames;
  if (table.width === names.length && table.featureNames.every((n, j) => n === names[j])) return table;
  let base = table;
  const w = mv.base.length;
  if (table.width < w && mv.base.every(isLibsvmName) && table.featureNames.every(isLibsvmName)) {
    const x = new Float64Array(table.count * w);
    for (let i = 0; i < table.count; i++) x.set(table.x.subarray(i * table.width, (i + 1) * table.width), i * w);
    base = { ...table, x, width: w, featureNames: [...mv.base] };
  }
  if (base.width !== w || base.featureNames.some((n, j) => n !== mv.base[j])) return table;
  return expandViews(base, mv.views);
}

/**
 * Trains one pipeline per view on `train` (the same options, a linear classifier) and merges them into one
 * bundle over the expanded input: the scalers side by side, the PCA axes block-diagonal, the class weights of
 * each view divided by the number of views and the intercepts averaged, so its logits are the mean of the
 * views' logits. Views models carry no verdict policy and no novelty limit (yet): options asking for them are
 * refused. Throws EnoseError on misuse.
 */
export function fitViewsModel(train: FeatureTable, views: readonly FeatureView[], options: FitOptions = {}): ModelBundle {
  if (views.length < 1 || new Set(views).size !== views.length || views.some((v) => !FEATURE_VIEWS.includes(v))) {
    throw new EnoseError('bad-option', `views must be distinct, from ${FEATURE_VIEWS.join(', ')}; got ${views.join(', ')}`);
  }
  const classifier = options.classifier ?? 'lda';
  if (classifier === 'knn' || classifier === 'mlp') throw new EnoseError('bad-option', `a views model averages linear classifiers: use lda or logreg, not ${classifier}`);
  if ((options.suspicious?.length ?? 0) > 0 || (options.clear?.length ?? 0) > 0) {
    throw new EnoseError('bad-option', 'a views model has no verdict policy yet: train it without suspicious/clear labels');
  }
  if ((options.transform ?? 'none') !== 'none') throw new EnoseError('bad-option', 'a views model sets its transforms through its views, not --transform');
  const fitOptions: FitOptions = { ...options, classifier, cvFolds: 0, noveltyQuantile: 0, transform: 'none' };
  const parts = views.map((view) => {
    const t = expandViews(train, [view]);
    return fitModel(t, { kind: 'features', featureNames: [...t.featureNames] }, fitOptions);
  });
  const first = parts[0];
  const w = train.width;
  const width = w * views.length;
  const classes = first.classes;
  const ks = parts.map((p) => p.pca.components);
  const k = ks.reduce((s, v) => s + v, 0);
  const axes = new Array<number>(width * k).fill(0);
  const coef = new Array<number>(classes.length * k).fill(0);
  const intercept = new Array<number>(classes.length).fill(0);
  const mean: number[] = [];
  const scale: number[] = [];
  const variance: number[] = [];
  const varianceRatio: number[] = [];
  let offset = 0;
  parts.forEach((p, v) => {
    if (p.classes.length !== classes.length || p.classes.some((c, i) => c !== classes[i])) throw new Error('views: class lists differ');
    if (p.classifier.type === 'knn' || p.classifier.type === 'mlp') throw new Error(`views: unexpected ${p.classifier.type}`);
    const kv = ks[v];
    for (let j = 0; j < w; j++) for (let q = 0; q < kv; q++) axes[(v * w + j) * k + offset + q] = p.pca.axes[j * kv + q];
    for (let c = 0; c < classes.length; c++) {
      for (let q = 0; q < kv; q++) coef[c * k + offset + q] = p.classifier.coef[c * kv + q] / views.length;
      intercept[c] += p.classifier.intercept[c] / views.length;
    }
    mean.push(...p.scaler.mean);
    scale.push(...p.scaler.scale);
    variance.push(...p.pca.variance);
    // Each view's standardised variance totals its width, so a view's shares divided by the view count are
    // shares of the whole.
    varianceRatio.push(...p.pca.varianceRatio.map((r) => r / views.length));
    offset += kv;
  });
  const unsigned: UnsignedBundle = {
    kind: 'enose-model',
    version: 1,
    input: { kind: 'features', featureNames: views.flatMap((view) => train.featureNames.map((f) => viewName(view, f))) },
    classes: [...classes],
    transform: 'none',
    scaler: { mean, scale },
    pca: { axes, width, components: k, variance, varianceRatio },
    classifier: { type: classifier, coef, intercept },
    policy: null,
    novelty: null,
    limits: null,
    training: { ...first.training, options: { ...first.training.options, views: [...views] }, cvAccuracy: null, cvFolds: 0 },
  };
  return signBundle(unsigned);
}
