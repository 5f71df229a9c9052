/**
 * Multi-layer perceptron classifier on the PCA scores: ReLU hidden layers, a softmax output, cross-entropy with
 * an L2 penalty on the weights, trained by Adam on minibatches with early stopping on a stratified validation
 * share: the recipe of scikit-learn's MLPClassifier(hidden_layer_sizes, alpha, early_stopping=True) (Glorot
 * uniform initialisation with its ReLU factor, batch size min(200, n), Adam lr 1e-3, beta 0.9 / 0.999, eps 1e-8,
 * stop after `patience` epochs without a validation-accuracy gain over 1e-4, keep the best epoch's weights).
 * An ensemble of `networks` networks (seeds seed, seed + 1, ...) averages their class probabilities.
 *
 * Why: on the container simulator the markers differ from the confounders in non-linear ways (saturating
 * responses, the recovery's decay), and a scikit-learn exploration reached 95% detection at 1% false alarms
 * only with MLPs (datasets/container-sim/peer/ceiling). Training (mlpTrainer.ts) and prediction (mlpPredict.ts:
 * `predictMlpInto` allocates nothing) run their matrix products through one WebAssembly SIMD kernel
 * (gemmWasm.ts) that keeps every sum in the order of plain loops, so the same seed gives the same doubles.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { EnoseError } from '../../errors.js';
import { KernelTrainer, type TrainerFactory, type TrainerLike } from './mlpTrainer.js';
import { mulberry32 } from '../numeric/rng.js';

export { compileMlp, foldMlpInput, predictMlpFoldedInto, predictMlpInto, refreshFoldedBias, type CompiledMlp, type FoldedMlp } from '../runtime/mlpPredict.js';

export interface MlpLayer {
  readonly inputs: number;
  readonly outputs: number;
  /** inputs x outputs, row-major: weights[i * outputs + o]. */
  readonly weights: number[];
  readonly bias: number[];
}

export interface MlpNetwork {
  readonly layers: MlpLayer[];
  /** Epochs trained, and the epoch whose weights were kept (best validation accuracy), and that accuracy. */
  readonly epochs: number;
  readonly bestEpoch: number;
  readonly validationAccuracy: number;
}

export interface MlpModel {
  readonly type: 'mlp';
  readonly activation: 'relu';
  readonly networks: MlpNetwork[];
}

export interface MlpOptions {
  /** Hidden layer sizes. @default [128, 64] */
  readonly hidden?: readonly number[];
  /** L2 penalty (scikit-learn's alpha). @default 0.001 */
  readonly alpha?: number;
  /** @default 0.001 */
  readonly learningRate?: number;
  /** @default 200 (min with the training rows) */
  readonly batchSize?: number;
  /** @default 200 */
  readonly maxEpochs?: number;
  /** Epochs without a validation-accuracy gain over 1e-4 before stopping. @default 10 */
  readonly patience?: number;
  /** Stratified share of the rows held out for early stopping. @default 0.1 */
  readonly validationShare?: number;
  /** Networks averaged. @default 1 */
  readonly networks?: number;
  /** @default 1 */
  readonly seed?: number;
  /** Called after each epoch (progress for long trainings). */
  readonly onEpoch?: (network: number, epoch: number, loss: number, validationAccuracy: number) => void;
  /**
   * Networks trained side by side on worker threads, at most. Each network is the same bit for bit as on one
   * thread (its own seed, the same rows), so this changes the time, not the model, and is not recorded in it.
   * Needs the compiled package (dist/model/fitting/mlpWorker.js); run from sources, training stays on this thread.
   * @default 1
   */
  readonly threads?: number;
}

const BETA1 = 0.9;
const BETA2 = 0.999;
const EPS = 1e-8;
const TOL = 1e-4;

