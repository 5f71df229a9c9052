/**
 * The streaming ENL/1 decoder, one per link: lines from the splitter, messages from the parser, then the
 * link's state (the info line, trust, sequence, held frames) and counters. Pure: the caller passes the time.
 */

import { EnoseError } from '../../errors.js';
import { sameRigInfo, type Frame, type RigCommand, type RigInfo } from '../../types.js';
import { MAX_LINE_BYTES, type Ack, type IssueKind } from './enl1.js';
import { LineParser } from './lineParser.js';
import { LineSplitter, type LineSink } from './lineSplitter.js';
import { RESTART_RUN_FRAMES, RestartRun } from './restartRun.js';
import { excerpt } from './text.js';

export { RESTART_CONFIRM_FRAMES, RESTART_RUN_FRAMES } from './restartRun.js';

/** Default time frames wait for an info line before they are reported as `no-info`. */
export const DEFAULT_HOLD_BACK_MS = 2000;

/** What the streaming decoder reports, in wire order. */
export type DecoderOutput =
  | { readonly type: 'info'; readonly info: RigInfo }
  /** The rig rebooted (an info line again): close any cycle in progress as cut. Comes just before its `info`. */
  | { readonly type: 'reboot'; readonly lastSeq: number | null }
  | { readonly type: 'frame'; readonly frame: Frame }
  /** Frames lost between the last accepted frame and the next one: seqs `fromSeq..toSeq` (uint32, may wrap). */
  | { readonly type: 'gap'; readonly fromSeq: number; readonly toSeq: number; readonly lost: number }
  | { readonly type: 'ack'; readonly ack: Ack }
  | { readonly type: 'command'; readonly command: RigCommand }
  /** Frames are held back for want of a trusted info line: the caller should send INFO (then `infoRequested`). */
  | { readonly type: 'need-info'; readonly reason: 'no-info' | 'restart' }
  | { readonly type: 'issue'; readonly kind: IssueKind; readonly line: string; readonly detail: string };

export interface DecoderCounters {
  /** Non-empty lines seen, valid or not. */
  lines: number;
  infos: number;
  /** Frames accepted. */
  frames: number;
  acks: number;
  commands: number;
  reboots: number;
  gaps: number;
  /** Frames counted lost in gaps. */
  lostFrames: number;
  issues: Record<IssueKind, number>;
}

export interface DecoderOptions {
  /**
   * How long frames wait for an info line before they are reported as `no-info`.
   * @default 2000
   */
  readonly holdBackMs?: number;
  /**
   * At most this many frames are held back; the oldest one beyond is reported as `no-info` at once.
   * @default 1024
   */
  readonly holdBackFrames?: number;
}

export interface Enl1Decoder {
  /** Decodes the lines this chunk completes. Strings are read as latin1 (one character, one byte). */
  push(chunk: Uint8Array | string, nowMs: number): readonly DecoderOutput[];
  /** Times out held frames; call from a timer when no bytes arrive. */
  poll(nowMs: number): readonly DecoderOutput[];
  /** The host sent INFO now: the identical info line arriving within the hold time is an answer, not a reboot. */
  infoRequested(nowMs: number): void;
  /** End of stream: decodes a last unterminated line and reports every held frame as `no-info`. */
  end(nowMs: number): readonly DecoderOutput[];
  /** Forgets info, sequence, partial line and held frames (after a reconnect); counters are kept. */
  reset(): void;
  /** The last info line accepted, or null. */
  readonly info: RigInfo | null;
  /** True while frames are being held back for want of a trusted info line (or while a silent restart is suspected). */
  readonly needsInfo: boolean;
  /** Bytes of an unfinished line buffered now (at most MAX_LINE_BYTES + 1). */
  readonly pendingBytes: number;
  /** A snapshot of the counters. */
  counters(): DecoderCounters;
}

const NO_OUTPUT: readonly DecoderOutput[] = Object.freeze([]);
/**
 * Values of consecutive frames share one ArrayBuffer of SLAB_VALUES doubles (8 KiB), or of SLAB_MIN_FRAMES
 * frames when that is more: on Node 20 an ArrayBuffer costs about 0.4 us (128 doubles) to 0.9 us (1,024
 * doubles) of CPU to allocate and collect, a view on one about 25 ns.
 */
