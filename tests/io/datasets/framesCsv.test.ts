import fc from 'fast-check';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EnoseError } from '../../../src/errors.js';
import {
  formatFramesCsvNumber,
  formatFramesCsvRow,
  framesCsvHeader,
  parseFramesCsv,
  type FramesCsvColumns,
  type FramesCsvOptions,
  type FramesCsvRow,
} from '../../../src/io/datasets/framesCsv.js';
import type { Phase } from '../../../src/types.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const beverageFile = path.resolve(repoRoot, '..', 'shared', 'datasets', 'beverage-enose-2016-05', 'frames.csv');
const haveBeverage = existsSync(beverageFile);
if (!haveBeverage) console.warn(`skipping the real beverage recording test: ${beverageFile} is absent`);

function parsed(text: string, options: FramesCsvOptions = {}) {
  const result = parseFramesCsv(text, '/rec/frames.csv', options);
  if (!result.ok) throw new Error(`unexpected issue: ${JSON.stringify(result.error)}`);
  return result.value;
}

function issueOf(text: string, options: FramesCsvOptions = {}) {
  const result = parseFramesCsv(text, '/rec/frames.csv', options);
  if (result.ok) throw new Error('expected an issue');
  expect(result.error.file).toBe('/rec/frames.csv');
  return result.error;
}

