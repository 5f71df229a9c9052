/**
 * The engine's synchronous core: source events in, engine events out. It segments cycles, feeds the streaming
 * feature extractor, and when an exposure ends runs the quality gates, the model and the verdict policy on
 * preallocated arrays. No I/O and no timers: the clock is injected, so tests are deterministic.
 */
import { EnoseError } from '../errors.js';
import type { ModelBundle } from '../model/runtime/bundle.js';
import { leadingScoresAfterVerdict } from '../model/runtime/leadingScores.js';
import { AheadRun } from './aheadRun.js';
import { ModelPrewarm } from './prewarm.js';
import { compileModel, compilePolicy, decideVerdict, noveltyOfLast, predictForVerdict, type CompiledModel, type CompiledPolicy } from '../model/runtime/pipeline.js';
import { CycleTracker, DEFAULT_CYCLE_LIMITS, EXPOSURE, PHASE_CHANGED, STARTED, type CutReason, type CycleLimits } from '../signal/cycle.js';
import { DEFAULT_EXTRACTOR, defaultGateLimits, type ExtractorConfig, type GateLimits } from '../signal/features.js';
import type { LearnedChannel } from '../signal/channelGates.js';
import { SampleExtractor, sampleFeatureNames } from '../signal/extractor.js';
import type { AdaptationOptions } from '../model/drift/adaptation.js';
import { OnlineAdaptation } from './onlineAdaptation.js';
import type { CycleFeaturesRecord } from './cycleRecord.js';
import { RigCheck, rigValuesOf } from './rigCheck.js';
import { channelMismatch, describeChange, rigProblem, sameSession } from './rigSession.js';
import { decisionPointsOf, extractorOf } from './modelExtractor.js';
import { IsoTimeFormatter } from './wallTime.js';
import { scoresArray, verdictEventOf } from './verdictEvent.js';
import { STATION_ID, VERDICT_PCA_SCORES, type CycleQuality, type EngineEvent, type RigInfo, type SourceEvent, type VerdictCheckpoint, type VerdictEvent, type VerdictKind, type VerdictReason } from '../types.js';
import {
  channelGateReasons,
  cycleQuality,
  cycleReasons,
  environmentReasons,
  finiteFeatures,
  isExposed,
  policyVerdict,
  probabilitiesOf,
  unpredictedVerdict,
} from './verdictSteps.js';

export { extractorOf } from './modelExtractor.js';
export type { CycleFeaturesRecord } from './cycleRecord.js';

export interface EngineCoreOptions {
  /** Verdict latency budget from the frame that ends the exposure (the recovery, for a model with recovery windows). @default 5 */
  readonly latencyBudgetMs?: number;
  /** Cycle limits; a model's own limits take precedence where it has them. */
  readonly cycle?: Partial<CycleLimits>;
  /** Extractor settings for feature-only mode (training); a model's own settings are used otherwise. */
  readonly extractor?: Partial<ExtractorConfig>;
  /** Emit a `frame` event for every frame. @default true */
  readonly emitFrames?: boolean;
  /** Monotonic clock in ms. @default performance.now */
  readonly now?: () => number;
  /** Wall clock in epoch ms, for each verdict's `wallTime` (tests inject a fixed one). @default Date.now */
  readonly wallClock?: () => number;
  /**
   * The station each verdict names (`station`): where the rig stands, e.g. `antwerp-quay-7`. @default the rig's
   * id from its info line (a station is its rig: one engine per rig, and the id stays with the rig when the
   * host computer is replaced)
   */
  readonly stationId?: string;
  /** Feature-only mode: channel gates to report but not act on (a model's own list is used otherwise). */
  readonly ignoreGates?: readonly string[];
  /** Feature-only mode: per-channel limits learned from training data (a model's own are used otherwise). */
  readonly channelLimits?: Readonly<Record<string, LearnedChannel>>;
  /** Feature-only mode: the gate limits (a model's own are used otherwise). @default defaultGateLimits(unit) */
  readonly gates?: GateLimits;
  /**
   * Adaptation during operation (optional per deployment; see src/model/drift/adaptation.ts): the scaler follows the
   * slow drift of confidently clear samples, guarded so that suspicious or odd ones cannot drag it. `true`
   * uses the defaults. Needs a model with a verdict policy. Replaying the same recording with the same
   * setting gives the same verdicts (the state starts empty and sees the same samples). @default off
   */
  readonly adaptation?: boolean | AdaptationOptions;
  /**
   * Read the model back into the caches once a cycle, a second before its verdict is due (prewarm.ts): one
   * prediction per cycle, results discarded; the verdicts are the same either way. @default true
   */
  readonly prewarm?: boolean;
  /**
   * Run the model on the frame that completes the last window of the deciding phase (the recovery's, or the
   * exposure's), so that the frame ending the cycle only adds the gates, the policy and the event; the verdict uses
   * that result only when its own row is the same, bit for bit (else the model runs again), so the verdicts are
   * the same either way. A rig whose deciding phase outlasts the model's windows moves the row every time: after
   * three such verdicts in a row the core stops running ahead for that rig session. @default true
   */
  readonly predictAhead?: boolean;
}

