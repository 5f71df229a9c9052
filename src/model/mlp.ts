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
 * only with MLPs (datasets/container-sim/peer/ceiling). Training runs on flat Float64Arrays; prediction
 * (`predictMlpInto`) allocates nothing.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { EnoseError } from '../errors.js';
import { affineRowsInto } from './linalg.js';
import { mulberry32 } from './rng.js';

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
   * Needs the compiled package (dist/model/mlpWorker.js); run from sources, training stays on this thread.
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
  for (let i = 0; i < count; i++) byClass[labels[i]!]!.push(i);
  const train: number[] = [];
  const validation: number[] = [];
  for (const rows of byClass) {
    shuffle(rows, next);
    const v = rows.length >= 2 ? Math.max(1, Math.round(share * rows.length)) : 0;
    for (let j = 0; j < rows.length; j++) (j < v ? validation : train).push(rows[j]!);
  }
  train.sort((a, b) => a - b);
  validation.sort((a, b) => a - b);
  return { train: Int32Array.from(train), validation: Int32Array.from(validation) };
}

function shuffle(a: number[] | Int32Array, next: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
}

/** Working state of one network in training: weights, Adam moments, gradients, activations of a batch. */
class Trainer {
  readonly sizes: number[];
  readonly w: Float64Array[] = [];
  readonly b: Float64Array[] = [];
  private readonly gw: Float64Array[] = [];
  private readonly gb: Float64Array[] = [];
  private readonly mw: Float64Array[] = [];
  private readonly vw: Float64Array[] = [];
  private readonly mb: Float64Array[] = [];
  private readonly vb: Float64Array[] = [];
  /** Activations per layer (batch x size) and deltas. */
  private readonly act: Float64Array[] = [];
  private readonly delta: Float64Array[] = [];
  private step = 0;

  constructor(sizes: number[], batch: number, next: () => number) {
    this.sizes = sizes;
    for (let l = 0; l + 1 < sizes.length; l++) {
      const fi = sizes[l]!;
      const fo = sizes[l + 1]!;
      // Glorot uniform with scikit-learn's factor 6 for ReLU (its MLP uses it for the output layer too).
      const bound = Math.sqrt(6 / (fi + fo));
      this.w.push(Float64Array.from({ length: fi * fo }, () => (2 * next() - 1) * bound));
      this.b.push(Float64Array.from({ length: fo }, () => (2 * next() - 1) * bound));
      for (const list of [this.gw, this.mw, this.vw]) list.push(new Float64Array(fi * fo));
      for (const list of [this.gb, this.mb, this.vb]) list.push(new Float64Array(fo));
    }
    for (const n of sizes) {
      this.act.push(new Float64Array(batch * n));
      this.delta.push(new Float64Array(batch * n));
    }
  }

  /**
   * Forward pass of `rows` rows already in act[0]; output probabilities in the last act. Four rows share each
   * pass over a layer's weights (a layer of 218 x 256 is 446 kB: read once a row, it streamed from beyond the
   * core's cache); each output is still summed over its inputs in order, so the result is the same to the bit.
   */
  forward(rows: number): void {
    const L = this.sizes.length - 1;
    for (let l = 0; l < L; l++) {
      const fi = this.sizes[l]!;
      const fo = this.sizes[l + 1]!;
      const inp = this.act[l]!;
      const out = this.act[l + 1]!;
      const w = this.w[l]!;
      const bias = this.b[l]!;
      for (let r = 0; r < rows; r++) out.set(bias, r * fo);
      let r = 0;
      for (; r + 4 <= rows; r += 4) {
        const o0 = r * fo;
        const o1 = o0 + fo;
        const o2 = o1 + fo;
        const o3 = o2 + fo;
        const i0 = r * fi;
        for (let i = 0; i < fi; i++) {
          const a0 = inp[i0 + i]!;
          const a1 = inp[i0 + fi + i]!;
          const a2 = inp[i0 + 2 * fi + i]!;
          const a3 = inp[i0 + 3 * fi + i]!;
          const wi = i * fo;
          if (a0 !== 0 && a1 !== 0 && a2 !== 0 && a3 !== 0) {
            for (let o = 0; o < fo; o++) {
              const wv = w[wi + o]!;
              out[o0 + o]! += a0 * wv;
              out[o1 + o]! += a1 * wv;
              out[o2 + o]! += a2 * wv;
              out[o3 + o]! += a3 * wv;
            }
          } else {
            if (a0 !== 0) for (let o = 0; o < fo; o++) out[o0 + o]! += a0 * w[wi + o]!;
            if (a1 !== 0) for (let o = 0; o < fo; o++) out[o1 + o]! += a1 * w[wi + o]!;
            if (a2 !== 0) for (let o = 0; o < fo; o++) out[o2 + o]! += a2 * w[wi + o]!;
            if (a3 !== 0) for (let o = 0; o < fo; o++) out[o3 + o]! += a3 * w[wi + o]!;
          }
        }
      }
      for (; r < rows; r++) {
        const ro = r * fo;
        const ri = r * fi;
        for (let i = 0; i < fi; i++) {
          const a = inp[ri + i]!;
          if (a === 0) continue;
          const wi = i * fo;
          for (let o = 0; o < fo; o++) out[ro + o]! += a * w[wi + o]!;
        }
      }
      if (l < L - 1) for (let k = 0; k < rows * fo; k++) if (out[k]! < 0) out[k] = 0;
    }
    softmaxRows(this.act[L]!, rows, this.sizes[L]!);
  }

