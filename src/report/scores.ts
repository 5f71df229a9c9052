/**
 * PCA scores of sampling cycles, for the plots: where a cycle falls on the model's score plot. The engine's
 * verdict carries probabilities, not scores, so a second engine core in feature-only mode runs beside it on
 * the same source events (the same segmentation and feature code), and each cycle's feature row is projected
 * with the compiled model. Pure and synchronous: events in, scores out.
 */
import { EngineCore, extractorOf } from '../engine/core.js';
import type { ModelBundle } from '../model/bundle.js';
import { compileModel, predictForVerdict, type CompiledModel } from '../model/pipeline.js';
import type { SourceEvent } from '../types.js';

/**
 * The scores of one cycle: the first PCA scores, or null when the engine makes no prediction for it (no
 * exposure, or features that are not finite), and the class probabilities they give, so that a consumer can
 * check them against the verdict's own (`sameProbabilities`) before it draws the point.
 */
export interface CycleScores {
  readonly sample: string;
  readonly scores: readonly number[] | null;
  readonly probabilities: readonly number[] | null;
}

export class ScoreTap {
  private readonly core: EngineCore;
  private readonly model: CompiledModel;
  private readonly probs: Float64Array;
  private readonly keep: number;

  /**
   * @param bundle a frames model (its extractor settings and limits are used)
   * @param onScores called for every cycle the engine would judge, synchronously within `push`
   * @param keep how many leading components to report @default 3
   */
  constructor(bundle: ModelBundle, onScores: (scores: CycleScores) => void, keep = 3) {
    this.model = compileModel(bundle);
    this.probs = new Float64Array(bundle.classes.length);
    this.keep = Math.min(keep, bundle.pca.components);
    const options = {
      extractor: extractorOf(bundle),
      emitFrames: false,
      ignoreGates: bundle.limits?.ignoreGates ?? [],
      ...(bundle.limits?.cycle ? { cycle: bundle.limits.cycle } : {}),
    };
    this.core = new EngineCore(null, options, () => undefined, (record) => {
      // The engine predicts only a cycle with an exposure and finite features (EngineCore.judge).
      const exposed = record.quality.framesE > 1 && record.quality.framesB > 0;
      let finite = exposed && record.features.length === this.model.width;
      for (let j = 0; j < record.features.length && finite; j++) if (!Number.isFinite(record.features[j]!)) finite = false;
      if (!finite) {
        onScores({ sample: record.sample, scores: null, probabilities: null });
        return;
      }
      // The verdict's own path (the same probabilities, bit for bit), with the plotted scores computed too.
      predictForVerdict(this.model, record.features, 0, this.probs, this.keep);
      onScores({ sample: record.sample, scores: Array.from(this.model.scores.subarray(0, this.keep)), probabilities: Array.from(this.probs) });
    });
  }

  /** Mirrors `engine.startSample`: the next cycle carries this id, as in the engine. */
  requestSample(id: string): void {
    this.core.requestSample(id);
  }

  /** Mirrors `engine.stopSample`. */
  stopped(atMs: number): void {
    this.core.stopped(atMs);
  }

  push(event: SourceEvent): void {
    this.core.push(event);
  }

  end(): void {
    this.core.end();
  }
}

/**
 * True when the tap's probabilities are the verdict's, bit for bit: the tap saw the same cycle with the same
 * features. Feature-only mode uses the default gate limits, which are what training stores; a model with other
 * limits could shift a feature, and its point is then not drawn rather than drawn wrong.
 */
export function sameProbabilities(classes: readonly string[], tap: readonly number[] | null, verdict: Readonly<Record<string, number>>): boolean {
  if (tap === null || tap.length !== classes.length) return false;
  for (let c = 0; c < classes.length; c++) if (!Object.is(tap[c], verdict[classes[c]!])) return false;
  return true;
}
