/**
 * A model over a simulated set, through the full streaming engine (a memory source of the simulator's events,
 * the same path as a serial rig): verdicts counted against the simulator's ground truth. What `enose demo`
 * prints and what the evaluation scripts measure.
 */
import { createEngine } from '../engine/engine.js';
import { createMemorySource } from '../io/memory.js';
import type { AdaptationOptions } from '../model/drift/adaptation.js';
import type { ModelBundle } from '../model/runtime/bundle.js';
import { sortedQuantile } from '../model/numeric/quantile.js';
import { simulationEvents } from '../sim/events.js';
import { createSimulation, type SimulationOptions } from '../sim/simulate.js';
import type { VerdictEvent } from '../types.js';

export interface RunSummary {
  readonly set: string;
  readonly containers: number;
  readonly perLabel: Record<string, { n: number; suspicious: number; inconclusive: number; clear: number }>;
  readonly detectionRate: number | null;
  readonly falseAlarmRate: number | null;
  readonly inconclusive: number;
  readonly latencyMsP50: number;
  readonly latencyMsP99: number;
  readonly samplesPerS: number;
  readonly frames: number;
  /** With adaptation (--adapt): clear samples it accepted, and the watchdog's stop (after which container), if any. */
  readonly adaptation?: {
    readonly accepted: number;
    readonly stoppedAfter: number | null;
    readonly addedAlarms: number | null;
    /** Verdicts made inconclusive because the unadapted model flagged what the adapted one cleared. */
    readonly disagreements: number;
  };
}

/** Streams a simulated set through the engine and summarises the verdicts. */
export async function runSimulatedSet(
  model: ModelBundle,
  set: string,
  options: SimulationOptions,
  onVerdict?: (v: VerdictEvent, done: number) => void,
  adaptation: boolean | AdaptationOptions = false,
): Promise<RunSummary> {
  const sim = createSimulation(options);
  const source = createMemorySource(simulationEvents(sim), { description: `sim:${set}` });
  const verdicts: VerdictEvent[] = [];
  /** The watchdog's stop, if any (at most one). */
  const stops: { after: number; addedAlarms: number }[] = [];
  const engine = createEngine({
    model,
    source,
    queue: false,
    emitFrames: false,
    adaptation,
    onEvent: (e) => {
      if (e.type === 'verdict') {
        verdicts.push(e);
        onVerdict?.(e, verdicts.length);
      } else if (e.type === 'adaptation-stopped') {
        stops.push({ after: verdicts.length, addedAlarms: e.addedAlarms });
      }
    },
  });
  const started = performance.now();
  await engine.done;
  const elapsedS = (performance.now() - started) / 1000;
  let frames = 0;
  for (let i = 0; i < sim.options.containers; i++) frames += sim.cycleAt(i).frameCount;
  const perLabel: RunSummary['perLabel'] = {};
  let suspiciousN = 0;
  let detected = 0;
  let clearN = 0;
  let alarms = 0;
  let inconclusive = 0;
  for (const v of verdicts) {
    const label = v.label ?? '?';
    const row = (perLabel[label] ??= { n: 0, suspicious: 0, inconclusive: 0, clear: 0 });
    row.n++;
    if (v.verdict === 'suspicious') row.suspicious++;
    else if (v.verdict === 'inconclusive') row.inconclusive++;
    else if (v.verdict === 'clear') row.clear++;
    if (v.verdict === 'inconclusive') inconclusive++;
    if (label === 'clear') {
      clearN++;
      if (v.verdict === 'suspicious') alarms++;
    } else {
      suspiciousN++;
      if (v.verdict === 'suspicious') detected++;
    }
  }
  const latencies = Float64Array.from(verdicts, (v) => v.latencyMs).sort();
  return {
    set,
    containers: verdicts.length,
    perLabel,
    detectionRate: suspiciousN > 0 ? detected / suspiciousN : null,
    falseAlarmRate: clearN > 0 ? alarms / clearN : null,
    inconclusive,
    latencyMsP50: sortedQuantile(latencies, 0.5),
    latencyMsP99: sortedQuantile(latencies, 0.99),
    samplesPerS: verdicts.length / elapsedS,
    frames,
    ...(adaptation !== false && {
      adaptation: {
        accepted: verdicts.at(-1)?.adaptation?.accepted ?? 0,
        stoppedAfter: stops[0]?.after ?? null,
        addedAlarms: stops[0]?.addedAlarms ?? null,
        disagreements: verdicts.filter((v) => v.reasons.includes('adaptation-disagrees')).length,
      },
    }),
  };
}

const pct = (v: number | null) => (v === null ? 'n/a' : `${(100 * v).toFixed(1)}%`);

export function formatSummary(s: RunSummary): string {
  const lines = [`${s.set}: ${s.containers} containers, ${s.frames} frames`];
  for (const [label, r] of Object.entries(s.perLabel).sort()) {
    const share = label === 'clear' ? `false alarms ${pct(r.suspicious / r.n)}` : `detected ${pct(r.suspicious / r.n)}`;
    lines.push(`  ${label.padEnd(9)} ${String(r.n).padStart(4)}  suspicious ${String(r.suspicious).padStart(4)}  inconclusive ${String(r.inconclusive).padStart(4)}  clear ${String(r.clear).padStart(4)}   ${share}`);
  }
  lines.push(
    `  detection rate ${pct(s.detectionRate)}, false-alarm rate ${pct(s.falseAlarmRate)}, inconclusive ${s.inconclusive}`,
    `  verdict latency p50 ${s.latencyMsP50.toFixed(3)} ms, p99 ${s.latencyMsP99.toFixed(3)} ms; ${s.samplesPerS.toFixed(0)} samples/s (simulation included)`,
  );
  if (s.adaptation) {
    lines.push(
      s.adaptation.stoppedAfter === null
        ? `  adaptation: ${s.adaptation.accepted} clear samples accepted, not stopped`
        : `  adaptation: stopped by its watchdog after container ${s.adaptation.stoppedAfter} (${s.adaptation.addedAlarms} added alarms in its window; ${s.adaptation.accepted} clear samples accepted); the parent model judged the rest`,
      `  adaptation-disagrees (cleared by the adapted model, flagged by the parent: inconclusive): ${s.adaptation.disagreements}`,
    );
  }
  return lines.join('\n');
}
