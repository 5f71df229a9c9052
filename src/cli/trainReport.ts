/**
 * What `enose train` says about its data, loudly: the candidates it chose from, and the problems a user must
 * not miss (classes lost to the quality gates, classes with too few samples, a gate that skipped more than
 * `GATE_SHARE_LIMIT` of the cycles, channels dropped as dead). `--strict` makes the problems errors.
 */
import type { Selection } from '../engine/selection.js';
import type { TrainingSet } from '../engine/training.js';

/** A gate that skips more than this share of the cycles is named in the summary. */
export const GATE_SHARE_LIMIT = 0.1;

export interface TrainingProblems {
  /** One line each: the problems `--strict` refuses. */
  readonly problems: readonly string[];
  /** One line each: facts worth a line that are not problems (a channel dropped as dead). */
  readonly notes: readonly string[];
}

/** The problems of a frames training set; `minClassSamples`: fewer samples in a class is a problem. */
export function trainingProblems(set: TrainingSet, minClassSamples: number): TrainingProblems {
  const problems: string[] = [];
  const notes = set.dropped.map((d) => `channel ${d.channel} dropped: dead in all of training (${d.why}); ignored live the same way`);
  const kept = new Map<string, number>();
  for (const l of set.table.labels) kept.set(l, (kept.get(l) ?? 0) + 1);
  const skippedLabels = new Map<string, number>();
  for (const s of set.skipped) {
    if (s.reasons.includes('no-label')) continue;
    skippedLabels.set(s.label ?? '', (skippedLabels.get(s.label ?? '') ?? 0) + 1);
  }
  const lost = [...skippedLabels.keys()].filter((l) => l !== '' && !kept.has(l)).sort();
  if (lost.length > 0) problems.push(`${lost.length} class(es) lost to the quality gates (every cycle skipped): ${lost.join(', ')}`);
  const small = [...kept.entries()].filter(([, n]) => n < minClassSamples).sort(([a], [b]) => (a < b ? -1 : 1));
  if (small.length > 0) {
    problems.push(`${small.length} class(es) with fewer than ${minClassSamples} samples: ${small.map(([l, n]) => `${l} (${n})`).join(', ')}`);
  }
  const cycles = set.table.count + set.skipped.length;
  const byReason = new Map<string, number>();
  for (const s of set.skipped) for (const r of s.reasons) byReason.set(r, (byReason.get(r) ?? 0) + 1);
  for (const [reason, n] of [...byReason.entries()].sort(([, a], [, b]) => b - a)) {
    if (reason !== 'no-label' && n > GATE_SHARE_LIMIT * cycles) {
      problems.push(`${reason} skipped ${n} of ${cycles} cycles (${((100 * n) / cycles).toFixed(1)}%, more than ${100 * GATE_SHARE_LIMIT}%)`);
    }
  }
  return { problems, notes };
}

const pct = (v: number | null) => (v === null ? '   n/a' : `${(100 * v).toFixed(1).padStart(5)}%`);

/** The table the model was chosen from, best row marked. */
export function selectionTable(selection: Pick<Selection, 'rows' | 'best' | 'folds' | 'grouping'>): string {
  const policy = selection.rows.some((r) => r.detectionRate !== null);
  const head = `chose from ${selection.rows.length} candidates by ${selection.folds}-fold cross-validation grouped by ${selection.grouping}` +
    (policy ? ' (score: detection at the false-alarm target' : ' (score: accuracy') + '; kept: the first within one standard error of the best)';
  const lines = [head, `  ${'features'.padEnd(16)} ${'transform'.padEnd(10)} ${'classifier'.padEnd(10)} samples accuracy${policy ? ' detection false-alarms' : ''}`];
  for (const r of selection.rows) {
    const mark = r === selection.best ? '*' : ' ';
    const cells = `${r.family.padEnd(16)} ${r.transform.padEnd(10)} ${r.classifier.padEnd(10)} ${String(r.samples).padStart(7)}   ${pct(r.accuracy)}`;
    lines.push(`${mark} ${cells}${policy ? `    ${pct(r.detectionRate)}       ${pct(r.falseAlarmRate)}` : ''}${r.error ? `  (${r.error})` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}
