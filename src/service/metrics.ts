/**
 * Prometheus metrics of the service (prom-client, text exposition format 0.0.4): what the engine saw and did,
 * counted from its events, plus the Node.js process metrics. The names follow the engine's event names:
 *
 *   enose_frames_total                       frames received
 *   enose_link_issues_total{kind}            line-level problems (too-long, bad-checksum, malformed, ...)
 *   enose_lost_frames_total                  frames lost in seq gaps
 *   enose_link_state_changes_total{state}    connected / disconnected / reconnecting
 *   enose_cycles_started_total{requested}    cycles started, by the service (true) or by the rig (false)
 *   enose_verdicts_total{verdict}            suspicious / clear / inconclusive / class-only
 *   enose_verdict_reasons_total{reason}      every reason of every verdict
 *   enose_verdict_latency_seconds            histogram, from the frame that ended the exposure to the verdict
 *   enose_over_budget_total                  verdicts over the latency budget
 *   enose_sample_requests_total{result}      POST /v1/samples: accepted, invalid, conflict, unavailable
 *   enose_http_requests_total{route,code}    requests by route and status
 *   enose_sse_refused_total                  /v1/events answered 503 (the cap on streams)
 *   enose_sse_cut_total{reason}              streams cut: slow (behind, not catching up), buffer (unsent bytes)
 *   enose_rig_connected, enose_last_frame_age_seconds, enose_sse_clients, enose_model_info{model_id,classifier}
 *   enose_judging{reason}                    1 while the engine judges the rig's cycles; 0 with the reason
 *                                            (/v1/health's notJudging: the rig does not fit the model, ...)
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EngineEvent, LinkIssueKind, VerdictReason } from '../types.js';

const ISSUE_KINDS: readonly LinkIssueKind[] = ['too-long', 'bad-checksum', 'malformed', 'wrong-channel-count', 'repeated-seq', 'no-info'];
const VERDICTS = ['suspicious', 'clear', 'inconclusive', 'class-only'] as const;
const SAMPLE_RESULTS = ['accepted', 'invalid', 'conflict', 'unavailable'] as const;

/** Latency buckets in seconds: 50 us to 50 ms around the 5 ms default budget. */
export const LATENCY_BUCKETS_S: readonly number[] = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1];

export interface ServiceMetricsOptions {
  readonly modelId: string;
  readonly classifier: string;
  /** Read at each scrape. */
  readonly gauges: () => { readonly rigConnected: boolean; readonly lastFrameAgeS: number | null; readonly sseClients: number; readonly notJudging?: string | null };
  /** Node.js process metrics (CPU, memory, event loop lag, GC). @default true */
  readonly processMetrics?: boolean;
}

export interface ServiceMetrics {
  readonly registry: Registry;
  readonly contentType: string;
  /** Counts one engine event. Called for every event, frames included: no allocation on that path. */
  observe(event: EngineEvent): void;
  sampleRequest(result: (typeof SAMPLE_RESULTS)[number]): void;
  httpRequest(route: string, code: number): void;
  /** An event stream refused (503, the cap). */
  sseRefused(): void;
  /** An event stream cut by the service. */
  sseCut(reason: 'slow' | 'buffer'): void;
  /** The engine switched model (a roll-out): enose_model_info names the new one only. */
  setModel(modelId: string, classifier: string): void;
  /** The exposition text. */
  render(): Promise<string>;
}

