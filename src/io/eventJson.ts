/**
 * Engine events as JSON lines: one flat object a line, the same text in the CLI's `--json` output, the
 * service's streams, `verdicts.jsonl` and `events.jsonl` of a recording.
 *
 * - `Float64Array` fields (a frame's `values`) are written as JSON arrays.
 * - NaN (and +-Infinity, which JSON cannot hold either) is written `null`; `parseEventJson` reads `null`
 *   back as NaN where the field is a number (frame values, `atMs`, latencies, probabilities) and keeps it as
 *   `null` where null is a value of its own (`score`, `class`, `verdict`, `quality.novelty`).
 * - Numbers are written in their shortest round-trip form, so they read back bit for bit; a frame value of
 *   `-0` is written `-0` (other fields follow `JSON.stringify`, which writes `0`).
 */
import { z } from 'zod';
import { fail, ok, type Result } from '../errors.js';
import type { EngineEvent, EngineEventType } from '../types.js';

/** Every engine event type, in the order of `EngineEvent`. */
export const ENGINE_EVENT_TYPES: readonly EngineEventType[] = [
  'info',
  'frame',
  'issue',
  'gap',
  'state',
  'phase',
  'sample-started',
  'verdict',
  'over-budget',
  'adaptation-stopped',
  'rig-mismatch',
  'rig-changed',
  'cycle-end',
];

type FrameEvent = Extract<EngineEvent, { type: 'frame' }>;

/** The number of own keys of a frame event as `types.ts` declares it; more means a field the fast path misses. */
const FRAME_KEYS = 7;

/**
 * One engine event as one line of JSON, without the line break. Frame events (the bulk of any stream) are
 * built by hand without intermediate arrays; other events go through `JSON.stringify`.
 */
export function eventToJson(event: EngineEvent): string {
  if (event.type === 'frame' && Object.keys(event).length === FRAME_KEYS) return frameToJson(event);
  return JSON.stringify(event, typedArraysAsArrays);
}

function frameToJson(event: FrameEvent): string {
  let line = `{"type":"frame","atMs":${jsonNumber(event.atMs)},"seq":${jsonNumber(event.seq)},"tMs":${jsonNumber(event.tMs)},"phase":${JSON.stringify(event.phase)},"sample":${JSON.stringify(event.sample)},"values":[`;
  const values = event.values;
  for (let k = 0; k < values.length; k++) {
    if (k > 0) line += ',';
    line += jsonNumber(values[k]);
  }
  return `${line}]}`;
}

function jsonNumber(x: number): string {
  if (!Number.isFinite(x)) return 'null';
  return x === 0 && 1 / x < 0 ? '-0' : String(x);
}

function typedArraysAsArrays(_key: string, value: unknown): unknown {
  if (value instanceof Float64Array || value instanceof Float32Array) return Array.from(value);
  return value;
}

// ---------------------------------------------------------------------------------------------------------
// Reading back

/** A number that may have been written as `null` because it was NaN. */
const num = z
  .number()
  .nullable()
  .transform((x) => (x === null ? NaN : x));
const uint = z.number().int().nonnegative();
const phase = z.enum(['I', 'B', 'E', 'R']);
const text = z.string();

