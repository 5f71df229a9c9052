/**
 * `enose fleet`'s central service: subscribes to every station (`enose/+/verdict`, `enose/+/status`,
 * `enose/+/health`) over one persistent MQTT session (clean: false, so the broker queues what arrives while the
 * centre is down), writes each distinct verdict and status to its log before the broker gets the PUBACK, then
 * acknowledges each verdict (new or resent) to its station on `enose/<station>/ack` (acks.ts), keeps the state
 * in the reducer, and serves the page, the API, the event stream and /metrics over node:http.
 * Access as `enose serve` (service/auth.ts): with a token, `Authorization: Bearer` for the API and a session
 * cookie from `/login?token=` for the page and what it reads; a loopback listener answers only requests whose
 * Host names a loopback address (DNS rebinding).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect, type MqttClient } from 'mqtt';
import { accessOf, isLoopbackAddress, isLoopbackHost, SessionStore } from '../service/auth.js';
import { accessRecord, type AccessRecord } from '../service/accessRecord.js';
import { answerClientError, parseRequestTarget } from '../service/requestTarget.js';
import { EventHub } from '../service/hub.js';
import { refusedStream, sseMessage } from '../service/sse.js';
import { createAckSender } from './acks.js';
import { clientOptions, type BrokerAddress } from './connection.js';
import { healthMessageSchema, parseStationTopic, statusMessageSchema, verdictMessageSchema } from './message.js';
import { createFleetMetrics } from './metrics.js';
import { FLEET_ROUTES, fleetLoginReply, matchRoute } from './routes.js';
import { applyFleetEvent, createFleetState, isDuplicate, type FleetEvent, type FleetState } from './state.js';
import { openFleetLog } from './store.js';

export interface FleetCentreOptions {
  readonly broker: BrokerAddress;
  /** Folder of the centre's log. */
  readonly dataDir: string;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** Bearer token of the API (and, through /login, the page's session); null or absent: no authentication. */
  readonly token?: string | null;
  /** 0 picks a free port. @default 8090 */
  readonly port?: number;
  /** Verdicts kept in memory per station (all of them are in the log). @default 50 */
  readonly recentPerStation?: number;
  /** The MQTT client id of the centre's persistent session. @default 'enose-fleet-centre' */
  readonly clientId?: string;
  readonly log?: (line: string) => void;
  /** One record per HTTP request (path without the query, no header): `enose fleet --access-log`. */
  readonly accessLog?: (record: AccessRecord) => void;
  /** @default true */
  readonly processMetrics?: boolean;
  /** Open `/v1/events` streams at most; past it 503 with Retry-After (as `enose serve`). @default 100 */
  readonly maxSseClients?: number;
  /** An event stream that is behind and takes nothing for this long is cut. @default 10 */
  readonly sseStallS?: number;
  /** Called for each distinct verdict once it is on disk (benchmarks). */
  readonly onVerdict?: (event: Extract<FleetEvent, { type: 'verdict' }>) => void;
}

export interface FleetCentre {
  readonly url: string;
  readonly state: FleetState;
  /** Log lines read back on start. */
  readonly replayed: number;
  brokerConnected(): boolean;
  /** Resolves once the centre's subscriptions are acknowledged (the first time). */
  readonly subscribed: Promise<void>;
  close(): Promise<void>;
}

