/**
 * Verdicts carry their leading PCA scores (issue 21, item 3): the score plot and the report read them from the
 * verdict instead of running a second, feature-only engine core beside the engine (the old score tap). The scores
 * must be the ones that second core gave, for both shipped models, and null exactly where no prediction was made.
 */
import { describe, expect, it } from 'vitest';
import { EngineCore, extractorOf, type CycleFeaturesRecord } from '../../src/engine/core.js';
import { extractTrainingSet } from '../../src/engine/training.js';
import { eventToJson, parseEventJson } from '../../src/io/eventJson.js';
import { readModelFile } from '../../src/io/modelFile.js';
import type { ModelBundle } from '../../src/model/runtime/bundle.js';
import { compileModel, predictCompiled, predictForVerdict } from '../../src/model/runtime/pipeline.js';
import { fitModel } from '../../src/model/fitting/fitModel.js';
import { simulationEvents } from '../../src/sim/events.js';
import { createSimulation } from '../../src/sim/simulate.js';
import { VERDICT_PCA_SCORES, type SourceEvent, type VerdictEvent } from '../../src/types.js';
import { rigStream, trainingStream } from '../helpers/cycles.js';
import { SHIPPED_MODELS } from '../helpers/models.js';

interface TapPoint {
  readonly scores: number[] | null;
  readonly probabilities: number[] | null;
}

/**
 * The second core the service and the report used to run (src/report/scores.ts before this change): feature-only
 * mode with the model's extractor and limits, each finite row projected with predictForVerdict's leading scores.
 */
function oldScoreTap(bundle: ModelBundle, events: readonly SourceEvent[]): Map<string, TapPoint> {
  const model = compileModel(bundle);
  const probs = new Float64Array(bundle.classes.length);
  const keep = Math.min(3, bundle.pca.components);
  const points = new Map<string, TapPoint>();
  const options = {
    extractor: extractorOf(bundle),
    emitFrames: false,
    ignoreGates: bundle.limits?.ignoreGates ?? [],
    ...(bundle.limits?.cycle ? { cycle: bundle.limits.cycle } : {}),
  };
  const core = new EngineCore(null, options, () => undefined, (record: CycleFeaturesRecord) => {
    const exposed = record.quality.framesE > 1 && record.quality.framesB > 0;
    const finite = exposed && record.features.length === model.width && record.features.every(Number.isFinite);
    if (!finite) {
      points.set(record.sample, { scores: null, probabilities: null });
      return;
    }
    predictForVerdict(model, record.features, 0, probs, keep);
    points.set(record.sample, { scores: Array.from(model.scores.subarray(0, keep)), probabilities: Array.from(probs) });
  });
  for (const e of events) core.push(e);
  core.end();
  return points;
}

function verdictsOf(bundle: ModelBundle, events: readonly SourceEvent[]): VerdictEvent[] {
  const verdicts: VerdictEvent[] = [];
  const core = new EngineCore(bundle, { emitFrames: false }, (e) => {
    if (e.type === 'verdict') verdicts.push(e);
  });
  for (const e of events) core.push(e);
  core.end();
  return verdicts;
}

describe('verdicts carry their leading PCA scores', () => {
  it.each(SHIPPED_MODELS)('the scores the old second engine core gave, null where no prediction was made ($name model)', ({ path }) => {
    const read = readModelFile(path);
    if (!read.ok) throw new Error(read.error.reason);
    const bundle = read.value;
    // Clean containers, and a faulty run whose dead channels leave some cycles without a prediction.
    const clean = [...simulationEvents(createSimulation({ seed: 1, containers: 12, startDay: 21 }))];
    const faulty = [...simulationEvents(createSimulation({ seed: 7, rigSeed: 1, containers: 16, startDay: 25, faults: { deadChannelPerCycle: 0.02 } }))];
    let compared = 0;
    let unpredicted = 0;
    for (const events of [clean, faulty]) {
      const tap = oldScoreTap(bundle, events);
      const verdicts = verdictsOf(bundle, events);
      expect(verdicts.length).toBeGreaterThan(0);
      for (const v of verdicts) {
        const old = tap.get(v.sample);
        expect(old, v.sample).toBeDefined();
        if (v.class === null) {
          unpredicted++;
          expect(v.pcaScores).toBeNull();
          continue;
        }
        // The tap saw the same cycle: its probabilities are the verdict's.
        expect(old!.probabilities).toEqual(bundle.classes.map((c) => v.probabilities[c]));
        expect(v.pcaScores).toHaveLength(VERDICT_PCA_SCORES);
        v.pcaScores!.forEach((s, i) => expect(s).toBeCloseTo(old!.scores![i]!, 9));
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(20);
    expect(unpredicted).toBeGreaterThan(0);
  });

  it('a model with fewer components carries fewer, projected through its transform, the scores predictCompiled leaves', () => {
    const set = extractTrainingSet([{ group: 'train', events: trainingStream(30, 1) }]);
    const bundle = fitModel(set.table, set.input, { classifier: 'lda', limits: set.limits, components: 2, transform: 'signed-log' });
    const rows = new Map<string, Float64Array>();
    const verdicts: VerdictEvent[] = [];
    const core = new EngineCore(bundle, { emitFrames: false }, (e) => e.type === 'verdict' && verdicts.push(e), (r) => rows.set(r.sample, r.features));
    for (const e of rigStream([{ label: 'clear' }, { label: 'cocaine' }, { label: 'cannabis' }], { seed: 3 })) core.push(e);
    core.end();
    expect(verdicts.map((v) => v.class)).toEqual(['clear', 'cocaine', 'cannabis']);
    const model = compileModel(bundle);
    const probs = new Float64Array(bundle.classes.length);
    for (const v of verdicts) {
      predictCompiled(model, rows.get(v.sample)!, 0, probs);
      expect(v.pcaScores).toEqual(Array.from(model.scores));
    }
  });

  it('survive the JSON line of the CLI, the service and recordings', () => {
    const read = readModelFile(SHIPPED_MODELS[1]!.path);
    if (!read.ok) throw new Error(read.error.reason);
    const [verdict] = verdictsOf(read.value, [...simulationEvents(createSimulation({ seed: 1, containers: 1, startDay: 21 }))]);
    const back = parseEventJson(eventToJson(verdict!));
    expect(back.ok && back.value.type === 'verdict' && back.value.pcaScores).toEqual(verdict!.pcaScores);
  });
});
