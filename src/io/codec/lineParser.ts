/**
 * One ENL/1 line -> one message or one issue. The parser keeps no state between lines; its results land in
 * its fields to spare the hot path an allocation per line (`decodeLine` copies them out).
 */

import type { Phase, RigCommand, RigInfo } from '../../types.js';
import { crc16CcittFalse } from './crc.js';
import { INFO_LIMITS, isNameField, isTextField, MAX_END_REASON_CHARS, MAX_LINE_BYTES, MAX_SAMPLE_ID_CHARS, PROTOCOL_NAME, type Ack, type IssueKind, type LineIssue, type LineResult } from './enl1.js';
import { NOT_A_NUMBER, NumberScanner, POW10 } from './numbers.js';
import { excerpt, HEX, latin1, toBytes } from './text.js';

/**
 * What a line parsed to. String literals rather than numeric constants shared across modules: the decoder's
 * switch on an imported constant cost the 8-channel decode about 10 %, on a literal nothing.
 */
export type LineType = 'none' | 'info' | 'frame' | 'ack' | 'command' | 'issue';

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

export class LineParser {
  type: LineType = 'none';
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
  /** The number scanner's cursor, reused for every field. */
  private readonly num = new NumberScanner();

  private fail(kind: IssueKind, detail: string): LineType {
    this.issueKind = kind;
    this.detail = detail;
    this.type = 'issue';
    return 'issue';
  }