describe('parseFramesCsv', () => {
  it('reads a file with phase, seq and t_rig_ms columns placed between channels', () => {
    const text = ['# rig A', 'sample,label,t_s,s1,phase,temp_c,seq,t_rig_ms', ',,0.5,1.5,I,21,7,1000', 'c1,beer,1,2,B,NaN,8,1100', 'c1,beer,1.5,nan,E,22.5,9,1200', ''].join('\n');
    const { recording, warnings } = parsed(text);
    expect(warnings).toEqual([]);
    expect(recording.source).toBe('/rec/frames.csv');
    expect(recording.channels).toEqual(['s1', 'temp_c']);
    expect(recording.frames.length).toBe(3);
    const [idle, b, e] = recording.frames;
    expect(idle).toMatchObject({ sample: '', label: '', tS: 0.5, phase: 'I', seq: 7, tRigMs: 1000, line: 3 });
    expect(Array.from(idle.values)).toEqual([1.5, 21]);
    expect(b).toMatchObject({ sample: 'c1', label: 'beer', tS: 1, phase: 'B', seq: 8, line: 4 });
    expect(b.values[1]).toBeNaN();
    expect(e.values[0]).toBeNaN();
    expect(e.values[1]).toBe(22.5);
  });

  it('reads a file without optional columns as phase, seq and rig time null', () => {
    const { recording } = parsed('sample,label,t_s,a,b\r\ns,x,0,1,2\r\ns,x,1,3,4\r\n');
    expect(recording.channels).toEqual(['a', 'b']);
    expect(recording.frames[1]).toMatchObject({ phase: null, seq: null, tRigMs: null, tS: 1 });
  });

  it('lets frames outside any cycle sit between the frames of a sample, and time restart in the next sample', () => {
    const { recording } = parsed('sample,label,t_s,a\ns1,x,5,1\n,,0,1\ns1,x,6,1\ns2,y,0,1\n,,0,1\n');
    expect(recording.frames.map((f) => f.sample)).toEqual(['s1', '', 's1', 's2', '']);
  });

  it('keeps its many frames apart although their values share buffers', () => {
    const rows = Array.from({ length: 3000 }, (_, i) => `s,x,${i},${i},${-i - 1}`).join('\n');
    const { recording } = parsed(`sample,label,t_s,a,b\n${rows}\n`);
    expect(recording.frames.length).toBe(3000);
    for (const i of [0, 1023, 1024, 2999]) expect(Array.from(recording.frames[i].values)).toEqual([i, -i - 1]);
  });

  it.each([
    ['a ragged row', 'sample,label,t_s,a,b\ns,x,0,1,2\ns,x,1,1\n', 3, /ragged row: 4 cells, the header has 5/],
    ['a non-numeric cell', 'sample,label,t_s,a\ns,x,0,1\ns,x,1,n/a\n', 3, /channel "a": "n\/a" is not a number/],
    ['an empty cell', 'sample,label,t_s,a\ns,x,0,\n', 2, /channel "a": "" is not a number/],
    ['-nan', 'sample,label,t_s,a\ns,x,0,-nan\n', 2, /"-nan" is not a number/],
    ['a nan time', 'sample,label,t_s,a\ns,x,nan,1\n', 2, /t_s "nan" is not a finite number/],
    ['a time that does not rise', 'sample,label,t_s,a\ns,x,0,1\ns,x,2,1\ns,x,2,1\n', 4, /t_s 2 does not rise within sample "s" \(2 at line 3\)/],
    ['a bad phase', 'sample,label,t_s,phase,a\ns,x,0,b,1\n', 2, /phase "b" is not one of I, B, E, R/],
    ['a negative seq', 'sample,label,t_s,seq,a\ns,x,0,-1,1\n', 2, /seq "-1" is not an unsigned 32-bit integer/],
    ['a fractional rig time', 'sample,label,t_s,t_rig_ms,a\ns,x,0,1.5,1\n', 2, /t_rig_ms "1.5"/],
    ['a sample split in two', 'sample,label,t_s,a\ns1,x,0,1\ns2,x,0,1\ns1,x,5,1\n', 4, /"s1" appears again after other samples \(first at line 2\)/],
    ['a wrong header', '# c\nlabel,t_s,a\n', 2, /starts with the columns sample,label,t_s/],
    ['a duplicate channel', 'sample,label,t_s,a,a\n', 1, /duplicate column name "a"/],
    ['a duplicate phase column', 'sample,label,t_s,phase,a,phase\n', 1, /duplicate column name "phase"/],
    ['no channel', 'sample,label,t_s,phase\n', 1, /no channel columns/],
  ])('names the line and the reason for %s', (_name, text, line, reason) => {
    const issue = issueOf(text);
    expect(issue.line).toBe(line);
    expect(issue.reason).toMatch(reason);
  });

  it('refuses an empty file and a file without frames with line 0', () => {
    expect(issueOf('')).toMatchObject({ line: 0, reason: 'empty file' });
    expect(issueOf('# nothing\n')).toMatchObject({ line: 0, reason: 'no header line' });
    expect(issueOf('sample,label,t_s,a\n\n')).toMatchObject({ line: 0, reason: 'no frames after the header' });
  });

  describe('a cut last line', () => {
    const head = 'sample,label,t_s,seq,a,b\ns,x,0,1,1,2\ns,x,1,2,3,4\n';

    it.each([
      ['ragged', 's,x,2,3,5'],
      ['unparsable', 's,x,2,3,5,1.2e'],
      ['cut inside a quote', '"s'],
    ])('(%s) is an error by default and dropped with a warning when tolerated', (_name, cut) => {
      expect(issueOf(head + cut).line).toBe(4);
      const { recording, warnings } = parsed(head + cut, { tolerateCutLastLine: true });
      expect(recording.frames.length).toBe(2);
      expect(warnings.length).toBe(1);
      expect(warnings[0]).toMatchObject({ file: '/rec/frames.csv', line: 4 });
      expect(warnings[0].reason).toMatch(/last line cut short.*dropped/);
    });

    it('is kept when it parses', () => {
      const { recording, warnings } = parsed(`${head}s,x,2,3,5,6`, { tolerateCutLastLine: true });
      expect(warnings).toEqual([]);
      expect(recording.frames.length).toBe(3);
    });

    it('is not tolerated when the file ends with a line break', () => {
      expect(issueOf(`${head}s,x,2,3,5\n`, { tolerateCutLastLine: true }).line).toBe(4);
    });

    it('does not excuse a bad line before the last', () => {
      expect(issueOf(`sample,label,t_s,a\ns,x,0\ns,x,1,1`, { tolerateCutLastLine: true }).line).toBe(2);
    });
  });

  it.skipIf(!haveBeverage)('reads the real beverage recording: 33 samples, 32 channels, 7 labels, B and E phases', () => {
    const text = readFileSync(beverageFile, 'utf8');
    const result = parseFramesCsv(text, beverageFile);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const { recording } = result.value;
    const expectedRows = text.split('\n').filter((line) => line !== '' && !line.startsWith('#')).length - 1;
    expect(recording.frames.length).toBe(expectedRows);
    expect(recording.channels.length).toBe(32);
    expect(recording.channels[0]).toBe('s01');
    expect(new Set(recording.frames.map((f) => f.sample)).size).toBe(33);
    expect(new Set(recording.frames.map((f) => f.label)).size).toBe(7);
    expect(new Set(recording.frames.map((f) => f.phase))).toEqual(new Set(['B', 'E']));
    expect(recording.frames.every((f) => f.values.every(Number.isFinite))).toBe(true);
  });
});