  /** One Adam step on the batch in act[0] with labels `y` (rows long); returns the batch's mean cross-entropy. */
  train(rows: number, y: ArrayLike<number>, alpha: number, learningRate: number): number {
    this.forward(rows);
    const L = this.sizes.length - 1;
    const K = this.sizes[L]!;
    const p = this.act[L]!;
    const d = this.delta[L]!;
    let loss = 0;
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < K; c++) d[r * K + c] = p[r * K + c]!;
      const t = y[r]!;
      d[r * K + t]! -= 1;
      loss -= Math.log(Math.max(p[r * K + t]!, 1e-300));
    }
    for (let l = L - 1; l >= 0; l--) {
      const fi = this.sizes[l]!;
      const fo = this.sizes[l + 1]!;
      const inp = this.act[l]!;
      const dl = this.delta[l + 1]!;
      const w = this.w[l]!;
      const gw = this.gw[l]!;
      const gb = this.gb[l]!;
      gw.fill(0);
      gb.fill(0);
      for (let r = 0; r < rows; r++) {
        const ro = r * fo;
        for (let o = 0; o < fo; o++) gb[o]! += dl[ro + o]!;
      }
      // gw = inp^T dl, four weight rows at a time (they stay in the core's cache while the batch's deltas pass
      // once); each weight's gradient is still summed over the rows in order: the same to the bit.
      let i = 0;
      for (; i + 4 <= fi; i += 4) {
        const g0 = i * fo;
        const g1 = g0 + fo;
        const g2 = g1 + fo;
        const g3 = g2 + fo;
        for (let r = 0; r < rows; r++) {
          const ri = r * fi + i;
          const a0 = inp[ri]!;
          const a1 = inp[ri + 1]!;
          const a2 = inp[ri + 2]!;
          const a3 = inp[ri + 3]!;
          const ro = r * fo;
          if (a0 !== 0 && a1 !== 0 && a2 !== 0 && a3 !== 0) {
            for (let o = 0; o < fo; o++) {
              const d = dl[ro + o]!;
              gw[g0 + o]! += a0 * d;
              gw[g1 + o]! += a1 * d;
              gw[g2 + o]! += a2 * d;
              gw[g3 + o]! += a3 * d;
            }
          } else {
            if (a0 !== 0) for (let o = 0; o < fo; o++) gw[g0 + o]! += a0 * dl[ro + o]!;
            if (a1 !== 0) for (let o = 0; o < fo; o++) gw[g1 + o]! += a1 * dl[ro + o]!;
            if (a2 !== 0) for (let o = 0; o < fo; o++) gw[g2 + o]! += a2 * dl[ro + o]!;
            if (a3 !== 0) for (let o = 0; o < fo; o++) gw[g3 + o]! += a3 * dl[ro + o]!;
          }
        }
      }
      for (; i < fi; i++) {
        const wi = i * fo;
        for (let r = 0; r < rows; r++) {
          const a = inp[r * fi + i]!;
          if (a === 0) continue;
          const ro = r * fo;
          for (let o = 0; o < fo; o++) gw[wi + o]! += a * dl[ro + o]!;
        }
      }
      if (l > 0) {
        // Deltas of the layer below, through its ReLU (zero where it was not active); four rows share each
        // pass over the weights, each delta summed over the outputs in order.
        const dp = this.delta[l]!;
        let r = 0;
        for (; r + 4 <= rows; r += 4) {
          const d0 = r * fo;
          const d1 = d0 + fo;
          const d2 = d1 + fo;
          const d3 = d2 + fo;
          const ri = r * fi;
          for (let j = 0; j < fi; j++) {
            const wi = j * fo;
            let s0 = 0;
            let s1 = 0;
            let s2 = 0;
            let s3 = 0;
            for (let o = 0; o < fo; o++) {
              const wv = w[wi + o]!;
              s0 += wv * dl[d0 + o]!;
              s1 += wv * dl[d1 + o]!;
              s2 += wv * dl[d2 + o]!;
              s3 += wv * dl[d3 + o]!;
            }
            dp[ri + j] = inp[ri + j]! <= 0 ? 0 : s0;
            dp[ri + fi + j] = inp[ri + fi + j]! <= 0 ? 0 : s1;
            dp[ri + 2 * fi + j] = inp[ri + 2 * fi + j]! <= 0 ? 0 : s2;
            dp[ri + 3 * fi + j] = inp[ri + 3 * fi + j]! <= 0 ? 0 : s3;
          }
        }
        for (; r < rows; r++) {
          const ri = r * fi;
          const ro = r * fo;
          for (let j = 0; j < fi; j++) {
            if (inp[ri + j]! <= 0) {
              dp[ri + j] = 0;
              continue;
            }
            const wi = j * fo;
            let s = 0;
            for (let o = 0; o < fo; o++) s += w[wi + o]! * dl[ro + o]!;
            dp[ri + j] = s;
          }
        }
      }
      // scikit-learn: (X^T delta + alpha W) / n for the weights, mean delta for the biases.
      for (let k = 0; k < gw.length; k++) gw[k] = (gw[k]! + alpha * w[k]!) / rows;
      for (let o = 0; o < fo; o++) gb[o] = gb[o]! / rows;
    }
    this.step++;
    const lr = (learningRate * Math.sqrt(1 - Math.pow(BETA2, this.step))) / (1 - Math.pow(BETA1, this.step));
    for (let l = 0; l < L; l++) {
      adam(this.w[l]!, this.gw[l]!, this.mw[l]!, this.vw[l]!, lr);
      adam(this.b[l]!, this.gb[l]!, this.mb[l]!, this.vb[l]!, lr);
    }
    return loss / rows;
  }

  loadRows(x: Float64Array, width: number, rows: ArrayLike<number>, from: number, n: number): void {
    const a0 = this.act[0]!;
    for (let r = 0; r < n; r++) {
      const src = rows[from + r]! * width;
      for (let j = 0; j < width; j++) a0[r * width + j] = x[src + j]!;
    }
  }

  output(): Float64Array {
    return this.act[this.sizes.length - 1]!;
  }

  snapshot(): { w: Float64Array[]; b: Float64Array[] } {
    return { w: this.w.map((a) => Float64Array.from(a)), b: this.b.map((a) => Float64Array.from(a)) };
  }
}

