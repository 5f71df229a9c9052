/**
 * ENL/1, the rig's line protocol: a pure codec (no timers, no I/O; the caller passes the time as `nowMs`).
 * The protocol itself is described in hardware/PROTOCOL.md.
 *
 * API at a glance
 * - `createDecoder(options?)` -> {@link Enl1Decoder}, streaming and stateful, one per link:
 *   - `push(chunk, nowMs)`: bytes (a Buffer/Uint8Array, or a string read as latin1) as they come off the
 *     wire; returns the outputs of every line this chunk completes, in order ({@link DecoderOutput}:
 *     `info`, `reboot`, `frame`, `gap`, `ack`, `command`, `need-info`, `issue`). A partial line waits for
 *     the next chunk; memory stays bounded whatever arrives.
 *   - `poll(nowMs)`: call from a timer (e.g. every 250 ms) so that frames held back for lack of an info
 *     line time out as `no-info` even when no bytes arrive.
 *   - `infoRequested(nowMs)`: say that the host sent INFO, so that the identical info line answering it is
 *     not read as a reboot.
 *   - `end(nowMs)`: end of stream: decodes a last line without '\n' and times out everything held.
 *   - `reset()`: after a reconnect: forgets the info, the sequence and any partial line (counters stay).
 *   - `info`, `needsInfo`, `pendingBytes`, `counters()`.
 * - `decodeLine(line, { channelCount? })`: one line, stateless: `{ ok: true, message }` or `{ ok: false, issue }`.
 * - Encoders, each returning the complete line with checksum and '\n': `encodeCommand`, `encodeInfo`,
 *   `encodeFrame`, `encodeAck`, and `encodeLine(body)` for anything else (fault injection).
 * - `crc16CcittFalse(bytes, start, end)`.
 * - `createCsvDecoder(options?)`: the plain `--protocol csv` mode for do-it-yourself rigs (values only; the
 *   host's clock assigns phases elsewhere).
 *
 * Outputs of `push` are fresh objects the caller may keep. A frame's `values` overlaps no other frame's, but
 * for speed it is a view on an 8 KiB buffer shared by consecutive frames (64 frames of 16 channels; at least
 * 8 frames when lines are longer): `values.slice()` it if you keep single frames for a long time and drop
 * their neighbours (each kept view holds its 8 KiB otherwise).
 *
 * Decisions the protocol text leaves open (also in hardware/PROTOCOL.md):
 * - Empty lines are skipped silently; the 4096-byte limit counts every byte of the line except the '\n'
 *   and one '\r' before it, including bytes before the '$'.
 * - The checksum field is what follows the LAST '*' of the line.
 * - A frame older than the last accepted one (serial-number arithmetic on uint32, RFC 1982: 2^31 or more
 *   behind) is `repeated-seq`, like the same seq again, and is dropped. When 3 such frames in a row count
 *   up by one, the rig evidently restarted without an info line the host could read: the decoder stops
 *   trusting its info, emits `need-info` and holds frames back until an info line comes (a reboot).
 * - Every info line after the first is a reboot (`reboot` then `info`; seq may restart anywhere), except
 *   the identical line answering an INFO the caller announced with `infoRequested` within the hold time.
 * - `gap` names the lost seqs themselves: after 3, frame 12 gives `{ fromSeq: 4, toSeq: 11, lost: 8 }`;
 *   it comes just before the frame that revealed it.
 * - `need-info` is emitted when a frame is held back and no request was made in the last `holdBackMs`, so
 *   the caller sends INFO at most once per hold time.
 */

import { EnoseError } from '../errors.js';
import type { Frame, LinkIssueKind, Phase, RigCommand, RigInfo } from '../types.js';

/** The protocol name and version carried in the info line. */
export const PROTOCOL_NAME = 'ENL/1';
/** Longest valid line in bytes, without '\n' and an optional '\r' before it. */
export const MAX_LINE_BYTES = 4096;
/** Default time frames wait for an info line before they are reported as `no-info`. */
export const DEFAULT_HOLD_BACK_MS = 2000;
/** Consecutive older frames counting up by one that mean "the rig restarted silently". */
export const RESTART_RUN_FRAMES = 3;

/** The protocol's fixed issue names, used in events, metrics and tests (the shared vocabulary's LinkIssueKind). */
export type IssueKind = LinkIssueKind;
export const ISSUE_KINDS: readonly IssueKind[] = [
  'too-long',
  'bad-checksum',
  'malformed',
  'wrong-channel-count',
  'repeated-seq',
  'no-info',
];

export type { RigCommand, RigInfo } from '../types.js';

/** A rig's answer to a command (`$ENA`). `command` is the command word echoed, `?` when unreadable. */
export interface Ack {
  readonly command: string;
  readonly ok: boolean;
  readonly detail?: string;
}

/** A rejected line: the fixed kind, the offending line shortened to about 120 characters, and why. */
export interface LineIssue {
  readonly kind: IssueKind;
  readonly line: string;
  readonly detail: string;
}

/** One valid line, decoded without any state. */
export type Message =
  | { readonly type: 'info'; readonly info: RigInfo }
  | { readonly type: 'frame'; readonly frame: Frame }
  | { readonly type: 'ack'; readonly ack: Ack }
  | { readonly type: 'command'; readonly command: RigCommand };

export type LineResult = { readonly ok: true; readonly message: Message } | { readonly ok: false; readonly issue: LineIssue };

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
  /** True while frames are being held back for want of a trusted info line. */
  readonly needsInfo: boolean;
  /** Bytes of an unfinished line buffered now (at most MAX_LINE_BYTES + 1). */
  readonly pendingBytes: number;
  /** A snapshot of the counters. */
  counters(): DecoderCounters;
}

