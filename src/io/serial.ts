/**
 * A rig on a serial port as a `FrameSource`, through the real `serialport` package.
 *
 * - Opens the port (path, baud rate), discards what the OS buffered before (`flush`) and the first partial
 *   line (socat and USB adapters can hold stale bytes).
 * - Every chunk is stamped `atMs = performance.now()` when it arrives and pushed, raw, into the ENL/1 codec
 *   (`createDecoder`) or the plain csv decoder; their outputs become `SourceEvent`s in wire order. A timer
 *   polls the codec so that frames held back for want of an info line time out as `no-info`. The source sends
 *   `INFO` (and tells the codec, `infoRequested`) when the port opens and when the codec asks (`need-info`);
 *   a repeated answer is not passed on (src/io/infoRequests.ts). A board that resets on open loses the first
 *   INFO in its reset and prints its boot line. Runs of identical issues go out as one event with a `count` (src/io/issueRuns.ts).
 * - Link states are events: `connected`, `disconnected`, `reconnecting`. A port that closes (unplugged,
 *   `close` with `disconnected`, or any error) is not the end: the source keeps running and reopens it with
 *   capped exponential back-off (100 ms doubling, at most `maxDelayMs`, 5 s by default), resetting the codec.
 *   A cycle that the disconnect cut is cut by the engine when it sees `disconnected` (src/engine/core.ts).
 *   When the same rig comes back still counting (an unplugged cable, a powered rig), the frames it sent
 *   meanwhile are reported as one `gap` bridging the disconnect.
 * - Every `pollMs` a zero-byte write checks that the device has not hung up: after an unplug (or socat's
 *   death) the read serialport has pending is not always woken, so no `close` would ever come.
 * - A watchdog closes and reopens a port that has been silent for `silenceTimeoutMs` (rigs stream idle
 *   frames all the time). It also recovers from a serialport 13 limitation on Linux: its poller arms one
 *   event mask per fd and each wait replaces it (bindings-cpp src/poller.cpp), so a write stuck on a full
 *   buffer can starve the read of the same fd for good. The host writes only short commands, so this needs
 *   a rig that stopped reading; the emulator, which writes a lot, opens its end twice (src/io/emulator.ts).
 * - Only the FIRST open is allowed to fail: a port that does not exist or is busy when `run()` starts
 *   rejects with `EnoseError('port-error')` (a typo on the command line), whereas a port that disappears
 *   later is waited for until the signal aborts.
 *
 * Plain csv mode (`protocol: 'csv'`): one `v1,...,vN` line per frame, an optional header line of names. An
 * `info` event is made up from the header (or the `channels` option, or `ch1..chN`) with rig id
 * `csv:<path>`; frames get `seq` = a line counter and `tMs` = host milliseconds; phases come from the host's
 * clock after `send({ command: 'START' })`: B for `baselineS`, E for `exposureS`, R for `recoveryS`, then I.
 * Commands are not written to a csv rig (it has no command language); `START` and `STOP` are answered with
 * `ack` events made up by the host.
 */