const SLAB_VALUES = 1024;
const SLAB_MIN_FRAMES = 8;

interface HeldFrame {
  readonly frame: Frame;
  readonly text: string;
  readonly atMs: number;
}

function newCounters(): DecoderCounters {
  return {
    lines: 0,
    infos: 0,
    frames: 0,
    acks: 0,
    commands: 0,
    reboots: 0,
    gaps: 0,
    lostFrames: 0,
    issues: { 'too-long': 0, 'bad-checksum': 0, malformed: 0, 'wrong-channel-count': 0, 'repeated-seq': 0, 'no-info': 0 },
  };
}

class StreamDecoder implements Enl1Decoder, LineSink {
  private readonly splitter = new LineSplitter(this);
  private readonly parser = new LineParser();
  private readonly holdBackMs: number;
  private readonly holdBackFrames: number;
  private readonly stats = newCounters();
  private slab = new Float64Array(0);
  private slabUsed = 0;
  /** Outputs of the current call, allocated at the first one (most pushes of a partial line have none). */
  private out: DecoderOutput[] | null = null;
  private nowMs = 0;

  private current: RigInfo | null = null;
  /** False before the first info line: frames are held back. */
  private trusted = false;
  /** Seq of the last accepted frame, -1 for none since the last info line. */
  private lastSeq = -1;
  private held: HeldFrame[] = [];
  private lastNeedInfoMs = -Infinity;
  private infoAnswerUntilMs = -Infinity;
  /** Older frames in a row that count up by one: a silent restart, or stale frames (restartRun.ts). */
  private readonly run = new RestartRun();

  constructor(options: DecoderOptions) {
    this.holdBackMs = options.holdBackMs ?? DEFAULT_HOLD_BACK_MS;
    this.holdBackFrames = options.holdBackFrames ?? 1024;
    if (!(this.holdBackMs >= 0) || !Number.isFinite(this.holdBackMs)) throw new EnoseError('bad-option', `holdBackMs must be >= 0, got ${this.holdBackMs}`);
    if (!Number.isInteger(this.holdBackFrames) || this.holdBackFrames < 1) {
      throw new EnoseError('bad-option', `holdBackFrames must be an integer >= 1, got ${this.holdBackFrames}`);
    }
  }

  get info(): RigInfo | null {
    return this.current;
  }

  get needsInfo(): boolean {
    return !this.trusted || this.run.suspected;
  }

  get pendingBytes(): number {
    return this.splitter.pendingBytes;
  }

  counters(): DecoderCounters {
    return { ...this.stats, issues: { ...this.stats.issues } };
  }

  push(chunk: Uint8Array | string, nowMs: number): readonly DecoderOutput[] {
    this.begin(nowMs);
    this.splitter.feed(chunk);
    return this.finish();
  }

  poll(nowMs: number): readonly DecoderOutput[] {
    this.begin(nowMs);
    return this.finish();
  }

  end(nowMs: number): readonly DecoderOutput[] {
    this.begin(nowMs);
    this.splitter.flush();
    this.dropRun('the stream ended before a restart was confirmed');
    this.expireHeld(Infinity, 'no info line before the end of the stream');
    return this.finish();
  }

  infoRequested(nowMs: number): void {
    this.infoAnswerUntilMs = nowMs + this.holdBackMs;
  }

  reset(): void {
    this.splitter.reset();
    this.current = null;
    this.trusted = false;
    this.lastSeq = -1;
    this.held = [];
    this.lastNeedInfoMs = -Infinity;
    this.infoAnswerUntilMs = -Infinity;
    this.run.clear();
  }

  private begin(nowMs: number): void {
    this.nowMs = nowMs;
    this.out = null;
    this.expireHeld(nowMs);
  }

  private finish(): readonly DecoderOutput[] {
    const out = this.out;
    this.out = null;
    return out ?? NO_OUTPUT;
  }

