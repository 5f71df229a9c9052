import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readModelFile, writeModelFile } from '../../src/io/modelFile.js';
import { parseBundle } from '../../src/model/runtime/bundle.js';
import { compileModel, predictCompiled } from '../../src/model/runtime/pipeline.js';
import { fitModel, type ClassifierKind } from '../../src/model/fitting/fitModel.js';
import { makeClusters } from '../helpers/synthetic.js';

const table = makeClusters({ seed: 11, classes: ['clear', 'cocaine', 'cannabis'], perClass: 40, width: 10, separation: 1.5, scale: 100, offset: 1e4 });
const input = { kind: 'features' as const, featureNames: [...table.featureNames] };

describe('model bundle', () => {
  for (const classifier of ['knn', 'lda', 'logreg'] as ClassifierKind[]) {
    it(`${classifier}: train, save, load, predict gives bit-identical probabilities`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'enose-bundle-'));
      const bundle = fitModel(table, input, { classifier, components: 6 });
      writeModelFile(join(dir, 'm.json'), bundle);
      const loaded = readModelFile(join(dir, 'm.json'));
      if (!loaded.ok) throw new Error(loaded.error.reason);
      expect(loaded.value.id).toBe(bundle.id);
      const a = compileModel(bundle);
      const b = compileModel(loaded.value);
      const pa = new Float64Array(3);
      const pb = new Float64Array(3);
      let nonTrivial = 0;
      for (let i = 0; i < table.count; i++) {
        predictCompiled(a, table.x, i * table.width, pa);
        predictCompiled(b, table.x, i * table.width, pb);
        for (let c = 0; c < 3; c++) expect(Object.is(pa[c], pb[c])).toBe(true);
        if (pa[0]! > 0 && pa[0]! < 1) nonTrivial++;
      }
      if (classifier !== 'knn') expect(nonTrivial).toBeGreaterThan(0);
    });
  }

  it('is frozen, JSON-able and names its kind and version', () => {
    const bundle = fitModel(table, input, { classifier: 'lda' });
    expect(Object.isFrozen(bundle)).toBe(true);
    expect(Object.isFrozen(bundle.scaler.mean)).toBe(true);
    expect(bundle.kind).toBe('enose-model');
    expect(bundle.version).toBe(1);
    expect(JSON.parse(JSON.stringify(bundle))).toEqual(JSON.parse(JSON.stringify(bundle)));
  });

  it('the same data and options give the same id; other options another', () => {
    const a = fitModel(table, input, { classifier: 'lda' });
    const b = fitModel(table, input, { classifier: 'lda' });
    const c = fitModel(table, input, { classifier: 'logreg' });
    expect(a.id).toBe(b.id);
    expect(c.id).not.toBe(a.id);
  });

  const good = JSON.parse(JSON.stringify(fitModel(table, input, { classifier: 'knn', components: 4 }))) as Record<string, unknown>;
  const cases: [string, (m: Record<string, unknown>) => unknown, RegExp][] = [
    ['a wrong kind', (m) => ({ ...m, kind: 'pca' }), /kind is "pca", expected "enose-model"/],
    ['a wrong version', (m) => ({ ...m, version: 2 }), /unsupported model version 2/],
    ['an array', () => [1, 2], /not a model/],
    ['a missing scaler', ({ scaler: _s, ...m }) => m, /scaler/],
    ['a NaN-free but tampered number', (m) => ({ ...m, scaler: { ...(m['scaler'] as object), mean: (m['scaler'] as { mean: number[] }).mean.map((v) => v + 1) } }), /hash/],
    ['axes of the wrong length', (m) => ({ ...m, pca: { ...(m['pca'] as object), axes: [1, 2, 3] } }), /axes/],
    ['a knn label out of range', (m) => ({ ...m, classifier: { ...(m['classifier'] as object), labels: (m['classifier'] as { labels: number[] }).labels.map(() => 9) } }), /out of range/],
  ];
  for (const [name, mutate, message] of cases) {
    it(`rejects ${name} with a clear reason`, () => {
      const result = parseBundle(mutate(good), 'm.json');
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.error.file).toBe('m.json');
        expect(result.error.reason).toMatch(message);
        expect(result.error.reason).not.toMatch(/\n/);
      }
    });
  }

  it('reads a file that is not JSON as an error naming the line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'enose-bundle-'));
    writeFileSync(join(dir, 'bad.json'), '{\n  "kind": "enose-model",\n  oops\n}\n');
    const result = readModelFile(join(dir, 'bad.json'));
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.reason).toMatch(/not valid JSON/);
      expect(result.error.line).toBe(3);
    }
  });

  it('writes gzip JSON for a .gz name and reads it back to the same model; the content, not the name, decides', () => {
    const dir = mkdtempSync(join(tmpdir(), 'enose-bundle-'));
    const bundle = fitModel(table, input, { classifier: 'logreg', components: 6 });
    writeModelFile(join(dir, 'm.json.gz'), bundle);
    writeModelFile(join(dir, 'm.json'), bundle);
    const bytes = readFileSync(join(dir, 'm.json.gz'));
    expect([bytes[0], bytes[1]]).toEqual([0x1f, 0x8b]);
    expect(gunzipSync(bytes).toString('utf8')).toBe(readFileSync(join(dir, 'm.json'), 'utf8'));
    expect(bytes.length).toBeLessThan(readFileSync(join(dir, 'm.json')).length / 1.5);
    // a compressed model under a plain name (renamed by hand) loads too
    writeFileSync(join(dir, 'renamed.json'), bytes);
    for (const name of ['m.json.gz', 'renamed.json']) {
      const loaded = readModelFile(join(dir, name));
      if (!loaded.ok) throw new Error(loaded.error.reason);
      expect(loaded.value.id).toBe(bundle.id);
      expect(JSON.stringify(loaded.value)).toBe(JSON.stringify(bundle));
    }
    expect(readdirSync(dir).sort()).toEqual(['m.json', 'm.json.gz', 'renamed.json']);
  });

  it('a cut or corrupt gzip model is one line naming the file, not a crash', () => {
    const dir = mkdtempSync(join(tmpdir(), 'enose-bundle-'));
    const bytes = gzipSync(JSON.stringify(fitModel(table, input, {})));
    writeFileSync(join(dir, 'cut.json.gz'), bytes.subarray(0, bytes.length >> 1));
    const flipped = Buffer.from(bytes);
    flipped[20] = flipped[20]! ^ 0xff;
    writeFileSync(join(dir, 'flipped.json.gz'), flipped);
    writeFileSync(join(dir, 'not-json.gz'), gzipSync('{ oops'));
    for (const [name, reason] of [['cut.json.gz', /gzip file that does not decompress/], ['flipped.json.gz', /gzip file that does not decompress|not valid JSON|hash/], ['not-json.gz', /not valid JSON/]] as const) {
      const result = readModelFile(join(dir, name));
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.error.file).toBe(join(dir, name));
        expect(result.error.reason).toMatch(reason);
        expect(result.error.reason).not.toMatch(/\n/);
      }
    }
  });

  it('writes atomically: no temporary file is left beside the model', () => {
    const dir = mkdtempSync(join(tmpdir(), 'enose-bundle-'));
    writeModelFile(join(dir, 'm.json'), fitModel(table, input, {}));
    expect(readFileSync(join(dir, 'm.json'), 'utf8').endsWith('\n')).toBe(true);
    expect(readdirSync(dir)).toEqual(['m.json']);
  });
});

describe('model hash', () => {
  it('does not depend on the order of keys in the file', () => {
    const bundle = fitModel(table, input, { classifier: 'lda' });
    const reordered = JSON.parse(JSON.stringify(bundle), (_k, v: unknown) => {
      if (v && typeof v === 'object' && !Array.isArray(v)) return Object.fromEntries(Object.entries(v).reverse());
      return v;
    }) as unknown;
    const result = parseBundle(reordered, 'r.json');
    expect(result.ok).toBe(true);
  });
});