export function createServiceMetrics(options: ServiceMetricsOptions): ServiceMetrics {
  const registry = new Registry();
  const registers = [registry];
  const frames = new Counter({ name: 'enose_frames_total', help: 'Frames received from the rig.', registers });
  const issues = new Counter({ name: 'enose_link_issues_total', help: 'Line-level problems on the link, by kind.', labelNames: ['kind'], registers });
  const lost = new Counter({ name: 'enose_lost_frames_total', help: 'Frames lost in sequence gaps.', registers });
  const states = new Counter({ name: 'enose_link_state_changes_total', help: 'Link state changes, by new state.', labelNames: ['state'], registers });
  const started = new Counter({ name: 'enose_cycles_started_total', help: 'Sampling cycles started, by whether the service asked for them.', labelNames: ['requested'], registers });
  const verdicts = new Counter({ name: 'enose_verdicts_total', help: 'Verdicts, by outcome (class-only: the model has no policy).', labelNames: ['verdict'], registers });
  const reasons = new Counter({ name: 'enose_verdict_reasons_total', help: 'Reasons given with verdicts.', labelNames: ['reason'], registers });
  const latency = new Histogram({
    name: 'enose_verdict_latency_seconds',
    help: 'From the arrival of the frame that ended the exposure to the verdict.',
    buckets: [...LATENCY_BUCKETS_S],
    registers,
  });
  const overBudget = new Counter({ name: 'enose_over_budget_total', help: 'Verdicts over the latency budget.', registers });
  const requests = new Counter({ name: 'enose_sample_requests_total', help: 'POST /v1/samples, by result.', labelNames: ['result'], registers });
  const http = new Counter({ name: 'enose_http_requests_total', help: 'HTTP requests, by route and status code.', labelNames: ['route', 'code'], registers });
  const sseRefused = new Counter({ name: 'enose_sse_refused_total', help: 'Event streams refused with 503 (the cap on streams).', registers });
  const sseCut = new Counter({ name: 'enose_sse_cut_total', help: 'Event streams cut by the service, by reason (slow: behind and not catching up; buffer: too many unsent bytes).', labelNames: ['reason'], registers });
  new Gauge({
    name: 'enose_rig_connected',
    help: '1 while the rig link is up and has sent its info line.',
    registers,
    collect() {
      this.set(options.gauges().rigConnected ? 1 : 0);
    },
  });
  new Gauge({
    name: 'enose_last_frame_age_seconds',
    help: 'Seconds since the last frame (NaN before the first).',
    registers,
    collect() {
      this.set(options.gauges().lastFrameAgeS ?? NaN);
    },
  });
  new Gauge({
    name: 'enose_sse_clients',
    help: 'Open /v1/events streams.',
    registers,
    collect() {
      this.set(options.gauges().sseClients);
    },
  });
  // One series at a time: `reason` is empty while judging, else why not (a few reasons, each a short sentence).
  new Gauge({
    name: 'enose_judging',
    help: "1 while the engine judges the rig's cycles; 0 with the reason when it does not (as /v1/health's notJudging).",
    labelNames: ['reason'],
    registers,
    collect() {
      const reason = options.gauges().notJudging ?? null;
      this.reset();
      this.set({ reason: reason ?? '' }, reason === null ? 1 : 0);
    },
  });
  const modelInfo = new Gauge({ name: 'enose_model_info', help: 'The model in use (value 1).', labelNames: ['model_id', 'classifier'], registers });
  modelInfo.set({ model_id: options.modelId, classifier: options.classifier }, 1);
  // Every known label value from the start, so that rates exist before the first event of a kind.
  for (const kind of ISSUE_KINDS) issues.inc({ kind }, 0);
  for (const verdict of VERDICTS) verdicts.inc({ verdict }, 0);
  for (const result of SAMPLE_RESULTS) requests.inc({ result }, 0);
  for (const requested of ['true', 'false']) started.inc({ requested }, 0);
  for (const state of ['connected', 'disconnected', 'reconnecting']) states.inc({ state }, 0);
  for (const reason of ['slow', 'buffer']) sseCut.inc({ reason }, 0);
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });

  return {
    registry,
    contentType: registry.contentType,
    observe(event) {
      switch (event.type) {
        case 'frame':
          frames.inc();
          return;
        case 'issue':
          issues.inc({ kind: event.kind }, event.count ?? 1);
          return;
        case 'gap':
          lost.inc(event.lost);
          return;
        case 'state':
          states.inc({ state: event.state });
          return;
        case 'sample-started':
          started.inc({ requested: event.requested ? 'true' : 'false' });
          return;
        case 'verdict':
          verdicts.inc({ verdict: event.verdict ?? 'class-only' });
          for (const reason of event.reasons as readonly VerdictReason[]) reasons.inc({ reason });
          latency.observe(event.latencyMs / 1000);
          return;
        case 'over-budget':
          overBudget.inc();
          return;
        default:
          return;
      }
    },
    sampleRequest(result) {
      requests.inc({ result });
    },
    httpRequest(route, code) {
      http.inc({ route, code: String(code) });
    },
    sseRefused() {
      sseRefused.inc();
    },
    sseCut(reason) {
      sseCut.inc({ reason });
    },
    setModel(modelId, classifier) {
      modelInfo.reset();
      modelInfo.set({ model_id: modelId, classifier }, 1);
    },
    // prom-client writes NaN as `Nan`; the text format spells it `NaN` (Prometheus itself reads both).
    render: async () => (await registry.metrics()).replace(/ Nan$/gm, ' NaN'),
  };
}