  private emit(o: DecoderOutput): void {
    if (this.out === null) this.out = [o];
    else this.out.push(o);
  }

  private issue(kind: IssueKind, line: string, detail: string): void {
    this.stats.issues[kind]++;
    this.emit({ type: 'issue', kind, line, detail });
  }

  private expireHeld(nowMs: number, detail?: string): void {
    const held = this.held;
    let k = 0;
    while (k < held.length && nowMs - held[k].atMs >= this.holdBackMs) k++;
    if (k === 0) return;
    const why = detail ?? `no info line within ${this.holdBackMs} ms`;
    for (let i = 0; i < k; i++) this.issue('no-info', held[i].text, why);
    this.held = held.slice(k);
  }

  tooLong(head: Uint8Array, headLen: number, totalBytes: number): void {
    this.stats.lines++;
    this.issue('too-long', excerpt(head, 0, headLen, totalBytes), `line of ${totalBytes} bytes is longer than ${MAX_LINE_BYTES}; discarded`);
  }

  line(buf: Uint8Array, s: number, e: number): void {
    this.stats.lines++;
    const p = this.parser;
    const channelCount = this.trusted && this.current !== null ? this.current.channels.length : -1;
    switch (p.parse(buf, s, e, channelCount)) {
      case 'frame': {
        const frame: Frame = { seq: p.seq, tMs: p.tMs, phase: p.phase, values: this.takeValues(p) };
        if (channelCount < 0) this.hold(frame, excerpt(buf, s, e));
        else this.sequence(frame, buf, s, e, null);
        return;
      }
      case 'info':
        this.onInfo(p.info!);
        return;
      case 'ack':
        this.stats.acks++;
        this.emit({ type: 'ack', ack: p.ack! });
        return;
      case 'command':
        this.stats.commands++;
        this.emit({ type: 'command', command: p.command! });
        return;
      default:
        this.issue(p.issueKind, excerpt(buf, s, e), p.detail);
    }
  }

  /**
   * The frame's values as a view on a shared slab (see SLAB_VALUES): a slab of 8 frames, as before, cost 50
   * to 90 ns a frame more than one of 8 KiB (8 to 32 channels, decode only, CPU time). A frame kept alone
   * retains its slab (8 KiB, or 8 frames).
   */
  private takeValues(p: LineParser): Float64Array {
    const n = p.count;
    if (n === 0) return new Float64Array(0);
    if (this.slabUsed + n > this.slab.length) {
      this.slab = new Float64Array(Math.max(SLAB_VALUES, n * SLAB_MIN_FRAMES));
      this.slabUsed = 0;
    }
    const out = new Float64Array(this.slab.buffer, this.slabUsed * 8, n);
    this.slabUsed += n;
    const v = p.values;
    for (let i = 0; i < n; i++) out[i] = v[i];
    return out;
  }

  /** Asks the caller for INFO, at most once per hold time. */
  private askInfo(reason: 'no-info' | 'restart'): void {
    if (this.nowMs - this.lastNeedInfoMs >= this.holdBackMs || this.lastNeedInfoMs > this.nowMs) {
      this.lastNeedInfoMs = this.nowMs;
      this.emit({ type: 'need-info', reason });
    }
  }

  private hold(frame: Frame, text: string): void {
    this.askInfo(this.current === null ? 'no-info' : 'restart');
    if (this.held.length >= this.holdBackFrames) {
      const oldest = this.held.shift()!;
      this.issue('no-info', oldest.text, `more than ${this.holdBackFrames} frames waiting for an info line`);
    }
    this.held.push({ frame, text, atMs: this.nowMs });
  }

