/**
 * Seeded inputs shared by the benchmarks: synthetic rigs of any channel count running sampling cycles with
 * class-dependent MOX responses, models trained on them through the engine's own feature path, and the
 * drift data set read from the shared folder.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { EngineCore, extractorOf, type CycleFeaturesRecord } from '../src/engine/core.js';
import { extractTrainingSet } from '../src/engine/training.js';
import { readDataset } from '../src/io/datasets/index.js';
import type { ModelBundle } from '../src/model/runtime/bundle.js';
import { fitModel, type ClassifierKind, type FitOptions } from '../src/model/fitting/fitModel.js';
import { simulationEvents } from '../src/sim/events.js';
import { createSimulation } from '../src/sim/simulate.js';
import type { FeatureTable, Phase, RigInfo, SourceEvent } from '../src/types.js';
import { gaussian, mulberry32, sharedRoot } from './harness.js';

/** A synthetic rig: `gas` MOX channels plus the named environment channels. */
export interface RigShape {
  readonly gas: number;
  readonly env: readonly ('temp_c' | 'rh_pct')[];
}

/** Features per gas channel (ss, peak, area, slope, three EMA transients) and per environment channel. */
export function featureWidth(shape: RigShape): number {
  return shape.gas * 7 + shape.env.length * 2;
}

/** 16 features: 2 gas channels and a temperature probe. */
export const SHAPE_16: RigShape = { gas: 2, env: ['temp_c'] };
/** The 16-channel array of issue 4 (16 gas channels, temperature, humidity): 116 features. */
export const SHAPE_ARRAY16: RigShape = { gas: 16, env: ['temp_c', 'rh_pct'] };
/** 128 features: 18 gas channels and a temperature probe. */
export const SHAPE_128: RigShape = { gas: 18, env: ['temp_c'] };

export function shapeLabel(shape: RigShape): string {
  return `${featureWidth(shape)} features (${shape.gas} gas + ${shape.env.length} env ch)`;
}

export function rigInfo(shape: RigShape, rateHz = 10, rig = 'B1'): RigInfo {
  const channels = [...Array.from({ length: shape.gas }, (_, i) => `g${i + 1}`), ...shape.env];
  return { proto: 'ENL/1', rig, fw: 'bench', rateHz, unit: 'ohm', channels };
}

export const CLASSES = ['clear', 'cocaine', 'cannabis', 'heroin', 'tobacco'] as const;

/** Frames per phase of one synthetic cycle (at 10 Hz: 3.5 s baseline, 5.5 s exposure, the shortest usable). */
export interface CycleLength {
  readonly idle: number;
  readonly baseline: number;
  readonly exposure: number;
  readonly recovery: number;
}

export const SHORT_CYCLE: CycleLength = { idle: 1, baseline: 35, exposure: 55, recovery: 2 };

export function cycleFrames(c: CycleLength): number {
  return c.idle + c.baseline + c.exposure + c.recovery;
}

export interface StreamOptions {
  readonly seed: number;
  readonly cycles: number;
  readonly rateHz?: number;
  readonly length?: CycleLength;
  /** Attach sample id and label to each cycle's frames, as a labelled recording does. @default false */
  readonly hints?: boolean;
  /** First seq. @default 0 */
  readonly firstSeq?: number;
  /** Include the info event first. @default true */
  readonly info?: boolean;
  readonly rig?: string;
}

/**
 * A rig running `cycles` sampling cycles back to back (info, then frames), lazily. Each class has its own
 * seeded pattern of relative resistance drops per channel; each cycle a random strength and per-frame noise.
 * The same seed gives the same events.
 */
