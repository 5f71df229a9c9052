/**
 * Prometheus metrics of the fleet centre (prom-client):
 *
 *   enose_fleet_verdicts_total{station,verdict}   distinct verdicts received
 *   enose_fleet_duplicates_total                  verdicts dropped as already received (a resend)
 *   enose_fleet_invalid_messages_total{kind}      messages that failed their schema, or named another station
 *   enose_fleet_delivery_seconds                  histogram, the verdict's wall-clock time to its receipt
 *   enose_fleet_stations{state}                   stations by their last status: online, offline, unknown
 *   enose_fleet_missing_verdicts{station}         verdicts a station's sequence numbers say have not arrived
 *   enose_fleet_broker_connected                  1 while the centre is connected to the broker
 *   enose_fleet_model_info{station,model_id}      the model each station reports
 *   enose_fleet_sse_clients                       open /v1/events streams
 *   enose_fleet_sse_refused_total                 /v1/events answered 503 (the cap on streams)
 *   enose_fleet_sse_cut_total{reason}             streams cut: slow (behind, not catching up), buffer (unsent bytes)
 * plus the Node.js process metrics (process_resident_memory_bytes, ...).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { missingOf, type FleetState } from './state.js';

export interface FleetMetrics {
  readonly registry: Registry;
  verdict(station: string, verdict: string | null, deliveryS: number): void;
  duplicate(): void;
  invalid(kind: string): void;
  /** An event stream refused (503, the cap). */
  sseRefused(): void;
  /** An event stream cut by the centre. */
  sseCut(reason: 'slow' | 'buffer'): void;
  render(): Promise<string>;
  readonly contentType: string;
}

export function createFleetMetrics(state: FleetState, brokerConnected: () => boolean, processMetrics = true, sseClients: () => number = () => 0): FleetMetrics {
  const registry = new Registry();
  const registers = [registry];
  const verdicts = new Counter({ name: 'enose_fleet_verdicts_total', help: 'Distinct verdicts received, by station and verdict.', labelNames: ['station', 'verdict'], registers });
  const duplicates = new Counter({ name: 'enose_fleet_duplicates_total', help: 'Verdicts dropped as already received.', registers });
  const invalid = new Counter({ name: 'enose_fleet_invalid_messages_total', help: 'Messages refused, by kind.', labelNames: ['kind'], registers });
  const delivery = new Histogram({
    name: 'enose_fleet_delivery_seconds',
    help: "From a verdict's wall-clock time at the station to its receipt at the centre.",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers,
  });
  new Gauge({
    name: 'enose_fleet_stations',
    help: 'Stations by their last status.',
    labelNames: ['state'],
    registers,
    collect() {
      const n = { online: 0, offline: 0, unknown: 0 };
      for (const s of state.stations.values()) n[s.status?.state ?? 'unknown']++;
      for (const [k, v] of Object.entries(n)) this.set({ state: k }, v);
    },
  });
  new Gauge({
    name: 'enose_fleet_missing_verdicts',
    help: "Verdicts a station's sequence numbers say have not arrived.",
    labelNames: ['station'],
    registers,
    collect() {
      this.reset();
      for (const s of state.stations.values()) this.set({ station: s.id }, missingOf(s));
    },
  });
  new Gauge({
    name: 'enose_fleet_model_info',
    help: 'The model each station reports (value 1).',
    labelNames: ['station', 'model_id'],
    registers,
    collect() {
      this.reset();
      for (const s of state.stations.values()) if (s.status?.modelId) this.set({ station: s.id, model_id: s.status.modelId }, 1);
    },
  });
  new Gauge({
    name: 'enose_fleet_broker_connected',
    help: '1 while the centre is connected to the broker.',
    registers,
    collect() {
      this.set(brokerConnected() ? 1 : 0);
    },
  });
  new Gauge({
    name: 'enose_fleet_sse_clients',
    help: 'Open /v1/events streams.',
    registers,
    collect() {
      this.set(sseClients());
    },
  });
  const sseRefused = new Counter({ name: 'enose_fleet_sse_refused_total', help: 'Event streams refused with 503 (the cap on streams).', registers });
  const sseCut = new Counter({ name: 'enose_fleet_sse_cut_total', help: 'Event streams cut, by reason (slow: behind and not catching up; buffer: too many unsent bytes).', labelNames: ['reason'], registers });
  for (const reason of ['slow', 'buffer']) sseCut.inc({ reason }, 0);
  if (processMetrics) collectDefaultMetrics({ register: registry });
  return {
    registry,
    contentType: registry.contentType,
    verdict(station, verdict, deliveryS) {
      verdicts.inc({ station, verdict: verdict ?? 'class-only' });
      if (Number.isFinite(deliveryS)) delivery.observe(Math.max(0, deliveryS));
    },
    duplicate: () => duplicates.inc(),
    invalid: (kind) => invalid.inc({ kind }),
    sseRefused: () => sseRefused.inc(),
    sseCut: (reason) => sseCut.inc({ reason }),
    render: () => registry.metrics(),
  };
}
