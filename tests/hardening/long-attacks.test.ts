/**
 * Longer variants of the client attacks (issue 24, item 7), only under `npm run test:faults`
 * (ENOSE_FAULTS_LONG=1); plain `npm test` runs the short ones (service.test.ts, tests/fleet/centre-sse.test.ts).
 * - `enose serve` (both shipped models, the default cap of 100): waves of 300 event-stream clients without a pause
 *   through 6 whole cycles; every admitted client gets its snapshot, the rest 503 with Retry-After and
 *   `Connection: close`, /v1/health answers 200 between waves, every verdict is the one `enose replay` gives, and
 *   the service's resident memory stays under its bound.
 * - `enose fleet` centre (real mosquitto, cap 20): 40 waves of 60 clients, plus a client that never reads,
 *   while both stations' verdicts arrive; the paused client is cut, the cap holds, every verdict arrives.
 * Each run's figures replace the generated section at the end of tests/hardening/RESULTS.md (between the markers),
 * so the file always shows the last long run's rows. No wall-clock bound: deadlines only.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, describe, expect, it } from 'vitest';
import { startFleetCentre } from '../../src/fleet/centre.js';
import { verdictMessage } from '../../src/fleet/message.js';
import { readModelFile } from '../../src/io/modelFile.js';
import type { VerdictEvent } from '../../src/types.js';
import { SHIPPED_MODELS } from '../helpers/models.js';
import { clearVerdictEvent, haveMosquitto, startBroker } from '../helpers/mosquitto.js';
import { REPO_ROOT } from '../helpers/shared.js';
import { awaitSample, ensureServiceBuilt, postSample, simulateAndReplay, startServe } from '../service/serveProcess.js';
import { openStream, pausedClient } from './sseClients.js';

const LONG = process.env['ENOSE_FAULTS_LONG'] === '1';
if (!LONG) console.warn('SKIPPED: the long attack variants run under npm run test:faults (ENOSE_FAULTS_LONG=1); npm test runs the short ones');

/** Resident memory of the service, MB, bounded as the short attacks bound it. */
const RSS_BOUND_MB = 400;
const rows: string[] = [];

afterAll(() => {
  if (!LONG || rows.length === 0) return;
  const file = join(REPO_ROOT, 'tests', 'hardening', 'RESULTS.md');
  const begin = '<!-- long attacks: written by tests/hardening/long-attacks.test.ts (npm run test:faults) -->';
  const end = '<!-- end of long attacks -->';
  const text = readFileSync(file, 'utf8');
  const at = text.indexOf(begin);
  const kept = at < 0 ? text.trimEnd() : text.slice(0, at).trimEnd();
  const section = [
    begin,
    '',
    `### Longer client attacks (long-attacks.test.ts, ${new Date().toISOString().slice(0, 10)}, load average ${loadavg()[0]!.toFixed(1)})`,
    '',
    '| attack | result | figures |',
    '|---|---|---|',
    ...rows,
    '',
    end,
  ].join('\n');
  writeFileSync(file, `${kept}\n\n${section}\n`);
});

