/**
 * A cycle ended early in a recording: the `cycle-end` line of `events.jsonl` (written by the recorder's
 * `cycleEnd`, read back by the replay), and the small seq index that places it after the right frame.
 *
 * `{"afterFrame":N,"type":"cycle-end","atMs":..,"sample":"C-1","reason":"clear","phase":"E","seq":1234}`:
 * the rig took END after frame N (0-based across the recording), the last frame it sent before its ack, whose
 * seq and phase are `seq` and `phase` (null: no frame yet); `sample` is the engine's cycle id (the last one a
 * frame carried: after an exposure-end verdict R frames carry none), `reason` the host's.
 * The replay gives the engine the rig's `END,OK` ack after frame N again, where the live engine got it.
 *
 * An END the rig may have taken but whose answer never came (the port closed, or no answer in time) is a
 * `cycle-end-unanswered` line, placed after the last frame recorded when the host gave up:
 * `{"afterFrame":N,"type":"cycle-end-unanswered","atMs":..,"sample":"C-1","reason":"clear","issue":"not-connected","detail":".."}`.
 * The recording then says that the host asked and did not hear back, not that the cycle ran in full; the frames
 * after it show what the rig did. A replay answers `endCycle` in that cycle with the same issue, and injects no ack.
 */
import { z } from 'zod';
import { fail, ok, type Result } from '../errors.js';
import { endIssue, type CycleEnded, type CycleEndIssue, type CycleEndResult } from './cycleEnd.js';

export const CYCLE_END_TYPE = 'cycle-end';
export const CYCLE_END_UNANSWERED_TYPE = 'cycle-end-unanswered';

/** The END failures after which the rig may still have ended the cycle: the ones a recording keeps. */
export const UNANSWERED_END_KINDS: ReadonlySet<CycleEndIssue['kind']> = new Set(['not-connected', 'timeout']);

/** A cycle end as recorded. */
export interface RecordedCycleEnd {
  readonly afterFrame: number;
  readonly sample: string;
  readonly reason: string;
  readonly phase: 'I' | 'B' | 'E' | 'R' | null;
  readonly seq: number | null;
}

/** What both kinds of line carry: where, when, for which cycle and why the host asked. */
const endLine = z.object({ afterFrame: z.number().int().min(-1), atMs: z.number().nullable(), sample: z.string(), reason: z.string().min(1) });

const schema = endLine.extend({
  type: z.literal(CYCLE_END_TYPE),
  phase: z.enum(['I', 'B', 'E', 'R']).nullable(),
  seq: z.number().int().nonnegative().nullable(),
});

/** `a <type> line with a bad <field>: <message>`: the first issue zod found. */
function badLine(type: string, error: z.ZodError): string {
  const first = error.issues[0];
  return `a ${type} line with a bad ${first?.path.join('.') || 'shape'}: ${first?.message ?? 'invalid'}`;
}

/** An END sent whose answer never came, as recorded. */
export interface RecordedUnansweredEnd {
  readonly afterFrame: number;
  readonly sample: string;
  readonly reason: string;
  readonly issue: CycleEndIssue;
}

const unansweredSchema = endLine.extend({
  type: z.literal(CYCLE_END_UNANSWERED_TYPE),
  issue: z.enum(['not-connected', 'timeout']),
  detail: z.string(),
});

/** The events.jsonl line, with its line break. */
export function cycleEndLine(afterFrame: number, ended: CycleEnded, sample: string): string {
  return `${JSON.stringify({ afterFrame, type: CYCLE_END_TYPE, atMs: Number.isFinite(ended.atMs) ? ended.atMs : null, sample, reason: ended.reason, phase: ended.phase, seq: ended.seq })}\n`;
}

/** A parsed events.jsonl value whose type is `cycle-end`, checked; a reason naming the bad field otherwise. */
export function parseCycleEnd(value: unknown): Result<RecordedCycleEnd, string> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) return fail(badLine(CYCLE_END_TYPE, parsed.error));
  const { afterFrame, sample, reason, phase, seq } = parsed.data;
  return ok({ afterFrame, sample, reason, phase, seq });
}

/** The events.jsonl line of an END whose answer never came (an issue of UNANSWERED_END_KINDS), with its line break. */
export function unansweredEndLine(afterFrame: number, sample: string, reason: string, issue: CycleEndIssue, atMs: number): string {
  return `${JSON.stringify({ afterFrame, type: CYCLE_END_UNANSWERED_TYPE, atMs: Number.isFinite(atMs) ? atMs : null, sample, reason, issue: issue.kind, detail: issue.detail })}\n`;
}

/** A parsed events.jsonl value whose type is `cycle-end-unanswered`, checked; a reason naming the bad field otherwise. */
export function parseUnansweredEnd(value: unknown): Result<RecordedUnansweredEnd, string> {
  const parsed = unansweredSchema.safeParse(value);
  if (!parsed.success) return fail(badLine(CYCLE_END_UNANSWERED_TYPE, parsed.error));
  const { afterFrame, sample, reason, issue, detail } = parsed.data;
  return ok({ afterFrame, sample, reason, issue: { kind: issue, detail } });
}

/** Seqs of the last frames written, by frame index: where the frame a cycle end names by seq landed. */
export class RecentSeqs {
  private static readonly SIZE = 4096;
  private readonly seqs = new Float64Array(RecentSeqs.SIZE).fill(-1);

  push(index: number, seq: number): void {
    this.seqs[index % RecentSeqs.SIZE] = seq;
  }

  /** The latest index below `count` whose frame had `seq`; `count - 1` (the last frame) when none of the recent ones had. */
  indexOf(seq: number, count: number): number {
    const from = Math.max(0, count - RecentSeqs.SIZE);
    for (let i = count - 1; i >= from; i--) if (this.seqs[i % RecentSeqs.SIZE] === seq) return i;
    return count - 1;
  }
}

/** Where a replay is: the last frame emitted, the last cycle id a frame carried, and its first frame. */
export interface ReplayCursor {
  index: number;
  sample: string;
  sampleStart: number;
}

/**
 * A replay's answer to `endCycle`: the recording's own end of the cycle in play (its reason, phase and seq), the
 * recorded issue when the live END got no answer, or `unsupported` when the recording ran that cycle to its end
 * (a replay plays what was recorded).
 */
export function endFromRecording(ends: readonly RecordedCycleEnd[], unanswered: readonly RecordedUnansweredEnd[], cursor: ReplayCursor, atMs: number): CycleEndResult {
  const inPlay = (end: { readonly sample: string; readonly afterFrame: number }) => cursor.sample !== '' && end.sample === cursor.sample && end.afterFrame >= cursor.sampleStart;
  for (const end of ends) {
    if (inPlay(end)) return ok({ reason: end.reason, phase: end.phase, seq: end.seq, atMs });
  }
  for (const end of unanswered) {
    if (inPlay(end)) return endIssue(end.issue.kind, `as recorded: ${end.issue.detail}`);
  }
  if (cursor.sample === '') return endIssue('refused', 'no cycle in play');
  return endIssue('unsupported', `the recording ran cycle ${cursor.sample} to its end: a replay plays what was recorded`);
}
