/**
 * `enose train` with no options on simulated containers (issue 19, item 2): the selection scores each candidate
 * as the final model decides (each held-out fold at the threshold the other folds give, the unknown-odour
 * limit's alarms counted), so the model it keeps must meet the false-alarm target on containers it never saw,
 * within sampling error. Train and test are containers of the same seeded port day and rig (containers are
 * identified by seed, day and position, so the test set's are the ones after the training set's): what the
 * selection can answer for. Another day's weather is another question (docs/training-on-your-rig.md).
 */
import { describe, expect, it } from 'vitest';
import { EngineCore } from '../../dist/engine/core.js';
import { DEFAULT_CLASSIFIERS, FEATURE_FAMILIES, selectModel } from '../../dist/engine/selection.js';
import { TRANSFORMS } from '../../dist/model/runtime/pipeline.js';
import { fitModel } from '../../dist/model/fitting/fitModel.js';
import { simulationEvents } from '../../dist/sim/events.js';
import { createSimulation } from '../../dist/sim/simulate.js';
import type { SourceEvent } from '../../dist/types.js';

const TRAIN = 240;
const TEST = 360;
/** 5 Hz instead of 10: half the frames, the same 10 s feature windows. */
const SIM = { seed: 23, rateHz: 5 } as const;
const TARGET = 0.01;

describe('enose train with no options on simulated containers', () => {
  it('keeps false alarms on unseen containers within sampling error of the 1 % target, and detects', () => {
    const all = [...simulationEvents(createSimulation({ ...SIM, containers: TRAIN + TEST }))];
    // The training recording: info and the frames of the first TRAIN containers.
    const firstTest = all.findIndex((e) => e.type === 'frame' && e.sample === `d1-${TRAIN}`);
    expect(firstTest).toBeGreaterThan(0);
    const train: SourceEvent[] = all.slice(0, firstTest);
    const test: SourceEvent[] = [all[0]!, ...all.slice(firstTest)];

    const selection = selectModel([{ group: 'sim', events: train }], {
      families: Object.entries(FEATURE_FAMILIES).map(([name, f]) => ({ ...f, name })),
      transforms: TRANSFORMS,
      classifiers: DEFAULT_CLASSIFIERS,
      folds: 5,
      maxFalseAlarm: TARGET,
      extractor: { baselineS: 30 },
      training: { ignoreGates: [], learnGates: true },
    });
    const { set, best } = selection;
    const model = fitModel(set.table, set.input, {
      classifier: best.classifier,
      transform: best.transform,
      ...selection.fit,
      cvGroups: selection.cvGroups,
      maxFalseAlarm: TARGET,
      limits: set.limits,
    });
    // The final model's cross-validated accuracy comes from the selection's folds: the chosen row's.
    expect(model.training.cvAccuracy).toBeCloseTo(best.accuracy!, 12);

    let clear = 0;
    let alarms = 0;
    let suspicious = 0;
    let detected = 0;
    const core = new EngineCore(model, { emitFrames: false }, (e) => {
      if (e.type !== 'verdict' || e.label === undefined || e.class === null) return;
      if (e.label === 'clear') {
        clear++;
        if (e.verdict === 'suspicious') alarms++;
      } else {
        suspicious++;
        if (e.verdict === 'suspicious') detected++;
      }
    });
    for (const e of test) core.push(e);
    core.end();
    const falseAlarmRate = alarms / clear;
    const detectionRate = detected / suspicious;
    console.info(
      `no-option choice ${best.family}/${best.transform}/${best.classifier} (held out: ${(100 * best.detectionRate!).toFixed(1)}% at ${(100 * best.falseAlarmRate!).toFixed(1)}%); ` +
        `on ${TEST} unseen containers: detection ${(100 * detectionRate).toFixed(1)}% (${detected}/${suspicious}), false alarms ${(100 * falseAlarmRate).toFixed(1)}% (${alarms}/${clear})`,
    );
    expect(clear).toBeGreaterThan(0.4 * TEST);
    // Sampling error of the measured rate (the test's clear containers) and of the threshold (set on the
    // training's clear containers): 3 standard errors above the target.
    const trainClear = set.table.labels.filter((l) => l === 'clear').length;
    const se = Math.sqrt(TARGET * (1 - TARGET) * (1 / clear + 1 / trainClear));
    expect(falseAlarmRate).toBeLessThanOrEqual(TARGET + 3 * se);
    // The old defaults (phase features, LDA, PCA 99 %) detected about 4 % at this target.
    expect(detectionRate).toBeGreaterThan(0.2);
  }, 300_000);
});
