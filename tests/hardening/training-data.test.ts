/**
 * Issue 24, training data: a crafted data file cannot make `enose train` run for ever or exhaust memory (width,
 * rows and labels are bounded, each bound refused in one line naming it and the option that raises it), SIGTERM
 * and SIGINT stop a long training at once without a model file, and a training set without a suspicious class
 * (a model that could only clear) is refused unless asked for. The files are crafted in a temp folder.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runEnose, type CliRun } from '../helpers/cli.js';
import { SHIPPED_MODELS } from '../helpers/models.js';
import { CLI, REPO_ROOT } from '../helpers/shared.js';

const dir = mkdtempSync(join(tmpdir(), 'enose-train-data-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

/** A feature CSV: `rows` rows of `width` features, labels cycling through `labels`; pseudo-random values. */
function featureCsv(width: number, rows: number, labels: readonly string[]): string {
  let seed = 7;
  const next = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648).toFixed(3);
  const lines = [`label,${Array.from({ length: width }, (_, j) => `f${j + 1}`).join(',')}`];
  for (let i = 0; i < rows; i++) lines.push(`${labels[i % labels.length]},${Array.from({ length: width }, next).join(',')}`);
  return `${lines.join('\n')}\n`;
}

/** A frames CSV of `cycles` cycles (B then E, 1 Hz) over `channels` channels, labels cycling through `labels`. */
function framesCsv(cycles: number, channels: number, labels: readonly string[]): string {
  const names = Array.from({ length: channels }, (_, c) => `g${c + 1}`);
  const rows = [`sample,label,t_s,phase,${names.join(',')}`];
  for (let k = 0; k < cycles; k++) {
    for (let t = 0; t < 20; t++) {
      const e = t < 10 ? 0 : 0.05 * (1 + (k % 3)) * (1 - Math.exp(-(t - 10) / 3));
      rows.push(`c${k},${labels[k % labels.length]},${t},${t < 10 ? 'B' : 'E'},${names.map((_, c) => (1000 * (c + 1) * (1 + 0.001 * Math.sin(t + k)) / (1 + e * (c + 1))).toFixed(3)).join(',')}`);
    }
  }
  return `${rows.join('\n')}\n`;
}

/** The run failed in one line on stderr (exit 2) matching every pattern, and wrote no model. */
function expectRefused(run: CliRun, out: string, ...patterns: RegExp[]): void {
  expect(run.code, run.stderr).toBe(2);
  expect(run.stdout).toBe('');
  const lines = run.stderr.split('\n').filter((l) => l !== '');
  expect(lines, run.stderr).toHaveLength(1);
  expect(lines[0]!.length).toBeLessThan(400);
  for (const p of patterns) expect(lines[0]).toMatch(p);
  expect(existsSync(out)).toBe(false);
}

