/**
 * Importers for the files real rigs write (issue 19 item 6), each on a small committed sample: a real SmellNet
 * excerpt in its own layout (one CSV per recording, label folders), a built BME AI-Studio `.bmerawdata`, and
 * semicolon / tab frames files; then the unit rules (labels from names, delimiters, errors naming file and line).
 */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseBmeRawData } from '../../../src/io/datasets/bmeRawData.js';
import { delimiterMismatch, parseDelimiter, toCommaCsv } from '../../../src/io/datasets/delimited.js';
import { importKindOf, readRecordings } from '../../../src/io/datasets/imported.js';
import { readDataset } from '../../../src/io/datasets/index.js';
import { labelFromFileName, parseRecordingCsv } from '../../../src/io/datasets/recordingCsv.js';
import { createReplaySource } from '../../../src/io/replay.js';
import type { SourceEvent } from '../../../src/types.js';

const FIXTURES = 'tests/fixtures';
const SMELLNET = `${FIXTURES}/smellnet-recordings`;
const BME = `${FIXTURES}/bme/coffee-tea.bmerawdata`;

describe('recordings of one CSV each (SmellNet as it ships)', () => {
  it('the folder of label folders is told from the project formats and reads as two labelled samples', async () => {
    expect(await importKindOf(SMELLNET)).toBe('recordings');
    expect(await importKindOf(`${SMELLNET}/peach/peach.c3a2d11be682.csv`)).toBe('recordings');
    expect(await importKindOf(`${FIXTURES}/delimited/frames-tab.tsv`, '\t')).toBeNull();
    const read = await readRecordings(SMELLNET);
    if (!read.ok) throw new Error(read.error.reason);
    const r = read.value;
    // Temperature and Humidity are the environment channels; the others keep their names.
    expect(r.channels).toEqual(['NO2', 'C2H5OH', 'VOC', 'CO', 'Alcohol', 'LPG', 'Benzene', 'temp_c', 'Pressure', 'rh_pct', 'Gas_Resistance', 'Altitude']);
    expect(r.frames).toHaveLength(60);
    expect([...new Set(r.frames.map((f) => `${f.sample}=${f.label}`))]).toEqual(['peach/peach.c3a2d11be682=peach', 'walnuts/walnuts.3baca698db95=walnuts']);
    // No time column: one row a second.
    expect(r.frames.slice(0, 3).map((f) => f.tS)).toEqual([0, 1, 2]);
    expect(Array.from(r.frames[0]!.values)).toEqual([67, 188, 266, 891, 8, 248, 4294967295, 25.44, 1018.79, 25.62, 189.81, -14.75]);
  });

  it('readDataset and the replay source see the same two samples', async () => {
    const ds = await readDataset(SMELLNET);
    if (!ds.ok || ds.value.kind !== 'frames') throw new Error('not frames');
    expect(ds.value.recordings).toHaveLength(1);
    const source = await createReplaySource(SMELLNET, { baselineS: 5 });
    if (!source.ok) throw new Error(source.error.reason);
    expect(source.value.info).toMatchObject({ proto: 'file', rateHz: 1, channels: ds.value.recordings[0]!.channels });
    const events: SourceEvent[] = [];
    await source.value.run((e) => events.push(e), new AbortController().signal);
    const frames = events.filter((e) => e.type === 'frame');
    expect(frames).toHaveLength(60);
    // Host-timed phases: the first 5 s of each recording are its baseline.
    expect(frames.slice(0, 7).map((f) => (f.type === 'frame' ? f.phase : ''))).toEqual(['B', 'B', 'B', 'B', 'B', 'E', 'E']);
  });

  it('labels from file names, time columns, and errors that name the file and the line', () => {
    expect(['coffee_03.csv', 'coffee-3.csv', 'coffee.3f2a.csv', 'coffee run 2.csv', 'coffee.csv', '17.csv'].map(labelFromFileName)).toEqual(['coffee', 'coffee', 'coffee', 'coffee', 'coffee', '17']);
    const ok = parseRecordingCsv('time_ms,s1,Humidity\n0,10,40\n500,11,nan\n1000,,41\n', 'r.csv', 'r', 'x');
    if (!ok.ok) throw new Error(ok.error.reason);
    expect(ok.value.channels).toEqual(['s1', 'rh_pct']);
    expect(ok.value.frames.map((f) => f.tS)).toEqual([0, 0.5, 1]);
    expect(Number.isNaN(ok.value.frames[2]!.values[0]!)).toBe(true);
    const back = parseRecordingCsv('t_s,s1\n0,1\n2,1\n1,1\n', 'r.csv', 'r', 'x');
    expect(back.ok ? null : back.error).toEqual({ file: 'r.csv', line: 4, reason: 'time "1" does not rise (the row before: 2)' });
    const word = parseRecordingCsv('t_s,s1\n0,1\n1,abc\n', 'r.csv', 'r', 'x');
    expect(word.ok ? null : word.error).toMatchObject({ file: 'r.csv', line: 3 });
  });

  it('a folder whose files differ in channels names the odd file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'enose-rec-'));
    mkdirSync(join(dir, 'a'));
    mkdirSync(join(dir, 'b'));
    writeFileSync(join(dir, 'a', 'r1.csv'), 't_s,s1,s2\n0,1,2\n1,1,2\n');
    writeFileSync(join(dir, 'b', 'r1.csv'), 't_s,s1,s3\n0,1,2\n1,1,2\n');
    const read = await readRecordings(dir);
    expect(read.ok ? null : read.error).toMatchObject({ file: join(dir, 'b', 'r1.csv'), line: 0 });
  });
});