import { writeSync } from 'node:fs';
import { readdir, readFile, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { InfoRequests } from './infoRequests.js';
import { IssueRuns } from './issueRuns.js';
import { EnoseError } from '../errors.js';
import { sameRigInfo, type FrameSource, type LinkState, type Phase, type RigCommand, type RigInfo, type SourceEvent } from '../types.js';
import {
  createCsvDecoder,
  createDecoder,
  encodeCommand,
  type CsvCounters,
  type CsvDecoder,
  type CsvOutput,
  type DecoderCounters,
  type DecoderOutput,
  type Enl1Decoder,
} from './protocol.js';

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

export interface SerialSource extends FrameSource {
  readonly path: string;
  readonly protocol: SerialProtocol;
  stats(): SerialSourceStats;
}

const DEFAULT_BAUD = 115200;
const UINT32 = 4294967296;
const DOLLAR = 0x24;
const NEWLINE = 0x0a;
/** Longest first line kept in csv mode while deciding whether it is a header. */
const MAX_FIRST_LINE = 4096;

function positiveNumber(name: string, v: number | undefined, fallback: number, allowZero = false): number {
  const x = v ?? fallback;
  if (!Number.isFinite(x) || x < 0 || (!allowZero && x === 0)) throw new EnoseError('bad-option', `${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${String(x)}`);
  return x;
}

/** One line saying why an open failed, from serialport's messages ("Error: No such file or directory, cannot open ..."). */
export function describePortError(error: unknown): string {
  const raw = error instanceof Error ? error.message : String(error);
  const text = raw.split('\n')[0]!.replace(/^Error:?\s*/, '').trim();
  if (/no such file|ENOENT|does not exist/i.test(text)) return 'no such device';
  if (/cannot lock|locked|resource temporarily unavailable|EBUSY|busy/i.test(text)) return 'port is busy (another program has it open)';
  if (/permission denied|EACCES/i.test(text)) return 'permission denied (add the user to the dialout group: see hardware/README.md)';
  return text || 'unknown error';
}

/** Creates the source; nothing is opened before `run()`. Throws `EnoseError('bad-option')` on bad options. */
export function createSerialSource(options: SerialSourceOptions): SerialSource {
  return new SerialSourceImpl(options);
}

class SerialSourceImpl implements SerialSource {
  readonly path: string;
  readonly protocol: SerialProtocol;
  readonly description: string;
  private readonly baudRate: number;
  private readonly initialDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly openTimeoutMs: number;
  private readonly pollMs: number;
  private readonly silenceTimeoutMs: number;
  private lastByteAtMs = 0;
  private readonly openPort: PortFactory;
  private readonly csvOptions: Required<Omit<CsvModeOptions, 'channels'>> & { channels: readonly string[] | null };

  private readonly decoder: Enl1Decoder | null;
  private readonly infoRequests: InfoRequests;
  private readonly infoOnOpen: boolean;
  private issueRuns: IssueRuns | null = null;
  private csvDecoder: CsvDecoder | null = null;
  private csvTotals: CsvCounters = { lines: 0, frames: 0, issues: { 'too-long': 0, malformed: 0, 'wrong-channel-count': 0 } };
  private csvChannels: readonly string[] | null;
  private csvInfoSent: readonly string[] | null = null;
  private csvSeq = 0;
  private csvCycleStartMs: number | null = null;

  private emitFn: ((event: SourceEvent) => void) | null = null;
  private port: SerialPortLike | null = null;
  private connected = false;
  private running = false;
  private state: LinkState | 'idle' = 'idle';
  /** Dropping the stale first line after an open: 0 no, 1 yes (enl: until '$' or '\n'), 2 csv: collecting it. */
  private skipFirst = 0;
  private firstLine: number[] = [];
  /** Last accepted frame and the info it came under, kept across a disconnect to bridge the gap. */
  private lastSeq = -1;
  private lastInfo: RigInfo | null = null;
  private bridgeFrom: { seq: number; info: RigInfo } | null = null;

  private counts = { connects: 0, disconnects: 0, openFailures: 0, bytesIn: 0, bytesDropped: 0, framesDelivered: 0, commandsSent: 0, bridgedGaps: 0, bridgedLostFrames: 0 };

  constructor(options: SerialSourceOptions) {
    if (typeof options.path !== 'string' || options.path === '') throw new EnoseError('bad-option', 'a serial source needs a port path');
    this.path = options.path;
    this.protocol = options.protocol ?? 'enl';
    if (this.protocol !== 'enl' && this.protocol !== 'csv') throw new EnoseError('bad-option', `protocol must be enl or csv, got ${JSON.stringify(this.protocol)}`);
    this.baudRate = positiveNumber('baudRate', options.baudRate, DEFAULT_BAUD);
    if (!Number.isInteger(this.baudRate)) throw new EnoseError('bad-option', `baudRate must be an integer, got ${this.baudRate}`);
    this.initialDelayMs = positiveNumber('reconnect.initialDelayMs', options.reconnect?.initialDelayMs, 100);
    this.maxDelayMs = positiveNumber('reconnect.maxDelayMs', options.reconnect?.maxDelayMs, 5000);
    this.openTimeoutMs = positiveNumber('openTimeoutMs', options.openTimeoutMs, 5000);
    this.pollMs = positiveNumber('pollMs', options.pollMs, 250);
    this.silenceTimeoutMs = positiveNumber('silenceTimeoutMs', options.silenceTimeoutMs, 10_000, true);
    this.openPort = options.openPort ?? ((o) => new SerialPort({ path: o.path, baudRate: o.baudRate, autoOpen: false }));
    const csv = options.csv ?? {};
    this.csvOptions = {
      baselineS: positiveNumber('csv.baselineS', csv.baselineS, 30, true),
      exposureS: positiveNumber('csv.exposureS', csv.exposureS, 60, true),
      recoveryS: positiveNumber('csv.recoveryS', csv.recoveryS, 60, true),
      rateHz: positiveNumber('csv.rateHz', csv.rateHz, 10),
      unit: csv.unit ?? 'ohm',
      channels: csv.channels ?? null,
    };
    if (csv.channels !== undefined && csv.channels.length === 0) throw new EnoseError('bad-option', 'csv.channels must not be empty');
    this.csvChannels = this.csvOptions.channels;
    this.decoder = this.protocol === 'enl' ? createDecoder(options.holdBackMs === undefined ? {} : { holdBackMs: options.holdBackMs }) : null;
    this.infoRequests = new InfoRequests();
    this.infoOnOpen = options.infoOnOpen ?? true;
    this.description = `serial:${this.path}`;
  }

  stats(): SerialSourceStats {
    const csv = this.csvDecoder ? addCsv(this.csvTotals, this.csvDecoder.counters()) : this.csvTotals;
    return {
      state: this.state,
      ...this.counts,
      decoder: this.decoder ? this.decoder.counters() : null,
      csv: this.protocol === 'csv' ? csv : null,
    };
  }

  async run(emit: (event: SourceEvent) => void, signal: AbortSignal): Promise<void> {
    if (this.running) throw new EnoseError('bad-usage', `${this.description}: run() called while the source is already running`);
    this.running = true;
    const runs = new IssueRuns(emit);
    this.issueRuns = runs;
    this.emitFn = (event) => runs.push(event);
    try {
      let first = true;
      let attempt = 0;
      while (!signal.aborted) {
        if (!first) {
          const delay = Math.min(this.maxDelayMs, this.initialDelayMs * 2 ** Math.min(attempt, 30));
          attempt++;
          this.setState('reconnecting', `try ${attempt} in ${Math.round(delay)} ms`, performance.now());
          if (!(await sleep(delay, signal))) break;
        }
        let port: SerialPortLike;
        try {
          port = await this.open(signal);
        } catch (error) {
          if (signal.aborted) break;
          if (first) throw new EnoseError('port-error', `cannot open ${this.path}: ${describePortError(error)}`, { cause: error });
          this.counts.openFailures++;
          continue;
        }
        first = false;
        attempt = 0;
        await this.session(port, signal);
      }
    } finally {
      runs.flush();
      this.running = false;
      this.emitFn = null;
      this.port = null;
      this.connected = false;
      this.state = 'idle';
    }
  }

  async send(command: RigCommand): Promise<void> {
    if (this.protocol === 'csv') {
      this.csvCommand(command);
      return;
    }
    const line = encodeCommand(command); // throws bad-usage for an id the protocol cannot carry
    const port = this.port;
    if (port === null || !this.connected) throw new EnoseError('port-error', `${this.path} is not connected: ${command.command} not sent`);
    if (command.command === 'INFO') this.decoder!.infoRequested(performance.now());
    this.counts.commandsSent++;
    await writeAndDrain(port, line).catch((error: unknown) => {
      throw new EnoseError('port-error', `writing ${command.command} to ${this.path} failed: ${describePortError(error)}`, { cause: error });
    });
  }

  // -------------------------------------------------------------------------------------------------------
  // Opening and one connected session

  private open(signal: AbortSignal): Promise<SerialPortLike> {
    const port = this.openPort({ path: this.path, baudRate: this.baudRate });
    return new Promise<SerialPortLike>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        reject(new Error(`open did not finish within ${this.openTimeoutMs} ms`));
        if (port.isOpen) port.close(() => undefined);
      }, this.openTimeoutMs);
      const onAbort = (): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(new Error('aborted'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      // Without a listener an 'error' event would crash the process; errors are handled through callbacks and 'close'.
      port.on('error', () => undefined);
      port.open((error) => {
        if (settled) {
          if (!error && port.isOpen) port.close(() => undefined);
          return;
        }
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve(port);
      });
    });
  }

  /** Runs one connection: resolves when the port has closed (unplugged, or closed by an abort). */
  private session(port: SerialPortLike, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      let closed = false;
      let poll: ReturnType<typeof setInterval> | null = null;
      let watchdog: ReturnType<typeof setInterval> | null = null;
      let silence: Error | null = null;
      let hungUp: Error | null = null;
      const onAbort = (): void => {
        if (port.isOpen) port.close(() => undefined);
        else finish(null);
      };
      const finish = (error: Error | null): void => {
        if (closed) return;
        closed = true;
        if (poll !== null) clearInterval(poll);
        if (watchdog !== null) clearInterval(watchdog);
        signal.removeEventListener('abort', onAbort);
        port.removeAllListeners('data');
        port.removeAllListeners('end');
        port.removeAllListeners('close');
        const wasConnected = this.connected;
        this.connected = false;
        this.port = null;
        if (!signal.aborted && wasConnected) this.onDisconnect(hungUp ?? silence ?? error);
        else if (!signal.aborted) this.counts.openFailures++; // closed while flushing: tried again like a failed open
        resolve();
      };
      // 'close' first: a port unplugged during the flush must not leave this promise pending.
      port.on('close', (error: Error | null | undefined) => finish(error ?? null));
      signal.addEventListener('abort', onAbort, { once: true });
      if (signal.aborted) {
        onAbort();
        return;
      }
      port.flush(() => {
        if (closed) return;
        if (!port.isOpen) {
          finish(null);
          return;
        }
        this.port = port;
        this.connected = true;
        this.counts.connects++;
        this.skipFirst = this.protocol === 'enl' ? 1 : 2;
        this.firstLine = [];
        if (this.decoder) {
          this.decoder.reset();
          if (this.lastSeq >= 0 && this.lastInfo !== null) this.bridgeFrom = { seq: this.lastSeq, info: this.lastInfo };
          this.lastSeq = -1;
        } else {
          this.csvDecoder = createCsvDecoder(this.csvChannels === null ? {} : { channels: this.csvChannels });
          this.csvCycleStartMs = null;
        }
        const at = performance.now();
        this.setState('connected', this.path, at);
        this.infoRequests.reset();
        if (this.decoder !== null && this.infoOnOpen) this.requestInfo(at);
        if (this.protocol === 'csv' && this.csvChannels !== null) this.csvInfo(this.csvChannels, at, false);
        port.on('data', (chunk: Buffer) => this.onChunk(chunk));
        // A read of 0 bytes (a pty whose other end went away, at times) ends the stream without a 'close'.
        port.on('end', () => {
          if (port.isOpen) port.close(() => undefined);
        });
        this.lastByteAtMs = at;
        if (this.silenceTimeoutMs > 0) {
          watchdog = setInterval(() => {
            const rateHz = this.decoder?.info?.rateHz ?? (this.protocol === 'csv' ? this.csvOptions.rateHz : 0);
            const limitMs = Math.max(this.silenceTimeoutMs, rateHz > 0 ? 20_000 / rateHz : 0);
            const quietMs = performance.now() - this.lastByteAtMs;
            if (quietMs >= limitMs && silence === null && port.isOpen) {
              silence = new Error(`no bytes for ${Math.round(quietMs)} ms: the port is reopened`);
              port.close(() => undefined);
            }
          }, Math.min(1000, Math.max(50, this.silenceTimeoutMs / 4)));
        }
        const decoder = this.decoder;
        poll = setInterval(() => {
          if (!this.connected) return;
          this.issueRuns?.flushDue(performance.now());
          if (hungUp === null && isHungUp(port)) {
            hungUp = new Error('the device went away (hung up)');
            port.close(() => undefined);
            return;
          }
          if (decoder !== null) {
            const now = performance.now();
            this.deliverAll(decoder.poll(now), now);
          }
        }, this.pollMs);
      });
    });
  }

  private onDisconnect(error: Error | null): void {
    const at = performance.now();
    this.counts.disconnects++;
    if (this.decoder) {
      // The end of this stream: a line cut in half is reported, held frames time out as no-info.
      this.deliverAll(this.decoder.end(at), at);
    } else if (this.csvDecoder) {
      // A cut csv line is not decoded (no checksum could tell a cut number from a whole one).
      this.csvTotals = addCsv(this.csvTotals, this.csvDecoder.counters());
      this.csvChannels = this.csvDecoder.channels ?? this.csvChannels;
      this.csvDecoder = null;
      this.csvCycleStartMs = null;
    }
    this.setState('disconnected', error ? describePortError(error) : 'port closed', at);
  }

  private setState(state: LinkState, detail: string, atMs: number): void {
    this.state = state;
    this.emitFn?.({ type: 'state', atMs, state, detail });
  }

  private requestInfo(atMs: number): void {
    const port = this.port;
    if (port === null || !this.connected) return;
    this.infoRequests.sent(atMs);
    this.decoder!.infoRequested(atMs);
    this.counts.commandsSent++;
    writeAndDrain(port, encodeCommand({ command: 'INFO' })).catch(() => undefined); // a failed write shows as a close
  }

  // -------------------------------------------------------------------------------------------------------
  // Bytes in

  private onChunk(chunk: Buffer): void {
    const atMs = performance.now();
    this.lastByteAtMs = atMs;
    this.counts.bytesIn += chunk.length;
    let data: Buffer = chunk;
    if (this.skipFirst === 1) {
      // enl: a first line holding a '$' is kept (the codec ignores bytes before it); one without is a stale tail.
      let i = 0;
      while (i < data.length && data[i] !== DOLLAR && data[i] !== NEWLINE) i++;
      if (i === data.length) {
        this.counts.bytesDropped += data.length;
        return;
      }
      this.skipFirst = 0;
      if (data[i] === NEWLINE) {
        this.counts.bytesDropped += i + 1;
        data = data.subarray(i + 1);
      }
    } else if (this.skipFirst === 2) {
      // csv: the first line is kept only when it is a header; a data line may be a stale tail.
      let i = 0;
      while (i < data.length && data[i] !== NEWLINE) i++;
      for (let k = 0; k < i && this.firstLine.length < MAX_FIRST_LINE; k++) this.firstLine.push(data[k]!);
      if (i === data.length) return;
      this.skipFirst = 0;
      const text = Buffer.from(this.firstLine).toString('latin1');
      this.firstLine = [];
      const rest = data.subarray(i + 1);
      if (looksLikeHeader(text)) {
        data = Buffer.concat([Buffer.from(`${text}\n`, 'latin1'), rest]);
      } else {
        this.counts.bytesDropped += Buffer.byteLength(text, 'latin1') + 1;
        data = rest;
      }
    }
    if (data.length === 0) return;
    if (this.decoder) this.deliverAll(this.decoder.push(data, atMs), atMs);
    else if (this.csvDecoder) this.deliverCsv(this.csvDecoder.push(data), atMs);
  }

  private deliverAll(outputs: readonly DecoderOutput[], atMs: number): void {
    for (let i = 0; i < outputs.length; i++) this.deliver(outputs[i]!, atMs);
  }

  private deliver(out: DecoderOutput, atMs: number): void {
    const emit = this.emitFn;
    if (emit === null) return;
    switch (out.type) {
      case 'frame': {
        const f = out.frame;
        const bridge = this.bridgeFrom;
        if (bridge !== null) {
          this.bridgeFrom = null;
          const info = this.decoder!.info;
          const delta = (f.seq - bridge.seq) >>> 0;
          if (info !== null && sameRigInfo(info, bridge.info) && delta > 1 && delta < 0x80000000) {
            const lost = delta - 1;
            this.counts.bridgedGaps++;
            this.counts.bridgedLostFrames += lost;
            emit({ type: 'gap', atMs, fromSeq: (bridge.seq + 1) >>> 0, toSeq: (f.seq - 1) >>> 0, lost });
          }
        }
        this.lastSeq = f.seq;
        this.counts.framesDelivered++;
        emit({ type: 'frame', atMs, seq: f.seq, tMs: f.tMs, phase: f.phase, values: f.values });
        return;
      }
      case 'info': {
        const { deliver, reboot, rearm } = this.infoRequests.onInfo(out.info, atMs);
        if (rearm) this.decoder!.infoRequested(atMs);
        if (reboot) {
          this.bridgeFrom = null;
          emit({ type: 'reboot', atMs });
        }
        if (!deliver) return; // the same line again, answering a repeated INFO
        this.lastInfo = out.info;
        emit({ type: 'info', atMs, ...out.info });
        return;
      }
      case 'reboot':
        if (!this.infoRequests.onReboot(atMs)) return; // held: it may be the answer to a second INFO (infoRequests.ts)
        this.bridgeFrom = null; // a restarted rig's seq says nothing about what was lost
        emit({ type: 'reboot', atMs });
        return;
      case 'gap':
        emit({ type: 'gap', atMs, fromSeq: out.fromSeq, toSeq: out.toSeq, lost: out.lost });
        return;
      case 'issue':
        emit({ type: 'issue', atMs, kind: out.kind, line: out.line, detail: out.detail });
        return;
      case 'ack':
        emit({ type: 'ack', atMs, command: out.ack.command, ok: out.ack.ok, detail: out.ack.detail ?? '' });
        return;
      case 'need-info':
        this.requestInfo(atMs);
        return;
      case 'command':
        return; // a host-to-rig line coming back (an echoing adapter): not ours to act on
    }
  }

  // -------------------------------------------------------------------------------------------------------
  // Plain csv mode

  private deliverCsv(outputs: readonly CsvOutput[], atMs: number): void {
    const emit = this.emitFn;
    if (emit === null) return;
    for (const out of outputs) {
      switch (out.type) {
        case 'header':
          this.csvChannels = out.channels;
          this.csvInfo(out.channels, atMs, true);
          break;
        case 'values': {
          const seq = this.csvSeq;
          this.csvSeq = (this.csvSeq + 1) % UINT32;
          this.counts.framesDelivered++;
          emit({ type: 'frame', atMs, seq, tMs: Math.round(atMs) % UINT32, phase: this.csvPhase(atMs), values: out.values });
          break;
        }
        case 'issue':
          emit({ type: 'issue', atMs, kind: out.kind, line: out.line, detail: out.detail });
          break;
      }
    }
  }

  /** The made-up info of a csv rig; a header line after data had flowed means the rig restarted. */
  private csvInfo(channels: readonly string[], atMs: number, fromHeader: boolean): void {
    const emit = this.emitFn;
    if (emit === null) return;
    if (fromHeader && this.csvInfoSent !== null && this.connected && this.counts.framesDelivered > 0) {
      this.csvCycleStartMs = null;
      emit({ type: 'reboot', atMs });
    }
    this.csvInfoSent = channels;
    const o = this.csvOptions;
    emit({ type: 'info', atMs, proto: 'csv', rig: `csv:${this.path}`, fw: 'csv', rateHz: o.rateHz, unit: o.unit, channels: [...channels] });
  }

  private csvPhase(atMs: number): Phase {
    const start = this.csvCycleStartMs;
    if (start === null) return 'I';
    const o = this.csvOptions;
    const s = (atMs - start) / 1000;
    if (s < o.baselineS) return 'B';
    if (s < o.baselineS + o.exposureS) return 'E';
    if (s < o.baselineS + o.exposureS + o.recoveryS) return 'R';
    this.csvCycleStartMs = null;
    return 'I';
  }

  private csvCommand(command: RigCommand): void {
    encodeCommand(command); // the same validation as enl mode
    const emit = this.emitFn;
    if (emit === null || !this.connected) throw new EnoseError('port-error', `${this.path} is not connected: ${command.command} not sent`);
    const atMs = performance.now();
    this.counts.commandsSent++;
    switch (command.command) {
      case 'START':
        if (this.csvCycleStartMs !== null && this.csvPhase(atMs) !== 'I') {
          emit({ type: 'ack', atMs, command: 'START', ok: false, detail: 'busy' });
          return;
        }
        this.csvCycleStartMs = atMs;
        emit({ type: 'ack', atMs, command: 'START', ok: true, detail: 'host-timed' });
        return;
      case 'STOP':
        this.csvCycleStartMs = null;
        emit({ type: 'ack', atMs, command: 'STOP', ok: true, detail: 'host-timed' });
        return;
      case 'INFO':
        return; // nothing to ask a csv rig; its info is made up from the header
    }
  }
}

