/**
 * The model bundle: one JSON-able, frozen object holding everything a verdict needs, validated with zod on
 * load. `hash` is the SHA-256 of the bundle's canonical JSON without the `hash` field, and `id` its first 16
 * hex digits: the same training data and options give the same id.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { fail, ok, type Result } from '../../errors.js';
import { checkMeaning, MODEL_BOUNDS } from './modelBounds.js';
import { modelRigSchema, type ModelRig } from './rigFingerprint.js';

export const MODEL_KIND = 'enose-model';
export const MODEL_VERSION = 1;

const B = MODEL_BOUNDS;
const finite = z.number().finite();
/** Every array is bounded, so that no length read from a file can ask for gigabytes (see MODEL_BOUNDS). */
const finiteArray = z.array(finite).max(B.maxNumbers).readonly();
const name = z.string().max(B.maxNameLength);
const names = (max: number) => z.array(name).max(max);

const scalerSchema = z.object({ mean: finiteArray, scale: z.array(finite.positive()).max(B.maxFeatures).readonly() });

const pcaSchema = z.object({
  axes: finiteArray,
  width: z.number().int().positive().max(B.maxFeatures),
  components: z.number().int().positive().max(B.maxFeatures),
  variance: finiteArray,
  varianceRatio: finiteArray,
});

const classifierSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('knn'),
    k: z.number().int().positive().max(B.maxNeighbours),
    points: finiteArray,
    labels: z.array(z.number().int().nonnegative()).max(B.maxNumbers).readonly(),
  }),
  z.object({ type: z.literal('lda'), coef: finiteArray, intercept: finiteArray }),
  z.object({ type: z.literal('logreg'), coef: finiteArray, intercept: finiteArray }),
  z.object({
    type: z.literal('mlp'),
    activation: z.literal('relu'),
    networks: z
      .array(
        z.object({
          layers: z
            .array(
              z.object({
                inputs: z.number().int().positive().max(B.maxFeatures),
                outputs: z.number().int().positive().max(B.maxFeatures),
                weights: finiteArray,
                bias: finiteArray,
              }),
            )
            .min(1)
            .max(B.maxLayers),
          epochs: z.number().int().nonnegative(),
          bestEpoch: z.number().int().nonnegative(),
          validationAccuracy: z.number().min(0).max(1),
        }),
      )
      .min(1)
      .max(B.maxNetworks),
  }),
]);

const policySchema = z.object({
  /** `suspicious-listed`: the listed labels are suspicious, all others clear; `clear-listed`: the reverse. */
  rule: z.enum(['suspicious-listed', 'clear-listed']),
  labels: names(B.maxClasses).readonly(),
  /** A sample is suspicious when P(suspicious classes) > threshold. */
  threshold: z.number().min(0).max(1),
  maxFalseAlarm: z.number().min(0).max(1),
  /** How the threshold was chosen: out-of-fold scores of a k-fold cross-validation on the training data. */
  calibration: z.object({
    folds: z.number().int().nonnegative(),
    clearSamples: z.number().int().nonnegative(),
    suspiciousSamples: z.number().int().nonnegative(),
    falseAlarmRate: z.number().nullable(),
    detectionRate: z.number().nullable(),
    note: z.string().max(B.maxTextLength),
  }),
});

const inputSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('features'), featureNames: names(B.maxFeatures).min(1) }),
  z.object({
    kind: z.literal('frames'),
    channels: names(B.maxChannels).min(1),
    featureNames: names(B.maxFeatures).min(1),
    extractor: z.object({ method: z.string(), baselineS: finite.nonnegative() }).catchall(z.unknown()),
  }),
]);

const noveltySchema = z.object({
  method: z.literal('nearest-sample'),
  points: finiteArray,
  threshold: finite.nonnegative(),
  quantile: z.number().min(0).max(1),
  components: z.number().int().positive().max(B.maxFeatures).optional(),
  scale: z.array(finite.positive()).max(B.maxFeatures).optional(),
});

const rangeSchema = z.object({ min: finite, max: finite });