// ---------------------------------------------------------------------------------------------------------
// CRC-16/CCITT-FALSE

/**
 * Slice-by-8 tables (Intel's "slicing-by-8", Kounavis and Berry 2008, on a 16-bit CRC): T[0] is the classic
 * byte table, T[k][v] the CRC of byte v followed by k zero bytes, so that eight bytes take eight lookups
 * and no dependency chain through the CRC between them; about 3x the speed of the byte-at-a-time loop.
 */
const CRC_T = (() => {
  const t: Uint16Array[] = [new Uint16Array(256)];
  const t0 = t[0]!;
  for (let n = 0; n < 256; n++) {
    let c = n << 8;
    for (let k = 0; k < 8; k++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    t0[n] = c;
  }
  for (let k = 1; k < 8; k++) {
    const prev = t[k - 1]!;
    const cur = new Uint16Array(256);
    for (let n = 0; n < 256; n++) cur[n] = ((prev[n]! << 8) & 0xffff) ^ t0[prev[n]! >>> 8]!;
    t.push(cur);
  }
  return t;
})();
const [C0, C1, C2, C3, C4, C5, C6, C7] = CRC_T as [Uint16Array, Uint16Array, Uint16Array, Uint16Array, Uint16Array, Uint16Array, Uint16Array, Uint16Array];
const CRC_TABLE = C0;

/** CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor) of `bytes[start..end)`. */
export function crc16CcittFalse(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffff;
  let i = start;
  for (; i + 7 < end; i += 8) {
    crc =
      C7[(crc >>> 8) ^ bytes[i]!]! ^
      C6[(crc & 0xff) ^ bytes[i + 1]!]! ^
      C5[bytes[i + 2]!]! ^
      C4[bytes[i + 3]!]! ^
      C3[bytes[i + 4]!]! ^
      C2[bytes[i + 5]!]! ^
      C1[bytes[i + 6]!]! ^
      C0[bytes[i + 7]!]!;
  }
  for (; i < end; i++) crc = ((crc << 8) & 0xffff) ^ C0[((crc >>> 8) ^ bytes[i]!) & 0xff]!;
  return crc;
}

function crcOfString(s: string): number {
  let crc = 0xffff;
  for (let i = 0; i < s.length; i++) crc = ((crc << 8) & 0xffff) ^ CRC_TABLE[((crc >>> 8) ^ s.charCodeAt(i)) & 0xff]!;
  return crc;
}

// ---------------------------------------------------------------------------------------------------------
// Encoders

const HEX = '0123456789ABCDEF';

/** `$<body>*HHHH\n` for any body (the body must be printable ASCII without '$', '*' or newlines). */
export function encodeLine(body: string): string {
  const c = crcOfString(body);
  return `$${body}*${HEX[(c >>> 12) & 15]}${HEX[(c >>> 8) & 15]}${HEX[(c >>> 4) & 15]}${HEX[c & 15]}\n`;
}

/** Characters allowed in a free-text field (sample id, rig id, ack detail): printable ASCII but `,;*$`. */
function isTextByte(b: number): boolean {
  return b >= 0x20 && b <= 0x7e && b !== 0x2c && b !== 0x3b && b !== 0x2a && b !== 0x24;
}

function isTextField(s: string, allowEmpty = false): boolean {
  if (s.length === 0) return allowEmpty;
  for (let i = 0; i < s.length; i++) if (!isTextByte(s.charCodeAt(i))) return false;
  return true;
}

/** Channel names: printable ASCII without spaces or `,;*$=`. */
function isNameField(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const b = s.charCodeAt(i);
    if (!isTextByte(b) || b === 0x20 || b === 0x3d) return false;
  }
  return true;
}

function misuse(message: string): EnoseError {
  return new EnoseError('bad-usage', message);
}

/** Longest sample id a command may carry (firmware buffers are sized for it). */
export const MAX_SAMPLE_ID_CHARS = 64;

/** Host-to-rig command line, e.g. `$ENC,START,MSCU1234567*FDC1\n`. Throws on a sample id with `,;*$`. */
export function encodeCommand(command: RigCommand): string {
  switch (command.command) {
    case 'START':
      if (!isTextField(command.sampleId) || command.sampleId.length > MAX_SAMPLE_ID_CHARS) {
        throw misuse(`sample id must be 1 to ${MAX_SAMPLE_ID_CHARS} printable ASCII characters without , ; * $: ${JSON.stringify(command.sampleId)}`);
      }
      return encodeLine(`ENC,START,${command.sampleId}`);
    case 'STOP':
      return encodeLine('ENC,STOP');
    case 'INFO':
      return encodeLine('ENC,INFO');
    default:
      throw misuse(`unknown command ${JSON.stringify((command as { command: unknown }).command)}`);
  }
}

/** A number as written on the wire: `String(x)` (decodes to the identical double), `nan` for NaN and ±Infinity. */
export function formatValue(x: number): string {
  return Number.isFinite(x) ? String(x) : 'nan';
}