const NO_BYTES = Buffer.alloc(0);

/**
 * True when the port's device has hung up: a zero-byte write, a no-op on a live tty, fails with EIO on one
 * whose other end went away. Needed because after a hang-up the poller that serialport's pending read waits
 * on is not always woken (seen on Linux ptys when socat dies: no 'close', no 'end', for ever), while a read
 * would return 0 and a write EIO. Ports without a file descriptor (mocks, Windows) are never hung up here.
 */
function isHungUp(port: SerialPortLike): boolean {
  const fd = (port.port as { readonly fd?: unknown } | null | undefined)?.fd;
  if (typeof fd !== 'number' || fd < 0) return false;
  try {
    writeSync(fd, NO_BYTES, 0, 0);
    return false;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'EIO' || code === 'ENXIO' || code === 'ENODEV';
  }
}

function looksLikeHeader(text: string): boolean {
  const fields = text.replace(/\r$/, '').split(',').map((f) => f.trim());
  return fields.length > 0 && fields.every((f) => /^[A-Za-z_][A-Za-z0-9_.-]*$/.test(f));
}

function addCsv(a: CsvCounters, b: CsvCounters): CsvCounters {
  return {
    lines: a.lines + b.lines,
    frames: a.frames + b.frames,
    issues: {
      'too-long': a.issues['too-long'] + b.issues['too-long'],
      malformed: a.issues.malformed + b.issues.malformed,
      'wrong-channel-count': a.issues['wrong-channel-count'] + b.issues['wrong-channel-count'],
    },
  };
}

