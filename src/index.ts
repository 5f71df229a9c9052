/**
 * The public API of the e-nose engine: what a scanner service or an analysis script imports.
 * Everything here is stable within a major version; anything not exported here is internal.
 */
export { EnoseError, formatIssue, type DataIssue, type EnoseErrorCode, type Result } from './errors.js';
export * from './types.js';

// The engine
export { createEngine, type Engine, type EngineOptions } from './engine/engine.js';
export { EngineCore, extractorOf, type EngineCoreOptions, type CycleFeaturesRecord } from './engine/core.js';
export { extractTrainingSet, type TrainingSet, type TrainingRecording, type TrainingSetOptions } from './engine/training.js';
export { judgeRecordings } from './engine/judge.js';
export { EarlyEngineCore } from './engine/earlyCore.js';
export { measureEarly, type EarlyDecisionRow, type EarlyMeasureOptions, type EarlySummary, type DecisionTimes } from './engine/earlyMeasure.js';
export { decideAtCheckpoint, decideEarly, checkPlan, type CheckpointScore, type CheckpointThresholds, type EarlyPlan, type EarlyOutcome } from './engine/earlyDecision.js';
export { parseEarlyPlan, resolveEarlyPlan, EARLY_PLAN_KIND, EARLY_PLAN_VERSION, type EarlyPlanData, type EarlyCheckpointData, type EngineEarlyOption } from './engine/earlyPlanSchema.js';
export { SHIPPED_EARLY_PLAN, shippedEarlyOption } from './shipped/earlyPlan.js';

// Sources, recordings and files
export { createMemorySource, framesToSourceEvents, type MemorySource, type MemorySourceOptions } from './io/memory.js';
export { createReplaySource, type ReplaySource, type ReplayOptions, type ReplaySpeed } from './io/replay.js';
export { createReplayRig, openReplayRig, cutCycles, type ReplayRig, type ReplayRigOptions, type OpenReplayRigOptions, type OpenedReplayRig, type RecordedCycles } from './io/replayRig.js';
export {
  createSerialSource,
  describePortError,
  listPorts,
  resolveAutoPort,
  type ListPortsOptions,
  type SerialPortInfo,
  type CsvModeOptions,
  type PortFactory,
  type SerialPortLike,
  type SerialProtocol,
  type SerialSource,
  type SerialSourceOptions,
  type SerialSourceStats,
} from './io/serial.js';
export { createRecorder, type Recorder, type RecorderOptions } from './io/recording.js';
export { canEndCycles, DEFAULT_END_TIMEOUT_MS, type CycleEnded, type CycleEnding, type CycleEndIssue, type CycleEndIssueKind, type CycleEndResult } from './io/cycleEnd.js';
export { eventToJson, parseEventJson } from './io/eventJson.js';
export { readDataset, concatFeatureTables, parseLibsvm, parseFeatureCsv, parseFramesCsv, framesCsvHeader, formatFramesCsvRow, type Dataset, type DatasetOptions, DEFAULT_DATA_LIMITS, type DataLimits } from './io/datasets/index.js';
export { readModelFile, writeModelFile, type ReadModelOptions } from './io/modelFile.js';
export { MODEL_SIZE_LIMITS, type ModelSizeLimits } from './io/modelBytes.js';
export { readTrustedKeys, readPrivateKey, readSignatureFile, writeSignatureFile } from './io/keyFiles.js';
export { createDecoder, decodeLine, encodeCommand, encodeFrame, encodeInfo, crc16CcittFalse, type DecoderOutput } from './io/protocol.js';

// Signal processing
export { CycleFeatures, DEFAULT_EXTRACTOR, decidesAfterRecovery, featureNames, type ExtractorConfig, type ResponseKind } from './signal/features.js';
export { CycleTracker, DEFAULT_CYCLE_LIMITS, type CycleLimits } from './signal/cycle.js';

// Models
export { parseBundle, serializeBundle, MODEL_KIND, MODEL_VERSION, type BundleCheckOptions, type ModelBundle, type ModelInput, type ModelPolicy } from './model/runtime/bundle.js';
export { MODEL_BOUNDS, EXTRACTOR_BOUNDS } from './model/runtime/modelBounds.js';
export { signModel, verifyModelSignature, keyIdOf, type ModelSignature, type TrustedKey } from './model/runtime/signature.js';
export {
  compileModel,
  compilePolicy,
  decideVerdict,
  noveltyOfLast,
  predictCompiled,
  predictForVerdict,
  predictFused,
  predictClassesBatch,
  type CompiledModel,
  type CompiledPolicy,
  type PolicyOutcome,
} from './model/runtime/pipeline.js';
export { CLASSIFIERS, fitModel, type ClassifierKind, type FitOptions } from './model/fitting/fitModel.js';
export { NOVELTY_CEILING } from './model/runtime/novelty.js';
export { rethresholdModel, type RethresholdOptions, type RethresholdResult } from './model/drift/rethreshold.js';
export { thresholdForTarget, type TargetThreshold } from './model/runtime/policy.js';
export type { MlpOptions, MlpModel, MlpNetwork, MlpLayer } from './model/fitting/mlp.js';
export { fitViewsModel, expandForModel, FEATURE_VIEWS, type FeatureView } from './model/drift/views.js';
export { createAdaptation, observeSample, applyAdaptation, adaptedBundle, type AdaptationOptions, type AdaptationState } from './model/drift/adaptation.js';
export { evaluateModel, reportOf, type EvaluationReport, type SamplePrediction, type JudgedSample } from './model/fitting/evaluation.js';

// The simulator
export { createSimulation, simulateContainers, type SimulationOptions, type Simulation, type SimCycle } from './sim/simulate.js';
export { simulationEvents, simulatedRigInfo } from './sim/events.js';

// The shipped models and data sets (recipes as data), and a model over a simulated set
export {
  SHIPPED_SETS,
  SHIPPED_MODELS,
  LINEAR_MODEL_RECIPE,
  LINEAR_RECOVERY_RECIPE,
  EXPOSURE_MODEL_RECIPE,
  RECOVERY_MODEL_RECIPE,
  loadShippedModel,
  shippedModelPath,
  type Recipe,
  type ShippedModel,
  type ShippedModelSpec,
  type ShippedThreshold,
} from './shipped/recipes.js';
export { runSimulatedSet, formatSummary, type RunSummary } from './shipped/simulatedSet.js';
