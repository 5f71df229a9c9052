/**
 * Hardening of `enose serve` against its HTTP clients (issue 24 items 4 and 6), with real `enose serve --replay`
 * processes and both shipped models:
 * - a burst of event-stream clients past the cap: the first `cap` get their snapshot, the rest 503 with
 *   Retry-After, /v1/health answers meanwhile and the cycle in play ends with the verdict `enose replay` gives;
 * - a client that never reads is cut while cycles go on, every verdict the one `enose replay` gives;
 * - malformed request targets (`GET http://[` stopped the process) answer 400 with a one-line JSON error;
 * - `--token-file` (and ENOSE_TOKEN_FILE) for serve and fleet; a token file open to other users is refused.
 * No wall-clock bound: each step waits for what it needs, with a generous deadline.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VerdictEvent } from '../../src/types.js';
import { runEnose } from '../helpers/cli.js';
import { SHIPPED_MODELS } from '../helpers/models.js';
import { CLI, REPO_ROOT } from '../helpers/shared.js';
import { awaitSample, ensureServiceBuilt, postSample, startServe, type ServeProcess, simulateAndReplay } from '../service/serveProcess.js';
import { openStream, pausedClient, rawRequest, type StreamOpened } from './sseClients.js';

const DEFAULT_CAP = 100;

/** The verdict's content, without what differs by nature between two runs (the id, times, latency, station). */
function content(v: VerdictEvent | Record<string, unknown>): Record<string, unknown> {
  const { sample: _s, atMs: _a, latencyMs: _l, wallTime: _w, station: _st, ...rest } = v as Record<string, unknown>;
  return rest;
}

async function metric(url: string, name: string, labels: Record<string, string> = {}, headers: Record<string, string> = {}): Promise<number> {
  const families = parsePrometheusTextFormat(await (await fetch(`${url}/metrics`, { headers })).text());
  const family = families.find((f) => f.name === name);
  const m = family?.metrics.find((s) => Object.entries(labels).every(([k, v]) => s.labels?.[k] === v));
  if (!m) throw new Error(`no metric ${name} ${JSON.stringify(labels)}`);
  return Number(m.value);
}

