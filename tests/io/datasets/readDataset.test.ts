import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concatFeatureTables, readDataset, type Dataset } from '../../../src/io/datasets/index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const shared = path.resolve(repoRoot, '..', 'shared', 'datasets');
const rawDir = path.join(shared, 'uci-gas-drift', 'raw');
const zscoredDir = path.join(shared, 'uci-gas-drift', 'zscored-per-batch');
const beverageDir = path.join(shared, 'beverage-enose-2016-05');
const haveDrift = existsSync(rawDir) && existsSync(zscoredDir);
const haveBeverage = existsSync(beverageDir);
if (!haveDrift) console.warn(`skipping the real drift folder tests: ${rawDir} or ${zscoredDir} is absent`);
if (!haveBeverage) console.warn(`skipping the real beverage folder test: ${beverageDir} is absent`);

let dir = '';
const at = (...parts: string[]): string => path.join(dir, ...parts);

function write(name: string, text: string): string {
  const file = at(name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

async function readOk(paths: string | string[]): Promise<Dataset> {
  const result = await readDataset(paths);
  if (!result.ok) throw new Error(`unexpected issue: ${JSON.stringify(result.error)}`);
  return result.value;
}

async function readIssue(paths: string | string[]) {
  const result = await readDataset(paths);
  if (result.ok) throw new Error('expected an issue');
  return result.error;
}

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'enose-datasets-'));
  write('svm/batch10.dat', '2 1:10 3:30\n');
  write('svm/batch2.dat', '1 1:1 2:2\n2 2:4\n');
  write('svm/batch1.svm', '3 1:0.5\n');
  write('svm/README.md', 'not data\n');
  write('svm/notes.txt', 'not data\n');
  write('svm/sub/batch0.dat', '9 1:1\n');
  write('features/a.csv', 'label,x,y\np,1,2\n');
  write('features/b.csv', '# second\nsample,label,x,y\ns9,q,3,4\n');
  write('features/other.csv', 'label,x,z\np,1,2\n');
  write('frames/run1.csv', 'sample,label,t_s,phase,s1\nc1,beer,0,B,1\nc1,beer,1,E,2\n');
  write('frames/run2.csv', '# recorded\nsample,label,t_s,phase,s1\nc2,wine,0,B,1\nc2,wine,1,E,3');
  write('cut/frames.csv', 'sample,label,t_s,s1\nc1,x,0,1\nc1,x,1,2\nc1,x,2');
  write('mixed/a.csv', 'label,x\np,1\n');
  write('mixed/b.csv', 'sample,label,t_s,s1\nc,x,0,1\n');
  write('empty/empty.dat', '');
  write('bad/a.dat', '1 1:1\n1 2:2 1:1\n');
  mkdirSync(at('nodata'));
  write('nodata/readme.txt', 'x');
  mkdirSync(at('trap', 'folder.csv'), { recursive: true });
  mkdirSync(at('links'));
  symlinkSync(at('trap', 'folder.csv'), at('links', 'looks-like-a-file.csv'));
});

afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

