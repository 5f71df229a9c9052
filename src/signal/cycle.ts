/**
 * Sampling-cycle segmentation: a sample is a baseline (B) phase followed by an exposure (E) phase, then
 * recovery (R). The tracker follows the frames' phases (from the rig, or from host timing upstream) and says
 * when a cycle starts, when its exposure starts, and when the exposure ends (the verdict is due), and keeps
 * the loss and gap accounting that decides whether the cycle can be trusted. With `throughRecovery` (a model
 * whose features include the recovery phase) the cycle stays open through R, its losses and gaps count, and
 * the verdict is due when the recovery ends.
 */
import type { Phase } from '../types.js';

export interface CycleLimits {
  /** Largest share of lost frames (gaps) over B and E (and R, through recovery). @default 0.02 */
  readonly maxLostShare: number;
  /** Longest time between consecutive B or E frames (or R, through recovery). @default 1 */
  readonly maxGapS: number;
  /** Shortest usable baseline. @default 3 */
  readonly minBaselineS: number;
  /** Shortest usable exposure. @default 5 */
  readonly minExposureS: number;
}

export const DEFAULT_CYCLE_LIMITS: CycleLimits = Object.freeze({ maxLostShare: 0.02, maxGapS: 1, minBaselineS: 3, minExposureS: 5 });

export type CutReason = 'disconnect' | 'reboot' | 'stopped';

/** What a frame did to the cycle: bit flags returned by `onFrame` (the end of a cycle: `endsCycle`). */
export const STARTED = 2; // this frame started a new cycle (a B frame)
export const EXPOSURE = 4; // this frame is the first of the exposure
export const PHASE_CHANGED = 8; // the frame's phase differs from the previous frame's

/** Where the current frame goes. */
export type FrameRole = 'baseline' | 'exposure' | 'recovery' | 'other';

export class CycleTracker {
  /** Id of the cycle in progress ('' when none). */
  id = '';
  /** Phase of the cycle in progress: B, E, R, or I when there is none. */
  phase: Phase = 'I';
  role: FrameRole = 'other';
  firstSeq = 0;
  lastSeq = 0;
  count = 0;
  framesB = 0;
  framesE = 0;
  /** Recovery frames (counted only with `throughRecovery`). */
  framesR = 0;
  lost = 0;
  maxGapS = 0;
  /** Seconds since the cycle's first frame (from the rig's clock, uint32 ms with wrap). */
  tS = 0;
  baselineS = 0;
  exposureS = 0;
  cut: CutReason | null = null;
  /** True when the cycle started by a `requestSample`. */
  requested = false;
  /** Whether the cycle runs through its recovery phase before its verdict (set once, before the first frame). */
  throughRecovery = false;
  /**
   * Seconds into the exposure at which the verdict is due, inside it (a `decideInExposure` model: its windows'
   * end), or 0: when the exposure (or the recovery) ends. Set once, before the first frame.
   */
  inExposureS = 0;
  /**
   * Where the last `endsCycle` that returned true ended the cycle when it was inside a phase: `in-exposure`
   * (`inExposureS`) or `in-recovery` (`inRecoveryS`); null at a phase's end.
   */
  endsInside: 'in-exposure' | 'in-recovery' | null = null;
  /**
   * Seconds into the recovery at which the verdict is due, inside it (a `decideInRecovery` model: its recovery
   * windows' end), or 0: when the recovery ends. Only with `throughRecovery`. Set once, before the first frame.
   */
  inRecoveryS = 0;
  private recoveryStartS = 0;

  /** True when the last `endsCycle` that returned true ended the cycle inside its exposure. */
  get endsInExposure(): boolean {
    return this.endsInside === 'in-exposure';
  }
  /** The cycle was judged inside its exposure: the rest of its frames (E, then R) belong to it, not to a new cycle. */
  private afterInExposure = false;
  /**
   * The cycle was cut in its baseline (a disconnect): the rest of that baseline, after the reconnect, belongs to
   * the cut cycle, not to a new one judged on a few seconds of baseline.
   */
  private afterCutInBaseline = false;
  private prevTMs = -1;
  private prevPhase: Phase = 'I';
  private prevHint: string | undefined = undefined;
  private exposureStartS = 0;
  private pendingId: string | null = null;
  private rig = 'rig';

  setRig(rig: string): void {
    this.rig = rig;
  }