/**
 * Writes and then waits for the OS to transmit (tcdrain). The write's own callback decides success: a drain
 * that fails afterwards (the port closed meanwhile) does not unsend what the OS already took.
 */
function writeAndDrain(port: SerialPortLike, data: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    port.write(data, (error) => {
      if (error) reject(error);
      else if (!port.isOpen) resolve();
      else port.drain(() => resolve());
    });
  });
}

/** Sleeps; resolves false when the signal aborted first. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    if (signal.aborted) {
      resolve(false);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

// ---------------------------------------------------------------------------------------------------------
// Listing ports and `--port auto`

/** A serial port as `enose ports` shows it. USB ids are 4 lower-case hex digits, null when unknown. */
export interface SerialPortInfo {
  readonly path: string;
  readonly manufacturer: string | null;
  readonly vendorId: string | null;
  readonly productId: string | null;
  readonly serialNumber: string | null;
  /** How the port was found: serialport's udev listing, or the fallback scan of /dev and sysfs. */
  readonly via: 'serialport' | 'scan';
}

export interface ListPortsOptions {
  /** @default SerialPort.list */
  readonly list?: () => Promise<readonly { path: string; manufacturer?: string | undefined; vendorId?: string | undefined; productId?: string | undefined; serialNumber?: string | undefined }[]>;
  /** Where the fallback scan looks. @default '/dev' */
  readonly devDir?: string;
  /** @default '/sys/class/tty' */
  readonly sysTtyDir?: string;
}

