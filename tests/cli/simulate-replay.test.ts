/** enose simulate writes byte-identical recordings for a seed; enose replay and evaluate read them through the engine. */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseEventJson } from '../../src/io/eventJson.js';
import { runEnose } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'enose-sim-'));
const digest = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const MODEL = 'datasets/container-sim/default-model.json.gz';

describe('enose simulate', () => {
  it('the same seed gives byte-identical files; another seed other files', () => {
    for (const [name, seed] of [['a', 5], ['b', 5], ['c', 6]] as const) {
      const run = runEnose(['simulate', '--containers', '3', '--seed', String(seed), '--out', join(dir, name)]);
      expect(run.code, run.stderr).toBe(0);
    }
    for (const file of ['frames.csv', 'manifest.jsonl', 'meta.json']) {
      expect(digest(join(dir, 'a', file))).toBe(digest(join(dir, 'b', file)));
    }
    expect(digest(join(dir, 'a', 'frames.csv'))).not.toBe(digest(join(dir, 'c', 'frames.csv')));
    const manifest = readFileSync(join(dir, 'a', 'manifest.jsonl'), 'utf8').trim().split('\n');
    expect(manifest).toHaveLength(3);
    expect(JSON.parse(manifest[0]!)).toHaveProperty('label');
  });

  it('refuses to overwrite a folder', () => {
    const run = runEnose(['simulate', '--containers', '1', '--seed', '1', '--out', join(dir, 'a')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/already exists/);
  });
});

describe('enose replay', () => {
  it('gives one verdict per simulated container, with its label, as JSON event lines', () => {
    const run = runEnose(['replay', join(dir, 'a'), '--model', MODEL, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const events = run.stdout.trim().split('\n').map((l) => {
      const e = parseEventJson(l);
      if (!e.ok) throw new Error(e.error);
      return e.value;
    });
    const verdicts = events.filter((e) => e.type === 'verdict');
    expect(verdicts).toHaveLength(3);
    const manifest = readFileSync(join(dir, 'a', 'manifest.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { sample: string; label: string });
    expect(verdicts.map((v) => (v.type === 'verdict' ? [v.sample, v.label] : null))).toEqual(manifest.map((m) => [m.sample, m.label]));
    expect(events.filter((e) => e.type === 'frame')).toHaveLength(4500);
    expect(events[0]!.type).toBe('info');
  });

  it('replays twice to the same verdicts, probabilities to the last bit', () => {
    const a = runEnose(['replay', join(dir, 'a'), '--model', MODEL, '--json']).stdout.split('\n').filter((l) => l.includes('"verdict"'));
    const b = runEnose(['replay', join(dir, 'a'), '--model', MODEL, '--json']).stdout.split('\n').filter((l) => l.includes('"verdict"'));
    const strip = (l: string) => {
      const { atMs: _a, latencyMs: _l, ...rest } = JSON.parse(l) as Record<string, unknown>;
      return rest;
    };
    expect(a.map(strip)).toEqual(b.map(strip));
  });

  it('enose evaluate on the recording scores the same verdicts', () => {
    const run = runEnose(['evaluate', join(dir, 'a'), '--model', MODEL, '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).n).toBe(3);
  });
});