function content(v: VerdictEvent | Record<string, unknown>): Record<string, unknown> {
  const { sample: _s, atMs: _a, latencyMs: _l, wallTime: _w, station: _st, ...rest } = v as Record<string, unknown>;
  return rest;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function metric(url: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const family = parsePrometheusTextFormat(await (await fetch(`${url}/metrics`)).text()).find((f) => f.name === name);
  const sample = family?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  if (!sample) throw new Error(`no ${name} ${JSON.stringify(labels)} on /metrics`);
  return Number(sample.value);
}

describe.runIf(LONG).each(SHIPPED_MODELS)('long: waves of 300 event-stream clients through 6 cycles of enose serve ($name model)', ({ name, path }) => {
  it('every admitted client gets its snapshot, the rest 503; health answers; every verdict is replay\'s; memory bounded', async () => {
    ensureServiceBuilt();
    const dir = mkdtempSync(join(tmpdir(), 'enose-long-sse-'));
    const recording = join(dir, 'rec');
    const expected = simulateAndReplay(recording, path);
    expect(expected).toHaveLength(3);
    const serve = await startServe(['--replay', recording, '--model', path, '--speed', '20']);
    let waves = 0;
    let served = 0;
    let refused = 0;
    let peakRss = 0;
    try {
      for (let cycle = 0; cycle < 6; cycle++) {
        let id: string | null = null;
        for (let tries = 0; id === null; tries++) {
          const r = await postSample(serve.url, { containerId: `LONG${cycle}` });
          if (r.status === 202) id = r.json['id'] as string;
          else if (r.status !== 409 || tries > 2400) throw new Error(`POST /v1/samples answered ${r.status}`);
          else await new Promise((res) => setTimeout(res, 25));
        }
        let done = false;
        const verdict = awaitSample(serve.url, id, {}, 240_000).then((v) => ((done = true), v));
        while (!done) {
          const wave = await Promise.all(Array.from({ length: 300 }, () => openStream(serve.url, '/v1/events?frames=25')));
          for (const s of wave) s.close();
          const ok = wave.filter((s) => s.status === 200);
          const no = wave.filter((s) => s.status === 503);
          expect(ok.length + no.length).toBe(300);
          expect(ok.length).toBeGreaterThan(0);
          for (const s of ok) expect(Array.isArray(s.json['frames'])).toBe(true);
          for (const s of no) {
            expect(s.headers['retry-after']).toMatch(/^\d+$/);
            expect(s.headers['connection']).toBe('close');
          }
          waves++;
          served += ok.length;
          refused += no.length;
          const health = await fetch(`${serve.url}/v1/health`);
          expect(health.status).toBe(200);
          peakRss = Math.max(peakRss, rssMb(serve.proc.pid!));
          expect(peakRss).toBeLessThan(RSS_BOUND_MB);
        }
        const result = await verdict;
        expect(content(result['verdict'] as Record<string, unknown>)).toEqual(content(expected[cycle % 3]!));
      }
      expect(refused).toBeGreaterThan(0);
      expect(await serve.stop()).toBe(0);
      rows.push(`| serve, ${name} model, cap 100: waves of 300 \`/v1/events\` clients through 6 cycles (replay x20) | every snapshot whole, the rest 503 + Retry-After + Connection: close; /v1/health 200 after every wave; 6 verdicts equal to \`enose replay\`'s; exit 0 on SIGINT | ${waves} waves: ${served} snapshots, ${refused} x 503; peak RSS ${peakRss.toFixed(0)} MB (bound ${RSS_BOUND_MB}) |`);
    } finally {
      if (serve.proc.exitCode === null) await serve.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const haveBroker = LONG && haveMosquitto('long fleet centre flood');
describe.runIf(haveBroker)('long: the fleet centre under waves of event-stream clients', () => {
  it('40 waves of 60 clients at cap 20 and a client that never reads, while both stations publish: cap held, paused client cut, every verdict arrives', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'enose-long-fleet-sse-'));
    const broker = await startBroker(join(dir, 'broker'));
    const centre = await startFleetCentre({ broker: { url: broker.url, username: undefined, password: undefined }, dataDir: join(dir, 'centre'), port: 0, processMetrics: false, maxSseClients: 20, sseStallS: 1 });
    const station = await connectAsync(broker.url, { clientId: 'long-sse-stations' });
    let served = 0;
    let refused = 0;
    let published = 0;
    try {
      await centre.subscribed;
      const paused = await pausedClient(centre.url, '/v1/events');
      const epoch = '0123456789abcdef';
      const ids = new Map(SHIPPED_MODELS.map(({ name, path }) => {
        const model = readModelFile(path);
        if (!model.ok) throw new Error(`cannot read ${path}`);
        return [`quay-${name}`, model.value.id] as [string, string];
      }));
      const publishLarge = async (id: string, sample: string) => {
        published++;
        const reasons = ['clear-class', ...Array.from({ length: 62 }, (_, i) => `${i}`.padEnd(128, 'x'))];
        const v = { ...clearVerdictEvent(sample), modelId: ids.get(id), reasons } as VerdictEvent;
        const message = verdictMessage(v, { station: id, epoch, seq: published, rig: 'SIM1', wallMs: Date.now() });
        await station.publishAsync(`enose/${id}/verdict`, JSON.stringify(message), { qos: 1 });
      };
      for (let wave = 0; wave < 40; wave++) {
        // Each wave: a verdict from each station (one per shipped model) as large as the message bounds let it
        // be (63 reasons of 128 characters, about 8 KB), and 60 clients.
        for (const { name } of SHIPPED_MODELS) await publishLarge(`quay-${name}`, `S${wave}`);
        const opened = await Promise.all(Array.from({ length: 60 }, () => openStream(centre.url, '/v1/events')));
        for (const s of opened) s.close();
        const ok = opened.filter((s) => s.status === 200).length;
        expect(ok).toBeGreaterThan(0);
        expect(ok).toBeLessThanOrEqual(60);
        expect(ok + opened.filter((s) => s.status === 503).length).toBe(60);
        served += ok;
        refused += 60 - ok;
        expect(await metric(centre.url, 'enose_fleet_sse_clients')).toBeLessThanOrEqual(20);
      }
      const deadline = Date.now() + 120_000;
      // The paused client took nothing of the verdicts' 650 KB: cut, or cut once more arrive.
      let more = 0;
      while ((await metric(centre.url, 'enose_fleet_sse_cut_total', { reason: 'slow' })) + (await metric(centre.url, 'enose_fleet_sse_cut_total', { reason: 'buffer' })) < 1) {
        if (Date.now() > deadline) throw new Error('the paused client was not cut');
        await publishLarge(`quay-${SHIPPED_MODELS[0]!.name}`, `M${more++}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      while (centre.state.received < published && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(centre.state.received).toBe(published);
      paused.destroy();
      expect(refused).toBeGreaterThan(0);
      rows.push(`| fleet centre, cap 20: 40 waves of 60 \`/v1/events\` clients and one that never reads, while a station per shipped model publishes verdicts of 8 KB (the message bounds' largest) | the cap held (<= 20 open at every check), the rest 503 + Retry-After; the paused client cut; every verdict received | ${served} snapshots, ${refused} x 503, ${published} verdicts received of ${published} |`);
    } finally {
      await station.endAsync();
      await centre.close();
      await broker.stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
