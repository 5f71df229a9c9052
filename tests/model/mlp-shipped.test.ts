/**
 * The shipped models (datasets/container-sim/default-model.json.gz and exposure-model.json.gz) through the
 * verdict path as it runs now (`predictForVerdict` + `noveltyOfLast`: the networks and the novelty limit's
 * leading projection in one pass of the packed one-row WebAssembly kernel, gemvWasm.ts; the k-d tree search
 * bounded at the novelty ceiling) give the same doubles as the plain loops (`forwardInto` on the folded first
 * layers, the leading scores summed plainly, a brute-force scan of every novelty point), on the features of
 * simulated evaluation-day containers: probabilities, class, scores and novelty, bit for bit.
 */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EngineCore, extractorOf, type CycleFeaturesRecord } from '../../src/engine/core.js';
import { readModelFile } from '../../src/io/modelFile.js';
import type { ModelBundle } from '../../src/model/runtime/bundle.js';
import { forwardInto, refreshFoldedBias } from '../../src/model/runtime/mlpPredict.js';
import { NOVELTY_CEILING } from '../../src/model/runtime/novelty.js';
import { compileModel, noveltyOfLast, predictForVerdict } from '../../src/model/runtime/pipeline.js';
import { simulationEvents } from '../../src/sim/events.js';
import { createSimulation } from '../../src/sim/simulate.js';
import { REPO_ROOT } from '../helpers/shared.js';

const CONTAINERS = 300;

function features(bundle: ModelBundle): CycleFeaturesRecord[] {
  const out: CycleFeaturesRecord[] = [];
  const core = new EngineCore(null, { emitFrames: false, extractor: extractorOf(bundle) }, () => undefined, (r) => out.push(r));
  for (const e of simulationEvents(createSimulation({ seed: 7, containers: CONTAINERS, startDay: 21, days: 10 }))) core.push(e);
  core.end();
  return out;
}

describe('shipped models: the kernel verdict path equals the plain one bit for bit', () => {
  for (const file of ['default-model.json.gz', 'exposure-model.json.gz']) {
    it(`${file}: probabilities, class, leading scores and novelty of ${CONTAINERS} simulated containers`, () => {
      const read = readModelFile(resolve(REPO_ROOT, 'datasets', 'container-sim', file));
      expect(read.ok).toBe(true);
      if (!read.ok) return;
      const bundle = read.value;
      const model = compileModel(bundle);
      expect(model.mlp?.kernel).not.toBeNull();
      expect(model.mlpFolded?.kernel).not.toBeNull();
      expect(model.leadingScores).not.toBeNull();
      const k = bundle.classes.length;
      const fast = new Float64Array(k);
      const plain = new Float64Array(k);
      const dims = model.noveltyDimensions;
      const scores = new Float64Array(dims);
      let compared = 0;
      let differ = 0;
      for (const record of features(bundle)) {
        const x = Float64Array.from(record.features);
        if (!x.every(Number.isFinite)) continue;
        const best = predictForVerdict(model, x, 0, fast);
        const novelty = noveltyOfLast(model);
        // The path as it was: the plain forward pass on the folded first layers, the scores summed plainly.
        refreshFoldedBias(model.mlp!, model.mlpFolded!, model.offset);
        forwardInto(model.mlp!, model.mlpFolded!, x, 0, plain);
        for (let c = 0; c < dims; c++) {
          let s = model.offset[c]!;
          for (let j = 0; j < model.width; j++) s += model.projection[c * model.width + j]! * x[j]!;
          scores[c] = s;
        }
        let plainBest = 0;
        for (let c = 1; c < k; c++) if (plain[c]! > plain[plainBest]!) plainBest = c;
        let nearest = Infinity;
        for (let i = 0; i < model.noveltyCount; i++) {
          let d2 = 0;
          for (let c = 0; c < dims; c++) d2 += (model.noveltyPoints[i * dims + c]! - scores[c]!) ** 2;
          nearest = Math.min(nearest, d2);
        }
        const plainNovelty = Math.min(Math.sqrt(nearest) / model.noveltyThreshold, NOVELTY_CEILING);
        for (let c = 0; c < k; c++) if (!Object.is(fast[c], plain[c])) differ++;
        for (let c = 0; c < dims; c++) if (!Object.is(model.scores[c], scores[c])) differ++;
        if (best !== plainBest || !Object.is(novelty, plainNovelty)) differ++;
        compared++;
      }
      expect(compared).toBeGreaterThan(0.9 * CONTAINERS);
      expect(differ).toBe(0);
    });
  }
});
