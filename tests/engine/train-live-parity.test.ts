/**
 * Training and inference treat every cycle the same way (issue 19, item 3): every cycle of the shared real
 * sets (SmellNet offline train + test, beverage) goes through the training path (`extractTrainingSet`, gates
 * learned from the data) and through the live engine with the model trained on it; the features, the skips
 * and the reasons must be equal, cycle for cycle.
 */
import { describe, expect, it } from 'vitest';
import { loadData } from '../../dist/cli/data.js';
import { EngineCore } from '../../dist/engine/core.js';
import { extractTrainingSet } from '../../dist/engine/training.js';
import { fitModel } from '../../dist/model/fitting/fitModel.js';
import { BEVERAGE, haveShared, sharedPath } from '../helpers/shared.js';

const SMELLNET = ['frames_train.csv', 'frames_test.csv'].map((f) => sharedPath('datasets', 'smellnet-offline', f));
/** Reasons that come from the model's decision, not from the cycle's quality. */
const MODEL_REASONS = new Set(['suspicious-class', 'clear-class', 'suspicious-class-below-threshold', 'suspicious-classes-outweigh-clear', 'unknown-odour', 'no-policy']);

async function checkParity(paths: readonly string[], extractor: Record<string, unknown>): Promise<{ cycles: number; skipped: number }> {
  const data = await loadData(paths, 30);
  if (data.kind !== 'frames') throw new Error('expected frames');
  const set = extractTrainingSet(data.recordings, { extractor, learnGates: true });
  const model = fitModel(set.table, set.input, { cvFolds: 0, limits: set.limits });
  const trained = new Map<string, Float64Array>();
  set.table.samples.forEach((s, i) => trained.set(`${set.table.groups[i]}/${s}`, set.table.x.subarray(i * set.table.width, (i + 1) * set.table.width)));
  const skipped = new Map(set.skipped.map((s) => [`${s.group}/${s.sample}`, s.reasons]));
  let cycles = 0;
  for (const recording of data.recordings) {
    const features = new Map<string, Float64Array>();
    const core = new EngineCore(
      model,
      { emitFrames: false },
      (e) => {
        if (e.type !== 'verdict') return;
        cycles++;
        const key = `${recording.group}/${e.sample}`;
        const quality = e.reasons.filter((r) => !MODEL_REASONS.has(r));
        const train = trained.get(key);
        if (train) {
          expect(quality, key).toEqual([]);
          expect(e.class, key).not.toBeNull();
          expect(Array.from(features.get(key)!), key).toEqual(Array.from(train));
        } else {
          expect(skipped.has(key), `${key} is neither trained on nor skipped`).toBe(true);
          expect(quality, key).toEqual(skipped.get(key));
        }
      },
      (record) => features.set(`${recording.group}/${record.sample}`, record.features),
    );
    for (const e of recording.events) core.push(e);
    core.end();
  }
  expect(cycles).toBe(trained.size + skipped.size);
  return { cycles, skipped: skipped.size };
}

describe('training path = live path, cycle for cycle, on real recordings', () => {
  it.skipIf(!SMELLNET.every((p) => haveShared(p)))('SmellNet offline, train + test: equal features, skips and reasons', async () => {
    for (const extractor of [{ wholeSample: true }, {}]) {
      const r = await checkParity(SMELLNET, extractor);
      expect(r.cycles).toBe(300);
      console.info(`SmellNet ${JSON.stringify(extractor)}: ${r.cycles} cycles, ${r.skipped} skipped in both paths alike`);
    }
  }, 300_000);

  it.skipIf(!haveShared('datasets', 'beverage-enose-2016-05', 'frames.csv'))('beverage: equal features, skips and reasons', async () => {
    for (const extractor of [{ wholeSample: true }, { summaryFeatures: false, wholeSample: true }]) {
      const r = await checkParity([BEVERAGE], extractor);
      expect(r.cycles).toBe(33);
      console.info(`beverage ${JSON.stringify(extractor)}: ${r.cycles} cycles, ${r.skipped} skipped in both paths alike`);
    }
  }, 300_000);
});
