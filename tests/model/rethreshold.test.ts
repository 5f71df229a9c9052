/**
 * Re-setting a model's verdict threshold from labelled samples measured after training (`rethresholdModel`,
 * `enose calibrate --method threshold`): the new threshold meets the target on those samples as the engine
 * judges them, and is the lowest that does; nothing but the policy and the lineage changes; misuse is refused.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run.js';
import { readModelFile, writeModelFile } from '../../src/io/modelFile.js';
import { hashLabelledRows } from '../../src/model/drift/finetune.js';
import { compileModel, compilePolicy, decideVerdict, noveltyOfLast, predictCompiled } from '../../src/model/runtime/pipeline.js';
import { fitModel } from '../../src/model/fitting/fitModel.js';
import { rethresholdModel } from '../../src/model/drift/rethreshold.js';
import type { FeatureTable } from '../../src/types.js';
import { REPO_ROOT } from '../helpers/shared.js';
import { makeClusters } from '../helpers/synthetic.js';

const CLASSES = ['clear', 'cocaine'];
/** Training rows: the first 30 a class of the clusters; later rows of the same clusters are "measured after training". */
const all = makeClusters({ seed: 4, classes: CLASSES, perClass: 430, width: 4, separation: 1.2 });
/** Mean of each feature over the first 60 rows, per class. */
const meanOf = (label: string) => Array.from({ length: all.width }, (_, j) => {
  let s = 0;
  let n = 0;
  for (let i = 0; i < 60; i++) if (all.labels[i] === label) (s += all.x[i * all.width + j]!), n++;
  return s / n;
});
const [clearMean, drugMean] = [meanOf('clear'), meanOf('cocaine')];
/** Rows from..to, every row moved by `drift` times the step from the clear mean to the cocaine mean (a drift after training, blind to labels). */
const rows = (from: number, to: number, drift = 0): FeatureTable => {
  const w = all.width;
  const x = all.x.slice(from * w, to * w);
  for (let i = 0; i < to - from; i++) for (let j = 0; j < w; j++) x[i * w + j]! += drift * (drugMean[j]! - clearMean[j]!);
  return { ...all, count: to - from, x, labels: all.labels.slice(from, to), samples: all.samples.slice(from, to), groups: all.groups.slice(from, to) };
};
const train = rows(0, 60);
const later = rows(60, 860, 0.25);
const input = { kind: 'features' as const, featureNames: [...all.featureNames] };

/** The engine's verdicts on a table: alarms among clear- and suspicious-labelled rows. */
function alarms(model: ReturnType<typeof fitModel>, table: FeatureTable): { clear: number; clearAlarms: number; drug: number; drugAlarms: number } {
  const compiled = compileModel(model);
  const policy = compilePolicy(model);
  const probs = new Float64Array(model.classes.length);
  const out = { clear: 0, clearAlarms: 0, drug: 0, drugAlarms: 0 };
  for (let i = 0; i < table.count; i++) {
    const best = predictCompiled(compiled, table.x, i * table.width, probs);
    const verdict = decideVerdict(policy, probs, best, noveltyOfLast(compiled)).verdict;
    const alarm = verdict === 'suspicious' ? 1 : 0;
    if (table.labels[i] === 'clear') {
      out.clear++;
      out.clearAlarms += alarm;
    } else {
      out.drug++;
      out.drugAlarms += alarm;
    }
  }
  return out;
}

