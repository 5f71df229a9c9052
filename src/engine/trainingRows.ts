/**
 * Training cycles packed in typed arrays: what `extractRecordingCycles` gives, as a few flat buffers instead of an
 * object and two arrays per cycle. A worker thread extracts a recording (a simulator day) this way and transfers
 * the buffers (no structured clone of per-cycle objects); `unpackCycles` turns them back into the candidates
 * `assembleTrainingSet` reads, views into the same buffers, so the training set is the same bit for bit.
 */
import type { RigInfo } from '../types.js';
import { forEachRecordingCycle, type RecordingCycles, type SkippedCycle, type TrainingCandidate, type TrainingRecording, type TrainingSetOptions } from './training.js';

/** One recording's training cycles: row i of each buffer is its i-th candidate cycle, in recording order. */
export interface PackedCycles {
  readonly group: string;
  readonly rig: RigInfo | null;
  readonly count: number;
  /** Features per row, and rig values (`CycleFeaturesRecord.rigValues`) per row. */
  readonly width: number;
  readonly rigWidth: number;
  /** count x width, row-major. */
  readonly features: Float64Array;
  /** count x rigWidth, row-major. */
  readonly rigValues: Float64Array;
  readonly exposureS: Float64Array;
  readonly baselineDrift: Float64Array;
  readonly samples: readonly string[];
  readonly labels: readonly string[];
  readonly skipped: readonly SkippedCycle[];
}

/** A row-major buffer that grows by doubling; `take` trims it to the rows written. */
class Rows {
  data = new Float64Array(0);
  width = -1;
  count = 0;

  constructor(private readonly capacity: number) {}

  push(row: Float64Array): void {
    if (this.width < 0) {
      this.width = row.length;
      this.data = new Float64Array(Math.max(1, this.capacity) * row.length);
    }
    if ((this.count + 1) * this.width > this.data.length) {
      const grown = new Float64Array(Math.max(this.data.length * 2, (this.count + 1) * this.width));
      grown.set(this.data);
      this.data = grown;
    }
    this.data.set(row, this.count * this.width);
    this.count++;
  }

  take(): Float64Array {
    const n = this.count * Math.max(0, this.width);
    return n === this.data.length ? this.data : this.data.slice(0, n);
  }
}

/**
 * `extractRecordingCycles` into packed rows: the same cycles, skipped ones and rig, but each candidate's values
 * copied into buffers that grow by doubling (`capacityCycles`, e.g. the recording's container count, sizes
 * them at once), so memory holds the rows and nothing per frame or per cycle beyond its sample id and label.
 */
export function extractRecordingRows(recording: TrainingRecording, options: TrainingSetOptions = {}, capacityCycles = 1024): PackedCycles {
  const features = new Rows(capacityCycles);
  const rigValues = new Rows(capacityCycles);
  const exposure = new Rows(capacityCycles);
  const drift = new Rows(capacityCycles);
  const one = new Float64Array(1);
  const samples: string[] = [];
  const labels: string[] = [];
  const { skipped, rig } = forEachRecordingCycle(recording, options, (record) => {
    features.push(record.features);
    rigValues.push(record.rigValues);
    one[0] = record.exposureS;
    exposure.push(one);
    one[0] = record.baselineDrift;
    drift.push(one);
    samples.push(record.sample);
    labels.push(record.label!);
  });
  return {
    group: recording.group,
    rig,
    count: features.count,
    width: Math.max(0, features.width),
    rigWidth: Math.max(0, rigValues.width),
    features: features.take(),
    rigValues: rigValues.take(),
    exposureS: exposure.take(),
    baselineDrift: drift.take(),
    samples,
    labels,
    skipped,
  };
}

/** The buffers of packed rows, to transfer to another thread (postMessage's transfer list). */
export function packedBuffers(p: PackedCycles): ArrayBuffer[] {
  return [p.features.buffer, p.rigValues.buffer, p.exposureS.buffer, p.baselineDrift.buffer] as ArrayBuffer[];
}

/** Packed rows as the candidates `assembleTrainingSet` reads: views into the packed buffers (no copy). */
export function unpackCycles(p: PackedCycles): RecordingCycles {
  const candidates: TrainingCandidate[] = new Array(p.count);
  for (let i = 0; i < p.count; i++) {
    candidates[i] = {
      sample: p.samples[i],
      label: p.labels[i],
      features: p.features.subarray(i * p.width, (i + 1) * p.width),
      rigValues: p.rigValues.subarray(i * p.rigWidth, (i + 1) * p.rigWidth),
      exposureS: p.exposureS[i],
      baselineDrift: p.baselineDrift[i],
    };
  }
  return { group: p.group, candidates, skipped: p.skipped, rig: p.rig };
}
