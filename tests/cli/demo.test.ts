/**
 * `enose demo` (what `npm start` runs) through the real CLI: the shipped models stream simulated evaluation
 * containers through the engine and the summary says what they did; misuse is one line.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { runEnose } from '../helpers/cli.js';
import { REPO_ROOT } from '../helpers/shared.js';

interface Summary {
  containers: number;
  perLabel: Record<string, { n: number; suspicious: number; inconclusive: number; clear: number }>;
  detectionRate: number | null;
  falseAlarmRate: number | null;
  inconclusive: number;
  latencyMsP50: number;
  latencyMsP99: number;
}

const idOf = (file: string) => (JSON.parse(gunzipSync(readFileSync(join(REPO_ROOT, 'datasets', 'container-sim', file))).toString('utf8')) as { id: string }).id;

describe('enose demo', () => {
  const cases = [
    ['default', [], 'default-model.json.gz'],
    ['exposure', ['--at-exposure-end'], 'exposure-model.json.gz'],
  ] as const;
  for (const [name, args, file] of cases) {
    const present = existsSync(join(REPO_ROOT, 'datasets', 'container-sim', file));
    if (!present) console.warn(`skipping enose demo with the ${name} model: datasets/container-sim/${file} is missing (npm run model:default -- ${name})`);
    it.skipIf(!present)(`streams 30 evaluation containers through the engine with the shipped ${name} model and sums them up`, () => {
      const run = runEnose(['demo', ...args, '--containers', '30', '--json']);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const out = JSON.parse(run.stdout) as { modelId: string; evaluation: Summary; training: Summary };
      expect(out.modelId).toBe(idOf(file));
      const e = out.evaluation;
      expect(e.containers).toBe(30);
      const counted = Object.values(e.perLabel).reduce((s, r) => s + r.n, 0);
      expect(counted).toBe(30);
      for (const r of Object.values(e.perLabel)) expect(r.suspicious + r.inconclusive + r.clear).toBe(r.n);
      // A working model on 30 containers: most drug containers flagged, few clear ones (loose bounds: 30 is few).
      expect(e.detectionRate!).toBeGreaterThan(0.5);
      expect(e.falseAlarmRate!).toBeLessThan(0.2);
      expect(e.latencyMsP99).toBeGreaterThan(0);
      expect(out.training.containers).toBe(400);
    });
  }

  it('--eval-seed draws other containers of the evaluation days on the same rig', () => {
    const own = JSON.parse(runEnose(['demo', '--containers', '12', '--json']).stdout) as { evaluation: Summary & { set: string } };
    const run = runEnose(['demo', '--containers', '12', '--eval-seed', '3', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const other = JSON.parse(run.stdout) as { evaluation: Summary & { set: string } };
    expect(other.evaluation.set).toBe('evaluation (days 21-30, seed 3)');
    expect(own.evaluation.set).toBe('evaluation (days 21-30)');
    expect(other.evaluation.containers).toBe(12);
    expect(other.evaluation.perLabel).not.toEqual(own.evaluation.perLabel);
    expect(runEnose(['demo', '--containers', '3', '--eval-seed', '3']).stdout).toMatch(/simulator seed 3 \(rig of seed 1\), days 21-30, 3 containers/);
  });

  it('prints the containers, the summary and the hint to the other models', () => {
    const run = runEnose(['demo', '--containers', '5']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/verdict when the recovery ends/);
    expect(run.stdout.split('\n').filter((l) => / -> (suspicious|clear|inconclusive) /.test(l))).toHaveLength(5);
    expect(run.stdout).toMatch(/detection rate \d+\.\d%, false-alarm rate \d+\.\d%, inconclusive \d+/);
    expect(run.stdout).toMatch(/Deciding when the exposure ends instead \(60 s earlier, fewer detections\): enose demo --at-exposure-end/);
    const early = runEnose(['demo', '--containers', '3', '--at-exposure-end']);
    expect(early.code).toBe(0);
    expect(early.stdout).toMatch(/verdict when the exposure ends/);
    expect(early.stdout).not.toMatch(/Deciding when/);
  });

  it('--adapt runs the evaluation with adaptation on and says whether the watchdog stopped it', () => {
    const run = runEnose(['demo', '--containers', '120', '--adapt', '--json']);
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as { evaluation: Summary & { adaptation?: { accepted: number; stoppedAfter: number | null; disagreements: number } }; training: Summary & { adaptation?: unknown } };
    const a = out.evaluation.adaptation!;
    expect(a.accepted).toBeGreaterThanOrEqual(0);
    expect(a.stoppedAfter === null || (a.stoppedAfter >= 1 && a.stoppedAfter <= 120)).toBe(true);
    expect(a.disagreements).toBeGreaterThanOrEqual(0);
    // The in-sample run beside it is without adaptation.
    expect(out.training.adaptation).toBeUndefined();
    const text = runEnose(['demo', '--containers', '60', '--adapt']);
    expect(text.stdout).toMatch(/adaptation: (\d+ clear samples accepted, not stopped|stopped by its watchdog after container \d+)/);
    expect(text.stdout).toMatch(/adaptation-disagrees \(cleared by the adapted model, flagged by the parent: inconclusive\): \d+/);
  });

  it('--shipped recovery-start: the early plan\'s 100 s checkpoint model alone, judged 10 s into the recovery', () => {
    const run = runEnose(['demo', '--shipped', 'recovery-start', '--containers', '10']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/verdict 10 s into the recovery\)/);
  });

  it('refuses a model chosen twice or a shipped model that does not exist, in one line', () => {
    for (const [args, pattern] of [
      [['--shipped', 'bogus'], /--shipped must be one of default, exposure, recovery-start, got "bogus"/],
      [['--at-exposure-end', '--model', 'x.json'], /choose the model once/],
      [['--shipped', 'exposure', '--at-exposure-end'], /choose the model once/],
      [['--after-recovery'], /--after-recovery is gone: the default model decides when the recovery ends/],
    ] as const) {
      const run = runEnose(['demo', ...args]);
      expect(run.code).toBe(2);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toMatch(pattern);
    }
  });
});