/** Rig info line, e.g. `$ENI,proto=ENL/1,rig=R7,fw=1.2.0,rate_hz=10,unit=ohm,channels=a;b*HHHH\n`. */
export function encodeInfo(info: RigInfo): string {
  if (info.proto !== PROTOCOL_NAME) throw misuse(`proto must be ${PROTOCOL_NAME}, got ${JSON.stringify(info.proto)}`);
  if (!isTextField(info.rig) || !isTextField(info.fw)) throw misuse('rig and fw must be printable ASCII without , ; * $');
  if (!(info.rateHz > 0) || !Number.isFinite(info.rateHz)) throw misuse(`rateHz must be a positive number, got ${info.rateHz}`);
  if (info.unit !== 'ohm' && info.unit !== 'adc') throw misuse(`unit must be ohm or adc, got ${JSON.stringify(info.unit)}`);
  if (info.channels.length === 0) throw misuse('an info line needs at least one channel');
  const seen = new Set<string>();
  for (const c of info.channels) {
    if (!isNameField(c)) throw misuse(`bad channel name ${JSON.stringify(c)}`);
    if (seen.has(c)) throw misuse(`duplicate channel name ${c}`);
    seen.add(c);
  }
  return encodeLine(
    `ENI,proto=${info.proto},rig=${info.rig},fw=${info.fw},rate_hz=${String(info.rateHz)},unit=${info.unit},channels=${info.channels.join(';')}`,
  );
}

/** Data frame line, e.g. `$ENF,0,1000,B,48211.5,nan*HHHH\n`. Throws on a seq or t_ms that is not a uint32. */
export function encodeFrame(frame: Frame): string {
  if (!isUint32(frame.seq) || !isUint32(frame.tMs)) throw misuse(`seq and tMs must be uint32, got ${frame.seq}, ${frame.tMs}`);
  if (frame.phase !== 'I' && frame.phase !== 'B' && frame.phase !== 'E' && frame.phase !== 'R') {
    throw misuse(`phase must be I, B, E or R, got ${JSON.stringify(frame.phase)}`);
  }
  let body = `ENF,${frame.seq},${frame.tMs},${frame.phase}`;
  const v = frame.values;
  for (let i = 0; i < v.length; i++) body += `,${formatValue(v[i]!)}`;
  return encodeLine(body);
}

/** Acknowledgement line, e.g. `$ENA,START,OK*B175\n` or `$ENA,START,ERR,busy*40AB\n`. */
export function encodeAck(ack: Ack): string {
  if (!isTextField(ack.command)) throw misuse(`bad ack command ${JSON.stringify(ack.command)}`);
  if (ack.detail !== undefined && !isTextField(ack.detail)) throw misuse(`bad ack detail ${JSON.stringify(ack.detail)}`);
  return encodeLine(`ENA,${ack.command},${ack.ok ? 'OK' : 'ERR'}${ack.detail !== undefined ? `,${ack.detail}` : ''}`);
}

function isUint32(x: number): boolean {
  return Number.isInteger(x) && x >= 0 && x <= 0xffffffff;
}

// ---------------------------------------------------------------------------------------------------------
// Number parsing straight from bytes

const POW10 = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

/** What scanNumber returns for "no number here" (a valid reading is finite or NaN, never +Infinity). */
const NOT_A_NUMBER = Infinity;

/** Where the last scanNumber / scanUint32 stopped. */
let scanEnd = 0;

/**
 * Reads `[+-]?(d+(.d*)?|.d+)([eE][+-]?d+)?` or `nan` from `buf[s..e)`, stopping at the first byte that
 * does not fit (the caller checks that a delimiter is there: `scanEnd`). Returns NOT_A_NUMBER when there
 * is no number or it overflows a double. Up to 15 significant digits and a decimal exponent within ±22
 * take Clinger's exact fast path (one correctly rounded multiply or divide; Clinger 1990, "How to read
 * floating point numbers accurately"); anything longer goes through Number(), so that the result is
 * always the double nearest to the text.
 */
function scanNumber(buf: Uint8Array, s: number, e: number): number {
  let i = s;
  let b = buf[i];
  if (b === 0x6e) {
    if (i + 2 < e && buf[i + 1] === 0x61 && buf[i + 2] === 0x6e) {
      scanEnd = i + 3;
      return NaN;
    }
    return NOT_A_NUMBER;
  }
  let neg = false;
  if (b === 0x2d) {
    neg = true;
    i++;
  } else if (b === 0x2b) i++;
  let mant = 0;
  let sig = 0;
  let digits = 0;
  let exp10 = 0;
  let d = 0;
  while (i < e) {
    d = buf[i]! - 0x30;
    if (d < 0 || d > 9) break;
    if (sig > 0 || d !== 0) {
      mant = mant * 10 + d;
      sig++;
    }
    digits++;
    i++;
  }
  if (i < e && buf[i] === 0x2e) {
    i++;
    while (i < e) {
      d = buf[i]! - 0x30;
      if (d < 0 || d > 9) break;
      if (sig > 0 || d !== 0) {
        mant = mant * 10 + d;
        sig++;
      }
      exp10--;
      digits++;
      i++;
    }
  }
  if (digits === 0) return NOT_A_NUMBER;
  if (i < e && (buf[i] === 0x65 || buf[i] === 0x45)) {
    i++;
    let eneg = false;
    if (i < e && (buf[i] === 0x2d || buf[i] === 0x2b)) {
      eneg = buf[i] === 0x2d;
      i++;
    }
    let ex = 0;
    let edigits = 0;
    while (i < e) {
      d = buf[i]! - 0x30;
      if (d < 0 || d > 9) break;
      if (ex < 100000) ex = ex * 10 + d;
      edigits++;
      i++;
    }
    if (edigits === 0) return NOT_A_NUMBER;
    exp10 += eneg ? -ex : ex;
  }
  scanEnd = i;
  if (sig <= 15 && exp10 >= -22 && exp10 <= 22) {
    const v = exp10 < 0 ? mant / POW10[-exp10]! : mant * POW10[exp10]!;
    return neg ? -v : v;
  }
  if (sig === 0) return neg ? -0 : 0;
  const v = Number(latin1(buf, s, i));
  // Beyond the range of a double is not a reading.
  return Number.isFinite(v) ? v : NOT_A_NUMBER;
}