/** Posts until the rig takes the request (a cycle's recovery keeps it busy for a moment after its verdict). */
async function postWhenFree(url: string, containerId: string): Promise<string> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const r = await postSample(url, { containerId });
    if (r.status === 202) return r.json['id'] as string;
    expect(r.status).toBe(409);
    if (Date.now() > deadline) throw new Error('the rig stayed busy for a minute');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.each(SHIPPED_MODELS)('enose serve against its clients, $name model', ({ path: MODEL }) => {
  const dir = mkdtempSync(join(tmpdir(), 'enose-hardening-service-'));
  const recording = join(dir, 'rec');
  let expected: VerdictEvent[] = [];

  beforeAll(() => {
    ensureServiceBuilt();
    expected = simulateAndReplay(recording, MODEL);
    expect(expected).toHaveLength(3);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(`a burst of ${DEFAULT_CAP + 50} event streams mid-cycle: ${DEFAULT_CAP} get the snapshot, 50 get 503 with Retry-After; health answers; the verdict is replay's`, async () => {
    const serve = await startServe(['--replay', recording, '--model', MODEL, '--speed', '20']);
    const streams: StreamOpened[] = [];
    try {
      const observer = await openStream(serve.url, '/v1/events?frames=none');
      streams.push(observer);
      const id = await postWhenFree(serve.url, 'MSCU1234567');
      // Mid-cycle: wait until the snapshot carries frames of the cycle in play.
      const deadline = Date.now() + 60_000;
      for (;;) {
        const probe = await openStream(serve.url, '/v1/events?frames=none');
        probe.close();
        const cycle = probe.json['cycle'] as { sample: string } | null;
        if (cycle?.sample === id && (probe.json['frames'] as unknown[]).length >= 200) break;
        if (Date.now() > deadline) throw new Error(`no cycle frames in the snapshot after a minute: ${JSON.stringify(probe.json['cycle'])}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      // The probes have gone: wait until the service has seen them go (the cap counts open streams).
      while ((await metric(serve.url, 'enose_sse_clients')) !== 1) await new Promise((resolve) => setTimeout(resolve, 20));

      const burst = Array.from({ length: DEFAULT_CAP + 50 }, () => openStream(serve.url, '/v1/events'));
      const healthDuring = Array.from({ length: 20 }, () => fetch(`${serve.url}/v1/health`).then(async (r) => ({ status: r.status, body: (await r.json()) as { status: string } })));
      const opened = await Promise.all(burst);
      streams.push(...opened);
      const health = await Promise.all(healthDuring);

      const ok = opened.filter((s) => s.status === 200);
      const refused = opened.filter((s) => s.status === 503);
      expect(ok).toHaveLength(DEFAULT_CAP - 1); // the observer holds one place
      expect(refused).toHaveLength(51);
      for (const r of refused) {
        expect(r.headers['retry-after']).toMatch(/^\d+$/);
        expect(r.headers['connection']).toBe('close');
        expect(String(r.json['error'])).toMatch(/too many event streams/);
      }
      // Every admitted client got the whole snapshot of the cycle in play (frames and all).
      for (const s of ok) {
        expect((s.json['cycle'] as { sample: string }).sample).toBe(id);
        expect((s.json['frames'] as unknown[]).length).toBeGreaterThanOrEqual(200);
      }
      for (const h of health) {
        expect(h.status).toBe(200);
        expect(h.body.status).toBe('ok');
      }
      expect(await metric(serve.url, 'enose_sse_refused_total')).toBe(51);

      const done = await awaitSample(serve.url, id, {}, 120_000);
      expect(content(done['verdict'] as Record<string, unknown>)).toEqual(content(expected[0]!));
    } finally {
      for (const s of streams) s.close();
      expect(await serve.stop()).toBe(0);
    }
  });

  it('a client that never reads is cut (--sse-stall-s 1) while cycles go on, every verdict the one enose replay gives', async () => {
    const serve = await startServe(['--replay', recording, '--model', MODEL, '--speed', 'max', '--sse-stall-s', '1']);
    const reader = await openStream(serve.url, '/v1/events?frames=none');
    const stalled = await pausedClient(serve.url, '/v1/events?frames=all');
    try {
      let cycles = 0;
      const deadline = Date.now() + 150_000;
      while ((await metric(serve.url, 'enose_sse_cut_total', { reason: 'slow' })) + (await metric(serve.url, 'enose_sse_cut_total', { reason: 'buffer' })) === 0) {
        if (Date.now() > deadline) throw new Error(`the paused client was not cut after ${cycles} cycles`);
        const id = await postWhenFree(serve.url, `MSCU${String(1000000 + cycles)}`);
        const done = await awaitSample(serve.url, id, {}, 120_000);
        expect(content(done['verdict'] as Record<string, unknown>)).toEqual(content(expected[cycles % 3]!));
        cycles++;
      }
      // The reading client stays; only the paused one went.
      expect(await metric(serve.url, 'enose_sse_clients')).toBe(1);
      const id = await postWhenFree(serve.url, 'MSCU7777777');
      const done = await awaitSample(serve.url, id, {}, 120_000);
      expect(content(done['verdict'] as Record<string, unknown>)).toEqual(content(expected[cycles % 3]!));
      const health = await fetch(`${serve.url}/v1/health`);
      expect(health.status).toBe(200);
    } finally {
      stalled.destroy();
      reader.close();
      expect(await serve.stop()).toBe(0);
    }
  });

  it('malformed request targets answer 400 with a one-line JSON error, and the service goes on', async () => {
    const serve = await startServe(['--replay', recording, '--model', MODEL, '--speed', 'max']);
    try {
      const bad = ['http://[', 'http://[::1', 'http://%zz/', 'https://[/v1/health', '*', 'example.com:443', 'v1/health'];
      for (const target of bad) {
        const r = await rawRequest(serve.url, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
        expect(r.status, target).toBe(400);
        expect(r.body.trim().split('\n'), target).toHaveLength(1);
        expect(String((JSON.parse(r.body) as { error: string }).error), target).toMatch(/request target/);
      }
      // Bad percent-encoding in a path parameter: 400; in a fixed path or a query: not a crash either.
      expect((await rawRequest(serve.url, 'GET /v1/samples/%E0%A4%A HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')).status).toBe(400);
      expect((await rawRequest(serve.url, 'GET /v1/%zz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')).status).toBe(404);
      expect((await rawRequest(serve.url, 'GET /v1/samples?limit=%zz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')).status).toBe(200);
      // `//host/` is a path, not another host: no route (before, it served the page).
      expect((await rawRequest(serve.url, 'GET //evil.example/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')).status).toBe(404);
      // An absolute-form target that is a URL is served by its path.
      const absolute = await rawRequest(serve.url, `GET ${serve.url}/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
      expect(absolute.status).toBe(200);
      // Still up, and a cycle still gets its verdict.
      const id = await postWhenFree(serve.url, 'MSCU1234567');
      const done = await awaitSample(serve.url, id, {}, 120_000);
      expect(content(done['verdict'] as Record<string, unknown>)).toEqual(content(expected[0]!));
    } finally {
      expect(await serve.stop()).toBe(0);
    }
  });

  it('--token-file and ENOSE_TOKEN_FILE give the token (never on the command line); a file open to other users is refused', async () => {
    const TOKEN = 'quay-7-file-token';
    const file = join(dir, 'token');
    writeFileSync(file, `${TOKEN}\n`);
    chmodSync(file, 0o600);
    for (const [args, env] of [
      [['--token-file', file], {}],
      [[], { ENOSE_TOKEN_FILE: file }],
    ] as const) {
      const serve = await startServe(['--replay', recording, '--model', MODEL, '--speed', 'max', ...args], env);
      try {
        expect(serve.stdout()).toMatch(/token required/);
        expect((await fetch(`${serve.url}/v1/samples`)).status).toBe(401);
        expect((await fetch(`${serve.url}/v1/samples`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
        // The secret is in no process's command line.
        expect(readFileSync(`/proc/${serve.proc.pid}/cmdline`, 'utf8')).not.toContain(TOKEN);
        const id = (await postSample(serve.url, { containerId: 'MSCU1234567' }, { authorization: `Bearer ${TOKEN}` })).json['id'] as string;
        const done = await awaitSample(serve.url, id, { authorization: `Bearer ${TOKEN}` }, 120_000);
        expect(content(done['verdict'] as Record<string, unknown>)).toEqual(content(expected[0]!));
      } finally {
        expect(await serve.stop()).toBe(0);
      }
    }
    chmodSync(file, 0o644);
    const open = runEnose(['serve', '--replay', recording, '--model', MODEL, '--token-file', file, '--listen', '127.0.0.1:0']);
    expect(open.code).toBe(2);
    expect(open.stderr).toMatch(/open to other users \(mode 0644\): chmod 600/);
    expect(open.stderr).not.toContain(TOKEN);
    chmodSync(file, 0o600);
    const both = runEnose(['serve', '--replay', recording, '--model', MODEL, '--token-file', file, '--token', TOKEN, '--listen', '127.0.0.1:0']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/one of --token or --token-file/);
    const help = runEnose(['serve', '--help']);
    expect(help.stdout).toMatch(/Prefer\s+--token-file\s+or\s+ENOSE_TOKEN/);
  });
});

describe('enose fleet: --token-file, and a malformed request target', () => {
  it('starts with a token file (no broker needed to listen), answers GET http://[ with 400, refuses an open token file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'enose-hardening-fleet-'));
    const TOKEN = 'fleet-file-token';
    const file = join(dir, 'token');
    writeFileSync(file, TOKEN);
    chmodSync(file, 0o600);
    // A broker that is not there: the centre listens anyway (its health says 503).
    const proc = spawn(process.execPath, [CLI, 'fleet', '--mqtt', 'mqtt://127.0.0.1:9', '--listen', '127.0.0.1:0', '--data', join(dir, 'data'), '--token-file', file], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        proc.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /listening on (http:\/\/\S+)/.exec(out);
          if (m) resolve(m[1]!);
        });
        void exited.then((code) => reject(new Error(`enose fleet exited with ${code}`)));
      });
      expect((await fetch(`${url}/v1/stations`)).status).toBe(401);
      expect((await fetch(`${url}/v1/stations`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
      const r = await rawRequest(url, 'GET http://[ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
      expect(r.status).toBe(400);
      expect(r.body).toMatch(/request target/);
      // Still up.
      expect((await fetch(`${url}/v1/stations`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    } finally {
      proc.kill('SIGINT');
      expect(await exited).toBe(0);
    }
    chmodSync(file, 0o604);
    const open = runEnose(['fleet', '--mqtt', 'mqtt://127.0.0.1:9', '--listen', '127.0.0.1:0', '--data', join(dir, 'data'), '--token-file', file]);
    expect(open.code).toBe(2);
    expect(open.stderr).toMatch(/open to other users \(mode 0604\)/);
    rmSync(dir, { recursive: true, force: true });
  });
});