/**
 * The serial ports of this machine. `SerialPort.list()` needs `udevadm` on Linux and throws `spawn udevadm
 * ENOENT` where udev is absent (containers): the fallback then scans `/dev/ttyUSB*` and `/dev/ttyACM*` and
 * reads their USB ids from sysfs.
 */
export async function listPorts(options: ListPortsOptions = {}): Promise<SerialPortInfo[]> {
  const list = options.list ?? (() => SerialPort.list());
  try {
    const ports = await list();
    return ports.map((p) => ({
      path: p.path,
      manufacturer: p.manufacturer ?? null,
      vendorId: normaliseId(p.vendorId),
      productId: normaliseId(p.productId),
      serialNumber: p.serialNumber ?? null,
      via: 'serialport' as const,
    }));
  } catch {
    return scanPorts(options.devDir ?? '/dev', options.sysTtyDir ?? '/sys/class/tty');
  }
}

function normaliseId(id: string | undefined | null): string | null {
  if (id === undefined || id === null || id === '') return null;
  const t = id.trim().toLowerCase().replace(/^0x/, '');
  return /^[0-9a-f]{1,4}$/.test(t) ? t.padStart(4, '0') : null;
}

async function scanPorts(devDir: string, sysTtyDir: string): Promise<SerialPortInfo[]> {
  let names: string[];
  try {
    names = await readdir(devDir);
  } catch {
    return [];
  }
  const ttys = names.filter((n) => /^tty(USB|ACM)\d+$/.test(n)).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const out: SerialPortInfo[] = [];
  for (const name of ttys) {
    const usb = await usbAttributes(join(sysTtyDir, name, 'device'));
    out.push({ path: join(devDir, name), ...usb, via: 'scan' });
  }
  return out;
}

