/**
 * The centre's access rules, as `enose serve`'s (service/auth.ts): with a token, 401 without it and 200 with
 * `Authorization: Bearer`; the page signs in at /login?token= and then reads through its session cookie (the
 * page, its stream) but not the rest of the API; a loopback listener refuses a Host that is not a loopback
 * name. Driven over HTTP on a real mosquitto, and once through the real `enose fleet --token` process.
 */
import { spawn, spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFleetCentre, type FleetCentre } from '../../src/fleet/centre.js';
import { readModelFile } from '../../src/io/modelFile.js';
import { haveMosquitto, startBroker, type Broker } from '../helpers/mosquitto.js';
import { CLI, REPO_ROOT } from '../helpers/shared.js';
import { ensureServiceBuilt } from '../service/serveProcess.js';

const MODELS = { default: 'datasets/container-sim/default-model.json.gz', exposure: 'datasets/container-sim/exposure-model.json.gz' } as const;
const TOKEN = 'fleet-token-never-logged-7731';
const have = haveMosquitto('fleet centre access');
const dir = mkdtempSync(join(tmpdir(), 'enose-fleet-auth-'));
let broker: Broker | null = null;
let centre: FleetCentre | null = null;
const logged: string[] = [];

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** A GET with exactly these headers (fetch cannot set Host); an event stream is read up to its first event. */
function get(base: string, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: url.pathname + url.search, headers: { host: url.host, ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
        if (String(res.headers['content-type']).startsWith('text/event-stream') && body.includes('\n\n')) {
          res.destroy();
          resolve({ status: res.statusCode!, headers: res.headers, body });
        }
      });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  if (!have) return;
  broker = await startBroker(join(dir, 'broker'));
  centre = await startFleetCentre({ broker: { url: broker.url, username: undefined, password: undefined }, dataDir: join(dir, 'centre'), port: 0, token: TOKEN, processMetrics: false, log: (l) => logged.push(l) });
  await centre.subscribed;
  // A station on each shipped model, so that what the token guards is there to leak.
  const client = await connectAsync(broker.url, { clientId: 'auth-test-station' });
  for (const [name, file] of Object.entries(MODELS)) {
    const model = readModelFile(file);
    if (!model.ok) throw new Error(`cannot read ${file}`);
    const station = `quay-${name}`;
    await client.publishAsync(`enose/${station}/status`, JSON.stringify({ kind: 'enose-status', station, state: 'online', time: new Date().toISOString(), modelId: model.value.id, rig: 'SIM1', follow: null }), { qos: 1, retain: true });
  }
  await client.endAsync();
  for (let i = 0; i < 2400 && centre.state.stations.size < 2; i++) await new Promise((r) => setTimeout(r, 25));
});

