/**
 * `enose train` options added for the simulator's default model (exposure windows, logistic regression's C)
 * and for the drift data's views model (`--views`), through the real CLI.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLibsvm } from '../../src/io/datasets/index.js';
import { expandForModel, fitViewsModel } from '../../src/model/drift/views.js';
import { compileModel, predictCompiled } from '../../src/model/runtime/pipeline.js';
import { runEnose } from '../helpers/cli.js';
import { DRIFT_RAW, haveShared } from '../helpers/shared.js';

const dir = mkdtempSync(join(tmpdir(), 'enose-train-'));

/** A frames CSV of 40 cycles: 5 s of B, 7 s of E at 10 Hz; cocaine rises slower than clear (kinetics only). */
function framesCsv(): string {
  const names = ['s1', 's2', 's3', 'temp_c', 'rh_pct'];
  const rows = [`sample,label,t_s,phase,${names.join(',')}`];
  for (let k = 0; k < 40; k++) {
    const label = k % 2 ? 'clear' : 'cocaine';
    const tau = label === 'clear' ? 0.5 : 3;
    const amount = 0.05 + 0.01 * (k % 5);
    for (let f = 0; f < 120; f++) {
      const t = f / 10;
      const phase = t < 5 ? 'B' : 'E';
      const e = phase === 'E' ? amount * (1 - Math.exp(-(t - 5) / tau)) : 0;
      const wobble = 1 + 0.0005 * Math.sin(7 * f + k);
      const g = [1000, 2000, 3000].map((r0, c) => (r0 * wobble) / (1 + e * (c + 1)));
      rows.push(`c${k},${label},${t.toFixed(1)},${phase},${g.map((v) => v.toFixed(3)).join(',')},${(20 + 0.01 * Math.sin(f)).toFixed(3)},${(60 + 0.1 * Math.cos(f)).toFixed(2)}`);
    }
  }
  return `${rows.join('\n')}\n`;
}

/**
 * A frames CSV of 40 cycles (B 5 s, E 6 s, R 4 s at 10 Hz) whose two classes rise alike and differ only in how
 * fast they leave the sensors: recovery time constant 0.4 s (clear) against 3 s (cocaine).
 */
function recoveryFramesCsv(): string {
  const names = ['s1', 's2', 'temp_c', 'rh_pct'];
  const rows = [`sample,label,t_s,phase,${names.join(',')}`];
  for (let k = 0; k < 40; k++) {
    const label = k % 2 ? 'clear' : 'cocaine';
    const tauR = label === 'clear' ? 0.4 : 3;
    const amount = 0.05 + 0.01 * (k % 5);
    for (let f = 0; f < 150; f++) {
      const t = f / 10;
      const phase = t < 5 ? 'B' : t < 11 ? 'E' : 'R';
      const e = phase === 'B' ? 0 : phase === 'E' ? amount * (1 - Math.exp(-(t - 5))) : amount * (1 - Math.exp(-6)) * Math.exp(-(t - 11) / tauR);
      const wobble = 1 + 0.0005 * Math.sin(7 * f + k);
      const g = [1000, 2000].map((r0, c) => (r0 * wobble) / (1 + e * (c + 1)));
      rows.push(`c${k},${label},${t.toFixed(1)},${phase},${g.map((v) => v.toFixed(3)).join(',')},${(20 + 0.01 * Math.sin(f)).toFixed(3)},${(60 + 0.1 * Math.cos(f)).toFixed(2)}`);
    }
  }
  return `${rows.join('\n')}\n`;
}

