/**
 * `enose serve --mqtt --station` and `enose fleet` as an operator runs them, on a real mosquitto, with both
 * shipped models: an independent subscriber (mosquitto_sub) sees each verdict with its fields, the retained
 * status names the model and the rig, the centre's API, page, SSE and metrics answer, and a model roll-out
 * (`enose fleet publish-model`) is taken between cycles or refused with the reason in the status.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { connectAsync } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEnose } from '../helpers/cli.js';
import { haveMosquitto, startBroker, type Broker, retainedStatus } from '../helpers/mosquitto.js';
import { CLI, REPO_ROOT } from '../helpers/shared.js';
import { awaitSample, ensureServiceBuilt, postSample, startServe, type ServeProcess } from '../service/serveProcess.js';
import { loadModel } from '../helpers/models.js';

const MODELS = {
  default: 'datasets/container-sim/default-model.json.gz',
  exposure: 'datasets/container-sim/exposure-model.json.gz',
} as const;
const have = haveMosquitto('fleet CLI tests');
const SECRET = 'pw-never-in-a-log-0451';
const dir = mkdtempSync(join(tmpdir(), 'enose-fleet-cli-'));
const recording = join(dir, 'rec');
let broker: Broker;
let fleet: ChildProcess | null = null;
let fleetUrl = '';
const serves: ServeProcess[] = [];

/** mosquitto_sub -v -C <n> on a topic: resolves with its lines once it has them. */
function subscribe(topic: string, count: number): { lines: Promise<string[]>; proc: ChildProcess } {
  const proc = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(broker.port), '-v', '-q', '1', '-t', topic, '-C', String(count), '-W', '90'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const lines = new Promise<string[]>((resolve) => proc.once('close', () => resolve(out.trim().split('\n').filter(Boolean))));
  return { lines, proc };
}

const statusOf = (station: string) => retainedStatus(broker.port, station);

async function until<T>(what: string, get: () => T | Promise<T>, ok: (v: T) => boolean, tries = 1200): Promise<T> {
  let v = await get();
  for (let i = 0; i < tries && !ok(v); i++) {
    await new Promise((r) => setTimeout(r, 50));
    v = await get();
  }
  if (!ok(v)) throw new Error(`gave up waiting for ${what}: ${JSON.stringify(v)}`);
  return v;
}

