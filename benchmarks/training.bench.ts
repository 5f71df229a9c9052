/**
 * Issue 6 item 4: training time and its growth, and memory.
 *
 * - Fit time of the pipeline (z-score -> PCA -> classifier; no cross-validation, no novelty limit) for 1,000 to
 *   13,910 rows of 128 features: the UCI drift data, all ten batches z-scored per batch (13,910 rows), rows
 *   taken in a seeded random order. scikit-learn fits the same pipelines on the same rows in the same run
 *   (benchmarks/peer/sklearn_bench.py); the ratio engine/peer is given per size.
 * - Full training as `enose train` runs it (5-fold cross-validation for the verdict threshold and the reported
 *   accuracy, novelty limit, model id): fit time per size.
 * - Peak RSS of training (a child process that loads the data and trains once on all 13,910 rows) and of a
 *   steady engine (a child process that runs one engine over 20,000 cycles from a memory source with a model
 *   loaded from a file, RSS sampled along the way).
 *
 * What is timed on each side: the engine's `fitModel` (checks of the table, scaler, PCA, classifier, and the
 * signing of the bundle: SHA-256 of its canonical JSON, which has no scikit-learn counterpart and is reported
 * apart in the note); scikit-learn's `pipe.fit(X[rows], y[rows])` (input validation, scaler, PCA, classifier, and
 * the copy of the rows by the fancy index, inside its timed call).
 *
 * Checked before timing: the engine's pipeline on the smallest size predicts its own training rows as the
 * plain reference computation does (1e-9); the blocked fitting kernels (covariance, projection on the axes)
 * give the plain loops' sums bit for bit on those rows; and scikit-learn reads the same rows (same row count
 * and labels).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { createEngine } from '../src/engine/engine.js';
import { createMemorySource } from '../src/io/memory.js';
import { hashBundle, parseBundle, serializeBundle, type ModelBundle } from '../src/model/runtime/bundle.js';
import { crossProductUpper } from '../src/model/numeric/linalg.js';
import { fitPca, projectCentred } from '../src/model/fitting/pca.js';
import { applyScaler, fitScaler } from '../src/model/runtime/scaler.js';
import { compileModel, predictCompiled } from '../src/model/runtime/pipeline.js';
import { fitModel, type ClassifierKind, type FitOptions } from '../src/model/fitting/fitModel.js';
import type { FeatureTable, SourceEvent } from '../src/types.js';
import { DRIFT_ZSCORED, SHAPE_ARRAY16, cyclePool, PoolReplay, readDrift, subsetTable, trainSynthetic } from './fixtures.js';
import { announce, check, checkClose, main, peakRssMiB, permutation, QUICK, report, repoRoot, rssMiB, timeOnce, type Row } from './harness.js';
import { peerMissing, runPeer } from './sklearn.js';
import { referencePredict } from './reference.js';

const SIZES = QUICK ? [1000, 2000] : [1000, 2000, 4000, 7000, 10_000, 13_910];
const REPEATS = QUICK ? 1 : 3;
const PIPELINES: Record<Exclude<ClassifierKind, 'mlp'>, FitOptions> = {
  lda: { classifier: 'lda', variance: 0.99 },
  logreg: { classifier: 'logreg', variance: 0.99 },
  knn: { classifier: 'knn', k: 5, components: 20 },
};
const ENGINE_CYCLES = QUICK ? 2000 : 20_000;
const GROUP_FIT = 'training time, pipeline only (zscored drift data, 128 features)';
const GROUP_FULL = 'training time, full (enose train: 5-fold CV + novelty limit + model id)';
const GROUP_MEM = 'memory (peak RSS, own child process each)';

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Seconds to sign a fitted bundle again (the SHA-256 of its canonical JSON, as `fitModel` does). */
function signingSeconds(bundle: ModelBundle): number {
  const { id: _id, hash: _hash, ...unsigned } = bundle;
  return timeOnce(() => hashBundle(unsigned)).seconds;
}

/** The blocked covariance and projection against the plain loops they replace, on real rows: bit for bit. */
function checkKernels(table: FeatureTable): void {
  const { count, width } = table;
  const z = applyScaler(fitScaler(table.x, count, width), table.x, count, width);
  const blocked = crossProductUpper(z, count, width);
  for (let a = 0; a < width; a++) {
    for (let b = a; b < width; b++) {
      let s = 0;
      for (let i = 0; i < count; i++) s += z[i * width + a]! * z[i * width + b]!;
      check(Object.is(s, blocked[a * width + b]), `covariance (${a}, ${b}): blocked ${blocked[a * width + b]}, plain ${s}`);
    }
  }
  const pca = fitPca(z, count, width, { variance: 0.99 });
  const k = pca.components;
  const scores = projectCentred(z, count, pca);
  for (let i = 0; i < count; i++) {
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let j = 0; j < width; j++) s += z[i * width + j]! * pca.axes[j * k + c]!;
      check(Object.is(s, scores[i * k + c]), `projection of row ${i} on axis ${c}: blocked ${scores[i * k + c]}, plain ${s}`);
    }
  }
}

