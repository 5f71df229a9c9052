/**
 * A run of frames behind the last accepted seq that count up by one: a silent restart of the rig (its boot
 * info line lost), or stale frames replayed by something between rig and host. Three in a row only make the
 * host suspect a restart: the decoder holds the run from its third frame and asks for INFO. The frames after
 * that decide (hardware/PROTOCOL.md, "Sequence"): a frame that continues the old sequence marks the run stale
 * (its held frames are `repeated-seq`), and only `RESTART_CONFIRM_FRAMES` frames that continue the run after
 * the rig's info line has answered make it a restart.
 */
import type { Frame } from '../../types.js';

/** Consecutive older frames counting up by one that make the host suspect a silent restart. */
export const RESTART_RUN_FRAMES = 3;
/** Frames continuing the run after the answering info line that confirm the restart. */
export const RESTART_CONFIRM_FRAMES = 3;

export interface RunFrame {
  readonly frame: Frame;
  readonly text: string;
}

export class RestartRun {
  /** Frames in the run so far (the first RESTART_RUN_FRAMES - 1 were already reported; only later ones are held). */
  length = 0;
  /** Held frames of the run, oldest first. */
  held: RunFrame[] = [];
  /** The rig's info line answered while the run was suspected: frames from now on confirm. */
  answered = false;
  /** Frames that continued the run after the answer. */
  confirmations = 0;
  private lastSeq = 0;

  /** True when a restart is suspected (the run is long enough): frames are being held. */
  get suspected(): boolean {
    return this.length >= RESTART_RUN_FRAMES;
  }

  /** True when `seq` is the next of the run. */
  continues(seq: number): boolean {
    return this.length > 0 && seq === ((this.lastSeq + 1) >>> 0);
  }

  /** Counts an older frame into the run (a new run when it does not continue this one); true when it must be held. */
  add(frame: Frame, text: string): boolean {
    if (!this.continues(frame.seq)) this.clear();
    this.length++;
    this.lastSeq = frame.seq;
    if (this.length < RESTART_RUN_FRAMES) return false;
    if (this.answered) this.confirmations++;
    this.held.push({ frame, text });
    return true;
  }

  /** True once the answered run has gone on long enough to be a restart. */
  get confirmed(): boolean {
    return this.answered && this.confirmations >= RESTART_CONFIRM_FRAMES;
  }

  /** Ends the run; returns the frames it held. */
  clear(): RunFrame[] {
    const held = this.held;
    this.held = [];
    this.length = 0;
    this.answered = false;
    this.confirmations = 0;
    return held;
  }
}