export function* rigEvents(shape: RigShape, options: StreamOptions): Generator<SourceEvent> {
  const rateHz = options.rateHz ?? 10;
  const info = rigInfo(shape, rateHz, options.rig);
  const len = options.length ?? SHORT_CYCLE;
  const patternRand = mulberry32(7919); // class patterns are the same for every stream of a shape
  const patterns = CLASSES.map((label) =>
    Array.from({ length: shape.gas }, () => (label === 'clear' ? 0.01 + 0.02 * patternRand() : 0.05 + 0.35 * patternRand())),
  );
  const r0 = Array.from({ length: shape.gas }, () => 10_000 + 60_000 * patternRand());
  const exponent = Array.from({ length: shape.gas }, () => 0.4 + 0.5 * patternRand());
  const humidityGain = Array.from({ length: shape.gas }, () => 0.01 * (patternRand() - 0.5));
  const drop = new Float64Array(shape.gas);
  const speed = new Float64Array(shape.gas);
  const level = new Float64Array(shape.gas);
  const rand = mulberry32(options.seed);
  const normal = gaussian(rand);
  const width = info.channels.length;
  if (options.info ?? true) yield { type: 'info', atMs: 0, ...info };
  let seq = options.firstSeq ?? 0;
  let tMs = 1000 + seq * Math.round(1000 / rateHz);
  const stepMs = Math.round(1000 / rateHz);
  const phases: [Phase, number][] = [
    ['I', len.idle],
    ['B', len.baseline],
    ['E', len.exposure],
    ['R', len.recovery],
  ];
  const tau = len.exposure / 4;
  for (let cycle = 0; cycle < options.cycles; cycle++) {
    const classIndex = Math.floor(rand() * CLASSES.length);
    const label = CLASSES[classIndex]!;
    const pattern = patterns[classIndex]!;
    // Concentration (log-normal), per-channel sensitivity and speed scatter, humidity cross-sensitivity: enough
    // independent variation that PCA keeps about as many components as on the simulator's data.
    const concentration = Math.exp(0.4 * normal());
    const temp = 21 + 2 * normal();
    const rh = 50 + 5 * normal();
    for (let c = 0; c < shape.gas; c++) {
      drop[c] = Math.min(0.9, pattern[c]! * concentration ** exponent[c]! * Math.exp(0.15 * normal()) * (1 + humidityGain[c]! * (rh - 50)));
      speed[c] = tau * Math.exp(0.2 * normal());
      level[c] = r0[c]! * Math.exp(0.05 * normal());
    }
    const sample = `${options.rig ?? 'B1'}-c${cycle}`;
    let e = 0;
    for (const [phase, n] of phases) {
      for (let f = 0; f < n; f++) {
        const values = new Float64Array(width);
        for (let c = 0; c < shape.gas; c++) {
          const base = level[c]! * (1 + 0.002 * normal());
          values[c] = phase === 'E' ? base * (1 - drop[c]! * (1 - Math.exp(-e / speed[c]!))) : base;
        }
        for (let k = 0; k < shape.env.length; k++) {
          values[shape.gas + k] = shape.env[k] === 'temp_c' ? temp + 0.05 * normal() : rh + 0.2 * normal();
        }
        const hint = options.hints ? { sample: phase === 'I' ? '' : sample, label: phase === 'I' ? '' : label } : {};
        yield { type: 'frame', atMs: 0, seq, tMs, phase, values, ...hint };
        seq++;
        tMs += stepMs;
        if (phase === 'E') e++;
      }
    }
  }
}

/** Trains a model for `shape` on `samples` synthetic cycles, through the engine's feature path. */
export function trainSynthetic(shape: RigShape, samples: number, classifier: ClassifierKind, seed = 1, extra: FitOptions = {}): ModelBundle {
  const set = extractTrainingSet([{ group: 'bench', events: rigEvents(shape, { seed, cycles: samples, hints: true }) }]);
  if (set.table.count !== samples) throw new Error(`training set has ${set.table.count} rows, ${samples} cycles were run (${set.skipped.length} skipped)`);
  return fitModel(set.table, set.input, { classifier, limits: set.limits, ...extra });
}

/** The feature table of `samples` synthetic cycles (for fitting several classifiers on the same rows). */
export function syntheticTable(shape: RigShape, samples: number, seed = 1): ReturnType<typeof extractTrainingSet> {
  return extractTrainingSet([{ group: 'bench', events: rigEvents(shape, { seed, cycles: samples, hints: true }) }]);
}

// ---------------------------------------------------------------------------------------------------------
// The drift data set

export const DRIFT_RAW = (): string => resolve(sharedRoot(), 'datasets', 'uci-gas-drift', 'raw');
export const DRIFT_ZSCORED = (): string => resolve(sharedRoot(), 'datasets', 'uci-gas-drift', 'zscored-per-batch');

