/**
 * Bad input through the real CLI: each case gives exit code 2 and one line on stderr naming the file, the
 * line and the reason, with no stack trace.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runEnose } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'enose-cli-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

function framesCsv(channels: number, samples: string[]): string {
  const names = Array.from({ length: channels }, (_, i) => `s${i + 1}`);
  const rows = [`sample,label,t_s,phase,${names.join(',')}`];
  samples.forEach((s, k) => {
    for (let t = 0; t < 20; t++) {
      const phase = t < 5 ? 'B' : 'E';
      const values = names.map((_, c) => (phase === 'B' ? 1000 + c : 800 + c * (k % 2 ? 3 : 1) + (k % 3)));
      rows.push(`${s},${k % 2 ? 'clear' : 'cocaine'},${t},${phase},${values.join(',')}`);
    }
  });
  return `${rows.join('\n')}\n`;
}

function expectOneLineError(run: ReturnType<typeof runEnose>, ...patterns: RegExp[]): void {
  expect(run.code).toBe(2);
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(run.stderr).not.toMatch(/\n\s+at /);
  for (const p of patterns) expect(run.stderr).toMatch(p);
}

let model8 = '';
beforeAll(() => {
  const train = file('train8.csv', framesCsv(8, ['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8']));
  model8 = join(dir, 'model8.json');
  const run = runEnose(['train', train, '--out', model8, '--cv-folds', '0']);
  expect(run.code, run.stderr).toBe(0);
});

describe('enose CLI: bad input is one line and exit code 2', () => {
  it('a missing file', () => {
    expectOneLineError(runEnose(['train', join(dir, 'nope.csv'), '--out', join(dir, 'x.json')]), /nope\.csv/, /no such file/);
  });

  it('a ragged row', () => {
    const path = file('ragged.csv', 'label,a,b,c\nx,1,2,3\ny,1,2\n');
    expectOneLineError(runEnose(['train', path, '--out', join(dir, 'x.json')]), /ragged\.csv:3:/);
  });

  it('a non-numeric cell (other than nan)', () => {
    const path = file('word.csv', 'label,a,b\nx,1,2\ny,1,two\n');
    expectOneLineError(runEnose(['train', path, '--out', join(dir, 'x.json')]), /word\.csv:3:/, /two/);
  });

  it('a libsvm index of 0', () => {
    const path = file('zero.dat', '1 1:0.5 2:1.5\n2 0:1 1:2\n');
    expectOneLineError(runEnose(['train', path, '--out', join(dir, 'x.json')]), /zero\.dat:2:/, /index/);
  });

  it('libsvm indices out of order', () => {
    const path = file('order.dat', '1 1:0.5 2:1.5\n2 2:1 1:2\n');
    expectOneLineError(runEnose(['train', path, '--out', join(dir, 'x.json')]), /order\.dat:2:/, /index/);
  });

  it('an empty file', () => {
    const path = file('empty.csv', '');
    expectOneLineError(runEnose(['train', path, '--out', join(dir, 'x.json')]), /empty\.csv/, /empty/);
  });

  it('a model of the wrong kind', () => {
    const data = file('ok.csv', framesCsv(8, ['b1', 'b2']));
    const wrong = file('wrong-kind.json', JSON.stringify({ kind: 'pca-model', version: 1 }));
    expectOneLineError(runEnose(['evaluate', data, '--model', wrong]), /wrong-kind\.json/, /kind/);
  });

  it('a model for 8 channels given 16', () => {
    const data16 = file('sixteen.csv', framesCsv(16, ['c1', 'c2']));
    expectOneLineError(runEnose(['evaluate', data16, '--model', model8]), /sixteen\.csv/, /8 channels/, /16/);
  });

  it('an unknown option and a missing --out are bad usage', () => {
    expectOneLineError(runEnose(['train', '--frobnicate']), /frobnicate/);
    const data = file('ok2.csv', framesCsv(8, ['d1', 'd2']));
    expectOneLineError(runEnose(['train', data]), /--out is required/);
  });

  it('a failed training leaves no file under the model name', () => {
    const out = join(dir, 'never.json');
    runEnose(['train', join(dir, 'nope.csv'), '--out', out]);
    expect(() => writeFileSync(out, '', { flag: 'wx' })).not.toThrow();
  });
});

describe('enose CLI: success paths', () => {
  it('every command answers --help with exit code 0', () => {
    for (const cmd of ['train', 'evaluate']) {
      const run = runEnose([cmd, '--help']);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(new RegExp(`Usage: enose ${cmd}`));
    }
    expect(runEnose(['--help']).code).toBe(0);
  });

  it('evaluate --json prints the documented fields', () => {
    const data = file('eval.csv', framesCsv(8, ['e1', 'e2', 'e3', 'e4']));
    const run = runEnose(['evaluate', data, '--model', model8, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as Record<string, unknown>;
    for (const key of ['n', 'accuracy', 'classes', 'confusion', 'perClass', 'detectionRate', 'falseAlarmRate', 'inconclusive']) {
      expect(report).toHaveProperty(key);
    }
    expect(report['n']).toBe(4);
  });
});
