/**
 * The engine with an early plan (issue 22): beside the engine's own core (the final model), one core per early
 * checkpoint runs its model on the same source events. When a checkpoint's model has judged the cycle at its
 * checkpoint (inside the exposure, at its end: `modelCheckpoint`), `decideAtCheckpoint` (earlyDecision.ts) says
 * clear, suspicious or wait; on clear or suspicious that verdict is emitted at once (`early: true`), the engine's
 * own core gives the cycle no second verdict (`EngineCore.settle`) and the later checkpoints none either.
 * Otherwise the next checkpoint decides, and at the end the final model's verdict stands.
 *
 * Each checkpoint model judges exactly as it would alone (its own cycle tracking, gates and policy), so a plan's
 * measured figures (`npm run eval:early`, `enose demo --early`) are the live engine's. The frame path only
 * forwards each event to each core: nothing is allocated per frame beyond what the cores do.
 */
import { EnoseError } from '../errors.js';
import type { ModelBundle } from '../model/runtime/bundle.js';
import type { EngineEvent, SourceEvent, VerdictCheckpoint, VerdictEvent } from '../types.js';
import { EngineCore, type EngineCoreOptions } from './core.js';
import { decideAtCheckpoint, type CheckpointThresholds } from './earlyDecision.js';
import { resolveEarlyPlan, type EngineEarlyOption } from './earlyPlanSchema.js';
import { CYCLE_LIMIT_REASONS } from './verdictSteps.js';

/** The part of the engine core `createEngine` drives: `EngineCore`, or `EarlyEngineCore` around one. */
export interface DrivenCore {
  push(event: SourceEvent): void;
  end(): void;
  stopped(atMs: number): void;
  requestSample(id: string): void;
  setModel(bundle: ModelBundle): void;
  adaptedModel(): ModelBundle | null;
  readonly verdicts: number;
  readonly overBudget: number;
  readonly notJudging: string | null;
  readonly modelId: string | null;
  readonly modelBundle: ModelBundle | null;
  readonly rig: { readonly rig: string } | null;
}

interface Checkpoint {
  readonly thresholds: CheckpointThresholds;
  readonly core: EngineCore;
  /** The checkpoint its model judges at: a verdict at another (a cut, an exposure ended before the windows) never decides. */
  readonly at: VerdictCheckpoint;
}

export class EarlyEngineCore implements DrivenCore {
  private readonly main: EngineCore;
  private readonly checkpoints: Checkpoint[];
  private readonly sink: (event: EngineEvent) => void;
  private readonly onEarly: ((verdict: VerdictEvent) => void) | null;
  /** The cycle whose early verdict was given last (by sample and first frame), and the checkpoint that gave it (its over-budget event follows it). */
  private earlySample = '';
  private earlyFirstSeq = -1;
  private earlyFrom = -1;
  private earlyCount = 0;
  private earlyOverBudget = 0;

  /**
   * `bundle` is the final model; `early` the plan and its checkpoints' models (resolveEarlyPlan: misuse throws
   * EnoseError('bad-option')). `onEarly` is called after each early verdict was emitted (the rig may end the cycle).
   */
  constructor(
    bundle: ModelBundle,
    early: EngineEarlyOption,
    options: EngineCoreOptions,
    sink: (event: EngineEvent) => void,
    onEarly?: (verdict: VerdictEvent) => void,
  ) {
    if ((options.adaptation ?? false) !== false) {
      throw new EnoseError('bad-option', 'adaptation under an early plan is not measured: the early-cleared samples would not reach it');
    }
    const resolved = resolveEarlyPlan(early, bundle);
    this.sink = sink;
    this.onEarly = onEarly ?? null;
    this.main = new EngineCore(bundle, options, sink);
    const quiet: EngineCoreOptions = { ...options, emitFrames: false, adaptation: false };
    this.checkpoints = resolved.plan.checkpoints.map((thresholds, i) => {
      const core: EngineCore = new EngineCore(resolved.checkpointModels[i], quiet, (e) => this.fromCheckpoint(i, e));
      return { thresholds, core, at: resolved.checkpointKinds[i]!.checkpoint };
    });
  }

  push(event: SourceEvent): void {
    // The checkpoints first: a checkpoint that decides on the frame that also ends the final model's cycle settles it.
    const cps = this.checkpoints;
    for (let i = 0; i < cps.length; i++) cps[i].core.push(event);
    this.main.push(event);
  }

  end(): void {
    for (const c of this.checkpoints) c.core.end();
    this.main.end();
  }

  stopped(atMs: number): void {
    for (const c of this.checkpoints) c.core.stopped(atMs);
    this.main.stopped(atMs);
  }

  requestSample(id: string): void {
    for (const c of this.checkpoints) c.core.requestSample(id);
    this.main.requestSample(id);
  }

  /** A model roll-out would leave the plan's thresholds with another model: refused (EnoseError('bad-option')). */
  setModel(bundle: ModelBundle): void {
    if (bundle.id !== this.main.modelId) {
      throw new EnoseError('bad-option', 'the model cannot be switched under an early plan: its thresholds belong to the models it names');
    }
  }

  adaptedModel(): ModelBundle | null {
    return this.main.adaptedModel();
  }

  get verdicts(): number {
    return this.main.verdicts + this.earlyCount;
  }

  /** Early verdicts given since the start. */
  get earlyVerdicts(): number {
    return this.earlyCount;
  }

  get overBudget(): number {
    return this.main.overBudget + this.earlyOverBudget;
  }

  get notJudging(): string | null {
    return this.main.notJudging;
  }

  get modelId(): string | null {
    return this.main.modelId;
  }

  get modelBundle(): ModelBundle | null {
    return this.main.modelBundle;
  }

  get rig(): { readonly rig: string } | null {
    return this.main.rig;
  }

  /** A checkpoint core's event: its verdict at its checkpoint may decide the cycle; the rest is the main core's to say. */
  private fromCheckpoint(i: number, e: EngineEvent): void {
    if (e.type === 'over-budget') {
      if (i === this.earlyFrom && e.sample === this.earlySample) {
        this.earlyOverBudget++;
        this.sink(e);
      }
      return;
    }
    if (e.type !== 'verdict') return;
    // A cut (or a cycle with no exposure, or one whose exposure ended before the model's windows) is the final
    // model's to judge; so is a cycle the final model is not following, or one an earlier checkpoint decided.
    if (e.checkpoint !== this.checkpoints[i].at) return;
    if (this.main.tracker.id !== e.sample || this.main.tracker.firstSeq !== e.frames.first) return;
    if (this.earlySample === e.sample && this.earlyFirstSeq === e.frames.first) return;
    // A cycle beyond the data limits (frames lost, a gap, too short) is inconclusive with or without a plan: the
    // final model says so; the rule's suspicious side must not override it (found by the fault suite).
    if (e.reasons.some((r) => CYCLE_LIMIT_REASONS.has(r))) return;
    const action = decideAtCheckpoint(e, this.checkpoints[i].thresholds);
    if (action === 'wait') return;
    this.main.settle();
    // The verdict is the checkpoint model's (its class, probabilities, score and reasons) with the rule's decision:
    // a score above suspiciousAbove is suspicious even where the model's own policy said otherwise.
    const verdict: VerdictEvent = { ...e, verdict: action, early: true };
    this.earlySample = e.sample;
    this.earlyFirstSeq = e.frames.first;
    this.earlyFrom = i;
    this.earlyCount++;
    this.sink(verdict);
    this.onEarly?.(verdict);
  }
}
