/**
 * The scanner service: one process running the streaming engine on a rig (or a replayed recording) and an
 * HTTP server (node:http) in front of it.
 *
 *   POST /v1/samples {"containerId": "MSCU1234567"}  202 + the sample (its id), 400 bad body, 409 rig busy,
 *                                                     415 not JSON, 503 the START could not be sent
 *   GET  /v1/samples/:id[?waitS=10]                  200 done or failed, 202 pending or running, 404 unknown
 *   GET  /v1/samples[?limit=20]                      the newest samples
 *   GET  /v1/events[?frames=all|none|<hz>]           server-sent events: engine events (frames thinned to 25 Hz
 *                                                     by default) plus snapshot, sample-requested, sample-failed,
 *                                                     pca-point
 *   GET  /v1/health                                  200 when the rig is connected and frames are fresh, else 503
 *   GET  /v1/model                                   the model as the page draws it (classes, PCA cloud)
 *   GET  /metrics                                    Prometheus text format
 *   GET  /, /page.js, /page.css                      the operator page
 *   GET  /login?token=...                            with --token: a session cookie for the page
 *
 * With a token, the API needs `Authorization: Bearer <token>` (401 otherwise); the page and its reads (`/`,
 * `/v1/events`, `/v1/health`, `/v1/model`) also take the session cookie. A loopback listener answers only
 * requests that name a loopback host (DNS rebinding), and POST needs `Content-Type: application/json`, which
 * a cross-site form cannot send. No endpoint reads or writes a file.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { createEngine, type Engine } from '../engine/engine.js';
import { eventToJson } from '../io/eventJson.js';
import type { ModelBundle } from '../model/bundle.js';
import { ScoreTap, sameProbabilities } from '../report/scores.js';
import type { EngineEvent, FrameSource, LinkState, RigInfo, SourceEvent, VerdictEvent } from '../types.js';
import { accessOf, isLoopbackAddress, isLoopbackHost, sameSecret, sessionCookie, SessionStore } from './auth.js';
import { createServiceMetrics, type ServiceMetrics } from './metrics.js';
import { loginPage, PAGE_CSS, PAGE_HTML } from './page/html.js';
import { PAGE_SCRIPT } from './page/script.js';
import { pageModelOf } from './pageModel.js';
import { warmUp } from './warmup.js';
import { CONTAINER_ID, SampleBook, sampleJson, type SampleRecord } from './samples.js';
import { FrameThinner, parseFrameRate, SSE_KEEPALIVE, sseMessage } from './sse.js';

export interface ScannerServiceOptions {
  readonly model: ModelBundle;
  /** The rig (createSerialSource), a replayed recording (createReplayRig), or any FrameSource. */
  readonly source: FrameSource;
  /** Address to listen on. @default '127.0.0.1' */
  readonly host?: string;
  /** Port; 0 picks a free one (see `url`). @default 8080 */
  readonly port?: number;
  /** Bearer token of the API; null or absent: no authentication. */
  readonly token?: string | null;
  /** @default 5 */
  readonly latencyBudgetMs?: number;
  /** The station each verdict names. @default the rig's id */
  readonly stationId?: string;
  /** Wall clock in epoch ms (verdicts' `wallTime`, sample times). @default Date.now */
  readonly wallClock?: () => number;
  /** A requested cycle the rig has not started by then fails (the rig is free again). @default 15000 */
  readonly startTimeoutMs?: number;
  /** Default frame rate of `/v1/events` (the page's). @default 25 */
  readonly maxFrameHz?: number;
  /** Frames older than this make `/v1/health` answer 503. @default 5 */
  readonly staleFrameS?: number;
  /** Every engine event, after the service has handled it (the CLI prints and records from here). */
  readonly onEvent?: (event: EngineEvent) => void;
  /** Node.js process metrics on /metrics. @default true */
  readonly processMetrics?: boolean;
}

