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
 *                                                     pca-point; 503 past --max-sse-clients streams
 *   GET  /v1/health                                  200 when the rig is connected, frames are fresh and its cycles
 *                                                     are judged, else 503 (`notJudging` says why they are not)
 *   GET  /v1/model                                   the model as the page draws it (classes, PCA cloud)
 *   GET  /metrics                                    Prometheus text format
 *   GET  /v1/openapi.json                            the OpenAPI 3 document of these routes
 *   GET  /, /page.js, /page.css                      the operator page
 *   GET  /login?token=...                            with --token: a session cookie for the page
 *
 * With a token, the API needs `Authorization: Bearer <token>` (401 otherwise); the page and its reads (`/`,
 * `/v1/events`, `/v1/health`, `/v1/model`) also take the session cookie. A loopback listener answers only
 * requests that name a loopback host (DNS rebinding), and POST needs `Content-Type: application/json`, which
 * a cross-site form cannot send. No endpoint reads or writes a file.
 *
 * This file wires the parts: the route table (routes.ts, with POST /v1/samples in samplesPost.ts), the state
 * that engine events leave (state.ts), the streams and waiters they go to (hub.ts), the metrics. The score plot's
 * points are the PCA scores each verdict carries (`pcaScores`): no second engine core runs beside the engine.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createEngine, type Engine } from '../engine/engine.js';
import type { EngineEarlyOption } from '../engine/earlyPlanSchema.js';
import { withCycleEnding } from '../io/cycleEnd.js';
import { eventToJson } from '../io/eventJson.js';
import type { ModelBundle } from '../model/runtime/bundle.js';
import type { EngineEvent, FrameSource, SourceEvent, VerdictEvent } from '../types.js';
import { accessRecord, type AccessRecord } from './accessRecord.js';
import { accessOf, isLoopbackAddress, isLoopbackHost, SessionStore } from './auth.js';
import { EventHub } from './hub.js';
import { createServiceMetrics, type ServiceMetrics } from './metrics.js';
import { openApiDocument } from './openapi.js';
import { pageModelOf, pageModelWithEarly } from './pageModel.js';
import { resolveEarlyPlan } from '../engine/earlyPlanSchema.js';
import { matchRoute, ROUTES, sendJson, type ServiceContext } from './routes.js';
import { answerClientError, parseRequestTarget } from './requestTarget.js';
import { postSample } from './samplesPost.js';
import type { SampleRecord } from './samples.js';
import { ServiceState } from './state.js';
import { warmUp } from './warmup.js';

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
  /** An early plan (`EngineOptions.early`): early verdicts, and the rig told to end those cycles. @default none */
  readonly early?: EngineEarlyOption;
  /** The station each verdict names. @default the rig's id */
  readonly stationId?: string;
  /** Wall clock in epoch ms (verdicts' `wallTime`, sample times). @default Date.now */
  readonly wallClock?: () => number;
  /** A requested cycle the rig has not started by then fails (the rig is free again). @default 15000 */
  readonly startTimeoutMs?: number;
  /** Default frame rate of `/v1/events` (the page's). @default 25 */
  readonly maxFrameHz?: number;
  /** Open `/v1/events` streams at most; past it the route answers 503 with Retry-After. @default 100 */
  readonly maxSseClients?: number;
  /** An event stream that is behind and takes nothing for this long is cut. @default 10 */
  readonly sseStallS?: number;
  /** Frames older than this make `/v1/health` answer 503. @default 5 */
  readonly staleFrameS?: number;
  /** Every engine event, after the service has handled it (the CLI prints and records from here). */
  readonly onEvent?: (event: EngineEvent) => void;
  /** Node.js process metrics on /metrics. @default true */
  readonly processMetrics?: boolean;
  /** Version named in the OpenAPI document. @default '0' */
  readonly version?: string;
  /**
   * One record per request (the CLI writes it as a line: accessRecord.ts): the path without its query (a
   * `/login?token=` query holds the secret), and no header (no bearer token, no cookie).
   */
  readonly accessLog?: (record: AccessRecord) => void;
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

