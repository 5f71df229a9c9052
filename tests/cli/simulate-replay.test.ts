/** enose simulate writes byte-identical recordings for a seed; enose replay and evaluate read them through the engine. */
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseEventJson } from '../../src/io/eventJson.js';
import { runEnose } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'enose-sim-'));
const digest = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const MODEL = 'datasets/container-sim/exposure-model.json.gz';

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

  it('--rig-seed keeps the rig and draws other containers: the same units, other frames, the seeds in meta.json', async () => {
    const { createSimulation } = await import('../../src/sim/simulate.js');
    const own = createSimulation({ seed: 5, containers: 3 });
    const other = createSimulation({ seed: 6, rigSeed: 5, containers: 3 });
    expect(other.rig.units).toEqual(own.rig.units);
    expect(createSimulation({ seed: 6, containers: 3 }).rig.units).not.toEqual(own.rig.units);
    expect(other.cycleAt(0).truth).not.toEqual(own.cycleAt(0).truth);
    const run = runEnose(['simulate', '--containers', '3', '--seed', '6', '--rig-seed', '5', '--out', join(dir, 'rig5')]);
    expect(run.code, run.stderr).toBe(0);
    expect(digest(join(dir, 'rig5', 'frames.csv'))).not.toBe(digest(join(dir, 'a', 'frames.csv')));
    expect(JSON.parse(readFileSync(join(dir, 'rig5', 'meta.json'), 'utf8')).source).toBe('sim:seed=6,rigSeed=5');
  });

  it('splits its frames into files of at most --max-file-mb at container boundaries; replay and evaluate read them as one recording', () => {
    const split = join(dir, 'split');
    const run = runEnose(['simulate', '--containers', '7', '--seed', '5', '--out', split, '--max-file-mb', '1']);
    expect(run.code, run.stderr).toBe(0);
    const meta = JSON.parse(readFileSync(join(split, 'meta.json'), 'utf8')) as { frameFiles: { file: string; firstFrame: number }[]; frameCount: number };
    // A container is about 0.5 MB of frames: the next file starts once a file holds 1 MiB, so three a file.
    expect(meta.frameFiles.map((f) => f.file)).toEqual(['frames.csv', 'frames-2.csv', 'frames-3.csv']);
    expect(meta.frameFiles.map((f) => f.firstFrame)).toEqual([0, 4500, 9000]);
    expect(run.stdout).toMatch(/7 containers, 10500 frames written to .* \(frames\.csv to frames-3\.csv, manifest\.jsonl, meta\.json\)/);
    for (const { file } of meta.frameFiles.slice(0, -1)) {
      const size = readFileSync(join(split, file)).length;
      expect(size).toBeGreaterThanOrEqual(2 ** 20);
      expect(size).toBeLessThan(2 ** 20 + 600_000);
    }
    // Each container's frames are in one file, and the first file's rows are the unsplit run's (run a: 3 containers).
    const rows = (file: string) => readFileSync(join(split, file), 'utf8').split('\n').filter((l) => /^d\d/.test(l));
    const samplesOf = (file: string) => new Set(rows(file).map((l) => l.slice(0, l.indexOf(','))));
    const seen = meta.frameFiles.map((f) => samplesOf(f.file));
    for (let i = 0; i < seen.length; i++) for (let j = i + 1; j < seen.length; j++) for (const s of seen[i]!) expect(seen[j]!.has(s)).toBe(false);
    expect(rows('frames.csv')).toEqual(readFileSync(join(dir, 'a', 'frames.csv'), 'utf8').split('\n').filter((l) => /^d\d/.test(l)));
    const replay = runEnose(['replay', split, '--model', MODEL, '--json']);
    expect(replay.code, replay.stderr).toBe(0);
    const verdicts = replay.stdout.split('\n').filter((l) => l.startsWith('{"type":"verdict"'));
    expect(verdicts).toHaveLength(7);
    const evaluated = runEnose(['evaluate', split, '--model', MODEL, '--json']);
    expect(evaluated.code, evaluated.stderr).toBe(0);
    expect(JSON.parse(evaluated.stdout).n).toBe(7);
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
      const { atMs: _a, latencyMs: _l, wallTime: _w, ...rest } = JSON.parse(l) as Record<string, unknown>;
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

describe('a frames file too large to read whole', () => {
  it('is one line naming the file, its size and what to do, for train, evaluate and replay (not V8\'s "Invalid string length")', () => {
    const big = join(dir, 'big');
    mkdirSync(big);
    const path = join(big, 'frames.csv');
    // A sparse file: 520 MiB long, nothing written.
    const fd = openSync(path, 'w');
    ftruncateSync(fd, 520 * 2 ** 20);
    closeSync(fd);
    for (const args of [['train', path, '--out', join(big, 'm.json')], ['evaluate', path, '--model', MODEL], ['replay', path, '--model', MODEL]]) {
      const run = runEnose(args);
      expect(run.code).toBe(2);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toMatch(/frames\.csv.*520 MiB: too large to read whole \(at most 500 MiB\); split it/);
    }
  });
});