/** Walks up from the tty's sysfs device to the USB device that holds idVendor/idProduct. */
async function usbAttributes(deviceLink: string): Promise<Pick<SerialPortInfo, 'manufacturer' | 'vendorId' | 'productId' | 'serialNumber'>> {
  const none = { manufacturer: null, vendorId: null, productId: null, serialNumber: null };
  let dir: string;
  try {
    dir = await realpath(deviceLink);
  } catch {
    return none;
  }
  const read = async (file: string): Promise<string | null> => {
    try {
      return (await readFile(join(dir, file), 'utf8')).trim() || null;
    } catch {
      return null;
    }
  };
  for (let up = 0; up < 5 && dir !== '/' && dir !== '.'; up++) {
    const vendor = await read('idVendor');
    if (vendor !== null) {
      return { manufacturer: await read('manufacturer'), vendorId: normaliseId(vendor), productId: normaliseId((await read('idProduct')) ?? undefined), serialNumber: await read('serial') };
    }
    dir = join(dir, '..');
  }
  return none;
}

/** A USB id to match; `productId` null matches any product of the vendor. */
export interface UsbId {
  readonly vendorId: string;
  readonly productId: string | null;
}

/** Common USB-serial chips of Arduino-class rigs: Arduino (any product), CH340, FTDI FT232R, CP210x. */
export const DEFAULT_RIG_IDS: readonly UsbId[] = Object.freeze([
  { vendorId: '2341', productId: null },
  { vendorId: '1a86', productId: '7523' },
  { vendorId: '0403', productId: '6001' },
  { vendorId: '10c4', productId: 'ea60' },
]);

