/**
 * The rig emulator: an ENL/1 rig on a pseudo-terminal, in place of a real one (`enose emulate-rig`).
 *
 * - The link: either the rig end of an existing pty pair (`link`, e.g. one a test made with socat), or a
 *   pair of its own: `socat -d -d pty,raw,echo=0,link=<dir>/rig pty,raw,echo=0,link=<dir>/host`, whose host
 *   end (`<dir>/host`) is reported through `onDevice` for `enose monitor --port <path>`. Commands are read
 *   through the real `serialport` package (flushed at open: stale commands from an earlier session must not
 *   run); frames are written straight to a non-blocking descriptor of the same path (see `openLink`).
 * - The rig: it sends its info line at start and on `INFO`; `START` gets `OK` (or `ERR,busy` during a cycle,
 *   `ERR,no-data` when the script has no cycle left) and then runs the script's next cycle (B, E, R frames),
 *   then idle frames; `STOP` gets `OK` and aborts to idle; lines that fail their checks get `$ENA,?,ERR,<kind>`.
 *   With `autoCycle` it runs the cycles on its own, `idleS` of idle frames before each, and ends after the
 *   last one.
 * - Pacing: frame k is due `k / (rateHz * speed)` seconds after the start (a drift-free schedule; each timer
 *   tick writes every frame that is due, in one write). `speed: 'max'` writes as fast as the link drains.
 *   Frames carry `seq` (from `firstSeq`, +1 a frame, uint32) and `t_ms` = rig time (frame index / rateHz,
 *   not wall time, so that a compressed run looks like a real-time one to the host).
 * - Faults (seeded, each counted in the report; rates are probabilities):
 *   `bitflip:p` (per byte of a frame line, its '\n' excepted; a flip never makes a '\n', so one corrupted line
 *   stays one line), `drop-byte:p` (per byte, '\n' included), `truncate:p` (per frame line: cut at a random
 *   byte, the '\n' kept), `garbage:p` (per frame line: 1 to 32 random bytes inserted at a random place),
 *   `repeat-seq:p` (per frame: the line is sent twice), `skip-seq:p` (per frame: a seq number is skipped),
 *   `reboot-at:<frame>` (the info line again, seq and t_ms back to 0, a cycle in progress aborted),
 *   `disconnect-at:<frame>` (see below), `clock-jump:<frame>:<ms>` (t_ms jumps by ms, may be negative),
 *   `stall:<frame>:<ms>` (no bytes for ms). `<frame>` counts the frames produced since the start, from 0.
 *   Byte and line faults touch frame lines only: info and ack lines go out clean, so that the command
 *   round trip stays testable under any fault rate.
 * - Disconnects: `disconnect-at:<frame>` closes the rig end. With a pty pair of its own the emulator also
 *   kills its socat (the host sees `close` with `disconnected`) and, after `replugAfterMs`, starts socat again
 *   with the same link names and reopens: an unplugged and replugged cable. With `link`, closing the rig end
 *   does not end the pair (socat keeps its pty), so the test that owns socat kills and restarts it itself;
 *   `onNotice` reports `disconnect-at: frame N` for it to react to. A link lost from outside (socat killed)
 *   either ends the emulator (`onDisconnect: 'exit'`, the default: a rig powered by the USB cable) or
 *   is waited for (`'wait'`: a powered rig keeps counting, frames produced meanwhile are lost, and the link
 *   is reopened once its path is back, every 100 ms).
 * - The report (what was injected, per kind; frames produced, written, unsent; last seq) is returned when
 *   the emulator ends: the signal aborted, the end of the data, `maxFrames`, or a lost link in exit mode.
 *   `timingPath` logs `seq,abs_ms` of every frame written (abs_ms = performance.timeOrigin + now, taken just
 *   before the write: comparable across processes); `framesLogPath` logs `seq,hash,faults` of every frame
 *   produced, where hash is `lineHash` of the clean line, so that a test can tell a corrupted frame that
 *   got through from a clean one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, constants as fsConstants, createWriteStream, existsSync, lstatSync, openSync, unlinkSync, writeSync, type WriteStream } from 'node:fs';
import { SerialPort } from 'serialport';
import { EnoseError } from '../errors.js';
import type { Phase, RigCommand, RigInfo } from '../types.js';
import { createDecoder, encodeAck, encodeFrame, encodeInfo, type Enl1Decoder } from './protocol.js';

// ---------------------------------------------------------------------------------------------------------
// What the rig plays

/** One frame's content; seq and t_ms are the emulator's. */
export interface ScriptFrame {
  readonly phase: Phase;
  readonly values: Float64Array;
}

/** One sampling cycle the rig can run. */
export interface ScriptCycle {
  readonly sample: string;
  readonly label: string;
  frames(): Iterator<ScriptFrame>;
}