afterAll(async () => {
  await centre?.close();
  await broker?.stop('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe.runIf(have)('the fleet centre with a token', () => {
  const bearer = { authorization: `Bearer ${TOKEN}` };
  const API = ['/v1/stations', '/v1/stations/quay-default', '/v1/stations/quay-default/verdicts', '/v1/holds', '/v1/events', '/v1/health', '/metrics'];

  it('answers 401 without the token or with a wrong one, 200 with it (both models\' stations)', async () => {
    expect(centre!.state.stations.size).toBe(2);
    for (const path of API) {
      const none = await get(centre!.url, path);
      expect(none.status, path).toBe(401);
      expect(none.headers['www-authenticate'], path).toMatch(/^Bearer/);
      expect(none.body, path).not.toContain('quay-');
      expect((await get(centre!.url, path, { authorization: 'Bearer not-the-token-at-all' })).status, path).toBe(401);
      expect((await get(centre!.url, path, bearer)).status, path).toBe(200);
    }
    const stations = JSON.parse((await get(centre!.url, '/v1/stations', bearer)).body) as { stations: { id: string; modelId: string | null }[] };
    for (const name of Object.keys(MODELS)) {
      const model = readModelFile(MODELS[name as keyof typeof MODELS]);
      expect(stations.stations.find((s) => s.id === `quay-${name}`)?.modelId).toBe(model.ok ? model.value.id : 'unreadable');
    }
    expect((await get(centre!.url, '/page.js')).status).toBe(200);
    expect((await get(centre!.url, '/page.css')).status).toBe(200);
  });

  it('shows the sign-in form instead of the page, and trades the token for a session cookie the page reads with', async () => {
    const page = await get(centre!.url, '/');
    expect(page.status).toBe(401);
    expect(page.body).toContain('action="/login"');
    expect(page.body).not.toContain('/page.js');
    const wrong = await get(centre!.url, '/login?token=wrong-token-xyz');
    expect(wrong.status).toBe(401);
    expect(wrong.headers['set-cookie']).toBeUndefined();
    expect((await get(centre!.url, '/login')).status).toBe(401);

    const login = await get(centre!.url, `/login?token=${encodeURIComponent(TOKEN)}`);
    expect(login.status).toBe(303);
    expect(login.headers.location).toBe('/');
    const setCookie = String(login.headers['set-cookie']);
    expect(setCookie).toMatch(/^enose_session=[\w-]+; Path=\/; HttpOnly; SameSite=Strict/);
    expect(setCookie).not.toContain(TOKEN);
    const cookie = { cookie: setCookie.split(';')[0]! };

    const signedIn = await get(centre!.url, '/', cookie);
    expect(signedIn.status).toBe(200);
    expect(signedIn.body).toContain('/page.js');
    for (const path of ['/v1/stations', '/v1/holds', '/v1/health']) expect((await get(centre!.url, path, cookie)).status, path).toBe(200);
    const stream = await get(centre!.url, '/v1/events', cookie);
    expect(stream.status).toBe(200);
    expect(stream.body).toMatch(/^event: snapshot/m);
    // The cookie is the page's, not the API's.
    for (const path of ['/metrics', '/v1/stations/quay-default', '/v1/stations/quay-default/verdicts']) expect((await get(centre!.url, path, cookie)).status, path).toBe(401);
    expect((await get(centre!.url, '/', { cookie: 'enose_session=made-up-session' })).status).toBe(401);
  });

  it('refuses a Host that is not a loopback name on its loopback listener, even with the token', async () => {
    const port = new URL(centre!.url).port;
    const evil = await get(centre!.url, '/v1/stations', { ...bearer, host: `rebound.example:${port}` });
    expect(evil.status).toBe(403);
    expect(evil.body).not.toContain('quay-');
    expect((await get(centre!.url, '/', { host: 'rebound.example' })).status).toBe(403);
    expect((await get(centre!.url, '/v1/stations', { ...bearer, host: `localhost:${port}` })).status).toBe(200);
    expect((await get(centre!.url, '/v1/stations', { ...bearer, host: `[::1]:${port}` })).status).toBe(200);
  });

  it('never logs the token', () => {
    expect(logged.join('\n')).not.toContain(TOKEN);
  });
});

describe.runIf(have)('the fleet centre without a token', () => {
  it('is open on loopback but still refuses a non-loopback Host', async () => {
    const open = await startFleetCentre({ broker: { url: broker!.url, username: undefined, password: undefined }, dataDir: join(dir, 'open'), port: 0, clientId: 'auth-test-open', processMetrics: false });
    try {
      expect((await get(open.url, '/v1/stations')).status).toBe(200);
      expect((await get(open.url, '/')).status).toBe(200);
      expect((await get(open.url, '/login')).status).toBe(303);
      expect((await get(open.url, '/v1/stations', { host: 'rebound.example' })).status).toBe(403);
    } finally {
      await open.close();
    }
  });
});

describe.runIf(have)('enose fleet --token (the real process)', () => {
  it('takes the token from ENOSE_TOKEN, never prints it, and guards its API with it', async () => {
    ensureServiceBuilt();
    const proc = spawn(process.execPath, [CLI, 'fleet', '--mqtt', broker!.url, '--listen', '127.0.0.1:0', '--data', join(dir, 'cli'), '--client-id', 'auth-test-cli'], {
      cwd: REPO_ROOT,
      env: { ...process.env, ENOSE_TOKEN: TOKEN },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        proc.stdout!.on('data', () => {
          const m = /listening on (http:\/\/\S+)/.exec(out);
          if (m) resolve(m[1]!);
        });
        proc.once('exit', (code) => reject(new Error(`enose fleet exited with ${code}: ${out}`)));
      });
      expect(out).toContain('token required');
      expect((await get(url, '/v1/stations')).status).toBe(401);
      expect((await get(url, '/v1/stations', { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
      expect((await get(url, '/')).status).toBe(401);
      expect((await get(url, `/login?token=${TOKEN}`)).status).toBe(303);
    } finally {
      const exited = new Promise((r) => proc.once('close', r));
      proc.kill('SIGINT');
      await exited;
    }
    expect(out).toContain('stopped');
    expect(out).not.toContain(TOKEN);
  });

  it('takes every option from ENOSE_<OPTION> (as serve does); the command line wins', async () => {
    ensureServiceBuilt();
    const envData = join(dir, 'env-data');
    const argData = join(dir, 'arg-data');
    const proc = spawn(process.execPath, [CLI, 'fleet', '--data', argData], {
      cwd: REPO_ROOT,
      env: { ...process.env, ENOSE_MQTT: broker!.url, ENOSE_LISTEN: '127.0.0.1:0', ENOSE_DATA: envData, ENOSE_KEEP: '7', ENOSE_CLIENT_ID: 'env-test-cli', ENOSE_TOKEN: TOKEN },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        proc.stdout!.on('data', () => {
          const m = /listening on (http:\/\/\S+)/.exec(out);
          if (m) resolve(m[1]!);
        });
        proc.once('exit', (code) => reject(new Error(`enose fleet exited with ${code}: ${out}`)));
      });
      expect(out).toContain(`broker ${broker!.url}`);
      expect(out).toContain(`data ${argData}`); // --data beats ENOSE_DATA
      expect(out).toContain('token required');
      expect((await get(url, '/v1/stations')).status).toBe(401);
      expect((await get(url, '/v1/stations', { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    } finally {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGINT');
      await exited;
    }
    expect(existsSync(join(argData, 'fleet.jsonl'))).toBe(true);
    expect(existsSync(envData)).toBe(false);
    expect(out).not.toContain(TOKEN);
    const bad = spawnSync(process.execPath, [CLI, 'fleet'], { cwd: REPO_ROOT, env: { ...process.env, ENOSE_MQTT: broker!.url, ENOSE_KEEP: 'many' }, encoding: 'utf8' });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/--keep must be a number/);
  });

  it('refuses a token shorter than 8 characters', () => {
    const r = spawn(process.execPath, [CLI, 'fleet', '--mqtt', broker!.url, '--token', 'short', '--listen', '127.0.0.1:0', '--data', join(dir, 'short')], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    r.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    return new Promise<void>((resolve) =>
      r.once('close', (code) => {
        expect(code).not.toBe(0);
        expect(err).toMatch(/at least 8 characters/);
        resolve();
      }),
    );
  });
});