  /** The next cycle to start gets this id (a container id from the scanner service). */
  requestSample(id: string): void {
    this.pendingId = id;
  }

  /** True while a cycle is in B or E (or R, through recovery): a cut now leaves it without a verdict, so one is due. */
  get open(): boolean {
    return this.id !== '' && (this.phase === 'B' || this.phase === 'E' || (this.throughRecovery && this.phase === 'R'));
  }

  /**
   * True when this frame ends the exposure of the cycle in progress (the first frame after E that is not E,
   * or a new sample id in the data), or cuts a baseline short with a new sample id: the cycle's verdict is
   * due, from the state as it is now. Through recovery, the first frame after R (or after E when no R
   * follows) instead. With `inExposureS`, the first frame (rig time `tMs`) at or past that many seconds into
   * the exposure, and with `inRecoveryS` into the recovery (`endsInside` then says which). Call before `onFrame`.
   */
  endsCycle(phase: Phase, hint: string | undefined, tMs: number): boolean {
    this.endsInside = null;
    if (this.id === '') return false;
    const hintChanged = hint !== undefined && this.prevHint !== undefined && hint !== this.prevHint;
    // Inside the exposure: its windows complete on this frame (or as the exposure ends, where they fill all of it).
    if (this.inExposureS > 0 && this.phase === 'E' && (phase === 'E' || phase === 'R') && !hintChanged && this.exposureSecondsAt(tMs) >= this.inExposureS) {
      this.endsInside = 'in-exposure';
      return true;
    }
    if (this.throughRecovery) {
      // Inside the recovery: its windows complete on this frame (the rest of its R frames start no cycle).
      if (this.inRecoveryS > 0 && this.phase === 'R' && phase === 'R' && !hintChanged && this.recoverySecondsAt(tMs) >= this.inRecoveryS) {
        this.endsInside = 'in-recovery';
        return true;
      }
      if (this.phase === 'R') return phase !== 'R' || hintChanged;
      if (this.phase === 'E') return (phase !== 'E' && phase !== 'R') || hintChanged;
    } else if (this.phase === 'E') return phase !== 'E' || hintChanged;
    if (this.phase === 'B') return hintChanged || phase === 'I' || phase === 'R';
    return false;
  }

  /**
   * Advances on one frame. `hint` is a sample id carried by the data (a recording's `sample` column): a change
   * of hint separates cycles as a change of phase does. Returns STARTED | EXPOSURE | PHASE_CHANGED flags.
   */
  onFrame(seq: number, tMs: number, phase: Phase, hint: string | undefined): number {
    let flags = 0;
    if (phase !== this.prevPhase) flags |= PHASE_CHANGED;
    const hintChanged = hint !== undefined && this.prevHint !== undefined && hint !== this.prevHint;
    // The rest of a cycle judged inside its exposure is not a new cycle (until a B, an I or another sample).
    if (this.afterInExposure && (hintChanged || (phase !== 'E' && phase !== 'R'))) this.afterInExposure = false;
    if (this.afterCutInBaseline && (hintChanged || phase !== 'B')) this.afterCutInBaseline = false;
    const startsNew =
      (phase === 'B' && (this.id === '' || this.phase !== 'B' || hintChanged) && !this.afterCutInBaseline) ||
      // An exposure seen without its baseline (the engine started mid-cycle): tracked so it is reported.
      (phase === 'E' && (this.id === '' || this.phase === 'R' || hintChanged) && !this.afterInExposure);
    if (startsNew) {
      flags |= STARTED;
      this.begin(seq, tMs, hint);
    } else if (this.id !== '' && (phase === 'I' || hintChanged || (phase === 'R' && this.phase === 'B'))) {
      // Idle, another sample, or recovery straight after baseline: the cycle is over (its verdict is given).
      this.id = '';
    }

    if (this.id !== '') {
      const dtS = this.prevTMs < 0 || flags & STARTED ? 0 : ((tMs - this.prevTMs) >>> 0) / 1000;
      this.tS += dtS;
      if (!(flags & STARTED) && this.counts(phase) && this.counts(this.phase)) {
        if (dtS > this.maxGapS) this.maxGapS = dtS;
      }
      if (phase === 'E' && this.phase !== 'E') {
        flags |= EXPOSURE;
        this.exposureStartS = this.tS;
      }
      if (phase === 'R' && this.phase !== 'R') this.recoveryStartS = this.tS;
      this.phase = phase;
      this.lastSeq = seq;
      this.count++;
      if (phase === 'B') {
        this.framesB++;
        this.baselineS = this.tS;
        this.role = 'baseline';
      } else if (phase === 'E') {
        this.framesE++;
        this.exposureS = this.tS - this.exposureStartS;
        this.role = 'exposure';
      } else if (phase === 'R' && this.throughRecovery) {
        this.framesR++;
        this.role = 'recovery';
      } else {
        this.role = 'other';
      }
    } else {
      this.role = 'other';
      this.phase = 'I';
    }
    this.prevTMs = tMs;
    this.prevPhase = phase;
    this.prevHint = hint;
    return flags;
  }

