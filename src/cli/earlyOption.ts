/**
 * `--early` for the live commands (watch, serve, replay): the shipped early plan (src/shipped/earlyPlan.ts: the
 * exposure model at 90 s, the recovery-start model at 100 s, the default model at 150 s) on the engine, or a plan
 * from a file (`--early-plan`, its checkpoint models by `--early-model` beside the shipped ones), and the rig told to end a cycle
 * decided early (ENL/1 END). The `cycle-end` events that follow go to the recording (`recorder.cycleEnd`); a rig
 * without END keeps full cycles and is named once on stderr, never as an error.
 */
import { readFileSync } from 'node:fs';
import { parseEarlyPlan, resolveEarlyPlan, type EngineEarlyOption } from '../engine/earlyPlanSchema.js';
import { EnoseError } from '../errors.js';
import type { ModelBundle } from '../model/runtime/bundle.js';
import { SHIPPED_EARLY_PLAN, shippedEarlyOption } from '../shipped/earlyPlan.js';
import { loadShippedModel } from '../shipped/recipes.js';
import type { EngineEvent } from '../types.js';
import type { CommandContext, Parsed } from './args.js';
import type { OptionTable } from './options.js';
import type { LiveRecorder } from './recordOption.js';
import { UNANSWERED_END_KINDS } from '../io/recordedCycleEnd.js';

export const EARLY_OPTIONS = {
  early: {
    type: 'boolean',
    description:
      "a verdict as soon as the evidence suffices (docs/early-decision.md): the shipped exposure model clears or flags a container at 90 s, the recovery-start model at 100 s, else the model's verdict at 150 s stands; --model must be the shipped default model. A cycle decided early is ended on the rig (ENL/1 END); a rig without END keeps full cycles",
  },
  'early-plan': {
    type: 'string',
    value: 'file.json',
    description: "an early plan from a file instead of the shipped one (implies --early; docs/early-decision.md): its final model must be --model, each checkpoint's model a shipped checkpoint model (exposure, recovery-start) or an --early-model, deciding at the checkpoint's atS",
  },
  'early-model': {
    type: 'string',
    value: 'file',
    multiple: true,
    description: 'a checkpoint model of --early-plan (repeatable), e.g. one that decides inside the exposure (decideInExposure)',
  },
} as const satisfies OptionTable;

/** The engine's `early` option from `--early`, or undefined. Throws EnoseError('bad-option') for a model the plan is not for. */
export function earlyFromArgs(command: string, parsed: Parsed, model: ModelBundle): { early?: EngineEarlyOption } {
  const planFile = parsed.values['early-plan'] as string | undefined;
  const modelFiles = (parsed.values['early-model'] as string[] | undefined) ?? [];
  if (planFile !== undefined) return { early: planFromFile(command, planFile, modelFiles, model) };
  if (modelFiles.length > 0) throw new EnoseError('bad-option', `enose ${command} --early-model: only with --early-plan (the shipped plan names its own models)`);
  if (parsed.values['early'] !== true) return {};
  if (model.id !== SHIPPED_EARLY_PLAN.finalModelId) {
    throw new EnoseError('bad-option', `enose ${command} --early: the shipped early plan's thresholds belong to the shipped default model (${SHIPPED_EARLY_PLAN.finalModelId}), --model is ${model.id}`);
  }
  return { early: shippedEarlyOption() };
}

/** The plan in `file` with its checkpoint models (the shipped exposure model and `modelFiles`), resolved against `model`. */
function planFromFile(command: string, file: string, modelFiles: readonly string[], model: ModelBundle): EngineEarlyOption {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new EnoseError(code === 'ENOENT' ? 'file-not-found' : 'file-unreadable', `enose ${command} --early-plan: ${file}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new EnoseError('bad-option', `enose ${command} --early-plan: ${file}: not JSON (${(error as Error).message})`);
  }
  const plan = parseEarlyPlan(json, file);
  if (!plan.ok) throw new EnoseError('bad-option', `enose ${command} --early-plan: ${file}: ${plan.error.reason}`);
  const early: EngineEarlyOption = { plan: plan.value, models: [...shippedEarlyOption().models, ...modelFiles.map((f) => loadShippedModel(f))] };
  resolveEarlyPlan(early, model); // misuse throws here, before the source opens
  return early;
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
    // The rig may have taken an END whose answer the link lost: the recording says it was sent.
    if (e.issue !== null && UNANSWERED_END_KINDS.has(e.issue.kind)) recorder?.cycleEndUnanswered(e.sample, e.reason, e.issue, e.atMs);
    if (e.ended !== null) return;
    if (e.issue?.kind === 'unsupported') {
      if (!saidUnsupported) ctx.stderr(`enose ${command}: the rig does not end cycles early (${e.issue.detail}): full cycles\n`);
      saidUnsupported = true;
    } else if (e.issue !== null) ctx.stderr(`enose ${command}: cycle ${e.sample} not ended early (${e.issue.kind}: ${e.issue.detail})\n`);
  };
}