export class EngineCore {
  private readonly sink: (event: EngineEvent) => void;
  private readonly onFeatures: ((record: CycleFeaturesRecord) => void) | null;
  private bundle: ModelBundle | null;
  private model: CompiledModel | null;
  private policy: CompiledPolicy | null;
  private probs: Float64Array;
  /** The last prediction's most probable class and novelty (NaN without a novelty limit). */
  private best = 0;
  private novelty = NaN;
  /** The verdict being judged: the policy's verdict on the model alone and P(suspicious) (null: none; `decide`). */
  private modelVerdict: VerdictKind | null = null;
  private score: number | null = null;
  /** The leading PCA scores a verdict carries, and the transformed row they are projected from (leadingScores.ts). */
  private pcaScores: Float64Array;
  private pcaScratch: Float64Array;
  private extractorConfig: ExtractorConfig;
  private cycleLimits: CycleLimits;
  private readonly budgetMs: number;
  private readonly emitFrames: boolean;
  private readonly now: () => number;
  private readonly wallClock: () => number;
  private readonly wallTime = new IsoTimeFormatter();
  private readonly stationId: string | null;
  readonly tracker = new CycleTracker();
  private info: RigInfo | null = null;
  private features: SampleExtractor | null = null;
  private featureBuf = new Float64Array(0);
  /** The model read back into the caches just before a verdict is due (prewarm.ts); null without a model. */
  private prewarm: ModelPrewarm | null = null;
  private gates = new Uint8Array(0);
  private labelHint: string | undefined;
  private envIndex: { channel: string; feature: number }[] = [];
  private ignoreGates: ReadonlySet<string>;
  private channelLimits: Readonly<Record<string, LearnedChannel>> | null;
  private gateLimits: GateLimits | null;
  private readonly options: EngineCoreOptions;
  /** A model to switch to at the next cycle start (setModel), never within a cycle. */
  private nextModel: ModelBundle | null = null;
  /** Adaptation during operation (onlineAdaptation.ts), called before and after each predicted verdict; null when off. */
  private readonly adaptation: OnlineAdaptation | null;
  /** The model's rig check (null for a model without a rig fingerprint). */
  private rigCheck: RigCheck | null;
  /** Why the rig's cycles are not judged now (rigSession.ts), or null while they are. */
  notJudging: string | null = null;
  /** When the verdict being judged was decided: seconds into the cycle and the checkpoint (set before `judge`). */
  private decidedAtS = 0;
  private checkpoint: VerdictCheckpoint = 'exposure-end';
  /** The cycle in progress has its verdict already (an early checkpoint's, `settle`): it gets none of its own. */
  private settled = false;
  /** The model run one frame ahead (`predictAhead`): the kept row and its state. */
  private ahead = new AheadRun(new Float64Array(0), false);
  /** Verdicts given, and those over budget, since the start. */
  verdicts = 0;
  overBudget = 0;