/** A whole field `buf[s..e)` as a number, or NOT_A_NUMBER. */
function parseNumber(buf: Uint8Array, s: number, e: number): number {
  const v = scanNumber(buf, s, e);
  return v !== NOT_A_NUMBER && scanEnd === e ? v : NOT_A_NUMBER;
}

/** Decimal digits (1 to 10 of them, at most 4294967295) from `buf[s..e)`, stopping at a non-digit; -1 for none. */
function scanUint32(buf: Uint8Array, s: number, e: number): number {
  let v = 0;
  let i = s;
  while (i < e) {
    const d = buf[i]! - 0x30;
    if (d < 0 || d > 9) break;
    v = v * 10 + d;
    i++;
  }
  scanEnd = i;
  return i === s || i - s > 10 || v > 0xffffffff ? -1 : v;
}

function latin1(buf: Uint8Array, s: number, e: number): string {
  let out = '';
  for (let i = s; i < e; i += 4096) out += String.fromCharCode.apply(null, buf.subarray(i, Math.min(e, i + 4096)) as unknown as number[]);
  return out;
}

/** Characters of an offending line kept in an issue. */
const EXCERPT_CHARS = 120;

/** The line for humans: control and non-ASCII bytes as \xNN, cut to about 120 characters. */
function excerpt(buf: Uint8Array, s: number, e: number, totalBytes = e - s): string {
  let out = '';
  let i = s;
  for (; i < e && out.length < EXCERPT_CHARS; i++) {
    const b = buf[i]!;
    out += b >= 0x20 && b <= 0x7e ? String.fromCharCode(b) : `\\x${HEX[b >>> 4]}${HEX[b & 15]}`;
  }
  return i - s < totalBytes ? `${out}...` : out;
}

// ---------------------------------------------------------------------------------------------------------
// One line -> one message or one issue, without state. Results land in fields to spare the hot path
// an allocation per line.

const T_NONE = 0;
const T_INFO = 1;
const T_FRAME = 2;
const T_ACK = 3;
const T_COMMAND = 4;
const T_ISSUE = 5;

const PHASE_OF_BYTE: (Phase | undefined)[] = [];
PHASE_OF_BYTE[0x49] = 'I';
PHASE_OF_BYTE[0x42] = 'B';
PHASE_OF_BYTE[0x45] = 'E';
PHASE_OF_BYTE[0x52] = 'R';

function hexDigit(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x41 && b <= 0x46) return b - 0x37;
  return -1;
}

class LineParser {
  type = T_NONE;
  issueKind: IssueKind = 'malformed';
  detail = '';
  seq = 0;
  tMs = 0;
  phase: Phase = 'I';
  count = 0;
  /** Room for every value a 4096-byte line can hold. */
  readonly values = new Float64Array(MAX_LINE_BYTES >>> 1);
  info: RigInfo | null = null;
  ack: Ack | null = null;
  command: RigCommand | null = null;

  private fail(kind: IssueKind, detail: string): number {
    this.issueKind = kind;
    this.detail = detail;
    this.type = T_ISSUE;
    return T_ISSUE;
  }

  /**
   * Parses `buf[s..e)` (no '\n', no trailing '\r', at most MAX_LINE_BYTES long). `channelCount` < 0 skips
   * the channel-count check (no info yet).
   */
  parse(buf: Uint8Array, s: number, e: number, channelCount: number): number {
    let dollar = s;
    while (dollar < e && buf[dollar] !== 0x24) dollar++;
    if (dollar === e) return this.fail('malformed', "no '$' in the line");
    let star = e - 1;
    while (star > dollar && buf[star] !== 0x2a) star--;
    if (star === dollar) return this.fail('malformed', "no '*' checksum field");
    if (e - star !== 5) return this.fail('malformed', 'checksum field is not four hex digits');
    const h0 = hexDigit(buf[star + 1]!);
    const h1 = hexDigit(buf[star + 2]!);
    const h2 = hexDigit(buf[star + 3]!);
    const h3 = hexDigit(buf[star + 4]!);
    if ((h0 | h1 | h2 | h3) < 0) return this.fail('malformed', 'checksum field is not four upper-case hex digits');
    const want = (h0 << 12) | (h1 << 8) | (h2 << 4) | h3;
    const b0 = dollar + 1;
    const got = crc16CcittFalse(buf, b0, star);
    if (got !== want) {
      return this.fail('bad-checksum', `checksum ${HEX[(got >>> 12) & 15]}${HEX[(got >>> 8) & 15]}${HEX[(got >>> 4) & 15]}${HEX[got & 15]} computed, line says ${latin1(buf, star + 1, e)}`);
    }
    if (star - b0 < 4 || buf[b0] !== 0x45 || buf[b0 + 1] !== 0x4e || buf[b0 + 3] !== 0x2c) {
      return this.fail('malformed', 'unknown line type');
    }
    switch (buf[b0 + 2]) {
      case 0x46: // F
        return this.parseFrame(buf, b0 + 4, star, channelCount);
      case 0x49: // I
        return this.parseInfo(latin1(buf, b0 + 4, star));
      case 0x41: // A
        return this.parseAck(latin1(buf, b0 + 4, star));
      case 0x43: // C
        return this.parseCommand(latin1(buf, b0 + 4, star));
      default:
        return this.fail('malformed', 'unknown line type');
    }
  }

