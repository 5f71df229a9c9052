/**
 * The fleet's MQTT vocabulary: topics and the JSON messages a station publishes (verdict, status, health) and
 * the centre publishes (a model roll-out), each with a zod schema so that what arrives is checked as data.
 *
 *   enose/<station>/verdict   QoS 1, one message per verdict (the spool's record, resent until PUBACK)
 *   enose/<station>/status    QoS 1, retained: online / offline (the last will), the model, the rig
 *   enose/<station>/health    QoS 0, every 10 s
 *   enose/<station>/ack       QoS 1, from the centre: the verdict ids it has on disk (the station drops them then)
 *   enose/models/<rig>        QoS 1, retained: the model the stations on that rig should run
 */
import { z } from 'zod';
import { STATION_ID, type VerdictEvent } from '../types.js';

/** A station or rig id may stand in one topic level (no `/`, `+`, `#`): the engine's own rule, `STATION_ID`. */
export { STATION_ID };

export const topics = {
  verdict: (station: string) => `enose/${station}/verdict`,
  status: (station: string) => `enose/${station}/status`,
  health: (station: string) => `enose/${station}/health`,
  ack: (station: string) => `enose/${station}/ack`,
  model: (rig: string) => `enose/models/${rig}`,
} as const;

/** `enose/<station>/<kind>` -> its parts, or null for any other topic (the models' topics included). */
export function parseStationTopic(topic: string): { station: string; kind: 'verdict' | 'status' | 'health' } | null {
  const m = /^enose\/([^/]+)\/(verdict|status|health)$/.exec(topic);
  if (!m || m[1] === 'models' || !STATION_ID.test(m[1])) return null;
  return { station: m[1], kind: m[2] as 'verdict' | 'status' | 'health' };
}

/**
 * Bounds on every string, list and map a station sends: the centre keeps what it receives, so a station (or
 * anyone holding its credentials) must not be able to fill its memory or log with one message. Each is well past
 * what an engine produces: class names, labels and channel names are at most 128 characters (training's and
 * the rig's own bounds), a verdict has a handful of reasons.
 */
const NAME = z.string().max(128);
const TEXT = z.string().max(512);
const TIME = z.string().max(40);
const MODEL_ID = z.string().max(64);
const probabilitiesSchema = z.record(NAME, z.number()).refine((p) => Object.keys(p).length <= 1000, 'at most 1,000 classes');

const qualitySchema = z.looseObject({
  framesB: z.number(),
  framesE: z.number(),
  lostFrames: z.number(),
  lostShare: z.number(),
  maxGapS: z.number(),
  cut: z.enum(['disconnect', 'reboot', 'stopped']).nullable(),
  channels: z.array(z.object({ channel: NAME, gate: NAME })).max(256),
  novelty: z.number().nullable(),
});

/** The verdict message. `id` is `<spool epoch>-<seq>`: unique per station spool, the centre's dedup key. */
export const verdictMessageSchema = z.object({
  kind: z.literal('enose-verdict'),
  v: z.literal(1),
  id: z.string().regex(/^[0-9a-f]{16}-\d+$/),
  /** The station's spool: a new epoch starts when a spool file is created (a new or wiped station). */
  epoch: z.string().regex(/^[0-9a-f]{16}$/),
  /** 1, 2, 3 ... within the epoch: the order the station produced its verdicts in. */
  seq: z.number().int().positive(),
  station: z.string().regex(STATION_ID),
  /** The cycle's sample id, and the container id when the sample was requested for one (enose serve). */
  sample: z.string().min(1).max(64),
  containerId: NAME.nullable(),
  /** Wall-clock time of the verdict, ISO 8601 with milliseconds (the engine's atMs is monotonic). */
  time: TIME.datetime(),
  rig: NAME.nullable(),
  modelId: MODEL_ID,
  verdict: z.enum(['suspicious', 'clear', 'inconclusive']).nullable(),
  class: NAME.nullable(),
  probabilities: probabilitiesSchema,
  score: z.number().nullable(),
  reasons: z.array(NAME).max(64),
  quality: qualitySchema,
  latencyMs: z.number(),
});
export type VerdictMessage = z.infer<typeof verdictMessageSchema>;