  constructor(
    bundle: ModelBundle | null,
    options: EngineCoreOptions,
    sink: (event: EngineEvent) => void,
    onFeatures?: (record: CycleFeaturesRecord) => void,
  ) {
    this.sink = sink;
    this.options = options;
    this.onFeatures = onFeatures ?? null;
    this.bundle = bundle;
    this.model = bundle ? compileModel(bundle) : null;
    this.policy = bundle ? compilePolicy(bundle) : null;
    this.probs = new Float64Array(bundle ? bundle.classes.length : 0);
    this.pcaScores = new Float64Array(bundle ? Math.min(VERDICT_PCA_SCORES, bundle.pca.components) : 0);
    this.pcaScratch = new Float64Array(bundle && bundle.transform !== 'none' ? bundle.input.featureNames.length : 0);
    this.extractorConfig = bundle ? extractorOf(bundle) : { ...DEFAULT_EXTRACTOR, ...options.extractor };
    Object.assign(this.tracker, decisionPointsOf(this.extractorConfig));
    this.cycleLimits = { ...DEFAULT_CYCLE_LIMITS, ...options.cycle, ...(bundle?.limits?.cycle ?? {}) };
    this.budgetMs = options.latencyBudgetMs ?? 5;
    this.emitFrames = options.emitFrames ?? true;
    this.now = options.now ?? (() => performance.now());
    this.wallClock = options.wallClock ?? Date.now;
    if (options.stationId !== undefined && !STATION_ID.test(options.stationId)) {
      throw new EnoseError('bad-option', `stationId must be 1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit: ${JSON.stringify(options.stationId)}`);
    }
    this.stationId = options.stationId ?? null;
    this.ignoreGates = new Set(bundle?.limits?.ignoreGates ?? options.ignoreGates ?? []);
    this.channelLimits = bundle ? (bundle.limits?.channels ?? null) : (options.channelLimits ?? null);
    this.gateLimits = bundle ? ((bundle.limits?.gates as GateLimits | null | undefined) ?? null) : (options.gates ?? null);
    const adapt = options.adaptation ?? false;
    if (adapt !== false && (!bundle || !this.model)) throw new EnoseError('bad-option', 'adaptation needs a model');
    this.adaptation = adapt !== false && bundle && this.model ? new OnlineAdaptation(bundle, this.model, adapt === true ? {} : adapt) : null;
    this.rigCheck = null;
  }

  /** The model as adaptation has moved it, as a bundle of its own (lineage: parent, samples), or null when off. */
  adaptedModel(): ModelBundle | null {
    return this.adaptation && this.bundle ? this.adaptation.adaptedBundle(this.bundle) : null;
  }

  /**
   * Switches to `bundle` at the next cycle start (at once when no cycle is open at the next frame), never within a
   * cycle. Throws EnoseError('model-mismatch') for a model the engine cannot run on this rig, and 'bad-option'
   * with adaptation on (its state belongs to the model it started with).
   */
  setModel(bundle: ModelBundle): void {
    if (this.adaptation) throw new EnoseError('bad-option', 'a model cannot be switched while adaptation is on');
    extractorOf(bundle);
    const mismatch = this.info && channelMismatch(bundle, this.info);
    if (mismatch) throw new EnoseError('model-mismatch', mismatch);
    this.nextModel = bundle.id === this.bundle?.id ? null : bundle;
  }

  /** The id of the model that judges the next verdict, or null in feature-only mode. */
  get modelId(): string | null {
    return this.bundle?.id ?? null;
  }

  /** The model that judges the next verdict, or null in feature-only mode. */
  get modelBundle(): ModelBundle | null {
    return this.bundle;
  }