  private parseFrame(buf: Uint8Array, s: number, e: number, channelCount: number): number {
    const seq = scanUint32(buf, s, e);
    let i = scanEnd;
    if (seq < 0 || i === e || buf[i] !== 0x2c) return this.fail('malformed', 'seq is not a uint32');
    const tMs = scanUint32(buf, i + 1, e);
    i = scanEnd;
    if (tMs < 0 || i === e || buf[i] !== 0x2c) return this.fail('malformed', 't_ms is not a uint32');
    const phase = i + 1 < e ? PHASE_OF_BYTE[buf[i + 1]!] : undefined;
    i += 2;
    if (phase === undefined || (i < e && buf[i] !== 0x2c)) return this.fail('malformed', 'phase is not one of I, B, E, R');
    this.seq = seq;
    this.tMs = tMs;
    this.phase = phase;
    let n = 0;
    const values = this.values;
    // i is at the ',' before the first value, or at e for a frame without values. buf[e] is the '*' (parse
    // checked it), a non-digit that ends every digit run below without a bounds test.
    while (i < e) {
      // Fast path for what rigs print, `-?d*(.d*)?` with at most 15 digits: the same arithmetic as
      // scanNumber's exact path (mant / 10^k), so the same double; anything else goes through scanNumber.
      const f = i + 1;
      let j = f;
      const neg = buf[j] === 0x2d;
      if (neg) j++;
      const m0 = j;
      let mant = 0;
      let d = buf[j]! - 0x30;
      while (d >>> 0 <= 9) {
        mant = mant * 10 + d;
        d = buf[++j]! - 0x30;
      }
      let digits = j - m0;
      let frac = 0;
      if (d === -2) {
        // '.'
        const f0 = ++j;
        d = buf[j]! - 0x30;
        while (d >>> 0 <= 9) {
          mant = mant * 10 + d;
          d = buf[++j]! - 0x30;
        }
        frac = j - f0;
        digits += frac;
      }
      let v: number;
      if (digits > 0 && digits <= 15 && (j === e || d === -4)) {
        // ',' is 0x2c, 0x30 - 4.
        v = frac === 0 ? mant : mant / POW10[frac]!;
        if (neg) v = -v;
        i = j;
      } else {
        v = scanNumber(buf, f, e);
        i = scanEnd;
        if (v === NOT_A_NUMBER || (i < e && buf[i] !== 0x2c)) return this.fail('malformed', `value ${n + 1} is not a number or nan`);
      }
      values[n++] = v;
    }
    this.count = n;
    if (channelCount >= 0 && n !== channelCount) {
      return this.fail('wrong-channel-count', `${n} values where the info line announced ${channelCount}`);
    }
    this.type = T_FRAME;
    return T_FRAME;
  }

  private parseInfo(fields: string): number {
    const kv = new Map<string, string>();
    for (const f of fields.split(',')) {
      const eq = f.indexOf('=');
      if (eq <= 0) return this.fail('malformed', `info field ${JSON.stringify(f)} is not key=value`);
      const k = f.slice(0, eq);
      if (kv.has(k)) return this.fail('malformed', `info key ${k} given twice`);
      kv.set(k, f.slice(eq + 1));
    }
    for (const k of ['proto', 'rig', 'fw', 'rate_hz', 'unit', 'channels']) {
      if (!kv.has(k)) return this.fail('malformed', `info line lacks ${k}`);
    }
    const proto = kv.get('proto')!;
    if (proto !== PROTOCOL_NAME) return this.fail('malformed', `unsupported protocol ${JSON.stringify(proto)}`);
    const rig = kv.get('rig')!;
    const fw = kv.get('fw')!;
    if (!isTextField(rig) || !isTextField(fw)) return this.fail('malformed', 'rig or fw is empty or not printable');
    const rateText = kv.get('rate_hz')!;
    const rb = new Uint8Array(rateText.length);
    for (let i = 0; i < rateText.length; i++) rb[i] = rateText.charCodeAt(i) & 0xff;
    const rateHz = parseNumber(rb, 0, rb.length);
    if (rateHz === NOT_A_NUMBER || !(rateHz > 0) || !Number.isFinite(rateHz)) return this.fail('malformed', `rate_hz ${JSON.stringify(rateText)} is not a positive number`);
    const unit = kv.get('unit')!;
    if (unit !== 'ohm' && unit !== 'adc') return this.fail('malformed', `unit ${JSON.stringify(unit)} is not ohm or adc`);
    const channels = kv.get('channels')!.split(';');
    const seen = new Set<string>();
    for (const c of channels) {
      if (!isNameField(c)) return this.fail('malformed', `bad channel name ${JSON.stringify(c)}`);
      if (seen.has(c)) return this.fail('malformed', `channel ${c} named twice`);
      seen.add(c);
    }
    this.info = Object.freeze({ proto, rig, fw, rateHz, unit, channels: Object.freeze(channels) });
    this.type = T_INFO;
    return T_INFO;
  }

  private parseAck(fields: string): number {
    const parts = fields.split(',');
    if (parts.length < 2) return this.fail('malformed', 'ack needs a command and OK or ERR');
    const command = parts[0]!;
    const status = parts[1]!;
    if (!isTextField(command)) return this.fail('malformed', 'ack command is empty or not printable');
    if (status !== 'OK' && status !== 'ERR') return this.fail('malformed', `ack status ${JSON.stringify(status)} is not OK or ERR`);
    if (parts.length > 3) return this.fail('malformed', 'ack has fields after its detail');
    const detail = parts[2];
    if (detail !== undefined && !isTextField(detail)) return this.fail('malformed', 'ack detail is empty or not printable');
    this.ack = Object.freeze(detail === undefined ? { command, ok: status === 'OK' } : { command, ok: status === 'OK', detail });
    this.type = T_ACK;
    return T_ACK;
  }