describe('rethresholdModel', () => {
  for (const noveltyQuantile of [0, 0.99]) {
    it(`sets the lowest threshold that keeps the clear-labelled alarms within the target, as the engine judges (novelty limit ${noveltyQuantile === 0 ? 'off' : 'on'})`, () => {
      const parent = fitModel(train, input, { classifier: 'lda', noveltyQuantile });
      const target = 0.05;
      const before = alarms(parent, later);
      const { bundle, choice, parent: atParent } = rethresholdModel(parent, later, { maxFalseAlarm: target });
      const after = alarms(bundle, later);
      // The drift made the parent's threshold miss the target on the later samples; the new one meets it.
      expect(before.clearAlarms / before.clear).toBeGreaterThan(target);
      expect(atParent.falseAlarmRate).toBeCloseTo(before.clearAlarms / before.clear, 12);
      expect(after.clearAlarms / after.clear).toBeLessThanOrEqual(target);
      expect(choice.falseAlarmRate).toBeCloseTo(after.clearAlarms / after.clear, 12);
      expect(choice.detectionRate).toBeCloseTo(after.drugAlarms / after.drug, 12);
      expect(choice.clearSamples).toBe(400);
      // The lowest such threshold: a hair lower, and one more clear sample is an alarm, over the target.
      const lower = rethresholdModel(parent, later, { maxFalseAlarm: target });
      const notch = { ...lower.bundle, policy: { ...lower.bundle.policy!, threshold: choice.threshold - 1e-9 } };
      expect(alarms(notch as typeof parent, later).clearAlarms / after.clear).toBeGreaterThan(target);
      // Nothing else moved: same classifier, scaler, projection and novelty limit; the lineage names all.
      const { policy: p1, id: _a, hash: _b, lineage, ...rest } = bundle;
      const { policy: p0, id: _c, hash: _d, lineage: _l, ...parentRest } = parent;
      expect(rest).toEqual(parentRest);
      expect(p1!.threshold).not.toBe(p0!.threshold);
      expect(p1!.calibration.folds).toBe(0);
      expect(p1!.calibration.note).toMatch(/re-set .* 800 labelled samples/);
      expect(lineage).toEqual({ parent: parent.hash, method: 'threshold(maxFalseAlarm=0.05)', reference: hashLabelledRows(later) });
    });
  }

  it('with a confidence, allows fewer alarms on the samples, and names it in the lineage', () => {
    const parent = fitModel(train, input, { classifier: 'lda', noveltyQuantile: 0 });
    const plain = rethresholdModel(parent, later, { maxFalseAlarm: 0.05 });
    const held = rethresholdModel(parent, later, { maxFalseAlarm: 0.05, confidence: 0.95 });
    expect(held.choice.falseAlarmRate!).toBeLessThan(plain.choice.falseAlarmRate!);
    expect(held.bundle.policy!.threshold).toBeGreaterThan(plain.bundle.policy!.threshold);
    expect(alarms(held.bundle, later).clearAlarms).toBe(Math.round(held.choice.falseAlarmRate! * 400));
    expect(held.bundle.lineage!.method).toBe('threshold(maxFalseAlarm=0.05,confidence=0.95)');
    expect(held.bundle.policy!.calibration.note).toMatch(/at most 5 % false alarms at 95 % confidence/);
  });

  it('refuses a model without a policy, data without labels, and too few clear samples for the target', () => {
    const parent = fitModel(train, input, { classifier: 'lda', noveltyQuantile: 0 });
    const noPolicy = fitModel({ ...train, labels: train.labels.map((l) => (l === 'clear' ? 'air' : l)) }, input, { classifier: 'lda', noveltyQuantile: 0 });
    expect(() => rethresholdModel(noPolicy, later)).toThrow(/no suspicious\/clear policy/);
    expect(() => rethresholdModel(parent, { ...later, labels: later.labels.map(() => '') })).toThrow(/no labelled sample/);
    // 1 % needs 100 clear samples; the first 150 later rows hold 75.
    expect(() => rethresholdModel(parent, rows(60, 210), { maxFalseAlarm: 0.01 })).toThrow(/75 clear-labelled samples cannot resolve a false-alarm rate of 1 %: at least 100/);
    expect(() => rethresholdModel(parent, later, { maxFalseAlarm: 0 })).toThrow(/must be in \(0, 1\)/);
  });
});