  private switchModel(bundle: ModelBundle, atMs: number): void {
    this.nextModel = null;
    this.bundle = bundle;
    this.model = compileModel(bundle);
    this.policy = compilePolicy(bundle);
    this.probs = new Float64Array(bundle.classes.length);
    this.pcaScores = new Float64Array(Math.min(VERDICT_PCA_SCORES, bundle.pca.components));
    this.pcaScratch = new Float64Array(bundle.transform !== 'none' ? bundle.input.featureNames.length : 0);
    this.extractorConfig = extractorOf(bundle);
    Object.assign(this.tracker, decisionPointsOf(this.extractorConfig));
    this.cycleLimits = { ...DEFAULT_CYCLE_LIMITS, ...this.options.cycle, ...(bundle.limits?.cycle ?? {}) };
    this.ignoreGates = new Set(bundle.limits?.ignoreGates ?? this.options.ignoreGates ?? []);
    this.channelLimits = bundle.limits?.channels ?? null;
    this.gateLimits = (bundle.limits?.gates as GateLimits | null | undefined) ?? null;
    if (this.info && this.notJudging === null) this.buildFeatures(this.info);
    else if (this.info) this.startSession(this.info, this.info, atMs, `model ${bundle.id}`);
  }

  get rig(): RigInfo | null {
    return this.info;
  }

  /** The next cycle the rig starts carries this id. */
  requestSample(id: string): void {
    this.tracker.requestSample(id);
  }

  push(event: SourceEvent): void {
    switch (event.type) {
      case 'frame':
        this.frame(event);
        return;
      case 'info':
        this.setInfo(event);
        return;
      case 'gap':
        this.tracker.onLost(event.lost);
        this.sink(event);
        return;
      case 'reboot':
        this.cut('reboot', event.atMs);
        return;
      case 'state':
        if (event.state === 'disconnected') this.cut('disconnect', event.atMs);
        this.sink(event);
        return;
      case 'issue':
        this.sink(event);
        return;
      case 'ack':
        return;
    }
  }

  /** End of the source: a cycle still in its exposure is judged on what it has; one in baseline is too short. */
  end(): void {
    if (this.tracker.open) {
      // The end of the data ends the phase the cycle is in, one frame period after its last frame (as the next frame
      // would have): a recording's last cycle is decided where the same cycle played live is.
      const t = this.tracker;
      const periodS = this.info && this.info.rateHz > 0 ? 1 / this.info.rateHz : 0;
      this.decidedAt(phaseEnd(t.phase), t.tS + periodS);
      this.judge(this.now());
      this.tracker.close();
    }
  }

  /**
   * The cycle in progress was decided elsewhere (an early checkpoint of `EarlyEngineCore`): it gets no verdict
   * of its own (no prediction, no event, nothing for adaptation). Holds until the next cycle starts.
   */
  settle(): void {
    if (this.tracker.id !== '') this.settled = true;
  }

  private decidedAt(checkpoint: VerdictCheckpoint, atS: number): void {
    this.checkpoint = checkpoint;
    this.decidedAtS = Math.round(atS * 1000) / 1000;
  }

  /** A STOP from the host: a cycle in progress is cut. */
  stopped(atMs: number): void {
    this.cut('stopped', atMs);
  }

  private setInfo(event: Extract<SourceEvent, { type: 'info' }>): void {
    const previous = this.info;
    const { type: _t, atMs, ...info } = event;
    if (previous) this.cut('reboot', atMs);
    this.info = info;
    this.tracker.setRig(info.rig);
    this.sink({ type: 'info', atMs, reboot: previous !== null, ...info });
    if (!previous || !sameSession(previous, info)) this.startSession(previous, info, atMs);
    const warning = this.features ? this.rigCheck?.identityWarning(info, atMs) : null;
    if (warning) this.sink(warning);
  }

