import { join } from 'node:path';
import { createEngine } from '../../src/engine/engine.js';
import { createMemorySource } from '../../src/io/memory.js';
import { shippedEarlyOption } from '../../src/shipped/earlyPlan.js';
import { loadShippedModel } from '../../src/shipped/recipes.js';
import { simulationEvents } from '../../src/sim/events.js';
import { createSimulation } from '../../src/sim/simulate.js';
import type { VerdictEvent } from '../../src/types.js';
import { SHIPPED_MODELS } from './models.js';
import { REPO_ROOT } from './shared.js';

/** The first simulator seed (day 21) whose first container the shipped plan decides early (at 90 or 100 s), with that verdict. */
export async function earlySeed(): Promise<{ seed: number; verdict: VerdictEvent }> {
  const final = loadShippedModel(join(REPO_ROOT, SHIPPED_MODELS[0]!.path));
  const early = shippedEarlyOption();
  for (let seed = 1; seed <= 200; seed++) {
    const verdicts: VerdictEvent[] = [];
    const engine = createEngine({
      model: final!,
      source: createMemorySource(simulationEvents(createSimulation({ seed, containers: 1, startDay: 21 }))),
      early,
      queue: false,
      emitFrames: false,
      onEvent: (e) => e.type === 'verdict' && verdicts.push(e),
    });
    await engine.done;
    if (verdicts[0]?.early === true) return { seed, verdict: verdicts[0] };
  }
  throw new Error('no simulator seed of 200 gives a first container the shipped plan decides early');
}