async function loadZscored(): Promise<{ table: FeatureTable; order: Int32Array; files: string[] } | null> {
  const folder = DRIFT_ZSCORED();
  const table = await readDrift(folder);
  if (!table) return null;
  const files = readdirSync(folder).filter((f) => f.endsWith('.dat')).sort(new Intl.Collator('en', { numeric: true }).compare);
  return { table, order: permutation(table.count, 7), files };
}

/** Child: load the data, train once on every row, report RSS. */
async function probeTraining(kind: Exclude<ClassifierKind, 'mlp'>): Promise<void> {
  const data = await loadZscored();
  if (!data) throw new Error('zscored drift data not found');
  const before = rssMiB();
  const t = timeOnce(() => fitModel(data.table, { kind: 'features', featureNames: [...data.table.featureNames] }, { ...PIPELINES[kind] }));
  console.log(JSON.stringify({ rssBeforeMiB: before, peakMiB: peakRssMiB(), seconds: t.seconds, count: data.table.count }));
}

/** Child: one engine with the model in `file`, fed `ENGINE_CYCLES` cycles from a memory source. */
async function probeEngine(file: string): Promise<void> {
  const parsed = parseBundle(JSON.parse(readFileSync(file, 'utf8')), file);
  if (!parsed.ok) throw new Error(parsed.error.reason);
  const model = parsed.value;
  const pool = cyclePool(SHAPE_ARRAY16, 3, 200);
  const replay = new PoolReplay(pool);
  const samples: number[] = [];
  let verdicts = 0;
  function* events(): Generator<SourceEvent> {
    yield pool.info;
    for (let c = 0; c < ENGINE_CYCLES; c++) {
      yield* replay.nextCycle();
      if (c % Math.floor(ENGINE_CYCLES / 10) === 0) samples.push(rssMiB());
    }
  }
  const start = rssMiB();
  const engine = createEngine({ model, source: createMemorySource(events()), queue: false, emitFrames: false, onEvent: (e) => void (e.type === 'verdict' && verdicts++) });
  await engine.done;
  console.log(JSON.stringify({ startMiB: start, samplesMiB: samples, endMiB: rssMiB(), peakMiB: peakRssMiB(), verdicts, cycles: ENGINE_CYCLES }));
}