describe('frames CSV writer', () => {
  it('writes the header with the optional columns in a fixed order', () => {
    expect(framesCsvHeader(['s1', 'temp_c'])).toBe('sample,label,t_s,s1,temp_c\n');
    expect(framesCsvHeader(['s1'], { withPhase: true, withSeq: true, withRigTime: true })).toBe('sample,label,t_s,phase,seq,t_rig_ms,s1\n');
    expect(framesCsvHeader(['a,b'])).toBe('sample,label,t_s,"a,b"\n');
  });

  it('refuses channel names the reader could not take back', () => {
    for (const bad of [[], [''], ['seq'], ['a', 'a'], ['a\nb']]) {
      expect(() => framesCsvHeader(bad)).toThrow(EnoseError);
    }
  });

  it('writes numbers in their shortest round-trip form, -0 kept and NaN as nan', () => {
    expect(formatFramesCsvNumber(0.1)).toBe('0.1');
    expect(formatFramesCsvNumber(-0)).toBe('-0');
    expect(formatFramesCsvNumber(1e21)).toBe('1e+21');
    expect(formatFramesCsvNumber(Number.NaN)).toBe('nan');
    const row = { sample: 'c,1', label: '#x', tS: 2.5, phase: 'E' as const, seq: 4294967295, tRigMs: 0, values: [1, Number.NaN, Number.POSITIVE_INFINITY] };
    expect(formatFramesCsvRow(row, { withPhase: true, withSeq: true, withRigTime: true })).toBe('"c,1","#x",2.5,E,4294967295,0,1,nan,nan\n');
    expect(formatFramesCsvRow({ ...row, sample: '#2', label: '' })).toBe('"#2",,2.5,1,nan,nan\n');
  });

  it('throws on rows that cannot be written faithfully', () => {
    const row = { sample: 's', label: '', tS: 0, values: [1] };
    expect(() => formatFramesCsvRow({ ...row, tS: Number.NaN })).toThrow(EnoseError);
    expect(() => formatFramesCsvRow(row, { withPhase: true })).toThrow(/phase/);
    expect(() => formatFramesCsvRow({ ...row, seq: -1 }, { withSeq: true })).toThrow(/seq/);
    expect(() => formatFramesCsvRow({ ...row, tRigMs: 2 ** 32 }, { withRigTime: true })).toThrow(/t_rig_ms/);
    expect(() => formatFramesCsvRow({ ...row, label: 'a\nb' })).toThrow(EnoseError);
  });

  it('round-trips every value bit-identically, with any sample id and label', () => {
    const text = fc.string({ maxLength: 8, unit: fc.constantFrom('a', 'Z', ' ', ',', '"', '#', '\t', 'é', '0') });
    const value = fc.oneof(fc.double(), fc.constant(-0), fc.constant(Number.NaN));
    const columns = fc.record({ withPhase: fc.boolean(), withSeq: fc.boolean(), withRigTime: fc.boolean() });
    const recording = fc.record({
      columns,
      channels: fc.integer({ min: 1, max: 6 }),
      rows: fc.array(
        fc.record({
          sample: text,
          label: text,
          step: fc.double({ min: 1e-9, max: 1e6, noNaN: true }),
          phase: fc.constantFrom<Phase>('I', 'B', 'E', 'R'),
          seq: fc.nat({ max: 4294967295 }),
          tRigMs: fc.nat({ max: 4294967295 }),
          values: fc.array(value, { minLength: 6, maxLength: 6 }),
        }),
        { minLength: 1, maxLength: 20 },
      ),
    });
    fc.assert(
      fc.property(recording, ({ columns: cols, channels: width, rows }) => {
        const names = Array.from({ length: width }, (_, k) => (k === 1 ? 'temp_c' : `s ${k},"x"`));
        // One sample id per file keeps t_s rising within samples simple: sample ids are unique per row here.
        let t = -50;
        const written: FramesCsvRow[] = rows.map((row, i) => {
          t += row.step;
          return { ...row, sample: `${row.sample}${i}`, tS: t, values: row.values.slice(0, width).map((x) => (Number.isFinite(x) || Number.isNaN(x) ? x : Number.NaN)) };
        });
        const csv = framesCsvHeader(names, cols as FramesCsvColumns) + written.map((row) => formatFramesCsvRow(row, cols as FramesCsvColumns)).join('');
        const { recording: back } = parsed(csv);
        expect(back.channels).toEqual(names);
        expect(back.frames.length).toBe(written.length);
        back.frames.forEach((frame, i) => {
          const row = written[i];
          expect(frame.sample).toBe(row.sample);
          expect(frame.label).toBe(row.label);
          expect(Object.is(frame.tS, row.tS)).toBe(true);
          expect(frame.phase).toBe(cols.withPhase ? row.phase : null);
          expect(frame.seq).toBe(cols.withSeq ? row.seq : null);
          expect(frame.tRigMs).toBe(cols.withRigTime ? row.tRigMs : null);
          for (let k = 0; k < width; k++) {
            const x = row.values[k];
            if (!Object.is(frame.values[k], x)) throw new Error(`value ${k} of row ${i}: wrote ${x}, read ${frame.values[k]}`);
          }
        });
      }),
      { numRuns: 500 },
    );
  });

  it.skipIf(!haveBeverage)('rewrites the real beverage recording and reads back the same frames', () => {
    const first = parseFramesCsv(readFileSync(beverageFile, 'utf8'), beverageFile);
    if (!first.ok) throw new Error(first.error.reason);
    const { recording } = first.value;
    const csv = framesCsvHeader(recording.channels, { withPhase: true }) + recording.frames.map((f) => formatFramesCsvRow(f, { withPhase: true })).join('');
    const second = parseFramesCsv(csv, 'copy.csv');
    if (!second.ok) throw new Error(second.error.reason);
    const back = second.value.recording;
    expect(back.frames.length).toBe(recording.frames.length);
    back.frames.forEach((frame, i) => {
      const original = recording.frames[i];
      expect([frame.sample, frame.label, frame.tS, frame.phase]).toEqual([original.sample, original.label, original.tS, original.phase]);
      expect(Array.from(frame.values)).toEqual(Array.from(original.values));
    });
  });
});