/** Quality limits fitted at training time (frames models): the gates of the streaming engine. */
const limitsSchema = z.object({
  /** Range of each environment channel's cycle mean seen in training, widened by a margin. */
  environment: z.record(z.string(), rangeSchema),
  /** Range of exposure durations seen in training. */
  exposureS: rangeSchema.nullable(),
  gates: z
    .object({
      railLow: z.number(),
      railHigh: z.number(),
      maxRailShare: finite,
      maxNanShare: finite,
      spikeShare: finite,
      maxSpikes: finite,
      maxBaselineDrift: finite,
    })
    .nullable(),
  cycle: z.object({ maxLostShare: finite, maxGapS: finite, minBaselineS: finite, minExposureS: finite }).nullable(),
  /** Quality reasons this model was told to ignore (`enose train --ignore-gates`): reported, not acted on. */
  ignoreGates: z.array(z.enum(['channel-saturated', 'channel-dead', 'channel-spiking', 'baseline-unstable'])).max(4).readonly(),
  /** Per-channel limits learned from the training data (src/signal/channelGates.ts); absent: the fixed limits. */
  channels: z
    .record(z.string(), z.object({ resolution: finite.nonnegative(), low: finite, high: finite, step: finite.nonnegative(), flatShare: z.number().min(0).max(1) }))
    .optional(),
});

const trainingSchema = z.object({
  count: z.number().int().positive(),
  perClass: z.record(z.string(), z.number().int().nonnegative()),
  sources: z.array(z.string().max(B.maxTextLength)).max(B.maxSources),
  options: z.record(z.string(), z.unknown()),
  cvAccuracy: z.number().nullable(),
  cvFolds: z.number().int().nonnegative(),
});

export const modelBundleSchema = z.object({
  kind: z.literal(MODEL_KIND),
  version: z.literal(MODEL_VERSION),
  id: z.string(),
  hash: z.string(),
  input: inputSchema,
  classes: names(B.maxClasses).min(1).readonly(),
  /** Per-feature transform before the scaler: none, or sign(x) ln(1 + |x|) for heavy-tailed features. */
  transform: z.enum(['none', 'signed-log']),
  scaler: scalerSchema,
  pca: pcaSchema,
  classifier: classifierSchema,
  policy: policySchema.nullable(),
  novelty: noveltySchema.nullable(),
  limits: limitsSchema.nullable(),
  training: trainingSchema,
  lineage: z.object({ parent: z.string().nullable(), method: z.string(), reference: z.string().nullable() }).optional(),
  /** The training rig's identity and data fingerprint (src/model/runtime/rigFingerprint.ts); absent in older models. */
  rig: modelRigSchema.optional(),
});

export type ModelBundle = z.infer<typeof modelBundleSchema>;
export type ModelInput = ModelBundle['input'];
export type ModelPolicy = NonNullable<ModelBundle['policy']>;
export type ModelClassifier = ModelBundle['classifier'];
export type ModelLimits = NonNullable<ModelBundle['limits']>;
export type UnsignedBundle = Omit<ModelBundle, 'id' | 'hash'>;

/** JSON with every object's keys sorted, so the hash does not depend on key order (zod reorders keys). */
/** Objects' keys sorted at every depth; arrays of numbers are passed through whole (the bulk of a model). */
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) {
    for (const e of v) if (e !== null && typeof e === 'object') return v.map(sortKeys);
    return v;
  }
  if (v !== null && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) o[k] = sortKeys((v as Record<string, unknown>)[k]);
    return o;
  }
  return v;
}

export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

export function hashBundle(bundle: UnsignedBundle): string {
  return createHash('sha256').update(canonicalJson(bundle)).digest('hex');
}

/** Adds `id` and `hash`, and freezes the bundle deeply. */
export function signBundle(bundle: UnsignedBundle): ModelBundle {
  const hash = hashBundle(bundle);
  const { kind, version, ...rest } = bundle;
  return deepFreeze({ kind, version, id: hash.slice(0, 16), hash, ...rest });
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as object)) deepFreeze(v);
  }
  return value;
}

/**
 * The bundle with the rig it was trained on (replacing any): everything else as it was, so the same verdicts;
 * a new id, since the hash covers the whole document.
 */
export function withModelRig(bundle: ModelBundle, rig: ModelRig): ModelBundle {
  const { id: _id, hash: _hash, rig: _old, ...rest } = bundle;
  return signBundle({ ...rest, rig });
}

/** The bundle as written to disk: stable key order, one JSON document. */
export function serializeBundle(bundle: ModelBundle): string {
  return `${JSON.stringify(bundle)}\n`;
}

export interface BundleCheckOptions {
  /**
   * Accept a verdict policy under which no class is suspicious (every verdict clear or inconclusive): refused
   * by default, since such a model clears every container (CLI: --allow-no-suspicious-class). @default false
   */
  readonly allowNoSuspiciousClass?: boolean;
}

