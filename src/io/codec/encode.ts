/** ENL/1 encoders: each returns a complete line with its checksum and '\n', or throws on misuse. */

import { EnoseError } from '../../errors.js';
import type { Frame, RigCommand, RigInfo } from '../../types.js';
import { crcOfString } from './crc.js';
import { isNameField, isTextField, MAX_END_REASON_CHARS, MAX_SAMPLE_ID_CHARS, PROTOCOL_NAME, type Ack } from './enl1.js';
import { HEX } from './text.js';

/** `$<body>*HHHH\n` for any body (the body must be printable ASCII without '$', '*' or newlines). */
export function encodeLine(body: string): string {
  const c = crcOfString(body);
  return `$${body}*${HEX[(c >>> 12) & 15]}${HEX[(c >>> 8) & 15]}${HEX[(c >>> 4) & 15]}${HEX[c & 15]}\n`;
}

function misuse(message: string): EnoseError {
  return new EnoseError('bad-usage', message);
}


/** Host-to-rig command line, e.g. `$ENC,START,MSCU1234567*FDC1\n`. Throws on a sample id or END reason with `,;*$`. */
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
    case 'END':
      if (!isTextField(command.reason) || command.reason.length > MAX_END_REASON_CHARS) {
        throw misuse(`END reason must be 1 to ${MAX_END_REASON_CHARS} printable ASCII characters without , ; * $: ${JSON.stringify(command.reason)}`);
      }
      return encodeLine(`ENC,END,${command.reason}`);
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
  for (let i = 0; i < v.length; i++) body += `,${formatValue(v[i])}`;
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