beforeAll(async () => {
  if (!have) return;
  ensureServiceBuilt();
  // Rig seed 1: the shipped models' own rig (SIM1), other containers and weather.
  const sim = runEnose(['simulate', '--containers', '3', '--seed', '7', '--rig-seed', '1', '--start-day', '22', '--out', recording]);
  expect(sim.code, sim.stderr).toBe(0);
  broker = await startBroker(join(dir, 'broker'), { extra: ['allow_anonymous true', 'max_queued_messages 0'] });
  fleet = spawn(process.execPath, [CLI, 'fleet', '--mqtt', broker.url, '--listen', '127.0.0.1:0', '--data', join(dir, 'centre')], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  fleetUrl = await new Promise<string>((resolve, reject) => {
    fleet!.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    fleet!.once('exit', (code) => reject(new Error(`enose fleet exited with ${code}`)));
  });
  await until('the centre connected', () => fetch(`${fleetUrl}/v1/health`).then((r) => r.status), (s) => s === 200);
});

afterAll(async () => {
  for (const s of serves) await s.stop();
  if (fleet && fleet.exitCode === null) {
    const exited = new Promise((r) => fleet!.once('exit', r));
    fleet.kill('SIGINT');
    await exited;
  }
  await broker?.stop('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe.runIf(have)('enose serve --mqtt and enose fleet', () => {
  for (const [name, path] of Object.entries(MODELS)) {
    it(`publishes each verdict with its fields (${name} model); mosquitto_sub and the centre see it`, async () => {
      const model = loadModel(path);
      const station = `st-${name}`;
      // The default model's cycle ends after its recovery; on this branch the service then stays busy (issue 20,
      // fixed on another branch), so it runs one container here and the exposure model two.
      const containers = name === 'default' ? ['MSCU1111111'] : ['MSCU2222222', 'TGHU3333333'];
      const sub = subscribe(`enose/${station}/verdict`, containers.length);
      const serve = await startServe(['--replay', recording, '--model', path, '--speed', 'max', '--mqtt', broker.url, '--station', station, '--spool', join(dir, `${station}.jsonl`)], { ENOSE_MQTT_USERNAME: station, ENOSE_MQTT_PASSWORD: SECRET });
      serves.push(serve);
      await until('the station online', () => statusOf(station), (s) => s?.['state'] === 'online' && s['rig'] === 'SIM1');
      const verdicts: Record<string, unknown>[] = [];
      for (const containerId of containers) {
        const posted = await postSample(serve.url, { containerId });
        expect(posted.status).toBe(202);
        const done = await awaitSample(serve.url, posted.json['id'] as string);
        verdicts.push(done['verdict'] as Record<string, unknown>);
      }
      const lines = await sub.lines;
      expect(lines).toHaveLength(containers.length);
      for (const [i, line] of lines.entries()) {
        const space = line.indexOf(' ');
        expect(line.slice(0, space)).toBe(`enose/${station}/verdict`);
        const m = JSON.parse(line.slice(space + 1)) as Record<string, unknown>;
        const v = verdicts[i]!;
        expect(m['id']).toMatch(/^[0-9a-f]{16}-\d+$/);
        expect(m).toMatchObject({ kind: 'enose-verdict', station, sample: v['sample'], containerId: containers[i], modelId: model.id, rig: 'SIM1' });
        expect(new Date(m['time'] as string).toISOString()).toBe(m['time']);
        expect(Math.abs(Date.parse(m['time'] as string) - Date.now())).toBeLessThan(10 * 60_000);
        expect({ verdict: m['verdict'], class: m['class'], probabilities: m['probabilities'], reasons: m['reasons'], quality: m['quality'] }).toEqual({
          verdict: v['verdict'],
          class: v['class'],
          probabilities: v['probabilities'],
          reasons: v['reasons'],
          quality: v['quality'],
        });
      }
      expect(statusOf(station)).toMatchObject({ state: 'online', modelId: model.id, rig: 'SIM1' });

      // The centre: the station, its verdicts, the holds, the page, the stream and the metrics.
      const stations = (await until('the centre has them', () => fetch(`${fleetUrl}/v1/stations`).then((r) => r.json() as Promise<{ stations: Record<string, unknown>[] }>), (b) => b.stations.some((s) => s['id'] === station && s['verdicts'] === containers.length))).stations;
      expect(stations.find((s) => s['id'] === station)).toMatchObject({ state: 'online', modelId: model.id, rig: 'SIM1', missing: 0 });
      const list = (await (await fetch(`${fleetUrl}/v1/stations/${station}/verdicts`)).json()) as { verdicts: Record<string, unknown>[] };
      expect(list.verdicts.map((x) => x['containerId'])).toEqual([...containers].reverse());
      const holds = (await (await fetch(`${fleetUrl}/v1/holds`)).json()) as { holds: Record<string, unknown>[] };
      const flagged = verdicts.filter((v) => v['verdict'] === 'suspicious').length;
      expect(holds.holds.filter((h) => h['station'] === station && h['action'] === 'hold')).toHaveLength(flagged);
      const page = await (await fetch(`${fleetUrl}/`)).text();
      expect(page).toContain('<script src="/page.js">');
      expect(page).not.toMatch(/https?:\/\//);
      const metrics = await (await fetch(`${fleetUrl}/metrics`)).text();
      expect(metrics).toMatch(new RegExp(`enose_fleet_model_info\\{station="${station}",model_id="${model.id}"\\} 1`));
      const controller = new AbortController();
      const sse = await fetch(`${fleetUrl}/v1/events`, { signal: controller.signal });
      const reader = sse.body!.getReader();
      const first = new TextDecoder().decode((await reader.read()).value);
      controller.abort();
      expect(first).toMatch(/^event: snapshot\ndata: /);

      expect(await serve.stop()).toBe(0);
      serves.splice(serves.indexOf(serve), 1);
      expect(statusOf(station)).toMatchObject({ state: 'offline', reason: 'stopped' });
      expect(`${serve.stdout()}${serve.stderr()}`).not.toContain(SECRET); // credentials are never logged
    });
  }

  it('follows a model roll-out between cycles (exposure -> default), refuses a tampered one and one for another rig', async () => {
    const exposure = loadModel(MODELS.exposure);
    const fallback = loadModel(MODELS.default);
    const station = 'st-roll';
    const serve = await startServe(['--replay', recording, '--model', MODELS.exposure, '--speed', 'max', '--mqtt', broker.url, '--station', station, '--spool', join(dir, `${station}.jsonl`), '--follow-models']);
    serves.push(serve);
    await until('following enose/models/SIM1', () => statusOf(station), (s) => (s?.['follow'] as { topic?: string } | null)?.topic === 'enose/models/SIM1');
    const run = async (containerId: string) => {
      const posted = await postSample(serve.url, { containerId });
      expect(posted.status).toBe(202);
      return (await awaitSample(serve.url, posted.json['id'] as string))['verdict'] as { modelId: string };
    };
    expect((await run('MSCU0000001')).modelId).toBe(exposure.id);

    const published = runEnose(['fleet', 'publish-model', MODELS.default, '--rig', 'SIM1', '--mqtt', broker.url]);
    expect(published.code, published.stderr).toBe(0);
    await until('the roll-out accepted', () => statusOf(station), (s) => (s?.['follow'] as { pending?: string } | null)?.pending === fallback.id);
    expect(statusOf(station)!['modelId']).toBe(exposure.id); // not before the next cycle
    expect((await run('MSCU0000002')).modelId).toBe(fallback.id);
    expect(statusOf(station)).toMatchObject({ modelId: fallback.id });

    // A tampered model (its content no longer matches its hash) and a roll-out naming another rig: refused.
    const admin = await connectAsync(broker.url, { reconnectPeriod: 0 });
    const tampered = { ...exposure, policy: { ...exposure.policy!, threshold: 0.01 } };
    await admin.publishAsync('enose/models/SIM1', gzipSync(JSON.stringify({ kind: 'enose-model-rollout', rig: 'SIM1', publishedAt: new Date().toISOString(), model: tampered })), { qos: 1, retain: true });
    const refused = await until('the tampered model refused', () => statusOf(station), (s) => ((s?.['follow'] as { refused?: { reason: string } | null })?.refused?.reason ?? '') !== '');
    expect((refused!['follow'] as { refused: { reason: string } }).refused.reason).toMatch(/hash/);
    await admin.publishAsync('enose/models/SIM1', gzipSync(JSON.stringify({ kind: 'enose-model-rollout', rig: 'OTHER', publishedAt: new Date().toISOString(), model: exposure })), { qos: 1, retain: true });
    await until('the other rig refused', () => statusOf(station), (s) => /rig OTHER/.test((s?.['follow'] as { refused?: { reason: string } | null })?.refused?.reason ?? ''));
    expect(statusOf(station)!['modelId']).toBe(fallback.id);
    await admin.publishAsync('enose/models/SIM1', '', { qos: 1, retain: true }); // clear the retained roll-out
    await admin.endAsync();
  });
});
