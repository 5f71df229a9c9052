import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EnoseError } from '../../src/errors.js';
import { parseFramesCsv } from '../../src/io/datasets/framesCsv.js';
import { recordingGroup, reduceFrames, reduceRecordings, reducedFeatureNames } from '../../src/signal/reduce.js';
import type { FramesRecording, Phase, RecordedFrame } from '../../src/types.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const beverageFile = path.resolve(repoRoot, '..', 'shared', 'datasets', 'beverage-enose-2016-05', 'frames.csv');
const haveBeverage = existsSync(beverageFile);
if (!haveBeverage) console.warn(`skipping the real beverage reduction test: ${beverageFile} is absent`);

function recording(text: string, source = '/rec/run1.csv'): FramesRecording {
  const result = parseFramesCsv(text, source);
  if (!result.ok) throw new Error(`bad test file: ${JSON.stringify(result.error)}`);
  return result.value.recording;
}

function frame(sample: string, label: string, tS: number, phase: Phase | null, values: number[]): RecordedFrame {
  return { sample, label, tS, phase, seq: null, tRigMs: null, values: Float64Array.from(values) };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('reduceFrames', () => {
  const phased = [
    'sample,label,t_s,phase,s1,temp_c,s2',
    ',,0,I,999,99,999',
    'c1,beer,1,B,10,20,4',
    'c1,beer,2,B,100,20,nan',
    'c1,beer,3,B,12,20,6',
    'c1,beer,4,E,20,21,5',
    'c1,beer,5,E,20,nan,5',
    'c1,beer,6,E,20,23,5',
    'c1,beer,7,E,20,24,5',
    'c1,beer,8,E,30,25,8',
    'c1,beer,9,E,nan,26,10',
    'c1,beer,10,R,500,50,500',
    'c2,wine,0,B,8,30,2',
    'c2,wine,1,E,4,31,3',
  ].join('\n');

  it('uses the B median as R0 and the mean of the last third of E, skipping NaN, I and R frames', () => {
    const result = reduceFrames(recording(phased));
    if (!result.ok) throw new Error(result.error.reason);
    const table = result.value;
    expect(table.featureNames).toEqual(['s1:frac_ss', 'temp_c:mean', 's2:frac_ss']);
    expect(table.count).toBe(2);
    expect(table.width).toBe(3);
    expect(table.labels).toEqual(['beer', 'wine']);
    expect(table.samples).toEqual(['c1', 'c2']);
    expect(table.groups).toEqual(['run1', 'run1']);
    const row = (i: number): number[] => Array.from(table.x.subarray(i * 3, i * 3 + 3));
    // c1: s1 R0 = median(10, 100, 12); last third of 6 E frames = last 2 (30, nan).
    // s2 R0 = median(4, 6) with the nan left out; last 2 E frames 8, 10. temp_c: mean of E frames without nan.
    const r0s1 = median([10, 100, 12]);
    const r0s2 = median([4, 6]);
    expect(row(0)).toEqual([(30 - r0s1) / r0s1, mean([21, 23, 24, 25, 26]), (mean([8, 10]) - r0s2) / r0s2]);
    expect(row(1)).toEqual([(4 - 8) / 8, 31, (3 - 2) / 2]);
  });

  it('without a phase column takes the first baselineS seconds as baseline, 30 s by default', () => {
    const frames = [0, 10, 29.9, 30, 40, 50].map((t, i) => frame('s', 'x', 100 + t, null, [[2, 4, 6, 10, 20, 30][i]]));
    const rec: FramesRecording = { source: 'mem', channels: ['g'], frames };
    const byDefault = reduceFrames(rec);
    if (!byDefault.ok) throw new Error(byDefault.error.reason);
    expect(byDefault.value.x[0]).toBe((30 - 4) / 4);
    const short = reduceFrames(rec, { baselineS: 15 });
    if (!short.ok) throw new Error(short.error.reason);
    // Baseline 2, 4 -> R0 3; exposure 6, 10, 20, 30 -> last third = last 2 frames.
    expect(short.value.x[0]).toBe((mean([20, 30]) - 3) / 3);
  });

  it.each([
    ['no B frame', 'c,x,0,E,1,1\nc,x,1,E,2,2', 2, /sample "c": no baseline \(B\) frames/],
    ['no E frame', ',,0,I,1,1\nc,x,1,B,1,1\nc,x,2,R,2,2', 3, /no exposure \(E\) frames/],
    ['a label that changes', 'c,x,0,B,1,1\nc,y,1,E,2,2', 2, /label "y" at line 5 differs from "x"/],
    ['a gas channel without a baseline reading', 'c,x,0,B,nan,1\nc,x,1,E,2,2', 2, /channel "g" has no valid reading in the baseline/],
    ['a gas channel without a late exposure reading', 'c,x,0,B,1,1\nc,x,1,E,2,1\nc,x,2,E,2,1\nc,x,3,E,NaN,1', 2, /channel "g" has no valid reading in the last third/],
    ['an environment channel without a reading', 'c,x,0,B,1,1\nc,x,1,E,2,nan', 2, /channel "rh_pct" has no valid reading in the exposure/],
    ['a zero baseline', 'c,x,0,B,0,1\nc,x,1,E,2,1', 2, /channel "g" has a baseline R0 of 0/],
  ])('names file, first line of the sample and reason for %s', (_name, rows, line, reason) => {
    // `line` counts as if `rows` followed the header directly; two lines of a good sample sit between here.
    const result = reduceFrames(recording(`sample,label,t_s,phase,g,rh_pct\nok,x,0,B,1,1\nok,x,1,E,1,1\n${rows}\n`, '/d/f.csv'));
    if (result.ok) throw new Error('expected an issue');
    expect(result.error.file).toBe('/d/f.csv');
    expect(result.error.line).toBe(line + 2);
    expect(result.error.reason).toMatch(reason);
  });

  it('says when a timed sample is too short for its baseline', () => {
    const rec: FramesRecording = { source: 'mem', channels: ['g'], frames: [frame('s', 'x', 0, null, [1]), frame('s', 'x', 5, null, [1])] };
    const result = reduceFrames(rec);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toEqual({ file: 'mem', line: 0, reason: 'sample "s": no frames after its first 30 s (exposure)' });
  });

  it('refuses a recording without any sample and a bad baselineS', () => {
    const idle = recording('sample,label,t_s,g\n,,0,1\n,,1,1\n');
    expect(reduceFrames(idle)).toMatchObject({ ok: false, error: { line: 0, reason: /no samples/ } });
    for (const baselineS of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => reduceFrames(idle, { baselineS })).toThrow(EnoseError);
    }
  });
});

