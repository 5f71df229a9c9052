/** Scores a model on labelled feature rows: accuracy, confusion, per-class recall/precision and policy rates. */
import { EnoseError } from '../errors.js';
import type { FeatureTable, VerdictKind } from '../types.js';
import type { ModelBundle } from './bundle.js';
import { compileModel, compilePolicy, decideVerdict, noveltyOfLast, predictCompiled } from './pipeline.js';
import { isSuspiciousLabel } from './policy.js';

export interface EvaluationReport {
  readonly n: number;
  /** Share of samples whose most probable class is their label. */
  readonly accuracy: number;
  /** Model classes, then any label of the data the model never saw. */
  readonly classes: readonly string[];
  /** confusion[i][j]: samples of true class classes[i] predicted as classes[j]. */
  readonly confusion: readonly (readonly number[])[];
  readonly perClass: Readonly<Record<string, { readonly recall: number | null; readonly precision: number | null }>>;
  /** Share of suspicious-labelled samples with verdict `suspicious` (null without a policy or such samples). */
  readonly detectionRate: number | null;
  /** Share of clear-labelled samples with verdict `suspicious` (null without a policy or such samples). */
  readonly falseAlarmRate: number | null;
  readonly inconclusive: number;
  /** Samples over the model's novelty limit (verdict `suspicious`, reason `unknown-odour`, with a policy). */
  readonly unknownOdour: number;
  /** Accuracy per group (the file each sample came from, e.g. `batch2`). */
  readonly perGroup: Readonly<Record<string, { readonly n: number; readonly accuracy: number }>>;
}

export interface SamplePrediction {
  readonly sample: string;
  readonly label: string;
  readonly predicted: string;
  readonly probabilities: readonly number[];
  readonly verdict: VerdictKind | null;
  readonly score: number | null;
  /** Nearest-sample distance over the novelty limit (> 1: unknown odour); NaN without a limit. */
  readonly novelty: number;
  readonly reason: string;
}

/** Checks that a feature table has the layout the model was trained on. */
export function checkFeatureLayout(bundle: ModelBundle, table: FeatureTable): void {
  const expected = bundle.input.featureNames;
  if (table.width !== expected.length) {
    throw new EnoseError(
      'model-mismatch',
      `${table.source}: the model expects ${expected.length} features, the data has ${table.width}`,
    );
  }
  const differ = expected.findIndex((name, i) => name !== table.featureNames[i]);
  if (differ >= 0) {
    throw new EnoseError(
      'model-mismatch',
      `${table.source}: feature ${differ + 1} is "${table.featureNames[differ]}", the model expects "${expected[differ]}"`,
    );
  }
}

/** Predicts every row and returns the report and the predictions. */
export function evaluateModel(bundle: ModelBundle, table: FeatureTable): { report: EvaluationReport; predictions: SamplePrediction[] } {
  checkFeatureLayout(bundle, table);
  const model = compileModel(bundle);
  const policy = compilePolicy(bundle);
  const classes = [...bundle.classes];
  for (const l of table.labels) if (!classes.includes(l)) classes.push(l);
  const index = new Map(classes.map((c, i) => [c, i]));
  const confusion = classes.map(() => new Array<number>(classes.length).fill(0));
  const probs = new Float64Array(bundle.classes.length);
  const predictions: SamplePrediction[] = [];
  let correct = 0;
  let inconclusive = 0;
  let unknownOdour = 0;
  let suspiciousN = 0;
  let detected = 0;
  let clearN = 0;
  let alarms = 0;
  const groups = new Map<string, { n: number; correct: number }>();
  for (let i = 0; i < table.count; i++) {
    const best = predictCompiled(model, table.x, i * table.width, probs);
    const novelty = noveltyOfLast(model);
    const outcome = decideVerdict(policy, probs, best, novelty);
    if (outcome.reason === 'unknown-odour') unknownOdour++;
    const label = table.labels[i]!;
    const hit = bundle.classes[best] === label;
    if (hit) correct++;
    confusion[index.get(label)!]![best]!++;
    const group = groups.get(table.groups[i]!) ?? { n: 0, correct: 0 };
    group.n++;
    if (hit) group.correct++;
    groups.set(table.groups[i]!, group);
    if (outcome.verdict === 'inconclusive') inconclusive++;
    if (bundle.policy) {
      if (isSuspiciousLabel(bundle.policy, label)) {
        suspiciousN++;
        if (outcome.verdict === 'suspicious') detected++;
      } else {
        clearN++;
        if (outcome.verdict === 'suspicious') alarms++;
      }
    }
    predictions.push({
      sample: table.samples[i]!,
      label,
      predicted: bundle.classes[best]!,
      probabilities: Array.from(probs),
      verdict: outcome.verdict,
      score: outcome.score,
      novelty,
      reason: outcome.reason,
    });
  }
  const perClass: Record<string, { recall: number | null; precision: number | null }> = {};
  classes.forEach((c, i) => {
    const row = confusion[i]!.reduce((s, v) => s + v, 0);
    const column = confusion.reduce((s, r) => s + r[i]!, 0);
    perClass[c] = { recall: row > 0 ? confusion[i]![i]! / row : null, precision: column > 0 ? confusion[i]![i]! / column : null };
  });
  const perGroup: Record<string, { n: number; accuracy: number }> = {};
  for (const [g, v] of groups) perGroup[g] = { n: v.n, accuracy: v.correct / v.n };
  const report: EvaluationReport = {
    n: table.count,
    accuracy: table.count > 0 ? correct / table.count : 0,
    classes,
    confusion,
    perClass,
    detectionRate: bundle.policy && suspiciousN > 0 ? detected / suspiciousN : null,
    falseAlarmRate: bundle.policy && clearN > 0 ? alarms / clearN : null,
    inconclusive,
    unknownOdour,
    perGroup,
  };
  return { report, predictions };
}
