/** Reading and writing model bundles. */
import { fail, type DataIssue, type Result } from '../errors.js';
import { parseBundle, serializeBundle, type BundleCheckOptions, type ModelBundle } from '../model/runtime/bundle.js';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describeFsError, writeFileAtomic } from './files.js';
import { fileSizeIssue, MODEL_SIZE_LIMITS, parseModelBytes, type ModelSizeLimits } from './modelBytes.js';

export interface ReadModelOptions extends BundleCheckOptions {
  /** Size bounds of the file and its JSON (src/io/modelBytes.ts). @default MODEL_SIZE_LIMITS */
  readonly limits?: ModelSizeLimits;
}

/** The file's bytes, refused before reading when larger than `maxBytes` (the size is taken from the open file). */
function readBounded(path: string, maxBytes: number): Result<Buffer, string> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    return fail(describeFsError(error));
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return fail('not a regular file, expected a model');
    const tooLarge = fileSizeIssue(stat.size, { ...MODEL_SIZE_LIMITS, maxFileBytes: maxBytes });
    if (tooLarge !== null) return fail(tooLarge);
    // One byte past the bound is read, so a file that grew since the stat is caught too.
    const bytes = Buffer.allocUnsafe(Math.min(stat.size, maxBytes) + 1);
    let length = 0;
    for (let n; length < bytes.length && (n = readSync(fd, bytes, length, bytes.length - length, null)) > 0; ) length += n;
    return { ok: true, value: bytes.subarray(0, length) };
  } catch (error) {
    return fail(describeFsError(error));
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads and validates a model file (JSON, or gzip-compressed JSON, recognised by its first two bytes, whatever
 * the name); every problem is a value naming the file (and the JSON line). Every size is bounded
 * (`MODEL_SIZE_LIMITS`) and every setting checked for meaning (src/model/runtime/modelBounds.ts). The shipped models are
 * compressed (`.json.gz`): their numbers are most of their size, and gzip halves it without changing one bit.
 */
export function readModelFile(path: string, options: ReadModelOptions = {}): Result<ModelBundle, DataIssue> {
  const limits = options.limits ?? MODEL_SIZE_LIMITS;
  const bytes = readBounded(path, limits.maxFileBytes);
  if (!bytes.ok) return fail({ file: path, line: 0, reason: bytes.error });
  const json = parseModelBytes(bytes.value, limits);
  if (!json.ok) return fail({ file: path, ...json.error });
  return parseBundle(json.value, path, options);
}

/** Writes a model file: gzip-compressed JSON when `path` ends in `.gz`, plain JSON otherwise. */
export function writeModelFile(path: string, bundle: ModelBundle): void {
  const json = serializeBundle(bundle);
  writeFileAtomic(path, path.endsWith('.gz') ? gzipSync(json, { level: 9 }) : json);
}
