/**
 * A rig on a serial port as a `FrameSource`, through the real `serialport` package.
 *
 * - Opens the port (path, baud rate), discards what the OS buffered before (`flush`) and a first line that is
 *   not a complete valid one (socat and USB adapters can hold stale bytes; src/io/firstLine.ts).
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
import { SerialPort } from 'serialport';
import { CycleEnder, endIssue, type CycleEndResult } from './cycleEnd.js';
import { FirstLineGate } from './firstLine.js';
import { InfoRequests } from './infoRequests.js';
import { IssueRuns } from './issueRuns.js';
import { EnoseError } from '../errors.js';
import { sameRigInfo, type LinkState, type RigCommand, type RigInfo, type SourceEvent } from '../types.js';
import { createDecoder, encodeCommand, type DecoderOutput, type Enl1Decoder } from './protocol.js';
import { SerialCsvMode, looksLikeHeader } from './serialCsv.js';
import { describePortError, isHungUp, sleep, writeAndDrain } from './serialPortIo.js';
import { positiveNumber, type PortFactory, type SerialPortLike, type SerialProtocol, type SerialSource, type SerialSourceOptions, type SerialSourceStats } from './serialSourceOptions.js';

export type { CsvModeOptions, PortFactory, SerialPortLike, SerialProtocol, SerialSource, SerialSourceOptions, SerialSourceStats } from './serialSourceOptions.js';
export { describePortError } from './serialPortIo.js';
export {
  DEFAULT_RIG_IDS,
  configuredRigIds,
  formatUsbId,
  listPorts,
  matchesRigIds,
  parseRigIds,
  pickRigPort,
  resolveAutoPort,
  type ListPortsOptions,
  type SerialPortInfo,
  type UsbId,
} from './serialPorts.js';

const DEFAULT_BAUD = 115200;
const NEWLINE = 0x0a;
/** Longest first line kept in csv mode while deciding whether it is a header. */
const MAX_FIRST_LINE = 4096;

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

  private readonly decoder: Enl1Decoder | null;
  private readonly infoRequests: InfoRequests;
  private readonly infoOnOpen: boolean;
  private issueRuns: IssueRuns | null = null;
  private readonly csv: SerialCsvMode;
  private readonly ends: CycleEnder;

  // emitFn, connected and counts are read by the csv mode (CsvHost).
  emitFn: ((event: SourceEvent) => void) | null = null;
  private port: SerialPortLike | null = null;
  connected = false;
  private running = false;
  private state: LinkState | 'idle' = 'idle';
  /** Dropping the stale first line after an open: 0 no, 2 csv: collecting it (enl: firstEnl). */
  private skipFirst = 0;
  private readonly firstEnl = new FirstLineGate();
  private firstLine: number[] = [];
  /** Last accepted frame and the info it came under, kept across a disconnect to bridge the gap. */
  private lastSeq = -1;
  private lastInfo: RigInfo | null = null;
  private bridgeFrom: { seq: number; info: RigInfo } | null = null;

  counts = { connects: 0, disconnects: 0, openFailures: 0, bytesIn: 0, bytesDropped: 0, framesDelivered: 0, commandsSent: 0, bridgedGaps: 0, bridgedLostFrames: 0 };

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
    this.csv = new SerialCsvMode(options.csv ?? {}, this);
    this.decoder = this.protocol === 'enl' ? createDecoder(options.holdBackMs === undefined ? {} : { holdBackMs: options.holdBackMs }) : null;
    this.infoRequests = new InfoRequests();
    this.infoOnOpen = options.infoOnOpen ?? true;
    this.ends = new CycleEnder(positiveNumber('endTimeoutMs', options.endTimeoutMs, 2000));
    this.description = `serial:${this.path}`;
  }

  stats(): SerialSourceStats {
    const csv = this.csv.counters();
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
      this.csv.command(command);
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

  get endSupported(): boolean | null {
    return this.protocol === 'csv' ? false : this.ends.supported;
  }

  /** END to the rig, resolved on its ack as a typed result (src/io/cycleEnd.ts); throws only for a reason the protocol cannot carry. */
  endCycle(reason: string): Promise<CycleEndResult> {
    const line = encodeCommand({ command: 'END', reason });
    if (this.protocol === 'csv') return Promise.resolve(endIssue('unsupported', 'a csv rig takes no commands: it runs full cycles'));
    const port = this.port;
    if (port === null || !this.connected) return Promise.resolve(endIssue('not-connected', `${this.path} is not connected: END not sent`));
    return this.ends.begin(reason, () => {
      this.counts.commandsSent++;
      return writeAndDrain(port, line);
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
        this.skipFirst = this.protocol === 'enl' ? 0 : 2;
        if (this.protocol === 'enl') this.firstEnl.arm();
        this.firstLine = [];
        if (this.decoder) {
          this.decoder.reset();
          if (this.lastSeq >= 0 && this.lastInfo !== null) this.bridgeFrom = { seq: this.lastSeq, info: this.lastInfo };
          this.lastSeq = -1;
        } else {
          this.csv.connect();
        }
        const at = performance.now();
        this.setState('connected', this.path, at);
        this.infoRequests.reset();
        this.ends.forget();
        if (this.decoder !== null && this.infoOnOpen) this.requestInfo(at);
        if (this.protocol === 'csv' && this.csv.channels !== null) this.csv.info(this.csv.channels, at, false);
        port.on('data', (chunk: Buffer) => this.onChunk(chunk));
        // A read of 0 bytes (a pty whose other end went away, at times) ends the stream without a 'close'.
        port.on('end', () => {
          if (port.isOpen) port.close(() => undefined);
        });
        this.lastByteAtMs = at;
        if (this.silenceTimeoutMs > 0) {
          watchdog = setInterval(() => {
            const rateHz = this.decoder?.info?.rateHz ?? (this.protocol === 'csv' ? this.csv.options.rateHz : 0);
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
    this.ends.disconnected();
    if (this.decoder) {
      // The end of this stream: a line cut in half is reported, held frames time out as no-info.
      this.deliverAll(this.decoder.end(at), at);
    } else {
      this.csv.disconnect();
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
    if (this.firstEnl.active) {
      // enl: the first line is passed on only when it is a complete valid line (firstLine.ts).
      const dropped = this.firstEnl.dropped;
      const passed = this.firstEnl.take(data);
      this.counts.bytesDropped += this.firstEnl.dropped - dropped;
      if (passed === null) return;
      data = passed;
    } else if (this.skipFirst === 2) {
      // csv: the first line is kept only when it is a header; a data line may be a stale tail.
      let i = 0;
      while (i < data.length && data[i] !== NEWLINE) i++;
      for (let k = 0; k < i && this.firstLine.length < MAX_FIRST_LINE; k++) this.firstLine.push(data[k]);
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
    else if (this.csv.decoder) this.csv.deliver(this.csv.decoder.push(data), atMs);
  }

  private deliverAll(outputs: readonly DecoderOutput[], atMs: number): void {
    for (let i = 0; i < outputs.length; i++) this.deliver(outputs[i], atMs);
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
        this.ends.frame(f.seq, f.phase);
        this.counts.framesDelivered++;
        emit({ type: 'frame', atMs, seq: f.seq, tMs: f.tMs, phase: f.phase, values: f.values });
        return;
      }
      case 'info': {
        const { deliver, reboot, rearm } = this.infoRequests.onInfo(out.info, atMs);
        if (rearm) this.decoder!.infoRequested(atMs);
        if (reboot) {
          this.bridgeFrom = null;
          this.ends.forget();
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
        this.ends.forget();
        emit({ type: 'reboot', atMs });
        return;
      case 'gap':
        emit({ type: 'gap', atMs, fromSeq: out.fromSeq, toSeq: out.toSeq, lost: out.lost });
        return;
      case 'issue':
        emit({ type: 'issue', atMs, kind: out.kind, line: out.line, detail: out.detail });
        return;
      case 'ack':
        this.ends.onAck(out.ack.command, out.ack.ok, out.ack.detail ?? '', atMs);
        emit({ type: 'ack', atMs, command: out.ack.command, ok: out.ack.ok, detail: out.ack.detail ?? '' });
        return;
      case 'need-info':
        this.requestInfo(atMs);
        return;
      case 'command':
        return; // a host-to-rig line coming back (an echoing adapter): not ours to act on
    }
  }
}