/**
 * Validates parsed JSON as a model bundle: kind, version, schema, the consistency of every array length, the
 * content hash, and the meaning of every setting (src/model/runtime/modelBounds.ts). Returns the frozen bundle or one reason.
 */
export function parseBundle(json: unknown, file: string, options: BundleCheckOptions = {}): Result<ModelBundle> {
  const bad = (reason: string) => fail({ file, line: 0, reason });
  if (!json || typeof json !== 'object' || Array.isArray(json)) return bad('not a model: expected a JSON object');
  const head = json as Record<string, unknown>;
  if (head['kind'] !== MODEL_KIND) return bad(`not an e-nose model: kind is ${JSON.stringify(head['kind'] ?? null)}, expected "${MODEL_KIND}"`);
  if (head['version'] !== MODEL_VERSION) {
    return bad(`unsupported model version ${JSON.stringify(head['version'] ?? null)}; this engine reads version ${MODEL_VERSION}`);
  }
  const parsed = modelBundleSchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first && first.path.length > 0 ? first.path.join('.') : 'model';
    return bad(`invalid model: ${where}: ${first?.message ?? 'does not match the schema'}`);
  }
  const b = parsed.data;
  const shapeError = checkShapes(b);
  if (shapeError) return bad(`invalid model: ${shapeError}`);
  const { id, hash, ...unsigned } = b;
  const expected = hashBundle(unsigned as UnsignedBundle);
  if (hash !== expected || id !== expected.slice(0, 16)) return bad('model content does not match its hash (the file was changed or is corrupt)');
  const meaningError = checkMeaning(b, options);
  if (meaningError) return bad(`invalid model: ${meaningError}`);
  return ok(deepFreeze(b));
}

function checkShapes(b: ModelBundle): string | null {
  const width = b.input.featureNames.length;
  const classCount = b.classes.length;
  if (new Set(b.classes).size !== classCount) return 'classes are not unique';
  if (b.input.kind === 'frames' && b.input.channels.length < 1) return 'no channels';
  if (b.scaler.mean.length !== width || b.scaler.scale.length !== width) return `scaler has ${b.scaler.mean.length} features, input has ${width}`;
  if (b.pca.width !== width) return `pca width ${b.pca.width} != ${width} features`;
  if (b.pca.components > width) return `pca has ${b.pca.components} components for ${width} features`;
  if (b.pca.axes.length !== width * b.pca.components) return 'pca axes have the wrong length';
  if (b.pca.variance.length !== b.pca.components || b.pca.varianceRatio.length !== b.pca.components) return 'pca variance has the wrong length';
  const k = b.pca.components;
  const c = b.classifier;
  const noveltyDims = b.novelty?.components ?? k;
  if (noveltyDims > k) return 'novelty components exceed the PCA components';
  if (b.novelty && (b.novelty.points.length === 0 || b.novelty.points.length % noveltyDims !== 0)) return 'novelty points do not match the component count';
  if (b.novelty?.scale && b.novelty.scale.length !== noveltyDims) return 'novelty scale does not match the component count';
  if (c.type === 'knn') {
    if (c.labels.length === 0 || c.points.length !== c.labels.length * k) return 'knn points do not match its labels and the component count';
    if (c.labels.some((l) => l >= classCount)) return 'knn label index out of range';
    if (c.k > c.labels.length) return 'knn k is larger than its training set';
  } else if (c.type === 'mlp') {
    for (const [n, net] of c.networks.entries()) {
      let inputs = k;
      for (const [l, layer] of net.layers.entries()) {
        const at = `mlp network ${n + 1} layer ${l + 1}`;
        if (layer.inputs !== inputs) return `${at} takes ${layer.inputs} inputs, ${inputs} expected`;
        if (layer.weights.length !== layer.inputs * layer.outputs || layer.bias.length !== layer.outputs) return `${at}: weights or bias do not match ${layer.inputs} x ${layer.outputs}`;
        inputs = layer.outputs;
      }
      if (inputs !== classCount) return `mlp network ${n + 1} ends in ${inputs} outputs for ${classCount} classes`;
    }
  } else {
    if (c.coef.length !== classCount * k || c.intercept.length !== classCount) return `${c.type} coefficients do not match ${classCount} classes x ${k} components`;
  }
  return null;
}