describe('readDataset', () => {
  it('reads a folder of libsvm files in natural name order, padding to the widest, grouped by file', async () => {
    const data = await readOk(at('svm'));
    expect(data.kind).toBe('features');
    if (data.kind !== 'features') return;
    const { table } = data;
    expect(table.groups).toEqual(['batch1', 'batch2', 'batch2', 'batch10']);
    expect(table.labels).toEqual(['3', '1', '2', '2']);
    expect(table.width).toBe(3);
    expect(table.featureNames).toEqual(['f1', 'f2', 'f3']);
    expect(Array.from(table.x)).toEqual([0.5, 0, 0, 1, 2, 0, 0, 4, 0, 10, 0, 30]);
    expect(table.samples[0]).toBe('batch1.svm#1');
    expect(table.source).toBe(at('svm'));
  });

  it('reads a single file and several paths in the order given', async () => {
    const one = await readOk(at('svm', 'batch2.dat'));
    expect(one.kind === 'features' && one.table.count).toBe(2);
    const two = await readOk([at('svm', 'batch10.dat'), at('svm', 'batch2.dat')]);
    expect(two.kind === 'features' && two.table.groups).toEqual(['batch10', 'batch2', 'batch2']);
  });

  it('tells feature CSVs by their header and joins those with equal columns', async () => {
    const data = await readOk([at('features', 'a.csv'), at('features', 'b.csv')]);
    if (data.kind !== 'features') throw new Error('expected features');
    expect(data.table.featureNames).toEqual(['x', 'y']);
    expect(Array.from(data.table.x)).toEqual([1, 2, 3, 4]);
    expect(data.table.samples).toEqual(['a.csv#2', 's9']);
    expect(data.table.groups).toEqual(['a', 'b']);
  });

  it('refuses feature CSVs whose columns differ', async () => {
    const issue = await readIssue(at('features'));
    expect(issue.file).toBe(at('features', 'other.csv'));
    expect(issue.line).toBe(0);
    expect(issue.reason).toMatch(/differ/);
  });

  it('tells frames CSVs by their header and returns one recording each', async () => {
    const data = await readOk(at('frames'));
    if (data.kind !== 'frames') throw new Error('expected frames');
    expect(data.recordings.map((r) => r.source)).toEqual([at('frames', 'run1.csv'), at('frames', 'run2.csv')]);
    expect(data.recordings[1].frames[1].values[0]).toBe(3);
    expect(data.warnings).toEqual([]);
  });

  it('passes tolerateCutLastLine through and returns the warning', async () => {
    const strict = await readIssue(at('cut'));
    expect(strict).toMatchObject({ file: at('cut', 'frames.csv'), line: 4 });
    const result = await readDataset(at('cut'), { tolerateCutLastLine: true });
    if (!result.ok || result.value.kind !== 'frames') throw new Error('expected frames');
    expect(result.value.recordings[0].frames.length).toBe(2);
    expect(result.value.warnings).toMatchObject([{ file: at('cut', 'frames.csv'), line: 4 }]);
  });

  it('refuses frames and feature files mixed in one call', async () => {
    const issue = await readIssue(at('mixed'));
    expect(issue).toMatchObject({ file: at('mixed', 'b.csv'), line: 0 });
    expect(issue.reason).toMatch(/frames file cannot be read together with features files/);
    expect((await readIssue([at('svm', 'batch2.dat'), at('frames', 'run1.csv')])).file).toBe(at('frames', 'run1.csv'));
  });

  it('returns a missing path as an issue with line 0, never a throw', async () => {
    expect(await readIssue(at('nope.dat'))).toEqual({ file: at('nope.dat'), line: 0, reason: 'no such file or folder' });
    expect((await readIssue([at('svm'), at('nope')])).file).toBe(at('nope'));
  });

  it('returns an unreadable file as an issue naming it', async () => {
    const issue = await readIssue(at('links'));
    expect(issue.file).toBe(at('links', 'looks-like-a-file.csv'));
    expect(issue.line).toBe(0);
    expect(issue.reason).toMatch(/cannot read: it is a folder/);
  });

  it('passes the file, line and reason of a bad file through', async () => {
    expect(await readIssue(at('bad'))).toEqual({ file: at('bad', 'a.dat'), line: 2, reason: 'index 1 after 2: indices must rise' });
    expect(await readIssue(at('empty'))).toEqual({ file: at('empty', 'empty.dat'), line: 0, reason: 'empty file' });
  });

  it('refuses a folder without data files, an unknown extension and an empty path list', async () => {
    expect((await readIssue(at('nodata'))).reason).toMatch(/no data files/);
    expect((await readIssue(at('svm', 'notes.txt'))).reason).toMatch(/unknown data file extension/);
    expect((await readIssue([])).reason).toMatch(/no data path/);
  });

  it.skipIf(!haveDrift)('reads the real raw drift folder: 6,697 samples in 8 batches, width 128', async () => {
    const start = performance.now();
    const data = await readOk(rawDir);
    const ms = performance.now() - start;
    if (data.kind !== 'features') throw new Error('expected features');
    const { table } = data;
    const sizes = new Map<string, number>();
    for (const group of table.groups) sizes.set(group, (sizes.get(group) ?? 0) + 1);
    // README batch sizes; batch7 and batch10 are absent from raw/.
    expect([...sizes]).toEqual([
      ['batch1', 445],
      ['batch2', 1244],
      ['batch3', 1586],
      ['batch4', 161],
      ['batch5', 197],
      ['batch6', 2300],
      ['batch8', 294],
      ['batch9', 470],
    ]);
    expect(table.width).toBe(128);
    expect(table.x.length).toBe(table.count * 128);
    console.log(`readDataset(raw drift folder): ${table.count} samples in ${ms.toFixed(0)} ms (read + parse + join)`);
  });

  it.skipIf(!haveDrift)('reads the standardised drift folder with batch7 and batch10 in numeric order', async () => {
    const data = await readOk(zscoredDir);
    if (data.kind !== 'features') throw new Error('expected features');
    const order = [...new Set(data.table.groups)];
    expect(order).toEqual(['batch1', 'batch2', 'batch3', 'batch4', 'batch5', 'batch6', 'batch7', 'batch8', 'batch9', 'batch10']);
    expect(data.table.groups.filter((g) => g === 'batch7').length).toBe(3613);
    expect(data.table.count).toBe(13910);
  });

  it.skipIf(!haveBeverage)('reads the real beverage folder as one frames recording (README.md ignored)', async () => {
    const data = await readOk(beverageDir);
    if (data.kind !== 'frames') throw new Error('expected frames');
    expect(data.recordings.length).toBe(1);
    expect(data.recordings[0].channels.length).toBe(32);
  });
});

describe('concatFeatureTables', () => {
  it('refuses an empty list', () => {
    expect(concatFeatureTables([]).ok).toBe(false);
  });

  it('joins tables of 300,000 rows without overflowing the call stack (no push(...rows))', () => {
    const n = 150_000;
    const table = (tag: string) => ({
      source: tag,
      featureNames: ['a', 'b'],
      width: 2,
      count: n,
      x: Float64Array.from({ length: 2 * n }, (_, i) => i),
      labels: Array.from({ length: n }, (_, i) => (i % 2 ? 'clear' : 'cocaine')),
      samples: Array.from({ length: n }, (_, i) => `${tag}-${i}`),
      groups: Array.from({ length: n }, () => tag),
    });
    const joined = concatFeatureTables([table('p'), table('q')]);
    expect(joined.ok).toBe(true);
    if (!joined.ok) return;
    expect(joined.value.count).toBe(2 * n);
    expect(joined.value.labels).toHaveLength(2 * n);
    expect(joined.value.samples[n]).toBe('q-0');
    expect(joined.value.groups[2 * n - 1]).toBe('q');
    expect(joined.value.x[2 * n]).toBe(0);
  });
});