function adam(param: Float64Array, grad: Float64Array, m: Float64Array, v: Float64Array, lr: number): void {
  for (let k = 0; k < param.length; k++) {
    const g = grad[k]!;
    const mk = BETA1 * m[k]! + (1 - BETA1) * g;
    const vk = BETA2 * v[k]! + (1 - BETA2) * g * g;
    m[k] = mk;
    v[k] = vk;
    param[k] = param[k]! - (lr * mk) / (Math.sqrt(vk) + EPS);
  }
}

function softmaxRows(a: Float64Array, rows: number, k: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * k;
    let max = -Infinity;
    for (let c = 0; c < k; c++) if (a[o + c]! > max) max = a[o + c]!;
    let sum = 0;
    for (let c = 0; c < k; c++) {
      const e = Math.exp(a[o + c]! - max);
      a[o + c] = e;
      sum += e;
    }
    for (let c = 0; c < k; c++) a[o + c] = a[o + c]! / sum;
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
export function trainNetwork(data: TrainingData, s: ReturnType<typeof mlpSettings>, n: number, onEpoch?: MlpOptions['onEpoch']): MlpNetwork {
  const { scores, count, dimensions, labels, classCount } = data;
  const sizes = [dimensions, ...s.hidden, classCount];
  const next = mulberry32((s.seed + n) >>> 0);
  const { train, validation } = stratifiedSplit(labels, count, classCount, s.validationShare, next);
  const batch = Math.min(s.batchSize, train.length);
  const trainer = new Trainer(sizes, Math.max(batch, Math.min(validation.length, 1024)), next);
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
      for (let r = 0; r < rows; r++) y[r] = labels[order[from + r]!]!;
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
    layers: kept.w.map((w, l) => ({ inputs: sizes[l]!, outputs: sizes[l + 1]!, weights: Array.from(w), bias: Array.from(kept.b[l]!) })),
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
  const scores = new Float64Array(new SharedArrayBuffer(count * dimensions * 8));
  scores.set(data.scores.subarray(0, count * dimensions));
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

function validationAccuracy(trainer: Trainer, scores: Float64Array, width: number, labels: Int32Array, rows: Int32Array, k: number): number {
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
      for (let c = 1; c < k; c++) if (p[r * k + c]! > p[r * k + bestC]!) bestC = c;
      if (bestC === labels[rows[from + r]!]) correct++;
    }
  }
  return correct / rows.length;
}