describe('enose train: recovery windows', () => {
  const frames = join(dir, 'recovery-frames.csv');
  writeFileSync(frames, recoveryFramesCsv());
  const accuracyOf = (model: string) => {
    const judged = runEnose(['evaluate', frames, '--model', model]);
    expect(judged.code).toBe(0);
    return Number(/accuracy (\d+(?:\.\d+)?)%/.exec(judged.stdout)?.[1]);
  };

  it('--recovery-window-s and --recovery-windows add rwin/drwin features; the model tells apart what only the recovery shows', () => {
    const withR = join(dir, 'rwin.json');
    const run = runEnose(['train', frames, '--out', withR, '--classifier', 'lda', '--response', 'log', '--window-s', '1', '--windows', '6', '--windows-only', '--recovery-window-s', '1', '--recovery-windows', '3', '--cv', '0', '--novelty-quantile', '0', '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const model = JSON.parse(readFileSync(withR, 'utf8'));
    expect(model.input.featureNames.filter((n: string) => n.startsWith('s1:'))).toEqual(['s1:win1', 's1:win2', 's1:win3', 's1:win4', 's1:win5', 's1:win6', 's1:rwin1', 's1:rwin2', 's1:rwin3']);
    expect(model.input.featureNames).toContain('rh_pct:drwin3');
    expect(model.input.extractor).toMatchObject({ recoveryWindowS: 1, recoveryWindowCount: 3 });
    const withoutR = join(dir, 'no-rwin.json');
    expect(runEnose(['train', frames, '--out', withoutR, '--classifier', 'lda', '--response', 'log', '--window-s', '1', '--windows', '6', '--windows-only', '--cv', '0', '--novelty-quantile', '0', '--json']).code).toBe(0);
    const late = accuracyOf(withR);
    const early = accuracyOf(withoutR);
    expect(late).toBeGreaterThan(95);
    expect(early).toBeLessThan(80);
  });

  it('--decide-in-recovery: the model decides when its last recovery window completes, inside the recovery (issue 22)', () => {
    const out = join(dir, 'in-recovery.json');
    const run = runEnose(['train', frames, '--out', out, '--classifier', 'lda', '--response', 'log', '--window-s', '1', '--windows', '6', '--windows-only', '--recovery-window-s', '1', '--recovery-windows', '2', '--decide-in-recovery', '--cv', '0', '--novelty-quantile', '0', '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const model = JSON.parse(readFileSync(out, 'utf8'));
    expect(model.input.extractor).toMatchObject({ recoveryWindowS: 1, recoveryWindowCount: 2, decideInRecovery: true });
    // 5 s of baseline, 6 s of exposure, then two 1 s recovery windows: each verdict at 13 s, inside the 4 s recovery.
    const replay = runEnose(['replay', frames, '--model', out, '--json']);
    expect(replay.code).toBe(0);
    const own = replay.stdout.split('\n').filter((l) => l.includes('"verdict"')).map((l) => JSON.parse(l) as { type: string; checkpoint: string; decidedAtS: number }).filter((v) => v.type === 'verdict');
    expect(own).toHaveLength(40);
    expect(new Set(own.map((v) => `${v.checkpoint} ${v.decidedAtS}`))).toEqual(new Set(['in-recovery 13']));
    expect(accuracyOf(out)).toBeGreaterThan(90);
    const bad = runEnose(['train', frames, '--out', join(dir, 'bad-r.json'), '--window-s', '1', '--decide-in-recovery']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--decide-in-recovery needs --recovery-window-s/);
  });

  it('--classifier mlp trains networks with --hidden, --networks and --max-epochs (on two threads or one: the same model), and evaluate replays the model', () => {
    const out = join(dir, 'mlp.json');
    const args = ['train', frames, '--classifier', 'mlp', '--hidden', '12', '--networks', '2', '--max-epochs', '40', '--alpha', '0.01', '--response', 'log', '--window-s', '1', '--windows', '6', '--windows-only', '--recovery-window-s', '1', '--recovery-windows', '3', '--novelty-quantile', '0', '--json'];
    const run = runEnose([...args, '--out', out, '--threads', '2']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const one = runEnose([...args, '--out', join(dir, 'mlp-1.json'), '--threads', '1']);
    expect(one.code).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'mlp-1.json'), 'utf8')).hash).toBe(JSON.parse(readFileSync(out, 'utf8')).hash);
    const model = JSON.parse(readFileSync(out, 'utf8'));
    expect(model.classifier.type).toBe('mlp');
    expect(model.classifier.networks).toHaveLength(2);
    expect(model.classifier.networks[0].layers.map((l: { outputs: number }) => l.outputs)).toEqual([12, 2]);
    expect(model.classifier.networks[0].epochs).toBeLessThanOrEqual(40);
    expect(model.training.options.mlp).toMatchObject({ hidden: [12], networks: 2, maxEpochs: 40, alpha: 0.01 });
    expect(model.training.count).toBe(32); // 40 cycles, one fold of 5 held out for the policy
    expect(accuracyOf(out)).toBeGreaterThan(0);
  });

  it('warns in one line when the unknown-odour limit alone flags more clear training samples than the false-alarm target', () => {
    const out = join(dir, 'loose.json');
    const run = runEnose(['train', frames, '--out', out, '--classifier', 'lda', '--response', 'log', '--window-s', '1', '--windows', '6', '--windows-only', '--novelty-quantile', '0.8', '--max-false-alarm', '0.01']);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/^enose train: warning: cross-validated false alarms \d+\.\d% are above the 1\.0% target because the unknown-odour limit alone flags more \(raise --novelty-quantile\)\n$/);
  });
});