describe('enose train: width, rows and size of the data are bounded', () => {
  it('a feature CSV wider than --max-columns is refused at its header, the bound and the option named', () => {
    const path = file('wide50.csv', featureCsv(50, 10, ['clear', 'cocaine']));
    const out = join(dir, 'wide50.json');
    expectRefused(runEnose(['train', path, '--out', out, '--max-columns', '40']), out, /wide50\.csv:1: 50 feature columns, more than the 40 a data file may have \(--max-columns raises the bound\)/);
    // At the bound it trains.
    expect(runEnose(['train', path, '--out', out, '--max-columns', '50', '--cv', '0', '--json']).code).toBe(0);
  });

  it("the attack run's file (20,000 columns) is refused at the default bound, before any work", () => {
    const path = file('attack20k.csv', featureCsv(20_000, 40, ['clear', 'cocaine']));
    const out = join(dir, 'attack20k.json');
    expectRefused(runEnose(['train', path, '--out', out]), out, /attack20k\.csv:1: 20,000 feature columns, more than the 1,000 a data file may have \(--max-columns raises the bound\)/);
  });

  it('a libsvm index above --max-columns (a dense table of that width) is refused at its line', () => {
    const path = file('wide.dat', 'clear 1:0.5 2:0.25\ncocaine 1:0.1 20000:1\n');
    const out = join(dir, 'widedat.json');
    expectRefused(runEnose(['train', path, '--out', out]), out, /wide\.dat:2: index in "20000:1" is larger than the 1,000 columns a data file may have \(--max-columns raises the bound\)/);
  });

  it('frames with more channels than --max-columns are refused at the header', () => {
    const path = file('channels.csv', framesCsv(4, 6, ['clear', 'cocaine']));
    const out = join(dir, 'channels.json');
    expectRefused(runEnose(['train', path, '--out', out, '--max-columns', '5']), out, /channels\.csv:1: 6 channels, more than the 5 .*--max-columns/);
  });

  it('frames whose cycles give more features than --max-columns are refused before extraction (chosen or fixed features)', () => {
    const path = file('many-features.csv', framesCsv(4, 12, ['clear', 'cocaine']));
    const out = join(dir, 'many-features.json');
    expectRefused(runEnose(['train', path, '--out', out, '--max-columns', '20']), out, /many-features\.csv: \d+ features a cycle \(phase, 12 channels\), more than the 20 columns .*--max-columns raises the bound/);
    expectRefused(runEnose(['train', path, '--out', out, '--max-columns', '20', '--features', 'whole', '--classifier', 'lda']), out, /\d+ features a cycle \(whole, 12 channels\)/);
  });

  it('more rows than --max-rows (samples of feature files, frames of frames files) are refused at the first row past it', () => {
    const features = file('rows.csv', featureCsv(3, 30, ['clear', 'cocaine']));
    const out = join(dir, 'rows.json');
    expectRefused(runEnose(['train', features, '--out', out, '--max-rows', '20']), out, /rows\.csv:22: more than 20 rows in the data \(--max-rows raises the bound\)/);
    const frames = file('frame-rows.csv', framesCsv(10, 3, ['clear', 'cocaine']));
    expectRefused(runEnose(['train', frames, '--out', out, '--max-rows', '100']), out, /frame-rows\.csv:102: more than 100 rows/);
    // The rows of several files count together.
    const second = file('rows-b.csv', featureCsv(3, 15, ['clear', 'cocaine']));
    expectRefused(runEnose(['train', second, features, '--out', out, '--max-rows', '40']), out, /rows\.csv:27: more than 40 rows/);
  });

  it('more numbers than --max-values, and a file over --max-file-mb, are refused with the option named', () => {
    const path = file('values.csv', featureCsv(10, 30, ['clear', 'cocaine']));
    const out = join(dir, 'values.json');
    expectRefused(runEnose(['train', path, '--out', out, '--max-values', '200']), out, /values\.csv:22: more than 200 numbers in the data .*--max-values raises the bound/);
    expectRefused(runEnose(['train', path, '--out', out, '--max-file-mb', '0.001']), out, /values\.csv: 0\.\d+ MiB: too large to read whole \(at most 0\.001 MiB\); split it .*raise the bound with --max-file-mb/);
  });
});

describe('enose train: labels', () => {
  it('an empty label in a feature file is refused, naming the file and the line', () => {
    const text = featureCsv(3, 6, ['clear', 'cocaine']).split('\n');
    text[3] = text[3]!.replace(/^[a-z]+/, '');
    const path = file('empty-label.csv', text.join('\n'));
    const out = join(dir, 'empty-label.json');
    expectRefused(runEnose(['train', path, '--out', out]), out, /empty-label\.csv:4: empty label: every training sample needs one/);
  });

  it('a 1 MB label is refused in one short line naming the file and the line (feature and frames files)', () => {
    const huge = 'x'.repeat(1 << 20);
    const text = featureCsv(3, 6, ['clear', 'cocaine']).split('\n');
    text[2] = text[2]!.replace(/^[a-z]+/, huge);
    const path = file('long-label.csv', text.join('\n'));
    const out = join(dir, 'long-label.json');
    expectRefused(runEnose(['train', path, '--out', out]), out, /long-label\.csv:3: label of 1,048,576 characters, more than 128/);
    const frames = framesCsv(4, 3, ['clear', 'cocaine']).split('\n');
    frames[30] = frames[30]!.replace(/^c1,cocaine,/, `c1,${huge},`);
    const framesPath = file('long-label-frames.csv', frames.join('\n'));
    expectRefused(runEnose(['train', framesPath, '--out', out]), out, /long-label-frames\.csv:31: label of 1,048,576 characters/);
  });

  it('more distinct labels than --max-classes are refused at the first label past the bound', () => {
    const path = file('classes.csv', featureCsv(3, 12, ['clear', 'a', 'b', 'c']));
    const out = join(dir, 'classes.json');
    expectRefused(runEnose(['train', path, '--out', out, '--max-classes', '3']), out, /classes\.csv:5: label "c" is class number 4, more than the 3 .*--max-classes raises the bound/);
  });
});

