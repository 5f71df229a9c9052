import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseLibsvm } from '../../../src/io/datasets/libsvm.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const rawDir = path.resolve(repoRoot, '..', 'shared', 'datasets', 'uci-gas-drift', 'raw');
const haveRaw = existsSync(rawDir);
if (!haveRaw) console.warn(`skipping the real drift data tests: ${rawDir} is absent`);

function parsed(text: string, source = '/data/batch7.dat') {
  const result = parseLibsvm(text, source);
  if (!result.ok) throw new Error(`unexpected issue: ${JSON.stringify(result.error)}`);
  return result.value;
}

function issueOf(text: string, source = '/data/bad.dat') {
  const result = parseLibsvm(text, source);
  if (result.ok) throw new Error('expected an issue');
  return result.error;
}

/** Independent reference: split on white space and Number(). */
function naiveParse(text: string): { labels: string[]; rows: Map<number, number>[] } {
  const labels: string[] = [];
  const rows: Map<number, number>[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    const [label, ...pairs] = line.trim().split(/\s+/);
    labels.push(label);
    rows.push(new Map(pairs.map((pair) => [Number(pair.split(':')[0]), Number(pair.split(':')[1])])));
  }
  return { labels, rows };
}

describe('parseLibsvm', () => {
  it('reads a sparse file densely: width = largest index, missing indices are 0', () => {
    const table = parsed('1 1:0.5 3:-2\n2 2:7e3\r\n\n# a comment\n3\t1:1\t4:4 \n');
    expect(table.count).toBe(3);
    expect(table.width).toBe(4);
    expect(table.featureNames).toEqual(['f1', 'f2', 'f3', 'f4']);
    expect(Array.from(table.x)).toEqual([0.5, 0, -2, 0, 0, 7000, 0, 0, 1, 0, 0, 4]);
    expect(table.labels).toEqual(['1', '2', '3']);
    expect(table.samples).toEqual(['batch7.dat#1', 'batch7.dat#2', 'batch7.dat#5']);
    expect(table.groups).toEqual(['batch7', 'batch7', 'batch7']);
    expect(table.source).toBe('/data/batch7.dat');
  });

  it('keeps labels as written and accepts a line with no pairs', () => {
    const table = parsed('+1 2:1\n-1\nclass_a 1:3\n');
    expect(table.labels).toEqual(['+1', '-1', 'class_a']);
    expect(Array.from(table.x)).toEqual([0, 1, 0, 0, 3, 0]);
  });

  it('skips blank lines anywhere, including a missing final line break', () => {
    expect(parsed('\n\n1 1:1\n   \n2 1:2').count).toBe(2);
  });

  it.each([
    ['index 0', '1 1:1\n2 0:5 1:1\n', 2, /index 0/],
    ['a repeated index', '1 1:1 2:2 2:3\n', 1, /index 2 repeated/],
    ['a falling index', '1 1:1\n1 1:1 5:2 3:3\n', 2, /index 3 after 5/],
    ['a non-numeric value', '1 1:1\n1 1:abc\n', 2, /"abc".*not a finite number/],
    ['nan as a value', '1 1:nan\n', 1, /not a finite number/],
    ['an empty value', '1 1:1 2:\n', 1, /index 2 is not a finite number/],
    ['a pair without a colon', '1 1:1 22\n', 1, /"22" is not an <index>:<value> pair/],
    ['a non-integer index', '1 1.5:2\n', 1, /not an <index>:<value> pair/],
    ['a missing label', '1 1:1\n\n1:3 2:4\n', 3, /no label/],
    ['a huge index', '1 99999999999:1\n', 1, /larger than/],
  ])('names file, line and reason for %s', (_name, text, line, reason) => {
    const issue = issueOf(text);
    expect(issue.file).toBe('/data/bad.dat');
    expect(issue.line).toBe(line);
    expect(issue.reason).toMatch(reason);
  });

  it('refuses an empty file and a file of blank lines with line 0', () => {
    expect(issueOf('')).toEqual({ file: '/data/bad.dat', line: 0, reason: 'empty file' });
    expect(issueOf('\n \n').line).toBe(0);
    expect(issueOf('1\n2\n').reason).toMatch(/no features/);
  });

  // Batch sizes from the shared README (batch7 is absent from raw/).
  const sizes: Record<string, number> = { batch1: 445, batch2: 1244, batch3: 1586, batch4: 161, batch5: 197, batch6: 2300, batch8: 294, batch9: 470 };

  it.skipIf(!haveRaw)('reads every raw drift batch: README sizes, width 128, labels 1..6, values equal to Number()', () => {
    let seconds = 0;
    for (const [batch, size] of Object.entries(sizes)) {
      const file = path.join(rawDir, `${batch}.dat`);
      const text = readFileSync(file, 'utf8');
      const start = performance.now();
      const table = parsed(text, file);
      seconds += (performance.now() - start) / 1000;
      expect(table.count, batch).toBe(size);
      expect(table.width).toBe(128);
      expect(table.groups[0]).toBe(batch);
      expect(new Set(table.labels).size).toBeGreaterThanOrEqual(5);
      for (const label of table.labels) expect(['1', '2', '3', '4', '5', '6']).toContain(label);

      const reference = naiveParse(text);
      expect(table.labels).toEqual(reference.labels);
      for (let i = 0; i < table.count; i++) {
        for (let j = 0; j < 128; j++) {
          const expected = reference.rows[i].get(j + 1) ?? 0;
          if (!Object.is(table.x[i * 128 + j], expected)) throw new Error(`${batch} row ${i} f${j + 1}: ${table.x[i * 128 + j]} != ${expected}`);
        }
      }
    }
    console.log(`parsed the 8 raw drift batches in ${(seconds * 1000).toFixed(0)} ms (parse only, cold)`);
  });
});
