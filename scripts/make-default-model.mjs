#!/usr/bin/env node
// Trains the shipped models on the shipped training sets (simulator seed 1, days 1-20) through the same feature
// path as `enose train` on frames (recipes and training sets: SHIPPED_MODELS in src/shipped/recipes.ts, where each
// setting is explained):
//   datasets/container-sim/default-model.json.gz   RECOVERY_MODEL_RECIPE (`npm start`), 240,000 containers, verdict when
//                                                  the recovery ends, then its threshold re-set on 32,000 other labelled
//                                                  containers of days 17-20 (SHIPPED_MODELS.default.threshold;
//                                                  --no-threshold skips it)
//   datasets/container-sim/exposure-model.json.gz  EXPOSURE_MODEL_RECIPE, 60,000 containers, verdict when the exposure ends
//   datasets/container-sim/recovery-start-model.json.gz  RECOVERY_START_MODEL_RECIPE (a checkpoint of the early plan),
//                                                  the default model's containers and threshold step, verdict when the
//                                                  recovery's first 10 s window completes (100 s)
// The default model: 7 min 45 s here (Node 20, 2 cores, nothing else running, 2026-12-07; 878 CPU s): 327 s
// (648 CPU s) simulating and extracting the 240,000 containers, 84 s (127 CPU s) fitting the two MLPs, 45 s the
// threshold set, 9 s the rig fingerprint; peak memory 1.30 GiB (/usr/bin/time -v: 1,359,672 kB), reached when the
// table is assembled.
// The exposure model: 4 minutes (measured before).
// The days are jobs in a queue for worker threads (--workers N, default: the cores, up to 4; the same model bit
// for bit); a worker streams a day's frames through the feature path and sends back only packed feature rows.
// Each model gets its rig fingerprint last (shipped-rig.mjs; add-rig-fingerprint.mjs adds it to existing files).
// Run: npm run model:default   (all three; `-- default`, `-- exposure` or `-- recovery-start` for one). Bit-identical on a rerun.
// Variants (one model, written elsewhere, the shipped files untouched):
//   npm run model:default -- default --containers 120000 --no-threshold --out /tmp/recovery-120k.json.gz
//   npm run model:default -- default --containers 140000 --hidden 256,128,64 --no-threshold --out /tmp/recovery-140k-256.json.gz
//   npm run model:default -- default --containers 120000 --networks 4 --no-threshold --out /tmp/recovery-120k-4.json.gz
//   npm run model:default -- default --baseline-s 10 --out /tmp/b10/default-model.json.gz
//   npm run model:default -- default --recovery-windows 1 --out /tmp/r1/default-model.json.gz
// trains the recipe on that many containers of the same days (or on cycles with a 10 s baseline: every set, the
// threshold and fingerprint sets too, simulated so); `npx enose demo --model <file> --containers 5000`
// then evaluates it as the shipped ones are.
import { resolve } from 'node:path';
import { createSimulation, fitModel, rethresholdModel, SHIPPED_MODELS, shippedModelPath, simulationEvents, writeModelFile } from '../dist/index.js';
import { assembleTrainingSet } from '../dist/engine/training.js'; // not in the public API
import { extractRecordingRows, unpackCycles } from '../dist/engine/trainingRows.js'; // not in the public API
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { FINGERPRINT_SET, withShippedRig } from './shipped-rig.mjs';

