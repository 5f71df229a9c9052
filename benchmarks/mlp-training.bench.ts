/**
 * MLP training time per epoch, the engine's trainer (src/model/fitting/mlp.ts: Adam, minibatches of 200, 10% held out
 * for early stopping, one thread) beside scikit-learn's MLPClassifier with the same settings
 * (benchmarks/peer/mlp_training_bench.py), on 20,000 synthetic rows of 218 features (the width of the shipped
 * recovery model's features) and 5 classes, for the shipped models' networks (128-64) and a larger one
 * (256-128-64). scikit-learn runs with its BLAS limited to one thread and to two (this machine's cores).
 *
 * Also the shipped recipe's ensemble (two networks of 128-64) on one thread and on two worker threads
 * (MlpOptions.threads), checked first to give the same networks bit for bit; and, for each network, the trainer
 * as it was before the WebAssembly kernel (benchmarks/mlp-reference.ts: plain loops), which must train the same
 * weights bit for bit as the timed run (checked on the timed runs themselves).
 *
 * Checked before timing: a network trained by the engine predicts its rows through the compiled path
 * (`predictMlpInto`) as a plain forward pass from its stored weights does (1e-12); both sides read the same rows
 * (scikit-learn gets the engine's buffer); and after the timed epochs both classify their training rows about
 * as well (within 5 points), so both learned the same problem.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { compileMlp, fitMlp, mlpSettings, predictMlpInto, trainNetwork, type MlpModel } from '../src/model/fitting/mlp.js';
import { announce, check, checkClose, main, QUICK, repoRoot, report, timeOnce } from './harness.js';
import { ReferenceTrainer } from './mlp-reference.js';
import { referenceMlp } from './reference.js';
import { peerMissing, PYTHON } from './sklearn.js';

const ROWS = QUICK ? 4000 : 20_000;
const WIDTH = 218;
const CLASSES = 5;
const EPOCHS = QUICK ? 2 : 5;
const HIDDEN = [
  [128, 64],
  [256, 128, 64],
];
const GROUP = `MLP training, ${ROWS.toLocaleString('en-US')} rows x ${WIDTH} features, ${CLASSES} classes, minibatches of 200`;

/** Deterministic rows: each class shifts a fifth of the features and bends one of them (not linearly separable). */
function rows(): { x: Float64Array; y: Int32Array } {
  let s = 12345;
  const next = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const x = new Float64Array(ROWS * WIDTH);
  const y = new Int32Array(ROWS);
  for (let i = 0; i < ROWS; i++) {
    const c = i % CLASSES;
    y[i] = c;
    for (let j = 0; j < WIDTH; j++) x[i * WIDTH + j] = next() * 2 - 1 + (j % CLASSES === c ? 0.3 : 0) + (j === c ? 0.5 * Math.sin(i) : 0);
  }
  return { x, y };
}

function accuracy(model: MlpModel, x: Float64Array, y: Int32Array): number {
  const compiled = compileMlp(model, CLASSES);
  const p = new Float64Array(CLASSES);
  let right = 0;
  for (let i = 0; i < ROWS; i++) {
    predictMlpInto(compiled, x, i * WIDTH, p);
    let best = 0;
    for (let c = 1; c < CLASSES; c++) if (p[c]! > p[best]!) best = c;
    if (best === y[i]) right++;
  }
  return right / ROWS;
}