describe('BME AI-Studio .bmerawdata', () => {
  it('one complete heater-profile pass per sample, a feature per step, labels named by the .bmelabelinfo', async () => {
    expect(await importKindOf(BME)).toBe('bme');
    const ds = await readDataset(BME);
    if (!ds.ok || ds.value.kind !== 'features') throw new Error(ds.ok ? 'not features' : ds.error.reason);
    const t = ds.value.table;
    expect(t.featureNames).toEqual(Array.from({ length: 10 }, (_, k) => `gas_step${k}`));
    expect(t.count).toBe(32);
    expect(t.labels.filter((l) => l === 'coffee')).toHaveLength(16);
    expect(t.labels.filter((l) => l === 'tea')).toHaveLength(16);
    expect(t.samples.slice(0, 3)).toEqual(['coffee-tea.bmerawdata#s0-1', 'coffee-tea.bmerawdata#s1-1', 'coffee-tea.bmerawdata#s0-2']);
    // The cut pass and the one with an error code are left out, and said so.
    expect(ds.value.warnings.map((w) => w.reason)).toEqual([
      '1 heater-profile pass(es) cut short (not all 10 steps in order) left out',
      '1 pass(es) with a reading flagged by its error code left out',
    ]);
    // coffee's step 1 (100 degC) reads ~90 kOhm on sensor 0, tea's ~60 kOhm.
    expect(t.x[1]).toBeGreaterThan(85e3);
    expect(t.x[16 * 2 * 10 - 10 + 1]).toBeLessThan(85e3);
  });

  it('without label names: tags become tag<N>; tag 0 is unlabelled; bad files are one reason', () => {
    const file = (rows: unknown[][]) =>
      JSON.stringify({ rawDataBody: { dataColumns: [{ key: 'sensor_index' }, { key: 'resistance_gassensor' }, { key: 'heater_profile_step_index' }, { key: 'label_tag' }], dataBlock: rows } });
    const read = parseBmeRawData(file([[0, 10, 0, 3], [0, 20, 1, 3], [0, 11, 0, 0], [0, 21, 1, 0]]), 'x.bmerawdata');
    if (!read.ok) throw new Error(read.error.reason);
    expect(read.value.table.labels).toEqual(['tag3', '']);
    expect(Array.from(read.value.table.x)).toEqual([10, 20, 11, 21]);
    expect(parseBmeRawData('{', 'x.bmerawdata').ok).toBe(false);
    const ragged = parseBmeRawData(file([[0, 10, 0, 3], [0, 20, 1]]), 'x.bmerawdata');
    expect(ragged.ok ? null : ragged.error.reason).toBe('rawDataBody.dataBlock row 2: 3 values, dataColumns has 4');
  });
});

describe('--delimiter', () => {
  it('semicolon with decimal commas and tab files read as the comma file they stand for', async () => {
    const semi = await readDataset(`${FIXTURES}/delimited/frames-semicolon.csv`, { delimiter: ';' });
    const tab = await readDataset(`${FIXTURES}/delimited/frames-tab.tsv`, { delimiter: '\t' });
    if (!semi.ok || !tab.ok || semi.value.kind !== 'frames' || tab.value.kind !== 'frames') throw new Error('not read');
    const a = semi.value.recordings[0]!;
    const b = tab.value.recordings[0]!;
    expect(a.channels).toEqual(['mq135', 'mq3', 'tgs2602']);
    expect(a.frames).toHaveLength(144);
    expect(a.frames.map((f) => [f.sample, f.label, f.tS, f.phase, ...f.values])).toEqual(b.frames.map((f) => [f.sample, f.label, f.tS, f.phase, ...f.values]));
    expect(a.frames[1]!.tS).toBe(0.5);
  });

  it('rules: names, quoting, line numbers kept, and a hint when the option is missing', () => {
    expect(['comma', 'semicolon', 'tab', ';', '\\t'].map(parseDelimiter)).toEqual([',', ';', '\t', ';', '\t']);
    expect(() => parseDelimiter('pipe')).toThrow(/comma, semicolon or tab/);
    expect(toCommaCsv('a;b;c\n1,5;x,y;"q;r"\n\n# c;d\n', ';')).toBe('a,b,c\n1.5,"x,y",q;r\n\n# c;d\n');
    expect(delimiterMismatch('# note\nsample;label;t_s\n', ',')).toMatch(/--delimiter semicolon/);
    expect(delimiterMismatch('sample\tlabel\n', ',')).toMatch(/--delimiter tab/);
    expect(delimiterMismatch('sample,label\n', ',')).toBeNull();
  });
});
