/**
 * What the operator page needs to know about the model: its classes and policy, and the training samples on
 * the first two principal components, each with a class where the model can say (model/runtime/keptPoints.ts),
 * so the page can draw the map of known smells. Unclassified points (an MLP's) are class -1, with no class
 * centre, and the page says why. Pure.
 */
import type { ModelBundle } from '../model/runtime/bundle.js';
import { modelCheckpoint } from '../engine/modelCheckpoint.js';
import { keptPoints } from '../model/runtime/keptPoints.js';
import { isSuspiciousLabel } from '../model/runtime/policy.js';
import { decidesAfterRecovery, DEFAULT_EXTRACTOR, recoveryWindowsS, type ExtractorConfig } from '../signal/features.js';

export interface PageModel {
  readonly id: string;
  readonly classes: readonly string[];
  /** Per class: true when the policy calls it suspicious (all false without a policy). */
  readonly suspicious: readonly boolean[];
  readonly classifier: string;
  readonly components: number;
  /** Share of variance of PC1 and PC2 (0 for a missing second component). */
  readonly varianceRatio: readonly [number, number];
  readonly threshold: number | null;
  readonly channels: readonly string[];
  readonly cloud: {
    /** `label`: true training labels (kNN); `predicted`: the model's class of each point; `none`: not classified (or no points). */
    readonly colouring: 'label' | 'predicted' | 'none';
    /** With `none` and points: why they are not coloured by class. */
    readonly uncolouredBecause: string | null;
    /** x0, y0, x1, y1, ... on PC1 and PC2. */
    readonly xy: readonly number[];
    /** Class index of each point; -1 for a point the page cannot classify (colouring `none`). */
    readonly classIndex: readonly number[];
    /** Points the model holds; the page gets at most `maxPoints` of them (an even stride). */
    readonly total: number;
  };
  /** Mean PC1/PC2 of each class's cloud points (null for a class with none). */
  readonly centroids: readonly ({ readonly x: number; readonly y: number; readonly n: number } | null)[];
  /**
   * When the verdict comes, for the page's "verdict in ... s": after the exposure or after the recovery, and the
   * phase lengths the model's features were made for (null where they do not say; the rig's own phase lengths,
   * once the page has seen a cycle, take their place). Null for a model that does not read frames.
   */
  readonly cycle: { readonly decidesAfter: 'exposure' | 'recovery'; readonly baselineS: number; readonly exposureS: number | null; readonly recoveryS: number | null } | null;
  /**
   * With an early plan (`enose serve --early`): its early checkpoints in order, for the page's "next checkpoint in
   * ... s": the phase each falls in, and `inPhaseS` seconds into it for one inside the phase (a model of the first
   * windows of the exposure: 30 s for three 10 s windows; of the first recovery window: 10 s into the recovery),
   * null for one at the phase's end (the shipped plan: [{ phase: 'exposure', inPhaseS: null }, { phase:
   * 'recovery', inPhaseS: 10 }]). Empty without one.
   */
  readonly earlyCheckpoints: readonly PageCheckpoint[];
}

export interface PageCheckpoint {
  readonly phase: 'exposure' | 'recovery';
  readonly inPhaseS: number | null;
}

/** The page's view of `bundle` under an early plan whose checkpoints are judged by `checkpointModels`. */
export function pageModelWithEarly(bundle: ModelBundle, checkpointModels: readonly ModelBundle[]): PageModel {
  return { ...pageModelOf(bundle), earlyCheckpoints: checkpointModels.map(pageCheckpoint) };
}

function pageCheckpoint(model: ModelBundle): PageCheckpoint {
  const at = modelCheckpoint(model);
  if (at.checkpoint === 'recovery-end') return { phase: 'recovery', inPhaseS: null };
  if (at.checkpoint === 'in-recovery') return { phase: 'recovery', inPhaseS: at.recoveryS };
  return { phase: 'exposure', inPhaseS: at.exposureS };
}

/** The page's view of a model; `maxPoints` caps the cloud. @default 4000 */
export function pageModelOf(bundle: ModelBundle, maxPoints = 4000): PageModel {
  const k = bundle.pca.components;
  const classes = bundle.classes;
  const { points, dims, colouring, uncolouredBecause, classOf } = keptPoints(bundle);
  const total = points.length / dims;
  const stride = Math.max(1, Math.ceil(total / maxPoints));
  const xy: number[] = [];
  const classIndex: number[] = [];
  const row = new Float64Array(dims);
  const sums = classes.map(() => ({ x: 0, y: 0, n: 0 }));
  for (let i = 0; i < total; i += stride) {
    for (let c = 0; c < dims; c++) row[c] = points[i * dims + c];
    const cls = classOf(i, row);
    const x = row[0];
    const y = dims > 1 ? row[1] : 0;
    xy.push(x, y);
    classIndex.push(cls);
    if (cls < 0) continue;
    sums[cls].x += x;
    sums[cls].y += y;
    sums[cls].n++;
  }
  const policy = bundle.policy;
  return {
    id: bundle.id,
    classes,
    suspicious: classes.map((c) => (policy ? isSuspiciousLabel(policy, c) : false)),
    classifier: bundle.classifier.type,
    components: k,
    varianceRatio: [bundle.pca.varianceRatio[0] ?? 0, bundle.pca.varianceRatio[1] ?? 0],
    threshold: policy ? policy.threshold : null,
    channels: bundle.input.kind === 'frames' ? bundle.input.channels : [],
    cloud: { colouring, uncolouredBecause, xy, classIndex, total },
    centroids: sums.map((s) => (s.n > 0 ? { x: s.x / s.n, y: s.y / s.n, n: s.n } : null)),
    cycle: cycleOf(bundle),
    earlyCheckpoints: [],
  };
}

function cycleOf(bundle: ModelBundle): PageModel['cycle'] {
  if (bundle.input.kind !== 'frames') return null;
  const e = { ...DEFAULT_EXTRACTOR, ...(bundle.input.extractor as Partial<ExtractorConfig>) } as ExtractorConfig;
  const recovery = decidesAfterRecovery(e);
  return {
    decidesAfter: recovery ? 'recovery' : 'exposure',
    baselineS: e.baselineS,
    exposureS: (e.windowS ?? 0) * (e.windowCount ?? 0) || null,
    recoveryS: recovery ? recoveryWindowsS(e) : null,
  };
}