  /** A new rig session (rigSession.ts): judged when it fits, else paused with the reason; never a throw. */
  private startSession(previous: RigInfo | null, info: RigInfo, atMs: number, change = describeChange(previous, info)): void {
    const problem = rigProblem(info, this.bundle);
    const paused = this.notJudging !== null;
    this.notJudging = problem;
    if (problem === null) this.buildFeatures(info);
    else this.features = null;
    if (problem !== null || previous !== null || paused) {
      const reason = problem ?? (paused ? 'the rig fits the model again: judging resumes' : 'the rig fits the model: judging goes on');
      this.sink({ type: 'rig-changed', atMs, judging: problem === null, change, reason });
    }
  }

  private buildFeatures(info: RigInfo): void {
    const limits: GateLimits = this.gateLimits ?? defaultGateLimits(info.unit);
    this.features = new SampleExtractor(info.channels, info.rateHz > 0 ? info.rateHz : 10, this.extractorConfig, limits, this.channelLimits);
    this.featureBuf = new Float64Array(this.features.width);
    // Fixed for the session: the option, a row complete before the cycle ends, no verdict inside the exposure.
    this.ahead = new AheadRun(this.featureBuf, this.options.predictAhead !== false && this.features.rowBeforeEnd && !(this.tracker.inExposureS > 0 || this.tracker.inRecoveryS > 0));
    this.prewarm = this.bundle && this.options.prewarm !== false ? new ModelPrewarm(this.extractorConfig, this.features.width, this.bundle.classes.length, info.rateHz > 0 ? info.rateHz : 10) : null;
    this.gates = new Uint8Array(this.features.channels.length);
    const names = sampleFeatureNames(info.channels, this.extractorConfig);
    this.envIndex = names.flatMap((n, i) => (n.endsWith(':mean') ? [{ channel: n.slice(0, -5), feature: i }] : []));
    // Over the kept channels, so the check reads the phase features by their own index (one monomorphic call).
    const bundle = this.bundle;
    this.rigCheck = bundle?.rig && bundle.input.kind === 'frames' ? new RigCheck(bundle.rig, this.features.channels) : null;
  }

  private frame(event: Extract<SourceEvent, { type: 'frame' }>): void {
    // Sources hold frames back until an info line; a session that is not judged ignores its frames.
    if (!this.features) return void (this.nextModel && this.switchModel(this.nextModel, event.atMs));
    const t = this.tracker;
    if (t.endsCycle(event.phase, event.sample, event.tMs)) {
      this.decidedAt(t.endsInside ?? phaseEnd(t.phase), t.secondsAt(event.tMs));
      this.judge(event.atMs);
      t.finish();
    }
    if (this.nextModel && t.id === '') this.switchModel(this.nextModel, event.atMs);
    const features = this.features;
    const flags = t.onFrame(event.seq, event.tMs, event.phase, event.sample);
    if (flags & STARTED) {
      this.settled = false;
      this.ahead.reset();
      features.reset();
      this.labelHint = event.label;
      this.sink({ type: 'sample-started', atMs: event.atMs, sample: t.id, seq: event.seq, requested: t.requested });
    }
    if (flags & EXPOSURE) features.startExposure(t.tS);
    if (t.role === 'baseline') features.baselineFrame(event.values, t.tS);
    else if (t.role === 'exposure') features.exposureFrame(event.values, t.tS);
    else if (t.role === 'recovery') features.recoveryFrame(event.values, t.tS);
    if (!this.ahead.tried && t.role !== 'baseline' && features.windowsDone && this.model && this.ahead.active) this.predictAhead(this.model);
    // The prewarm reads the model back before its verdict when it does not run ahead (it would only repeat it).
    if (this.prewarm && this.model && !this.ahead.active) this.prewarm.afterFrame(t, this.model);
    if (flags & PHASE_CHANGED) this.sink({ type: 'phase', atMs: event.atMs, sample: t.id, phase: event.phase, seq: event.seq });
    if (this.emitFrames) {
      this.sink({ type: 'frame', atMs: event.atMs, seq: event.seq, tMs: event.tMs, phase: event.phase, values: event.values, sample: t.id });
    }
  }

