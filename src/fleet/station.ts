/**
 * A station's link to the fleet: the engine's events in, MQTT out. Each verdict goes to the spool (fsync'd)
 * first, then to `enose/<station>/verdict` at QoS 1; the centre's ack on `enose/<station>/ack` (sent once the
 * centre has it on disk) takes it out of the spool, or with `ackFrom: 'broker'` the broker's PUBACK; what the
 * centre has not acknowledged is sent again after a reconnect and after a timeout (outbox.ts). A retained
 * status (online; offline through the last will or on a clean stop) and a health message every 10 s go beside.
 * With `followModels`, the station follows `enose/models/<its rig>`: a model whose hash, rig and channels check
 * out replaces the engine's at the next cycle start; one that does not is refused and the status says why.
 * With `trustedKeys`, a roll-out must also carry a signature by one of them (src/model/runtime/signature.ts).
 */
import { connect, type MqttClient } from 'mqtt';
import { EnoseError } from '../errors.js';
import { parseModelBytes } from '../io/modelBytes.js';
import { parseBundle, type ModelBundle } from '../model/runtime/bundle.js';
import { verifyModelSignature, type TrustedKey } from '../model/runtime/signature.js';
import type { EngineEvent, LinkState } from '../types.js';
import { clientOptions, type BrokerAddress } from './connection.js';
import { ackMessageSchema, rolloutSchema, STATION_ID, topics, verdictMessage, type HealthMessage, type StatusMessage } from './message.js';
import { Outbox, type AckFrom } from './outbox.js';
import { Spool, type SpoolRecord } from './spool.js';

/** What the station needs of the engine (a subset of Engine, so that a benchmark can stand in for it). */
export interface StationEngine {
  setModel(model: ModelBundle): void;
  modelId(): string;
  stats(): { verdicts: number };
}

export interface StationOptions {
  readonly station: string;
  readonly broker: BrokerAddress;
  /** The spool file (one per station). */
  readonly spoolPath: string;
  readonly engine: StationEngine;
  /** Follow `enose/models/<rig>` (the rig id from the rig's info line). @default false */
  readonly followModels?: boolean;
  /** Accept only roll-outs signed by one of these keys (--trusted-keys); null: any model whose hash checks out. @default null */
  readonly trustedKeys?: readonly TrustedKey[] | null;
  /** Accept a rolled-out model whose policy makes no class suspicious (--allow-no-suspicious-class). @default false */
  readonly allowNoSuspiciousClass?: boolean;
  /** @default 10000 */
  readonly healthIntervalMs?: number;
  /** Verdicts published and not yet acknowledged by the broker at most. @default 64 */
  readonly maxInFlight?: number;
  /** Who takes a verdict out of the spool: the centre's ack (end to end) or the broker's PUBACK. @default 'centre' */
  readonly ackFrom?: AckFrom;
  /** Resend a verdict the centre has not acknowledged after this long (doubling while none comes). @default 10000 */
  readonly ackTimeoutMs?: number;
  /** Warn (once per silence) when the centre has acknowledged nothing for this long. @default 300000 */
  readonly ackWarnAfterMs?: number;
  /** One line of news for the log (connects, refusals); never carries credentials. */
  readonly log?: (line: string) => void;
  /** Wall clock in ms. @default Date.now */
  readonly now?: () => number;
  /** Called with each verdict's message id and seq once it is in the spool (benchmarks count what was produced). */
  readonly onSpooled?: (record: SpoolRecord) => void;
  /** Called when a verdict leaves the spool (the centre's ack; the broker's with ackFrom 'broker'). */
  readonly onAcked?: (seq: number) => void;
}

export interface StationLink {
  /** The engine's event hook. */
  onEvent(event: EngineEvent): void;
  /** Resolves once connected for the first time (tests, benchmarks). */
  readonly connected: Promise<void>;
  readonly spool: Spool;
  stats(): { connected: boolean; inFlight: number; pending: number; awaitingCentre: number; acked: number; resent: number; refused: string | null };
  /** Publishes the offline status, waits a little for acknowledgements, disconnects and closes the spool. */
  close(options?: { waitMs?: number }): Promise<void>;
}