/** A network as flat arrays plus scratch activations, for allocation-free prediction. */
export interface CompiledMlp {
  /**
   * Per network, per layer: `rows`, the weights output-major (outputs x inputs; the model file stores them
   * input-major), which the forward pass reads: one dot product per output, four at a time.
   */
  readonly layers: readonly {
    readonly inputs: number;
    readonly outputs: number;
    readonly rows: Float64Array;
    readonly bias: Float64Array;
  }[][];
  /** Scratch: the activations of each layer (largest width), two buffers swapped. */
  readonly a: Float64Array;
  readonly b: Float64Array;
  readonly classCount: number;
}

export function compileMlp(
  model: { readonly networks: readonly { readonly layers: readonly { inputs: number; outputs: number; weights: readonly number[]; bias: readonly number[] }[] }[] },
  classCount: number,
): CompiledMlp {
  let widest = classCount;
  const layers = model.networks.map((net) =>
    net.layers.map((l) => {
      widest = Math.max(widest, l.inputs, l.outputs);
      const rows = new Float64Array(l.inputs * l.outputs);
      for (let i = 0; i < l.inputs; i++) for (let o = 0; o < l.outputs; o++) rows[o * l.inputs + i] = l.weights[i * l.outputs + o]!;
      return { inputs: l.inputs, outputs: l.outputs, rows, bias: Float64Array.from(l.bias) };
    }),
  );
  return { layers, a: new Float64Array(widest), b: new Float64Array(widest), classCount };
}

/**
 * Class probabilities of one row of PCA scores (`input[offset .. offset + inputs)`), averaged over the networks,
 * into `out`. Allocation-free.
 */
export function predictMlpInto(mlp: CompiledMlp, input: Float64Array, offset: number, out: Float64Array): void {
  forwardInto(mlp, null, input, offset, out);
}

/**
 * The networks' first layers with the scaler and the PCA projection folded in, so that a feature row goes
 * straight into the networks: W'[j][o] = sum_m projection[m][j] W[m][o] and b'[o] = b[o] + sum_m offset[m] W[m][o]
 * (`projection`: components x width, row-major, the scaler already in it). The PCA projection of every component
 * then drops out of the per-sample path (the shipped recovery model: 218 x 218 multiply-adds of 103,000).
 * `offset` is the projection's offset at folding; `refreshFoldedBias` follows it when drift adaptation moves it.
 */
export interface FoldedMlp {
  readonly width: number;
  /** Per network: outputs x width, row-major (output-major, as `CompiledMlp` layers' `rows`). */
  readonly weights: readonly Float64Array[];
  readonly bias: readonly Float64Array[];
  /** The projection offset the biases were folded with. */
  readonly offset: Float64Array;
}