export async function startScannerService(options: ScannerServiceOptions): Promise<ScannerService> {
  const { model, source } = options;
  const token = options.token ?? null;
  const host = options.host ?? '127.0.0.1';
  const loopback = isLoopbackAddress(host);
  const maxFrameHz = options.maxFrameHz ?? 25;
  const startTimeoutMs = options.startTimeoutMs ?? 15_000;
  const staleFrameS = options.staleFrameS ?? 5;
  const startedAt = Date.now();

  const state = new ServiceState({ maxFrameHz, ...(options.wallClock && { wallClock: options.wallClock }) });
  const book = state.book;
  const sessions = new SessionStore();
  // The model the engine judges with: the one it started with until a roll-out (engine.setModel) takes effect at
  // a cycle start; /v1/model, /v1/health, the metrics and the OpenAPI document follow it.
  let current = model;
  let pageModelJson = JSON.stringify(options.early ? pageModelWithEarly(model, resolveEarlyPlan(options.early, model).checkpointModels) : pageModelOf(model));
  const apiJson = (m: ModelBundle) => JSON.stringify(openApiDocument(ROUTES, { version: options.version ?? '0', modelId: m.id }));
  let openApiJson = apiJson(model);

  const metrics: ServiceMetrics = createServiceMetrics({
    modelId: model.id,
    classifier: model.classifier.type,
    processMetrics: options.processMetrics ?? true,
    gauges: () => ({ rigConnected: state.rigConnected(), lastFrameAgeS: state.lastFrameAgeS(performance.now()), sseClients: hub.streamCount, notJudging: engine.stats().notJudging }),
  });
  const hub = new EventHub({
    maxClients: options.maxSseClients ?? 100,
    stallMs: (options.sseStallS ?? 10) * 1000,
    onCut: (reason) => metrics.sseCut(reason),
  });

  /**
   * The engine switched model (it does so at a frame outside any cycle: a roll-out): everything that shows the
   * model follows it. The score plot needs nothing: each verdict carries its scores in its own model's space.
   */
  const followModel = () => {
    const next = engine.model();
    current = next;
    pageModelJson = JSON.stringify(pageModelOf(next));
    openApiJson = apiJson(next);
    metrics.setModel(next.id, next.classifier.type);
    hub.broadcast('model', JSON.stringify({ type: 'model', id: next.id, classifier: next.classifier.type }));
  };

  /** The score plot's point of a verdict the model predicted: its PCA scores, right after the verdict. */
  const drawPoint = (verdict: VerdictEvent) => {
    const scores = verdict.pcaScores;
    if (verdict.class === null || !scores) return;
    book.setPca(verdict.sample, scores);
    hub.broadcast('pca-point', JSON.stringify({ type: 'pca-point', sample: verdict.sample, scores }));
  };

  const onEngineEvent = (event: EngineEvent) => {
    metrics.observe(event);
    if (event.type === 'frame') {
      let json: string | null = null;
      const frameJson = () => (json ??= eventToJson(event));
      state.apply(event, frameJson);
      hub.broadcast('frame', frameJson, event.atMs);
    } else {
      state.apply(event);
      hub.broadcast(event.type, eventToJson(event));
      if (event.type === 'verdict') {
        drawPoint(event);
        hub.notify(event.sample);
      }
    }
    options.onEvent?.(event);
  };

  const failRequest = (record: SampleRecord, error: string) => {
    book.fail(record.id, error);
    hub.broadcast('sample-failed', JSON.stringify({ type: 'sample-failed', id: record.id, containerId: record.containerId, error }));
    hub.notify(record.id);
  };

  // The engine sees the source through a tap: after each source event the service follows a model switch, and a
  // refused START (an `ack` the engine does not pass on) fails the request at once.
  const observed: FrameSource = withCycleEnding({
    description: source.description,
    send: (command) => source.send(command),
    run: (emit, signal) =>
      source.run((event: SourceEvent) => {
        emit(event);
        if (engine.modelId() !== current.id) followModel();
        if (event.type === 'ack' && event.command === 'START' && !event.ok) {
          const pending = book.busy();
          const record = pending?.state === 'pending' ? book.get(pending.sample) : undefined;
          if (record) failRequest(record, `the rig refused the cycle: ${event.detail || 'error'}`);
        }
      }, signal),
  }, source);

  warmUp(model);
  const engine = createEngine({
    model,
    source: observed,
    queue: false,
    emitFrames: true,
    latencyBudgetMs: options.latencyBudgetMs ?? 5,
    ...(options.early !== undefined && { early: options.early }),
    ...(options.stationId !== undefined && { stationId: options.stationId }),
    ...(options.wallClock !== undefined && { wallClock: options.wallClock }),
    onEvent: onEngineEvent,
  });

  const overdueTimer = setInterval(() => {
    const late = book.overdue(startTimeoutMs);
    if (late) failRequest(late, `the rig did not start the cycle within ${startTimeoutMs / 1000} s`);
  }, 250);
  overdueTimer.unref();
  const keepAlive = setInterval(() => hub.keepAlive(), 15_000);
  keepAlive.unref();

  const health = () => {
    const age = state.lastFrameAgeS(performance.now());
    const connected = state.rigConnected();
    const { notJudging } = engine.stats();
    const ok = connected && age !== null && age <= staleFrameS && notJudging === null;
    const rig = state.rig;
    return {
      ok,
      body: {
        status: ok ? 'ok' : 'degraded',
        // A rig whose info line does not fit the model (src/engine/rigSession.ts): up, but no cycle is judged.
        judging: notJudging === null,
        notJudging,
        station: options.stationId ?? rig?.rig ?? null,
        rig: {
          connected,
          link: state.link,
          id: rig?.rig ?? null,
          fw: rig?.fw ?? null,
          proto: rig?.proto ?? null,
          rateHz: rig?.rateHz ?? null,
          channels: rig?.channels.length ?? null,
        },
        source: source.description,
        model: { id: current.id, classifier: current.classifier.type, classes: current.classes, policy: current.policy !== null },
        lastFrameAgeS: age === null ? null : Number(age.toFixed(3)),
        cycle: book.busy(),
        verdicts: engine.stats().verdicts,
        overBudget: engine.stats().overBudget,
        uptimeS: Math.round((Date.now() - startedAt) / 1000),
      },
    };
  };

  const service: ServiceContext = {
    get model() {
      return current;
    },
    engine,
    state,
    hub,
    metrics,
    sessions,
    token,
    maxFrameHz,
    get pageModelJson() {
      return pageModelJson;
    },
    get openApiJson() {
      return openApiJson;
    },
    health,
    createSample: (req, res) => postSample(req, res, { book, engine, hub, metrics }),
  };

  // ---------------------------------------------------------------------------------------------------
  // HTTP: the route table decides; 403 (loopback Host), 404, 405 and 401 are answered here.

  const accessLog = options.accessLog;
  const server = createServer((req, res) => {
    const target = parseRequestTarget(req.url);
    const url = target.ok ? target.value : new URL('http://localhost/');
    const method = req.method ?? 'GET';
    const t0 = performance.now();
    const logged = (route: string) =>
      accessLog?.(accessRecord(method, target.ok ? url.pathname : null, route, res.statusCode, t0));
    const handle = async (): Promise<string> => {
      if (!target.ok) {
        sendJson(res, 400, { error: target.error });
        return 'unknown';
      }
      if (loopback && !isLoopbackHost(req.headers.host)) {
        sendJson(res, 403, { error: 'this service listens on loopback: the Host header must name a loopback address' });
        return 'unknown';
      }
      const match = matchRoute(ROUTES, method, url.pathname);
      switch (match.kind) {
        case 'none':
          sendJson(res, 404, { error: `no route ${method} ${url.pathname}` });
          return 'unknown';
        case 'method':
          sendJson(res, 405, { error: `${method} is not allowed here` }, { allow: match.allow });
          return match.name;
        case 'bad-path':
          sendJson(res, 400, { error: match.error });
          return match.name;
        case 'route': {
          const { route, params } = match;
          if ((route.access === 'session' || route.access === 'bearer') && accessOf(token, req.headers, sessions, route.access === 'session') === 'denied') {
            sendJson(res, 401, { error: 'authentication required: Authorization: Bearer <token>' }, { 'www-authenticate': 'Bearer realm="enose"' });
            return route.name;
          }
          await route.handle({ req, res, url, params }, service);
          return route.name;
        }
      }
    };
    handle().then(
      (route) => {
        metrics.httpRequest(route, res.statusCode);
        logged(route);
      },
      (error: unknown) => {
        metrics.httpRequest('unknown', 500);
        if (!res.headersSent) sendJson(res, 500, { error: `internal error: ${(error as Error).message.split('\n')[0]}` });
        else res.destroy();
        logged('unknown');
      },
    );
  });

  server.on('clientError', answerClientError);

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
        hub.close();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await engine.close();
        await closed;
      })();
      return closing;
    },
  };
}