/** Reads a folder of libsvm batches as one table (files in numeric name order), or null when absent. */
export async function readDrift(folder: string): Promise<FeatureTable | null> {
  if (!existsSync(folder)) return null;
  const read = await readDataset(folder);
  if (!read.ok) throw new Error(`cannot read ${folder}: line ${read.error.line}: ${read.error.reason}`);
  if (read.value.kind !== 'features') throw new Error(`${folder} is not a feature data set`);
  return read.value.table;
}

/** The rows `rows` of a table, as a new table. */
export function subsetTable(table: FeatureTable, rows: ArrayLike<number>): FeatureTable {
  const w = table.width;
  const x = new Float64Array(rows.length * w);
  const labels: string[] = [];
  const samples: string[] = [];
  const groups: string[] = [];
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    x.set(table.x.subarray(r * w, (r + 1) * w), i * w);
    labels.push(table.labels[r]!);
    samples.push(table.samples[r]!);
    groups.push(table.groups[r]!);
  }
  return { ...table, count: rows.length, x, labels, samples, groups };
}

/** The frames of `cycles` synthetic cycles, kept to be replayed many times (see `PoolReplay`). */
export interface CyclePool {
  readonly info: Extract<SourceEvent, { type: 'info' }>;
  /** Per cycle, its frames (phase and values; seq and time are given at replay). */
  readonly cycles: readonly (readonly { readonly phase: Phase; readonly values: Float64Array }[])[];
}

export function cyclePool(shape: RigShape, seed: number, cycles: number, rateHz = 10, length: CycleLength = SHORT_CYCLE): CyclePool {
  let info: Extract<SourceEvent, { type: 'info' }> | null = null;
  const out: { phase: Phase; values: Float64Array }[][] = [];
  const perCycle = cycleFrames(length);
  let current: { phase: Phase; values: Float64Array }[] = [];
  for (const e of rigEvents(shape, { seed, cycles, rateHz, length })) {
    if (e.type === 'info') info = e;
    else if (e.type === 'frame') {
      current.push({ phase: e.phase, values: e.values });
      if (current.length === perCycle) {
        out.push(current);
        current = [];
      }
    }
  }
  return { info: info!, cycles: out };
}

/**
 * Replays a pool's cycles in a loop as a rig would send them: consecutive seq and rig time, a fresh event
 * object per frame (as a decoder makes), the pool's value arrays shared (the engine never writes them).
 */
export class PoolReplay {
  private seq: number;
  private cycle = 0;
  private readonly stepMs: number;

  constructor(
    readonly pool: CyclePool,
    firstSeq = 0,
  ) {
    this.seq = firstSeq;
    this.stepMs = Math.round(1000 / pool.info.rateHz);
  }

  /** The next cycle's frame events. */
  nextCycle(atMs = 0): SourceEvent[] {
    const frames = this.pool.cycles[this.cycle++ % this.pool.cycles.length]!;
    const out: SourceEvent[] = new Array(frames.length);
    for (let f = 0; f < frames.length; f++) {
      const seq = this.seq++;
      out[f] = { type: 'frame', atMs, seq, tMs: (1000 + seq * this.stepMs) >>> 0, phase: frames[f]!.phase, values: frames[f]!.values };
    }
    return out;
  }
}

/** The shipped models' benchmark stream: `containers` simulated containers of the evaluation days (seed 1, days 21-30). */
export function evaluationEvents(containers: number): SourceEvent[] {
  return [...simulationEvents(createSimulation({ seed: 1, containers, startDay: 21, days: 10 }))];
}

/** Each cycle's feature record from a feature-only core with the model's own extractor settings (the reference's input). */
export function featureRecords(bundle: ModelBundle, stream: readonly SourceEvent[]): CycleFeaturesRecord[] {
  const out: CycleFeaturesRecord[] = [];
  const core = new EngineCore(null, { emitFrames: false, extractor: extractorOf(bundle) }, () => undefined, (r) => out.push(r));
  for (const e of stream) core.push(e);
  core.end();
  return out;
}