const args = process.argv.slice(2);
const die = (message) => {
  console.error(`make-default-model: ${message}`);
  process.exit(2);
};
const option = (name) => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const value = args[i + 1];
  if (value === undefined || value.startsWith('--')) die(`--${name} needs a value`);
  args.splice(i, 2);
  return value;
};
const containersText = option('containers');
const workersText = option('workers');
const hiddenText = option('hidden');
const hidden = hiddenText === undefined ? undefined : hiddenText.split(',').map(Number);
if (hidden !== undefined && !hidden.every((h) => Number.isInteger(h) && h >= 1)) die(`--hidden must list layer sizes, got ${hiddenText}`);
const networksText = option('networks');
const networks = networksText === undefined ? undefined : Number(networksText);
if (networks !== undefined && !(Number.isInteger(networks) && networks >= 1)) die(`--networks must be a positive integer, got ${networksText}`);
const outOption = option('out');
const recoveryWindowsText = option('recovery-windows');
const recoveryWindows = recoveryWindowsText === undefined ? undefined : Number(recoveryWindowsText);
if (recoveryWindows !== undefined && !(Number.isInteger(recoveryWindows) && recoveryWindows >= 1 && recoveryWindows <= 6)) die(`--recovery-windows must be an integer from 1 to 6, got ${recoveryWindowsText}`);
const baselineText = option('baseline-s');
const baselineS = baselineText === undefined ? undefined : Number(baselineText);
if (baselineS !== undefined && !(Number.isFinite(baselineS) && baselineS >= 3)) die(`--baseline-s must be a number of seconds >= 3 (the engine's shortest usable baseline), got ${baselineText}`);
/** A simulated set as the variant asks (its baseline). */
const simulated = (set) => (baselineS === undefined ? set : { ...set, baselineS });
const noThreshold = args.includes('--no-threshold');
if (noThreshold) args.splice(args.indexOf('--no-threshold'), 1);
const containers = containersText === undefined ? undefined : Number(containersText);
if (containers !== undefined && !(Number.isInteger(containers) && containers >= 100)) die(`--containers must be an integer >= 100, got ${containersText}`);
const workers = workersText === undefined ? Math.min(4, availableParallelism()) : Number(workersText);
if (!(Number.isInteger(workers) && workers >= 1)) die(`--workers must be a positive integer, got ${workersText}`);
const wanted = args;
/** The extraction worker threads, started by workerPool() at the first extraction, ended at the end of the run. */
let pool = null;
for (const name of wanted) if (!(name in SHIPPED_MODELS)) die(`unknown model "${name}": ${Object.keys(SHIPPED_MODELS).join(', ')}`);
if ((containers !== undefined || outOption !== undefined || hidden !== undefined || networks !== undefined) && wanted.length !== 1) die('--containers, --hidden, --networks and --out need exactly one model name (default or exposure)');
if ((hidden !== undefined || networks !== undefined || noThreshold || baselineS !== undefined || recoveryWindows !== undefined) && outOption === undefined) die('--hidden, --networks, --baseline-s, --recovery-windows and --no-threshold need --out: the shipped files keep the shipped recipe');
for (const [name, { recipe, training: shippedTraining, threshold }] of Object.entries(SHIPPED_MODELS)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  const training = simulated(containers === undefined ? shippedTraining : { ...shippedTraining, containers });
  // The extractor's baselineS names the cycle the model was made for (its checkpoints' seconds into the cycle).
  // --recovery-windows k: the recipe's features of the first k recovery windows only, judged when they complete
  // (10 k s into the recovery: decideInRecovery).
  if (recoveryWindows !== undefined && !(recipe.extractor.recoveryWindowS > 0)) die(`--recovery-windows: the ${name} recipe has no recovery windows`);
  const extractor = { ...recipe.extractor, ...(baselineS !== undefined && { baselineS }), ...(recoveryWindows !== undefined && { recoveryWindowCount: recoveryWindows, decideInRecovery: true }) };
  const out = outOption === undefined ? shippedModelPath(name) : resolve(outOption);
  const started = performance.now();
  const startedCpu = cpuS();
  const set = assembleTrainingSet(await extractParallel(training, extractor, 'sim-train'), { extractor });
  const extracted = performance.now();
  const extractedCpu = cpuS();
  await endPool(); // their heaps are not needed while the networks train (the fit starts its own threads)
  // The per-day rows the workers sent are garbage once assembled into the table; collected now, before the fit
  // allocates its shared buffer, they do not add to the peak (1.56 -> 1.30 GiB; run with --expose-gc, as the npm
  // script does; without it this is a no-op).
  globalThis.gc?.();
  const fit = recipe.fit.classifier === 'mlp'
    ? { ...recipe.fit, mlp: { ...recipe.fit.mlp, ...(hidden && { hidden }), ...(networks && { networks }), threads: workers, onEpoch: (n, epoch, loss, accuracy) => process.stdout.write(`  ${name}: network ${n + 1} epoch ${epoch}: loss ${loss.toFixed(4)}, validation accuracy ${(100 * accuracy).toFixed(2)}%\n`) } }
    : recipe.fit;
  const trained = fitModel(set.table, set.input, { ...fit, limits: set.limits });
  const fitted = performance.now();
  const s = (a, b) => ((b - a) / 1000).toFixed(0);
  const peak = () => `peak memory so far ${(process.resourceUsage().maxRSS / 1048576).toFixed(2)} GiB`;
  const fittedCpu = cpuS();
  console.log(`${name} model ${trained.id}: ${trained.training.count} cycles (${set.skipped.length} skipped for quality), ` +
    `${trained.pca.components} components, ${trained.classifier.type}, ${trained.classifier.type === 'mlp' ? 'held-out-fold' : 'cross-validated'} accuracy ${(100 * trained.training.cvAccuracy).toFixed(1)}%, ` +
    `threshold ${trained.policy.threshold.toFixed(4)}; features ${s(started, extracted)} s (${(extractedCpu - startedCpu).toFixed(0)} CPU s), fit ${s(extracted, fitted)} s (${(fittedCpu - extractedCpu).toFixed(0)} CPU s; ${peak()})`);
  let model = trained;
  if (threshold && !noThreshold) {
    // The threshold re-set on other labelled containers of the last training days, as `enose calibrate --method
    // threshold --confidence` would on their recording (the same features, the engine's feature path; cycles with
    // quality problems are left out here by the training set's own gates, there by the model's).
    const calibration = assembleTrainingSet(await extractParallel(simulated(threshold.set), extractor, 'sim-threshold'), { extractor });
    const r = rethresholdModel(trained, calibration.table, { confidence: threshold.confidence });
    model = r.bundle;
    const pct = (x) => `${(100 * x).toFixed(2)}%`;
    console.log(`${name} model ${model.id}: threshold re-set on ${calibration.table.count} labelled containers (seed ${threshold.set.seed}, days ${threshold.set.startDay}-${threshold.set.startDay + threshold.set.days - 1}) ` +
      `for 1% false alarms at ${100 * threshold.confidence}% confidence: ${r.parent.threshold.toFixed(4)} -> ${r.choice.threshold.toFixed(4)}; on them false alarms ${pct(r.parent.falseAlarmRate)} -> ${pct(r.choice.falseAlarmRate)}, ` +
      `detection ${pct(r.parent.detectionRate)} -> ${pct(r.choice.detectionRate)} (${s(fitted, performance.now())} s, ${(cpuS() - fittedCpu).toFixed(0)} CPU s; ${peak()})`);
  }
  // The rig it was trained on, fingerprinted on a sample of its training days (shipped-rig.mjs): the rig check's
  // reference; the same as add-rig-fingerprint.mjs adds to an existing file, so a rebuild gives the same file.
  const fingerprinting = performance.now();
  const fingerprintingCpu = cpuS();
  model = withShippedRig(model, extractor, (await extractParallel(simulated(FINGERPRINT_SET), extractor, 'sim-fingerprint'))[0]);
  writeModelFile(out, model);
  console.log(`${name} model ${model.id} (with its rig fingerprint, ${s(fingerprinting, performance.now())} s, ${(cpuS() - fingerprintingCpu).toFixed(0)} CPU s) written to ${out}; ${s(started, performance.now())} s in all (${(cpuS() - startedCpu).toFixed(0)} CPU s), ${peak()}`);
}
await endPool();