/** Parses `vvvv:pppp,vvvv,...` (as in ENOSE_RIG_IDS; `vvvv` or `vvvv:*` matches any product). */
export function parseRigIds(text: string, origin = 'ENOSE_RIG_IDS'): UsbId[] {
  const ids: UsbId[] = [];
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    const m = /^([0-9a-fA-F]{4})(?::([0-9a-fA-F]{4}|\*))?$/.exec(item);
    if (!m) throw new EnoseError('bad-option', `${origin}: "${item}" is not a USB id of the form vvvv:pppp (4 hex digits each) or vvvv`);
    ids.push({ vendorId: m[1]!.toLowerCase(), productId: m[2] === undefined || m[2] === '*' ? null : m[2].toLowerCase() });
  }
  if (ids.length === 0) throw new EnoseError('bad-option', `${origin} holds no USB id`);
  return ids;
}

/** The rig ids in force: ENOSE_RIG_IDS when set, else DEFAULT_RIG_IDS. */
export function configuredRigIds(env: Readonly<Record<string, string | undefined>> = process.env): readonly UsbId[] {
  const text = env['ENOSE_RIG_IDS'];
  return text === undefined || text.trim() === '' ? DEFAULT_RIG_IDS : parseRigIds(text);
}

export function formatUsbId(port: Pick<SerialPortInfo, 'vendorId' | 'productId'>): string {
  return port.vendorId === null ? 'no USB ids' : `${port.vendorId}:${port.productId ?? '????'}`;
}

