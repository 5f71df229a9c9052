/** `enose evaluate --report`: the report of a model on loaded data, written atomically (never half a file). */
import { EnoseError } from '../errors.js';
import { describeFsError, writeFileAtomic } from '../io/files.js';
import type { TrainingRecording } from '../engine/training.js';
import type { ModelBundle } from '../model/runtime/bundle.js';
import type { FeatureTable } from '../types.js';
import { reportDataFromRecordings, reportDataFromTable, type ReportData } from './data.js';
import { renderReport } from './html.js';

/** What `enose evaluate` has loaded: a feature table, or recordings of frames. */
export type ReportInput = { readonly kind: 'features'; readonly table: FeatureTable } | { readonly kind: 'frames'; readonly recordings: readonly TrainingRecording[] };

export function reportDataOf(bundle: ModelBundle, input: ReportInput, sources: readonly string[]): ReportData {
  return input.kind === 'features' ? reportDataFromTable(bundle, input.table, { sources }) : reportDataFromRecordings(bundle, input.recordings, { sources });
}

/** Renders the report and writes it to `path` through a temporary file and a rename. */
export async function writeReport(path: string, bundle: ModelBundle, input: ReportInput, sources: readonly string[]): Promise<ReportData> {
  const data = reportDataOf(bundle, input, sources);
  const html = await renderReport(data);
  try {
    writeFileAtomic(path, html);
  } catch (error) {
    throw new EnoseError('bad-option', `cannot write the report to ${path}: ${describeFsError(error)}`);
  }
  return data;
}