/**
 * The training cycles: each simulator day is drawn on its own (the containers of a day, and its carry-over, do not
 * depend on the days before), so the days are jobs in a queue that the worker threads pull from, one day at a
 * time; each worker streams its day through the feature path and sends back packed rows (extract-worker.mjs). The
 * days are put back in day order into one part, so the training set, and the model, are the same bit for bit as
 * on one thread (checked: the shipped models' ids). One thread when the containers do not split evenly over the days.
 */
async function extractParallel(training, extractor, group) {
  if (workers <= 1 || training.containers % training.days !== 0) {
    const events = simulationEvents(createSimulation(training), { reuse: true });
    return [unpackCycles(extractRecordingRows({ group, events }, { extractor }, training.containers))];
  }
  const perDay = training.containers / training.days;
  const jobs = Array.from({ length: training.days }, (_, d) => ({ ...training, startDay: training.startDay + d, days: 1, containers: perDay }));
  const done = new Array(jobs.length);
  let next = 0;
  let pending = jobs.length;
  await new Promise((resolveDone, reject) => {
    const threads = workerPool();
    const give = (worker) => {
      if (next < jobs.length) {
        const job = next++;
        worker.postMessage({ job, simulation: jobs[job], group, extractor });
      }
    };
    for (const worker of threads) {
      worker.removeAllListeners('message');
      worker.removeAllListeners('error');
      worker.on('message', ({ job, rows }) => {
        done[job] = rows;
        if (--pending === 0) resolveDone();
        else give(worker);
      });
      worker.on('error', reject);
      give(worker);
    }
  });
  const parts = done.map(unpackCycles);
  return [{ group, rig: parts[0].rig, candidates: parts.flatMap((p) => p.candidates), skipped: parts.flatMap((p) => p.skipped) }];
}

/** CPU seconds of the process so far, all threads (user + system). */
function cpuS() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** Ends the extraction threads (the next extraction starts new ones). */
async function endPool() {
  const threads = pool ?? [];
  pool = null;
  for (const worker of threads) {
    worker.removeAllListeners('exit');
    await worker.terminate();
  }
}

/** The extraction worker threads: started at the first extraction and kept for the next ones until endPool(). */
function workerPool() {
  pool ??= Array.from({ length: workers }, () => {
    const worker = new Worker(new URL('./extract-worker.mjs', import.meta.url));
    worker.on('exit', (code) => { if (code !== 0) { console.error(`make-default-model: extraction worker exited with code ${code}`); process.exit(1); } });
    return worker;
  });
  return pool;
}
