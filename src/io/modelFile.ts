/** Reading and writing model bundles. */
import { fail, ok, type DataIssue, type Result } from '../errors.js';
import { parseBundle, serializeBundle, type ModelBundle } from '../model/bundle.js';
import { readFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describeFsError, writeFileAtomic } from './files.js';

/** A gzip stream starts with these two bytes (RFC 1952). */
const GZIP_MAGIC = [0x1f, 0x8b] as const;

/**
 * The text of a model file: plain JSON, or gzip-compressed JSON (recognised by its first two bytes, whatever the
 * name). The shipped models are compressed (`.json.gz`): their numbers are most of their size, and gzip halves it
 * without changing one bit of the model.
 */
function readModelText(path: string): Result<string, DataIssue> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    return fail({ file: path, line: 0, reason: describeFsError(error) });
  }
  if (bytes.length < 2 || bytes[0] !== GZIP_MAGIC[0] || bytes[1] !== GZIP_MAGIC[1]) return ok(bytes.toString('utf8'));
  try {
    return ok(gunzipSync(bytes).toString('utf8'));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return fail({ file: path, line: 0, reason: `a gzip file that does not decompress (${message.split('\n')[0]}), expected a model (JSON or gzip JSON)` });
  }
}

/**
 * Reads and validates a model file (JSON, or gzip-compressed JSON); every problem is a value naming the file (and
 * the JSON line).
 */
export function readModelFile(path: string): Result<ModelBundle, DataIssue> {
  const text = readModelText(path);
  if (!text.ok) return text;
  if (text.value.trim() === '') return fail({ file: path, line: 0, reason: 'empty file, expected a model (JSON)' });
  let json: unknown;
  try {
    json = JSON.parse(text.value);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const position = /position (\d+)/.exec(message);
    const line = position ? text.value.slice(0, Number(position[1])).split('\n').length : 0;
    return fail({ file: path, line, reason: `not valid JSON: ${message.split('\n')[0]}` });
  }
  return parseBundle(json, path);
}

/** Writes a model file: gzip-compressed JSON when `path` ends in `.gz`, plain JSON otherwise. */
export function writeModelFile(path: string, bundle: ModelBundle): void {
  const json = serializeBundle(bundle);
  writeFileAtomic(path, path.endsWith('.gz') ? gzipSync(json, { level: 9 }) : json);
}
