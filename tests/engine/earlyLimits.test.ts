/**
 * A cycle beyond the data limits (frames lost, a gap, too short, cut) is inconclusive with or without an early
 * plan (issue 7's rule): the early decision must not turn it into an early `suspicious` (or `clear`). Found by the
 * fault suite under the early plan (bit flips dropped frames in the exposure of a cycle whose exposure-model score
 * was saturated; the early rule flagged it suspicious where the full cycle says inconclusive). Both shipped models:
 * the exposure model at the checkpoint, the default model final.
 */
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EarlyPlanData } from '../../src/engine/earlyPlanSchema.js';
import { createEngine } from '../../src/engine/engine.js';
import { createMemorySource } from '../../src/io/memory.js';
import { readModelFile } from '../../src/io/modelFile.js';
import type { ModelBundle } from '../../src/model/runtime/bundle.js';
import { SHIPPED_EARLY_PLAN } from '../../src/shipped/earlyPlan.js';
import { simulationEvents } from '../../src/sim/events.js';
import { createSimulation } from '../../src/sim/simulate.js';
import type { EngineEvent, SourceEvent, VerdictEvent } from '../../src/types.js';
import { SHIPPED_MODELS } from '../helpers/models.js';
import { REPO_ROOT } from '../helpers/shared.js';

const SET = { seed: 1, containers: 60, startDay: 21, days: 10 };
// Lenient on the suspicious side, so that many drug containers would leave early; the clear side as shipped.
const PLAN: EarlyPlanData = { ...SHIPPED_EARLY_PLAN, checkpoints: [{ ...SHIPPED_EARLY_PLAN.checkpoints[0]!, suspiciousAbove: 0.5 }] };
const LIMIT_REASONS = new Set(['cut-disconnect', 'cut-reboot', 'cut-stopped', 'too-short', 'lost-frames', 'gap-too-long']);

let models: Record<'default' | 'exposure', ModelBundle>;
beforeAll(() => {
  models = Object.fromEntries(
    SHIPPED_MODELS.map((m) => {
      const r = readModelFile(resolve(REPO_ROOT, m.path));
      if (!r.ok) throw new Error(`${m.path}: ${r.error.reason}`);
      return [m.name, r.value];
    }),
  ) as typeof models;
});

/** The simulated containers, with every `dropEvery`-th exposure frame lost (0: none); 1 in 10 of E is 6.7 % of the cycle at 90 s, 4 % at 150 s. */
function* events(dropEvery: number): Generator<SourceEvent> {
  let e = 0;
  for (const ev of simulationEvents(createSimulation(SET))) {
    // A dropped frame reaches the engine as the link reports it: a seq gap.
    if (ev.type === 'frame' && ev.phase === 'E' && dropEvery > 0 && ++e % dropEvery === 0) {
      yield { type: 'gap', atMs: 0, fromSeq: ev.seq, toSeq: ev.seq, lost: 1 };
      continue;
    }
    yield ev;
  }
}

async function run(dropEvery: number): Promise<VerdictEvent[]> {
  const verdicts: VerdictEvent[] = [];
  const engine = createEngine({
    model: models.default,
    source: createMemorySource(events(dropEvery)),
    queue: false,
    emitFrames: false,
    early: { plan: PLAN, models: [models.exposure] },
    onEvent: (ev: EngineEvent) => {
      if (ev.type === 'verdict') verdicts.push(ev);
    },
  });
  await engine.done;
  return verdicts;
}

describe('the early decision and the data limits', () => {
  it('without lost frames the lenient plan decides drug containers early as suspicious', async () => {
    const vs = await run(0);
    expect(vs.filter((v) => v.early && v.verdict === 'suspicious').length).toBeGreaterThan(0);
  });

  it('with 10 % of the exposure frames lost (the limit: 2 % of the cycle) no cycle is decided early: the final verdict is inconclusive', async () => {
    const vs = await run(10);
    expect(vs).toHaveLength(SET.containers);
    const early = vs.filter((v) => v.early);
    expect(early.map((v) => `${v.sample}: ${v.verdict} ${v.reasons.join('+')}`)).toEqual([]);
    for (const v of vs) {
      expect(v.reasons).toContain('lost-frames');
      expect(v.verdict).toBe('inconclusive');
      expect(v.reasons.some((r) => LIMIT_REASONS.has(r))).toBe(true);
    }
  });
});
