/**
 * The two shipped models. Every user-facing path (service, page, embedding) is tested with both: the default
 * model decides when the recovery ends, the exposure model when the exposure ends, so a cycle's verdict and
 * the rig's state after it differ between them.
 */
import { readModelFile } from '../../src/io/modelFile.js';
import type { ModelBundle } from '../../src/model/runtime/bundle.js';
export interface ShippedModel {
  /** `default` or `exposure`: the name in test titles. */
  readonly name: 'default' | 'exposure';
  /** Path from the repository root. */
  readonly path: string;
  /** The phase whose end brings the verdict. */
  readonly decidesAfter: 'R' | 'E';
}

export const SHIPPED_MODELS: readonly ShippedModel[] = [
  { name: 'default', path: 'datasets/container-sim/default-model.json.gz', decidesAfter: 'R' },
  { name: 'exposure', path: 'datasets/container-sim/exposure-model.json.gz', decidesAfter: 'E' },
];

/**
 * The recovery-start model: a checkpoint of the shipped early plan (100 s, `in-recovery`), not a model `npm start`
 * runs alone; the plan's paths (`--early`) are tested with it.
 */
export const RECOVERY_START_MODEL_PATH = 'datasets/container-sim/recovery-start-model.json.gz';

/** A model file read with the engine's own reader; a file that does not load throws with the reader's reason. */
export function loadModel(path: string): ModelBundle {
  const read = readModelFile(path);
  if (!read.ok) throw new Error(read.error.reason);
  return read.value;
}
