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
 *   then idle frames; `STOP` gets `OK` and aborts to idle; `END` gets `OK` in a cycle (exposure cut, recovery
 *   ended once clean: rigCycles.ts, rigRecovery.ts) and `ERR,idle` outside one, or `ERR,unknown-command` with
 *   `endCommand: false` (a rig from before END); an unknown command word gets `ERR,unknown-command`; lines that
 *   fail their checks get `$ENA,?,ERR,<kind>`.
 *   With `autoCycle` it runs the cycles on its own, `idleS` of idle frames before each, and ends after the
 *   last one.
 * - Pacing: frame k is due `k / (rateHz * speed)` seconds after the start (a drift-free schedule; each timer
 *   tick writes every frame that is due, in one write). `speed: 'max'` writes as fast as the link drains.
 *   Frames carry `seq` (from `firstSeq`, +1 a frame, uint32) and `t_ms` = rig time (frame index / rateHz,
 *   not wall time, so that a compressed run looks like a real-time one to the host).
 * - Faults (seeded, each counted in the report): see `rigFaults.ts` for each kind and what it touches.
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
import { existsSync, type WriteStream } from 'node:fs';
import { EnoseError } from '../errors.js';
import { createDecoder, encodeFrame, encodeInfo, type Enl1Decoder } from './protocol.js';
import { answerHostLine, type CommandedRig } from './rigCommands.js';
import { createPtyPair, type PtyPair } from './ptyPair.js';
import { LineFaults, lineHash, noFaultsInjected, type FaultKind, type FaultSpec } from './rigFaults.js';
import { closeLink, openRigLink, written, type FdWriter, type RigLink } from './rigLink.js';
import { RigCycles } from './rigCycles.js';
import type { ScriptFrame } from './rigScript.js';
import { openLog, type EmulatorOptions, type EmulatorReport } from './emulatorOptions.js';

export type { RigScript, ScriptCycle, ScriptFrame } from './rigScript.js';
export { EVENT_FAULTS, RATE_FAULTS, lineHash, parseFaultSpecs, type EventFaultKind, type FaultKind, type FaultSpec, type RateFaultKind } from './rigFaults.js';
export { createPtyPair, type PtyPair } from './ptyPair.js';
export type { EmulatorOptions, EmulatorReport } from './emulatorOptions.js';

// ---------------------------------------------------------------------------------------------------------
// The emulator

/** Pending bytes beyond which a paced rig drops frames (a host that does not read: a real UART drops them too). */
const MAX_PENDING_BYTES = 1 << 20;
const MAX_BATCH_PACED = 1000;
const MAX_BATCH_MAX = 64;
const LINK_POLL_MS = 100;
/** How long the end waits for queued bytes to reach the OS (a host that does not read never takes them). */
const SHUTDOWN_WAIT_MS = 1000;

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
  private readonly onDisconnect: 'exit' | 'wait';
  private readonly faults: LineFaults;
  /** Event faults by frame index. */
  private readonly at = new Map<number, FaultSpec[]>();

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

  private readonly cycles: RigCycles;
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
    cyclesEnded: 0,
    corruptedLines: 0,
    bitsFlipped: 0,
    bytesDropped: 0,
    garbageBytes: 0,
  };
  private readonly injected: Record<FaultKind, number> = noFaultsInjected();
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
    const idleFrames = Math.round(idleS * options.rateHz);
    this.onDisconnect = options.onDisconnect ?? 'exit';
    const firstSeq = options.firstSeq ?? 0;
    if (!Number.isInteger(firstSeq) || firstSeq < 0 || firstSeq > 0xffffffff) throw new EnoseError('bad-option', `first seq must be a uint32, got ${firstSeq}`);
    this.seq = firstSeq;
    const seed = options.faultSeed ?? 1;
    this.faults = new LineFaults(options.faults ?? [], seed, this.injected, this.counts);
    for (const f of options.faults ?? []) {
      if ('rate' in f) continue;
      const list = this.at.get(f.frame) ?? [];
      list.push(f);
      this.at.set(f.frame, list);
    }
    const idleValues = options.script.idleValues;
    if (idleValues.length !== options.script.channels.length) {
      throw new EnoseError('bad-usage', `idle values have ${idleValues.length} entries for ${options.script.channels.length} channels`);
    }
    this.cycles = new RigCycles(options.script, idleFrames, options.autoCycle, this.counts, options.log, options.rateHz);
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

  /** Opens the rig end (see `openRigLink`) and listens to the host's commands on it. */
  private async openLink(path: string): Promise<void> {
    const link = await openRigLink(path, (lost) => this.onLinkClosed(lost));
    const reader = link.reader;
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
      const answer = answerHostLine(out, this.commandedRig);
      if (answer !== null) this.writeLine(answer);
    }
  }

  private get commandedRig(): CommandedRig {
    const o = this.o;
    return { cycles: this.cycles, script: o.script, info: this.info, endCommand: o.endCommand ?? true, slot: this.slot, commands: this.commands, log: o.log };
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
            this.cycles.abort();
          } else if (f.kind === 'clock-jump') {
            this.injected['clock-jump']++;
            this.tOffsetMs += f.ms;
          }
        }
        if (stop) break;
      }
      const content = this.cycles.next(this.slot);
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

  /** Encodes one frame, applies the faults, and queues its bytes (or counts it unsent). */
  private produce(content: ScriptFrame, chunks: Buffer[], seqs: number[]): void {
    const rates = this.faults.rates;
    if (this.faults.rng['skip-seq'].chance(rates['skip-seq'])) {
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
    const bytes = this.faults.corrupt(line, kinds);
    const repeat = this.faults.rng['repeat-seq'].chance(rates['repeat-seq']);
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
    const data = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
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

}