describe('reduceRecordings', () => {
  it('concatenates recordings with the same channels, grouped by file (or folder for frames.csv)', () => {
    const a = recording('sample,label,t_s,phase,g\na1,x,0,B,2\na1,x,1,E,3\n', '/data/day1/frames.csv');
    const b = recording('sample,label,t_s,phase,g\nb1,y,0,B,4\nb1,y,1,E,2\nb2,x,0,B,1\nb2,x,1,E,1\n', '/data/run2.csv');
    const result = reduceRecordings([a, b]);
    if (!result.ok) throw new Error(result.error.reason);
    expect(result.value.groups).toEqual(['day1', 'run2', 'run2']);
    expect(Array.from(result.value.x)).toEqual([(3 - 2) / 2, (2 - 4) / 4, 0]);
    expect(result.value.source).toBe('/data/day1/frames.csv,/data/run2.csv');
  });

  it('refuses recordings whose channels differ', () => {
    const a = recording('sample,label,t_s,phase,g\na,x,0,B,2\na,x,1,E,3\n', 'a.csv');
    const b = recording('sample,label,t_s,phase,h\nb,x,0,B,2\nb,x,1,E,3\n', 'b.csv');
    expect(reduceRecordings([a, b])).toMatchObject({ ok: false, error: { file: 'b.csv', line: 0, reason: /differ/ } });
    expect(reduceRecordings([]).ok).toBe(false);
  });

  it('names features by channel kind and groups by file name', () => {
    expect(reducedFeatureNames(['s1', 'temp_c', 'rh_pct'])).toEqual(['s1:frac_ss', 'temp_c:mean', 'rh_pct:mean']);
    expect(recordingGroup('/x/batch2.csv')).toBe('batch2');
    expect(recordingGroup('rec/frames.csv')).toBe('rec');
    expect(recordingGroup('frames.csv')).toBe('frames');
  });
});

describe.skipIf(!haveBeverage)('reduce on the real beverage recording', () => {
  const text = haveBeverage ? readFileSync(beverageFile, 'utf8') : '';
  const rec = haveBeverage ? recording(text, beverageFile) : null;

  it('stops at the first sample whose channel sits at 0 through its baseline (bj3, s29), naming its first line', () => {
    if (rec === null) return;
    const firstLine = text.split('\n').findIndex((line) => line.startsWith('bj3,')) + 1;
    const result = reduceFrames(rec);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.file).toBe(beverageFile);
    expect(result.error.line).toBe(firstLine);
    expect(result.error.reason).toMatch(/sample "bj3": channel "s29" has a baseline R0 of 0/);
  });

  it('reduces the other 31 samples to finite rows that match an independent computation', () => {
    if (rec === null) return;
    const kept = rec.frames.filter((f) => f.sample !== 'bj3' && f.sample !== 'ptj3');
    const result = reduceFrames({ ...rec, frames: kept });
    if (!result.ok) throw new Error(result.error.reason);
    const table = result.value;
    expect(table.count).toBe(31);
    expect(table.width).toBe(32);
    expect(new Set(table.labels).size).toBe(7);
    expect(table.x.every(Number.isFinite)).toBe(true);
    expect(table.groups[0]).toBe('beverage-enose-2016-05');
    // Independent check of one sample from the CSV text itself.
    const id = table.samples[5];
    const rows = text.split('\n').filter((line) => line.startsWith(`${id},`)).map((line) => line.split(','));
    for (let c = 0; c < 32; c++) {
      const b = rows.filter((r) => r[3] === 'B').map((r) => Number(r[4 + c]));
      const e = rows.filter((r) => r[3] === 'E').map((r) => Number(r[4 + c]));
      const r0 = median(b);
      const steady = mean(e.slice(e.length - Math.ceil(e.length / 3)));
      expect(table.x[5 * 32 + c]).toBeCloseTo((steady - r0) / r0, 12);
    }
  });
});