export function matchesRigIds(port: Pick<SerialPortInfo, 'vendorId' | 'productId'>, ids: readonly UsbId[]): boolean {
  return ids.some((id) => port.vendorId === id.vendorId && (id.productId === null || port.productId === id.productId));
}

/** The one port whose USB ids match; none or several: `EnoseError('port-error')` naming the candidates. */
export function pickRigPort(ports: readonly SerialPortInfo[], ids: readonly UsbId[]): SerialPortInfo {
  const matches = ports.filter((p) => matchesRigIds(p, ids));
  const wanted = ids.map((id) => `${id.vendorId}:${id.productId ?? '*'}`).join(', ');
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) {
    const seen = ports.length === 0 ? 'no serial ports found' : `ports seen: ${ports.map((p) => `${p.path} (${formatUsbId(p)})`).join(', ')}`;
    throw new EnoseError('port-error', `--port auto: no port matches the rig ids ${wanted} (${seen}); give --port <path> or set ENOSE_RIG_IDS`);
  }
  throw new EnoseError('port-error', `--port auto: ${matches.length} ports match the rig ids: ${matches.map((p) => `${p.path} (${formatUsbId(p)})`).join(', ')}; give --port <path>`);
}

/** `--port auto`: lists the ports and picks the one rig whose ids match `knownIds` (default: `configuredRigIds()`). */
export async function resolveAutoPort(knownIds?: readonly UsbId[], options: ListPortsOptions = {}): Promise<SerialPortInfo> {
  return pickRigPort(await listPorts(options), knownIds ?? configuredRigIds());
}
