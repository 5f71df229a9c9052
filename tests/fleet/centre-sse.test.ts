/**
 * The fleet centre's event stream has serve's protection (issue 24, item 4; service/hub.ts reused): a cap on open
 * streams with 503 + Retry-After past it, and a client that does not read is cut while the others go on. Real
 * mosquitto; a station on each shipped model.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFleetCentre, type FleetCentre } from '../../src/fleet/centre.js';
import { readModelFile } from '../../src/io/modelFile.js';
import { openStream, pausedClient, type StreamOpened } from '../hardening/sseClients.js';
import { SHIPPED_MODELS } from '../helpers/models.js';
import { haveMosquitto, startBroker, type Broker } from '../helpers/mosquitto.js';

const CAP = 5;
const have = haveMosquitto('fleet centre event streams');
const dir = mkdtempSync(join(tmpdir(), 'enose-fleet-sse-'));
let broker: Broker | null = null;
let centre: FleetCentre | null = null;
let station: MqttClient | null = null;

async function metric(url: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const family = parsePrometheusTextFormat(await (await fetch(`${url}/metrics`)).text()).find((f) => f.name === name);
  const sample = family?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  if (!sample) throw new Error(`no ${name} ${JSON.stringify(labels)} on /metrics`);
  return Number(sample.value);
}

async function until(what: string, ok: () => Promise<boolean>, deadlineMs = 60_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

beforeAll(async () => {
  if (!have) return;
  broker = await startBroker(join(dir, 'broker'));
  centre = await startFleetCentre({ broker: { url: broker.url, username: undefined, password: undefined }, dataDir: join(dir, 'centre'), port: 0, processMetrics: false, maxSseClients: CAP, sseStallS: 1 });
  await centre.subscribed;
  station = await connectAsync(broker.url, { clientId: 'sse-test-stations' });
  for (const { name, path } of SHIPPED_MODELS) {
    const model = readModelFile(path);
    if (!model.ok) throw new Error(`cannot read ${path}`);
    const id = `quay-${name}`;
    await station.publishAsync(`enose/${id}/status`, JSON.stringify({ kind: 'enose-status', station: id, state: 'online', time: new Date().toISOString(), modelId: model.value.id, rig: 'SIM1', follow: null }), { qos: 1, retain: true });
  }
  await until('both stations at the centre', async () => centre!.state.stations.size === SHIPPED_MODELS.length);
});
afterAll(async () => {
  await station?.endAsync();
  await centre?.close();
  await broker?.stop('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe.runIf(have)('enose fleet: /v1/events under a flood', () => {
  it(`admits ${CAP} streams (each with the snapshot of both stations) and answers the rest 503 with Retry-After`, async () => {
    const opened = await Promise.all(Array.from({ length: CAP + 3 }, () => openStream(centre!.url, '/v1/events')));
    try {
      const ok = opened.filter((s) => s.status === 200);
      const refused = opened.filter((s) => s.status === 503);
      expect(ok).toHaveLength(CAP);
      expect(refused).toHaveLength(3);
      for (const s of ok) expect(s.json['stations']).toBe(SHIPPED_MODELS.length);
      for (const r of refused) {
        expect(r.headers['retry-after']).toMatch(/^\d+$/);
        expect(r.headers['connection']).toBe('close');
        expect(String(r.json['error'])).toMatch(/too many event streams/);
      }
      expect(await metric(centre!.url, 'enose_fleet_sse_refused_total')).toBe(3);
      expect(await metric(centre!.url, 'enose_fleet_sse_clients')).toBe(CAP);
    } finally {
      for (const s of opened) s.close();
    }
    // The places come back as the clients leave.
    await until('the streams to close', async () => (await metric(centre!.url, 'enose_fleet_sse_clients')) === 0);
    const again: StreamOpened = await openStream(centre!.url, '/v1/events');
    expect(again.status).toBe(200);
    again.close();
  });

  it('cuts a client that never reads while a reading client gets every event and the API answers', async () => {
    await until('the streams to close', async () => (await metric(centre!.url, 'enose_fleet_sse_clients')) === 0);
    const paused = await pausedClient(centre!.url, '/v1/events');
    // A reading client counts the health events it is sent.
    const { request } = await import('node:http');
    let seen = 0;
    const reader = request(`${centre!.url}/v1/events`, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => {
        text += d.toString('utf8');
        let at;
        while ((at = text.indexOf('\n\n')) >= 0) {
          if (text.startsWith('event: health\n')) seen++;
          text = text.slice(at + 2);
        }
      });
    });
    reader.end();
    await until('both streams open', async () => (await metric(centre!.url, 'enose_fleet_sse_clients')) === 2);
    // Health messages as large as the message bounds let them be (a 512-character link; QoS 0, not logged)
    // until the paused client is cut.
    const link = 'x'.repeat(512);
    let sent = 0;
    const cuts = async () => (await metric(centre!.url, 'enose_fleet_sse_cut_total', { reason: 'slow' })) + (await metric(centre!.url, 'enose_fleet_sse_cut_total', { reason: 'buffer' }));
    try {
      await until(
        'the paused client to be cut',
        async () => {
          for (let i = 0; i < 200; i++) {
            const id = SHIPPED_MODELS[sent % SHIPPED_MODELS.length]!.name;
            await station!.publishAsync(`enose/quay-${id}/health`, JSON.stringify({ kind: 'enose-health', station: `quay-${id}`, time: new Date().toISOString(), uptimeS: sent, link, verdicts: 0, spoolPending: 0, lastFrameAgeS: null }), { qos: 0 });
            sent++;
          }
          return (await cuts()) === 1;
        },
        120_000,
      );
      expect(await metric(centre!.url, 'enose_fleet_sse_clients')).toBe(1);
      const health = await fetch(`${centre!.url}/v1/health`);
      expect(health.status).toBe(200);
      // The reader gets the health events sent after the cut as well (QoS 0 at most once: all that reached the centre).
      const before = seen;
      const id = SHIPPED_MODELS[0]!.name;
      await station!.publishAsync(`enose/quay-${id}/health`, JSON.stringify({ kind: 'enose-health', station: `quay-${id}`, time: new Date().toISOString(), uptimeS: -1, link: 'usb', verdicts: 0, spoolPending: 0, lastFrameAgeS: null }), { qos: 0 });
      await until('the reader to get the next event', async () => seen > before);
    } finally {
      paused.destroy();
      reader.destroy();
    }
  });
});