  /** Phases whose frames, losses and gaps count against the cycle. */
  private counts(phase: Phase): boolean {
    return phase === 'B' || phase === 'E' || (phase === 'R' && this.throughRecovery);
  }

  private begin(seq: number, tMs: number, hint: string | undefined): void {
    this.requested = this.pendingId !== null;
    this.id = this.pendingId ?? (hint !== undefined && hint !== '' ? hint : `${this.rig}-${seq}`);
    this.pendingId = null;
    this.phase = 'I';
    this.firstSeq = seq;
    this.lastSeq = seq;
    this.count = 0;
    this.framesB = 0;
    this.framesE = 0;
    this.framesR = 0;
    this.lost = 0;
    this.maxGapS = 0;
    this.tS = 0;
    this.baselineS = 0;
    this.exposureS = 0;
    this.exposureStartS = 0;
    this.recoveryStartS = 0;
    this.cut = null;
    this.prevTMs = tMs;
  }

  /** Lost frames reported by the link (a seq gap). Counted against the cycle when it is open (B, E, or R through recovery). */
  onLost(lost: number): void {
    if (this.open) this.lost += lost;
  }

  /** A disconnect or reboot: returns true when it cut a cycle in B or E (whose verdict is then due). */
  onCut(reason: CutReason): boolean {
    const wasOpen = this.open;
    if (wasOpen) this.cut = reason;
    // Kept through a second cut with no cycle open (a reconnect's reboot or info): only a frame that is not B clears it.
    if (wasOpen && this.phase === 'B') this.afterCutInBaseline = true;
    if (reason !== 'stopped') this.prevTMs = -1;
    return wasOpen;
  }

  /** Forgets the cycle after its verdict was given for a cut: the phase before the cut is unknown, so the next frame's phase counts as a change. */
  close(): void {
    this.endsInside = null;
    this.finish();
    this.prevPhase = 'I';
  }

  /**
   * Forgets the cycle whose verdict the coming frame triggered (`endsCycle`). The previous frame's phase stays:
   * that frame's own phase change (R to I after a recovery, E to R after an exposure) is still reported, so a
   * listener following phases (the service's rig-busy state) sees the rig go idle.
   */
  finish(): void {
    this.afterInExposure = this.endsInside === 'in-exposure';
    this.endsInside = null;
    this.id = '';
    this.phase = 'I';
  }

  /**
   * Seconds into the cycle in progress at the frame of rig time `tMs` that has not been through `onFrame` yet
   * (the frame that ends the cycle: 90 s at the end of a 30 s baseline and a 60 s exposure), to the millisecond.
   */
  secondsAt(tMs: number): number {
    const s = this.prevTMs < 0 ? this.tS : this.tS + ((tMs - this.prevTMs) >>> 0) / 1000;
    return Math.round(s * 1000) / 1000;
  }

  /** Seconds into the recovery in progress at the frame of rig time `tMs` not yet through `onFrame`, to the millisecond. */
  recoverySecondsAt(tMs: number): number {
    return Math.round((this.secondsAt(tMs) - this.recoveryStartS) * 1000) / 1000;
  }

  /** Seconds into the exposure in progress at the frame of rig time `tMs` not yet through `onFrame`, to the millisecond. */
  exposureSecondsAt(tMs: number): number {
    return Math.round((this.secondsAt(tMs) - this.exposureStartS) * 1000) / 1000;
  }

  get lostShare(): number {
    const seen = this.framesB + this.framesE + this.framesR + this.lost;
    return seen > 0 ? this.lost / seen : 0;
  }
}
