/**
 * Streaming extraction (issue 23, item 2): make-default-model's workers simulate a day, stream its frames through
 * the engine core from one reused buffer (`simulationEvents` with `reuse`) and send back packed rows
 * (`extractRecordingRows`); the main thread unpacks the days in order. The rows must be the old path's
 * (`extractRecordingCycles` on the whole range, a fresh frame per event) bit for bit, and so the training set.
 */
import { describe, expect, it } from 'vitest';
import { assembleTrainingSet, extractRecordingCycles, type RecordingCycles } from '../../dist/engine/training.js';
import { extractRecordingRows, unpackCycles } from '../../dist/engine/trainingRows.js';
import { createSimulation, simulationEvents } from '../../dist/index.js';
import { RECOVERY_MODEL_RECIPE } from '../../dist/shipped/recipes.js';

const extractor = RECOVERY_MODEL_RECIPE.extractor;

function bytes(a: Float64Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** The days one at a time through the streaming path, merged in day order as make-default-model.mjs does. */
function streamed(simulation: { seed: number; rigSeed?: number; containers: number; startDay: number; days: number }, group: string): RecordingCycles {
  const perDay = simulation.containers / simulation.days;
  const parts = Array.from({ length: simulation.days }, (_, d) => {
    const day = { ...simulation, startDay: simulation.startDay + d, days: 1, containers: perDay };
    const rows = extractRecordingRows({ group, events: simulationEvents(createSimulation(day), { reuse: true }) }, { extractor }, perDay);
    expect(rows.features.length).toBe(rows.count * rows.width);
    return unpackCycles(rows);
  });
  return { group, rig: parts[0].rig, candidates: parts.flatMap((p) => p.candidates), skipped: parts.flatMap((p) => p.skipped) };
}

describe('streaming extraction of simulated days', () => {
  it('reused frame events carry the same frames as fresh ones', () => {
    const sim = { seed: 3, containers: 4, startDay: 2, days: 1 };
    const fresh = [...simulationEvents(createSimulation(sim))];
    let i = 0;
    for (const e of simulationEvents(createSimulation(sim), { reuse: true })) {
      const f = fresh[i++];
      expect(e.type).toBe(f.type);
      if (e.type !== 'frame' || f.type !== 'frame') continue;
      expect([e.seq, e.tMs, e.phase, e.sample, e.label]).toEqual([f.seq, f.tMs, f.phase, f.sample, f.label]);
      expect(bytes(e.values).equals(bytes(f.values))).toBe(true);
    }
    expect(i).toBe(fresh.length);
  });

  for (const [name, simulation] of [
    ['training days (seed 1)', { seed: 1, containers: 300, startDay: 4, days: 3 }],
    ['threshold days (seed 2, rig seed 1)', { seed: 2, rigSeed: 1, containers: 200, startDay: 17, days: 2 }],
  ] as const) {
    it(`gives the old path's rows and training set bit for bit: ${name}`, () => {
      const old = extractRecordingCycles({ group: 'g', events: simulationEvents(createSimulation(simulation)) }, { extractor });
      const now = streamed(simulation, 'g');
      expect(now.rig).toEqual(old.rig);
      expect(now.skipped).toEqual(old.skipped);
      expect(now.candidates.length).toBe(old.candidates.length);
      expect(now.candidates.length + now.skipped.length).toBeGreaterThan(0.9 * simulation.containers);
      now.candidates.forEach((c, i) => {
        const o = old.candidates[i];
        expect([c.sample, c.label]).toEqual([o.sample, o.label]);
        expect(Object.is(c.exposureS, o.exposureS) && Object.is(c.baselineDrift, o.baselineDrift)).toBe(true);
        expect(bytes(c.features).equals(bytes(o.features))).toBe(true);
        expect(bytes(c.rigValues).equals(bytes(o.rigValues))).toBe(true);
      });
      const a = assembleTrainingSet([old], { extractor });
      const b = assembleTrainingSet([now], { extractor });
      expect(bytes(b.table.x).equals(bytes(a.table.x))).toBe(true);
      expect(b.table.labels).toEqual(a.table.labels);
      expect(b.table.samples).toEqual(a.table.samples);
      expect(b.limits).toEqual(a.limits);
      expect(b.modelRig).toEqual(a.modelRig);
    });
  }
});
