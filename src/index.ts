/**
 * The public API of the e-nose engine: what a scanner service or an analysis script imports.
 * Everything here is stable within a major version; anything not exported here is internal.
 */
export { EnoseError, formatIssue, type DataIssue, type EnoseErrorCode, type Result } from './errors.js';
export * from './types.js';

// Data sets
export { readDataset, concatFeatureTables, parseLibsvm, parseFeatureCsv, parseFramesCsv, framesCsvHeader, formatFramesCsvRow, type Dataset } from './io/datasets/index.js';
export { readModelFile, writeModelFile } from './io/modelFile.js';
export { reduceFrames, reduceRecordings, reducedFeatureNames } from './signal/reduce.js';

// Models
export { parseBundle, serializeBundle, MODEL_KIND, MODEL_VERSION, type ModelBundle, type ModelInput, type ModelPolicy } from './model/bundle.js';
export {
  CLASSIFIERS,
  compileModel,
  compilePolicy,
  decideVerdict,
  fitModel,
  predictCompiled,
  type ClassifierKind,
  type CompiledModel,
  type CompiledPolicy,
  type FitOptions,
  type PolicyOutcome,
} from './model/pipeline.js';
export { evaluateModel, type EvaluationReport, type SamplePrediction } from './model/evaluation.js';
