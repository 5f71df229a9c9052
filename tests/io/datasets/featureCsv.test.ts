import { describe, expect, it } from 'vitest';
import { parseFeatureCsv } from '../../../src/io/datasets/featureCsv.js';

function parsed(text: string, source = '/data/run3.csv') {
  const result = parseFeatureCsv(text, source);
  if (!result.ok) throw new Error(`unexpected issue: ${JSON.stringify(result.error)}`);
  return result.value;
}

function issueOf(text: string) {
  const result = parseFeatureCsv(text, '/data/bad.csv');
  if (result.ok) throw new Error('expected an issue');
  expect(result.error.file).toBe('/data/bad.csv');
  return result.error;
}

describe('parseFeatureCsv', () => {
  it('reads label and features, ids from <file>#<line> without a sample column', () => {
    const table = parsed('# made by hand\nlabel,s1:frac,s2:frac\nbeer,0.5,-1e-3\r\n\nwine, 2 ,3\n');
    expect(table.featureNames).toEqual(['s1:frac', 's2:frac']);
    expect(table.width).toBe(2);
    expect(table.count).toBe(2);
    expect(Array.from(table.x)).toEqual([0.5, -0.001, 2, 3]);
    expect(table.labels).toEqual(['beer', 'wine']);
    expect(table.samples).toEqual(['run3.csv#3', 'run3.csv#5']);
    expect(table.groups).toEqual(['run3', 'run3']);
  });

  it('takes sample and label columns anywhere, quoted cells and empty labels', () => {
    const table = parsed('a,sample,b,label\n1,s-1,2,"green tea, jasmine"\n3,,4,\n');
    expect(table.featureNames).toEqual(['a', 'b']);
    expect(Array.from(table.x)).toEqual([1, 2, 3, 4]);
    expect(table.samples).toEqual(['s-1', 'run3.csv#3']);
    expect(table.labels).toEqual(['green tea, jasmine', '']);
  });

  it('grows past its first buffer', () => {
    const rows = Array.from({ length: 1000 }, (_, i) => `c${i % 3},${i},${-i}`).join('\n');
    const table = parsed(`label,x,y\n${rows}\n`);
    expect(table.count).toBe(1000);
    expect(table.x.length).toBe(2000);
    expect(table.x[2 * 999]).toBe(999);
    expect(table.x[2 * 999 + 1]).toBe(-999);
  });

  it.each([
    ['a ragged row', 'label,a,b\nx,1,2\ny,1\n', 3, /ragged row: 2 cells, the header has 3/],
    ['a long row', 'label,a\nx,1,2\n', 2, /ragged row: 3 cells/],
    ['a non-numeric cell', 'label,a,b\nx,1,2\ny,1,two\n', 3, /column "b": "two" is not a finite number/],
    ['nan as a feature', 'label,a\nx,nan\n', 2, /"nan" is not a finite number/],
    ['an empty cell', 'label,a,b\nx,,1\n', 2, /column "a": "" is not/],
    ['duplicate names', '#c\nlabel,a,a\nx,1,2\n', 2, /duplicate column name "a"/],
    ['no label column', 'a,b\n1,2\n', 1, /no "label" column/],
    ['no feature column', 'sample,label\ns,x\n', 1, /no feature columns/],
    ['an unnamed column', 'label,a,\nx,1,2\n', 1, /column 3 has no name/],
    ['an unclosed quote', 'label,a\n"x,1\n', 2, /not closed/],
  ])('names the line and the reason for %s', (_name, text, line, reason) => {
    const issue = issueOf(text);
    expect(issue.line).toBe(line);
    expect(issue.reason).toMatch(reason);
  });

  it('refuses an empty file, a file of comments and a header without rows with line 0', () => {
    expect(issueOf('')).toMatchObject({ line: 0, reason: 'empty file' });
    expect(issueOf('# only\n\n')).toMatchObject({ line: 0, reason: 'no header line' });
    expect(issueOf('label,a\n')).toMatchObject({ line: 0, reason: 'no samples after the header' });
  });
});