export interface ScannerService {
  /** `http://host:port` as listening. */
  readonly url: string;
  readonly server: Server;
  readonly engine: Engine;
  /** Resolves when the engine ends (a replay rig runs until closed); rejects with its error. */
  readonly done: Promise<void>;
  /** Stops the HTTP server (ending the event streams) and the engine. */
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 16 * 1024;
const MAX_WAIT_S = 60;
const MAX_SSE_BUFFER = 4 * 1024 * 1024;
const SKIP_FRAMES_ABOVE = 256 * 1024;

const sampleRequestSchema = z.strictObject({
  containerId: z
    .string({ error: 'containerId must be a string' })
    .regex(CONTAINER_ID, 'containerId must be 1 to 40 letters, digits, dots, dashes or underscores, starting with a letter or digit'),
});

interface SseClient {
  readonly res: ServerResponse;
  readonly thinner: FrameThinner;
}

type Route = 'page' | 'asset' | 'login' | 'health' | 'model' | 'events' | 'samples' | 'sample' | 'metrics' | 'unknown';

export async function startScannerService(options: ScannerServiceOptions): Promise<ScannerService> {
  const { model, source } = options;
  const token = options.token ?? null;
  const host = options.host ?? '127.0.0.1';
  const loopback = isLoopbackAddress(host);
  const maxFrameHz = options.maxFrameHz ?? 25;
  const startTimeoutMs = options.startTimeoutMs ?? 15_000;
  const staleFrameS = options.staleFrameS ?? 5;
  const startedAt = Date.now();

  const book = new SampleBook();
  const sessions = new SessionStore();
  const clients = new Set<SseClient>();
  const waiters = new Map<string, Set<() => void>>();
  const awaitingScores = new Map<string, VerdictEvent>();
  let rig: RigInfo | null = null;
  let link: LinkState | 'unknown' = 'unknown';
  let lastFrameAt = NaN;
  let cycle: { sample: string; phase: string; verdict: boolean } | null = null;
  const bufferThinner = new FrameThinner(maxFrameHz);
  let cycleFrames: string[] = [];
  const pageModelJson = JSON.stringify(pageModelOf(model));

  const metrics: ServiceMetrics = createServiceMetrics({
    modelId: model.id,
    classifier: model.classifier.type,
    processMetrics: options.processMetrics ?? true,
    gauges: () => ({ rigConnected: rigConnected(), lastFrameAgeS: lastFrameAgeS(), sseClients: clients.size }),
  });

  const rigConnected = () => rig !== null && link !== 'disconnected' && link !== 'reconnecting';
  const lastFrameAgeS = () => (Number.isNaN(lastFrameAt) ? null : (performance.now() - lastFrameAt) / 1000);

  /** Writes an event to every stream; `data` is made only when some stream takes it (frames are thinned per stream). */
  const broadcast = (type: string, data: string | (() => string), frameAtMs?: number) => {
    let message: string | null = null;
    for (const client of clients) {
      const res = client.res;
      if (frameAtMs !== undefined && (!client.thinner.accept(frameAtMs) || res.writableLength > SKIP_FRAMES_ABOVE)) continue;
      if (res.writableLength > MAX_SSE_BUFFER) {
        res.destroy(); // a client that does not read: cut it rather than buffer without bound
        clients.delete(client);
        continue;
      }
      message ??= sseMessage(type, typeof data === 'string' ? data : data());
      res.write(message);
    }
  };
  const notify = (id: string) => {
    const set = waiters.get(id);
    if (!set) return;
    waiters.delete(id);
    for (const wake of set) wake();
  };

  // The tap runs after the engine on each source event (its work must not count in the verdict's latency),
  // so a cycle's scores arrive just after its verdict, within the same source event.
  const tap = new ScoreTap(model, (scores) => {
    const verdict = awaitingScores.get(scores.sample);
    awaitingScores.delete(scores.sample);
    if (!verdict || verdict.class === null || !sameProbabilities(model.classes, scores.probabilities, verdict.probabilities)) return;
    book.setPca(scores.sample, scores.scores);
    broadcast('pca-point', JSON.stringify({ type: 'pca-point', sample: scores.sample, scores: scores.scores }));
  });

  const onEngineEvent = (event: EngineEvent) => {
    metrics.observe(event);
    book.onEvent(event);
    switch (event.type) {
      case 'frame': {
        lastFrameAt = event.atMs;
        let json: string | null = null;
        const frameJson = () => (json ??= eventToJson(event));
        if (bufferThinner.accept(event.atMs)) {
          cycleFrames.push(frameJson());
          const cap = cycle === null ? 600 : 6000;
          if (cycleFrames.length > cap) cycleFrames.splice(0, cycleFrames.length - cap);
        }
        broadcast('frame', frameJson, event.atMs);
        break;
      }
      case 'info':
        rig = { proto: event.proto, rig: event.rig, fw: event.fw, rateHz: event.rateHz, unit: event.unit, channels: event.channels };
        if (link === 'unknown') link = 'connected';
        broadcast(event.type, eventToJson(event));
        break;
      case 'state':
        link = event.state;
        broadcast(event.type, eventToJson(event));
        break;
      case 'sample-started':
        cycle = { sample: event.sample, phase: 'B', verdict: false };
        cycleFrames = [];
        broadcast(event.type, eventToJson(event));
        break;
      case 'phase':
        // The rig going idle after a cycle comes with sample '' (the cycle is over): the cycle's phase is I then.
        if (cycle && (event.sample === cycle.sample || (event.sample === '' && event.phase === 'I'))) cycle.phase = event.phase;
        broadcast(event.type, eventToJson(event));
        break;
      case 'verdict': {
        if (cycle && cycle.sample === event.sample) cycle.verdict = true;
        awaitingScores.set(event.sample, event);
        if (awaitingScores.size > 16) awaitingScores.delete(awaitingScores.keys().next().value!);
        broadcast(event.type, eventToJson(event));
        notify(event.sample);
        break;
      }
      default:
        broadcast(event.type, eventToJson(event));
    }
    options.onEvent?.(event);
  };

  const failRequest = (record: SampleRecord, error: string) => {
    book.fail(record.id, error);
    broadcast('sample-failed', JSON.stringify({ type: 'sample-failed', id: record.id, containerId: record.containerId, error }));
    notify(record.id);
  };

  // The engine sees the source through a tap: the score tap follows the same events, and a refused START
  // (an `ack` the engine does not pass on) fails the request at once.
  const observed: FrameSource = {
    description: source.description,
    send: (command) => source.send(command),
    run: (emit, signal) =>
      source.run((event: SourceEvent) => {
        emit(event);
        try {
          tap.push(event);
        } catch {
          // the engine reports what is wrong with the data; the tap only draws
        }
        if (event.type === 'ack' && event.command === 'START' && !event.ok) {
          const pending = book.busy();
          const record = pending?.state === 'pending' ? book.get(pending.sample) : undefined;
          if (record) failRequest(record, `the rig refused the cycle: ${event.detail || 'error'}`);
        }
      }, signal),
  };

  warmUp(model);
  const engine = createEngine({
    model,
    source: observed,
    queue: false,
    emitFrames: true,
    latencyBudgetMs: options.latencyBudgetMs ?? 5,
    ...(options.stationId !== undefined && { stationId: options.stationId }),
    ...(options.wallClock !== undefined && { wallClock: options.wallClock }),
    onEvent: onEngineEvent,
  });

  const overdueTimer = setInterval(() => {
    const late = book.overdue(startTimeoutMs);
    if (late) failRequest(late, `the rig did not start the cycle within ${startTimeoutMs / 1000} s`);
  }, 250);
  overdueTimer.unref();
  const keepAlive = setInterval(() => {
    for (const client of clients) client.res.write(SSE_KEEPALIVE);
  }, 15_000);
  keepAlive.unref();

  // ---------------------------------------------------------------------------------------------------
  // HTTP

  const send = (res: ServerResponse, code: number, body: string, type: string, headers: Record<string, string> = {}) => {
    res.writeHead(code, { 'content-type': type, 'content-length': String(Buffer.byteLength(body)), 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...headers });
    res.end(body);
  };
  const sendJson = (res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}) =>
    send(res, code, JSON.stringify(body), 'application/json; charset=utf-8', headers);
  const pageHeaders = {
    'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
  };