/** Where the rig's readings come from (the simulator, a recording): its channels and its cycles in order. */
export interface RigScript {
  readonly channels: readonly string[];
  readonly unit: 'ohm' | 'adc';
  /** Values of idle frames before the first cycle (afterwards the last frame's values are held). */
  readonly idleValues: Float64Array;
  /** The next cycle, or null when there is none left. */
  nextCycle(): ScriptCycle | null;
}

// ---------------------------------------------------------------------------------------------------------
// Faults

export const RATE_FAULTS = ['bitflip', 'drop-byte', 'truncate', 'garbage', 'repeat-seq', 'skip-seq'] as const;
export const EVENT_FAULTS = ['reboot-at', 'disconnect-at', 'clock-jump', 'stall'] as const;
export type RateFaultKind = (typeof RATE_FAULTS)[number];
export type EventFaultKind = (typeof EVENT_FAULTS)[number];
export type FaultKind = RateFaultKind | EventFaultKind;

export type FaultSpec =
  | { readonly kind: RateFaultKind; readonly rate: number }
  | { readonly kind: 'reboot-at' | 'disconnect-at'; readonly frame: number }
  | { readonly kind: 'clock-jump' | 'stall'; readonly frame: number; readonly ms: number };

const FAULT_USAGE =
  'bitflip:<p>, drop-byte:<p>, truncate:<p>, garbage:<p>, repeat-seq:<p>, skip-seq:<p>, reboot-at:<frame>, disconnect-at:<frame>, clock-jump:<frame>:<ms>, stall:<frame>:<ms>';

/** Parses fault options (each may hold several, comma-separated); throws `EnoseError('bad-option')`. */
export function parseFaultSpecs(texts: readonly string[]): FaultSpec[] {
  const out: FaultSpec[] = [];
  for (const text of texts) {
    for (const raw of text.split(',')) {
      const item = raw.trim();
      if (item === '') continue;
      const [kind, ...args] = item.split(':');
      const bad = (why: string): EnoseError => new EnoseError('bad-option', `--fault ${item}: ${why} (faults: ${FAULT_USAGE})`);
      const num = (s: string | undefined, what: string): number => {
        const v = Number(s);
        if (s === undefined || s.trim() === '' || !Number.isFinite(v)) throw bad(`${what} is not a number`);
        return v;
      };
      const frame = (s: string | undefined): number => {
        const v = num(s, 'the frame');
        if (!Number.isInteger(v) || v < 0) throw bad('the frame must be an integer >= 0');
        return v;
      };
      if ((RATE_FAULTS as readonly string[]).includes(kind!)) {
        if (args.length !== 1) throw bad('give one rate');
        const rate = num(args[0], 'the rate');
        if (rate < 0 || rate > 1) throw bad('the rate is a probability between 0 and 1');
        out.push({ kind: kind as RateFaultKind, rate });
      } else if (kind === 'reboot-at' || kind === 'disconnect-at') {
        if (args.length !== 1) throw bad('give one frame index');
        out.push({ kind, frame: frame(args[0]) });
      } else if (kind === 'clock-jump' || kind === 'stall') {
        if (args.length !== 2) throw bad('give <frame>:<ms>');
        const ms = num(args[1], 'ms');
        if (!Number.isInteger(ms) || (kind === 'stall' && ms <= 0)) throw bad(kind === 'stall' ? 'ms must be a positive integer' : 'ms must be an integer');
        out.push({ kind, frame: frame(args[0]), ms });
      } else {
        throw bad('unknown fault');
      }
    }
  }
  return out;
}

