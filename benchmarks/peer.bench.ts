/**
 * Issue 6 item 5: the engine beside scikit-learn, in the same run, on the same rows of real data. The raw UCI
 * drift batches (6,697 x 128) are split by a seeded permutation into 5,000 training and 1,697 test rows;
 * both sides fit the same pipelines (z-score scaler -> PCA -> LDA | logistic regression | kNN 5) and are
 * timed the same way: fit (median of repeats), single-sample predict (one call per test row, each timed:
 * engine `predictCompiled`, scikit-learn `pipe.predict` on a 1-row matrix), batch predict per sample (the
 * engine's loop over the test rows, scikit-learn's `predict` on the test matrix), test accuracy, and how
 * often the two predict the same class. The engine's fit here is the pipeline alone (no cross-validation,
 * no novelty limit), as scikit-learn's is; the full training is in training.bench.ts.
 *
 * Checked before timing: both read the same training rows (scikit-learn's scaler mean equals the engine's to
 * 1e-9), and the engine's prediction equals the plain reference computation on every test row.
 *
 * Targets (issue 6): single-sample predict at least 20x faster than scikit-learn with LDA and logistic
 * regression, 5x with kNN; batch predict per sample no slower; fit no more than 2x scikit-learn's.
 */
import { readdirSync } from 'node:fs';
import { compileModel, fitModel, predictCompiled, type ClassifierKind, type CompiledModel, type FitOptions } from '../src/model/pipeline.js';
import type { ModelBundle } from '../src/model/bundle.js';
import type { FeatureTable } from '../src/types.js';
import { DRIFT_RAW, readDrift, subsetTable } from './fixtures.js';
import { announce, check, checkClose, main, permutation, QUICK, report, summarize, timeEach, timeOnce, type Row } from './harness.js';
import { referencePredict } from './reference.js';
import { peerMissing, runPeer } from './sklearn.js';

// A quick run fits on 2,000 rows and times single predictions on 300 test rows (smoke figures only).
const TRAIN_ROWS = QUICK ? 2000 : 5000;
const SINGLE_ROWS = QUICK ? 300 : Infinity;
const REPEATS = QUICK ? 1 : 5;
const SINGLE_PASSES = QUICK ? 1 : 3;

const PIPELINES: Record<ClassifierKind, FitOptions> = {
  lda: { classifier: 'lda', variance: 0.99 },
  logreg: { classifier: 'logreg', variance: 0.99 },
  knn: { classifier: 'knn', k: 5, components: 20 },
};
const SINGLE_TARGET: Record<ClassifierKind, number> = { lda: 20, logreg: 20, knn: 5 };

interface PeerPipeline {
  components: number;
  fitSeconds: number;
  singleNs: number[];
  batchSecondsPerSample: number;
  accuracy: number;
  predicted: string[];
  iterations?: number;
}

/** The engine's batch prediction: predictCompiled over every row (the engine has no other batch path). */
function predictAll(model: CompiledModel, table: FeatureTable, probs: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < table.count; i++) sum += predictCompiled(model, table.x, i * table.width, probs);
  return sum;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

let GROUP = 'scikit-learn peer (raw drift data, 128 features)';