  const health = () => {
    const age = lastFrameAgeS();
    const ok = rigConnected() && age !== null && age <= staleFrameS;
    const busy = book.busy();
    return {
      ok,
      body: {
        status: ok ? 'ok' : 'degraded',
        rig: {
          connected: rigConnected(),
          link,
          id: rig?.rig ?? null,
          fw: rig?.fw ?? null,
          proto: rig?.proto ?? null,
          rateHz: rig?.rateHz ?? null,
          channels: rig?.channels.length ?? null,
        },
        source: source.description,
        model: { id: model.id, classifier: model.classifier.type, classes: model.classes, policy: model.policy !== null },
        lastFrameAgeS: age === null ? null : Number(age.toFixed(3)),
        cycle: busy,
        verdicts: engine.stats().verdicts,
        overBudget: engine.stats().overBudget,
        uptimeS: Math.round((Date.now() - startedAt) / 1000),
      },
    };
  };

  const snapshot = () => {
    const pending = book.busy();
    const pendingRecord = pending?.state === 'pending' ? book.get(pending.sample) : undefined;
    const head = JSON.stringify({
      type: 'snapshot',
      modelId: model.id,
      rig,
      link,
      cycle,
      pending: pendingRecord ? sampleJson(pendingRecord) : null,
      verdicts: book.recent(20, (r) => r.state === 'done').map(sampleJson),
    });
    return `${head.slice(0, -1)},"frames":[${cycleFrames.join(',')}]}`;
  };