const schemas = {
  info: z.looseObject({
    type: z.literal('info'),
    atMs: num,
    reboot: z.boolean(),
    proto: text,
    rig: text,
    fw: text,
    rateHz: z.number().positive(),
    unit: z.enum(['ohm', 'adc']),
    channels: z.array(text).min(1),
  }),
  frame: z.looseObject({
    type: z.literal('frame'),
    atMs: num,
    seq: uint,
    tMs: uint,
    phase,
    sample: text,
    values: z.array(num).transform((values) => Float64Array.from(values)),
  }),
  issue: z.looseObject({
    type: z.literal('issue'),
    atMs: num,
    kind: z.enum(['too-long', 'bad-checksum', 'malformed', 'wrong-channel-count', 'repeated-seq', 'no-info']),
    line: text,
    detail: text,
    count: z.number().int().min(2).optional(),
  }),
  gap: z.looseObject({ type: z.literal('gap'), atMs: num, fromSeq: uint, toSeq: uint, lost: uint }),
  state: z.looseObject({
    type: z.literal('state'),
    atMs: num,
    state: z.enum(['connected', 'disconnected', 'reconnecting']),
    detail: text,
  }),
  phase: z.looseObject({ type: z.literal('phase'), atMs: num, sample: text, phase, seq: uint }),
  'sample-started': z.looseObject({ type: z.literal('sample-started'), atMs: num, sample: text, seq: uint, requested: z.boolean() }),
  verdict: z.looseObject({
    type: z.literal('verdict'),
    wallTime: z.iso.datetime().optional(),
    station: text.optional(),
    atMs: num,
    sample: text,
    verdict: z.enum(['suspicious', 'clear', 'inconclusive']).nullable(),
    class: text.nullable(),
    probabilities: z.record(z.string(), num),
    score: z.number().nullable(),
    reasons: z.array(text),
    quality: z.looseObject({
      framesB: uint,
      framesE: uint,
      framesR: uint.optional(),
      lostFrames: uint,
      lostShare: num,
      maxGapS: num,
      cut: z.enum(['disconnect', 'reboot', 'stopped']).nullable(),
      channels: z.array(z.looseObject({ channel: text, gate: z.enum(['saturated', 'dead', 'spiking', 'baseline-unstable']) })),
      novelty: z.number().nullable(),
    }),
    modelId: text,
    latencyMs: num,
    frames: z.looseObject({ first: uint, last: uint, count: uint }),
    label: text.optional(),
    pcaScores: z.array(num).nullable().optional(),
    decidedAtS: num.optional(),
    checkpoint: z.enum(['baseline-end', 'in-exposure', 'exposure-end', 'in-recovery', 'recovery-end', 'cut']).optional(),
    early: z.boolean().optional(),
  }),
  'over-budget': z.looseObject({ type: z.literal('over-budget'), atMs: num, sample: text, latencyMs: num, budgetMs: num }),
  'adaptation-stopped': z.looseObject({
    type: z.literal('adaptation-stopped'),
    atMs: num,
    sample: text,
    addedAlarms: uint,
    watchSamples: uint,
    accepted: uint,
    largestShiftSd: num,
  }),
  'rig-mismatch': z.looseObject({ type: z.literal('rig-mismatch'), atMs: num, basis: z.enum(['identity', 'data']), sample: z.string(), message: text }),
  'rig-changed': z.looseObject({ type: z.literal('rig-changed'), atMs: num, judging: z.boolean(), change: text, reason: text }),
  'cycle-end': z.looseObject({
    type: z.literal('cycle-end'),
    atMs: num,
    sample: text,
    reason: text,
    ended: z.looseObject({ reason: text, phase: phase.nullable(), seq: uint.nullable(), atMs: num }).nullable(),
    issue: z.looseObject({ kind: z.enum(['unsupported', 'refused', 'timeout', 'not-connected']), detail: text }).nullable(),
  }),
} satisfies Record<EngineEventType, z.ZodType>;

/**
 * Reads one line written by `eventToJson` back into an engine event (frame values as a `Float64Array`,
 * `null` numbers as NaN). Fields the line has beyond the event's own are kept. Anything else (not JSON,
 * an unknown `type`, a missing or mistyped field) gives `{ ok: false, error: reason }`; it never throws.
 */
export function parseEventJson(line: string): Result<EngineEvent, string> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return fail('not a JSON line');
  }
  return parseEventValue(value);
}

/** As `parseEventJson`, on a value already parsed from JSON. */
export function parseEventValue(value: unknown): Result<EngineEvent, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('not a JSON object');
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string' || !Object.hasOwn(schemas, type)) {
    return fail(`unknown event type ${JSON.stringify(type)} (expected one of ${ENGINE_EVENT_TYPES.join(', ')})`);
  }
  const parsed = schemas[type as EngineEventType].safeParse(value);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first === undefined || first.path.length === 0 ? '' : ` at ${first.path.join('.')}`;
    return fail(`bad ${type} event${where}: ${first?.message ?? 'invalid'}`);
  }
  return ok(parsed.data as EngineEvent);
}
