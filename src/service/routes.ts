/**
 * The service's HTTP routes as data: method, path (`{name}` for a path parameter), who may call it, what it
 * answers (for the OpenAPI document, src/service/openapi.ts), and a small handler. The server (server.ts)
 * matches a request against this table, answers 404 or 405 (with Allow) itself, checks the access rule, and
 * hands the request to the handler with the service it runs.
 *
 * Access: `open` for anyone (the page's assets, the login, the OpenAPI document); `page` for the page itself
 * (its handler shows the login form instead of a 401 body); `session` for what the page reads (the bearer
 * token or the page's session cookie); `bearer` for the API proper (the token only).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Engine } from '../engine/engine.js';
import type { ModelBundle } from '../model/runtime/bundle.js';
import { accessOf, sameSecret, sessionCookie, type SessionStore } from './auth.js';
import type { EventHub } from './hub.js';
import type { ServiceMetrics } from './metrics.js';
import { loginPage, PAGE_CSS, PAGE_HTML } from './page/html.js';
import { PAGE_SCRIPT } from './page/script.js';
import { sampleJson } from './samples.js';
import { parseFrameRate, refusedStream } from './sse.js';
import type { ServiceState } from './state.js';

export type RouteAccess = 'open' | 'page' | 'session' | 'bearer';

/** What a route's handler can use of the running service. */
export interface ServiceContext {
  readonly model: ModelBundle;
  readonly engine: Engine;
  readonly state: ServiceState;
  readonly hub: EventHub;
  readonly metrics: ServiceMetrics;
  readonly sessions: SessionStore;
  readonly token: string | null;
  readonly maxFrameHz: number;
  readonly pageModelJson: string;
  /** The OpenAPI document, as served. */
  readonly openApiJson: string;
  health(): { readonly ok: boolean; readonly body: unknown };
  /** POST /v1/samples: validates, books and starts a cycle (samplesPost.ts). */
  createSample(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

export interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  readonly params: Readonly<Record<string, string>>;
}

export interface RouteDoc {
  readonly summary: string;
  /** Status code -> what it means. */
  readonly responses: Readonly<Record<string, string>>;
  readonly query?: readonly { readonly name: string; readonly description: string }[];
  /** A JSON request body, described by an example. */
  readonly body?: { readonly example: unknown; readonly description: string };
  /** Content type of the 200 answer. @default application/json */
  readonly produces?: string;
}

export interface Route {
  /** `*` answers every method (a favicon). */
  readonly method: 'GET' | 'POST' | '*';
  readonly path: string;
  /** The metrics label of the route. */
  readonly name: string;
  readonly access: RouteAccess;
  readonly doc: RouteDoc;
  handle(request: RequestContext, service: ServiceContext): void | Promise<void>;
}

const MAX_WAIT_S = 60;

export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

export function send(res: ServerResponse, code: number, body: string, type: string, headers: Record<string, string> = {}): void {
  res.writeHead(code, { 'content-type': type, 'content-length': String(Buffer.byteLength(body)), 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...headers });
  res.end(body);
}

export function sendJson(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
  send(res, code, JSON.stringify(body), 'application/json; charset=utf-8', headers);
}

const UNAUTHORIZED = { '401': 'authentication required (Authorization: Bearer <token>, or the page session where the page reads)' };

export const ROUTES: readonly Route[] = [
  {
    method: 'GET',
    path: '/',
    name: 'page',
    access: 'page',
    doc: { summary: 'The operator page', responses: { '200': 'the page (HTML)', '401': 'the sign-in form (with --token, no session yet)' }, produces: 'text/html' },
    handle({ req, res }, s) {
      if (accessOf(s.token, req.headers, s.sessions, true) === 'denied') send(res, 401, loginPage('This scanner needs its access token.'), 'text/html; charset=utf-8', PAGE_HEADERS);
      else send(res, 200, PAGE_HTML, 'text/html; charset=utf-8', PAGE_HEADERS);
    },
  },
  {
    method: 'GET',
    path: '/page.js',
    name: 'asset',
    access: 'open',
    doc: { summary: "The operator page's script", responses: { '200': 'JavaScript' }, produces: 'text/javascript' },
    handle: ({ res }) => send(res, 200, PAGE_SCRIPT, 'text/javascript; charset=utf-8'),
  },
  {
    method: 'GET',
    path: '/page.css',
    name: 'asset',
    access: 'open',
    doc: { summary: "The operator page's style sheet", responses: { '200': 'CSS' }, produces: 'text/css' },
    handle: ({ res }) => send(res, 200, PAGE_CSS, 'text/css; charset=utf-8'),
  },
  {
    method: '*',
    path: '/favicon.ico',
    name: 'asset',
    access: 'open',
    doc: { summary: 'No icon', responses: { '204': 'nothing' } },
    handle: ({ res }) => void res.writeHead(204).end(),
  },
  {
    method: 'GET',
    path: '/login',
    name: 'login',
    access: 'open',
    doc: {
      summary: 'Signs the page in: a session cookie for the token',
      query: [{ name: 'token', description: 'the access token (--token)' }],
      responses: { '303': 'to the page (with the session cookie when the token is right; at once without --token)', '401': 'the sign-in form (no token, or a wrong one)' },
      produces: 'text/html',
    },
    handle({ res, url }, s) {
      if (s.token === null) {
        res.writeHead(303, { location: '/' }).end();
        return;
      }
      const given = url.searchParams.get('token');
      if (given !== null && sameSecret(given, s.token)) {
        res.writeHead(303, { location: '/', 'set-cookie': sessionCookie(s.sessions.create()), 'cache-control': 'no-store' }).end();
      } else {
        send(res, 401, loginPage(given === null ? 'This scanner needs its access token.' : 'That token is not right.'), 'text/html; charset=utf-8', PAGE_HEADERS);
      }
    },
  },
  {
    method: 'GET',
    path: '/metrics',
    name: 'metrics',
    access: 'bearer',
    doc: { summary: 'Prometheus metrics (text format 0.0.4)', responses: { '200': 'the metrics', ...UNAUTHORIZED }, produces: 'text/plain' },
    async handle({ res }, s) {
      send(res, 200, await s.metrics.render(), s.metrics.contentType);
    },
  },
  {
    method: 'GET',
    path: '/v1/health',
    name: 'health',
    access: 'session',
    doc: { summary: 'Rig, model and frame freshness', responses: { '200': 'the rig is connected and frames are fresh', '503': 'the rig is down or silent, or its cycles are not judged (notJudging says why)', ...UNAUTHORIZED } },
    handle({ res }, s) {
      const h = s.health();
      sendJson(res, h.ok ? 200 : 503, h.body);
    },
  },
  {
    method: 'GET',
    path: '/v1/model',
    name: 'model',
    access: 'session',
    doc: { summary: 'The model as the page draws it: classes, policy, PCA cloud, when the verdict comes', responses: { '200': 'the page model', ...UNAUTHORIZED } },
    handle: ({ res }, s) => send(res, 200, s.pageModelJson, 'application/json; charset=utf-8'),
  },
  {
    method: 'GET',
    path: '/v1/openapi.json',
    name: 'openapi',
    access: 'open',
    doc: { summary: 'This document (OpenAPI 3)', responses: { '200': 'the document' } },
    handle: ({ res }, s) => send(res, 200, s.openApiJson, 'application/json; charset=utf-8'),
  },
  {
    method: 'GET',
    path: '/v1/events',
    name: 'events',
    access: 'session',
    doc: {
      summary: 'Engine events as server-sent events (snapshot first; frames thinned)',
      query: [{ name: 'frames', description: 'all, none, or a rate in Hz (0 < rate <= 1000); default 25' }],
      responses: { '200': 'an event stream', '400': 'a bad frames value', '503': 'as many streams are open as --max-sse-clients allows (Retry-After)', ...UNAUTHORIZED },
      produces: 'text/event-stream',
    },
    handle({ res, url }, s) {
      const hz = parseFrameRate(url.searchParams.get('frames'), s.maxFrameHz);
      if (hz === null) {
        sendJson(res, 400, { error: 'frames must be all, none or a rate in Hz (0 < rate <= 1000)' });
        return;
      }
      if (!s.hub.admit()) {
        s.metrics.sseRefused();
        const refused = refusedStream(s.hub.streamCount);
        send(res, refused.status, refused.body, 'application/json; charset=utf-8', refused.headers);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      // The snapshot as it is now, in shared pieces (its head made once per change, its frames shared Buffers);
      // the hub writes it with the head of the answer in a coming turn, a few snapshots a turn, then the events.
      const snap = s.state.snapshotParts(s.model.id);
      s.hub.addStream(res, hz, { parts: [`retry: 2000\n\n${snap.head}`, ...snap.frames, snap.end], bytes: snap.bytes });
    },
  },
  {
    method: 'GET',
    path: '/v1/samples',
    name: 'samples',
    access: 'bearer',
    doc: { summary: 'The newest samples', query: [{ name: 'limit', description: '1 to 1000; default 20' }], responses: { '200': 'the samples, newest first', ...UNAUTHORIZED } },
    handle({ res, url }, s) {
      const limit = Math.min(1000, Math.max(1, Number(url.searchParams.get('limit') ?? 20) || 20));
      sendJson(res, 200, { samples: s.state.book.recent(limit).map(sampleJson) });
    },
  },
  {
    method: 'POST',
    path: '/v1/samples',
    name: 'samples',
    access: 'bearer',
    doc: {
      summary: 'Starts a sampling cycle for a container',
      body: { example: { containerId: 'MSCU1234567' }, description: 'containerId: 1 to 40 letters, digits, dots, dashes or underscores' },
      responses: {
        '202': 'the sample, pending or running (Location: its URL)',
        '400': 'a bad body (the reason)',
        '409': 'the rig is busy with a cycle (Retry-After)',
        '413': 'a body over 16 KiB',
        '415': 'not Content-Type: application/json',
        '503': 'the START could not be sent',
        ...UNAUTHORIZED,
      },
    },
    handle: ({ req, res }, s) => s.createSample(req, res),
  },
  {
    method: 'GET',
    path: '/v1/samples/{id}',
    name: 'sample',
    access: 'bearer',
    doc: {
      summary: 'One sample, with its verdict when done',
      query: [{ name: 'waitS', description: 'wait up to this many seconds (0 to 60) for the sample to finish' }],
      responses: { '200': 'done or failed', '202': 'pending or running (Retry-After)', '400': 'a bad id or waitS', '404': 'no such sample', ...UNAUTHORIZED },
    },
    async handle({ res, url, params }, s) {
      const id = params['id'];
      let record = s.state.book.get(id);
      if (!record) {
        sendJson(res, 404, { error: `no sample ${JSON.stringify(id)}` });
        return;
      }
      const waitRaw = url.searchParams.get('waitS');
      if (waitRaw !== null) {
        const waitS = Number(waitRaw);
        if (!(waitS >= 0 && waitS <= MAX_WAIT_S)) {
          sendJson(res, 400, { error: `waitS must be a number of seconds from 0 to ${MAX_WAIT_S}` });
          return;
        }
        if (record.state === 'pending' || record.state === 'running') await s.hub.waitFor(id, waitS * 1000, res);
        record = s.state.book.get(id) ?? record;
      }
      const finished = record.state === 'done' || record.state === 'failed';
      sendJson(res, finished ? 200 : 202, sampleJson(record), finished ? {} : { 'retry-after': '1' });
    },
  },
];

export type RouteMatch =
  | { readonly kind: 'route'; readonly route: Route; readonly params: Record<string, string> }
  | { readonly kind: 'method'; readonly name: string; readonly allow: string }
  | { readonly kind: 'bad-path'; readonly name: string; readonly error: string }
  | { readonly kind: 'none' };

/** The route for a method and path: a match, a path known under other methods (405), or none (404). */
export function matchRoute(routes: readonly Route[], method: string, path: string): RouteMatch {
  const onPath: Route[] = [];
  let params: Record<string, string> = {};
  for (const route of routes) {
    const got = matchPath(route.path, path);
    if (got === null) continue;
    if (got === 'bad') return { kind: 'bad-path', name: route.name, error: 'the sample id is not valid URL encoding' };
    onPath.push(route);
    if (route.method === '*' || route.method === method) {
      params = got;
      return { kind: 'route', route, params };
    }
  }
  if (onPath.length === 0) return { kind: 'none' };
  return { kind: 'method', name: onPath[0].name, allow: onPath.map((r) => r.method).join(', ') };
}

function matchPath(pattern: string, path: string): Record<string, string> | null | 'bad' {
  const want = pattern.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i];
    if (w.startsWith('{') && w.endsWith('}')) {
      if (got[i] === '') return null;
      try {
        params[w.slice(1, -1)] = decodeURIComponent(got[i]);
      } catch {
        return 'bad';
      }
    } else if (w !== got[i]) return null;
  }
  return params;
}