main(() => {
  announce('MLP training time per epoch, engine and scikit-learn');
  const { x, y } = rows();
  // Check: the compiled forward pass of a trained network equals the plain one.
  const small = fitMlp(x.subarray(0, 2000 * WIDTH), 2000, WIDTH, y.subarray(0, 2000), CLASSES, { hidden: [16, 8], maxEpochs: 2, seed: 1 });
  const compiled = compileMlp(small, CLASSES);
  const p = new Float64Array(CLASSES);
  for (let i = 0; i < 50; i++) {
    predictMlpInto(compiled, x, i * WIDTH, p);
    checkClose(p, referenceMlp(small, Array.from(x.subarray(i * WIDTH, (i + 1) * WIDTH)), CLASSES), 1e-12, `row ${i} probabilities`);
  }
  const engine = HIDDEN.map((hidden) => {
    // CPU time beside wall time: on a shared, loaded machine it is the steadier of the two (one thread each side).
    const cpu0 = process.cpuUsage().user;
    const fit = timeOnce(() => fitMlp(x, ROWS, WIDTH, y, CLASSES, { hidden, maxEpochs: EPOCHS, patience: 10 ** 6, seed: 1 }));
    const cpuSeconds = (process.cpuUsage().user - cpu0) / 1e6;
    check(fit.value.networks[0]!.epochs === EPOCHS, `engine trained ${fit.value.networks[0]!.epochs} epochs, ${EPOCHS} asked`);
    // The plain-loop trainer of before the kernel, on the same rows and seed: the same network, bit for bit.
    const settings = mlpSettings({ hidden, maxEpochs: EPOCHS, patience: 10 ** 6, seed: 1 });
    const data = { scores: x, count: ROWS, dimensions: WIDTH, labels: y, classCount: CLASSES };
    const plain = timeOnce(() => trainNetwork(data, settings, 0, undefined, (sizes, batch, next) => new ReferenceTrainer(sizes, batch, next)));
    check(JSON.stringify(plain.value) === JSON.stringify(fit.value.networks[0]), `${hidden.join('-')}: the kernel trainer's network differs from the plain loops'`);
    report([
      {
        group: GROUP,
        name: `${hidden.join('-')}, engine: WebAssembly kernel vs the plain loops before it (benchmarks/mlp-reference.ts)`,
        metric: 'seconds per epoch',
        value: fit.seconds / EPOCHS,
        unit: 's',
        n: EPOCHS,
        peer: plain.seconds / EPOCHS,
        ratio: fit.seconds / plain.seconds,
        note: `peer column: the plain-loop trainer, one thread; the same weights bit for bit (checked); ${EPOCHS} epochs each`,
      },
    ]);
    return { hidden, seconds: fit.seconds, cpuSeconds, accuracy: accuracy(fit.value, x, y) };
  });
  // The ensemble on worker threads: the same networks as on one thread (checked on the timed runs themselves).
  const ensemble = (threads: number) => timeOnce(() => fitMlp(x, ROWS, WIDTH, y, CLASSES, { hidden: [128, 64], networks: 2, threads, maxEpochs: EPOCHS, patience: 10 ** 6, seed: 1 }));
  const serial = ensemble(1);
  const parallel = ensemble(2);
  check(JSON.stringify(serial.value) === JSON.stringify(parallel.value), 'two networks on two worker threads differ from the same on one thread');
  report([
    {
      group: GROUP,
      name: '128-64 x 2 networks (the shipped recipe), two worker threads vs one thread',
      metric: 'seconds per epoch of the ensemble',
      value: parallel.seconds / EPOCHS,
      unit: 's',
      n: EPOCHS,
      peer: serial.seconds / EPOCHS,
      ratio: parallel.seconds / serial.seconds,
      note: `peer column: the engine on one thread; the same networks bit for bit (checked); ${EPOCHS} epochs each`,
    },
  ]);
  const missing = peerMissing();
  let peer: { hidden: number[]; threads: number; epochs: number; seconds: number; cpuSeconds: number; trainAccuracy: number }[] = [];
  if (missing === null) {
    const dir = resolve(repoRoot(), 'node_modules', '.cache', 'enose-bench');
    mkdirSync(dir, { recursive: true });
    const xPath = resolve(dir, 'mlp-x.f64');
    const yPath = resolve(dir, 'mlp-y.i32');
    writeFileSync(xPath, new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
    writeFileSync(yPath, new Uint8Array(y.buffer, y.byteOffset, y.byteLength));
    const spec = resolve(dir, 'mlp-training-input.json');
    writeFileSync(spec, JSON.stringify({ x: xPath, y: yPath, n: ROWS, d: WIDTH, hidden: HIDDEN, epochs: EPOCHS, threads: [1, 2] }));
    const run = spawnSync(PYTHON, [resolve(repoRoot(), 'benchmarks', 'peer', 'mlp_training_bench.py'), spec], { encoding: 'utf8', env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
    if (run.status !== 0) throw new Error(`mlp_training_bench.py failed (${run.status}): ${run.stderr}`);
    peer = (JSON.parse(run.stdout) as { runs: typeof peer }).runs;
    for (const r of peer) check(r.epochs === EPOCHS, `scikit-learn trained ${r.epochs} epochs, ${EPOCHS} asked`);
  }
  for (const e of engine) {
    const label = e.hidden.join('-');
    const mine = peer.filter((r) => r.hidden.join('-') === label);
    for (const r of mine) check(Math.abs(r.trainAccuracy - e.accuracy) < 0.05, `${label}: training-row accuracy engine ${e.accuracy.toFixed(3)}, scikit-learn ${r.trainAccuracy.toFixed(3)}`);
    const one = mine.find((r) => r.threads === 1);
    const two = mine.find((r) => r.threads === 2);
    const perEpoch = e.seconds / EPOCHS;
    report([
      {
        group: GROUP,
        name: `${label}, engine (one thread) vs scikit-learn (BLAS on one thread)`,
        metric: 'seconds per epoch',
        value: perEpoch,
        unit: 's',
        n: EPOCHS,
        peer: one ? one.seconds / EPOCHS : null,
        ratio: one ? perEpoch / (one.seconds / EPOCHS) : null,
        // Issue 23: at most twice scikit-learn's time an epoch (goal: ahead of it).
        target: 'engine/peer <= 2.0',
        pass: one ? perEpoch / (one.seconds / EPOCHS) <= 2 : null,
        note:
          `${EPOCHS} epochs; training-row accuracy engine ${(100 * e.accuracy).toFixed(1)}%` +
          (one ? `, scikit-learn ${(100 * one.trainAccuracy).toFixed(1)}%` : `; scikit-learn not run: ${missing}`) +
          (two ? `; scikit-learn with BLAS on two threads ${(two.seconds / EPOCHS).toFixed(2)} s an epoch` : '') +
          `; CPU seconds per epoch engine ${(e.cpuSeconds / EPOCHS).toFixed(3)}` +
          (one ? `, scikit-learn ${(one.cpuSeconds / EPOCHS).toFixed(3)} (ratio ${(e.cpuSeconds / one.cpuSeconds).toFixed(2)})` : ''),
      },
    ]);
  }
});
