/**
 * Calibration transfer between rigs: a model trained on rig A (the master) runs on rig B (the slave) once a
 * handful of transfer samples, the same containers or reference gases measured on both rigs, say how B's
 * features map onto A's. Direct standardisation (DS) regresses every master feature on all slave features;
 * piecewise direct standardisation (PDS) on the slave features of the same sensor only (Wang, Veltkamp &
 * Kowalski, Anal. Chem. 63 (1991) 2750-2756; for gas-sensor arrays see Rodriguez-Lujan et al., Chemometrics
 * and Intelligent Laboratory Systems 130 (2014) 123-134). With fewer transfer samples than features the
 * regressions are ridge-regularised. The map is folded into the model (`foldInputMap`).
 */
import { EnoseError } from '../../errors.js';
import type { FeatureTable } from '../../types.js';
import type { ModelBundle } from '../runtime/bundle.js';
import { Matrix } from 'ml-matrix';
import { foldInputMap, hashFeatureRows, modelInputRows, type InputMap } from './correction.js';
import { pseudoInverseSymmetric } from '../numeric/linalg.js';
import { fitScaler } from '../runtime/scaler.js';

export type TransferMethod = 'pds' | 'ds';
export const TRANSFER_METHODS: readonly TransferMethod[] = ['pds', 'ds'];

export interface TransferOptions {
  /** @default 'pds' */
  readonly method?: TransferMethod;
  /** Ridge penalty relative to the mean squared slave feature (in the model's z-units). @default 0.01 */
  readonly ridge?: number;
}

/** The fewest transfer samples accepted. */
export const MIN_TRANSFER_SAMPLES = 3;

/**
 * The block of each feature for PDS: features named `<channel>:<feature>` are grouped by channel; features
 * without a channel prefix form one block (PDS is then DS).
 */
export function featureBlocks(featureNames: readonly string[]): Int32Array {
  const ids = new Map<string, number>();
  return Int32Array.from(featureNames, (name) => {
    const colon = name.lastIndexOf(':');
    const key = colon > 0 ? name.slice(0, colon) : '';
    if (!ids.has(key)) ids.set(key, ids.size);
    return ids.get(key)!;
  });
}

/** Rows of `table` in the order of `order` (indices into the table). */
function pickRows(table: FeatureTable, order: readonly number[], source: string): FeatureTable {
  const w = table.width;
  const x = new Float64Array(order.length * w);
  order.forEach((row, i) => x.set(table.x.subarray(row * w, (row + 1) * w), i * w));
  return {
    source,
    featureNames: table.featureNames,
    width: w,
    count: order.length,
    x,
    labels: order.map((r) => table.labels[r]),
    samples: order.map((r) => table.samples[r]),
    groups: order.map((r) => table.groups[r]),
  };
}

/**
 * Pairs the transfer samples of the two rigs by sample id (the container or reference id both rigs recorded),
 * in the master's order; samples present on one rig only are left out and listed. Ids must be unique per rig.
 */
export function pairTransferSamples(
  master: FeatureTable,
  slave: FeatureTable,
): { readonly master: FeatureTable; readonly slave: FeatureTable; readonly unpaired: readonly string[] } {
  const index = new Map<string, number>();
  slave.samples.forEach((id, i) => {
    if (index.has(id)) throw new EnoseError('bad-data', `${slave.source}: sample id "${id}" appears twice; transfer samples are paired by id`);
    index.set(id, i);
  });
  const seen = new Set<string>();
  const a: number[] = [];
  const b: number[] = [];
  const unpaired: string[] = [];
  master.samples.forEach((id, i) => {
    if (seen.has(id)) throw new EnoseError('bad-data', `${master.source}: sample id "${id}" appears twice; transfer samples are paired by id`);
    seen.add(id);
    const j = index.get(id);
    if (j === undefined) unpaired.push(id);
    else {
      a.push(i);
      b.push(j);
    }
  });
  for (const id of slave.samples) if (!seen.has(id)) unpaired.push(id);
  return { master: pickRows(master, a, master.source), slave: pickRows(slave, b, slave.source), unpaired };
}

/**
 * Fits the map from slave rows to master rows (x_master = L x_slave + t, in the model's input space), row i of
 * `slave` being the same sample as row i of `master`.
 */
