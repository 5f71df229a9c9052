/**
 * Calibration transfer between rigs: (piecewise) direct standardisation recovers a known map exactly, pairs
 * transfer samples by id, and on the simulator makes a model trained on rig A work on rig B (same containers,
 * sensors of a different unit-to-unit spread).
 */
import { describe, expect, it } from 'vitest';
import { extractTrainingSet, type TrainingSet } from '../../src/engine/training.js';
import type { ModelBundle } from '../../src/model/runtime/bundle.js';
import { hashFeatureRows } from '../../src/model/drift/correction.js';
import { compileModel, predictCompiled } from '../../src/model/runtime/pipeline.js';
import { fitModel } from '../../src/model/fitting/fitModel.js';
import { featureBlocks, pairTransferSamples, transferModel } from '../../src/model/drift/transfer.js';
import { simulationEvents } from '../../src/sim/events.js';
import { createSimulation, NO_FAULTS } from '../../src/sim/simulate.js';
import type { FeatureTable } from '../../src/types.js';
import { gaussian, makeClusters, mulberry32 } from '../helpers/synthetic.js';

/** Features named `<channel>:<feature>`, three channels of two features, as the engine names them. */
function channelTable(seed: number, perClass: number): FeatureTable {
  const t = makeClusters({ seed, classes: ['clear', 'cocaine', 'heroin'], perClass, width: 6, separation: 1.5, scale: 5, offset: 50 });
  return { ...t, featureNames: ['a:ss', 'a:peak', 'b:ss', 'b:peak', 'c:ss', 'c:peak'] };
}

/** Rig B: per channel, an invertible 2 x 2 mix of rig A's two features plus an offset. */
function otherRig(a: FeatureTable, seed: number): FeatureTable {
  const rand = mulberry32(seed);
  const normal = gaussian(rand);
  const mixes = [0, 1, 2].map(() => [1 + 0.3 * normal(), 0.4 * normal(), 0.4 * normal(), 1 + 0.3 * normal(), 20 * normal(), 20 * normal()]);
  const x = new Float64Array(a.x.length);
  for (let r = 0; r < a.count; r++) {
    for (let ch = 0; ch < 3; ch++) {
      const [m00, m01, m10, m11, t0, t1] = mixes[ch]!;
      const u = a.x[r * 6 + 2 * ch]!;
      const v = a.x[r * 6 + 2 * ch + 1]!;
      x[r * 6 + 2 * ch] = m00! * u + m01! * v + t0!;
      x[r * 6 + 2 * ch + 1] = m10! * u + m11! * v + t1!;
    }
  }
  return { ...a, x, source: 'rigB' };
}

function predictions(model: ModelBundle, rows: FeatureTable): number[] {
  const compiled = compileModel(model);
  const p = new Float64Array(model.classes.length);
  return Array.from({ length: rows.count }, (_, i) => predictCompiled(compiled, rows.x, i * rows.width, p));
}

