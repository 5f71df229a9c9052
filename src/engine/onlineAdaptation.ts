/**
 * Adaptation during operation as the engine runs it: one object the core calls before and after each verdict it
 * predicts. The arithmetic (the guarded running mean, the shift, the watchdog's ring) is model/drift/adaptation.ts's;
 * this object owns the state, the parent model and the order of the calls, so the core never touches them:
 *
 *   adaptation.judgeAhead(features);                      // optional: the parent's verdict a frame or more early
 *   const parent = adaptation.beforeVerdict(features);   // the parent's verdict, once adaptation has moved the model
 *   ... the verdict, which may not clear what `parent` flags ...
 *   const stopped = adaptation.afterVerdict(verdict);    // watchdog, then the sample offered; the model may move
 *
 * Allocation-free per verdict (the parent model and its probabilities are compiled and allocated once).
 */
import type { ModelBundle } from '../model/runtime/bundle.js';
import {
  adaptedBundle,
  applyAdaptation,
  createAdaptation,
  largestShiftSd,
  observeSample,
  watchAddedAlarms,
  type AdaptationOptions,
  type AdaptationState,
} from '../model/drift/adaptation.js';
import { compileModel, compilePolicy, decideVerdict, noveltyOfLast, predictForVerdict, type CompiledModel, type CompiledPolicy } from '../model/runtime/pipeline.js';
import type { EngineEvent, VerdictEvent, VerdictKind } from '../types.js';

/** What the core tells adaptation of a verdict it gave (on the features it passed to `beforeVerdict`). */
export interface GivenVerdict {
  readonly sample: string;
  /** The verdict given (after quality reasons, `adaptation-disagrees` and the rig check). */
  readonly verdict: VerdictKind | null;
  /** The policy's verdict on the model's own prediction, before any quality reason. */
  readonly modelVerdict: VerdictKind | null;
  /** P(suspicious classes) and novelty, as the policy and `noveltyOfLast` gave them. */
  readonly score: number | null;
  readonly novelty: number;
}

/** The `adaptation-stopped` event's fields beside its type and time (the core stamps those). */
export type AdaptationStopped = Omit<Extract<EngineEvent, { type: 'adaptation-stopped' }>, 'type' | 'atMs'>;

export class OnlineAdaptation {
  private readonly state: AdaptationState;
  /** The model the core predicts with: adaptation moves its offset. */
  private readonly model: CompiledModel;
  /** The parent model, compiled once, that the watchdog judges each sample with. */
  private readonly parent: CompiledModel;
  private readonly parentProbs: Float64Array;
  private readonly policy: CompiledPolicy | null;
  /** The sample's raw feature row, as `beforeVerdict` saw it (the core's buffer: read again in `afterVerdict`). */
  private features: Float64Array | null = null;
  /** The parent's verdict on the sample, or null when the parent did not judge it. */
  private parentVerdict: VerdictKind | null = null;
  /** The parent's verdict judged ahead (`judgeAhead`), until the next `beforeVerdict`; undefined: none. */
  private aheadVerdict: VerdictKind | null | undefined = undefined;

  /**
   * @param model the compiled form of `bundle` that the core predicts with (adaptation writes its offset)
   * Throws EnoseError('bad-option') for a model without a verdict policy or for bad options.
   */
  constructor(bundle: ModelBundle, model: CompiledModel, options: AdaptationOptions) {
    this.state = createAdaptation(bundle, model, options);
    this.model = model;
    this.parent = compileModel(bundle);
    this.parentProbs = new Float64Array(bundle.classes.length);
    this.policy = compilePolicy(bundle);
  }

  /** True once the watchdog has stopped adaptation: the model is the parent's again and nothing moves any more. */
  get stopped(): boolean {
    return this.state.stopped;
  }

  /**
   * Before the verdict on a predicted sample: once adaptation has moved the model, the parent model judges the
   * sample too, and its verdict is returned (adaptation may not clear on its own what the parent flags); null
   * while the model has not moved, or after a stop.
   */
  beforeVerdict(features: Float64Array, sameAsAhead = false): VerdictKind | null {
    this.features = features;
    const ahead = this.aheadVerdict;
    this.aheadVerdict = undefined;
    this.parentVerdict = sameAsAhead && ahead !== undefined ? ahead : this.parentJudges(features);
    return this.parentVerdict;
  }

  /**
   * The parent's judgement of a row ahead of its verdict (the core's `predictAhead`); `beforeVerdict(features, true)`,
   * for the same row, takes it instead of judging again. Nothing here moves until `afterVerdict`, so it is the same.
   */
  judgeAhead(features: Float64Array): void {
    this.aheadVerdict = this.parentJudges(features);
  }

  private parentJudges(features: Float64Array): VerdictKind | null {
    const state = this.state;
    if (state.stopped || state.accepted === 0) return null;
    const best = predictForVerdict(this.parent, features, 0, this.parentProbs);
    return decideVerdict(this.policy, this.parentProbs, best, noveltyOfLast(this.parent)).verdict;
  }

  /** What a verdict reports of adaptation: the state the verdict was judged with. */
  status(): NonNullable<VerdictEvent['adaptation']> {
    return { accepted: this.state.accepted, largestShiftSd: largestShiftSd(this.state), stopped: this.state.stopped };
  }

  /**
   * After the verdict (which used the model as it stood): the watchdog compares the model's verdict with the
   * parent's (when the parent judged the sample), then the sample is offered, and the model moves if it is
   * accepted. Returns the `adaptation-stopped` event when this call's watchdog stopped adaptation, else null.
   */
  afterVerdict(judged: GivenVerdict): AdaptationStopped | null {
    const state = this.state;
    const features = this.features;
    this.features = null;
    if (state.stopped || features === null) return null;
    if (this.parentVerdict !== null) {
      const accepted = state.accepted;
      const shiftSd = largestShiftSd(state);
      if (watchAddedAlarms(state, this.model, judged.modelVerdict === 'suspicious', this.parentVerdict === 'clear')) {
        return { sample: judged.sample, addedAlarms: state.addedCount, watchSamples: state.options.watchSamples, accepted, largestShiftSd: shiftSd };
      }
    }
    if (observeSample(state, features, 0, judged.verdict, judged.score, judged.novelty) === 'accepted') applyAdaptation(state, this.model);
    return null;
  }

  /** The model as adaptation has moved it, as a bundle of its own (lineage: the parent, the samples). */
  adaptedBundle(parent: ModelBundle): ModelBundle {
    return adaptedBundle(parent, this.state);
  }
}