  private parseCommand(fields: string): number {
    const parts = fields.split(',');
    const word = parts[0]!;
    if (word === 'START') {
      const id = parts[1];
      if (parts.length !== 2 || id === undefined || !isTextField(id) || id.length > MAX_SAMPLE_ID_CHARS) {
        return this.fail('malformed', `START needs one sample id of 1 to ${MAX_SAMPLE_ID_CHARS} printable characters`);
      }
      this.command = Object.freeze({ command: 'START', sampleId: id });
    } else if (word === 'STOP' || word === 'INFO') {
      if (parts.length !== 1) return this.fail('malformed', `${word} takes no arguments`);
      this.command = Object.freeze({ command: word });
    } else {
      return this.fail('malformed', `unknown command ${JSON.stringify(word)}`);
    }
    this.type = T_COMMAND;
    return T_COMMAND;
  }
}

function toBytes(line: string | Uint8Array): Uint8Array {
  if (typeof line !== 'string') return line;
  const out = new Uint8Array(line.length);
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    out[i] = c > 0xff ? 0x3f : c;
  }
  return out;
}

function lineEnd(buf: Uint8Array, s: number, e: number): number {
  if (e > s && buf[e - 1] === 0x0a) e--;
  if (e > s && buf[e - 1] === 0x0d) e--;
  return e;
}

/**
 * Decodes one line (a trailing '\n' or '\r\n' is allowed) without any state: length, checksum, fields and,
 * when `channelCount` is given, the number of values. Sequence checks need the streaming decoder.
 */
export function decodeLine(line: string | Uint8Array, options: { readonly channelCount?: number } = {}): LineResult {
  const buf = toBytes(line);
  const e = lineEnd(buf, 0, buf.length);
  if (e > MAX_LINE_BYTES) {
    return { ok: false, issue: { kind: 'too-long', line: excerpt(buf, 0, e), detail: `line of ${e} bytes is longer than ${MAX_LINE_BYTES}` } };
  }
  const p = new LineParser();
  const t = p.parse(buf, 0, e, options.channelCount ?? -1);
  switch (t) {
    case T_FRAME:
      return { ok: true, message: { type: 'frame', frame: { seq: p.seq, tMs: p.tMs, phase: p.phase, values: p.values.slice(0, p.count) } } };
    case T_INFO:
      return { ok: true, message: { type: 'info', info: p.info! } };
    case T_ACK:
      return { ok: true, message: { type: 'ack', ack: p.ack! } };
    case T_COMMAND:
      return { ok: true, message: { type: 'command', command: p.command! } };
    default:
      return { ok: false, issue: { kind: p.issueKind, line: excerpt(buf, 0, e), detail: p.detail } };
  }
}

// ---------------------------------------------------------------------------------------------------------
// Line splitting with bounded memory, shared by the ENL/1 and csv decoders.

interface LineSink {
  /** A complete line `buf[s..e)` without '\n' and '\r', at most MAX_LINE_BYTES long, not empty. */
  line(buf: Uint8Array, s: number, e: number): void;
  /** A line longer than MAX_LINE_BYTES, already discarded; `head[0..headLen)` are its first bytes. */
  tooLong(head: Uint8Array, headLen: number, totalBytes: number): void;
}

const STRING_SLICE = 65536;

class LineSplitter {
  /** One line plus a '\r'. */
  private readonly buf = new Uint8Array(MAX_LINE_BYTES + 1);
  private len = 0;
  /** Inside a too-long line: bytes are counted, not kept (the first ones stay in `buf` for the excerpt). */
  private discarding = false;
  private discarded = 0;
  /** Last byte counted while discarding, so that a '\r' before the '\n' is not counted. */
  private lastByte = 0;
  private scratch: Uint8Array | null = null;

  constructor(private readonly sink: LineSink) {}

  get pendingBytes(): number {
    return this.discarding ? 0 : this.len;
  }

  reset(): void {
    this.len = 0;
    this.discarding = false;
    this.discarded = 0;
  }

  feed(chunk: Uint8Array | string): void {
    if (typeof chunk !== 'string') {
      this.feedBytes(chunk);
      return;
    }
    const scratch = (this.scratch ??= new Uint8Array(STRING_SLICE));
    for (let s = 0; s < chunk.length; s += STRING_SLICE) {
      const n = Math.min(STRING_SLICE, chunk.length - s);
      for (let i = 0; i < n; i++) {
        const c = chunk.charCodeAt(s + i);
        scratch[i] = c > 0xff ? 0x3f : c;
      }
      this.feedBytes(n === STRING_SLICE ? scratch : scratch.subarray(0, n));
    }
  }

  /** End of stream: a last line without '\n' counts as a line. */
  flush(): void {
    if (this.discarding) {
      this.discarding = false;
      this.sink.tooLong(this.buf, Math.min(this.len, EXCERPT_CHARS), this.discarded - (this.lastByte === 0x0d ? 1 : 0));
      this.len = 0;
    } else if (this.len > 0) {
      this.emit(this.buf, 0, this.len);
      this.len = 0;
    }
  }

  private emit(buf: Uint8Array, s: number, e: number): void {
    if (e > s && buf[e - 1] === 0x0d) e--;
    if (e === s) return;
    if (e - s > MAX_LINE_BYTES) this.sink.tooLong(buf.subarray(s, Math.min(e, s + EXCERPT_CHARS)), Math.min(e - s, EXCERPT_CHARS), e - s);
    else this.sink.line(buf, s, e);
  }