export async function startFleetCentre(options: FleetCentreOptions): Promise<FleetCentre> {
  const say = options.log ?? (() => undefined);
  const state = createFleetState({ recentPerStation: options.recentPerStation ?? 50 });
  const { log, replayed, skipped } = openFleetLog(options.dataDir, state);
  if (skipped > 0) say(`warning: ${skipped} unreadable line(s) in ${log.path} skipped`);
  const startedAt = Date.now();
  let client: MqttClient | null = null;
  let isSubscribed = false;
  const brokerConnected = () => (client?.connected ?? false) && isSubscribed;
  // The event streams as `enose serve` keeps them (service/hub.ts): capped, written after the turn that made the
  // event, a slow stream cut; a message from the broker never waits for a client.
  const hub: EventHub = new EventHub({
    maxClients: options.maxSseClients ?? 100,
    stallMs: (options.sseStallS ?? 10) * 1000,
    onCut: (reason) => metrics.sseCut(reason),
  });
  const metrics = createFleetMetrics(state, brokerConnected, options.processMetrics ?? true, () => hub.streamCount);
  const token = options.token ?? null;
  const sessions = new SessionStore();
  const loopback = isLoopbackAddress(options.host ?? '127.0.0.1');

  const broadcast = (type: string, data: string) => hub.broadcast(type, data);

  // mqtt.js queues a publish while the broker is away; an ack lost anyway costs a resend and a duplicate.
  const acks = createAckSender((topic, payload) => {
    if (client && !client.disconnecting) client.publish(topic, payload, { qos: 1 });
  });

  const onMessage = (topic: string, payload: Buffer) => {
    const where = parseStationTopic(topic);
    if (!where) return;
    let json: unknown;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch {
      metrics.invalid(where.kind);
      return;
    }
    const receivedAt = new Date().toISOString();
    const schema = where.kind === 'verdict' ? verdictMessageSchema : where.kind === 'status' ? statusMessageSchema : healthMessageSchema;
    const parsed = schema.safeParse(json);
    // A station may speak only for itself: the payload must name the station of its topic.
    if (!parsed.success || parsed.data.station !== where.station) {
      metrics.invalid(parsed.success ? 'station-mismatch' : where.kind);
      return;
    }
    const event = { type: where.kind, receivedAt, message: parsed.data } as FleetEvent;
    if (event.type === 'verdict') {
      if (isDuplicate(state, event.message)) {
        applyFleetEvent(state, event);
        metrics.duplicate();
        acks.add(event.message.station, event.message.id); // its first copy is on disk: the ack was lost
        return;
      }
      log.append(event);
      acks.add(event.message.station, event.message.id);
      applyFleetEvent(state, event);
      metrics.verdict(event.message.station, event.message.verdict, (Date.parse(receivedAt) - Date.parse(event.message.time)) / 1000);
      options.onVerdict?.(event);
      broadcast('verdict', JSON.stringify({ ...event.message, receivedAt }));
      return;
    }
    if (event.type === 'status') log.append(event);
    applyFleetEvent(state, event);
    broadcast(event.type, JSON.stringify(event.message));
  };

  const accessLog = options.accessLog;
  const server = createServer((req, res) => {
    if (accessLog) {
      const t0 = performance.now();
      res.once('close', () => {
        const target = parseRequestTarget(req.url);
        const method = req.method ?? 'GET';
        const match = target.ok ? matchRoute(FLEET_ROUTES, method, target.value.pathname) : 404;
        accessLog(accessRecord(method, target.ok ? target.value.pathname : null, typeof match === 'number' ? 'unknown' : match.route.path, res.statusCode, t0));
      });
    }
    void handle(req, res);
  });
  server.on('clientError', answerClientError);
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const headers = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; frame-ancestors 'none'" };
    const target = parseRequestTarget(req.url);
    if (!target.ok) {
      res.writeHead(400, { ...headers, 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ error: target.error }));
      return;
    }
    const url = target.value;
    const match = matchRoute(FLEET_ROUTES, req.method ?? 'GET', url.pathname);
    if (loopback && !isLoopbackHost(req.headers.host)) {
      res.writeHead(403, { ...headers, 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ error: 'this centre listens on loopback: the Host header must name a loopback address' }));
      return;
    }
    if (typeof match === 'number') {
      res.writeHead(match, { ...headers, 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ error: match === 404 ? `no route ${req.method} ${url.pathname}` : `method ${req.method} not allowed` }));
      return;
    }
    const access = match.route.access;
    if (access !== 'open' && accessOf(token, req.headers, sessions, access !== 'bearer') === 'denied') {
      if (access === 'page') {
        const login = fleetLoginReply('This fleet centre needs its access token.');
        res.writeHead(login.status, { ...headers, 'content-type': login.type });
        res.end(req.method === 'HEAD' ? undefined : login.body);
      } else {
        res.writeHead(401, { ...headers, 'content-type': 'application/json; charset=utf-8', 'www-authenticate': 'Bearer realm="enose"' });
        res.end(JSON.stringify({ error: 'authentication required: Authorization: Bearer <token>' }));
      }
      return;
    }
    try {
      const reply = await match.route.handler({
        token,
        sessions,
        state,
        metrics,
        params: match.params,
        query: url.searchParams,
        brokerConnected,
        startedAt,
        res,
        openStream: (out) => {
          if (!hub.admit()) {
            metrics.sseRefused();
            const refused = refusedStream(hub.streamCount);
            out.writeHead(refused.status, { ...headers, 'content-type': 'application/json; charset=utf-8', ...refused.headers });
            out.end(refused.body);
            return;
          }
          out.writeHead(200, { ...headers, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' });
          const recent = [...state.stations.values()]
            .flatMap((s) => s.recent.slice(-20).map((r) => ({ ...r.message, receivedAt: r.receivedAt })))
            .sort((a, b) => b.receivedAt.localeCompare(a.receivedAt))
            .slice(0, 100);
          const snapshot = sseMessage('snapshot', JSON.stringify({ type: 'snapshot', stations: state.stations.size, verdicts: recent }));
          hub.addStream(out, 0, { parts: [snapshot], bytes: Buffer.byteLength(snapshot) });
        },
      });
      if (reply === 'stream') return;
      res.writeHead(reply.status, { ...headers, 'content-type': reply.type, ...reply.headers });
      res.end(req.method === 'HEAD' ? undefined : reply.body);
    } catch (error) {
      say(`http: ${(error as Error).message}`);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ error: 'internal error' }));
    }
  };
  const keepAlive = setInterval(() => hub.keepAlive(), 15_000);
  keepAlive.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8090, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  client = connect(options.broker.url, clientOptions(options.broker, options.clientId ?? 'enose-fleet-centre', { clean: false }));
  // The PUBACK goes out when the callback runs: after the verdict is on disk (a crash before it: the broker resends).
  client.handleMessage = (packet, done) => {
    try {
      onMessage(packet.topic, Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload));
    } catch (error) {
      say(`message on ${packet.topic}: ${(error as Error).message}`);
    }
    done();
  };
  let lastError = '';
  let resolveSubscribed!: () => void;
  const subscribed = new Promise<void>((r) => (resolveSubscribed = r));
  client.on('connect', (connack) => {
    lastError = '';
    say(`connected to ${options.broker.url}${connack.sessionPresent ? ' (session resumed)' : ''}`);
    client.subscribe({ 'enose/+/verdict': { qos: 1 }, 'enose/+/status': { qos: 1 }, 'enose/+/health': { qos: 0 } }, (error) => {
      if (error) say(`subscribe: ${error.message}`);
      else {
        isSubscribed = true;
        resolveSubscribed();
      }
    });
  });
  client.on('error', (error) => {
    if (error.message !== lastError) say(`broker: ${error.message}`);
    lastError = error.message;
  });
  client.on('close', () => {
    isSubscribed = false;
    if (lastError === '') say('broker connection lost; reconnecting');
    lastError = lastError || 'closed';
  });

  return {
    url: `http://${host}:${address.port}`,
    state,
    replayed,
    brokerConnected,
    subscribed,
    async close() {
      clearInterval(keepAlive);
      hub.close();
      await new Promise((r) => setImmediate(r)); // the acks gathered in this turn go out before the disconnect
      await client.endAsync();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      log.close();
    },
  };
}

