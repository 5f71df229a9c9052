/**
 * The shipped models' verdict path stage by stage, for shipped-models.bench.ts: the model's part of a verdict
 * (`predictForVerdict` + `noveltyOfLast`) against the plain path it must equal, and each stage timed on its own.
 *
 * Check (before timing): on every finite feature row given, the fast path (the networks with the scaler and PCA
 * folded into their first layers, through the packed WebAssembly kernel that also projects the novelty limit's
 * leading scores; the k-d tree search) gives the same doubles as the plain path (`forwardInto`, plain loops on
 * the same folded layers; the leading scores summed plainly; a brute-force scan of every novelty point): class,
 * probabilities, leading scores and novelty, bit for bit (tolerance 0).
 *
 * Stages, each call timed over every row in turn (warm: the same call again and again, the model's arrays in the
 * caches; cold: a 4 MiB buffer walked before each call, as the frames between two verdicts of a real rig evict
 * what the last verdict read): the networks (`predictFused`), the networks plus the leading projection
 * (`predictForVerdict`), the novelty search (`noveltyOfLast`), the model's whole part, and the plain path.
 */
import type { ModelBundle } from '../src/model/runtime/bundle.js';
import { forwardInto, refreshFoldedBias } from '../src/model/runtime/mlpPredict.js';
import { compileModel, noveltyOfLast, predictForVerdict, predictFused, type CompiledModel } from '../src/model/runtime/pipeline.js';
import { check, summarize, type Row } from './harness.js';

/** The plain path: probabilities into `probs`, leading scores into `scores`; returns [best class, novelty]. */
function plainPath(model: CompiledModel, x: Float64Array, probs: Float64Array, scores: Float64Array): [number, number] {
  const mlp = model.mlp!;
  refreshFoldedBias(mlp, model.mlpFolded!, model.offset);
  forwardInto(mlp, model.mlpFolded!, x, 0, probs);
  let best = 0;
  for (let c = 1; c < model.classCount; c++) if (probs[c]! > probs[best]!) best = c;
  const dims = scores.length;
  for (let c = 0; c < dims; c++) {
    let s = model.offset[c]!;
    for (let j = 0; j < model.width; j++) s += model.projection[c * model.width + j]! * x[j]!;
    scores[c] = s;
  }
  let nearest = Infinity;
  for (let i = 0; i < model.noveltyCount; i++) {
    let d2 = 0;
    for (let c = 0; c < dims; c++) {
      const d = model.noveltyPoints[i * dims + c]! - scores[c]!;
      d2 += d * d;
    }
    if (d2 < nearest) nearest = d2;
  }
  return [best, Math.min(Math.sqrt(nearest) / model.noveltyThreshold, 2)];
}

/** Checks the fast path against the plain one on `rows`, bit for bit; returns how many rows were compared. */
export function checkFastPath(bundle: ModelBundle, rows: readonly Float64Array[], what: string): number {
  const model = compileModel(bundle);
  check(model.mlp !== null && model.mlpFolded?.kernel != null && model.leadingScores !== null, `${what}: the model does not run through the MLP kernel with its leading projection`);
  const k = model.classCount;
  const fast = new Float64Array(k);
  const plain = new Float64Array(k);
  const scores = new Float64Array(model.noveltyDimensions);
  let compared = 0;
  for (const x of rows) {
    if (!x.every(Number.isFinite)) continue;
    const best = predictForVerdict(model, x, 0, fast);
    const novelty = noveltyOfLast(model);
    const [plainBest, plainNovelty] = plainPath(model, x, plain, scores);
    check(best === plainBest, `${what}: class ${best}, plain path ${plainBest}`);
    for (let c = 0; c < k; c++) check(Object.is(fast[c], plain[c]), `${what}: probability ${c} ${fast[c]}, plain path ${plain[c]}`);
    for (let c = 0; c < scores.length; c++) check(Object.is(model.scores[c], scores[c]), `${what}: score ${c} ${model.scores[c]}, plain path ${scores[c]}`);
    // The brute-force distance is summed in the same order as the tree's: the same double.
    check(Object.is(novelty, plainNovelty), `${what}: novelty ${novelty}, plain path ${plainNovelty}`);
    compared++;
  }
  return compared;
}

const evict = new Float64Array((4 << 20) / 8);
function evictCaches(): void {
  for (let i = 0; i < evict.length; i += 8) evict[i]! += 1;
}

/** Timing rows of each stage on `rows` (finite feature rows of the model), warm and cold. */
export function stageRows(bundle: ModelBundle, rows: readonly Float64Array[], group: string, label: string, passes: number): Row[] {
  const model = compileModel(bundle);
  const finite = rows.filter((x) => x.every(Number.isFinite));
  const out = new Float64Array(model.classCount);
  const plain = new Float64Array(model.classCount);
  const scores = new Float64Array(model.noveltyDimensions);
  const n = finite.length;
  const stages: [string, (x: Float64Array) => void, boolean][] = [
    ['networks (predictFused)', (x) => predictFused(model, x, 0, out), false],
    ['networks + leading projection (predictForVerdict)', (x) => predictForVerdict(model, x, 0, out), false],
    ['novelty search (noveltyOfLast)', () => noveltyOfLast(model), true],
    ['model part of a verdict (predictForVerdict + noveltyOfLast)', (x) => {
      predictForVerdict(model, x, 0, out);
      noveltyOfLast(model);
    }, false],
    ['plain path (plain loops, brute-force novelty)', (x) => plainPath(model, x, plain, scores), false],
  ];
  const result: Row[] = [];
  for (const cold of [false, true]) {
    for (const [stage, fn, needsScores] of stages) {
      const times = new Float64Array(passes * n);
      // Warm-up: one pass untimed.
      for (let i = 0; i < n; i++) fn(finite[i]!);
      for (let p = 0; p < passes; p++) {
        for (let i = 0; i < n; i++) {
          const x = finite[i]!;
          // The novelty search reads the scores of the row's own prediction, made outside the timed call.
          if (needsScores) predictForVerdict(model, x, 0, out);
          if (cold) evictCaches();
          const t0 = process.hrtime.bigint();
          fn(x);
          times[p * n + i] = Number(process.hrtime.bigint() - t0);
        }
      }
      const s = summarize(times);
      const name = `${label}: ${stage}, ${cold ? 'cold (4 MiB walked before each call)' : 'warm'}`;
      result.push({ group, name, metric: 'p50', value: s.p50, unit: 'us', n: s.n }, { group, name, metric: 'p99', value: s.p99, unit: 'us', n: s.n });
    }
  }
  return result;
}
