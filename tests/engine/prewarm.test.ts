/**
 * The model read back into the caches a second before a verdict is due (src/engine/prewarm.ts): it must fire once
 * a cycle once a verdict has been predicted, in the deciding phase, and change nothing: every verdict event equal,
 * double for double, to a core without it, on both shipped models (one decides when the exposure ends, the other
 * when the recovery ends), with adaptation on too. The cores here run the model at the verdict (`predictAhead`
 * off): with it on, a model whose row is final before the cycle ends is not warmed (tests/engine/predictAhead.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { EngineCore } from '../../src/engine/core.js';
import type { ModelPrewarm } from '../../src/engine/prewarm.js';
import type { ModelBundle } from '../../src/model/runtime/bundle.js';
import { simulationEvents } from '../../src/sim/events.js';
import { createSimulation } from '../../src/sim/simulate.js';
import type { EngineEvent, SourceEvent, VerdictEvent } from '../../src/types.js';
import { loadModel, SHIPPED_MODELS } from '../helpers/models.js';
import { comparableVerdict } from '../helpers/verdictText.js';

interface Run {
  verdicts: VerdictEvent[];
  /** Phase of the cycle at each warming, and the verdicts given before it. */
  warmings: { phase: string; verdictsBefore: number }[];
}

function run(bundle: ModelBundle, events: readonly SourceEvent[], prewarm: boolean, adaptation = false): Run {
  const verdicts: VerdictEvent[] = [];
  const warmings: Run['warmings'] = [];
  const core = new EngineCore(bundle, { emitFrames: false, prewarm, predictAhead: false, adaptation, now: () => 0, wallClock: () => 0 }, (e: EngineEvent) => {
    if (e.type === 'verdict') verdicts.push(e);
  });
  const probe = (): ModelPrewarm | null => (core as unknown as { prewarm: ModelPrewarm | null }).prewarm;
  let seen = 0;
  for (const e of events) {
    core.push(e);
    const p = probe();
    if (p && p.warmings > seen) {
      seen = p.warmings;
      warmings.push({ phase: core.tracker.phase, verdictsBefore: verdicts.length });
    }
  }
  core.end();
  return { verdicts, warmings };
}

describe.each(SHIPPED_MODELS)('prewarm with the shipped $name model', ({ path, decidesAfter }) => {
  const bundle = loadModel(path);
  const events = [...simulationEvents(createSimulation({ seed: 1, containers: 120, startDay: 21, days: 10 }))];

  it('fires once a cycle after the first predicted verdict, in the phase that decides, and changes no verdict', () => {
    const on = run(bundle, events, true);
    const off = run(bundle, events, false);
    expect(off.warmings).toEqual([]);
    expect(on.verdicts.length).toBe(off.verdicts.length);
    expect(on.verdicts.map(comparableVerdict)).toEqual(off.verdicts.map(comparableVerdict));
    const predicted = on.verdicts.filter((v) => v.class !== null).length;
    // Every cycle after the first predicted verdict that reaches its deciding phase's last second is warmed once.
    expect(on.warmings.length).toBeGreaterThanOrEqual(predicted - 5);
    expect(on.warmings.length).toBeLessThanOrEqual(on.verdicts.length);
    for (const w of on.warmings) {
      expect(w.phase).toBe(decidesAfter);
      expect(w.verdictsBefore).toBeGreaterThan(0);
    }
    // One warming per cycle: never two between the same two verdicts.
    const between = new Set(on.warmings.map((w) => w.verdictsBefore));
    expect(between.size).toBe(on.warmings.length);
  });

  it('changes no verdict with adaptation on', () => {
    const slice = events.slice(0, 20_000);
    expect(run(bundle, slice, true, true).verdicts.map(comparableVerdict)).toEqual(run(bundle, slice, false, true).verdicts.map(comparableVerdict));
  });
});
