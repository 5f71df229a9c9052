/**
 * The service's HTTP API, for real: `enose serve --replay` as its own process on a simulated recording, a
 * client using fetch. A cycle run over HTTP gets the verdict `enose replay` gives for the same recorded cycle;
 * /metrics parses as Prometheus text; bad bodies get 400 and change nothing; with --token the API needs it.
 */
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VerdictEvent } from '../../src/types.js';
import { runEnose } from '../helpers/cli.js';
import { SHIPPED_MODELS } from '../helpers/models.js';
import { awaitSample, ensureServiceBuilt, postSample, startServe, type ServeProcess, simulateAndReplay } from './serveProcess.js';

describe.each(SHIPPED_MODELS)('enose serve with the $name model', ({ path: MODEL }) => {
  const TOKEN = 'quay-7-secret-token';
  const dir = mkdtempSync(join(tmpdir(), 'enose-serve-'));
  const recording = join(dir, 'rec');
  let expected: VerdictEvent[] = [];
  let open: ServeProcess;
  let guarded: ServeProcess;

  beforeAll(async () => {
    ensureServiceBuilt();
    expected = simulateAndReplay(recording, MODEL);
    expect(expected).toHaveLength(3);
    [open, guarded] = await Promise.all([
      startServe(['--replay', recording, '--model', MODEL, '--speed', '100']),
      startServe(['--replay', recording, '--model', MODEL, '--speed', 'max', '--token', TOKEN, '--station', 'quay-7']),
    ]);
  });

  afterAll(async () => {
    await Promise.all([open?.stop(), guarded?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  /** The verdict's content, without what differs by nature between two runs (the id, times, latency). */
  function content(v: VerdictEvent | Record<string, unknown>): Record<string, unknown> {
    const { sample: _s, atMs: _a, latencyMs: _l, wallTime: _w, station: _st, ...rest } = v as Record<string, unknown>;
    return rest;
  }

  async function metricsOf(url: string, headers: Record<string, string> = {}) {
    const res = await fetch(`${url}/metrics`, { headers });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    return { text, families: parsePrometheusTextFormat(text) };
  }

  const value = (families: ReturnType<typeof parsePrometheusTextFormat>, name: string, labels: Record<string, string> = {}): number => {
    const family = families.find((f) => f.name === name);
    if (!family) throw new Error(`no metric ${name}`);
    const m = family.metrics.find((s) => Object.entries(labels).every(([k, v]) => s.labels?.[k] === v));
    if (!m) throw new Error(`no sample of ${name} with ${JSON.stringify(labels)}`);
    return Number(m.value ?? m.count);
  };

  /** Posts until the rig is free (a cycle's recovery keeps it busy for a moment after its verdict). */
  async function postWhenFree(url: string, containerId: string): Promise<Record<string, unknown>> {
    for (let i = 0; i < 1200; i++) {
      const r = await postSample(url, { containerId });
      if (r.status === 202) return r.json;
      expect(r.status).toBe(409);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error('the rig stayed busy');
  }

  describe('enose serve --replay: the API over HTTP', () => {
    it('health: the replayed rig is connected and the model is named', async () => {
      const res = await fetch(`${open.url}/v1/health`);
      const body = (await res.json()) as { status: string; rig: { connected: boolean; id: string }; model: { id: string }; lastFrameAgeS: number };
      expect(res.status).toBe(200);
      expect(body.status).toBe('ok');
      // The recording is the simulator's rig of seed 7: named after its rig seed (enose simulate), SIM7.
      expect(body.rig).toMatchObject({ connected: true, id: 'SIM7' });
      expect(body.model.id).toBe(expected[0]!.modelId);
      expect(body.lastFrameAgeS).toBeLessThan(5);
    });

    it('a client runs a cycle end to end and gets the verdict enose replay gives for the recorded cycle; a second request meanwhile gets 409', async () => {
      const events = await fetch(`${open.url}/v1/events?frames=none`);
      expect(events.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const reader = events.body!.getReader();

      const started = await postSample(open.url, { containerId: 'MSCU1234567' });
      expect(started.status).toBe(202);
      const id = started.json['id'] as string;
      expect(id.startsWith('MSCU1234567-')).toBe(true);
      const busy = await postSample(open.url, { containerId: 'TGHU7654321' });
      expect(busy.status).toBe(409);
      expect(String(busy.json['error'])).toContain(id);

      const done = await awaitSample(open.url, id);
      expect(done['state']).toBe('done');
      expect(done['containerId']).toBe('MSCU1234567');
      const verdict = done['verdict'] as Record<string, unknown>;
      expect(verdict['sample']).toBe(id);
      // Without --station, the station is the rig (the recording's rig id).
      expect(verdict['station']).toBe('SIM7');
      expect(verdict['wallTime']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      // Field for field, the recorded cycle's verdict: class, probabilities to the last bit, reasons, quality, frames.
      expect(content(verdict)).toEqual(content(expected[0]!));
      const pca = done['pca'] as number[];
      expect(pca).toHaveLength(3);
      expect(pca.every(Number.isFinite)).toBe(true);

      // The same verdict came down the event stream, after a snapshot, the request and the start.
      let text = '';
      const decoder = new TextDecoder();
      while (!text.includes('event: verdict\n')) {
        const { value: chunk, done: ended } = await reader.read();
        if (ended) break;
        text += decoder.decode(chunk);
      }
      await reader.cancel();
      const types = [...text.matchAll(/^event: (\S+)$/gm)].map((m) => m[1]);
      expect(types[0]).toBe('snapshot');
      expect(types).toContain('sample-started');
      expect(types).not.toContain('frame');
      const line = text.split('\n').find((l, i, all) => all[i - 1] === 'event: verdict')!;
      expect(JSON.parse(line.slice('data: '.length))).toEqual(verdict);
    });

    it('the next request plays the next recorded cycle, with its own verdict', async () => {
      const second = await postWhenFree(open.url, 'CSQU3054383');
      const done = await awaitSample(open.url, second['id'] as string);
      expect(content(done['verdict'] as Record<string, unknown>)).toEqual(content(expected[1]!));
    });

    it('malformed bodies get 400 with the reason (415 without a JSON content type), and change nothing', async () => {
      const before = await (await fetch(`${open.url}/v1/samples?limit=100`)).json();
      const { families: m0 } = await metricsOf(open.url);
      const cases: [string, RegExp][] = [
        ['{"nope": 1}', /containerId|nope/],
        ['not json', /not JSON/],
        ['{"containerId": 5}', /containerId/],
        ['{"containerId": "a,b;*"}', /containerId must be 1 to 40/],
        ['{"containerId": ""}', /containerId/],
        ['[]', /object/i],
      ];
      for (const [body, reason] of cases) {
        const r = await postSample(open.url, body);
        expect(r.status, body).toBe(400);
        expect(String(r.json['error']), body).toMatch(reason);
      }
      const plain = await fetch(`${open.url}/v1/samples`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"containerId":"MSCU1234567"}' });
      expect(plain.status).toBe(415);
      const big = await postSample(open.url, JSON.stringify({ containerId: 'A', pad: 'x'.repeat(20_000) }));
      expect(big.status).toBe(413);

      const after = await (await fetch(`${open.url}/v1/samples?limit=100`)).json();
      expect(after).toEqual(before);
      const { families: m1 } = await metricsOf(open.url);
      for (const requested of ['true', 'false']) {
        expect(value(m1, 'enose_cycles_started_total', { requested })).toBe(value(m0, 'enose_cycles_started_total', { requested }));
      }
      expect(value(m1, 'enose_sample_requests_total', { result: 'invalid' }) - value(m0, 'enose_sample_requests_total', { result: 'invalid' })).toBe(cases.length + 2);
    });

    it('unknown samples and routes are 404, a wrong method 405', async () => {
      expect((await fetch(`${open.url}/v1/samples/NOPE-1`)).status).toBe(404);
      expect((await fetch(`${open.url}/v1/nothing`)).status).toBe(404);
      const put = await fetch(`${open.url}/v1/health`, { method: 'PUT' });
      expect(put.status).toBe(405);
      expect(put.headers.get('allow')).toBe('GET');
    });

    it('/metrics parses as Prometheus text and counts what happened', async () => {
      const { text, families } = await metricsOf(open.url);
      // Every sample line is `name{labels} value` (the text format 0.0.4 grammar, without timestamps).
      for (const line of text.split('\n')) {
        if (line === '' || line.startsWith('#')) continue;
        expect(line).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? (-?[0-9.e+-]+|NaN|[+-]Inf)$/);
      }
      const verdicts = (await (await fetch(`${open.url}/v1/samples?limit=100`)).json()) as { samples: { state: string; verdict: VerdictEvent | null }[] };
      const done = verdicts.samples.filter((s) => s.state === 'done');
      expect(done.length).toBeGreaterThanOrEqual(2);
      const byOutcome = ['suspicious', 'clear', 'inconclusive', 'class-only'].map((v) => value(families, 'enose_verdicts_total', { verdict: v }));
      expect(byOutcome.reduce((s, v) => s + v, 0)).toBe(done.length);
      expect(value(families, 'enose_verdicts_total', { verdict: 'clear' })).toBe(done.filter((s) => s.verdict!.verdict === 'clear').length);
      const latency = families.find((f) => f.name === 'enose_verdict_latency_seconds')!;
      expect(latency.type).toBe('HISTOGRAM');
      expect(Number(latency.metrics[0]!.count)).toBe(done.length);
      expect(Number(latency.metrics[0]!.buckets!['+Inf'])).toBe(done.length);
      expect(value(families, 'enose_frames_total')).toBeGreaterThan(1500);
      expect(value(families, 'enose_link_issues_total', { kind: 'bad-checksum' })).toBe(0);
      expect(value(families, 'enose_rig_connected')).toBe(1);
      expect(families.find((f) => f.name === 'enose_model_info')!.metrics[0]!.labels!['model_id']).toBe(expected[0]!.modelId);
      expect(families.some((f) => f.name === 'process_cpu_user_seconds_total')).toBe(true);
    });

    it('a loopback service refuses a request that names another host (DNS rebinding)', async () => {
      const { port } = new URL(open.url);
      const status = await new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: Number(port), path: '/v1/health', headers: { host: 'evil.example:80' } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
      expect(status).toBe(403);
    });
  });

  describe('enose serve --token', () => {
    const bearer = { authorization: `Bearer ${TOKEN}` };

    it('answers 401 without the token (or with a wrong one), on every API route, and starts nothing', async () => {
      for (const [path, init] of [
        ['/v1/health', {}],
        ['/v1/events', {}],
        ['/v1/model', {}],
        ['/v1/samples', {}],
        ['/v1/samples/x', {}],
        ['/metrics', {}],
        ['/v1/samples', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"containerId":"MSCU1234567"}' }],
        ['/v1/health', { headers: { authorization: 'Bearer wrong-token-123' } }],
      ] as const) {
        const res = await fetch(`${guarded.url}${path}`, init as RequestInit);
        expect(res.status, path).toBe(401);
        expect(res.headers.get('www-authenticate'), path).toMatch(/^Bearer/);
      }
      const { families } = await metricsOf(guarded.url, bearer);
      expect(value(families, 'enose_cycles_started_total', { requested: 'true' })).toBe(0);
    });

    it('with the bearer token the API works, a cycle included', async () => {
      expect((await fetch(`${guarded.url}/v1/health`, { headers: bearer })).status).toBe(200);
      const started = await postSample(guarded.url, { containerId: 'MSCU1234567' }, bearer);
      expect(started.status).toBe(202);
      const done = await awaitSample(guarded.url, started.json['id'] as string, bearer);
      expect(content(done['verdict'] as Record<string, unknown>)).toEqual(content(expected[0]!));
      // --station names the station; the wall-clock time lies between the request and the answer.
      const verdict = done['verdict'] as { station: string; wallTime: string };
      expect(verdict.station).toBe('quay-7');
      expect(Date.parse(verdict.wallTime)).toBeGreaterThanOrEqual(Date.parse(started.json['requestedAt'] as string));
      expect(Date.parse(verdict.wallTime)).toBeLessThanOrEqual(Date.parse(done['finishedAt'] as string));
    });

    it('the page takes a session cookie from /login; the cookie opens the page and its stream, not the API writes', async () => {
      const page = await fetch(`${guarded.url}/`);
      expect(page.status).toBe(401);
      expect(await page.text()).toContain('action="/login"');
      expect((await fetch(`${guarded.url}/login?token=nope-nope-nope`, { redirect: 'manual' })).status).toBe(401);

      const login = await fetch(`${guarded.url}/login?token=${TOKEN}`, { redirect: 'manual' });
      expect(login.status).toBe(303);
      expect(login.headers.get('location')).toBe('/');
      const setCookie = login.headers.get('set-cookie')!;
      expect(setCookie).toMatch(/HttpOnly/);
      expect(setCookie).toMatch(/SameSite=Strict/);
      const cookie = setCookie.split(';')[0]!;

      const withCookie = await fetch(`${guarded.url}/`, { headers: { cookie } });
      expect(withCookie.status).toBe(200);
      expect(withCookie.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
      const stream = await fetch(`${guarded.url}/v1/events`, { headers: { cookie } });
      expect(stream.status).toBe(200);
      await stream.body!.cancel();
      expect((await fetch(`${guarded.url}/v1/model`, { headers: { cookie } })).status).toBe(200);
      const post = await fetch(`${guarded.url}/v1/samples`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: '{"containerId":"X1"}' });
      expect(post.status).toBe(401);
      expect((await fetch(`${guarded.url}/metrics`, { headers: { cookie } })).status).toBe(401);
    });
  });

  describe('enose serve: shutdown', () => {
    it('stops cleanly on SIGINT with exit code 0', async () => {
      const extra = await startServe(['--replay', recording, '--model', MODEL, '--speed', 'max']);
      const code = await extra.stop();
      expect(code).toBe(0);
      expect(extra.stderr()).toContain('enose serve: stopped');
    });

    it('refuses bad usage: both or neither of --port and --replay, a bad --listen', () => {
      expect(runEnose(['serve', '--model', MODEL]).stderr).toMatch(/one of --port or --replay/);
      expect(runEnose(['serve', '--model', MODEL, '--replay', recording, '--port', '/dev/null']).code).toBe(2);
      expect(runEnose(['serve', '--model', MODEL, '--replay', recording, '--listen', 'nohost:99999']).stderr).toMatch(/--listen/);
    });
  });
});
