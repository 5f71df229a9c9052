/** Bytes as text for issues and field parsing: latin1 (one byte, one character), hex, excerpts. */

export const HEX = '0123456789ABCDEF';

/** `buf[s..e)` as a latin1 string. */
export function latin1(buf: Uint8Array, s: number, e: number): string {
  let out = '';
  for (let i = s; i < e; i += 4096) out += String.fromCharCode.apply(null, buf.subarray(i, Math.min(e, i + 4096)) as unknown as number[]);
  return out;
}

/** Characters of an offending line kept in an issue. */
export const EXCERPT_CHARS = 120;

/** The line for humans: control and non-ASCII bytes as \xNN, cut to about 120 characters. */
export function excerpt(buf: Uint8Array, s: number, e: number, totalBytes = e - s): string {
  let out = '';
  let i = s;
  for (; i < e && out.length < EXCERPT_CHARS; i++) {
    const b = buf[i];
    out += b >= 0x20 && b <= 0x7e ? String.fromCharCode(b) : `\\x${HEX[b >>> 4]}${HEX[b & 15]}`;
  }
  return i - s < totalBytes ? `${out}...` : out;
}

/** A string as bytes, one a character (beyond latin1 as '?'); bytes as they are. */
export function toBytes(line: string | Uint8Array): Uint8Array {
  if (typeof line !== 'string') return line;
  const out = new Uint8Array(line.length);
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    out[i] = c > 0xff ? 0x3f : c;
  }
  return out;
}
