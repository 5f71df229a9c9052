/**
 * The shipped early plan over a simulated set, through the live engine (`createEngine` with `early`, a memory
 * source of the simulator's events): each container's verdict and when it came, measured against the
 * simulator's truth (`measureEarly`). What `enose demo --early` prints.
 */
import { createEngine } from '../engine/engine.js';
import { measureEarly, type EarlyDecisionRow, type EarlySummary } from '../engine/earlyMeasure.js';
import type { EngineEarlyOption } from '../engine/earlyPlanSchema.js';
import { createMemorySource } from '../io/memory.js';
import type { ModelBundle } from '../model/runtime/bundle.js';
import { simulationEvents } from '../sim/events.js';
import { createSimulation, type SimulationOptions } from '../sim/simulate.js';
import type { VerdictEvent } from '../types.js';

export interface EarlySetRun {
  readonly summary: EarlySummary;
  /** Verdicts without a label (not measured). */
  readonly unlabelled: number;
  /** Containers with no verdict at all (the engine gave none: should be 0). */
  readonly missing: number;
  readonly seconds: number;
}

/** Streams a simulated set through an engine with the early plan; `purgeS` as measureEarly's. */
export async function runEarlySet(
  finalModel: ModelBundle,
  early: EngineEarlyOption,
  options: SimulationOptions,
  purgeS = 60,
  onVerdict?: (v: VerdictEvent, done: number) => void,
): Promise<EarlySetRun> {
  const sim = createSimulation(options);
  const source = createMemorySource(simulationEvents(sim), { description: 'sim:early' });
  const rows: EarlyDecisionRow[] = [];
  let unlabelled = 0;
  let done = 0;
  const engine = createEngine({
    model: finalModel,
    source,
    early,
    queue: false,
    emitFrames: false,
    onEvent: (e) => {
      if (e.type !== 'verdict') return;
      done++;
      onVerdict?.(e, done);
      if (e.label === undefined || e.label === '') {
        unlabelled++;
        return;
      }
      // The decision time is the checkpoint's (the plan's seconds, as eval:early counts); the verdict's own
      // decidedAtS is the rig's clock (the same on the simulator; a real rig's may differ by a frame or two).
      const checkpoint = e.early === true ? early.plan.checkpoints.find((c) => c.modelId === e.modelId) : undefined;
      rows.push({ suspicious: e.label !== 'clear', verdict: e.verdict, atS: checkpoint?.atS ?? early.plan.finalAtS, early: e.early === true });
    },
  });
  const started = performance.now();
  await engine.done;
  return {
    summary: measureEarly(rows, { purgeS, fullCycleS: early.plan.finalAtS }),
    unlabelled,
    missing: sim.options.containers - done,
    seconds: (performance.now() - started) / 1000,
  };
}