/** FNV-1a (32 bit) of a line's latin1 bytes, as 8 hex digits: the frames log's fingerprint of a clean line. */
export function lineHash(line: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < line.length; i++) {
    h ^= line.charCodeAt(i) & 0xff;
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** A small seeded generator (mulberry32), one stream per fault kind so that adding a fault changes no other's draws. */
class Rng {
  private a: number;
  constructor(seed: number, stream: string) {
    this.a = Number.parseInt(lineHash(`${stream}:${seed}`), 16) >>> 0;
  }
  next(): number {
    let t = (this.a = (this.a + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }
  /** Failures before the next success of probability p (geometric): bytes to skip to the next faulty one. */
  skip(p: number): number {
    if (p >= 1) return 0;
    if (p <= 0) return Infinity;
    return Math.floor(Math.log(1 - this.next()) / Math.log1p(-p));
  }
}

// ---------------------------------------------------------------------------------------------------------
// The pty pair

export interface PtyPair {
  readonly dir: string;
  /** The rig end (the emulator opens it). */
  readonly rig: string;
  /** The host end (`enose monitor --port <host>`). */
  readonly host: string;
  readonly alive: boolean;
  /** Kills socat (SIGTERM; it removes its links): the host end sees `close` with `disconnected`. */
  close(): Promise<void>;
  /** Starts socat again with the same link names (an unplugged rig plugged in again). */
  restart(): Promise<void>;
}

/**
 * Starts `socat -d -d pty,raw,echo=0,link=<dir>/rig pty,raw,echo=0,link=<dir>/host` and waits until both
 * links exist. Throws `EnoseError('port-error')` when socat is missing or fails.
 */
export async function createPtyPair(dir: string, options: { readonly timeoutMs?: number } = {}): Promise<PtyPair> {
  const rig = `${dir}/rig`;
  const host = `${dir}/host`;
  const timeoutMs = options.timeoutMs ?? 5000;
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();

  const start = async (): Promise<void> => {
    for (const link of [rig, host]) {
      try {
        if (lstatSync(link).isSymbolicLink()) unlinkSync(link); // stale, from a socat that was killed hard
      } catch {
        // absent: fine
      }
    }
    const proc = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${rig}`, `pty,raw,echo=0,link=${host}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    let stderr = '';
    proc.stderr!.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString('latin1')).slice(-2000);
    });
    let failure: Error | null = null;
    let done = false;
    exited = new Promise<void>((resolve) => {
      proc.once('error', (error: NodeJS.ErrnoException) => {
        failure =
          error.code === 'ENOENT'
            ? new EnoseError('port-error', 'socat is not installed (Debian: apt-get install socat); or give --link <path> of a pty you made')
            : new EnoseError('port-error', `cannot start socat: ${error.message}`);
        done = true;
        resolve();
      });
      proc.once('exit', (code, signal) => {
        if (failure === null) {
          const lines = stderr.trim().split('\n');
          const last = lines.find((l) => / E /.test(l)) ?? lines.pop() ?? '';
          failure = new EnoseError('port-error', `socat ended (${signal ?? `exit ${code}`}) before its pty pair was ready${last ? `: ${last}` : ''}`);
        }
        done = true;
        resolve();
      });
    });
    const t0 = performance.now();
    while (!(existsSync(rig) && existsSync(host))) {
      if (done) throw failure!;
      if (performance.now() - t0 > timeoutMs) {
        proc.kill('SIGTERM');
        throw new EnoseError('port-error', `socat did not create ${rig} and ${host} within ${timeoutMs} ms`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  const close = async (): Promise<void> => {
    const proc = child;
    if (proc === null) return;
    child = null;
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    await exited;
  };

  await start();
  return {
    dir,
    rig,
    host,
    get alive() {
      const proc = child as ChildProcess | null;
      return proc !== null && proc.exitCode === null && proc.signalCode === null;
    },
    close,
    restart: async () => {
      await close();
      await start();
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// The emulator

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

/** Pending bytes beyond which a paced rig drops frames (a host that does not read: a real UART drops them too). */
const MAX_PENDING_BYTES = 1 << 20;
const MAX_BATCH_PACED = 1000;
const MAX_BATCH_MAX = 64;
const LINK_POLL_MS = 100;
/** How long the end waits for queued bytes to reach the OS (a host that does not read never takes them). */
const SHUTDOWN_WAIT_MS = 1000;

/**
 * Writes straight to the rig end's file descriptor, opened non-blocking: the bytes are in the pty when
 * `write` returns (the time the --timing log records), with no thread-pool hop. What the pty cannot take
 * yet (nobody reading the host end) is queued and retried every millisecond, in order.
 */
class FdWriter {
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private drained: (() => void)[] = [];
  private fd: number | null;
  private stuck = 0;

  constructor(
    fd: number,
    private readonly onLost: () => void,
  ) {
    this.fd = fd;
  }

  get isOpen(): boolean {
    return this.fd !== null;
  }

  /** Bytes waiting for room in the pty. */
  get writableLength(): number {
    return this.queued;
  }

  /** Writes or queues `data`; false when something is left queued (wait with `onceDrained`). */
  write(data: Buffer): boolean {
    if (this.fd === null) return false;
    if (this.queue.length === 0) {
      const n = this.tryWrite(data);
      if (n === data.length) return true;
      data = data.subarray(n);
    }
    this.queue.push(data);
    this.queued += data.length;
    this.schedule();
    return false;
  }

  onceDrained(callback: () => void): void {
    if (this.queued === 0 || this.fd === null) callback();
    else this.drained.push(callback);
  }

  close(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const fd = this.fd;
    this.fd = null;
    this.queue.length = 0;
    this.queued = 0;
    if (fd !== null) {
      try {
        closeSync(fd);
      } catch {
        // already gone
      }
    }
    this.flushDrained();
  }

  /** Bytes written now (0 when the pty is full); a lost link closes the writer. */
  private tryWrite(data: Buffer): number {
    try {
      return writeSync(this.fd!, data, 0, data.length);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN') return 0;
      this.close();
      this.onLost();
      return data.length;
    }
  }

  /** Retries back off from 1 to 32 ms while the pty takes nothing (a host end nobody reads). */
  private schedule(): void {
    if (this.timer === null) this.timer = setTimeout(() => this.pump(), Math.min(32, 2 ** this.stuck));
  }

  private pump(): void {
    this.timer = null;
    let progress = false;
    while (this.queue.length > 0 && this.fd !== null) {
      const head = this.queue[0]!;
      const n = this.tryWrite(head);
      this.queued -= n;
      if (n > 0) progress = true;
      if (n < head.length) {
        this.queue[0] = head.subarray(n);
        this.stuck = progress ? 0 : this.stuck + 1;
        this.schedule();
        return;
      }
      this.queue.shift();
    }
    this.stuck = 0;
    this.flushDrained();
  }

  private flushDrained(): void {
    const callbacks = this.drained;
    this.drained = [];
    for (const cb of callbacks) cb();
  }
}

/** Resolves once every queued byte is in the pty, or after `timeoutMs` (a host that never reads never takes them). */
function written(writer: FdWriter, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    writer.onceDrained(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** A log file, created now so that a bad path is a one-line error before anything runs. */
function openLog(path: string, what: string): WriteStream {
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

/** The rig end of the pty: a serialport that only reads (commands) and a raw descriptor that only writes. */
interface RigLink {
  readonly reader: SerialPort;
  readonly writer: FdWriter;
}

function closeLink(link: RigLink): Promise<void> {
  link.writer.close();
  return new Promise<void>((resolve) => (link.reader.isOpen ? link.reader.close(() => resolve()) : resolve()));
}

/** Runs the emulator until the signal aborts or it ends by itself; resolves with its report. */
export function runEmulator(options: EmulatorOptions, signal: AbortSignal): Promise<EmulatorReport> {
  return new Emulator(options, signal).run();
}

class Emulator {
  private readonly o: EmulatorOptions;
  private readonly signal: AbortSignal;
  private readonly info: string;
  private readonly periodMs: number;
  private readonly max: boolean;
  private readonly idleFrames: number;
  private readonly onDisconnect: 'exit' | 'wait';
  private readonly rates: Record<RateFaultKind, number> = { bitflip: 0, 'drop-byte': 0, truncate: 0, garbage: 0, 'repeat-seq': 0, 'skip-seq': 0 };
  private readonly rng: Record<RateFaultKind, Rng>;
  /** Event faults by frame index. */
  private readonly at = new Map<number, FaultSpec[]>();
  private flipSkip: number;
  private dropSkip: number;

  private link: RigLink | null = null;
  private pty: PtyPair | null = null;
  private linkUp = false;
  private reopening = false;
  private readonly decoder: Enl1Decoder = createDecoder();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopping = false;
  /** The last frame is out (end of data, maxFrames); waiting for the pty to take the queued bytes. */
  private ending = false;
  private resolveDone: ((reason: string) => void) | null = null;
  private timing: WriteStream | null = null;
  private framesLog: WriteStream | null = null;

  private cycle: Iterator<ScriptFrame> | null = null;
  private idleLeft: number;
  private lastValues: Float64Array;
  private slot = 0;
  private rigFrames = 0;
  private seq: number;
  private lastSeq: number | null = null;
  private tOffsetMs = 0;
  private t0 = 0;
  /** End of a stall (used at speed max, where there is no schedule to shift). */
  private resumeAt = 0;
  private readonly startedAt = performance.now();

  private readonly counts = {
    framesWritten: 0,
    framesUnsent: 0,
    bytesWritten: 0,
    cyclesStarted: 0,
    cyclesCompleted: 0,
    corruptedLines: 0,
    bitsFlipped: 0,
    bytesDropped: 0,
    garbageBytes: 0,
  };
  private readonly injected: Record<FaultKind, number> = {
    bitflip: 0,
    'drop-byte': 0,
    truncate: 0,
    garbage: 0,
    'repeat-seq': 0,
    'skip-seq': 0,
    'reboot-at': 0,
    'disconnect-at': 0,
    'clock-jump': 0,
    stall: 0,
  };
  private readonly commands: Record<string, number> = {};

  constructor(options: EmulatorOptions, signal: AbortSignal) {
    this.o = options;
    this.signal = signal;
    if (!(options.rateHz > 0) || !Number.isFinite(options.rateHz)) throw new EnoseError('bad-option', `rate must be a positive number of Hz, got ${options.rateHz}`);
    if (options.speed !== 'max' && (!(options.speed > 0) || !Number.isFinite(options.speed))) {
      throw new EnoseError('bad-option', `speed must be a positive number or max, got ${String(options.speed)}`);
    }
    if (options.link === undefined && options.ptyDir === undefined) throw new EnoseError('bad-usage', 'the emulator needs a link path or a folder for its own pty pair');
    this.info = encodeInfo({ proto: 'ENL/1', rig: options.rigId, fw: options.fw ?? 'emu-1', rateHz: options.rateHz, unit: options.script.unit, channels: options.script.channels });
    this.max = options.speed === 'max';
    this.periodMs = this.max ? 0 : 1000 / (options.rateHz * (options.speed as number));
    const idleS = options.idleS ?? 1;
    if (!(idleS >= 0) || !Number.isFinite(idleS)) throw new EnoseError('bad-option', `idle must be >= 0 s, got ${idleS}`);
    this.idleFrames = Math.round(idleS * options.rateHz);
    this.idleLeft = this.idleFrames;
    this.onDisconnect = options.onDisconnect ?? 'exit';
    const firstSeq = options.firstSeq ?? 0;
    if (!Number.isInteger(firstSeq) || firstSeq < 0 || firstSeq > 0xffffffff) throw new EnoseError('bad-option', `first seq must be a uint32, got ${firstSeq}`);
    this.seq = firstSeq;
    const seed = options.faultSeed ?? 1;
    this.rng = Object.fromEntries(RATE_FAULTS.map((k) => [k, new Rng(seed, k)])) as Record<RateFaultKind, Rng>;
    for (const f of options.faults ?? []) {
      if ('rate' in f) this.rates[f.kind] = f.rate;
      else {
        const list = this.at.get(f.frame) ?? [];
        list.push(f);
        this.at.set(f.frame, list);
      }
    }
    this.flipSkip = this.rng.bitflip.skip(this.rates.bitflip);
    this.dropSkip = this.rng['drop-byte'].skip(this.rates['drop-byte']);
    this.lastValues = options.script.idleValues;
    if (this.lastValues.length !== options.script.channels.length) {
      throw new EnoseError('bad-usage', `idle values have ${this.lastValues.length} entries for ${options.script.channels.length} channels`);
    }
  }

  async run(): Promise<EmulatorReport> {
    const o = this.o;
    if (o.timingPath !== undefined) this.timing = openLog(o.timingPath, 'timing log');
    if (o.framesLogPath !== undefined) this.framesLog = openLog(o.framesLogPath, 'frames log');
    let ended: string;
    try {
      if (o.link === undefined) {
        this.pty = await createPtyPair(o.ptyDir!);
        await this.openLink(this.pty.rig);
        o.onDevice?.(this.pty.host);
      } else {
        if (!existsSync(o.link)) throw new EnoseError('port-error', `cannot open ${o.link}: no such device`);
        await this.openLink(o.link);
      }
      this.writeLine(this.info);
      ended = await new Promise<string>((resolve) => {
        this.resolveDone = resolve;
        if (this.signal.aborted) this.finish('signal');
        this.signal.addEventListener('abort', () => this.finish('signal'), { once: true });
        this.t0 = performance.now();
        this.tick();
      });
    } finally {
      await this.shutdown();
    }
    return this.report(ended);
  }

  private report(ended: string): EmulatorReport {
    return {
      type: 'emulator-report',
      rig: this.o.rigId,
      ended,
      frames: this.slot,
      ...this.counts,
      firstSeq: this.o.firstSeq ?? 0,
      lastSeq: this.lastSeq,
      injected: { ...this.injected },
      commands: { ...this.commands },
      durationMs: Math.round(performance.now() - this.startedAt),
    };
  }

  private finish(reason: string): void {
    if (this.stopping) return;
    this.stopping = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.resolveDone?.(reason);
  }

  private async shutdown(): Promise<void> {
    this.stopping = true;
    if (this.timer !== null) clearTimeout(this.timer);
    const link = this.link;
    this.link = null;
    this.linkUp = false;
    if (link !== null) {
      await written(link.writer, SHUTDOWN_WAIT_MS);
      await closeLink(link);
    }
    await this.pty?.close();
    await Promise.all([this.timing, this.framesLog].map((s) => (s === null ? undefined : new Promise<void>((resolve) => s.end(() => resolve())))));
  }

  // -------------------------------------------------------------------------------------------------------
  // The link

  /** The writer of the open link, or null. */
  private get port(): FdWriter | null {
    return this.link === null ? null : this.link.writer;
  }

  /**
   * Opens the rig end twice: a serialport that only reads (the host's commands) and a raw non-blocking
   * descriptor that only writes (frames). Besides taking no thread-pool hop per write, this keeps writes
   * away from serialport 13's Linux poller, which arms one event mask per descriptor and lets each wait
   * replace it (bindings-cpp src/poller.cpp calls uv_poll_start with the new events only): a write waiting
   * for room (nobody reading the host end yet) and a read waiting for bytes on the same descriptor stalled
   * each other for good, seen as an emulator that stopped both writing frames and answering INFO.
   */
  private async openLink(path: string): Promise<void> {
    const reader = await new Promise<SerialPort>((resolve, reject) => {
      const port = new SerialPort({ path, baudRate: 115200, autoOpen: false, lock: false, hupcl: false });
      port.on('error', () => undefined);
      port.open((error) => {
        if (error) reject(new EnoseError('port-error', `cannot open ${path}: ${error.message.replace(/^Error:?\s*/, '')}`));
        else resolve(port);
      });
    });
    let fd: number;
    try {
      fd = openSync(path, fsConstants.O_WRONLY | fsConstants.O_NOCTTY | fsConstants.O_NONBLOCK);
    } catch (error) {
      await new Promise<void>((resolve) => reader.close(() => resolve()));
      throw new EnoseError('port-error', `cannot open ${path}: ${(error as Error).message}`);
    }
    await new Promise<void>((resolve) => reader.flush(() => resolve()));
    let link: RigLink | null = null;
    const writer = new FdWriter(fd, () => {
      if (link !== null) this.onLinkClosed(link);
    });
    link = { reader, writer };
    const opened = link;
    this.decoder.reset();
    reader.on('data', (chunk: Buffer) => this.onHostBytes(chunk));
    reader.on('close', () => this.onLinkClosed(opened));
    // A read of 0 bytes (the pty's other side went away, at times) ends the stream without a 'close'.
    reader.on('end', () => this.onLinkClosed(opened));
    this.link = link;
    this.linkUp = true;
  }

  private onLinkClosed(link: RigLink): void {
    if (this.link !== link) return; // closed by us
    this.link = null;
    this.linkUp = false;
    void closeLink(link);
    if (this.stopping) return;
    this.o.onNotice?.(`link-lost: frame ${this.slot}`);
    this.o.log?.('link lost');
    if (this.onDisconnect === 'exit') {
      this.finish('link-lost');
      return;
    }
    void this.reopen(this.pty !== null ? (this.o.replugAfterMs ?? 2000) : 0);
  }

  /** Closes the rig end on purpose (`disconnect-at`). */
  private async disconnect(): Promise<void> {
    const link = this.link;
    this.link = null;
    this.linkUp = false;
    this.o.onNotice?.(`disconnect-at: frame ${this.slot}`);
    if (link !== null) await closeLink(link);
    if (this.pty !== null) {
      await this.pty.close();
    } else if (this.onDisconnect === 'exit') {
      this.finish('link-lost');
      return;
    }
    void this.reopen(this.o.replugAfterMs ?? 2000);
  }

  /** Waits `delayMs`, then reopens the link (restarting its own socat) until it works or the emulator ends. */
  private async reopen(delayMs: number): Promise<void> {
    if (this.reopening) return;
    this.reopening = true;
    try {
      await new Promise((r) => setTimeout(r, delayMs));
      while (!this.stopping && !this.linkUp) {
        try {
          if (this.pty !== null) {
            if (!this.pty.alive) await this.pty.restart();
            await this.openLink(this.pty.rig);
          } else if (existsSync(this.o.link!)) {
            await this.openLink(this.o.link!);
          } else {
            throw new Error('not there yet');
          }
          this.o.onNotice?.(`link-back: frame ${this.slot}`);
          this.o.log?.('link back');
          if (this.max && this.timer === null && !this.stopping) this.tick();
        } catch {
          await new Promise((r) => setTimeout(r, LINK_POLL_MS));
        }
      }
    } finally {
      this.reopening = false;
    }
  }

  private writeLine(line: string): void {
    const port = this.port;
    if (port === null || !this.linkUp) return;
    this.counts.bytesWritten += line.length;
    port.write(Buffer.from(line, 'latin1'));
  }

  // -------------------------------------------------------------------------------------------------------
  // Commands from the host

  private onHostBytes(chunk: Buffer): void {
    for (const out of this.decoder.push(chunk, performance.now())) {
      if (out.type === 'command') this.onCommand(out.command);
      else if (out.type === 'issue' && (out.kind === 'too-long' || out.kind === 'bad-checksum' || out.kind === 'malformed')) {
        this.commands['?'] = (this.commands['?'] ?? 0) + 1;
        this.writeLine(encodeAck({ command: '?', ok: false, detail: out.kind }));
      }
    }
  }

  private onCommand(command: RigCommand): void {
    this.commands[command.command] = (this.commands[command.command] ?? 0) + 1;
    switch (command.command) {
      case 'INFO':
        this.writeLine(this.info);
        return;
      case 'STOP':
        this.writeLine(encodeAck({ command: 'STOP', ok: true }));
        if (this.cycle !== null) {
          this.cycle = null;
          this.idleLeft = this.idleFrames;
          this.o.log?.('STOP: cycle aborted');
        }
        return;
      case 'START': {
        if (this.cycle !== null) {
          this.writeLine(encodeAck({ command: 'START', ok: false, detail: 'busy' }));
          return;
        }
        const next = this.o.script.nextCycle();
        if (next === null) {
          this.writeLine(encodeAck({ command: 'START', ok: false, detail: 'no-data' }));
          return;
        }
        this.writeLine(encodeAck({ command: 'START', ok: true }));
        this.startCycle(next, command.sampleId);
        return;
      }
    }
  }

  private startCycle(cycle: ScriptCycle, requestedId: string | null): void {
    this.cycle = cycle.frames();
    this.counts.cyclesStarted++;
    this.o.log?.(`cycle ${this.counts.cyclesStarted}: ${cycle.sample} (${cycle.label || 'no label'})${requestedId === null ? '' : ` for START ${requestedId}`} at frame ${this.slot}`);
  }

  // -------------------------------------------------------------------------------------------------------
  // Frames

  private readonly tick = (): void => {
    this.timer = null;
    if (this.stopping || this.ending) return;
    const now = performance.now();
    let due: number;
    if (this.max) due = this.linkUp ? MAX_BATCH_MAX : 0;
    else due = Math.min(MAX_BATCH_PACED, Math.floor((now - this.t0) / this.periodMs) + 1 - this.slot);
    const chunks: Buffer[] = [];
    const seqs: number[] = [];
    let pause: 'disconnect' | null = null;
    for (let i = 0; i < due; i++) {
      if (this.o.maxFrames !== undefined && this.slot >= this.o.maxFrames) {
        this.flush(chunks, seqs);
        this.drainThen(() => this.finish('max-frames'));
        return;
      }
      const events = this.at.get(this.slot);
      if (events !== undefined) {
        this.at.delete(this.slot);
        let stop = false;
        for (const f of events) {
          if (f.kind === 'stall') {
            this.injected.stall++;
            this.t0 += f.ms;
            this.resumeAt = performance.now() + f.ms;
            // The rest of this frame's events and the frame itself come after the stall.
            const rest = events.slice(events.indexOf(f) + 1);
            if (rest.length > 0) this.at.set(this.slot, rest);
            stop = true;
            break;
          }
          if (f.kind === 'disconnect-at') {
            this.injected['disconnect-at']++;
            const rest = events.slice(events.indexOf(f) + 1);
            if (rest.length > 0) this.at.set(this.slot, rest);
            pause = 'disconnect';
            stop = true;
            break;
          }
          if (f.kind === 'reboot-at') {
            this.injected['reboot-at']++;
            chunks.push(Buffer.from(this.info, 'latin1'));
            this.seq = 0;
            this.rigFrames = 0;
            this.tOffsetMs = 0;
            if (this.cycle !== null) {
              this.cycle = null;
              this.idleLeft = this.idleFrames;
            }
          } else if (f.kind === 'clock-jump') {
            this.injected['clock-jump']++;
            this.tOffsetMs += f.ms;
          }
        }
        if (stop) break;
      }
      const content = this.nextContent();
      if (content === null) {
        this.flush(chunks, seqs);
        this.drainThen(() => this.finish('end-of-data'));
        return;
      }
      this.produce(content, chunks, seqs);
    }
    const backedUp = this.flush(chunks, seqs);
    if (pause === 'disconnect') {
      void this.disconnect().then(() => this.schedule(false));
      return;
    }
    this.schedule(backedUp);
  };

  private schedule(backedUp: boolean): void {
    if (this.stopping || this.timer !== null) return;
    if (this.max) {
      if (!this.linkUp) return; // resumed by reopen()
      const port = this.port!;
      const wait = this.resumeAt - performance.now();
      if (wait > 0) this.timer = setTimeout(this.tick, wait);
      else if (backedUp) port.onceDrained(() => this.tick());
      else this.timer = setTimeout(this.tick, 0);
      return;
    }
    const delay = Math.max(0, this.t0 + this.slot * this.periodMs - performance.now());
    this.timer = setTimeout(this.tick, delay);
  }

  /** Ends the frames (no tick after this), and calls `then` once the queued bytes are in the pty. */
  private drainThen(then: () => void): void {
    this.ending = true;
    const port = this.port;
    if (port === null) then();
    else void written(port, SHUTDOWN_WAIT_MS).then(then);
  }

  /** The next frame's phase and values (a cycle's, else idle); null at the end of the data. */
  private nextContent(): ScriptFrame | null {
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
      if (this.o.autoCycle && this.idleLeft <= 0) {
        const next = this.o.script.nextCycle();
        if (next === null) return null;
        this.startCycle(next, null);
        continue;
      }
      break;
    }
    this.idleLeft--;
    return { phase: 'I', values: this.lastValues };
  }

  /** Encodes one frame, applies the faults, and queues its bytes (or counts it unsent). */
  private produce(content: ScriptFrame, chunks: Buffer[], seqs: number[]): void {
    const rates = this.rates;
    if (this.rng['skip-seq'].chance(rates['skip-seq'])) {
      this.injected['skip-seq']++;
      this.seq = (this.seq + 1) >>> 0;
    }
    const seq = this.seq;
    const tMs = (Math.round((this.rigFrames * 1000) / this.o.rateHz) + this.tOffsetMs) >>> 0;
    const line = encodeFrame({ seq, tMs, phase: content.phase, values: content.values });
    this.seq = (this.seq + 1) >>> 0;
    this.rigFrames++;
    this.slot++;
    this.lastSeq = seq;
    const kinds: string[] = [];
    const bytes = this.corrupt(line, kinds);
    const repeat = this.rng['repeat-seq'].chance(rates['repeat-seq']);
    const unsent = !this.linkUp || (this.port !== null && this.port.writableLength > MAX_PENDING_BYTES);
    if (unsent) {
      this.counts.framesUnsent++;
      kinds.push('unsent');
    } else {
      chunks.push(bytes);
      seqs.push(seq);
      if (repeat) {
        this.injected['repeat-seq']++;
        kinds.push('repeat-seq');
        chunks.push(bytes);
      }
    }
    this.framesLog?.write(`${seq},${lineHash(line)},${kinds.join('+')}\n`);
  }

  /** Writes the queued frames in one write; logs their write time. Returns true when the port is backed up. */
  private flush(chunks: Buffer[], seqs: number[]): boolean {
    if (chunks.length === 0) return false;
    const port = this.port;
    if (port === null || !this.linkUp) {
      this.counts.framesUnsent += seqs.length;
      return false;
    }
    const data = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    if (this.timing !== null) {
      const abs = (performance.timeOrigin + performance.now()).toFixed(3);
      let text = '';
      for (const s of seqs) text += `${s},${abs}\n`;
      this.timing.write(text);
    }
    this.counts.framesWritten += seqs.length;
    this.counts.bytesWritten += data.length;
    return !port.write(data);
  }

  /** Applies the byte and line faults to one frame line; `kinds` collects the faults that changed it. */
  private corrupt(line: string, kinds: string[]): Buffer {
    const rates = this.rates;
    let buf = Buffer.from(line, 'latin1');
    let hit = false;
    if (this.rng.truncate.chance(rates.truncate) && buf.length > 2) {
      const cut = 1 + this.rng.truncate.int(buf.length - 2);
      const cutBuf = Buffer.alloc(cut + 1);
      buf.copy(cutBuf, 0, 0, cut);
      cutBuf[cut] = 0x0a;
      buf = cutBuf;
      this.injected.truncate++;
      kinds.push('truncate');
      hit = true;
    }
    if (rates.bitflip > 0) {
      const body = buf.length - 1; // the '\n' is never flipped
      let pos = this.flipSkip;
      let flipped = false;
      while (pos < body) {
        const r = this.rng.bitflip;
        const b = buf[pos]!;
        let bit = r.int(8);
        if ((b ^ (1 << bit)) === 0x0a) bit = (bit + 1 + r.int(7)) & 7; // never make a '\n'
        buf[pos] = b ^ (1 << bit);
        this.counts.bitsFlipped++;
        flipped = true;
        pos += 1 + r.skip(rates.bitflip);
      }
      this.flipSkip = pos - body;
      if (flipped) {
        this.injected.bitflip++;
        kinds.push('bitflip');
        hit = true;
      }
    }
    if (rates['drop-byte'] > 0) {
      let pos = this.dropSkip;
      if (pos < buf.length) {
        let from = 0;
        const parts: Buffer[] = [];
        while (pos < buf.length) {
          parts.push(buf.subarray(from, pos));
          from = pos + 1;
          this.counts.bytesDropped++;
          pos += 1 + this.rng['drop-byte'].skip(rates['drop-byte']);
        }
        parts.push(buf.subarray(from));
        this.dropSkip = pos - buf.length;
        buf = Buffer.concat(parts);
        this.injected['drop-byte']++;
        kinds.push('drop-byte');
        hit = true;
      } else {
        this.dropSkip = pos - buf.length;
      }
    }
    if (this.rng.garbage.chance(rates.garbage)) {
      const r = this.rng.garbage;
      const n = 1 + r.int(32);
      const junk = Buffer.alloc(n);
      for (let i = 0; i < n; i++) junk[i] = r.int(256);
      const at = r.int(buf.length);
      buf = Buffer.concat([buf.subarray(0, at), junk, buf.subarray(at)]);
      this.counts.garbageBytes += n;
      this.injected.garbage++;
      kinds.push('garbage');
      hit = true;
    }
    if (hit) this.counts.corruptedLines++;
    return buf;
  }
}