  /** Sequence check of a frame whose fields and channel count are fine. `text` is set for released frames. */
  private sequence(frame: Frame, buf: Uint8Array | null, s: number, e: number, text: string | null): void {
    const seq = frame.seq;
    if (this.lastSeq >= 0) {
      const delta = (seq - this.lastSeq) >>> 0;
      if (delta === 0 || delta >= 0x80000000) {
        const line = text ?? excerpt(buf!, s, e);
        if (delta === 0) {
          this.dropRun(`the sequence went on at ${seq}`);
          this.issue('repeated-seq', line, `seq ${seq} again`);
          return;
        }
        this.older(frame, line);
        return;
      }
      // The old sequence goes on: a run of older frames was stale, not a restart.
      this.dropRun(`the sequence went on at ${seq}`);
      if (delta > 1) {
        const lost = delta - 1;
        this.stats.gaps++;
        this.stats.lostFrames += lost;
        this.emit({ type: 'gap', fromSeq: (this.lastSeq + 1) >>> 0, toSeq: (seq - 1) >>> 0, lost });
      }
    }
    this.lastSeq = seq;
    this.stats.frames++;
    this.emit({ type: 'frame', frame });
  }

  /**
   * A frame behind the last accepted one: `repeated-seq`, unless it extends a run of older frames counting up by
   * one (restartRun.ts): from the run's third frame on it is held and INFO is asked for; once the rig's info line
   * has answered and the run has gone on for RESTART_CONFIRM_FRAMES more frames, the rig restarted.
   */
  private older(frame: Frame, line: string): void {
    const run = this.run;
    if (!run.continues(frame.seq)) this.dropRun(`a new run began at ${frame.seq}`);
    if (!run.add(frame, line)) {
      this.issue('repeated-seq', line, `seq ${frame.seq} is behind the last accepted ${this.lastSeq}`);
      return;
    }
    if (run.held.length > this.holdBackFrames) {
      const oldest = run.held.shift()!;
      this.issue('repeated-seq', oldest.text, `seq ${oldest.frame.seq} is behind the last accepted ${this.lastSeq}; more than ${this.holdBackFrames} frames held`);
    }
    if (run.confirmed) {
      const held = run.clear();
      this.stats.reboots++;
      this.emit({ type: 'reboot', lastSeq: this.lastSeq });
      this.emit({ type: 'info', info: this.current! });
      this.lastSeq = -1;
      for (const h of held) this.sequence(h.frame, null, 0, 0, h.text);
      return;
    }
    if (run.answered) return;
    if (run.length === RESTART_RUN_FRAMES) this.lastNeedInfoMs = -Infinity; // just suspected: ask now
    this.askInfo('restart');
  }

  /** Ends a run of older frames as stale: its held frames are `repeated-seq`. */
  private dropRun(why: string): void {
    if (this.run.length === 0) return;
    for (const h of this.run.clear()) this.issue('repeated-seq', h.text, `seq ${h.frame.seq} is behind the last accepted ${this.lastSeq}: stale (${why})`);
  }

  private onInfo(info: RigInfo): void {
    this.stats.infos++;
    const previous = this.current;
    const answer = this.trusted && previous !== null && this.nowMs <= this.infoAnswerUntilMs && sameRigInfo(previous, info);
    this.infoAnswerUntilMs = -Infinity;
    if (answer) {
      // The answer to our INFO: while a restart is suspected, the frames after it decide (older()).
      if (this.run.suspected) this.run.answered = true;
      this.emit({ type: 'info', info });
      return;
    }
    // A reboot the rig announced: a run of older frames held so far belongs to the new session.
    const runHeld = this.run.clear();
    if (previous !== null) {
      this.stats.reboots++;
      this.emit({ type: 'reboot', lastSeq: this.lastSeq >= 0 ? this.lastSeq : null });
    }
    this.current = info;
    this.emit({ type: 'info', info });
    this.trusted = true;
    this.lastSeq = -1;
    this.lastNeedInfoMs = -Infinity;
    const held = runHeld.length === 0 ? this.held : [...runHeld, ...this.held];
    this.held = [];
    const n = info.channels.length;
    for (const h of held) {
      if (h.frame.values.length !== n) this.issue('wrong-channel-count', h.text, `${h.frame.values.length} values where the info line announced ${n}`);
      else this.sequence(h.frame, null, 0, 0, h.text);
    }
  }
}

/** A streaming ENL/1 decoder for one link; see the top of this file. */
export function createDecoder(options: DecoderOptions = {}): Enl1Decoder {
  return new StreamDecoder(options);
}