main(async () => {
  announce('engine vs scikit-learn on the same rows');
  const folder = DRIFT_RAW();
  const data = await readDrift(folder);
  if (!data) {
    report([{ group: GROUP, name: 'all pipelines', metric: 'skipped', value: null, unit: '', note: `drift data not found at ${folder}` }]);
    return;
  }
  check(data.width === 128 && data.count > TRAIN_ROWS, `drift data ${data.count} x ${data.width}`);
  const order = permutation(data.count, 42);
  const trainRows = Array.from(order.subarray(0, TRAIN_ROWS));
  const testRows = Array.from(order.subarray(TRAIN_ROWS));
  const train: FeatureTable = subsetTable(data, trainRows);
  const test: FeatureTable = subsetTable(data, testRows);
  GROUP = `scikit-learn peer (raw drift data, ${train.count.toLocaleString('en-US')} train / ${test.count.toLocaleString('en-US')} test rows, 128 features)`;
  const input = { kind: 'features' as const, featureNames: [...data.featureNames] };

  // The engine side: fit, check against the reference, time.
  const engine: Record<string, { components: number; fitSeconds: number; single: ReturnType<typeof summarize>; batch: number; accuracy: number; predicted: string[]; mean: readonly number[] }> = {};
  for (const [kind, options] of Object.entries(PIPELINES) as [ClassifierKind, FitOptions][]) {
    const fitOptions: FitOptions = { ...options, cvFolds: 0, noveltyQuantile: 0 };
    const fits: number[] = [];
    if (!QUICK) fitModel(train, input, fitOptions); // warm-up
    let bundle: ModelBundle | null = null;
    for (let r = 0; r < REPEATS; r++) {
      const t = timeOnce(() => fitModel(train, input, fitOptions));
      fits.push(t.seconds);
      bundle = t.value;
    }
    if (bundle === null) throw new Error('no fit');
    const model = compileModel(bundle);
    const probs = new Float64Array(bundle.classes.length);
    const predicted: string[] = [];
    let correct = 0;
    for (let i = 0; i < test.count; i++) {
      const best = predictCompiled(model, test.x, i * test.width, probs);
      const ref = referencePredict(bundle, test.x.subarray(i * test.width, (i + 1) * test.width));
      check(best === ref.best, `${kind}: test row ${i}: class ${best}, reference ${ref.best}`);
      checkClose(probs, ref.probabilities, 1e-9, `${kind}: test row ${i} probabilities`);
      predicted.push(bundle.classes[best]!);
      if (bundle.classes[best] === test.labels[i]) correct++;
    }
    let sink = 0;
    const n = test.count;
    const singleRows = Math.min(n, SINGLE_ROWS);
    const single = summarize(timeEach(singleRows * SINGLE_PASSES, (i) => {
      sink += predictCompiled(model, test.x, (i % singleRows) * test.width, probs);
    }));
    const batches: number[] = [];
    predictAll(model, test, probs); // warm-up of the batch loop itself
    for (let r = 0; r < Math.max(5, REPEATS); r++) batches.push(timeOnce(() => predictAll(model, test, probs)).seconds / n);
    check(sink >= 0, 'sink');
    engine[kind] = { components: bundle.pca.components, fitSeconds: median(fits), single, batch: median(batches), accuracy: correct / n, predicted, mean: bundle.scaler.mean };
  }

  // The peer side.
  const missing = peerMissing();
  let peer: Record<string, PeerPipeline> | null = null;
  let peerNote = '';
  if (missing === null) {
    const files = readdirSync(folder).filter((f) => f.endsWith('.dat')).sort(new Intl.Collator('en', { numeric: true }).compare);
    const spec = {
      raw: folder,
      files,
      train: trainRows,
      test: testRows,
      repeats: REPEATS,
      quick: QUICK,
      pipelines: Object.fromEntries(Object.keys(PIPELINES).map((k) => [k, { components: engine[k]!.components, passes: SINGLE_PASSES, singleRows: Number.isFinite(SINGLE_ROWS) ? SINGLE_ROWS : null }])),
    };
    const out = runPeer(spec, 'peer');
    const mean = out['scalerMean'] as number[];
    checkClose(mean, engine['lda']!.mean, 1e-9, 'scikit-learn and the engine read different training rows (scaler means differ)');
    peer = out['pipelines'] as Record<string, PeerPipeline>;
    peerNote = `scikit-learn ${String(out['sklearn'])}, numpy ${String(out['numpy'])}, python ${String(out['python'])}; BLAS ${(out['blas'] as string[]).join('; ')}`;
    console.log(`# peer: ${peerNote}`);
  }

  const rows: Row[] = [];
  for (const kind of Object.keys(PIPELINES) as ClassifierKind[]) {
    const e = engine[kind]!;
    const p = peer?.[kind];
    const name = `${kind === 'knn' ? 'PCA 20 + kNN 5' : `PCA 0.99 (${e.components} comps) + ${kind === 'lda' ? 'LDA' : 'logistic regression'}`}`;
    const ps = p ? summarize(p.singleNs) : null;
    const pair = (value: number, peerValue: number | undefined): { peer: number | null; ratio: number | null } => ({
      peer: peerValue ?? null,
      ratio: peerValue !== undefined && peerValue > 0 ? value / peerValue : null,
    });
    const missingNote = missing ? `peer not run: ${missing}` : undefined;
    const agree = p ? e.predicted.filter((c, i) => c === p.predicted[i]).length / e.predicted.length : null;
    if (p) check(p.components === e.components, `${kind}: scikit-learn kept ${p.components} components, the engine ${e.components}`);
    const fitPair = pair(e.fitSeconds * 1e3, p ? p.fitSeconds * 1e3 : undefined);
    const p50Pair = pair(e.single.p50, ps?.p50);
    const p99Pair = pair(e.single.p99, ps?.p99);
    const batchPair = pair(e.batch * 1e6, p ? p.batchSecondsPerSample * 1e6 : undefined);
    const target = SINGLE_TARGET[kind];
    rows.push(
      {
        group: GROUP,
        name,
        metric: 'fit time',
        value: e.fitSeconds * 1e3,
        unit: 'ms',
        ...fitPair,
        target: '<= 2x peer',
        pass: fitPair.ratio === null ? null : fitPair.ratio <= 2,
        ...(missingNote ? { note: missingNote } : kind === 'logreg' && p?.iterations !== undefined ? { note: `peer lbfgs iterations ${p.iterations}` } : {}),
      },
      {
        group: GROUP,
        name,
        metric: 'single predict p50',
        value: e.single.p50,
        unit: 'us',
        n: e.single.n,
        ...p50Pair,
        target: `>= ${target}x faster (ratio <= ${(1 / target).toFixed(2)})`,
        pass: p50Pair.ratio === null ? null : p50Pair.ratio <= 1 / target,
      },
      { group: GROUP, name, metric: 'single predict p99', value: e.single.p99, unit: 'us', n: e.single.n, ...p99Pair },
      {
        group: GROUP,
        name,
        metric: 'batch predict per sample',
        value: e.batch * 1e6,
        unit: 'us',
        ...batchPair,
        target: 'no slower than peer',
        pass: batchPair.ratio === null ? null : batchPair.ratio <= 1,
      },
      {
        group: GROUP,
        name,
        metric: 'test accuracy',
        value: 100 * e.accuracy,
        unit: '%',
        ...pair(100 * e.accuracy, p ? 100 * p.accuracy : undefined),
        ...(agree !== null && { note: `same class as scikit-learn on ${(100 * agree).toFixed(2)}% of test rows` }),
      },
    );
  }
  if (peerNote) rows.push({ group: GROUP, name: 'peer', metric: 'versions', value: null, unit: '', note: peerNote });
  report(rows);
});
