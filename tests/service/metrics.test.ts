/** The service's Prometheus metrics, counted from engine events and parsed back with a text-format parser. */
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';
import { createServiceMetrics } from '../../src/service/metrics.js';
import type { EngineEvent } from '../../src/types.js';

describe('createServiceMetrics', () => {
  it('counts frames, issues by kind, verdicts by outcome and their latency; NaN spelled as the format says', async () => {
    const m = createServiceMetrics({ modelId: 'abc', classifier: 'lda', processMetrics: false, gauges: () => ({ rigConnected: false, lastFrameAgeS: null, sseClients: 2 }) });
    const frame: EngineEvent = { type: 'frame', atMs: 0, seq: 0, tMs: 0, phase: 'I', values: new Float64Array(2), sample: '' };
    for (let i = 0; i < 7; i++) m.observe(frame);
    m.observe({ type: 'issue', atMs: 0, kind: 'bad-checksum', line: '$x', detail: 'crc' });
    m.observe({ type: 'gap', atMs: 0, fromSeq: 1, toSeq: 5, lost: 3 });
    const quality = { framesB: 1, framesE: 2, lostFrames: 0, lostShare: 0, maxGapS: 0, cut: null, channels: [], novelty: null };
    const verdict = (v: 'clear' | 'suspicious' | null, latencyMs: number): EngineEvent => ({
      type: 'verdict',
      atMs: 0,
      sample: 's',
      verdict: v,
      class: 'x',
      probabilities: {},
      score: null,
      reasons: v === 'suspicious' ? ['unknown-odour'] : ['clear-class'],
      quality,
      modelId: 'abc',
      latencyMs,
      frames: { first: 0, last: 1, count: 2 },
    });
    m.observe(verdict('clear', 0.2));
    m.observe(verdict('suspicious', 7));
    m.observe(verdict(null, 0.03));
    m.sampleRequest('conflict');
    m.httpRequest('samples', 409);
    const text = await m.render();
    expect(text).toMatch(/^enose_last_frame_age_seconds NaN$/m);
    const families = parsePrometheusTextFormat(text);
    const get = (name: string, labels: Record<string, string> = {}) =>
      families.find((f) => f.name === name)!.metrics.find((s) => Object.entries(labels).every(([k, v]) => s.labels?.[k] === v))!;
    expect(Number(get('enose_frames_total').value)).toBe(7);
    expect(Number(get('enose_link_issues_total', { kind: 'bad-checksum' }).value)).toBe(1);
    expect(Number(get('enose_link_issues_total', { kind: 'malformed' }).value)).toBe(0);
    expect(Number(get('enose_lost_frames_total').value)).toBe(3);
    expect(Number(get('enose_verdicts_total', { verdict: 'clear' }).value)).toBe(1);
    expect(Number(get('enose_verdicts_total', { verdict: 'suspicious' }).value)).toBe(1);
    expect(Number(get('enose_verdicts_total', { verdict: 'class-only' }).value)).toBe(1);
    expect(Number(get('enose_verdict_reasons_total', { reason: 'unknown-odour' }).value)).toBe(1);
    const hist = get('enose_verdict_latency_seconds');
    expect(Number(hist.count)).toBe(3);
    expect(Number(hist.buckets!['0.00005'])).toBe(1);
    expect(Number(hist.buckets!['0.005'])).toBe(2);
    expect(Number(hist.sum)).toBeCloseTo(0.00723, 12);
    expect(Number(get('enose_rig_connected').value)).toBe(0);
    expect(Number(get('enose_sse_clients').value)).toBe(2);
    expect(get('enose_model_info').labels).toEqual({ model_id: 'abc', classifier: 'lda' });
    expect(Number(get('enose_sample_requests_total', { result: 'conflict' }).value)).toBe(1);
    expect(Number(get('enose_http_requests_total', { route: 'samples', code: '409' }).value)).toBe(1);
    expect(families.some((f) => f.name.startsWith('process_'))).toBe(false);
  });
});