  private feedBytes(chunk: Uint8Array): void {
    const n = chunk.length;
    const cap = this.buf.length;
    let pos = 0;
    while (pos < n) {
      const nl = chunk.indexOf(0x0a, pos);
      const end = nl < 0 ? n : nl;
      if (this.discarding) {
        this.discarded += end - pos;
        if (end > pos) this.lastByte = chunk[end - 1]!;
        if (nl < 0) return;
        this.discarding = false;
        this.sink.tooLong(this.buf, Math.min(this.len, EXCERPT_CHARS), this.discarded - (this.lastByte === 0x0d ? 1 : 0));
        this.len = 0;
        pos = nl + 1;
        continue;
      }
      if (this.len === 0 && nl >= 0) {
        // The whole line is inside this chunk: parse it where it lies.
        this.emit(chunk, pos, end);
        pos = nl + 1;
        continue;
      }
      const take = end - pos;
      if (this.len + take > cap) {
        // Too long whatever follows: keep the head for the excerpt, count the rest.
        const room = Math.max(0, EXCERPT_CHARS - this.len);
        for (let k = 0, m = Math.min(room, take); k < m; k++) this.buf[this.len + k] = chunk[pos + k]!;
        const total = this.len + take;
        this.len = Math.min(EXCERPT_CHARS, total);
        this.lastByte = chunk[end - 1]!;
        if (nl >= 0) {
          this.sink.tooLong(this.buf, this.len, total - (this.lastByte === 0x0d ? 1 : 0));
          this.len = 0;
          pos = nl + 1;
        } else {
          this.discarding = true;
          this.discarded = total;
          return;
        }
        continue;
      }
      const line = this.buf;
      // A view plus memcpy beats a byte loop beyond a few dozen bytes.
      if (take > 48) line.set(nl < 0 && pos === 0 ? chunk : chunk.subarray(pos, end), this.len);
      else for (let k = 0, o = this.len; k < take; k++) line[o + k] = chunk[pos + k]!;
      this.len += take;
      if (nl < 0) return;
      const len = this.len;
      this.len = 0;
      this.emit(this.buf, 0, len);
      pos = nl + 1;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// The streaming ENL/1 decoder

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

function sameInfo(a: RigInfo, b: RigInfo): boolean {
  if (a.proto !== b.proto || a.rig !== b.rig || a.fw !== b.fw || a.rateHz !== b.rateHz || a.unit !== b.unit) return false;
  if (a.channels.length !== b.channels.length) return false;
  for (let i = 0; i < a.channels.length; i++) if (a.channels[i] !== b.channels[i]) return false;
  return true;
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
  /** False before the first info line and after a silent restart: frames are held back. */
  private trusted = false;
  /** Seq of the last accepted frame, -1 for none since the last info line. */
  private lastSeq = -1;
  private held: HeldFrame[] = [];
  private lastNeedInfoMs = -Infinity;
  private infoAnswerUntilMs = -Infinity;
  /** Older frames in a row that count up by one (a silent restart shows as such a run). */
  private olderRun = 0;
  private olderRunSeq = 0;

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
    return !this.trusted;
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
    this.olderRun = 0;
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
    while (k < held.length && nowMs - held[k]!.atMs >= this.holdBackMs) k++;
    if (k === 0) return;
    const why = detail ?? `no info line within ${this.holdBackMs} ms`;
    for (let i = 0; i < k; i++) this.issue('no-info', held[i]!.text, why);
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
      case T_FRAME: {
        const frame: Frame = { seq: p.seq, tMs: p.tMs, phase: p.phase, values: this.takeValues(p) };
        if (channelCount < 0) this.hold(frame, excerpt(buf, s, e));
        else this.sequence(frame, buf, s, e, null);
        return;
      }
      case T_INFO:
        this.onInfo(p.info!);
        return;
      case T_ACK:
        this.stats.acks++;
        this.emit({ type: 'ack', ack: p.ack! });
        return;
      case T_COMMAND:
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
    for (let i = 0; i < n; i++) out[i] = v[i]!;
    return out;
  }

  private hold(frame: Frame, text: string): void {
    if (this.nowMs - this.lastNeedInfoMs >= this.holdBackMs || this.lastNeedInfoMs > this.nowMs) {
      this.lastNeedInfoMs = this.nowMs;
      this.emit({ type: 'need-info', reason: this.current === null ? 'no-info' : 'restart' });
    }
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
          this.olderRun = 0;
          this.issue('repeated-seq', line, `seq ${seq} again`);
          return;
        }
        this.olderRun = this.olderRun > 0 && seq === ((this.olderRunSeq + 1) >>> 0) ? this.olderRun + 1 : 1;
        this.olderRunSeq = seq;
        if (this.olderRun >= RESTART_RUN_FRAMES) {
          // The rig restarted without an info line we could read: stop trusting it and ask.
          this.olderRun = 0;
          this.trusted = false;
          this.lastNeedInfoMs = -Infinity;
          this.hold(frame, line);
          return;
        }
        this.issue('repeated-seq', line, `seq ${seq} is behind the last accepted ${this.lastSeq}`);
        return;
      }
      if (delta > 1) {
        const lost = delta - 1;
        this.stats.gaps++;
        this.stats.lostFrames += lost;
        this.emit({ type: 'gap', fromSeq: (this.lastSeq + 1) >>> 0, toSeq: (seq - 1) >>> 0, lost });
      }
    }
    this.olderRun = 0;
    this.lastSeq = seq;
    this.stats.frames++;
    this.emit({ type: 'frame', frame });
  }

  private onInfo(info: RigInfo): void {
    this.stats.infos++;
    const previous = this.current;
    const answer = this.trusted && previous !== null && this.nowMs <= this.infoAnswerUntilMs && sameInfo(previous, info);
    this.infoAnswerUntilMs = -Infinity;
    if (previous !== null && !answer) {
      this.stats.reboots++;
      this.emit({ type: 'reboot', lastSeq: this.lastSeq >= 0 ? this.lastSeq : null });
    }
    this.current = info;
    this.emit({ type: 'info', info });
    if (answer) return;
    this.trusted = true;
    this.lastSeq = -1;
    this.olderRun = 0;
    this.lastNeedInfoMs = -Infinity;
    const held = this.held;
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

// ---------------------------------------------------------------------------------------------------------
// Plain csv mode (`--protocol csv`)

/** Issue kinds the csv mode can report (a subset of the protocol's). */
export type CsvIssueKind = Extract<IssueKind, 'too-long' | 'malformed' | 'wrong-channel-count'>;

export type CsvOutput =
  /** Channel names: from a header line (`named: true`), from options, or `ch1..chN` from the first data line. */
  | { readonly type: 'header'; readonly channels: readonly string[]; readonly named: boolean }
  /** One frame's values (NaN for `nan` or an empty field is malformed); phase and time come from the host. */
  | { readonly type: 'values'; readonly values: Float64Array }
  | { readonly type: 'issue'; readonly kind: CsvIssueKind; readonly line: string; readonly detail: string };

export interface CsvDecoderOptions {
  /** Channel names when the rig prints no header; a header line, when one comes, replaces them. */
  readonly channels?: readonly string[];
}

export interface CsvCounters {
  lines: number;
  frames: number;
  issues: Record<CsvIssueKind, number>;
}

export interface CsvDecoder {
  push(chunk: Uint8Array | string): CsvOutput[];
  /** End of stream: a last line without '\n' counts. */
  end(): CsvOutput[];
  readonly channels: readonly string[] | null;
  readonly pendingBytes: number;
  counters(): CsvCounters;
}

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x09;
}

