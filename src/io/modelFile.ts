/** Reading and writing model bundles. */
import { fail, type DataIssue, type Result } from '../errors.js';
import { parseBundle, serializeBundle, type ModelBundle } from '../model/bundle.js';
import { readTextFile, writeFileAtomic } from './files.js';

/** Reads and validates a model file; every problem is a value naming the file (and the JSON line). */
export function readModelFile(path: string): Result<ModelBundle, DataIssue> {
  const text = readTextFile(path);
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

export function writeModelFile(path: string, bundle: ModelBundle): void {
  writeFileAtomic(path, serializeBundle(bundle));
}