export const statusMessageSchema = z.object({
  kind: z.literal('enose-status'),
  station: z.string().regex(STATION_ID),
  state: z.enum(['online', 'offline']),
  time: TIME,
  modelId: MODEL_ID.nullable(),
  rig: NAME.nullable(),
  /** With --follow-models: the topic followed, and the last roll-out refused with why (null when none). */
  follow: z
    .object({ topic: NAME.nullable(), pending: NAME.optional(), refused: z.object({ modelId: MODEL_ID.nullable(), reason: TEXT, time: TIME }).nullable() })
    .nullable(),
  /** Why the station is offline ("connection lost" from the last will, "stopped" on a clean exit). */
  reason: TEXT.optional(),
});
export type StatusMessage = z.infer<typeof statusMessageSchema>;

export const healthMessageSchema = z.object({
  kind: z.literal('enose-health'),
  station: z.string().regex(STATION_ID),
  time: TIME,
  uptimeS: z.number(),
  link: TEXT,
  verdicts: z.number(),
  /** Verdicts in the spool: not yet acknowledged by the centre (by the broker with --ack broker). */
  spoolPending: z.number(),
  /** Of those, the ones the broker has and the centre has not acknowledged yet (absent from older stations). */
  awaitingCentre: z.number().optional(),
  lastFrameAgeS: z.number().nullable(),
});
export type HealthMessage = z.infer<typeof healthMessageSchema>;

/**
 * The centre's end-to-end acknowledgement on `enose/<station>/ack`: the ids of verdicts it has written to its log
 * (fdatasync'd), new ones and resent ones alike. Until it comes, a station keeps the verdict in its spool.
 */
export const ackMessageSchema = z.object({
  kind: z.literal('enose-ack'),
  station: z.string().regex(STATION_ID),
  time: TIME,
  ids: z.array(z.string().regex(/^[0-9a-f]{16}-\d+$/)).max(10_000),
});
export type AckMessage = z.infer<typeof ackMessageSchema>;

/** What `enose fleet publish-model` publishes (gzip-compressed JSON): the rig it is for, the model bundle and its signature. */
export const rolloutSchema = z.object({
  kind: z.literal('enose-model-rollout'),
  rig: z.string().regex(STATION_ID),
  publishedAt: TIME,
  model: z.unknown(),
  /** The model's signature (src/model/runtime/signature.ts), when it has one: stations with --trusted-keys require it. */
  signature: z.unknown().optional(),
});
export type Rollout = z.infer<typeof rolloutSchema>;

/** `MSCU1234567-20261126T160405Z[.2]` (an id the scanner service books) -> `MSCU1234567`; null for other ids. */
export function containerIdOf(sample: string): string | null {
  const m = /^([A-Za-z0-9][A-Za-z0-9._-]{0,39})-\d{8}T\d{6}Z(\.\d+)*$/.exec(sample);
  return m ? m[1] : null;
}

export interface VerdictContext {
  readonly station: string;
  readonly epoch: string;
  readonly seq: number;
  readonly rig: string | null;
  /** Wall-clock ms of the verdict. */
  readonly wallMs: number;
}

/** The verdict message of an engine verdict event. */
export function verdictMessage(event: VerdictEvent, ctx: VerdictContext): VerdictMessage {
  return {
    kind: 'enose-verdict',
    v: 1,
    id: `${ctx.epoch}-${ctx.seq}`,
    epoch: ctx.epoch,
    seq: ctx.seq,
    station: ctx.station,
    sample: event.sample,
    containerId: containerIdOf(event.sample),
    time: new Date(ctx.wallMs).toISOString(),
    rig: ctx.rig,
    modelId: event.modelId,
    verdict: event.verdict,
    class: event.class,
    probabilities: { ...event.probabilities },
    score: event.score,
    reasons: [...event.reasons],
    quality: { ...event.quality, channels: event.quality.channels.map((c) => ({ ...c })) },
    latencyMs: event.latencyMs,
  };
}

/** What the operator should do about a verdict: hold a suspicious container, re-sample an inconclusive one. */
export function actionOf(verdict: VerdictMessage['verdict']): 'hold' | 'resample' | null {
  return verdict === 'suspicious' ? 'hold' : verdict === 'inconclusive' ? 'resample' : null;
}
