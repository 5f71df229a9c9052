/**
 * The centre's state as a reducer: fleet events in (a verdict, a status, a health message, each with the time
 * the centre received it), the state updated in place, and what the event was (new, a duplicate, applied).
 * No I/O: the centre's log replays into it on start, MQTT feeds it while running, the HTTP routes read it.
 *
 * Memory is bounded: per station the last `recentPerStation` verdicts, the holds (suspicious and inconclusive
 * containers) the last `maxHolds`, and the dedup index per station spool epoch: the highest seq below which
 * every verdict has arrived, plus the seqs above it (a few, unless verdicts are missing).
 */
import { actionOf, type HealthMessage, type StatusMessage, type VerdictMessage } from './message.js';

export interface VerdictRecord {
  /** When the centre received it (ISO). */
  readonly receivedAt: string;
  readonly message: VerdictMessage;
}

export interface HoldRecord {
  readonly action: 'hold' | 'resample';
  readonly station: string;
  readonly containerId: string | null;
  readonly sample: string;
  readonly time: string;
  readonly verdict: VerdictMessage['verdict'];
  readonly class: string | null;
  readonly reasons: readonly string[];
  readonly messageId: string;
}

interface SeqIndex {
  /** Every seq in 1..contiguous has arrived. */
  contiguous: number;
  /** Seqs above `contiguous` that have arrived. */
  readonly above: Set<number>;
  max: number;
}

export interface StationState {
  readonly id: string;
  status: StatusMessage | null;
  statusAt: string | null;
  health: HealthMessage | null;
  healthAt: string | null;
  /** Distinct verdicts received from this station, and by verdict. */
  verdicts: number;
  readonly byVerdict: Record<'suspicious' | 'clear' | 'inconclusive' | 'none', number>;
  /** The last verdicts, oldest first (at most recentPerStation). */
  readonly recent: VerdictRecord[];
  readonly epochs: Map<string, SeqIndex>;
}

export interface FleetState {
  readonly stations: Map<string, StationState>;
  /** Newest last; at most maxHolds. */
  readonly holds: HoldRecord[];
  received: number;
  duplicates: number;
  readonly recentPerStation: number;
  readonly maxHolds: number;
}

export type FleetEvent =
  | { readonly type: 'verdict'; readonly receivedAt: string; readonly message: VerdictMessage }
  | { readonly type: 'status'; readonly receivedAt: string; readonly message: StatusMessage }
  | { readonly type: 'health'; readonly receivedAt: string; readonly message: HealthMessage };

export function createFleetState(options: { recentPerStation?: number; maxHolds?: number } = {}): FleetState {
  return { stations: new Map(), holds: [], received: 0, duplicates: 0, recentPerStation: options.recentPerStation ?? 50, maxHolds: options.maxHolds ?? 1000 };
}

function stationOf(state: FleetState, id: string): StationState {
  let s = state.stations.get(id);
  if (!s) {
    s = { id, status: null, statusAt: null, health: null, healthAt: null, verdicts: 0, byVerdict: { suspicious: 0, clear: 0, inconclusive: 0, none: 0 }, recent: [], epochs: new Map() };
    state.stations.set(id, s);
  }
  return s;
}

/** True when this verdict (station, epoch, seq: its id) has been received already. */
export function isDuplicate(state: FleetState, message: VerdictMessage): boolean {
  const index = state.stations.get(message.station)?.epochs.get(message.epoch);
  return index !== undefined && (message.seq <= index.contiguous || index.above.has(message.seq));
}

/** Applies one event; a verdict already received changes nothing but the duplicate count. */
export function applyFleetEvent(state: FleetState, event: FleetEvent): 'new' | 'duplicate' | 'applied' {
  const station = stationOf(state, event.message.station);
  switch (event.type) {
    case 'status':
      station.status = event.message;
      station.statusAt = event.receivedAt;
      return 'applied';
    case 'health':
      station.health = event.message;
      station.healthAt = event.receivedAt;
      return 'applied';
    case 'verdict': {
      const m = event.message;
      if (isDuplicate(state, m)) {
        state.duplicates++;
        return 'duplicate';
      }
      let index = station.epochs.get(m.epoch);
      if (!index) {
        index = { contiguous: 0, above: new Set(), max: 0 };
        station.epochs.set(m.epoch, index);
      }
      index.above.add(m.seq);
      while (index.above.delete(index.contiguous + 1)) index.contiguous++;
      if (m.seq > index.max) index.max = m.seq;
      state.received++;
      station.verdicts++;
      station.byVerdict[m.verdict ?? 'none']++;
      station.recent.push({ receivedAt: event.receivedAt, message: m });
      if (station.recent.length > state.recentPerStation) station.recent.splice(0, station.recent.length - state.recentPerStation);
      const action = actionOf(m.verdict);
      if (action) {
        state.holds.push({ action, station: m.station, containerId: m.containerId, sample: m.sample, time: m.time, verdict: m.verdict, class: m.class, reasons: m.reasons, messageId: m.id });
        if (state.holds.length > state.maxHolds) state.holds.splice(0, state.holds.length - state.maxHolds);
      }
      return 'new';
    }
  }
}

/** Verdicts a station's seqs say are missing (below its highest seq, not received), over its epochs. */
export function missingOf(station: StationState): number {
  let n = 0;
  for (const index of station.epochs.values()) n += index.max - index.contiguous - index.above.size;
  return n;
}

/** The station as the API shows it (no verdict list). */
export function stationSummary(s: StationState): Record<string, unknown> {
  const last = s.recent.at(-1);
  return {
    id: s.id,
    state: s.status?.state ?? 'unknown',
    statusAt: s.statusAt,
    reason: s.status?.reason ?? null,
    modelId: s.status?.modelId ?? last?.message.modelId ?? null,
    rig: s.status?.rig ?? last?.message.rig ?? null,
    follow: s.status?.follow ?? null,
    health: s.health,
    healthAt: s.healthAt,
    verdicts: s.verdicts,
    byVerdict: s.byVerdict,
    missing: missingOf(s),
    lastVerdict: last ? { ...pickVerdict(last.message), receivedAt: last.receivedAt } : null,
  };
}

export function pickVerdict(m: VerdictMessage): Record<string, unknown> {
  return { id: m.id, sample: m.sample, containerId: m.containerId, time: m.time, verdict: m.verdict, class: m.class, score: m.score, reasons: m.reasons, modelId: m.modelId };
}