describe('enose train: a set without a suspicious class', () => {
  it('only clear samples are refused; --allow-no-suspicious-class trains them', () => {
    const path = file('only-clear.csv', featureCsv(4, 40, ['clear']));
    const out = join(dir, 'only-clear.json');
    expectRefused(runEnose(['train', path, '--out', out]), out, /only-clear\.csv: no suspicious class to train on .*--allow-no-suspicious-class/);
    const run = runEnose(['train', path, '--out', out, '--allow-no-suspicious-class', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(existsSync(out)).toBe(true);
  });

  it('--clear listing every class is refused the same way; a suspicious class among them trains', () => {
    const path = file('clear-listed.csv', featureCsv(4, 40, ['tea', 'coffee']));
    const out = join(dir, 'clear-listed.json');
    expectRefused(runEnose(['train', path, '--out', out, '--clear', 'tea,coffee']), out, /no suspicious class .*clear = tea,coffee/);
    expect(runEnose(['train', path, '--out', out, '--clear', 'tea', '--json']).code).toBe(0);
  });

  it('frames whose only cycles are clear are refused before any feature is extracted', () => {
    const path = file('only-clear-frames.csv', framesCsv(6, 3, ['clear']));
    const out = join(dir, 'only-clear-frames.json');
    expectRefused(runEnose(['train', path, '--out', out]), out, /only-clear-frames\.csv: no suspicious class/);
  });
});

/** Starts a long MLP training, waits for its first epoch line, sends `signal`; resolves the exit and stderr. */
function stopDuringTraining(signal: 'SIGTERM' | 'SIGINT', out: string, data: string): Promise<{ code: number | null; stderr: string; epochSeen: boolean }> {
  return new Promise((resolve, reject) => {
    // 100 networks of 128-64 on 3,000 rows, one after the other on two threads: minutes of work.
    const args = ['train', data, '--out', out, '--classifier', 'mlp', '--networks', '100', '--threads', '2', '--max-epochs', '100000', '--progress'];
    const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let epochSeen = false;
    const deadline = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no exit within 60 s of the start (stderr: ${stderr.slice(-300)})`));
    }, 60_000);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (!epochSeen && /network \d+, epoch 1:/.test(stderr)) {
        epochSeen = true;
        child.kill(signal);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(deadline);
      resolve({ code, stderr, epochSeen });
    });
  });
}

describe('enose train: SIGTERM and SIGINT during training', () => {
  const data = file('long.csv', featureCsv(40, 3000, ['clear', 'cocaine', 'mdma']));

  for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
    it(`${signal} during MLP training on worker threads stops it with exit ${code}, one line, and no model file`, async () => {
      const sub = mkdtempSync(join(dir, `${signal}-`));
      const out = join(sub, 'model.json');
      const run = await stopDuringTraining(signal, out, data);
      expect(run.epochSeen, run.stderr).toBe(true);
      expect(run.code, run.stderr).toBe(code);
      expect(run.stderr.trimEnd().split('\n').at(-1)).toBe(`enose train: stopped by ${signal}: no model written`);
      // Neither the model nor the atomic writer's temporary file.
      expect(readdirSync(sub)).toEqual([]);
    }, 90_000);
  }
});

describe('evaluate reads within the same bounds (both shipped models)', () => {
  const recording = join(dir, 'sim');
  const made = runEnose(['simulate', '--containers', '3', '--seed', '5', '--out', recording]);

  for (const model of SHIPPED_MODELS) {
    it(`${model.name} model: a simulated recording evaluates at the default bounds and is refused under --max-columns 10`, () => {
      expect(made.code, made.stderr).toBe(0);
      const judged = runEnose(['evaluate', recording, '--model', model.path, '--json']);
      expect(judged.code, judged.stderr).toBe(0);
      expect(JSON.parse(judged.stdout).n).toBe(3);
      const refused = runEnose(['evaluate', recording, '--model', model.path, '--max-columns', '10']);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/^enose evaluate: .*frames\.csv:\d+: 18 channels, more than the 10 a data file may have \(--max-columns raises the bound\)\n$/);
    });
  }
});
