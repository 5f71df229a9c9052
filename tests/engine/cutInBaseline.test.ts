/**
 * A disconnect in a cycle's baseline (found by the fault suite under the early plan, where a disconnect landed
 * 21 s into a baseline): the cycle is cut (inconclusive), and the rest of that baseline after the reconnect is
 * part of the cut cycle, not a new cycle judged on a few seconds of baseline (models trained on 30 s baselines
 * cleared drug containers early on 10 s ones: docs/early-decision.md). Both shipped models, and the early plan.
 */
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/engine.js';
import { createMemorySource } from '../../src/io/memory.js';
import { shippedEarlyOption } from '../../src/shipped/earlyPlan.js';
import { loadShippedModel } from '../../src/shipped/recipes.js';
import { simulationEvents } from '../../src/sim/events.js';
import { createSimulation } from '../../src/sim/simulate.js';
import type { SourceEvent, VerdictEvent } from '../../src/types.js';

const SIM = { seed: 1, containers: 4, startDay: 21 };

async function verdicts(events: readonly SourceEvent[], which: 'default' | 'exposure' | 'early'): Promise<VerdictEvent[]> {
  const out: VerdictEvent[] = [];
  const engine = createEngine({
    model: loadShippedModel(undefined, which === 'exposure' ? 'exposure' : 'default'),
    source: createMemorySource(events),
    ...(which === 'early' && { early: shippedEarlyOption() }),
    queue: false,
    emitFrames: false,
    onEvent: (e) => e.type === 'verdict' && out.push(e),
  });
  await engine.done;
  return out;
}

/** The simulator's events with the sample ids taken off (a serial rig's frames carry none), and a disconnect `atS` into container k's baseline. */
function withDisconnect(k: number, atS: number, outageFrames = 5, rebootToo = false): SourceEvent[] {
  const events = [...simulationEvents(createSimulation(SIM))].map((e) => (e.type === 'frame' ? { ...e, sample: undefined, label: undefined } : e)) as SourceEvent[];
  const sample = `d21-${k}`;
  const all = [...simulationEvents(createSimulation(SIM))];
  const first = all.findIndex((e) => e.type === 'frame' && e.sample === sample && e.phase === 'B');
  const at = first + Math.round(atS * 10);
  const atMs = (all[at] as { atMs: number }).atMs;
  // With rebootToo, the reconnect's info line is taken as a reboot as well (the serial source can say so while the
  // rig carried on with its cycle: seen in the fault suite): a second cut, with no cycle open.
  const reconnect: SourceEvent[] = [{ type: 'state', atMs, state: 'connected', detail: 'test' }, ...(rebootToo ? [{ type: 'reboot', atMs } as SourceEvent] : [])];
  return [...events.slice(0, at), { type: 'state', atMs, state: 'disconnected', detail: 'test' }, ...reconnect, ...events.slice(at + outageFrames)];
}

describe('a disconnect in the baseline', () => {
  for (const [which, rebootToo] of [['default', false], ['exposure', false], ['early', false], ['early', true]] as const) {
    it(`${which === 'early' ? 'the early plan' : `the ${which} model`}${rebootToo ? ', a reboot event after the reconnect' : ''}: one inconclusive verdict for the cut cycle, none for the rest of its baseline`, async () => {
      const clean = await verdicts(withDisconnect(1, 0, 0).filter((e) => e.type !== 'state'), which);
      expect(clean).toHaveLength(SIM.containers);
      const cut = await verdicts(withDisconnect(1, 21.2, 5, rebootToo), which);
      // Containers 0, 2 and 3 as clean; container 1 cut: its cut verdict, then nothing judged on the remaining 8.8 s
      // of its baseline (its exposure after the reconnect is a cycle seen without a baseline: too short).
      const same = (v: VerdictEvent) => [v.sample, v.verdict, v.decidedAtS];
      expect(same(cut[0]!)).toEqual(same(clean[0]!));
      expect(cut.slice(-2).map(same)).toEqual(clean.slice(-2).map(same));
      const rest = cut.slice(1, -2);
      expect(rest[0]).toMatchObject({ verdict: 'inconclusive', checkpoint: 'cut', early: false });
      expect(rest[0]!.reasons).toContain('cut-disconnect');
      for (const v of rest.slice(1)) {
        expect(v.verdict).toBe('inconclusive');
        expect(v.reasons).toContain('too-short');
      }
    });
  }
});
