/**
 * An early plan as data (issue 22): the checkpoints of a sequential decision, each with the model that judges at
 * it (by id) and its thresholds, then the final checkpoint and its model. Validated with zod as a model bundle is
 * (kind, version, schema, then the meaning: `checkPlan`), and resolved against the model bundles an engine is
 * given (`resolveEarlyPlan`): the thresholds belong to those models, so a plan names them by id.
 */
import { z } from 'zod';
import { EnoseError, fail, ok, type Result } from '../errors.js';
import type { ModelBundle } from '../model/runtime/bundle.js';
import { checkPlan, type CheckpointThresholds, type EarlyPlan } from './earlyDecision.js';
import { modelCheckpoint, type ModelCheckpoint } from './modelCheckpoint.js';

export const EARLY_PLAN_KIND = 'enose-early-plan';
export const EARLY_PLAN_VERSION = 1;

const probability = z.number().min(0).max(1);
const modelId = z.string().regex(/^[0-9a-f]{16}$/, 'a model id: 16 hex digits');

const earlyPlanSchema = z.strictObject({
  kind: z.literal(EARLY_PLAN_KIND),
  version: z.literal(EARLY_PLAN_VERSION),
  checkpoints: z
    .array(z.strictObject({ atS: z.number().nonnegative(), modelId, clearBelow: probability, suspiciousAbove: probability }))
    .min(1),
  finalAtS: z.number().positive(),
  finalModelId: modelId,
});

/** One early checkpoint: its thresholds (`CheckpointThresholds`) and the id of the model that judges at it. */
export interface EarlyCheckpointData extends CheckpointThresholds {
  readonly modelId: string;
}

/** An early plan as JSON-able data (`SHIPPED_EARLY_PLAN`); a valid one is also an `EarlyPlan` for `decideEarly`. */
export interface EarlyPlanData extends EarlyPlan {
  readonly kind: typeof EARLY_PLAN_KIND;
  readonly version: typeof EARLY_PLAN_VERSION;
  readonly checkpoints: readonly EarlyCheckpointData[];
  readonly finalModelId: string;
}

/** Validates parsed JSON as an early plan: schema, then the thresholds and the order (`checkPlan`). Never throws. */
export function parseEarlyPlan(json: unknown, file = 'early plan'): Result<EarlyPlanData> {
  const bad = (reason: string) => fail({ file, line: 0, reason });
  const parsed = earlyPlanSchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first && first.path.length > 0 ? first.path.join('.') : 'plan';
    return bad(`invalid early plan: ${where}: ${first?.message ?? 'does not match the schema'}`);
  }
  try {
    checkPlan(parsed.data);
  } catch (error) {
    if (error instanceof EnoseError) return bad(`invalid early plan: ${error.message}`);
    throw error;
  }
  return ok(Object.freeze(parsed.data) as EarlyPlanData);
}

/** What an engine is given for an early decision: the plan and the models it names (the final one is the engine's own). */
export interface EngineEarlyOption {
  readonly plan: EarlyPlanData;
  /** The checkpoints' models (by `plan.checkpoints[i].modelId`); more are ignored. */
  readonly models: readonly ModelBundle[];
}

/** A checked plan with each early checkpoint's model, and where that model decides (`modelCheckpoint`). */
export interface ResolvedEarlyPlan {
  readonly plan: EarlyPlanData;
  readonly checkpointModels: readonly ModelBundle[];
  readonly checkpointKinds: readonly ModelCheckpoint[];
}

/** Seconds compared to the millisecond (a plan's atS against a model's window arithmetic). */
const sameSeconds = (a: number, b: number) => Math.abs(a - b) < 1e-3;

/**
 * Checks the plan and finds its models. Throws EnoseError('bad-option') for a plan that does not validate, a
 * final model that is not the engine's, a checkpoint model that is missing or decides only after the recovery
 * (it could not be earlier than the final verdict), or a model whose decision time is not its checkpoint's:
 * inside the exposure its windows' end (`modelCheckpoint`: 60 s for three 10 s windows), at the exposure's end
 * where the final model's cycle has it (`finalAtS` less the final model's recovery windows: 90 s with the default
 * model at 150 s), inside the recovery that exposure's end plus its recovery windows (100 s for one 10 s window),
 * and for the final model `finalAtS` (where its windows say its time).
 */
export function resolveEarlyPlan(option: EngineEarlyOption, finalModel: ModelBundle): ResolvedEarlyPlan {
  const parsed = parseEarlyPlan(option.plan);
  if (!parsed.ok) throw new EnoseError('bad-option', parsed.error.reason);
  const plan = parsed.value;
  if (plan.finalModelId !== finalModel.id) {
    throw new EnoseError('bad-option', `the early plan's final model is ${plan.finalModelId}, the engine's model is ${finalModel.id}: its thresholds were chosen with another model`);
  }
  const final = modelCheckpoint(finalModel);
  if (final.atS !== null && !sameSeconds(final.atS, plan.finalAtS)) {
    throw new EnoseError('bad-option', `the final model ${finalModel.id} decides at ${final.atS} s (${final.checkpoint}), the early plan's finalAtS is ${plan.finalAtS} s`);
  }
  // The exposure's end in the plan's cycle, as the final model has it (unknown under a final model of the exposure's first windows).
  const exposureEndS = final.checkpoint === 'in-exposure' ? null : plan.finalAtS - final.recoveryS;
  const checkpointModels = plan.checkpoints.map((c) => {
    const model = option.models.find((m) => m.id === c.modelId);
    if (!model) throw new EnoseError('bad-option', `the early plan's checkpoint at ${c.atS} s needs model ${c.modelId}, which was not given`);
    return model;
  });
  const checkpointKinds = checkpointModels.map((model, i) => {
    const atS = plan.checkpoints[i]!.atS;
    const at = modelCheckpoint(model);
    if (at.checkpoint === 'recovery-end') {
      throw new EnoseError('bad-option', `model ${model.id} decides when the recovery ends: it cannot judge at an early checkpoint (${atS} s)`);
    }
    const expected = at.checkpoint === 'in-exposure' ? at.atS : exposureEndS === null ? null : exposureEndS + (at.checkpoint === 'in-recovery' ? at.recoveryS : 0);
    if (expected !== null && !sameSeconds(expected, atS)) {
      throw new EnoseError('bad-option', `model ${model.id} decides at ${expected} s (${at.checkpoint}), the early plan's checkpoint is at ${atS} s`);
    }
    return at;
  });
  return { plan, checkpointModels, checkpointKinds };
}
