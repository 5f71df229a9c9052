/**
 * A user's existing recordings train a model without a conversion script (issue 19 item 6), through the CLI:
 * a folder of one CSV per recording, a BME AI-Studio `.bmerawdata`, and semicolon files with decimal commas
 * (`--delimiter`), which give the same verdicts as the comma file with both shipped models. Errors are one line
 * naming the file and the line.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runEnose } from '../helpers/cli.js';

const MODELS = ['datasets/container-sim/default-model.json.gz', 'datasets/container-sim/exposure-model.json.gz'];
const dir = mkdtempSync(join(tmpdir(), 'enose-import-'));

/** A lab's recordings: label folders, one CSV a recording, a time column, 30 s of clean air then 40 s of sample. */
function writeRecordings(root: string): void {
  const shapes: Record<string, number[]> = { coffee: [0.55, 0.8, 0.95], tea: [0.85, 0.6, 0.9], air: [0.99, 0.98, 1.0] };
  let seed = 3;
  const noise = () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 0.004;
  for (const [label, shape] of Object.entries(shapes)) {
    mkdirSync(join(root, label), { recursive: true });
    for (let r = 1; r <= 5; r++) {
      const rows = ['time_s,mq3,mq135,tgs2602,temperature,humidity'];
      for (let t = 0; t < 70; t++) {
        const exposed = t >= 30 ? Math.min(1, (t - 30) / 8) : 0;
        const values = [52000, 31000, 12000].map((r0, c) => (r0 * (1 + 0.03 * r) * (1 - exposed * (1 - shape[c]!)) * (1 + noise())).toFixed(1));
        rows.push([t, ...values, (22 + 0.01 * t).toFixed(2), (45 + 0.02 * t).toFixed(2)].join(','));
      }
      writeFileSync(join(root, label, `${label}_${r}.csv`), `${rows.join('\n')}\n`);
    }
  }
}

const recordings = join(dir, 'lab');
beforeAll(() => writeRecordings(recordings));

describe('a folder of one CSV per recording', () => {
  it('trains with defaults, evaluates and replays: one sample per file, labels from the folders', () => {
    const model = join(dir, 'lab-model.json');
    const train = runEnose(['train', recordings, '--out', model]);
    expect(train.code, train.stderr).toBe(0);
    expect(train.stdout).toMatch(/on 15 samples/);
    const evaluate = runEnose(['evaluate', recordings, '--model', model, '--json']);
    expect(evaluate.code, evaluate.stderr).toBe(0);
    const report = JSON.parse(evaluate.stdout) as { n: number; accuracy: number; classes: string[] };
    expect(report.n).toBe(15);
    expect(report.classes).toEqual(expect.arrayContaining(['air', 'coffee', 'tea']));
    expect(report.accuracy).toBeGreaterThan(0.9);
    const replay = runEnose(['replay', recordings, '--model', model]);
    expect(replay.code, replay.stderr).toBe(0);
    expect(replay.stdout.split('\n').filter((l) => /^(air|coffee|tea)\/\w+: /.test(l))).toHaveLength(15);
  });

  it('a bad cell is one line naming the file and the line', () => {
    const bad = join(dir, 'bad');
    writeRecordings(bad);
    const file = join(bad, 'tea', 'tea_2.csv');
    const lines = readFileSync(file, 'utf8').split('\n');
    lines[6] = lines[6]!.replace(/^(\d+),[^,]+/, '$1,12k');
    writeFileSync(file, lines.join('\n'));
    const run = runEnose(['train', bad, '--out', join(dir, 'x.json')]);
    expect(run.code).toBe(2);
    expect(run.stderr.trimEnd().split('\n')).toEqual([`enose train: ${file}:7: mq3: "12k" is not a number (nan or an empty cell for a failed reading)`]);
  });
});

describe('BME AI-Studio .bmerawdata', () => {
  it('trains and evaluates with defaults, saying which passes it left out', () => {
    const model = join(dir, 'bme.json');
    const train = runEnose(['train', 'tests/fixtures/bme/coffee-tea.bmerawdata', '--out', model]);
    expect(train.code, train.stderr).toBe(0);
    expect(train.stdout).toMatch(/on 32 samples x 10 features, 2 classes \(coffee: 16, tea: 16\)/);
    expect(train.stderr).toMatch(/1 heater-profile pass\(es\) cut short/);
    const evaluate = runEnose(['evaluate', 'tests/fixtures/bme/coffee-tea.bmerawdata', '--model', model, '--json']);
    expect(evaluate.code, evaluate.stderr).toBe(0);
    expect((JSON.parse(evaluate.stdout) as { accuracy: number }).accuracy).toBe(1);
  });
});

describe.each(MODELS)('--delimiter semicolon gives the comma file\'s verdicts (%s)', (model) => {
  const sim = join(dir, `sim-${MODELS.indexOf(model)}`);
  const semicolon = join(dir, `semicolon-${MODELS.indexOf(model)}.csv`);
  beforeAll(() => {
    const run = runEnose(['simulate', '--containers', '3', '--seed', '1', '--start-day', '21', '--out', sim]);
    expect(run.code, run.stderr).toBe(0);
    const text = readFileSync(join(sim, 'frames.csv'), 'utf8');
    // A spreadsheet in a comma-decimal locale: semicolons between cells, a comma for the decimal point.
    writeFileSync(semicolon, text.split('\n').map((l) => (l.startsWith('#') ? l : l.split(',').map((c) => c.replace('.', ',')).join(';'))).join('\n'));
  });

  it('replay and evaluate', () => {
    const verdicts = (stdout: string) =>
      stdout
        .split('\n')
        .filter((l) => l.startsWith('{"type":"verdict"'))
        .map((l) => {
          // station: the rig's id, which for a frames file is the file's name.
          const { atMs: _a, latencyMs: _l, wallTime: _w, station: _s, ...rest } = JSON.parse(l) as Record<string, unknown>;
          return rest;
        });
    const comma = runEnose(['replay', join(sim, 'frames.csv'), '--model', model, '--json']);
    const semi = runEnose(['replay', semicolon, '--model', model, '--json', '--delimiter', 'semicolon']);
    expect(comma.code, comma.stderr).toBe(0);
    expect(semi.code, semi.stderr).toBe(0);
    expect(verdicts(semi.stdout)).toHaveLength(3);
    expect(verdicts(semi.stdout)).toEqual(verdicts(comma.stdout));
    const a = runEnose(['evaluate', join(sim, 'frames.csv'), '--model', model, '--json']);
    const b = runEnose(['evaluate', semicolon, '--model', model, '--json', '--delimiter', ';']);
    expect(b.code, b.stderr).toBe(0);
    const strip = (s: string) => {
      const { perGroup: _p, ...rest } = JSON.parse(s) as Record<string, unknown>;
      return rest;
    };
    expect(strip(b.stdout)).toEqual(strip(a.stdout));
    const missing = runEnose(['evaluate', semicolon, '--model', model]);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trimEnd().split('\n')).toEqual([`enose evaluate: ${semicolon}: the header has semicolons between its cells, no commas: read it with --delimiter semicolon`]);
  });
});
