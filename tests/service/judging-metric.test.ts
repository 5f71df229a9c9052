/**
 * `enose_judging` on serve's /metrics: 1 while the engine judges the rig's cycles, 0 with the reason when it does
 * not (the same reason as /v1/health's `notJudging`), with both shipped models: a rig that fits, then one that
 * lost a channel, then the fitting rig again. The rig is a source the test drives event by event.
 */
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterEach, describe, expect, it } from 'vitest';
import { startScannerService, type ScannerService } from '../../src/service/server.js';
import type { FrameSource, SourceEvent } from '../../src/types.js';
import { SHIPPED_MODELS } from '../helpers/models.js';
import { loadShipped } from '../hardening/modelAttack.js';

/** A source whose events the test emits when it likes; open until the service closes. */
function drivenSource(): FrameSource & { emit(event: SourceEvent): void } {
  let sink: ((event: SourceEvent) => void) | null = null;
  return {
    description: 'driven by the test',
    send: async () => undefined,
    run: (emit, signal) =>
      new Promise<void>((resolve) => {
        sink = emit;
        signal.addEventListener('abort', () => resolve(), { once: true });
      }),
    emit(event) {
      if (!sink) throw new Error('the source is not running yet');
      sink(event);
    },
  };
}

let service: ScannerService | null = null;
afterEach(async () => {
  await service?.close();
  service = null;
});

async function judging(url: string): Promise<{ value: number; reason: string; series: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const family = parsePrometheusTextFormat(text).find((f) => f.name === 'enose_judging');
  if (!family) throw new Error('no enose_judging on /metrics');
  const [first] = family.metrics;
  return { value: Number(first!.value), reason: first!.labels?.['reason'] ?? '', series: family.metrics.length };
}

async function health(url: string): Promise<{ status: number; notJudging: string | null }> {
  const r = await fetch(`${url}/v1/health`);
  return { status: r.status, notJudging: ((await r.json()) as { notJudging: string | null }).notJudging };
}

describe.each(SHIPPED_MODELS)('enose_judging ($name model)', ({ path }) => {
  it('reads 1 while the rig fits, 0 with the reason of /v1/health while it does not, 1 again after', async () => {
    const model = loadShipped(path);
    const channels = model.input.kind === 'frames' ? [...model.input.channels] : [];
    expect(channels.length).toBeGreaterThan(1);
    const source = drivenSource();
    service = await startScannerService({ model, source, port: 0, processMetrics: false });
    // The source starts on the engine's next turn: wait for it (a deadline, not a bound).
    for (let i = 0; i < 200; i++) {
      try {
        source.emit({ type: 'state', atMs: performance.now(), state: 'connected', detail: '' });
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    const info = (list: string[]): SourceEvent => ({ type: 'info', atMs: performance.now(), proto: 'ENL/1', rig: 'R1', fw: '1', rateHz: 10, unit: 'ohm', channels: list });

    source.emit(info(channels));
    expect(await judging(service.url)).toEqual({ value: 1, reason: '', series: 1 });

    const lost = channels.at(-1)!;
    source.emit(info(channels.slice(0, -1)));
    const paused = await judging(service.url);
    expect(paused.value).toBe(0);
    expect(paused.series).toBe(1);
    expect(paused.reason).toMatch(new RegExp(`the model is for ${channels.length} channels, the rig R1 has ${channels.length - 1} \\(without ${lost}\\)`));
    const h = await health(service.url);
    expect(h.status).toBe(503);
    expect(h.notJudging).toBe(paused.reason);

    source.emit(info(channels));
    expect(await judging(service.url)).toEqual({ value: 1, reason: '', series: 1 });
    expect((await health(service.url)).notJudging).toBeNull();
  });
});
