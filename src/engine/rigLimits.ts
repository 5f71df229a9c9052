/**
 * Learns each channel's limits from the training recordings' frames (one pass, bounded memory): its resolution
 * (smallest nonzero step between consecutive readings of a cycle), its normal range (0.5 % and 99.5 %
 * quantiles of the readings), its ordinary out-and-back movement (99 % quantile of the smaller of two opposite
 * consecutive steps: what a spike must clearly exceed) and the share of cycles in which
 * it did not move. A channel with no finite reading, or a single value, in all of training is dead: the model
 * leaves it out (`dropChannels`). See src/signal/channelGates.ts for how the gates use these.
 */
import { sortedQuantile } from '../model/numeric/quantile.js';
import type { LearnedChannel } from '../signal/channelGates.js';
import type { SourceEvent } from '../types.js';

/** Readings (and steps) kept per channel for the quantiles: every k-th, k doubling when the buffer fills. */
const KEEP = 1 << 17;

/** An evenly thinned sample of a stream of numbers, deterministic, at most KEEP values. */
class Thinned {
  values = new Float64Array(KEEP);
  count = 0;
  private stride = 1;
  private seen = 0;

  push(v: number): void {
    if (this.seen++ % this.stride !== 0) return;
    if (this.count === KEEP) {
      for (let i = 0; i < KEEP / 2; i++) this.values[i] = this.values[2 * i];
      this.count = KEEP / 2;
      this.stride *= 2;
      if ((this.seen - 1) % this.stride !== 0) return;
    }
    this.values[this.count++] = v;
  }

  sorted(): Float64Array {
    return this.values.slice(0, this.count).sort();
  }
}

export interface RigLimits {
  /** Learned limits of the live channels. */
  readonly channels: Record<string, LearnedChannel>;
  /** Channels dead in all of training (no finite reading, or one value throughout), with why. */
  readonly dead: readonly { readonly channel: string; readonly why: string }[];
}

/** Learns the limits of `channels` from the frames of the recordings (phases B, E and R). */
export function learnRigLimits(channels: readonly string[], recordings: Iterable<Iterable<SourceEvent>>): RigLimits {
  const n = channels.length;
  const readings = channels.map(() => new Thinned());
  const steps = channels.map(() => new Thinned());
  const resolution = new Float64Array(n).fill(Infinity);
  const min = new Float64Array(n).fill(Infinity);
  const max = new Float64Array(n).fill(-Infinity);
  const cycleMin = new Float64Array(n);
  const cycleMax = new Float64Array(n);
  const cycleValid = new Int32Array(n);
  const flat = new Int32Array(n);
  const cycles = new Int32Array(n);
  const prev = new Float64Array(n);
  const prev2 = new Float64Array(n);
  const closeCycle = () => {
    for (let i = 0; i < n; i++) {
      if (cycleValid[i] > 1) {
        cycles[i]++;
        if (cycleMax[i] === cycleMin[i]) flat[i]++;
      }
    }
    cycleMin.fill(Infinity);
    cycleMax.fill(-Infinity);
    cycleValid.fill(0);
    prev.fill(NaN);
    prev2.fill(NaN);
  };
  closeCycle();
  cycles.fill(0);
  flat.fill(0);
  for (const events of recordings) {
    let lastSample: string | undefined;
    let lastPhase = 'I';
    for (const e of events) {
      if (e.type !== 'frame' || (e.phase !== 'B' && e.phase !== 'E' && e.phase !== 'R')) {
        if (e.type === 'frame') lastPhase = e.phase;
        continue;
      }
      if (e.sample !== lastSample || (e.phase === 'B' && lastPhase !== 'B')) closeCycle();
      lastSample = e.sample;
      lastPhase = e.phase;
      for (let i = 0; i < n; i++) {
        const v = e.values[i];
        if (!Number.isFinite(v)) continue;
        readings[i].push(v);
        if (v < min[i]) min[i] = v;
        if (v > max[i]) max[i] = v;
        if (v < cycleMin[i]) cycleMin[i] = v;
        if (v > cycleMax[i]) cycleMax[i] = v;
        cycleValid[i]++;
        const p = prev[i];
        if (p === p) {
          const d = Math.abs(v - p);
          if (d > 0 && d < resolution[i]) resolution[i] = d;
          const pp = prev2[i];
          const up = p - pp;
          const back = p - v;
          if (pp === pp && up * back > 0) steps[i].push(Math.min(Math.abs(up), Math.abs(back)));
        }
        prev2[i] = p;
        prev[i] = v;
      }
    }
    closeCycle();
  }
  const learned: Record<string, LearnedChannel> = {};
  const dead: { channel: string; why: string }[] = [];
  channels.forEach((channel, i) => {
    if (readings[i].count === 0) return dead.push({ channel, why: 'no finite reading' });
    if (min[i] === max[i]) return dead.push({ channel, why: `reads ${min[i]} throughout` });
    const r = readings[i].sorted();
    const s = steps[i].sorted();
    learned[channel] = {
      resolution: Number.isFinite(resolution[i]) ? resolution[i] : 0,
      low: sortedQuantile(r, 0.005),
      high: sortedQuantile(r, 0.995),
      step: s.length > 0 ? sortedQuantile(s, 0.99) : 0,
      flatShare: cycles[i] > 0 ? flat[i] / cycles[i] : 0,
    };
    return undefined;
  });
  return { channels: learned, dead };
}
