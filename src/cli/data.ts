/** Turns data paths into what a model trains on or is evaluated on: a feature table, or recordings of frames. */
import { expandForModel, modelViews } from '../model/drift/views.js';
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { EnoseError, formatIssue } from '../errors.js';
import { readDataset } from '../io/datasets/index.js';
import type { Delimiter } from '../io/datasets/delimited.js';
import { DEFAULT_DATA_LIMITS, type DataLimits } from '../io/datasets/limits.js';
import { createReplaySource } from '../io/replay.js';
import type { ModelBundle } from '../model/runtime/bundle.js';
import type { TrainingRecording } from '../engine/training.js';
import type { FeatureTable, SourceEvent } from '../types.js';
import { throwIfStopped } from './stopSignal.js';

export type LoadedData =
  | { readonly kind: 'features'; readonly table: FeatureTable; readonly warnings: readonly string[] }
  | { readonly kind: 'frames'; readonly recordings: readonly TrainingRecording[]; readonly channels: readonly string[]; readonly warnings: readonly string[] };

/** The replayable unit of a frames file: its recording folder when it has a meta.json, else the file itself. */
function replayPath(file: string): string {
  const dir = dirname(file);
  return /^frames(-\d+)?\.csv$/.test(basename(file)) && existsSync(join(dir, 'meta.json')) ? dir : file;
}

/** How data is read: the bounds (io/datasets/limits.ts), and whether a feature row may lack a label (training: no). */
export interface ReadSettings {
  readonly limits?: DataLimits;
  readonly requireLabels?: boolean;
  /** SIGINT/SIGTERM (ctx.signal): checked after each file read and during each replay (StoppedBySignal). */
  readonly signal?: AbortSignal;
}

/**
 * Reads data paths. Feature files come back as one table; frames files as recordings, each replayed (at full
 * speed, in memory) into the source events the live engine would see, so training and evaluation run on the
 * engine's own feature path. Bad input throws EnoseError naming the file, the line and the reason.
 */
export async function loadData(paths: readonly string[], baselineS: number, delimiter: Delimiter = ',', read: ReadSettings = {}): Promise<LoadedData> {
  if (paths.length === 0) throw new EnoseError('bad-usage', 'no data path given');
  const limits = read.limits ?? DEFAULT_DATA_LIMITS;
  const stopped = read.signal;
  const listed = await listData(paths, delimiter, { ...read, limits });
  throwIfStopped(stopped, 'nothing written');
  if (listed.kind === 'features') return listed;
  // The frames files were parsed once to check them and to find the recordings; that parse is out of reach
  // here (listData returned only the file names), so the replay below does not hold the data twice (3.5 GB
  // instead of about 1.9 GB for 2,000 simulated containers).
  const { sources, channels } = listed;
  const warnings = [...listed.warnings];
  const recordings: TrainingRecording[] = [];
  const seen = new Set<string>();
  for (const file of sources) {
    const path = replayPath(file);
    if (seen.has(path)) continue;
    seen.add(path);
    const source = await createReplaySource(path, { speed: 'max', baselineS, delimiter, limits });
    throwIfStopped(stopped, 'nothing written');
    if (!source.ok) throw EnoseError.fromIssue('bad-data', source.error);
    for (const w of source.value.warnings) warnings.push(formatIssue(w));
    const events: SourceEvent[] = [];
    await source.value.run((e) => events.push(e), stopped ?? new AbortController().signal);
    throwIfStopped(stopped, 'nothing written');
    recordings.push({ group: recordingGroup(file), events });
  }
  return { kind: 'frames', recordings, channels, warnings };
}

/** The data read and checked: a feature table, or only the names and channels of the frames files. */
async function listData(
  paths: readonly string[],
  delimiter: Delimiter,
  settings: ReadSettings,
): Promise<LoadedData & { kind: 'features' } | { kind: 'frames'; sources: string[]; channels: string[]; warnings: string[] }> {
  const read = await readDataset(paths, { delimiter, ...settings });
  throwIfStopped(settings.signal, 'nothing written');
  if (!read.ok) throw EnoseError.fromIssue('bad-data', read.error);
  const warnings = read.value.warnings.map(formatIssue);
  if (read.value.kind === 'features') {
    const table = read.value.table;
    if (table.count === 0) throw new EnoseError('empty-data', `${paths.join(', ')}: no samples`);
    return { kind: 'features', table, warnings };
  }
  return { kind: 'frames', sources: read.value.recordings.map((r) => r.source), channels: [...read.value.recordings[0].channels], warnings };
}

/** A recording's group for reports: a folder's name for `<dir>/frames.csv`, else the file's base name. */
function recordingGroup(source: string): string {
  const file = basename(source);
  return /^frames(-\d+)?\.csv$/.test(file) ? basename(dirname(source)) : file.replace(/\.[^.]*$/, '');
}

const isLibsvmName = (name: string, j: number) => name === `f${j + 1}`;

/** Checks that the data has the model's layout (channels or features); pads narrower libsvm tables. */
export function matchModel(bundle: ModelBundle, data: LoadedData, where: string): LoadedData {
  const input = bundle.input;
  if (input.kind === 'frames') {
    if (data.kind !== 'frames') {
      throw new EnoseError('model-mismatch', `${where}: the model reads frames files (${input.channels.length} channels), this is a feature file`);
    }
    const got = data.channels;
    if (got.length !== input.channels.length || got.some((c, i) => c !== input.channels[i])) {
      throw new EnoseError(
        'model-mismatch',
        `${where}: the model is for ${input.channels.length} channels (${input.channels.join(',')}), the data has ${got.length} (${got.join(',')})`,
      );
    }
    return data;
  }
  if (data.kind !== 'features') {
    throw new EnoseError('model-mismatch', `${where}: the model reads feature files (${input.featureNames.length} features), this is a frames file`);
  }
  // A views model reads each base feature through several views: expand the base table it was given.
  if (modelViews(bundle)) return { ...data, table: expandForModel(bundle, data.table) };
  const table = data.table;
  // libsvm files are sparse: a file whose highest index is below the model's width just has trailing zeros.
  if (table.width < input.featureNames.length && table.featureNames.every(isLibsvmName) && input.featureNames.every(isLibsvmName)) {
    const width = input.featureNames.length;
    const x = new Float64Array(table.count * width);
    for (let i = 0; i < table.count; i++) x.set(table.x.subarray(i * table.width, (i + 1) * table.width), i * width);
    return { ...data, table: { ...table, x, width, featureNames: [...input.featureNames] } };
  }
  return data;
}
