/** What the emulated rig plays next: the cycle in progress, else idle frames (and, in auto mode, the next cycle). */
import { MadeUpRecovery, RecoveryRule } from './rigRecovery.js';
import type { RigScript, ScriptCycle, ScriptFrame } from './rigScript.js';

/** The cycle counts of the emulator's report, updated in place. */
export interface CycleCounts {
  cyclesStarted: number;
  cyclesCompleted: number;
  /** Cycles the host ended with END (also counted as completed once their recovery is over). */
  cyclesEnded: number;
}

export class RigCycles {
  private cycle: Iterator<ScriptFrame> | null = null;
  /** The recovery made up after END in B or E (the script's own frames are dropped). */
  private madeUp: MadeUpRecovery | null = null;
  private phase: ScriptFrame['phase'] = 'I';
  private idleLeft: number;
  private lastValues: Float64Array;
  private readonly recovery: RecoveryRule;

  constructor(
    private readonly script: RigScript,
    /** Idle frames before each automatic cycle (and after a cycle ends or is aborted). */
    private readonly idleFrames: number,
    private readonly autoCycle: boolean | undefined,
    private readonly counts: CycleCounts,
    private readonly log: ((line: string) => void) | undefined,
    private readonly rateHz: number,
  ) {
    this.idleLeft = idleFrames;
    this.lastValues = script.idleValues;
    this.recovery = new RecoveryRule(script.channels, rateHz);
  }

  /** A cycle is in progress (its recovery included). */
  get running(): boolean {
    return this.cycle !== null || this.madeUp !== null;
  }

  /** Aborts the cycle in progress, if any (STOP, a reboot): idle frames again. True when one was running. */
  abort(): boolean {
    if (!this.running) return false;
    this.cycle = null;
    this.madeUp = null;
    this.phase = 'I';
    this.idleLeft = this.idleFrames;
    return true;
  }

  /**
   * END: from B or E the rig goes to R at once (a recovery made up from the last readings back to the
   * baseline), from R it keeps the scripted recovery; either ends once clean (rigRecovery.ts). False when idle.
   */
  end(reason: string, slot: number): boolean {
    if (!this.running) return false;
    if (this.recovery.endTaken) return true;
    const from = this.phase === 'I' ? 'B' : this.phase;
    this.recovery.end(from);
    this.counts.cyclesEnded++;
    if (from !== 'R') {
      this.cycle = null;
      this.madeUp = new MadeUpRecovery(this.lastValues, this.recovery, this.rateHz);
    }
    this.log?.(`END ${reason} in ${from} at frame ${slot}`);
    return true;
  }

  /** Starts `cycle` at frame `slot` (on START, or on its own in auto mode). */
  start(cycle: ScriptCycle, requestedId: string | null, slot: number): void {
    this.cycle = cycle.frames();
    this.madeUp = null;
    this.phase = 'I';
    this.recovery.startCycle();
    this.counts.cyclesStarted++;
    this.log?.(`cycle ${this.counts.cyclesStarted}: ${cycle.sample} (${cycle.label || 'no label'})${requestedId === null ? '' : ` for START ${requestedId}`} at frame ${slot}`);
  }

  /** The next frame's phase and values (a cycle's, else idle); null at the end of the data. */
  next(slot: number): ScriptFrame | null {
    for (let guard = 0; guard < 3; guard++) {
      if (this.running) {
        const frame = this.recovery.done() ? null : this.cycleFrame();
        if (frame !== null) {
          this.lastValues = frame.values;
          this.phase = frame.phase;
          this.recovery.observe(frame.phase, frame.values);
          return frame;
        }
        this.cycle = null;
        this.madeUp = null;
        this.phase = 'I';
        this.counts.cyclesCompleted++;
        this.idleLeft = this.idleFrames;
      }
      if (this.autoCycle && this.idleLeft <= 0) {
        const next = this.script.nextCycle();
        if (next === null) return null;
        this.start(next, null, slot);
        continue;
      }
      break;
    }
    this.idleLeft--;
    return { phase: 'I', values: this.lastValues };
  }

  private cycleFrame(): ScriptFrame | null {
    if (this.madeUp !== null) return { phase: 'R', values: this.madeUp.next() };
    const r = this.cycle!.next();
    return r.done ? null : r.value;
  }
}