export function fitTransferMap(bundle: ModelBundle, master: FeatureTable, slave: FeatureTable, options: TransferOptions = {}): InputMap {
  const method = options.method ?? 'pds';
  if (!TRANSFER_METHODS.includes(method)) throw new EnoseError('bad-option', `transfer method must be one of ${TRANSFER_METHODS.join(', ')}, got "${String(method)}"`);
  const ridge = options.ridge ?? 0.01;
  if (!(ridge > 0 && Number.isFinite(ridge))) throw new EnoseError('bad-option', `--ridge must be a positive number, got ${ridge}`);
  if (master.count !== slave.count) {
    throw new EnoseError('bad-data', `the transfer sets differ in size: ${master.count} samples on the master rig, ${slave.count} on the slave rig`);
  }
  const n = master.count;
  if (n < MIN_TRANSFER_SAMPLES) throw new EnoseError('too-few-samples', `at least ${MIN_TRANSFER_SAMPLES} transfer samples are needed, got ${n}`);
  const width = bundle.input.featureNames.length;
  const ua = modelInputRows(bundle, master);
  const ub = modelInputRows(bundle, slave);
  const { mean, scale } = bundle.scaler;
  // Both rigs in the model's z-units, centred on their own means.
  const za = new Float64Array(n * width);
  const zb = new Float64Array(n * width);
  const ma = new Float64Array(width);
  const mb = new Float64Array(width);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < width; j++) {
      za[i * width + j] = (ua[i * width + j] - mean[j]) / scale[j];
      zb[i * width + j] = (ub[i * width + j] - mean[j]) / scale[j];
      ma[j] += za[i * width + j] / n;
      mb[j] += zb[i * width + j] / n;
    }
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < width; j++) {
      za[i * width + j] -= ma[j];
      zb[i * width + j] -= mb[j];
    }
  }
  const blocks = method === 'ds' ? new Int32Array(width) : featureBlocks(bundle.input.featureNames);
  // g[i * width + j]: weight of slave feature i in master feature j (z-units).
  const g = new Float64Array(width * width);
  const blockCount = Math.max(...blocks) + 1;
  for (let blk = 0; blk < blockCount; blk++) {
    const members: number[] = [];
    for (let j = 0; j < width; j++) if (blocks[j] === blk) members.push(j);
    solveBlock(za, zb, n, width, members, ridge, g);
  }
  // Back to input units: x_a = diag(s) G^T diag(1/s) x_b + t.
  const linear = new Float64Array(width * width);
  const offset = new Float64Array(width);
  for (let j = 0; j < width; j++) {
    let gm = 0;
    for (let i = 0; i < width; i++) gm += mb[i] * g[i * width + j];
    let lm = 0;
    for (let i = 0; i < width; i++) {
      const l = (scale[j] * g[i * width + j]) / scale[i];
      linear[j * width + i] = l;
      lm += l * mean[i];
    }
    offset[j] = mean[j] + scale[j] * (ma[j] - gm) - lm;
  }
  return { kind: 'full', linear, offset };
}

/**
 * Ridge regression of each master feature of a block on the slave features of the same block:
 * G = (Xb^T Xb + lambda I)^-1 Xb^T Xa, lambda = ridge times the mean diagonal of Xb^T Xb, solved in the dual
 * (n x n) when the block is wider than the sample count.
 */
function solveBlock(za: Float64Array, zb: Float64Array, n: number, width: number, members: readonly number[], ridge: number, g: Float64Array): void {
  const p = members.length;
  let trace = 0;
  for (let i = 0; i < n; i++) for (const j of members) trace += zb[i * width + j] * zb[i * width + j];
  const lambda = ridge * Math.max(trace / p, 1e-12);
  if (p <= n) {
    const a = new Matrix(p, p);
    for (let x = 0; x < p; x++) {
      for (let y = x; y < p; y++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += zb[i * width + members[x]] * zb[i * width + members[y]];
        if (x === y) s += lambda;
        a.set(x, y, s);
        a.set(y, x, s);
      }
    }
    const inv = pseudoInverseSymmetric(a);
    for (const j of members) {
      const rhs = new Float64Array(p);
      for (let x = 0; x < p; x++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += zb[i * width + members[x]] * za[i * width + j];
        rhs[x] = s;
      }
      for (let x = 0; x < p; x++) {
        let s = 0;
        for (let y = 0; y < p; y++) s += inv.get(x, y) * rhs[y];
        g[members[x] * width + j] = s;
      }
    }
    return;
  }
  // Dual: G = Xb^T (Xb Xb^T + lambda I)^-1 Xa.
  const kmat = new Matrix(n, n);
  for (let i = 0; i < n; i++) {
    for (let l = i; l < n; l++) {
      let s = 0;
      for (const j of members) s += zb[i * width + j] * zb[l * width + j];
      if (i === l) s += lambda;
      kmat.set(i, l, s);
      kmat.set(l, i, s);
    }
  }
  const inv = pseudoInverseSymmetric(kmat);
  const alpha = new Float64Array(n);
  for (const j of members) {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let l = 0; l < n; l++) s += inv.get(i, l) * za[l * width + j];
      alpha[i] = s;
    }
    for (const x of members) {
      let s = 0;
      for (let i = 0; i < n; i++) s += zb[i * width + x] * alpha[i];
      g[x * width + j] = s;
    }
  }
}

/**
 * The master rig's model, transferred to the slave rig: a new signed bundle that takes the slave rig's
 * features. Its lineage names the parent, the method and the hash of both transfer sets.
 */
export function transferModel(bundle: ModelBundle, master: FeatureTable, slave: FeatureTable, options: TransferOptions = {}): ModelBundle {
  const method = options.method ?? 'pds';
  const ridge = options.ridge ?? 0.01;
  const map = fitTransferMap(bundle, master, slave, options);
  const ub = modelInputRows(bundle, slave);
  const inputScaler = fitScaler(ub, slave.count, slave.width);
  return foldInputMap(bundle, map, inputScaler, {
    parent: bundle.hash,
    method: `${method}(ridge=${ridge})`,
    reference: hashFeatureRows(master, slave),
  });
}
