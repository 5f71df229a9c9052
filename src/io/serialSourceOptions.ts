/** The serial source's options, its stats and its face (`createSerialSource`), and how the options are checked. */
import { EnoseError } from '../errors.js';
import type { FrameSource, LinkState, RigCommand } from '../types.js';
import type { CycleEnding } from './cycleEnd.js';
import type { CsvCounters, DecoderCounters } from './protocol.js';

export type SerialProtocol = 'enl' | 'csv';

/** Host-timed cycles of the plain csv mode. */
export interface CsvModeOptions {
  /** @default 30 */
  readonly baselineS?: number;
  /** @default 60 */
  readonly exposureS?: number;
  /** @default 60 */
  readonly recoveryS?: number;
  /** Channel names when the rig prints no header line (a header line, when one comes, replaces them). */
  readonly channels?: readonly string[];
  /** Frame rate announced in the made-up info (the engine scales its smoothing constants by it). @default 10 */
  readonly rateHz?: number;
  /** @default 'ohm' */
  readonly unit?: 'ohm' | 'adc';
}

/** The part of a serialport stream the source uses; `SerialPort` and `SerialPortMock` both fit. */
export interface SerialPortLike {
  open(callback: (error: Error | null) => void): void;
  close(callback?: (error: Error | null) => void): void;
  flush(callback?: (error: Error | null) => void): void;
  write(data: string | Buffer, callback?: (error: Error | null | undefined) => void): boolean;
  drain(callback?: (error: Error | null) => void): void;
  readonly isOpen: boolean;
  /** The binding's port; on Unix it carries the file descriptor (used to notice a hung-up device). */
  readonly port?: unknown;
  on(event: string, listener: (...args: any[]) => void): unknown;
  removeAllListeners(event?: string): unknown;
}

/** Makes an unopened port; the default is the real `serialport` (`new SerialPort({ ..., autoOpen: false })`). */
export type PortFactory = (options: { readonly path: string; readonly baudRate: number }) => SerialPortLike;

export interface SerialSourceOptions {
  /** Device path, e.g. `/dev/ttyACM0` (see `resolveAutoPort` for `--port auto`). */
  readonly path: string;
  /** @default 115200 (a pty ignores it) */
  readonly baudRate?: number;
  /** @default 'enl' */
  readonly protocol?: SerialProtocol;
  readonly csv?: CsvModeOptions;
  readonly reconnect?: {
    /** First wait before reopening a lost port; doubles each failed try. @default 100 */
    readonly initialDelayMs?: number;
    /** Longest wait between tries. @default 5000 */
    readonly maxDelayMs?: number;
  };
  /** An open that has not finished by then fails. @default 5000 */
  readonly openTimeoutMs?: number;
  /** Period of the codec's poll timer (held frames time out as `no-info`). @default 250 */
  readonly pollMs?: number;
  /** How long frames wait for an info line. @default 2000 (the protocol's) */
  readonly holdBackMs?: number;
  /** Send INFO when the port opens (enl). Off for a rig that would answer it and also print a boot line. @default true */
  readonly infoOnOpen?: boolean;
  /**
   * A connected port that delivers no byte for this long (and for at least 20 frame periods of the rig's
   * announced rate) is closed and reopened like a lost one: rigs stream idle frames all the time, so silence
   * means a hung rig or link (reopening also resets an Arduino). 0 turns the watchdog off. @default 10000
   */
  readonly silenceTimeoutMs?: number;
  /** How long `endCycle` waits for the rig's answer to END before it reports a `timeout`. @default 2000 */
  readonly endTimeoutMs?: number;
  /** Port factory (tests pass one that makes `SerialPortMock`s). */
  readonly openPort?: PortFactory;
}

export interface SerialSourceStats {
  readonly state: LinkState | 'idle';
  /** Successful opens, and closes that were not ours. */
  readonly connects: number;
  readonly disconnects: number;
  /** Failed reopen tries. */
  readonly openFailures: number;
  readonly bytesIn: number;
  /** Stale bytes dropped after an open (the first partial line). */
  readonly bytesDropped: number;
  readonly framesDelivered: number;
  readonly commandsSent: number;
  /** Gaps reported across a disconnect (the codec's own gaps are in `decoder.gaps`). */
  readonly bridgedGaps: number;
  readonly bridgedLostFrames: number;
  /** ENL/1 codec counters (null in csv mode). */
  readonly decoder: DecoderCounters | null;
  /** Csv decoder counters, summed over connections (null in enl mode). */
  readonly csv: CsvCounters | null;
}

export interface SerialSource extends FrameSource, CycleEnding {
  readonly path: string;
  readonly protocol: SerialProtocol;
  stats(): SerialSourceStats;
}

/** An option that must be a positive (or, with `allowZero`, non-negative) number; `fallback` when absent. */
export function positiveNumber(name: string, v: number | undefined, fallback: number, allowZero = false): number {
  const x = v ?? fallback;
  if (!Number.isFinite(x) || x < 0 || (!allowZero && x === 0)) throw new EnoseError('bad-option', `${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${String(x)}`);
  return x;
}