/** Checks the options and fills the defaults. */
export function mlpSettings(options: MlpOptions): Required<Omit<MlpOptions, 'onEpoch' | 'threads'>> {
  const s = {
    hidden: options.hidden ?? [128, 64],
    alpha: options.alpha ?? 0.001,
    learningRate: options.learningRate ?? 0.001,
    batchSize: options.batchSize ?? 200,
    maxEpochs: options.maxEpochs ?? 200,
    patience: options.patience ?? 10,
    validationShare: options.validationShare ?? 0.1,
    networks: options.networks ?? 1,
    seed: options.seed ?? 1,
  };
  if (s.hidden.length === 0 || s.hidden.some((h) => !Number.isInteger(h) || h < 1 || h > 4096)) {
    throw new EnoseError('bad-option', `--hidden must list layer sizes from 1 to 4096, got ${s.hidden.join(',')}`);
  }
  if (!(s.alpha >= 0 && Number.isFinite(s.alpha))) throw new EnoseError('bad-option', `--alpha must be a number >= 0, got ${s.alpha}`);
  if (!(s.learningRate > 0 && Number.isFinite(s.learningRate))) throw new EnoseError('bad-option', `the learning rate must be > 0, got ${s.learningRate}`);
  for (const [name, v] of [['batch size', s.batchSize], ['--max-epochs', s.maxEpochs], ['patience', s.patience], ['--networks', s.networks]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new EnoseError('bad-option', `${name} must be a positive integer, got ${v}`);
  }
  if (!(s.validationShare > 0 && s.validationShare < 0.5)) throw new EnoseError('bad-option', `the validation share must be in (0, 0.5), got ${s.validationShare}`);
  return s;
}

/** Stratified split of rows 0..count-1: every class gives round(share x its rows) (at least 1 when it has 2) to validation. */
function stratifiedSplit(labels: Int32Array, count: number, classCount: number, share: number, next: () => number): { train: Int32Array; validation: Int32Array } {
  const byClass: number[][] = Array.from({ length: classCount }, () => []);
  for (let i = 0; i < count; i++) byClass[labels[i]].push(i);
  const train: number[] = [];
  const validation: number[] = [];
  for (const rows of byClass) {
    shuffle(rows, next);
    const v = rows.length >= 2 ? Math.max(1, Math.round(share * rows.length)) : 0;
    for (let j = 0; j < rows.length; j++) (j < v ? validation : train).push(rows[j]);
  }
  train.sort((a, b) => a - b);
  validation.sort((a, b) => a - b);
  return { train: Int32Array.from(train), validation: Int32Array.from(validation) };
}

function shuffle(a: number[] | Int32Array, next: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}

/**
 * Fits the networks on `count` rows of `dimensions` scores (row-major) with labels 0..classCount-1.
 * Deterministic for a seed.
 */
export function fitMlp(scores: Float64Array, count: number, dimensions: number, labels: Int32Array, classCount: number, options: MlpOptions = {}): MlpModel {
  const s = mlpSettings(options);
  if (count < 4) throw new EnoseError('too-few-samples', `an MLP needs at least 4 training samples, got ${count}`);
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) throw new EnoseError('bad-option', `threads must be a positive integer, got ${threads}`);
  const data: TrainingData = { scores, count, dimensions, labels, classCount };
  const networks =
    (Math.min(threads, s.networks) > 1 ? trainOnThreads(data, s, Math.min(threads, s.networks), options.onEpoch) : null) ??
    Array.from({ length: s.networks }, (_, n) => trainNetwork(data, s, n, options.onEpoch));
  return { type: 'mlp', activation: 'relu', networks };
}

/** The rows an MLP trains on: `count` rows of `dimensions` scores, and their class indices. */
export interface TrainingData {
  readonly scores: Float64Array;
  readonly count: number;
  readonly dimensions: number;
  readonly labels: Int32Array;
  readonly classCount: number;
}

/** Network `n` of an ensemble (seed `s.seed + n`): the same whichever thread trains it. */
export function trainNetwork(
  data: TrainingData,
  s: ReturnType<typeof mlpSettings>,
  n: number,
  onEpoch?: MlpOptions['onEpoch'],
  makeTrainer: TrainerFactory = (sizes, batch, next) => new KernelTrainer(sizes, batch, next),
): MlpNetwork {
  const { scores, count, dimensions, labels, classCount } = data;
  const sizes = [dimensions, ...s.hidden, classCount];
  const next = mulberry32((s.seed + n) >>> 0);
  const { train, validation } = stratifiedSplit(labels, count, classCount, s.validationShare, next);
  const batch = Math.min(s.batchSize, train.length);
  const trainer = makeTrainer(sizes, Math.max(batch, Math.min(validation.length, 1024)), next);
  const order = Int32Array.from(train);
  const y = new Int32Array(batch);
  let best = -1;
  let bestEpoch = 0;
  let kept = trainer.snapshot();
  let stale = 0;
  let epoch = 0;
  while (epoch < s.maxEpochs) {
    epoch++;
    shuffle(order, next);
    let loss = 0;
    for (let from = 0; from < order.length; from += batch) {
      const rows = Math.min(batch, order.length - from);
      trainer.loadRows(scores, dimensions, order, from, rows);
      for (let r = 0; r < rows; r++) y[r] = labels[order[from + r]];
      loss += trainer.train(rows, y, s.alpha, s.learningRate) * rows;
    }
    const accuracy = validationAccuracy(trainer, scores, dimensions, labels, validation, classCount);
    onEpoch?.(n, epoch, loss / order.length, accuracy);
    if (accuracy < best + TOL) stale++;
    else stale = 0;
    if (accuracy > best) {
      best = accuracy;
      bestEpoch = epoch;
      kept = trainer.snapshot();
    }
    if (stale > s.patience) break;
  }
  return {
    layers: kept.w.map((w, l) => ({ inputs: sizes[l], outputs: sizes[l + 1], weights: Array.from(w), bias: Array.from(kept.b[l]) })),
    epochs: epoch,
    bestEpoch,
    validationAccuracy: best,
  };
}