  private cut(reason: CutReason, atMs: number): void {
    if (this.tracker.onCut(reason)) {
      this.decidedAt('cut', this.tracker.tS);
      this.judge(atMs);
      this.tracker.close();
    }
  }

  /**
   * The verdict of the cycle in progress, triggered at `triggerAtMs` (arrival of the frame that ended it), in
   * named steps: quality gates, features and channel gates, the model (transform, classify, novelty, environment
   * ranges, the plotted scores), the quality record, then with a model the policy, the event, and what follows it.
   */
  private judge(triggerAtMs: number): void {
    if (this.settled) return void (this.settled = false);
    const t = this.tracker;
    const features = this.features!;
    const reasons = cycleReasons(t, this.cycleLimits, features.recoveryComplete);
    const exposed = isExposed(t);
    // The row, gates and rig levels as the model's run ahead found them, when the extractor took nothing since.
    const current = this.ahead.current(features.changes);
    const channels = exposed ? this.finishFeatures(reasons, current) : [];
    const predicted = exposed && finiteFeatures(this.featureBuf, reasons) && this.predict(reasons, current);
    const quality = cycleQuality(t, channels, predicted ? this.novelty : NaN);
    this.reportFeatures(reasons, quality, exposed);
    if (!this.bundle) return;
    const verdict = this.decide(predicted, reasons, current);
    const event = this.verdictEvent(triggerAtMs, predicted, verdict, reasons, quality);
    this.verdicts++;
    this.sink(event);
    this.afterVerdict(event, predicted);
  }

  /** Features: the row into `featureBuf` (there already when `current`), the channel gates that tripped as reasons. */
  private finishFeatures(reasons: VerdictReason[], current: boolean): CycleQuality['channels'] {
    const features = this.features!;
    if (!current) features.finish(this.featureBuf, this.gates);
    return channelGateReasons(this.gates, features.channels, this.ignoreGates, reasons);
  }

  /**
   * The model on a finite feature row: transform and classify (`probs`, `best`), the novelty, the environment
   * ranges (their reasons join), and the leading PCA scores the verdict carries. False in feature-only mode.
   */
  private predict(reasons: VerdictReason[], current: boolean): boolean {
    const model = this.model;
    if (!model) return false;
    if (!this.ahead.take(current)) this.runModel(model);
    environmentReasons(this.featureBuf, this.envIndex, this.bundle!.limits?.environment ?? {}, reasons);
    return true;
  }

  /** The model on the finite row in `featureBuf`: `probs`, `best`, the novelty and the leading PCA scores. */
  private runModel(model: CompiledModel): void {
    const buf = this.featureBuf;
    this.best = predictForVerdict(model, buf, 0, this.probs);
    this.novelty = noveltyOfLast(model);
    this.prewarm?.remember(buf);
    leadingScoresAfterVerdict(model, buf, 0, this.pcaScores, this.pcaScratch);
  }

  /**
   * The model's part of the verdict on the frame that completes the deciding phase's windows (`predictAhead`), on a
   * finite row, which is kept. Nothing when the cycle has its verdict already (`settle`).
   */
  private predictAhead(model: CompiledModel): void {
    this.ahead.tried = true;
    if (this.settled) return;
    const buf = this.featureBuf;
    this.features!.finish(buf, this.gates);
    for (let j = 0; j < buf.length; j++) if (!Number.isFinite(buf[j])) return;
    this.runModel(model);
    this.adaptation?.judgeAhead(buf);
    this.rigCheck?.measureAhead(this.features!.levels);
    this.ahead.keep(this.features!.changes);
  }

