/** What the emulated rig plays next: the cycle in progress, else idle frames (and, in auto mode, the next cycle). */
import type { RigScript, ScriptCycle, ScriptFrame } from './rigScript.js';

/** The cycle counts of the emulator's report, updated in place. */
export interface CycleCounts {
  cyclesStarted: number;
  cyclesCompleted: number;
}

export class RigCycles {
  private cycle: Iterator<ScriptFrame> | null = null;
  private idleLeft: number;
  private lastValues: Float64Array;

  constructor(
    private readonly script: RigScript,
    /** Idle frames before each automatic cycle (and after a cycle ends or is aborted). */
    private readonly idleFrames: number,
    private readonly autoCycle: boolean | undefined,
    private readonly counts: CycleCounts,
    private readonly log: ((line: string) => void) | undefined,
  ) {
    this.idleLeft = idleFrames;
    this.lastValues = script.idleValues;
  }

  /** A cycle is in progress. */
  get running(): boolean {
    return this.cycle !== null;
  }

  /** Aborts the cycle in progress, if any (STOP, a reboot): idle frames again. True when one was running. */
  abort(): boolean {
    if (this.cycle === null) return false;
    this.cycle = null;
    this.idleLeft = this.idleFrames;
    return true;
  }

  /** Starts `cycle` at frame `slot` (on START, or on its own in auto mode). */
  start(cycle: ScriptCycle, requestedId: string | null, slot: number): void {
    this.cycle = cycle.frames();
    this.counts.cyclesStarted++;
    this.log?.(`cycle ${this.counts.cyclesStarted}: ${cycle.sample} (${cycle.label || 'no label'})${requestedId === null ? '' : ` for START ${requestedId}`} at frame ${slot}`);
  }

  /** The next frame's phase and values (a cycle's, else idle); null at the end of the data. */
  next(slot: number): ScriptFrame | null {
    for (let guard = 0; guard < 3; guard++) {
      if (this.cycle !== null) {
        const r = this.cycle.next();
        if (!r.done) {
          this.lastValues = r.value.values;
          return r.value;
        }
        this.cycle = null;
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
}