/** Messages of mlpWorker.ts. */
export type MlpWorkerMessage =
  | { readonly type: 'epoch'; readonly epoch: number; readonly loss: number; readonly accuracy: number }
  | { readonly type: 'done'; readonly network: MlpNetwork }
  | { readonly type: 'error'; readonly message: string };

/**
 * The networks trained on up to `threads` worker threads, synchronously (fitModel is synchronous): the rows go
 * to the workers once, in shared memory; this thread sleeps on a shared counter the workers bump after each
 * message and reads their messages with receiveMessageOnPort, so `onEpoch` still reports every epoch, in order
 * per network. Returns null when the compiled worker is not there (running from sources).
 */
function trainOnThreads(data: TrainingData, s: ReturnType<typeof mlpSettings>, threads: number, onEpoch?: MlpOptions['onEpoch']): MlpNetwork[] | null {
  const url = new URL('./mlpWorker.js', import.meta.url);
  if (url.protocol !== 'file:' || !existsSync(fileURLToPath(url))) return null;
  const { count, dimensions } = data;
  // Scores already in shared memory (fitModel puts them there) go to the workers as they are, not copied.
  const scores = data.scores.buffer instanceof SharedArrayBuffer ? data.scores.subarray(0, count * dimensions) : sharedCopy(data.scores, count * dimensions);
  const labels = new Int32Array(new SharedArrayBuffer(count * 4));
  labels.set(data.labels.subarray(0, count));
  const signal = new Int32Array(new SharedArrayBuffer(4));
  const networks: MlpNetwork[] = new Array<MlpNetwork>(s.networks);
  const running = new Map<number, { worker: Worker; port: MessagePort }>();
  let started = 0;
  const start = (n: number) => {
    const { port1, port2 } = new MessageChannel();
    const workerData = { scores, labels, count, dimensions, classCount: data.classCount, settings: s, network: n, port: port2, signal };
    const worker = new Worker(url, { workerData, transferList: [port2] });
    worker.unref();
    running.set(n, { worker, port: port1 });
  };
  const stopAll = () => {
    for (const { worker, port } of running.values()) {
      port.close();
      void worker.terminate();
    }
    running.clear();
  };
  while (started < threads) start(started++);
  let failure: string | null = null;
  while (running.size > 0 && failure === null) {
    const seen = Atomics.load(signal, 0);
    for (const [n, { worker, port }] of running) {
      for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) {
        const message = m.message as MlpWorkerMessage;
        if (message.type === 'epoch') onEpoch?.(n, message.epoch, message.loss, message.accuracy);
        else if (message.type === 'done') networks[n] = message.network;
        else failure = `network ${n + 1}: ${message.message}`;
      }
      if (networks[n] !== undefined) {
        port.close();
        void worker.terminate();
        running.delete(n);
        if (started < s.networks) start(started++);
      }
    }
    if (running.size > 0 && failure === null) Atomics.wait(signal, 0, seen, 1000);
  }
  stopAll();
  if (failure !== null) throw new EnoseError('internal', `MLP training on a worker thread failed: ${failure}`);
  return networks;
}

function sharedCopy(a: Float64Array, length: number): Float64Array {
  const copy = new Float64Array(new SharedArrayBuffer(length * 8));
  copy.set(a.subarray(0, length));
  return copy;
}

function validationAccuracy(trainer: TrainerLike, scores: Float64Array, width: number, labels: Int32Array, rows: Int32Array, k: number): number {
  if (rows.length === 0) return 0;
  const cap = trainer.output().length / k;
  let correct = 0;
  for (let from = 0; from < rows.length; from += cap) {
    const n = Math.min(cap, rows.length - from);
    trainer.loadRows(scores, width, rows, from, n);
    trainer.forward(n);
    const p = trainer.output();
    for (let r = 0; r < n; r++) {
      let bestC = 0;
      for (let c = 1; c < k; c++) if (p[r * k + c] > p[r * k + bestC]) bestC = c;
      if (bestC === labels[rows[from + r]]) correct++;
    }
  }
  return correct / rows.length;
}