export function startStation(options: StationOptions): StationLink {
  const { station, engine } = options;
  if (!STATION_ID.test(station)) throw new EnoseError('bad-option', `--station must be 1 to 64 letters, digits, dots, dashes or underscores, got "${station}"`);
  const log = options.log ?? (() => undefined);
  const now = options.now ?? Date.now;
  const maxInFlight = options.maxInFlight ?? 64;
  const startedAt = now();
  const spool = Spool.open(options.spoolPath);
  const outbox = new Outbox({ ackFrom: options.ackFrom ?? 'centre', maxInFlight, ...(options.ackTimeoutMs !== undefined && { ackTimeoutMs: options.ackTimeoutMs }) });
  for (const r of spool.pending()) outbox.add(r.seq, r.json);
  const ackWarnAfterMs = options.ackWarnAfterMs ?? 300_000;
  let ackWarned = false;
  let acked = 0;
  let rig: string | null = null;
  let link: LinkState | 'unknown' = 'unknown';
  let lastFrameAt = NaN;
  let reportedModel = engine.modelId();
  let followTopic: string | null = null;
  let pendingModel: string | null = null;
  let refused: NonNullable<StatusMessage['follow']>['refused'] = null;
  let closing = false;
  let lastError = '';

  const status = (state: 'online' | 'offline', reason?: string): StatusMessage => ({
    kind: 'enose-status',
    station,
    state,
    time: new Date(now()).toISOString(),
    modelId: reportedModel,
    rig,
    follow: options.followModels ? { topic: followTopic, refused, ...(pendingModel !== null && { pending: pendingModel }) } : null,
    ...(reason !== undefined && { reason }),
  });
  const will = () => ({ topic: topics.status(station), payload: Buffer.from(JSON.stringify(status('offline', 'connection lost'))), qos: 1 as const, retain: true });

  const client: MqttClient = connect(options.broker.url, clientOptions(options.broker, `enose-station-${station}`, { clean: true, will: will() }));
  let resolveConnected!: () => void;
  const connected = new Promise<void>((r) => (resolveConnected = r));

  const publishStatus = () => {
    // The will is what the broker says when the link is lost: keep it as current as the status.
    client.options.will = will();
    if (client.connected) client.publish(topics.status(station), JSON.stringify(status('online')), { qos: 1, retain: true });
  };

  const leave = (seq: number) => {
    spool.ack(seq);
    acked++;
    ackWarned = false;
    options.onAcked?.(seq);
  };
  const pump = () => {
    if (!client.connected || closing) return;
    for (const { seq, json } of outbox.take()) {
      client.publish(topics.verdict(station), json, { qos: 1 }, (error) => {
        // A failed publish stays queued and in the spool: sent again on the next pump or restart.
        if (outbox.published(seq, !error, performance.now())) leave(seq);
        pump();
      });
    }
  };
  const onAck = (payload: Buffer) => {
    let json: unknown;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch {
      return;
    }
    const ack = ackMessageSchema.safeParse(json);
    if (!ack.success || ack.data.station !== station) return;
    const prefix = `${spool.epoch}-`;
    for (const id of ack.data.ids) if (id.startsWith(prefix) && outbox.centreAck(Number(id.slice(prefix.length)))) leave(Number(id.slice(prefix.length)));
    pump();
  };
  const ackTopic = topics.ack(station);
  // mqtt.js sends it on connect and again after every reconnect (a clean session forgets it).
  if (outbox.ackFrom === 'centre') client.subscribe(ackTopic, { qos: 1 });
  const resendTimer = setInterval(() => {
    if (!client.connected || closing || outbox.ackFrom !== 'centre') return;
    if (outbox.due(performance.now()) > 0) pump();
    const oldest = outbox.oldestAwaitingMs();
    if (!ackWarned && performance.now() - oldest > ackWarnAfterMs) {
      ackWarned = true;
      log(`no acknowledgement from a fleet centre for ${Math.round((performance.now() - oldest) / 1000)} s: ${outbox.size} verdict(s) stay in the spool and are sent again (is enose fleet running? a station without a centre: --ack broker)`);
    }
  }, Math.min(1000, Math.max(50, (options.ackTimeoutMs ?? 10_000) / 4)));
  resendTimer.unref();

  const follow = () => {
    if (!options.followModels || rig === null) return;
    const topic = topics.model(rig);
    if (topic === followTopic) return;
    if (followTopic !== null) client.unsubscribe(followTopic);
    followTopic = topic;
    client.subscribe(topic, { qos: 1 });
    publishStatus();
  };

  const refuse = (modelId: string | null, reason: string) => {
    refused = { modelId, reason, time: new Date(now()).toISOString() };
    log(`model refused${modelId ? ` (${modelId})` : ''}: ${reason}`);
    publishStatus();
  };

  const onRollout = (payload: Buffer) => {
    if (payload.length === 0) return; // a cleared retained message
    // Bounded like a model file: a roll-out bomb is refused, not decompressed (src/io/modelBytes.ts).
    const json = parseModelBytes(payload);
    if (!json.ok) return refuse(null, `not a model roll-out: ${json.error.reason}`);
    const rollout = rolloutSchema.safeParse(json.value);
    if (!rollout.success) return refuse(null, 'not a model roll-out message');
    const modelId = typeof (rollout.data.model as { id?: unknown })?.id === 'string' ? ((rollout.data.model as { id: string }).id) : null;
    if (rollout.data.rig !== rig) return refuse(modelId, `the roll-out is for rig ${rollout.data.rig}, this station's rig is ${rig ?? 'unknown'}`);
    const bundle = parseBundle(rollout.data.model, topics.model(rollout.data.rig), { allowNoSuspiciousClass: options.allowNoSuspiciousClass === true });
    if (!bundle.ok) return refuse(modelId, bundle.error.reason);
    if (options.trustedKeys) {
      const signed = verifyModelSignature(bundle.value, rollout.data.signature, options.trustedKeys);
      if (!signed.ok) return refuse(bundle.value.id, signed.error);
    }
    if (bundle.value.id === engine.modelId() && pendingModel === null) return;
    try {
      engine.setModel(bundle.value);
    } catch (error) {
      return refuse(bundle.value.id, (error as Error).message);
    }
    refused = null;
    pendingModel = bundle.value.id === engine.modelId() ? null : bundle.value.id;
    log(`model ${bundle.value.id} accepted: it judges from the next cycle on`);
    publishStatus();
  };

  client.on('connect', () => {
    lastError = '';
    log(`connected to ${options.broker.url} as station ${station} (${outbox.size} verdict(s) in the spool)`);
    outbox.reconnected();
    publishStatus();
    follow();
    pump();
    resolveConnected();
  });
  client.on('close', () => {
    if (!closing && link !== 'unknown') log('broker connection lost: verdicts wait in the spool');
  });
  client.on('error', (error) => {
    if (error.message !== lastError) log(`broker: ${error.message}`);
    lastError = error.message;
  });
  client.on('message', (topic, payload) => {
    if (topic === ackTopic) onAck(payload);
    else if (topic === followTopic) onRollout(payload);
  });

  const healthTimer = setInterval(() => {
    if (!client.connected) return;
    const health: HealthMessage = {
      kind: 'enose-health',
      station,
      time: new Date(now()).toISOString(),
      uptimeS: Math.round((now() - startedAt) / 1000),
      link,
      verdicts: engine.stats().verdicts,
      spoolPending: outbox.size,
      awaitingCentre: outbox.awaiting,
      lastFrameAgeS: Number.isNaN(lastFrameAt) ? null : Math.round(performance.now() - lastFrameAt) / 1000,
    };
    client.publish(topics.health(station), JSON.stringify(health), { qos: 0 });
  }, options.healthIntervalMs ?? 10_000);
  healthTimer.unref();

  return {
    connected,
    spool,
    onEvent(event) {
      switch (event.type) {
        case 'verdict': {
          const record = spool.append((seq) => verdictMessage(event, { station, epoch: spool.epoch, seq, rig, wallMs: now() }));
          outbox.add(record.seq, record.json);
          options.onSpooled?.(record);
          pump();
          return;
        }
        case 'info':
          if (rig !== event.rig) {
            rig = event.rig;
            publishStatus();
            follow();
          }
          return;
        case 'state':
          link = event.state;
          return;
        case 'frame':
          lastFrameAt = event.atMs;
          return;
        case 'sample-started':
          if (engine.modelId() !== reportedModel) {
            reportedModel = engine.modelId();
            if (pendingModel === reportedModel) pendingModel = null;
            log(`model ${reportedModel} judges from cycle ${event.sample} on`);
            publishStatus();
          }
          return;
        default:
          return;
      }
    },
    stats: () => ({ connected: client.connected, inFlight: outbox.publishing, pending: outbox.size, awaitingCentre: outbox.awaiting, acked, resent: outbox.resent, refused: refused?.reason ?? null }),
    async close({ waitMs = 2000 } = {}) {
      clearInterval(healthTimer);
      clearInterval(resendTimer);
      // A little time for what is in flight (and, end to end, for the centre's acks): the rest stays in the spool.
      const deadline = performance.now() + waitMs;
      while (client.connected && (outbox.ackFrom === 'centre' ? outbox.publishing + outbox.awaiting : outbox.publishing) > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      closing = true;
      if (client.connected) {
        await new Promise<void>((resolve) => {
          client.publish(topics.status(station), JSON.stringify(status('offline', 'stopped')), { qos: 1, retain: true }, () => resolve());
          setTimeout(resolve, 2000).unref();
        });
      }
      // A clean DISCONNECT (so the broker does not send the will over the 'stopped' status); forced when it hangs.
      const ended = client.endAsync(false).then(() => true);
      const timeout = new Promise<boolean>((r) => setTimeout(() => r(false), 2000).unref());
      if (!(await Promise.race([ended, timeout]))) await client.endAsync(true);
      spool.close();
    },
  };
}
