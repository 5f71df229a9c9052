/**
 * `--early` for the live commands (watch, serve): the shipped early plan (src/shipped/earlyPlan.ts: the exposure
 * model at 90 s, the default model at 150 s) on the engine, and the rig told to end a cycle decided early
 * (ENL/1 END). The `cycle-end` events that follow go to the recording (`recorder.cycleEnd`); a rig without END
 * keeps full cycles and is named once on stderr, never as an error.
 */
import type { EngineEarlyOption } from '../engine/earlyPlanSchema.js';
import { EnoseError } from '../errors.js';
import type { ModelBundle } from '../model/runtime/bundle.js';
import { SHIPPED_EARLY_PLAN } from '../shipped/earlyPlan.js';
import { loadShippedModel } from '../shipped/recipes.js';
import type { EngineEvent } from '../types.js';
import type { CommandContext, Parsed } from './args.js';
import type { OptionTable } from './options.js';
import type { LiveRecorder } from './recordOption.js';

export const EARLY_OPTIONS = {
  early: {
    type: 'boolean',
    description:
      "a verdict as soon as the evidence suffices (docs/early-decision.md): the shipped exposure model clears or flags a container at 90 s, else the model's verdict at 150 s stands; --model must be the shipped default model. A cycle decided early is ended on the rig (ENL/1 END); a rig without END keeps full cycles",
  },
} as const satisfies OptionTable;

/** The engine's `early` option from `--early`, or undefined. Throws EnoseError('bad-option') for a model the plan is not for. */
export function earlyFromArgs(command: string, parsed: Parsed, model: ModelBundle): { early?: EngineEarlyOption } {
  if (parsed.values['early'] !== true) return {};
  if (model.id !== SHIPPED_EARLY_PLAN.finalModelId) {
    throw new EnoseError('bad-option', `enose ${command} --early: the shipped early plan's thresholds belong to the shipped default model (${SHIPPED_EARLY_PLAN.finalModelId}), --model is ${model.id}`);
  }
  return { early: { plan: SHIPPED_EARLY_PLAN, models: [loadShippedModel(undefined, 'exposure')] } };
}

/**
 * What a live command does with `cycle-end` events: the rig's `ended` to the recording, one stderr line the
 * first time the rig does not take END (it keeps full cycles), one line for each other failure.
 */
export function cycleEndFollower(command: string, ctx: CommandContext, recorder: LiveRecorder | null): (e: EngineEvent) => void {
  let saidUnsupported = false;
  return (e) => {
    if (e.type !== 'cycle-end') return;
    if (e.ended !== null) recorder?.cycleEnd(e.ended);
    else if (e.issue?.kind === 'unsupported') {
      if (!saidUnsupported) ctx.stderr(`enose ${command}: the rig does not end cycles early (${e.issue.detail}): full cycles\n`);
      saidUnsupported = true;
    } else if (e.issue !== null) ctx.stderr(`enose ${command}: cycle ${e.sample} not ended early (${e.issue.kind}: ${e.issue.detail})\n`);
  };
}
