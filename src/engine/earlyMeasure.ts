/**
 * What an early decision gives on labelled containers (issue 22): detection and false alarms of the whole
 * decision, when the verdicts came (means and the distribution, for clear and for drug containers), and the
 * containers a rig screens an hour. Pure. `enose demo --early` measures the live engine's verdicts with it, and
 * `npm run eval:early` (scripts/early-decision.mjs) the plan's decisions on scored containers, so the figures
 * agree for the same containers.
 */
import { normalQuantile, wilsonUpper } from '../model/runtime/policy.js';
import type { VerdictKind } from '../types.js';

/** One labelled container's decision. */
export interface EarlyDecisionRow {
  /** The truth: a drug container (true) or a clear one. */
  readonly suspicious: boolean;
  readonly verdict: VerdictKind | null;
  /** Seconds into the cycle when the verdict came (its checkpoint's). */
  readonly atS: number;
  /** Decided at an early checkpoint. */
  readonly early: boolean;
  /** The full cycle's own verdict, where known (a live engine gives none for a cycle decided early). */
  readonly fullVerdict?: VerdictKind | null;
}

export interface EarlyMeasureOptions {
  /**
   * Clean air after a cycle ended early at t s before the next container's cycle (which starts with its own
   * baseline): the cycle costs the rig t + purgeS s (a full cycle: `fullCycleS`). @default 60 (as much as a recovery)
   */
  readonly purgeS?: number;
  /** Seconds of a full cycle (baseline, exposure, recovery). @default 150 */
  readonly fullCycleS?: number;
}

/** Counts of containers by the seconds into the cycle their verdict came at (keys: seconds). */
export type DecisionTimes = Record<string, number>;

export interface EarlySummary {
  readonly containers: number;
  readonly clearContainers: number;
  readonly suspiciousContainers: number;
  readonly detectionRate: number;
  readonly falseAlarmRate: number;
  /** Wilson 95 % upper bound of the false-alarm rate. */
  readonly falseAlarmUpper95: number;
  readonly inconclusive: number;
  /** Drug containers cleared early; of them, those the full cycle would not have cleared (null where unknown). */
  readonly drugsClearedEarly: { readonly total: number; readonly fullCycleNotClear: number | null };
  readonly meanDecisionS: number;
  readonly meanDecisionClearS: number;
  readonly meanDecisionSuspiciousS: number;
  /** 3600 / the mean rig time a container (`purgeS`). */
  readonly containersPerRigHour: number;
  readonly containersPerRigHourByPurgeS: Record<string, number>;
  /** A port's mix (99 % clear) from the per-truth means: the simulator's sets are about half drug. */
  readonly meanDecisionS_at99pctClear: number;
  /** The distribution of decision times, for clear and for drug (suspicious) containers. */
  readonly decisionTimesS: { readonly clear: DecisionTimes; readonly suspicious: DecisionTimes };
}

const round = (x: number, d = 4) => Number(x.toFixed(d));

/** Measures the decisions of labelled containers (see EarlySummary). */
export function measureEarly(rows: readonly EarlyDecisionRow[], options: EarlyMeasureOptions = {}): EarlySummary {
  const purgeS = options.purgeS ?? 60;
  const fullCycleS = options.fullCycleS ?? 150;
  const times = { clear: {} as DecisionTimes, suspicious: {} as DecisionTimes };
  let clearN = 0, suspiciousN = 0, detected = 0, alarms = 0, inconclusive = 0;
  let drugsCleared = 0, drugsClearedNotByFull = 0, fullKnown = true;
  let sumS = 0, sumClearS = 0, sumSuspiciousS = 0;
  const cycleS = (atS: number, purge: number) => (atS < fullCycleS ? atS + purge : fullCycleS);
  const purges = [...new Set([0, 30, 60, purgeS])];
  const cycleSums = new Map<number, number>(purges.map((p) => [p, 0]));
  for (const r of rows) {
    const truth = r.suspicious ? 'suspicious' : 'clear';
    const key = String(r.atS);
    times[truth][key] = (times[truth][key] ?? 0) + 1;
    sumS += r.atS;
    for (const p of purges) cycleSums.set(p, cycleSums.get(p)! + cycleS(r.atS, p));
    if (r.verdict === 'inconclusive') inconclusive++;
    if (r.suspicious && r.early && r.verdict === 'clear') {
      drugsCleared++;
      if (r.fullVerdict === undefined) fullKnown = false;
      else if (r.fullVerdict !== 'clear') drugsClearedNotByFull++;
    }
    if (r.suspicious) {
      suspiciousN++;
      sumSuspiciousS += r.atS;
      if (r.verdict === 'suspicious') detected++;
    } else {
      clearN++;
      sumClearS += r.atS;
      if (r.verdict === 'suspicious') alarms++;
    }
  }
  const n = rows.length;
  const perHour = (p: number) => round(3600 / (cycleSums.get(p)! / n), 2);
  return {
    containers: n,
    clearContainers: clearN,
    suspiciousContainers: suspiciousN,
    detectionRate: round(detected / suspiciousN),
    falseAlarmRate: round(alarms / clearN),
    falseAlarmUpper95: round(wilsonUpper(alarms, clearN, normalQuantile(0.95))),
    inconclusive,
    drugsClearedEarly: { total: drugsCleared, fullCycleNotClear: fullKnown ? drugsClearedNotByFull : null },
    meanDecisionS: round(sumS / n, 2),
    meanDecisionClearS: round(sumClearS / clearN, 2),
    meanDecisionSuspiciousS: round(sumSuspiciousS / suspiciousN, 2),
    containersPerRigHour: perHour(purgeS),
    containersPerRigHourByPurgeS: Object.fromEntries(purges.sort((a, b) => a - b).map((p) => [String(p), perHour(p)])),
    meanDecisionS_at99pctClear: round(0.99 * (sumClearS / clearN) + 0.01 * (sumSuspiciousS / suspiciousN), 2),
    decisionTimesS: times,
  };
}