function runProbe(args: string[]): Record<string, unknown> {
  const self = fileURLToPath(import.meta.url);
  const run = spawnSync(process.execPath, [self, ...args, ...(QUICK ? ['--quick'] : [])], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  if (run.status !== 0) throw new Error(`probe ${args.join(' ')} failed: ${run.stderr}`);
  const line = run.stdout.trim().split('\n').pop()!;
  return JSON.parse(line) as Record<string, unknown>;
}

async function parent(): Promise<void> {
  announce('training time and memory');
  const rows: Row[] = [];
  const data = await loadZscored();
  if (!data) {
    report([{ group: GROUP_FIT, name: 'all', metric: 'skipped', value: null, unit: '', note: `zscored drift data not found at ${DRIFT_ZSCORED()}` }]);
  } else {
    const { table, order } = data;
    check(table.count === 13_910 && table.width === 128, `zscored drift data is ${table.count} x ${table.width}, expected 13910 x 128`);
    const input = { kind: 'features' as const, featureNames: [...table.featureNames] };
    // Check: the smallest fit predicts its rows as the reference does.
    const small = subsetTable(table, order.subarray(0, SIZES[0]!));
    checkKernels(small);
    for (const kind of Object.keys(PIPELINES) as Exclude<ClassifierKind, 'mlp'>[]) {
      const bundle = fitModel(small, input, { ...PIPELINES[kind], cvFolds: 0, noveltyQuantile: 0 });
      const model = compileModel(bundle);
      const probs = new Float64Array(bundle.classes.length);
      for (let i = 0; i < 100; i++) {
        const best = predictCompiled(model, small.x, i * small.width, probs);
        const ref = referencePredict(bundle, small.x.subarray(i * small.width, (i + 1) * small.width));
        check(best === ref.best, `${kind}: row ${i} class`);
        checkClose(probs, ref.probabilities, 1e-9, `${kind}: row ${i} probabilities`);
      }
    }
    const engineFit: Record<string, number[]> = {};
    const signing: Record<string, number[]> = {};
    const components: Record<string, number[]> = {};
    const fullFit: Record<string, number[]> = {};
    for (const kind of Object.keys(PIPELINES) as Exclude<ClassifierKind, 'mlp'>[]) {
      engineFit[kind] = [];
      signing[kind] = [];
      components[kind] = [];
      fullFit[kind] = [];
      for (const n of SIZES) {
        const rowsN = subsetTable(table, order.subarray(0, n));
        const times: number[] = [];
        const signs: number[] = [];
        let k = 0;
        for (let r = 0; r < REPEATS; r++) {
          const t = timeOnce(() => fitModel(rowsN, input, { ...PIPELINES[kind], cvFolds: 0, noveltyQuantile: 0 }));
          times.push(t.seconds);
          signs.push(signingSeconds(t.value));
          k = t.value.pca.components;
        }
        engineFit[kind]!.push(median(times));
        signing[kind]!.push(median(signs));
        components[kind]!.push(k);
        // The full training (5-fold CV: six fits) is left out of a quick run.
        fullFit[kind]!.push(QUICK ? NaN : timeOnce(() => fitModel(rowsN, input, { ...PIPELINES[kind] })).seconds);
        console.log(`# ${kind} n=${n}: pipeline ${median(times).toFixed(3)} s, full ${fullFit[kind]!.at(-1)!.toFixed(3)} s, ${k} components`);
      }
    }
    const missing = peerMissing();
    let peer: Record<string, { n: number; fitSeconds: number }[]> | null = null;
    if (missing === null) {
      const out = runPeer(
        {
          growth: {
            folder: DRIFT_ZSCORED(),
            files: data.files,
            order: Array.from(order),
            sizes: SIZES,
            kinds: Object.keys(PIPELINES),
            components,
            repeats: REPEATS,
          },
        },
        'training',
      );
      peer = out['growth'] as Record<string, { n: number; fitSeconds: number }[]>;
    }
    for (const kind of Object.keys(PIPELINES) as Exclude<ClassifierKind, 'mlp'>[]) {
      const label = kind === 'knn' ? 'PCA 20 + kNN 5' : `PCA 0.99 + ${kind === 'lda' ? 'LDA' : 'logistic regression'}`;
      SIZES.forEach((n, i) => {
        const e = engineFit[kind]![i]! * 1e3;
        const p = peer?.[kind]?.[i]?.fitSeconds;
        const ratio = p !== undefined ? e / (p * 1e3) : null;
        rows.push({
          group: GROUP_FIT,
          name: `${label}, ${n.toLocaleString('en-US')} rows`,
          metric: 'fit time',
          value: e,
          unit: 'ms',
          peer: p !== undefined ? p * 1e3 : null,
          ratio,
          target: '<= 2x peer',
          pass: ratio === null ? null : ratio <= 2,
          note: `${components[kind]![i]} components; of which signing the bundle ${(signing[kind]![i]! * 1e3).toFixed(1)} ms${missing ? `; peer not run: ${missing}` : ''}`,
        });
      });
      if (!QUICK) SIZES.forEach((n, i) => {
        rows.push({ group: GROUP_FULL, name: `${label}, ${n.toLocaleString('en-US')} rows`, metric: 'fit time', value: fullFit[kind]![i]! * 1e3, unit: 'ms' });
      });
    }
    report(rows);
    for (const kind of QUICK ? [] : (Object.keys(PIPELINES) as Exclude<ClassifierKind, 'mlp'>[])) {
      const probe = runProbe(['--probe', `fit:${kind}`]);
      report([
        {
          group: GROUP_MEM,
          name: `training ${kind}, 13,910 x 128 (full: CV + novelty)`,
          metric: 'peak RSS',
          value: probe['peakMiB'] as number,
          unit: 'MiB',
          note: `RSS ${(probe['rssBeforeMiB'] as number).toFixed(0)} MiB with the data loaded, before training; training took ${(probe['seconds'] as number).toFixed(2)} s`,
        },
      ]);
    }
  }

  // A steady engine: a kNN model on 5,000 synthetic cycles (the largest model), one rig, many cycles.
  const dir = resolve(repoRoot(), 'node_modules', '.cache', 'enose-bench');
  mkdirSync(dir, { recursive: true });
  const modelFile = resolve(dir, 'steady-engine-model.json');
  writeFileSync(modelFile, serializeBundle(trainSynthetic(SHAPE_ARRAY16, QUICK ? 500 : 5000, 'knn', 1, { cvFolds: 2 })));
  const probe = runProbe(['--probe', 'engine', modelFile]);
  const samples = probe['samplesMiB'] as number[];
  check((probe['verdicts'] as number) === ENGINE_CYCLES, `steady engine: ${String(probe['verdicts'])} verdicts for ${ENGINE_CYCLES} cycles`);
  report([
    {
      group: GROUP_MEM,
      name: `steady engine (kNN model of ${QUICK ? 500 : 5000} cycles, 116 features, ${ENGINE_CYCLES.toLocaleString('en-US')} cycles through one engine)`,
      metric: 'peak RSS',
      value: probe['peakMiB'] as number,
      unit: 'MiB',
      note: `RSS at start ${(probe['startMiB'] as number).toFixed(0)} MiB; along the run ${samples.map((s) => s.toFixed(0)).join(', ')} MiB; at the end ${(probe['endMiB'] as number).toFixed(0)} MiB`,
    },
  ]);
}

const probeAt = process.argv.indexOf('--probe');
if (probeAt >= 0) {
  const what = process.argv[probeAt + 1] ?? '';
  main(() => (what === 'engine' ? probeEngine(process.argv[probeAt + 2]!) : probeTraining(what.replace(/^fit:/, '') as Exclude<ClassifierKind, 'mlp'>)));
} else {
  main(parent);
}