/** Header names: a letter or '_' first, then letters, digits, `_ . -`. */
function isHeaderName(s: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_.-]*$/.test(s);
}

class CsvStreamDecoder implements CsvDecoder, LineSink {
  private readonly splitter = new LineSplitter(this);
  private readonly scratch = new Float64Array(MAX_LINE_BYTES >>> 1);
  private names: readonly string[] | null;
  private readonly stats: CsvCounters = { lines: 0, frames: 0, issues: { 'too-long': 0, malformed: 0, 'wrong-channel-count': 0 } };
  private out: CsvOutput[] = [];

  constructor(options: CsvDecoderOptions) {
    if (options.channels !== undefined) {
      if (options.channels.length === 0) throw new EnoseError('bad-option', 'csv channels must not be empty');
      this.names = Object.freeze([...options.channels]);
    } else {
      this.names = null;
    }
  }

  get channels(): readonly string[] | null {
    return this.names;
  }

  get pendingBytes(): number {
    return this.splitter.pendingBytes;
  }

  counters(): CsvCounters {
    return { ...this.stats, issues: { ...this.stats.issues } };
  }

  push(chunk: Uint8Array | string): CsvOutput[] {
    this.splitter.feed(chunk);
    const out = this.out;
    this.out = [];
    return out;
  }

  end(): CsvOutput[] {
    this.splitter.flush();
    const out = this.out;
    this.out = [];
    return out;
  }

  private issue(kind: CsvIssueKind, line: string, detail: string): void {
    this.stats.issues[kind]++;
    this.out.push({ type: 'issue', kind, line, detail });
  }

  tooLong(head: Uint8Array, headLen: number, totalBytes: number): void {
    this.stats.lines++;
    this.issue('too-long', excerpt(head, 0, headLen, totalBytes), `line of ${totalBytes} bytes is longer than ${MAX_LINE_BYTES}; discarded`);
  }

  line(buf: Uint8Array, s: number, e: number): void {
    this.stats.lines++;
    const values = this.scratch;
    let n = 0;
    let i = s;
    let bad = -1;
    for (;;) {
      let j = i;
      while (j < e && buf[j] !== 0x2c) j++;
      let a = i;
      let b = j;
      while (a < b && isSpace(buf[a]!)) a++;
      while (b > a && isSpace(buf[b - 1]!)) b--;
      const v = parseNumber(buf, a, b);
      if (v === NOT_A_NUMBER && bad < 0) bad = n;
      values[n++] = v;
      if (j >= e) break;
      i = j + 1;
    }
    if (bad >= 0) {
      const fields = latin1(buf, s, e)
        .split(',')
        .map((f) => f.trim());
      if (fields.every(isHeaderName) && new Set(fields).size === fields.length) {
        this.names = Object.freeze(fields);
        this.out.push({ type: 'header', channels: this.names, named: true });
        return;
      }
      this.issue('malformed', excerpt(buf, s, e), `field ${bad + 1} is not a number or nan`);
      return;
    }
    if (this.names === null) {
      this.names = Object.freeze(Array.from({ length: n }, (_, k) => `ch${k + 1}`));
      this.out.push({ type: 'header', channels: this.names, named: false });
    } else if (n !== this.names.length) {
      this.issue('wrong-channel-count', excerpt(buf, s, e), `${n} values where ${this.names.length} channels are known`);
      return;
    }
    this.stats.frames++;
    this.out.push({ type: 'values', values: values.slice(0, n) });
  }
}

/** A decoder for the plain csv mode: `v1,...,vN` lines, an optional header, no checksum. */
export function createCsvDecoder(options: CsvDecoderOptions = {}): CsvDecoder {
  return new CsvStreamDecoder(options);
}
