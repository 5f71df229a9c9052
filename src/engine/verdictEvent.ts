/**
 * The verdict event as one object literal of a fixed shape (src/engine/core.ts `judge()` builds it last). The
 * optional `label` and `adaptation` sit between `frames` and `pcaScores`, so each of their four combinations is a
 * literal of its own: the object spreads that added them (`...(label && { label })`) copied through a runtime call
 * and left every later field outside the object (about 0.5 us a verdict, more with the code cold). The fields, their
 * order and their values are the event's documented ones (types.ts `VerdictEvent`), whichever literal builds it.
 */
import type { CycleTracker } from '../signal/cycle.js';
import type { CycleQuality, VerdictCheckpoint, VerdictEvent, VerdictKind, VerdictReason } from '../types.js';

type AdaptationStatus = NonNullable<VerdictEvent['adaptation']>;

/** The verdict on the cycle `t` is in (its id and frames); every other field as given, `label` '' or undefined: none. */
export function verdictEventOf(
  t: CycleTracker,
  atMs: number,
  latencyMs: number,
  wallTime: string,
  station: string,
  modelId: string,
  verdict: VerdictKind | null,
  cls: string | null,
  probabilities: Readonly<Record<string, number>>,
  score: number | null,
  reasons: readonly VerdictReason[],
  quality: CycleQuality,
  label: string | undefined,
  adaptation: AdaptationStatus | null,
  pcaScores: number[] | null,
  decidedAtS: number,
  checkpoint: VerdictCheckpoint,
): VerdictEvent {
  const sample = t.id;
  const frames = { first: t.firstSeq, last: t.lastSeq, count: t.count };
  if (label === undefined || label === '') {
    if (adaptation === null) {
      return { type: 'verdict', atMs, wallTime, station, sample, verdict, class: cls, probabilities, score, reasons, quality, modelId, latencyMs, frames, pcaScores, decidedAtS, checkpoint, early: false };
    }
    return { type: 'verdict', atMs, wallTime, station, sample, verdict, class: cls, probabilities, score, reasons, quality, modelId, latencyMs, frames, adaptation, pcaScores, decidedAtS, checkpoint, early: false };
  }
  if (adaptation === null) {
    return { type: 'verdict', atMs, wallTime, station, sample, verdict, class: cls, probabilities, score, reasons, quality, modelId, latencyMs, frames, label, pcaScores, decidedAtS, checkpoint, early: false };
  }
  return { type: 'verdict', atMs, wallTime, station, sample, verdict, class: cls, probabilities, score, reasons, quality, modelId, latencyMs, frames, label, adaptation, pcaScores, decidedAtS, checkpoint, early: false };
}

/** A verdict's `pcaScores`: a plain array of the scores (`Array.from` walked the typed array through its iterator). */
export function scoresArray(scores: Float64Array): number[] {
  const out = new Array<number>(scores.length);
  for (let c = 0; c < scores.length; c++) out[c] = scores[c];
  return out;
}