describe('rig transfer: exact recovery', () => {
  const train = channelTable(3, 40);
  const input = { kind: 'features' as const, featureNames: [...train.featureNames] };
  const model = fitModel(train, input, { classifier: 'logreg', components: 6, cvFolds: 0 });
  const test = channelTable(4, 30);
  const testB = otherRig(test, 9);
  const transferA = channelTable(5, 5);
  const transferB = otherRig(transferA, 9);

  it('groups features by channel for PDS', () => {
    expect(Array.from(featureBlocks(train.featureNames))).toEqual([0, 0, 1, 1, 2, 2]);
    expect(Array.from(featureBlocks(['f1', 'f2', 'f3']))).toEqual([0, 0, 0]);
  });

  for (const method of ['pds', 'ds'] as const) {
    it(`${method}: with a known per-channel map, rig B's predictions match rig A's`, () => {
      const transferred = transferModel(model, transferA, transferB, { method, ridge: 1e-9 });
      const onA = predictions(model, test);
      const onB = predictions(transferred, testB);
      const untransferred = predictions(model, testB);
      const agree = (p: number[]) => p.filter((c, i) => c === onA[i]).length / p.length;
      expect(agree(onB)).toBeGreaterThanOrEqual(method === 'pds' ? 1 : 0.95);
      expect(agree(untransferred)).toBeLessThan(0.9);
      expect(transferred.lineage).toEqual({ parent: model.hash, method: `${method}(ridge=1e-9)`, reference: hashFeatureRows(transferA, transferB) });
    });
  }

  it('pairs transfer samples by id and lists those measured on one rig only', () => {
    const b = { ...transferB, samples: transferB.samples.map((s, i) => (i === 0 ? 'only-on-b' : s)) };
    const reversed: FeatureTable = {
      ...b,
      samples: [...b.samples].reverse(),
      x: Float64Array.from({ length: b.x.length }, (_, i) => b.x[(b.count - 1 - Math.floor(i / 6)) * 6 + (i % 6)]!),
      labels: [...b.labels].reverse(),
    };
    const pairs = pairTransferSamples(transferA, reversed);
    expect(pairs.master.count).toBe(transferA.count - 1);
    expect(pairs.unpaired).toEqual([transferA.samples[0], 'only-on-b']);
    expect(pairs.slave.samples).toEqual(pairs.master.samples);
    expect(Array.from(pairs.slave.x.subarray(0, 6))).toEqual(Array.from(transferB.x.subarray(6, 12)));
    const twice = { ...transferA, samples: transferA.samples.map(() => 'same') };
    expect(() => pairTransferSamples(twice, transferB)).toThrow(/twice/);
  });

  it('refuses transfer sets of different sizes or too small', () => {
    const short = { ...transferB, count: 4, x: transferB.x.subarray(0, 24) };
    expect(() => transferModel(model, transferA, short)).toThrow(expect.objectContaining({ code: 'bad-data' }));
    const tiny = { ...transferA, count: 2, x: transferA.x.subarray(0, 12) };
    expect(() => transferModel(model, tiny, { ...transferB, count: 2, x: transferB.x.subarray(0, 12) })).toThrow(
      expect.objectContaining({ code: 'too-few-samples' }),
    );
  });
});

describe('rig transfer on the simulator: two rigs of different unit-to-unit spread', () => {
  // The same containers (seed) on rig A (nominal units) and rig B (three times the default spread).
  const rig = (id: 'A' | 'B', seed: number, containers: number): TrainingSet =>
    extractTrainingSet(
      [
        {
          group: `rig${id}`,
          events: simulationEvents(
            createSimulation({
              seed,
              containers,
              days: 2,
              rigId: id,
              rigSeed: id === 'A' ? 11 : 22,
              unitSpread: id === 'A' ? 0 : 3,
              concentrationScale: 5,
              faults: NO_FAULTS,
            }),
          ),
        },
      ],
      { ignoreGates: ['baseline-unstable'] },
    );

  it('PDS from 20 transfer containers brings rig B back toward rig A', () => {
    const train = rig('A', 1, 200);
    const model = fitModel(train.table, train.input, { classifier: 'lda', limits: train.limits, cvFolds: 0 });
    const test = pairTransferSamples(rig('A', 2, 150).table, rig('B', 2, 150).table);
    const transfer = pairTransferSamples(rig('A', 3, 20).table, rig('B', 3, 20).table);
    expect(transfer.master.count).toBeGreaterThanOrEqual(15);
    const transferred = transferModel(model, transfer.master, transfer.slave);
    const onA = predictions(model, test.master);
    const score = (m: ModelBundle) => {
      const p = predictions(m, test.slave);
      const agree = p.filter((c, i) => c === onA[i]).length / p.length;
      const accuracy = p.filter((c, i) => m.classes[c] === test.slave.labels[i]).length / p.length;
      return { agree, accuracy };
    };
    const before = score(model);
    const after = score(transferred);
    const accuracyOnA = onA.filter((c, i) => model.classes[c] === test.master.labels[i]).length / onA.length;
    console.info(
      `rig A model: ${(100 * accuracyOnA).toFixed(1)}% on rig A; on rig B ${(100 * before.accuracy).toFixed(1)}% untransferred, ` +
        `${(100 * after.accuracy).toFixed(1)}% after PDS; agreement with rig A ${(100 * before.agree).toFixed(1)}% -> ${(100 * after.agree).toFixed(1)}%`,
    );
    expect(after.agree).toBeGreaterThan(before.agree + 0.1);
    expect(after.accuracy).toBeGreaterThan(before.accuracy + 0.05);
  });
});
