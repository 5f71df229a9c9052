import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { baseName, isNanCell, parseDecimal, splitCsvLine, textLines } from '../../../src/io/datasets/text.js';

const parse = (s: string): number => parseDecimal(s, 0, s.length);

describe('parseDecimal', () => {
  it('reads every double written by String() back to the same bits', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        // String(-0) is "0": the writer handles -0 itself (formatFramesCsvNumber).
        const expected = Object.is(x, -0) ? 0 : x;
        expect(Object.is(parse(String(x)), expected)).toBe(true);
      }),
      { numRuns: 20_000 },
    );
  });

  it('equals Number() on random decimal texts, fast path or not', () => {
    const digits = fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength: 20 });
    const text = fc
      .tuple(fc.constantFrom('', '-', '+'), digits, fc.option(digits), fc.option(fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '-', '+'), fc.integer({ min: 0, max: 330 }))))
      .map(([sign, int, frac, exp]) => `${sign}${int}${frac === null ? '' : `.${frac}`}${exp === null ? '' : `${exp[0]}${exp[1]}${exp[2]}`}`);
    fc.assert(
      fc.property(text, (s) => {
        const expected = Number(s);
        expect(Object.is(parse(s), Number.isFinite(expected) ? expected : NaN)).toBe(true);
      }),
      { numRuns: 20_000 },
    );
  });

  it('accepts the usual decimal forms', () => {
    expect(parse('15596.162100')).toBe(15596.1621);
    expect(parse('-3.735087')).toBe(-3.735087);
    expect(parse('.5')).toBe(0.5);
    expect(parse('5.')).toBe(5);
    expect(parse('+7')).toBe(7);
    expect(parse('1.5e-7')).toBe(1.5e-7);
    expect(parse('1e+21')).toBe(1e21);
    expect(Object.is(parse('-0'), -0)).toBe(true);
    expect(parse('abc 12.5 x'.slice(4, 8))).toBe(12.5);
    expect(parseDecimal('abc 12.5 x', 4, 8)).toBe(12.5);
  });

  it('refuses everything else', () => {
    for (const bad of ['', ' 1', '1 ', '-', '.', 'e5', '1e', '1e+', '0x10', 'Infinity', 'nan', 'NaN', '1,5', '1.2.3', '--1', '1e400', '12a']) {
      expect(parse(bad), bad).toBeNaN();
    }
  });
});

describe('isNanCell', () => {
  it('takes nan in any case and nothing else', () => {
    for (const cell of ['nan', 'NaN', 'NAN', 'nAn']) expect(isNanCell(cell)).toBe(true);
    for (const cell of ['', 'na', 'nan ', '-nan', 'none', 'null']) expect(isNanCell(cell)).toBe(false);
  });
});

describe('splitCsvLine', () => {
  it('splits and trims unquoted cells', () => {
    expect(splitCsvLine('a, b ,c')).toEqual(['a', 'b', 'c']);
    expect(splitCsvLine('a,,')).toEqual(['a', '', '']);
    expect(splitCsvLine('')).toEqual(['']);
  });

  it('reads RFC 4180 quoted cells verbatim', () => {
    expect(splitCsvLine('"a,b","say ""hi""", x ,"  "')).toEqual(['a,b', 'say "hi"', 'x', '  ']);
    expect(splitCsvLine('"#1",2,')).toEqual(['#1', '2', '']);
  });

  it('reports broken quoting', () => {
    expect(typeof splitCsvLine('"abc,1')).toBe('string');
    expect(typeof splitCsvLine('"abc"x,1')).toBe('string');
    expect(typeof splitCsvLine('ab"c,1')).toBe('string');
  });
});

describe('textLines', () => {
  it('numbers lines, strips CR and a BOM, and marks an unterminated last line', () => {
    const lines = [...textLines('\ufeffa\r\nb\n\nc')];
    expect(lines.map((l) => [l.number, l.text, l.terminated])).toEqual([
      [1, 'a', true],
      [2, 'b', true],
      [3, '', true],
      [4, 'c', false],
    ]);
    expect([...textLines('a\n')].map((l) => l.terminated)).toEqual([true]);
  });
});

describe('baseName', () => {
  it('drops the folder and the extension', () => {
    expect(baseName('/x/y/batch2.dat')).toBe('batch2');
    expect(baseName('C:\\d\\b.csv')).toBe('b');
    expect(baseName('noext')).toBe('noext');
  });
});
