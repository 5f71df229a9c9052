/**
 * The fit's first stages on one buffer (src/model/fitting/coreScores.ts: the row copy z-scored and projected in
 * place, in shared memory for an MLP) give the doubles of fitScaler, applyScaler and projectCentred on separate
 * arrays, and the MLP's worker threads train on shared scores as on a copy of them.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { coreScores } from '../../src/model/fitting/coreScores.js';
import { fitPca, projectCentred, type ComponentChoice } from '../../src/model/fitting/pca.js';
import type { fitMlp as FitMlpFromSources } from '../../src/model/fitting/mlp.js';
import { applyScaler, fitScaler } from '../../src/model/runtime/scaler.js';
import type { FeatureTable } from '../../src/types.js';
import { makeClusters } from '../helpers/synthetic.js';

// 3 x 41 = 123 rows: an odd count, so projectCentred's last single row is exercised too.
const table = makeClusters({ seed: 7, classes: ['a', 'b', 'c'], perClass: 41, width: 9, separation: 1.5, scale: 50, offset: 1e4 });
const labelIndex = Int32Array.from(table.labels, (l) => ['a', 'b', 'c'].indexOf(l));

/** The stages on separate arrays, as fitModel ran them before. */
function reference(t: FeatureTable, choice: ComponentChoice, rows?: Int32Array) {
  const width = t.width;
  const count = rows ? rows.length : t.count;
  const x = new Float64Array(count * width);
  for (let i = 0; i < count; i++) {
    const r = rows ? rows[i]! : i;
    x.set(t.x.subarray(r * width, (r + 1) * width), i * width);
  }
  const scaler = fitScaler(x, count, width);
  const z = applyScaler(scaler, x, count, width);
  const pca = fitPca(z, count, width, choice);
  return { scaler, pca, scores: projectCentred(z, count, pca) };
}

describe('coreScores (the fit on one buffer)', () => {
  const everyRow = undefined;
  const someRows = Int32Array.from({ length: table.count }, (_, i) => i).filter((i) => i % 5 !== 0); // 98 rows
  const original = Float64Array.from(table.x);
  for (const choice of [{ components: 9 }, { components: 3 }, { variance: 0.9 }] as ComponentChoice[]) {
    for (const rows of [everyRow, someRows]) {
      for (const shared of [false, true]) {
        it(`gives the separate stages' doubles (${JSON.stringify(choice)}, ${rows ? 'some rows' : 'all rows'}, ${shared ? 'shared' : 'own'} memory)`, () => {
          const ours = coreScores(table, labelIndex, choice, shared, rows);
          const theirs = reference(table, choice, rows);
          expect(ours.scaler).toEqual(theirs.scaler);
          expect(ours.pca).toEqual(theirs.pca);
          expect(ours.scores.length).toBe(theirs.scores.length);
          expect(Buffer.from(ours.scores.buffer, ours.scores.byteOffset, ours.scores.byteLength).equals(Buffer.from(theirs.scores.buffer))).toBe(true);
          expect(ours.scores.buffer instanceof SharedArrayBuffer).toBe(shared);
          expect(Array.from(ours.labels)).toEqual(rows ? Array.from(rows, (r) => labelIndex[r]) : Array.from(labelIndex));
          expect(Buffer.from(table.x.buffer).equals(Buffer.from(original.buffer))).toBe(true); // the table is not touched
        });
      }
    }
  }

  it('projectCentred in place (out = z) gives the scores of a separate array', () => {
    const { pca } = reference(table, { components: 9 });
    const z = applyScaler(fitScaler(table.x, table.count, 9), table.x, table.count, 9);
    const separate = projectCentred(z, table.count, pca);
    const inPlace = projectCentred(z, table.count, pca, z);
    expect(inPlace.buffer).toBe(z.buffer);
    expect(Array.from(inPlace)).toEqual(Array.from(separate));
  });
});

const distUrl = new URL('../../dist/model/fitting/mlp.js', import.meta.url);
const haveDist = existsSync(new URL('../../dist/model/fitting/mlpWorker.js', import.meta.url));
if (!haveDist) console.log('SKIPPED: the shared-scores MLP test needs the compiled worker (npm run build)');

describe('MLP worker threads on scores already in shared memory', () => {
  it.skipIf(!haveDist)('train the networks they train on a copy', async () => {
    const { fitMlp } = (await import(distUrl.href)) as { fitMlp: typeof FitMlpFromSources };
    const { scores, labels, count, pca } = coreScores(table, labelIndex, { components: 9 }, true);
    const own = Float64Array.from(scores);
    const options = { hidden: [8], networks: 2, maxEpochs: 6, threads: 2 };
    const shared = fitMlp(scores, count, pca.components, labels, 3, options);
    expect(shared).toEqual(fitMlp(own, count, pca.components, labels, 3, options));
    expect(shared.networks).toHaveLength(2);
  });
});