export function foldMlpInput(mlp: CompiledMlp, projection: Float64Array, offset: Float64Array, width: number): FoldedMlp {
  const k = offset.length;
  const weights = mlp.layers.map((layers) => {
    const { inputs, outputs, rows: w } = layers[0]!;
    if (inputs !== k) throw new EnoseError('bad-model', `the MLP's first layer takes ${inputs} inputs, the projection gives ${k}`);
    const folded = new Float64Array(outputs * width);
    for (let o = 0; o < outputs; o++) {
      const fo = o * width;
      for (let m = 0; m < k; m++) {
        const wmo = w[o * inputs + m]!;
        if (wmo === 0) continue;
        const pm = m * width;
        for (let j = 0; j < width; j++) folded[fo + j]! += wmo * projection[pm + j]!;
      }
    }
    return folded;
  });
  const bias = mlp.layers.map((layers) => new Float64Array(layers[0]!.outputs));
  const folded: FoldedMlp = { width, weights, bias, offset: new Float64Array(k) };
  foldBiases(mlp, folded, offset);
  return folded;
}

function foldBiases(mlp: CompiledMlp, folded: FoldedMlp, offset: Float64Array): void {
  const k = offset.length;
  mlp.layers.forEach((layers, n) => {
    const { inputs, outputs, rows: w, bias: b } = layers[0]!;
    const out = folded.bias[n]!;
    for (let o = 0; o < outputs; o++) {
      let s = b[o]!;
      for (let m = 0; m < k; m++) s += offset[m]! * w[o * inputs + m]!;
      out[o] = s;
    }
  });
  folded.offset.set(offset);
}

/** Refolds the first layers' biases when `offset` moved since they were folded. Allocation-free when it has not. */
export function refreshFoldedBias(mlp: CompiledMlp, folded: FoldedMlp, offset: Float64Array): void {
  for (let m = 0; m < offset.length; m++) {
    if (offset[m] !== folded.offset[m]) {
      foldBiases(mlp, folded, offset);
      return;
    }
  }
}

/**
 * Class probabilities of one feature row (`input[offset .. offset + width)`, after the model's transform)
 * through the folded first layers (`foldMlpInput`), averaged over the networks, into `out`. The same networks as
 * `predictMlpInto` on the row's PCA scores, summed in another order (probabilities within about 1e-13 of it).
 * Allocation-free.
 */
export function predictMlpFoldedInto(mlp: CompiledMlp, folded: FoldedMlp, input: Float64Array, offset: number, out: Float64Array): void {
  forwardInto(mlp, folded, input, offset, out);
}

function forwardInto(mlp: CompiledMlp, folded: FoldedMlp | null, input: Float64Array, offset: number, out: Float64Array): void {
  const k = mlp.classCount;
  const nets = mlp.layers.length;
  for (let c = 0; c < k; c++) out[c] = 0;
  for (let n = 0; n < nets; n++) {
    const layers = mlp.layers[n]!;
    let src = input;
    let srcOffset = offset;
    let dst = mlp.a;
    for (let l = 0; l < layers.length; l++) {
      const layer = layers[l]!;
      const first = l === 0 && folded !== null;
      affineRowsInto(first ? folded.weights[n]! : layer.rows, first ? folded.bias[n]! : layer.bias, layer.outputs, first ? folded.width : layer.inputs, src, srcOffset, dst);
      if (l < layers.length - 1) {
        for (let o = 0; o < layer.outputs; o++) if (dst[o]! < 0) dst[o] = 0;
        src = dst;
        srcOffset = 0;
        dst = dst === mlp.a ? mlp.b : mlp.a;
      }
    }
    // dst holds the logits: softmax (each exponential taken once, kept in dst), then add to the average.
    let max = -Infinity;
    for (let c = 0; c < k; c++) if (dst[c]! > max) max = dst[c]!;
    let sum = 0;
    for (let c = 0; c < k; c++) {
      const e = Math.exp(dst[c]! - max);
      dst[c] = e;
      sum += e;
    }
    for (let c = 0; c < k; c++) out[c]! += dst[c]! / sum / nets;
  }
}
