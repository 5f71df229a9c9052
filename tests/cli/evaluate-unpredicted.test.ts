/**
 * `enose evaluate` on data where a sample gets no prediction (a cycle cut after its first exposure frame): text
 * output, `--report` and `--json` all finish with exit 0 and count and list that sample; a recording without any
 * label is exit 2 with one line. Both shipped models.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runEnose } from '../helpers/cli.js';

const MODELS = ['datasets/container-sim/default-model.json.gz', 'datasets/container-sim/exposure-model.json.gz'];
const dir = mkdtempSync(join(tmpdir(), 'enose-eval-'));
let cut = '';
let unlabelled = '';
let lastSample = '';

beforeAll(() => {
  const sim = runEnose(['simulate', '--containers', '4', '--seed', '3', '--out', join(dir, 'sim')]);
  expect(sim.code, sim.stderr).toBe(0);
  const lines = readFileSync(join(dir, 'sim', 'frames.csv'), 'utf8').trimEnd().split('\n');
  const header = lines.findIndex((l) => l.startsWith('sample,'));
  const rows = lines.slice(header + 1);
  lastSample = rows.at(-1)!.split(',')[0]!;
  // Keep the last cycle's baseline and one exposure frame only: the engine cannot compute its features.
  const firstE = rows.findIndex((r) => r.startsWith(`${lastSample},`) && r.split(',')[3] === 'E');
  const kept = [...lines.slice(0, header + 1), ...rows.slice(0, firstE + 1)];
  cut = join(dir, 'cut.csv');
  writeFileSync(cut, `${kept.join('\n')}\n`);
  unlabelled = join(dir, 'unlabelled.csv');
  writeFileSync(unlabelled, `${[lines[header], ...rows.map((r) => r.split(',').map((c, i) => (i === 1 ? '' : c)).join(','))].join('\n')}\n`);
});

describe.each(MODELS)('enose evaluate with %s', (model) => {
  it('text output counts and lists a sample without a prediction (exit 0)', () => {
    const run = runEnose(['evaluate', cut, '--model', model]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/internal error/);
    expect(run.stdout).toMatch(new RegExp(`^model \\w+: 4 samples`, 'm'));
    expect(run.stdout).toMatch(new RegExp(`no prediction for 1 of 4 samples .*: ${lastSample}$`, 'm'));
  });

  it('--report writes the file and prints the same text (exit 0)', () => {
    const report = join(dir, `r-${MODELS.indexOf(model)}.html`);
    const run = runEnose(['evaluate', cut, '--model', model, '--report', report]);
    expect(run.code, run.stderr).toBe(0);
    expect(readFileSync(report, 'utf8')).toMatch(/<html/i);
    expect(run.stdout).toMatch(/no prediction for 1 of 4 samples/);
  });

  it('--json lists the sample too', () => {
    const run = runEnose(['evaluate', cut, '--model', model, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout) as { n: number; unpredicted: string[]; classes: string[] };
    expect(out.n).toBe(4);
    expect(out.unpredicted).toEqual([lastSample]);
    expect(out.classes).toContain('(none)');
  });

  it('a recording without labels is exit 2 with one line', () => {
    const run = runEnose(['evaluate', unlabelled, '--model', model]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/unlabelled\.csv: no labelled sample \(4 cycle\(s\) without a label\)/);
  });
});
