/** Turns data paths into the feature table a model trains on or predicts, with the model's own settings. */
import { EnoseError, formatIssue } from '../errors.js';
import { readDataset } from '../io/datasets/index.js';
import type { ModelBundle, ModelInput } from '../model/bundle.js';
import { reducedFeatureNames, reduceRecordings } from '../signal/reduce.js';
import type { FeatureTable } from '../types.js';

/** The method name stored in models trained on frames through the foundation's reduction. */
export const SIMPLE_REDUCTION = 'simple-reduce-v1';

export interface LoadedTable {
  readonly table: FeatureTable;
  readonly input: ModelInput;
  readonly warnings: readonly string[];
}

/** Reads data paths into features; bad input throws EnoseError with the file, the line and the reason. */
export async function loadFeatureTable(paths: readonly string[], baselineS: number): Promise<LoadedTable> {
  if (paths.length === 0) throw new EnoseError('bad-usage', 'no data path given');
  const read = await readDataset(paths);
  if (!read.ok) throw EnoseError.fromIssue('bad-data', read.error);
  const warnings = read.value.warnings.map(formatIssue);
  if (read.value.kind === 'features') {
    const table = read.value.table;
    if (table.count === 0) throw new EnoseError('empty-data', `${paths.join(', ')}: no samples`);
    return { table, input: { kind: 'features', featureNames: [...table.featureNames] }, warnings };
  }
  const { recordings } = read.value;
  const reduced = reduceRecordings(recordings, { baselineS });
  if (!reduced.ok) throw EnoseError.fromIssue('bad-data', reduced.error);
  const channels = [...recordings[0]!.channels];
  return {
    table: reduced.value,
    input: { kind: 'frames', channels, featureNames: reducedFeatureNames(channels), extractor: { method: SIMPLE_REDUCTION, baselineS } },
    warnings,
  };
}

const isLibsvmName = (name: string, j: number) => name === `f${j + 1}`;

/** Reads data for a trained model, checking that its layout (channels or features) is the model's. */
export async function loadTableForModel(paths: readonly string[], bundle: ModelBundle): Promise<LoadedTable> {
  const input = bundle.input;
  const baselineS = input.kind === 'frames' ? input.extractor.baselineS : 30;
  const loaded = await loadFeatureTable(paths, baselineS);
  const where = loaded.table.source;
  if (input.kind === 'frames') {
    if (loaded.input.kind !== 'frames') {
      throw new EnoseError('model-mismatch', `${where}: the model reads frames files (${input.channels.length} channels), this is a feature file`);
    }
    if (input.extractor.method !== SIMPLE_REDUCTION) {
      throw new EnoseError('model-mismatch', `${where}: the model uses feature extractor "${input.extractor.method}", which this command does not provide`);
    }
    const got = loaded.input.channels;
    if (got.length !== input.channels.length || got.some((c, i) => c !== input.channels[i])) {
      throw new EnoseError(
        'model-mismatch',
        `${where}: the model is for ${input.channels.length} channels (${input.channels.join(',')}), the data has ${got.length} (${got.join(',')})`,
      );
    }
    return loaded;
  }
  if (loaded.input.kind !== 'features') {
    throw new EnoseError('model-mismatch', `${where}: the model reads feature files (${input.featureNames.length} features), this is a frames file`);
  }
  const table = loaded.table;
  // libsvm files are sparse: a file whose highest index is below the model's width just has trailing zeros.
  if (table.width < input.featureNames.length && table.featureNames.every(isLibsvmName) && input.featureNames.every(isLibsvmName)) {
    const width = input.featureNames.length;
    const x = new Float64Array(table.count * width);
    for (let i = 0; i < table.count; i++) x.set(table.x.subarray(i * table.width, (i + 1) * table.width), i * width);
    return { ...loaded, table: { ...table, x, width, featureNames: [...input.featureNames] } };
  }
  return loaded;
}
