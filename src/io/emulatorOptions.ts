/** What the rig emulator (`runEmulator`) takes (its options, and the log files they name) and what it reports when it ends. */
import { createWriteStream, openSync, type WriteStream } from 'node:fs';
import { EnoseError } from '../errors.js';
import type { FaultKind, FaultSpec } from './rigFaults.js';
import type { RigScript } from './rigScript.js';

export interface EmulatorOptions {
  readonly script: RigScript;
  /** Rig end of an existing pty pair; without it the emulator makes its own pair in `ptyDir`. */
  readonly link?: string;
  /** Folder of the emulator's own pty links (`rig`, `host`); required without `link`. */
  readonly ptyDir?: string;
  /** Rig id in the info line. */
  readonly rigId: string;
  /** @default 'emu-1' */
  readonly fw?: string;
  /** Frames per second of rig time. */
  readonly rateHz: number;
  /** Rig seconds per wall second, or 'max' (as fast as the link drains). */
  readonly speed: number | 'max';
  /** Run cycles on their own (else only on START). @default false */
  readonly autoCycle?: boolean;
  /**
   * Knows the END command (hardware/PROTOCOL.md, "Ending a cycle"). false: answers it `ERR,unknown-command`,
   * as a rig from before END does, so that the host keeps full cycles. @default true
   */
  readonly endCommand?: boolean;
  /** Idle rig seconds before each automatic cycle. @default 1 */
  readonly idleS?: number;
  readonly faults?: readonly FaultSpec[];
  /** @default 1 */
  readonly faultSeed?: number;
  /** @default 0 */
  readonly firstSeq?: number;
  /** Stop after this many frames. */
  readonly maxFrames?: number;
  /** @default 'exit' */
  readonly onDisconnect?: 'exit' | 'wait';
  /** Outage of a `disconnect-at` with its own pty pair. @default 2000 */
  readonly replugAfterMs?: number;
  readonly timingPath?: string;
  readonly framesLogPath?: string;
  /** The host end of its own pty pair, once ready (print it for the user). */
  readonly onDevice?: (hostPath: string) => void;
  /** Machine-readable notices (`disconnect-at: frame N`, `link-lost`, `link-back`). */
  readonly onNotice?: (line: string) => void;
  /** Human diagnostics (verbose). */
  readonly log?: (line: string) => void;
}

export interface EmulatorReport {
  readonly type: 'emulator-report';
  readonly rig: string;
  /** Why it ended: `signal`, `end-of-data`, `max-frames`, `link-lost`. */
  readonly ended: string;
  /** Frames produced (slots of the schedule, sent or not). */
  readonly frames: number;
  /** Frames written to the port. */
  readonly framesWritten: number;
  /** Frames produced while the link was down or backed up (lost on purpose). */
  readonly framesUnsent: number;
  readonly bytesWritten: number;
  readonly cyclesStarted: number;
  readonly cyclesCompleted: number;
  /** Cycles ended early by the host's END. */
  readonly cyclesEnded: number;
  readonly firstSeq: number;
  /** Seq of the last frame produced, or null. */
  readonly lastSeq: number | null;
  /** Per fault kind: lines (or events) it touched. */
  readonly injected: Record<FaultKind, number>;
  /** Frame lines changed by bitflip, drop-byte, truncate or garbage (each counted once). */
  readonly corruptedLines: number;
  readonly bitsFlipped: number;
  readonly bytesDropped: number;
  readonly garbageBytes: number;
  /** Commands received, by word (`?` for unreadable lines). */
  readonly commands: Record<string, number>;
  readonly durationMs: number;
}

/** A log file, created now so that a bad path is a one-line error before anything runs. */
export function openLog(path: string, what: string): WriteStream {
  let fd: number;
  try {
    fd = openSync(path, 'w');
  } catch (error) {
    throw new EnoseError('file-unreadable', `cannot create the ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const stream = createWriteStream('', { fd });
  stream.on('error', () => undefined); // a full disk loses log lines, not the run
  return stream;
}