  /**
   * Every cycle's features go to onFeatures when it is set, with a model too (the quality reasons then include
   * the model's own range checks: `enose calibrate --method threshold` gates its samples as the model would).
   */
  private reportFeatures(reasons: readonly VerdictReason[], quality: CycleQuality, exposed: boolean): void {
    if (!this.onFeatures) return;
    const t = this.tracker;
    const features = this.features!;
    this.onFeatures({ sample: t.id, label: this.labelHint, features: Float64Array.from(this.featureBuf), reasons: [...reasons], quality, exposureS: t.exposureS, baselineDrift: exposed ? features.largestBaselineDrift : NaN, rigValues: rigValuesOf(features, this.info!.channels) });
  }

  /**
   * The policy: adaptation first (the parent model judges the sample once adaptation has moved the model), then
   * the verdict from the model's outcome, the quality reasons, the parent's verdict and the rig check. Returns the
   * verdict; the policy's verdict on the model alone and P(suspicious) go to `modelVerdict` and `score`.
   */
  private decide(predicted: boolean, reasons: VerdictReason[], current: boolean): VerdictKind | null {
    const hasPolicy = this.policy !== null;
    this.modelVerdict = null;
    this.score = null;
    if (!predicted) return unpredictedVerdict(hasPolicy, reasons);
    const parentVerdict = this.adaptation ? this.adaptation.beforeVerdict(this.featureBuf, this.ahead.takeUsed()) : null;
    const outcome = decideVerdict(this.policy, this.probs, this.best, this.novelty);
    const rigMismatch = this.rigCheck?.check(this.features!.levels, current) ?? false;
    this.modelVerdict = outcome.verdict;
    this.score = outcome.score;
    return policyVerdict(outcome, hasPolicy, parentVerdict, rigMismatch, reasons);
  }

  private verdictEvent(triggerAtMs: number, predicted: boolean, verdict: VerdictKind | null, reasons: VerdictReason[], quality: CycleQuality): VerdictEvent {
    const bundle = this.bundle!;
    const atMs = this.now();
    const wallTime = this.wallTime.format(this.wallClock());
    const probabilities = predicted ? probabilitiesOf(bundle.classes, this.probs) : {};
    const adaptation = this.adaptation ? this.adaptation.status() : null;
    const scores = predicted ? scoresArray(this.pcaScores) : null;
    return verdictEventOf(this.tracker, atMs, atMs - triggerAtMs, wallTime, this.stationId ?? this.info!.rig, bundle.id, verdict, predicted ? bundle.classes[this.best] : null, probabilities, this.score, reasons, quality, this.labelHint, adaptation, scores, this.decidedAtS, this.checkpoint);
  }

  /**
   * After the verdict: the rig's data warning, adaptation (the watchdog compares the verdict with the parent
   * model's, then the sample is offered and the model moves if it is accepted), and the latency budget.
   */
  private afterVerdict(event: VerdictEvent, predicted: boolean): void {
    const rigWarning = predicted ? this.rigCheck?.dataWarning(event.sample, event.atMs) : null;
    if (rigWarning) this.sink(rigWarning);
    if (predicted && this.adaptation) {
      const stopped = this.adaptation.afterVerdict({ sample: event.sample, verdict: event.verdict, modelVerdict: this.modelVerdict, score: this.score, novelty: this.novelty });
      if (stopped) this.sink({ type: 'adaptation-stopped', atMs: this.now(), ...stopped });
    }
    if (event.latencyMs > this.budgetMs) {
      this.overBudget++;
      this.sink({ type: 'over-budget', atMs: this.now(), sample: event.sample, latencyMs: event.latencyMs, budgetMs: this.budgetMs });
    }
  }
}

/** The checkpoint a cycle in `phase` reaches when that phase ends. */
function phaseEnd(phase: string): VerdictCheckpoint {
  return phase === 'R' ? 'recovery-end' : phase === 'E' ? 'exposure-end' : 'baseline-end';
}