  const readBody = async (req: IncomingMessage): Promise<string | null> => {
    let size = 0;
    const chunks: Buffer[] = [];
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) return null;
      chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString('utf8');
  };

  const waitFor = (id: string, ms: number, res: ServerResponse) =>
    new Promise<void>((resolve) => {
      let set = waiters.get(id);
      if (!set) waiters.set(id, (set = new Set()));
      const wake = () => {
        clearTimeout(timer);
        set!.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      set.add(wake);
      res.once('close', wake);
    });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<Route> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    if (loopback && !isLoopbackHost(req.headers.host)) {
      sendJson(res, 403, { error: 'this service listens on loopback: the Host header must name a loopback address' });
      return 'unknown';
    }
    const only = (allowed: string): boolean => {
      if (method === allowed) return true;
      sendJson(res, 405, { error: `${method} is not allowed here` }, { allow: allowed });
      return false;
    };
    const denied = (sessionOk: boolean): boolean => {
      const access = accessOf(token, req.headers, sessions, sessionOk);
      if (access !== 'denied') return false;
      sendJson(res, 401, { error: 'authentication required: Authorization: Bearer <token>' }, { 'www-authenticate': 'Bearer realm="enose"' });
      return true;
    };

    if (path === '/page.js' || path === '/page.css') {
      if (!only('GET')) return 'asset';
      if (path === '/page.js') send(res, 200, PAGE_SCRIPT, 'text/javascript; charset=utf-8');
      else send(res, 200, PAGE_CSS, 'text/css; charset=utf-8');
      return 'asset';
    }
    if (path === '/favicon.ico') {
      res.writeHead(204).end();
      return 'asset';
    }
    if (path === '/login') {
      if (!only('GET')) return 'login';
      if (token === null) {
        res.writeHead(303, { location: '/' }).end();
        return 'login';
      }
      const given = url.searchParams.get('token');
      if (given !== null && sameSecret(given, token)) {
        res.writeHead(303, { location: '/', 'set-cookie': sessionCookie(sessions.create()), 'cache-control': 'no-store' }).end();
      } else {
        send(res, 401, loginPage(given === null ? 'This scanner needs its access token.' : 'That token is not right.'), 'text/html; charset=utf-8', pageHeaders);
      }
      return 'login';
    }
    if (path === '/') {
      if (!only('GET')) return 'page';
      if (accessOf(token, req.headers, sessions, true) === 'denied') {
        send(res, 401, loginPage('This scanner needs its access token.'), 'text/html; charset=utf-8', pageHeaders);
      } else {
        send(res, 200, PAGE_HTML, 'text/html; charset=utf-8', pageHeaders);
      }
      return 'page';
    }
    if (path === '/metrics') {
      if (!only('GET') || denied(false)) return 'metrics';
      send(res, 200, await metrics.render(), metrics.contentType);
      return 'metrics';
    }
    if (path === '/v1/health') {
      if (!only('GET') || denied(true)) return 'health';
      const h = health();
      sendJson(res, h.ok ? 200 : 503, h.body);
      return 'health';
    }
    if (path === '/v1/model') {
      if (!only('GET') || denied(true)) return 'model';
      send(res, 200, pageModelJson, 'application/json; charset=utf-8');
      return 'model';
    }
    if (path === '/v1/events') {
      if (!only('GET') || denied(true)) return 'events';
      const hz = parseFrameRate(url.searchParams.get('frames'), maxFrameHz);
      if (hz === null) {
        sendJson(res, 400, { error: 'frames must be all, none or a rate in Hz (0 < rate <= 1000)' });
        return 'events';
      }
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      res.write(`retry: 2000\n\n${sseMessage('snapshot', snapshot())}`);
      const client: SseClient = { res, thinner: new FrameThinner(hz) };
      clients.add(client);
      res.once('close', () => clients.delete(client));
      return 'events';
    }
    if (path === '/v1/samples') {
      if (method === 'GET') {
        if (denied(false)) return 'samples';
        const limit = Math.min(1000, Math.max(1, Number(url.searchParams.get('limit') ?? 20) || 20));
        sendJson(res, 200, { samples: book.recent(limit).map(sampleJson) });
        return 'samples';
      }
      if (!only('POST') || denied(false)) return 'samples';
      await createSample(req, res);
      return 'samples';
    }
    if (path.startsWith('/v1/samples/')) {
      if (!only('GET') || denied(false)) return 'sample';
      let id: string;
      try {
        id = decodeURIComponent(path.slice('/v1/samples/'.length));
      } catch {
        sendJson(res, 400, { error: 'the sample id is not valid URL encoding' });
        return 'sample';
      }
      let record = book.get(id);
      if (!record) {
        sendJson(res, 404, { error: `no sample ${JSON.stringify(id)}` });
        return 'sample';
      }
      const waitRaw = url.searchParams.get('waitS');
      if (waitRaw !== null) {
        const waitS = Number(waitRaw);
        if (!(waitS >= 0 && waitS <= MAX_WAIT_S)) {
          sendJson(res, 400, { error: `waitS must be a number of seconds from 0 to ${MAX_WAIT_S}` });
          return 'sample';
        }
        if (record.state === 'pending' || record.state === 'running') await waitFor(id, waitS * 1000, res);
        record = book.get(id) ?? record;
      }
      const finished = record.state === 'done' || record.state === 'failed';
      sendJson(res, finished ? 200 : 202, sampleJson(record), finished ? {} : { 'retry-after': '1' });
      return 'sample';
    }
    sendJson(res, 404, { error: `no route ${method} ${path}` });
    return 'unknown';
  };

  const createSample = async (req: IncomingMessage, res: ServerResponse) => {
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json') {
      metrics.sampleRequest('invalid');
      sendJson(res, 415, { error: 'the body must be JSON with Content-Type: application/json' });
      return;
    }
    const text = await readBody(req);
    if (text === null) {
      metrics.sampleRequest('invalid');
      sendJson(res, 413, { error: `the body is over ${MAX_BODY_BYTES} bytes` });
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      metrics.sampleRequest('invalid');
      sendJson(res, 400, { error: `the body is not JSON: ${(error as Error).message}` });
      return;
    }
    const parsed = sampleRequestSchema.safeParse(value);
    if (!parsed.success) {
      metrics.sampleRequest('invalid');
      const issue = parsed.error.issues[0]!;
      const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
      sendJson(res, 400, { error: `${where}${issue.message}` });
      return;
    }
    const booked = book.request(parsed.data.containerId);
    if (!('id' in booked)) {
      metrics.sampleRequest('conflict');
      sendJson(res, 409, { error: `the rig is busy with ${booked.sample || 'a cycle'} (${booked.state}, phase ${booked.phase})`, busy: booked }, { 'retry-after': '5' });
      return;
    }
    // Announced before the START goes out: the rig can start the cycle before the START's write returns, and
    // a page that saw the start must not then see the request as still waiting.
    broadcast('sample-requested', JSON.stringify({ type: 'sample-requested', id: booked.id, containerId: booked.containerId }));
    try {
      tap.requestSample(booked.id);
      await engine.startSample(booked.id);
    } catch (error) {
      book.withdraw(booked.id);
      broadcast('sample-failed', JSON.stringify({ type: 'sample-failed', id: booked.id, containerId: booked.containerId, error: 'the START could not be sent' }));
      metrics.sampleRequest('unavailable');
      sendJson(res, 503, { error: `could not start a cycle: ${(error as Error).message.split('\n')[0]}` });
      return;
    }
    metrics.sampleRequest('accepted');
    sendJson(res, 202, sampleJson(book.get(booked.id) ?? booked), { location: `/v1/samples/${encodeURIComponent(booked.id)}` });
  };

  const server = createServer((req, res) => {
    handle(req, res).then(
      (route) => metrics.httpRequest(route, res.statusCode),
      (error: unknown) => {
        metrics.httpRequest('unknown', 500);
        if (!res.headersSent) sendJson(res, 500, { error: `internal error: ${(error as Error).message.split('\n')[0]}` });
        else res.destroy();
      },
    );
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8080, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;

  let closing: Promise<void> | null = null;
  return {
    url,
    server,
    engine,
    done: engine.done,
    close() {
      closing ??= (async () => {
        clearInterval(overdueTimer);
        clearInterval(keepAlive);
        for (const client of clients) client.res.end();
        clients.clear();
        for (const id of [...waiters.keys()]) notify(id);
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await engine.close();
        await closed;
      })();
      return closing;
    },
  };
}
