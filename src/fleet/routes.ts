/**
 * The centre's HTTP API as a route table: method, path (with `:id` parameters) and handler, as data. A handler
 * gets the state and the request's parameters and returns a reply; only the event stream writes to the
 * response itself. Read-only: the centre takes its data from MQTT, never from HTTP.
 *
 *   GET /, /page.js, /page.css      the fleet page
 *   GET /v1/stations                every station: state, model, rig, counts, last verdict
 *   GET /v1/stations/:id            one station
 *   GET /v1/stations/:id/verdicts   its last verdicts, newest first (?limit=, at most the kept number)
 *   GET /v1/holds                   containers to hold (suspicious) or re-sample (inconclusive), newest first
 *   GET /v1/events                  server-sent events: verdict, status, health (and snapshot first)
 *   GET /v1/health                  200 while connected to the broker and subscribed, else 503
 *   GET /metrics                    Prometheus text format
 *   GET /login?token=               with a token: a session cookie for the page
 *
 * Access, as `enose serve` (service/auth.ts): `open` for anyone (the page's assets, the login); `page` for the
 * page itself (the sign-in form instead of a 401 body); `session` for what the page reads (the bearer token or
 * the page's session cookie); `bearer` for the rest of the API (the token only). centre.ts applies them.
 */
import type { ServerResponse } from 'node:http';
import { sameSecret, sessionCookie, type SessionStore } from '../service/auth.js';
import { loginPage } from '../service/page/html.js';
import type { FleetMetrics } from './metrics.js';
import { FLEET_CSS, FLEET_PAGE, FLEET_SCRIPT } from './page.js';
import { stationSummary, type FleetState } from './state.js';

export interface Reply {
  readonly status: number;
  readonly body: string;
  readonly type: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface RouteContext {
  readonly state: FleetState;
  readonly metrics: FleetMetrics;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly brokerConnected: () => boolean;
  readonly startedAt: number;
  /** Opens an event stream on the response (the events route only). */
  readonly openStream: (res: ServerResponse) => void;
  readonly res: ServerResponse;
  /** The access token (--token); null: everything is open. */
  readonly token: string | null;
  readonly sessions: SessionStore;
}

export type RouteAccess = 'open' | 'page' | 'session' | 'bearer';

export interface Route {
  readonly method: 'GET';
  readonly path: string;
  readonly access: RouteAccess;
  readonly handler: (ctx: RouteContext) => Reply | Promise<Reply> | 'stream';
}

const JSON_TYPE = 'application/json; charset=utf-8';
const json = (status: number, body: unknown): Reply => ({ status, body: JSON.stringify(body), type: JSON_TYPE });
const HTML_TYPE = 'text/html; charset=utf-8';

/** The sign-in form (401): the page without a session, or a wrong token at /login. */
export const fleetLoginReply = (message: string): Reply => ({ status: 401, body: loginPage(message, 'e-nose fleet'), type: HTML_TYPE });

export const FLEET_ROUTES: readonly Route[] = [
  { method: 'GET', path: '/', access: 'page', handler: () => ({ status: 200, body: FLEET_PAGE, type: HTML_TYPE }) },
  {
    method: 'GET',
    path: '/login',
    access: 'open',
    handler: ({ token, sessions, query }) => {
      if (token === null) return { status: 303, body: '', type: HTML_TYPE, headers: { location: '/' } };
      const given = query.get('token');
      if (given !== null && sameSecret(given, token)) return { status: 303, body: '', type: HTML_TYPE, headers: { location: '/', 'set-cookie': sessionCookie(sessions.create()) } };
      return fleetLoginReply(given === null ? 'This fleet centre needs its access token.' : 'That token is not right.');
    },
  },
  { method: 'GET', path: '/page.js', access: 'open', handler: () => ({ status: 200, body: FLEET_SCRIPT, type: 'text/javascript; charset=utf-8' }) },
  { method: 'GET', path: '/page.css', access: 'open', handler: () => ({ status: 200, body: FLEET_CSS, type: 'text/css; charset=utf-8' }) },
  {
    method: 'GET',
    path: '/v1/stations',
    access: 'session',
    handler: ({ state }) => json(200, { stations: [...state.stations.values()].sort((a, b) => a.id.localeCompare(b.id)).map(stationSummary) }),
  },
  {
    method: 'GET',
    path: '/v1/stations/:id',
    access: 'bearer',
    handler: ({ state, params }) => {
      const s = state.stations.get(params['id']);
      return s ? json(200, stationSummary(s)) : json(404, { error: `no station ${params['id']}` });
    },
  },
  {
    method: 'GET',
    path: '/v1/stations/:id/verdicts',
    access: 'bearer',
    handler: ({ state, params, query }) => {
      const s = state.stations.get(params['id']);
      if (!s) return json(404, { error: `no station ${params['id']}` });
      const limit = Number(query.get('limit') ?? state.recentPerStation);
      if (!Number.isInteger(limit) || limit < 1) return json(400, { error: 'limit must be a positive integer' });
      const verdicts = s.recent
        .slice(-limit)
        .reverse()
        .map((r) => ({ ...r.message, receivedAt: r.receivedAt }));
      return json(200, { station: s.id, total: s.verdicts, kept: state.recentPerStation, verdicts });
    },
  },
  {
    method: 'GET',
    path: '/v1/holds',
    access: 'session',
    handler: ({ state }) => json(200, { holds: [...state.holds].reverse() }),
  },
  { method: 'GET', path: '/v1/events', access: 'session', handler: ({ openStream, res }) => (openStream(res), 'stream') },
  {
    method: 'GET',
    path: '/v1/health',
    access: 'session',
    handler: ({ brokerConnected, state, startedAt }) => {
      const up = brokerConnected();
      return json(up ? 200 : 503, { status: up ? 'ok' : 'broker-disconnected', broker: up, stations: state.stations.size, verdicts: state.received, duplicates: state.duplicates, uptimeS: Math.round((Date.now() - startedAt) / 1000) });
    },
  },
  { method: 'GET', path: '/metrics', access: 'bearer', handler: async ({ metrics }) => ({ status: 200, body: await metrics.render(), type: metrics.contentType }) },
];

/** The route for a method and path with its parameters; 405 when the path exists for another method only. */
export function matchRoute(routes: readonly Route[], method: string, pathname: string): { route: Route; params: Record<string, string> } | 404 | 405 {
  const parts = pathname.split('/');
  let pathMatched = false;
  for (const route of routes) {
    const pattern = route.path.split('/');
    if (pattern.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < pattern.length && ok; i++) {
      const p = pattern[i];
      if (p.startsWith(':')) {
        try {
          params[p.slice(1)] = decodeURIComponent(parts[i]);
        } catch {
          ok = false;
        }
        if (parts[i] === '') ok = false;
      } else if (p !== parts[i]) ok = false;
    }
    if (!ok) continue;
    pathMatched = true;
    if (route.method === method || (method === 'HEAD' && route.method === 'GET')) return { route, params };
  }
  return pathMatched ? 405 : 404;
}

