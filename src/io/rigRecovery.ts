/**
 * How a rig ends a cycle on the host's END (hardware/PROTOCOL.md, "Ending a cycle"), for the emulator: the
 * same rule as the reference firmware (hardware/firmware/enose_rig/enose_rig.ino), frame by frame in rig time.
 *
 * - The clean-air reference is the mean of each gas channel over the cycle's B frames.
 * - A frame is clean when every gas channel is finite and within `cleanTolerance` of its reference (no B frame,
 *   or a `nan`, is never clean). Environment channels (`temp_c`, `rh_pct`) do not count.
 * - After END the recovery ends, before the next frame, once the clean run has lasted `cleanHoldS` and R is
 *   `minRecoveryS` old; at `maxRecoveryS` it ends whatever the sensors read. A cycle without END keeps its
 *   recorded recovery: this class is only asked once END was taken.
 */
import { isEnvironmentChannel } from '../types.js';

export const END_RULE = Object.freeze({
  /** Shortest recovery after END, from the start of R. */
  minRecoveryS: 10,
  /** How long every gas channel must stay within tolerance. */
  cleanHoldS: 3,
  /** Largest |R - R0| / R0 of a clean reading. */
  cleanTolerance: 0.05,
  /** Longest recovery (the reference rig's full recovery). */
  maxRecoveryS: 60,
  /**
   * Time constant of the emulator's made-up recovery after an exposure cut short: the simulator's fastest decay
   * class (its sensors' other classes are 2 and 4 times slower, so a real recovery may well be slower).
   */
  decayTauS: 20,
});

export class RecoveryRule {
  private readonly sums: Float64Array;
  private readonly counts: Float64Array;
  private readonly gas: readonly boolean[];
  /** R frames seen in this cycle. */
  private rFrames = 0;
  /** Rig seconds since R began of the first frame of the current clean run; -1 when not clean. */
  private cleanSinceS = -1;
  private ended = false;

  constructor(
    channels: readonly string[],
    private readonly rateHz: number,
  ) {
    this.sums = new Float64Array(channels.length);
    this.counts = new Float64Array(channels.length);
    this.gas = channels.map((c) => !isEnvironmentChannel(c));
  }

  /** A new cycle: no reference, no END yet. */
  startCycle(): void {
    this.sums.fill(0);
    this.counts.fill(0);
    this.rFrames = 0;
    this.cleanSinceS = -1;
    this.ended = false;
  }

  /** END was taken in this cycle. */
  get endTaken(): boolean {
    return this.ended;
  }

  /** Takes END; from B or E the recovery starts now (the caller makes its frames). */
  end(fromPhase: 'B' | 'E' | 'R'): void {
    this.ended = true;
    if (fromPhase !== 'R') {
      this.rFrames = 0;
      this.cleanSinceS = -1;
    }
  }

  /** One frame of the cycle as sent: B frames build the reference, R frames the clean run. */
  observe(phase: string, values: Float64Array): void {
    if (phase === 'B') {
      for (let k = 0; k < values.length; k++) {
        const v = values[k];
        if (!Number.isNaN(v)) {
          this.sums[k] += v;
          this.counts[k]++;
        }
      }
      return;
    }
    if (phase !== 'R') return;
    const atS = this.rFrames / this.rateHz;
    this.rFrames++;
    if (!this.isClean(values)) this.cleanSinceS = -1;
    else if (this.cleanSinceS < 0) this.cleanSinceS = atS;
  }

  /** With END taken: the recovery ends before the next frame. */
  done(): boolean {
    if (!this.ended) return false;
    const nextS = this.rFrames / this.rateHz;
    if (nextS >= END_RULE.maxRecoveryS) return true;
    return this.cleanSinceS >= 0 && nextS - this.cleanSinceS >= END_RULE.cleanHoldS && nextS >= END_RULE.minRecoveryS;
  }

  /** The reference of channel k (NaN without a B frame). */
  reference(k: number): number {
    return this.counts[k] > 0 ? this.sums[k] / this.counts[k] : NaN;
  }

  private isClean(values: Float64Array): boolean {
    let any = false;
    for (let k = 0; k < values.length; k++) {
      if (!this.gas[k]) continue;
      any = true;
      const r0 = this.reference(k);
      const v = values[k];
      if (!(r0 > 0) || !(Math.abs(v - r0) <= END_RULE.cleanTolerance * r0)) return false;
    }
    return any;
  }
}

/**
 * The emulator's recovery after an exposure cut short: each channel returns to its clean-air reference as a
 * first-order decay with `END_RULE.decayTauS` (the scripted recovery belongs to a full exposure, so it cannot
 * be played). A channel without a reference holds its last value. One buffer, refilled for every frame.
 */
export class MadeUpRecovery {
  private readonly from: Float64Array;
  private readonly out: Float64Array;
  private k = 0;

  constructor(
    last: Float64Array,
    private readonly rule: RecoveryRule,
    private readonly rateHz: number,
  ) {
    this.from = Float64Array.from(last);
    this.out = new Float64Array(last.length);
  }

  next(): Float64Array {
    this.k++;
    const w = Math.exp(-this.k / (this.rateHz * END_RULE.decayTauS));
    for (let c = 0; c < this.out.length; c++) {
      const r0 = this.rule.reference(c);
      const v = this.from[c];
      this.out[c] = Number.isNaN(r0) ? v : r0 + (v - r0) * w;
    }
    return this.out;
  }
}
