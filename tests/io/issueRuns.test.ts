/** Runs of identical link issues reported once with a count; everything else passes in order, unchanged. */
import { describe, expect, it } from 'vitest';
import { parseEventJson, eventToJson } from '../../src/io/eventJson.js';
import { InfoRequests } from '../../src/io/infoRequests.js';
import { IssueRuns } from '../../src/io/issueRuns.js';
import type { EngineEvent, SourceEvent } from '../../src/types.js';

const issue = (atMs: number, kind: 'no-info' | 'bad-checksum', detail = 'd', line = `$L${atMs}`): SourceEvent => ({ type: 'issue', atMs, kind, line, detail });
const frame = (seq: number): SourceEvent => ({ type: 'frame', atMs: seq, seq, tMs: seq * 100, phase: 'I', values: new Float64Array(1) });

describe('IssueRuns', () => {
  it('merges a run of identical issues into its first, with the count, emitted before the next other event', () => {
    const out: SourceEvent[] = [];
    const runs = new IssueRuns((e) => out.push(e));
    for (let i = 0; i < 573; i++) runs.push(issue(i, 'no-info'));
    expect(out).toEqual([]);
    runs.push(frame(1));
    expect(out).toEqual([{ ...issue(0, 'no-info'), count: 573 }, frame(1)]);
  });

  it('another kind or detail ends a run; a single issue has no count; order is kept', () => {
    const out: SourceEvent[] = [];
    const runs = new IssueRuns((e) => out.push(e));
    runs.push(issue(1, 'bad-checksum'));
    runs.push(issue(2, 'bad-checksum'));
    runs.push(issue(3, 'bad-checksum', 'other'));
    runs.push(issue(4, 'no-info'));
    runs.push(frame(5));
    runs.push(issue(6, 'no-info'));
    runs.flush();
    expect(out).toEqual([{ ...issue(1, 'bad-checksum'), count: 2 }, issue(3, 'bad-checksum', 'other'), issue(4, 'no-info'), frame(5), issue(6, 'no-info')]);
  });

  it('a run waits at most maxHoldMs: flushDue emits it once it is that old', () => {
    const out: SourceEvent[] = [];
    const runs = new IssueRuns((e) => out.push(e), 1000);
    runs.push(issue(100, 'no-info'));
    runs.push(issue(200, 'no-info'));
    runs.flushDue(1099);
    expect(out).toEqual([]);
    runs.flushDue(1100);
    expect(out).toEqual([{ ...issue(100, 'no-info'), count: 2 }]);
    runs.push(issue(1200, 'no-info'));
    runs.flush();
    expect(out).toHaveLength(2);
  });

  it('the count survives the JSON line format; a count below 2 is refused', () => {
    const e: EngineEvent = { type: 'issue', atMs: 5, kind: 'no-info', line: '$L5', detail: 'd', count: 12 };
    const back = parseEventJson(eventToJson(e));
    expect(back).toEqual({ ok: true, value: e });
    expect(parseEventJson(eventToJson({ ...e, count: 1 })).ok).toBe(false);
  });
});

describe('InfoRequests', () => {
  it('passes on the connection\'s first info line and one after a reboot; a repeat answering a second INFO is dropped, with the codec re-armed for it', () => {
    const r = new InfoRequests();
    r.sent(); // at open
    r.sent(); // the codec asked too: frames came first
    expect(r.onInfo()).toEqual({ deliver: true, rearm: true });
    expect(r.onInfo()).toEqual({ deliver: false, rearm: false });
    r.rebooted();
    expect(r.onInfo()).toEqual({ deliver: true, rearm: false });
    r.reset();
    expect(r.onInfo()).toEqual({ deliver: true, rearm: false });
  });
});