  /**
   * Parses `buf[s..e)` (no '\n', no trailing '\r', at most MAX_LINE_BYTES long). `channelCount` < 0 skips
   * the channel-count check (no info yet).
   */
  parse(buf: Uint8Array, s: number, e: number, channelCount: number): LineType {
    let dollar = s;
    while (dollar < e && buf[dollar] !== 0x24) dollar++;
    if (dollar === e) return this.fail('malformed', "no '$' in the line");
    let star = e - 1;
    while (star > dollar && buf[star] !== 0x2a) star--;
    if (star === dollar) return this.fail('malformed', "no '*' checksum field");
    if (e - star !== 5) return this.fail('malformed', 'checksum field is not four hex digits');
    const h0 = hexDigit(buf[star + 1]);
    const h1 = hexDigit(buf[star + 2]);
    const h2 = hexDigit(buf[star + 3]);
    const h3 = hexDigit(buf[star + 4]);
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

  private parseFrame(buf: Uint8Array, s: number, e: number, channelCount: number): LineType {
    const num = this.num;
    const seq = num.uint32(buf, s, e);
    let i = num.end;
    if (seq < 0 || i === e || buf[i] !== 0x2c) return this.fail('malformed', 'seq is not a uint32');
    const tMs = num.uint32(buf, i + 1, e);
    i = num.end;
    if (tMs < 0 || i === e || buf[i] !== 0x2c) return this.fail('malformed', 't_ms is not a uint32');
    const phase = i + 1 < e ? PHASE_OF_BYTE[buf[i + 1]] : undefined;
    i += 2;
    if (phase === undefined || (i < e && buf[i] !== 0x2c)) return this.fail('malformed', 'phase is not one of I, B, E, R');
    this.seq = seq;
    this.tMs = tMs;
    this.phase = phase;
    let n = 0;
    const values = this.values;
    // One load of the imported table per line, not one per value.
    const pow10 = POW10;
    // i is at the ',' before the first value, or at e for a frame without values. buf[e] is the '*' (parse
    // checked it), a non-digit that ends every digit run below without a bounds test.
    while (i < e) {
      // Fast path for what rigs print, `-?d*(.d*)?` with at most 15 digits: the same arithmetic as
      // NumberScanner.number's exact path (mant / 10^k), so the same double; anything else goes through NumberScanner.number.
      const f = i + 1;
      let j = f;
      const neg = buf[j] === 0x2d;
      if (neg) j++;
      const m0 = j;
      let mant = 0;
      let d = buf[j] - 0x30;
      while (d >>> 0 <= 9) {
        mant = mant * 10 + d;
        d = buf[++j] - 0x30;
      }
      let digits = j - m0;
      let frac = 0;
      if (d === -2) {
        // '.'
        const f0 = ++j;
        d = buf[j] - 0x30;
        while (d >>> 0 <= 9) {
          mant = mant * 10 + d;
          d = buf[++j] - 0x30;
        }
        frac = j - f0;
        digits += frac;
      }
      let v: number;
      if (digits > 0 && digits <= 15 && (j === e || d === -4)) {
        // ',' is 0x2c, 0x30 - 4.
        v = frac === 0 ? mant : mant / pow10[frac];
        if (neg) v = -v;
        i = j;
      } else {
        v = num.number(buf, f, e);
        i = num.end;
        if (v === NOT_A_NUMBER || (i < e && buf[i] !== 0x2c)) return this.fail('malformed', `value ${n + 1} is not a number or nan`);
      }
      values[n++] = v;
    }
    this.count = n;
    if (channelCount >= 0 && n !== channelCount) {
      return this.fail('wrong-channel-count', `${n} values where the info line announced ${channelCount}`);
    }
    this.type = 'frame';
    return 'frame';
  }

  private parseInfo(fields: string): LineType {
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
    const maxName = INFO_LIMITS.maxNameChars;
    if (rig.length > maxName || fw.length > maxName) return this.fail('malformed', `rig or fw is longer than ${maxName} characters`);
    const rateText = kv.get('rate_hz')!;
    const rb = new Uint8Array(rateText.length);
    for (let i = 0; i < rateText.length; i++) rb[i] = rateText.charCodeAt(i) & 0xff;
    const rateHz = this.num.field(rb, 0, rb.length);
    if (rateHz === NOT_A_NUMBER || !(rateHz > 0) || !Number.isFinite(rateHz)) return this.fail('malformed', `rate_hz ${JSON.stringify(rateText)} is not a positive number`);
    if (rateHz < INFO_LIMITS.minRateHz || rateHz > INFO_LIMITS.maxRateHz) {
      return this.fail('malformed', `rate_hz ${excerptText(rateText)} is outside ${INFO_LIMITS.minRateHz} to ${INFO_LIMITS.maxRateHz}`);
    }
    const unit = kv.get('unit')!;
    if (unit !== 'ohm' && unit !== 'adc') return this.fail('malformed', `unit ${JSON.stringify(unit)} is not ohm or adc`);
    const channels = kv.get('channels')!.split(';');
    if (channels.length > INFO_LIMITS.maxChannels) return this.fail('malformed', `${channels.length} channels, more than ${INFO_LIMITS.maxChannels}`);
    const seen = new Set<string>();
    for (const c of channels) {
      if (!isNameField(c)) return this.fail('malformed', `bad channel name ${excerptText(c)}`);
      if (c.length > maxName) return this.fail('malformed', `channel name ${excerptText(c)} is longer than ${maxName} characters`);
      if (seen.has(c)) return this.fail('malformed', `channel ${c} named twice`);
      seen.add(c);
    }
    this.info = Object.freeze({ proto, rig, fw, rateHz, unit, channels: Object.freeze(channels) });
    this.type = 'info';
    return 'info';
  }

  private parseAck(fields: string): LineType {
    const parts = fields.split(',');
    if (parts.length < 2) return this.fail('malformed', 'ack needs a command and OK or ERR');
    const command = parts[0];
    const status = parts[1];
    if (!isTextField(command)) return this.fail('malformed', 'ack command is empty or not printable');
    if (status !== 'OK' && status !== 'ERR') return this.fail('malformed', `ack status ${JSON.stringify(status)} is not OK or ERR`);
    if (parts.length > 3) return this.fail('malformed', 'ack has fields after its detail');
    const detail = parts[2];
    if (detail !== undefined && !isTextField(detail)) return this.fail('malformed', 'ack detail is empty or not printable');
    this.ack = Object.freeze(detail === undefined ? { command, ok: status === 'OK' } : { command, ok: status === 'OK', detail });
    this.type = 'ack';
    return 'ack';
  }

  private parseCommand(fields: string): LineType {
    const parts = fields.split(',');
    const word = parts[0];
    if (word === 'START') {
      const id = parts[1];
      if (parts.length !== 2 || id === undefined || !isTextField(id) || id.length > MAX_SAMPLE_ID_CHARS) {
        return this.fail('malformed', `START needs one sample id of 1 to ${MAX_SAMPLE_ID_CHARS} printable characters`);
      }
      this.command = Object.freeze({ command: 'START', sampleId: id });
    } else if (word === 'END') {
      const reason = parts[1];
      if (parts.length !== 2 || reason === undefined || !isTextField(reason) || reason.length > MAX_END_REASON_CHARS) {
        return this.fail('malformed', `END needs one reason of 1 to ${MAX_END_REASON_CHARS} printable characters`);
      }
      this.command = Object.freeze({ command: 'END', reason });
    } else if (word === 'STOP' || word === 'INFO') {
      if (parts.length !== 1) return this.fail('malformed', `${word} takes no arguments`);
      this.command = Object.freeze({ command: word });
    } else {
      return this.fail('malformed', `${UNKNOWN_COMMAND}${JSON.stringify(word)}`);
    }
    this.type = 'command';
    return 'command';
  }
}

/** Detail prefix of a valid command line whose word the parser does not know. */
const UNKNOWN_COMMAND = 'unknown command ';

/**
 * The command word of a line that passed every check but names a command this codec does not know (a rig
 * answers it `$ENA,<word>,ERR,unknown-command`); null for any other issue.
 */
export function unknownCommandWord(issue: LineIssue): string | null {
  if (issue.kind !== 'malformed' || !issue.detail.startsWith(UNKNOWN_COMMAND)) return null;
  try {
    const word: unknown = JSON.parse(issue.detail.slice(UNKNOWN_COMMAND.length));
    return typeof word === 'string' && isTextField(word) && word.length <= 16 ? word : null;
  } catch {
    return null;
  }
}

/** A field quoted for a detail, cut to 40 characters (a detail never carries a whole 4 KiB field). */
function excerptText(s: string): string {
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}...` : s);
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
    case 'frame':
      return { ok: true, message: { type: 'frame', frame: { seq: p.seq, tMs: p.tMs, phase: p.phase, values: p.values.slice(0, p.count) } } };
    case 'info':
      return { ok: true, message: { type: 'info', info: p.info! } };
    case 'ack':
      return { ok: true, message: { type: 'ack', ack: p.ack! } };
    case 'command':
      return { ok: true, message: { type: 'command', command: p.command! } };
    default:
      return { ok: false, issue: { kind: p.issueKind, line: excerpt(buf, 0, e), detail: p.detail } };
  }
}
