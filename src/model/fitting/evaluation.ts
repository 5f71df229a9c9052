/** Scores a model on labelled samples: accuracy, confusion, per-class recall/precision and policy rates. */
import { EnoseError } from '../../errors.js';
import type { FeatureTable, VerdictKind } from '../../types.js';
import type { ModelBundle } from '../runtime/bundle.js';
import { compileModel, compilePolicy, decideVerdict, noveltyOfLast, predictCompiled } from '../runtime/pipeline.js';
import { isSuspiciousLabel } from '../runtime/policy.js';

export interface EvaluationReport {
  readonly n: number;
  /** Share of samples whose most probable class is their label. */
  readonly accuracy: number;
  /** Model classes, then any label of the data the model never saw, then `(none)` if some sample got no class. */
  readonly classes: readonly string[];
  /** confusion[i][j]: samples of true class classes[i] predicted as classes[j]. */
  readonly confusion: readonly (readonly number[])[];
  readonly perClass: Readonly<Record<string, { readonly recall: number | null; readonly precision: number | null }>>;
  /** Share of suspicious-labelled samples with verdict `suspicious` (null without a policy or such samples). */
  readonly detectionRate: number | null;
  /** Share of clear-labelled samples with verdict `suspicious` (null without a policy or such samples). */
  readonly falseAlarmRate: number | null;
  readonly inconclusive: number;
  /** Samples over the model's novelty limit (reason `unknown-odour`). */
  readonly unknownOdour: number;
  /** Accuracy per group (the file each sample came from, e.g. `batch2`). */
  readonly perGroup: Readonly<Record<string, { readonly n: number; readonly accuracy: number }>>;
  /** Samples whose verdict carries `rig-mismatch` (data far outside the model's training rig). */
  readonly rigMismatch: number;
  /** Samples that got no class (a cut or too short cycle, invalid features): counted in `n`, listed here. */
  readonly unpredicted: readonly string[];
}

/** One judged sample, from a feature row or from the streaming engine's verdict. */
export interface JudgedSample {
  readonly sample: string;
  readonly label: string;
  readonly group: string;
  /** Most probable class, or null when none could be computed (a cut cycle). */
  readonly predicted: string | null;
  readonly verdict: VerdictKind | null;
  readonly reasons: readonly string[];
}

export interface SamplePrediction extends JudgedSample {
  readonly probabilities: readonly number[];
  readonly score: number | null;
  /** Nearest-sample distance over the novelty limit (> 1: unknown odour); NaN without a limit. */
  readonly novelty: number;
}

/** Checks that a feature table has the layout the model was trained on. */
export function checkFeatureLayout(bundle: ModelBundle, table: FeatureTable): void {
  const expected = bundle.input.featureNames;
  if (table.width !== expected.length) {
    throw new EnoseError('model-mismatch', `${table.source}: the model expects ${expected.length} features, the data has ${table.width}`);
  }
  const differ = expected.findIndex((name, i) => name !== table.featureNames[i]);
  if (differ >= 0) {
    throw new EnoseError('model-mismatch', `${table.source}: feature ${differ + 1} is "${table.featureNames[differ]}", the model expects "${expected[differ]}"`);
  }
}

const NONE = '(none)';

/** The report over judged samples. Accuracy counts a sample right when its most probable class is its label. */
export function reportOf(bundle: ModelBundle, samples: readonly JudgedSample[]): EvaluationReport {
  const classes = [...bundle.classes];
  for (const s of samples) if (!classes.includes(s.label)) classes.push(s.label);
  if (samples.some((s) => s.predicted === null)) classes.push(NONE);
  const index = new Map(classes.map((c, i) => [c, i]));
  const confusion = classes.map(() => new Array<number>(classes.length).fill(0));
  let correct = 0;
  let inconclusive = 0;
  let unknownOdour = 0;
  let rigMismatch = 0;
  let suspiciousN = 0;
  let detected = 0;
  let clearN = 0;
  let alarms = 0;
  const groups = new Map<string, { n: number; correct: number }>();
  const unpredicted: string[] = [];
  for (const s of samples) {
    if (s.predicted === null) unpredicted.push(s.sample);
    const hit = s.predicted === s.label;
    if (hit) correct++;
    confusion[index.get(s.label)!][index.get(s.predicted ?? NONE)!]++;
    const group = groups.get(s.group) ?? { n: 0, correct: 0 };
    group.n++;
    if (hit) group.correct++;
    groups.set(s.group, group);
    if (s.verdict === 'inconclusive') inconclusive++;
    if (s.reasons.includes('unknown-odour')) unknownOdour++;
    if (s.reasons.includes('rig-mismatch')) rigMismatch++;
    if (bundle.policy) {
      if (isSuspiciousLabel(bundle.policy, s.label)) {
        suspiciousN++;
        if (s.verdict === 'suspicious') detected++;
      } else {
        clearN++;
        if (s.verdict === 'suspicious') alarms++;
      }
    }
  }
  const perClass: Record<string, { recall: number | null; precision: number | null }> = {};
  classes.forEach((c, i) => {
    if (c === NONE) return;
    const row = confusion[i].reduce((s, v) => s + v, 0);
    const column = confusion.reduce((s, r) => s + r[i], 0);
    perClass[c] = { recall: row > 0 ? confusion[i][i] / row : null, precision: column > 0 ? confusion[i][i] / column : null };
  });
  const perGroup: Record<string, { n: number; accuracy: number }> = {};
  for (const [g, v] of groups) perGroup[g] = { n: v.n, accuracy: v.correct / v.n };
  return {
    n: samples.length,
    accuracy: samples.length > 0 ? correct / samples.length : 0,
    classes,
    confusion,
    perClass,
    detectionRate: bundle.policy && suspiciousN > 0 ? detected / suspiciousN : null,
    falseAlarmRate: bundle.policy && clearN > 0 ? alarms / clearN : null,
    inconclusive,
    unknownOdour,
    rigMismatch,
    perGroup,
    unpredicted,
  };
}

/** Predicts every row of a feature table and returns the report and the predictions. */
export function evaluateModel(bundle: ModelBundle, table: FeatureTable): { report: EvaluationReport; predictions: SamplePrediction[] } {
  checkFeatureLayout(bundle, table);
  const model = compileModel(bundle);
  const policy = compilePolicy(bundle);
  const probs = new Float64Array(bundle.classes.length);
  const predictions: SamplePrediction[] = [];
  for (let i = 0; i < table.count; i++) {
    const best = predictCompiled(model, table.x, i * table.width, probs);
    const novelty = noveltyOfLast(model);
    const outcome = decideVerdict(policy, probs, best, novelty);
    predictions.push({
      sample: table.samples[i],
      label: table.labels[i],
      group: table.groups[i],
      predicted: bundle.classes[best],
      probabilities: Array.from(probs),
      verdict: outcome.verdict,
      score: outcome.score,
      novelty,
      reasons: [outcome.reason],
    });
  }
  return { report: reportOf(bundle, predictions), predictions };
}
