/**
 * A cycle ended early in a recording: the `cycle-end` line of `events.jsonl` (written by the recorder's
 * `cycleEnd`, read back by the replay), and the small seq index that places it after the right frame.
 *
 * `{"afterFrame":N,"type":"cycle-end","atMs":..,"sample":"C-1","reason":"clear","phase":"E","seq":1234}`:
 * the rig took END after frame N (0-based across the recording), the last frame it sent before its ack, whose
 * seq and phase are `seq` and `phase` (null: no frame yet); `sample` is the engine's cycle id (the last one a
 * frame carried: after an exposure-end verdict R frames carry none), `reason` the host's.
 * The replay gives the engine the rig's `END,OK` ack after frame N again, where the live engine got it.
 */
import { z } from 'zod';
import { fail, ok, type Result } from '../errors.js';
import { endIssue, type CycleEnded, type CycleEndResult } from './cycleEnd.js';

export const CYCLE_END_TYPE = 'cycle-end';

/** A cycle end as recorded. */
export interface RecordedCycleEnd {
  readonly afterFrame: number;
  readonly sample: string;
  readonly reason: string;
  readonly phase: 'I' | 'B' | 'E' | 'R' | null;
  readonly seq: number | null;
}

const schema = z.object({
  afterFrame: z.number().int().min(-1),
  type: z.literal(CYCLE_END_TYPE),
  atMs: z.number().nullable(),
  sample: z.string(),
  reason: z.string().min(1),
  phase: z.enum(['I', 'B', 'E', 'R']).nullable(),
  seq: z.number().int().nonnegative().nullable(),
});

/** The events.jsonl line, with its line break. */
export function cycleEndLine(afterFrame: number, ended: CycleEnded, sample: string): string {
  return `${JSON.stringify({ afterFrame, type: CYCLE_END_TYPE, atMs: Number.isFinite(ended.atMs) ? ended.atMs : null, sample, reason: ended.reason, phase: ended.phase, seq: ended.seq })}\n`;
}

/** A parsed events.jsonl value whose type is `cycle-end`, checked; a reason naming the bad field otherwise. */
export function parseCycleEnd(value: unknown): Result<RecordedCycleEnd, string> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return fail(`a cycle-end line with a bad ${first?.path.join('.') || 'shape'}: ${first?.message ?? 'invalid'}`);
  }
  const { afterFrame, sample, reason, phase, seq } = parsed.data;
  return ok({ afterFrame, sample, reason, phase, seq });
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
 * A replay's answer to `endCycle`: the recording's own end of the cycle in play (its reason, phase and seq), or
 * `unsupported` when the recording ran that cycle to its end (a replay plays what was recorded).
 */
export function endFromRecording(ends: readonly RecordedCycleEnd[], cursor: ReplayCursor, atMs: number): CycleEndResult {
  for (const end of ends) {
    if (cursor.sample !== '' && end.sample === cursor.sample && end.afterFrame >= cursor.sampleStart) {
      return ok({ reason: end.reason, phase: end.phase, seq: end.seq, atMs });
    }
  }
  if (cursor.sample === '') return endIssue('refused', 'no cycle in play');
  return endIssue('unsupported', `the recording ran cycle ${cursor.sample} to its end: a replay plays what was recorded`);
}
