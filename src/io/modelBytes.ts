/**
 * The bytes of a model (a file, or a fleet roll-out message) to parsed JSON, with every size bounded before it
 * is allocated: the compressed size, the decompressed size (zlib `maxOutputLength`), and, before `JSON.parse`, the
 * number of JSON values and the nesting depth. A gzip bomb or a small-compressing huge array is refused with one
 * line naming the bound, never a fatal out-of-memory.
 */
import { fail, ok, type Result } from '../errors.js';
import { gunzipSync } from 'node:zlib';

export interface ModelSizeLimits {
  /** Largest model file or message, compressed or not. @default 128 MiB */
  readonly maxFileBytes: number;
  /** Largest model JSON text after decompression. @default 128 MiB */
  readonly maxJsonBytes: number;
  /** Most JSON values (numbers, strings, ...) in one model. @default 16 M (a parsed number array of 128 MB) */
  readonly maxJsonValues: number;
  /** Deepest nesting of arrays and objects. @default 32 */
  readonly maxJsonDepth: number;
}

/**
 * The shipped models are 2.0 and 1.5 MB compressed, 4.5 and 3.2 MB of JSON, 0.22 M values, depth 7: the bounds
 * leave room for a model 28 times larger than the default one, and keep the reading of a refused file (a gzip
 * bomb: the output stops at the bound) near 0.25 GB of memory.
 */
export const MODEL_SIZE_LIMITS: ModelSizeLimits = Object.freeze({
  maxFileBytes: 128 * 1024 * 1024,
  maxJsonBytes: 128 * 1024 * 1024,
  maxJsonValues: 16 * 1024 * 1024,
  maxJsonDepth: 32,
});

/** A gzip stream starts with these two bytes (RFC 1952). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

const MIB = 1024 * 1024;
const mib = (n: number) => (n >= MIB ? `${Math.round((n / MIB) * 10) / 10} MiB` : `${n} bytes`);

/** Why a model of `size` bytes is refused for its size, or null. */
export function fileSizeIssue(size: number, limits: ModelSizeLimits = MODEL_SIZE_LIMITS): string | null {
  return size > limits.maxFileBytes ? `${mib(size)}, larger than the ${mib(limits.maxFileBytes)} a model may be` : null;
}

/** The text of model bytes: plain JSON, or gzip JSON (by its first two bytes), at most `maxJsonBytes`. */
export function modelText(bytes: Buffer, limits: ModelSizeLimits = MODEL_SIZE_LIMITS): Result<string, string> {
  const size = fileSizeIssue(bytes.length, limits);
  if (size !== null) return fail(size);
  if (!isGzip(bytes)) {
    if (bytes.length > limits.maxJsonBytes) return fail(`${mib(bytes.length)} of JSON, more than the ${mib(limits.maxJsonBytes)} a model may hold`);
    return ok(bytes.toString('utf8'));
  }
  let text: Buffer;
  try {
    text = gunzipSync(bytes, { maxOutputLength: limits.maxJsonBytes });
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    if (e.code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) {
      return fail(`decompresses to more than the ${mib(limits.maxJsonBytes)} a model may hold (a gzip bomb or not a model)`);
    }
    return fail(`a gzip file that does not decompress (${String(e.message).split('\n')[0]}), expected a model (JSON or gzip JSON)`);
  }
  return ok(text.toString('utf8'));
}

/**
 * Counts the JSON values and the nesting depth of `text` without parsing it (strings skipped, escapes honoured):
 * null when within the limits, else the reason. Linear, allocation-free; malformed JSON is left to JSON.parse.
 */
export function jsonSizeIssue(text: string, limits: ModelSizeLimits = MODEL_SIZE_LIMITS): string | null {
  let depth = 0;
  // Values: each separator starts one more, and each opened container holds at least its first.
  let values = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // "...": skip to the closing quote
      for (i++; i < text.length; i++) {
        const s = text.charCodeAt(i);
        if (s === 0x5c) i++;
        else if (s === 0x22) break;
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > limits.maxJsonDepth) return `JSON nested deeper than ${limits.maxJsonDepth} levels, deeper than any model`;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    } else if (c === 0x2c) {
      if (++values > limits.maxJsonValues) return `more than ${limits.maxJsonValues} JSON values, more than a model may hold`;
    }
  }
  return null;
}

/** Model bytes to parsed JSON, every size bounded (see ModelSizeLimits); a problem is one line, with its JSON line. */
export function parseModelBytes(bytes: Buffer, limits: ModelSizeLimits = MODEL_SIZE_LIMITS): Result<unknown, { line: number; reason: string }> {
  const text = modelText(bytes, limits);
  if (!text.ok) return fail({ line: 0, reason: text.error });
  if (text.value.trim() === '') return fail({ line: 0, reason: 'empty file, expected a model (JSON)' });
  const size = jsonSizeIssue(text.value, limits);
  if (size !== null) return fail({ line: 0, reason: size });
  try {
    return ok(JSON.parse(text.value) as unknown);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const position = /position (\d+)/.exec(message);
    const line = position ? text.value.slice(0, Number(position[1])).split('\n').length : 0;
    return fail({ line, reason: `not valid JSON: ${message.split('\n')[0]}` });
  }
}