describe('enose calibrate --method threshold', () => {
  const dir = mkdtempSync(join(tmpdir(), 'enose-rethreshold-'));
  const path = (name: string) => join(dir, name);
  const csv = (name: string, table: FeatureTable, labelled = true): string => {
    const lines = [`sample,label,${table.featureNames.join(',')}`];
    for (let i = 0; i < table.count; i++) lines.push(`${table.samples[i]},${labelled ? table.labels[i] : ''},${Array.from(table.x.subarray(i * table.width, (i + 1) * table.width)).join(',')}`);
    writeFileSync(path(name), `${lines.join('\n')}\n`);
    return path(name);
  };
  async function cli(...argv: string[]) {
    let stdout = '';
    let stderr = '';
    const code = await runCli(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), isTty: false, signal: new AbortController().signal });
    return { code, stdout, stderr };
  }
  const parent = fitModel(train, input, { classifier: 'lda', noveltyQuantile: 0, maxFalseAlarm: 0.02 });
  writeModelFile(path('parent.json'), parent);

  it('writes the re-thresholded model and says it used labels, with both thresholds on the samples', async () => {
    const data = csv('later.csv', later);
    const run = await cli('calibrate', '--model', path('parent.json'), '--method', 'threshold', data, '--out', path('t.json'));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^USES LABELS: threshold of model [0-9a-f]{16} re-set on 400 clear- and 400 suspicious-labelled samples \(target 2\.00 % false alarms\)/);
    expect(run.stdout).toMatch(/parent threshold 0\.\d{4}: false alarms \d+\.\d\d %, detection \d+\.\d\d %/);
    const written = readModelFile(path('t.json'));
    if (!written.ok) throw new Error(written.error.reason);
    expect(written.value.lineage!.method).toBe('threshold(maxFalseAlarm=0.02)');
    const expected = rethresholdModel(parent, { ...later, source: data });
    expect(written.value.policy!.threshold).toBe(expected.bundle.policy!.threshold);
    const json = await cli('calibrate', '--model', path('parent.json'), '--method', 'threshold', data, '--out', path('t2.json'), '--max-false-alarm', '0.05', '--json');
    expect(json.code, json.stderr).toBe(0);
    const summary = JSON.parse(json.stdout) as { parent: string; threshold: { falseAlarmRate: number; clearSamples: number }; lineage: { method: string } };
    expect(summary.parent).toBe(parent.id);
    expect(summary.threshold.clearSamples).toBe(400);
    expect(summary.threshold.falseAlarmRate).toBeLessThanOrEqual(0.05);
    expect(summary.lineage.method).toBe('threshold(maxFalseAlarm=0.05)');
  });

  it('re-sets a frames model on a simulated recording, scoring and gating the cycles as the engine does (enose evaluate agrees)', async () => {
    const recording = path('sim-later');
    const sim = await cli('simulate', '--containers', '60', '--seed', '2', '--rig-seed', '1', '--start-day', '17', '--out', recording);
    expect(sim.code, sim.stderr).toBe(0);
    const run = await cli('calibrate', '--model', join(REPO_ROOT, 'datasets', 'container-sim', 'exposure-model.json.gz'), '--method', 'threshold', recording, '--max-false-alarm', '0.1', '--out', path('sim-t.json'), '--json');
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as { threshold: { falseAlarmRate: number; clearSamples: number; suspiciousSamples: number } };
    expect(summary.threshold.clearSamples + summary.threshold.suspiciousSamples).toBeGreaterThan(50);
    expect(summary.threshold.falseAlarmRate).toBeLessThanOrEqual(0.1);
    const evaluated = await cli('evaluate', recording, '--model', path('sim-t.json'), '--json');
    expect(evaluated.code, evaluated.stderr).toBe(0);
    const report = JSON.parse(evaluated.stdout) as { classes: string[]; confusion: number[][]; falseAlarmRate: number };
    const clearRow = report.confusion[report.classes.indexOf('clear')]!;
    const clearCount = clearRow.reduce((a, b) => a + b, 0);
    // The same alarms among the clear containers: calibrate leaves out only cycles the engine would not judge.
    expect(Math.round(report.falseAlarmRate * clearCount)).toBe(Math.round(summary.threshold.falseAlarmRate * summary.threshold.clearSamples));
    expect(clearCount).toBeGreaterThanOrEqual(summary.threshold.clearSamples);
  });

  it('refuses unlabelled data and options of other methods in one line', async () => {
    const unlabelled = csv('unlabelled.csv', later, false);
    for (const [args, pattern] of [
      [['--method', 'threshold', unlabelled], /no labelled sample/],
      [['--method', 'standardise', unlabelled, '--max-false-alarm', '0.01'], /--max-false-alarm is an option of --method threshold/],
      [['--method', 'threshold', unlabelled, '--labelled', unlabelled], /--labelled is for the fine-tune/],
      [['--method', 'standardise', unlabelled, '--confidence', '0.95'], /--confidence is an option of --method threshold/],
    ] as const) {
      const run = await cli('calibrate', '--model', path('parent.json'), ...args, '--out', path('x.json'));
      expect(run.code).toBe(2);
      expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(run.stderr).toMatch(pattern);
    }
  });
});