describe('enose train: exposure windows and C', () => {
  const frames = join(dir, 'frames.csv');
  writeFileSync(frames, framesCsv());

  it('trains on window features with --window-s, --windows and --windows-only, and records them in the model', () => {
    const out = join(dir, 'win.json');
    const run = runEnose(['train', frames, '--out', out, '--classifier', 'logreg', '--c', '10', '--response', 'log', '--window-s', '2', '--windows', '3', '--windows-only', '--cv', '0', '--novelty-quantile', '0', '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const model = JSON.parse(readFileSync(out, 'utf8'));
    expect(model.input.featureNames).toEqual([
      's1:win1', 's1:win2', 's1:win3', 's2:win1', 's2:win2', 's2:win3', 's3:win1', 's3:win2', 's3:win3',
      'temp_c:mean', 'temp_c:delta', 'temp_c:dwin1', 'temp_c:dwin2', 'temp_c:dwin3',
      'rh_pct:mean', 'rh_pct:delta', 'rh_pct:dwin1', 'rh_pct:dwin2', 'rh_pct:dwin3',
    ]);
    expect(model.input.extractor).toMatchObject({ response: 'log', windowS: 2, windowCount: 3, summaryFeatures: false });
    expect(model.training.options.c).toBe(10);
    // The same frames replayed through the engine with this model: the kinetics tell the classes apart.
    const judged = runEnose(['evaluate', frames, '--model', out]);
    expect(judged.code).toBe(0);
    const accuracy = Number(/accuracy (\d+(?:\.\d+)?)%/.exec(judged.stdout)?.[1]);
    expect(accuracy).toBeGreaterThan(90);
  });

  it('--decide-in-exposure: the model decides when its last window completes, inside the exposure (issue 22)', () => {
    const out = join(dir, 'in-exposure.json');
    const run = runEnose(['train', frames, '--out', out, '--classifier', 'logreg', '--c', '10', '--response', 'log', '--window-s', '2', '--windows', '3', '--windows-only', '--decide-in-exposure', '--cv', '0', '--novelty-quantile', '0', '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const model = JSON.parse(readFileSync(out, 'utf8'));
    expect(model.input.extractor).toMatchObject({ windowS: 2, windowCount: 3, summaryFeatures: false, decideInExposure: true });
    // 5 s of baseline, then three 2 s windows: each verdict at 11 s, inside the 7 s exposure (which ends at 12 s).
    const replay = runEnose(['replay', frames, '--model', out, '--json']);
    expect(replay.code).toBe(0);
    const verdicts = replay.stdout.split('\n').filter((l) => l.includes('"verdict"')).map((l) => JSON.parse(l) as { type: string; checkpoint: string; decidedAtS: number });
    const own = verdicts.filter((v) => v.type === 'verdict');
    expect(own).toHaveLength(40);
    expect(new Set(own.map((v) => `${v.checkpoint} ${v.decidedAtS}`))).toEqual(new Set(['in-exposure 11']));
    const judged = runEnose(['evaluate', frames, '--model', out]);
    expect(judged.code).toBe(0);
    expect(Number(/accuracy (\d+(?:\.\d+)?)%/.exec(judged.stdout)?.[1])).toBeGreaterThan(90);
    const bad = runEnose(['train', frames, '--out', join(dir, 'bad.json'), '--window-s', '2', '--windows', '3', '--decide-in-exposure']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--decide-in-exposure needs --window-s and --windows-only/);
  });

  it('--novelty-whiten stores the whitening scale beside the novelty points, and the model replays', () => {
    const out = join(dir, 'white.json');
    const run = runEnose(['train', frames, '--out', out, '--classifier', 'lda', '--response', 'log', '--cv', '0', '--novelty-whiten', '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const model = JSON.parse(readFileSync(out, 'utf8'));
    expect(model.training.options.noveltyWhiten).toBe(true);
    expect(model.novelty.scale).toHaveLength(model.pca.components);
    expect(model.novelty.points.length % model.pca.components).toBe(0);
    const judged = runEnose(['evaluate', frames, '--model', out]);
    expect(judged.code).toBe(0);
    expect(judged.stdout).toMatch(/accuracy \d/);
  });

  it('refuses contradictory options in one line', () => {
    for (const [args, pattern] of [
      [['--windows-only'], /--windows-only needs --window-s/],
      [['--c', '10'], /--c is for --classifier logreg/],
      [['--views', 'none,signed-log'], /--views is for feature files/],
      [['--views', 'none,cube'], /--views must list views/],
      [['--hidden', '16'], /--hidden, --alpha, --networks, --max-epochs and --threads are for --classifier mlp/],
      [['--threads', '2'], /--hidden, --alpha, --networks, --max-epochs and --threads are for --classifier mlp/],
      [['--classifier', 'mlp', '--threads', '0'], /--threads/],
      [['--classifier', 'mlp', '--hidden', '16,x'], /--hidden must list layer sizes/],
    ] as const) {
      const run = runEnose(['train', frames, '--out', join(dir, 'x.json'), ...args]);
      expect(run.code).toBe(2);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toMatch(pattern);
    }
  });
});

const haveDrift = haveShared('datasets', 'uci-gas-drift', 'raw', 'batch1.dat');
if (!haveDrift) console.warn('skipping the views-model CLI test: ../shared/datasets/uci-gas-drift/raw is absent');

describe('enose train --views (drift data)', () => {
  it.skipIf(!haveDrift)('writes the same model as fitViewsModel, and evaluate expands base feature files for it', () => {
    const batch1 = join(DRIFT_RAW, 'batch1.dat');
    const out = join(dir, 'views.json');
    const run = runEnose(['train', batch1, '--out', out, '--classifier', 'logreg', '--components', '128', '--views', 'none,signed-log,log-abs', '--cv', '0', '--novelty-quantile', '0', '--json']);
    expect(run.code).toBe(0);
    const written = JSON.parse(readFileSync(out, 'utf8'));
    const table = parseLibsvm(readFileSync(batch1, 'utf8'), batch1);
    if (!table.ok) throw new Error('batch1 unreadable');
    const library = fitViewsModel(table.value, ['none', 'signed-log', 'log-abs'], { classifier: 'logreg', components: 128, cvFolds: 0, noveltyQuantile: 0 });
    expect(written.id).toBe(library.id);
    expect(written.input.featureNames).toHaveLength(3 * 128);
    // evaluate reads the 128-feature batch file and scores it through the 384-column model.
    const batch2 = join(DRIFT_RAW, 'batch2.dat');
    const evaluated = runEnose(['evaluate', batch2, '--model', out]);
    expect(evaluated.code).toBe(0);
    const accuracy = Number(/accuracy (\d+(?:\.\d+)?)%/.exec(evaluated.stdout)?.[1]);
    const t2 = parseLibsvm(readFileSync(batch2, 'utf8'), batch2);
    if (!t2.ok) throw new Error('batch2 unreadable');
    const compiled = compileModel(library);
    const probs = new Float64Array(library.classes.length);
    const wide = expandForModel(library, t2.value);
    let right = 0;
    for (let i = 0; i < wide.count; i++) if (library.classes[predictCompiled(compiled, wide.x, i * wide.width, probs)] === wide.labels[i]) right++;
    expect(accuracy).toBeCloseTo((100 * right) / wide.count, 1);
  });
});
