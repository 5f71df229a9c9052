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
  const rig = { proto: 'ENL/1', rig: 'R1', fw: '1', rateHz: 10, unit: 'ohm' as const, channels: ['a', 'b'] };
  it('passes the first info line on; a repeat answering a second INFO is dropped, with the codec re-armed for it', () => {
    const r = new InfoRequests();
    r.sent(0); // at open
    r.sent(50); // the codec asked too: frames came first
    expect(r.onInfo(rig, 100)).toEqual({ deliver: true, reboot: false, rearm: true });
    expect(r.onInfo(rig, 150)).toEqual({ deliver: false, reboot: false, rearm: false });
  });

  it('a reboot the codec reports before the same line, while a request is open, is that answer (a late one): both dropped', () => {
    const r = new InfoRequests(10_000);
    r.sent(0);
    r.sent(50);
    r.onInfo(rig, 100);
    expect(r.onReboot(3000)).toBe(false);
    expect(r.onInfo(rig, 3000)).toEqual({ deliver: false, reboot: false, rearm: false });
  });

  it('a real reboot passes: with no request open, or with an info line that changed', () => {
    const r = new InfoRequests(10_000);
    r.sent(0);
    r.onInfo(rig, 10);
    expect(r.onReboot(20)).toBe(true);
    expect(r.onInfo(rig, 20)).toEqual({ deliver: true, reboot: false, rearm: false });
    r.sent(30);
    expect(r.onReboot(40)).toBe(false);
    expect(r.onInfo({ ...rig, fw: '2' }, 40)).toEqual({ deliver: true, reboot: true, rearm: false });
    // A request older than openMs is no longer waited for: the reboot passes.
    r.sent(100);
    expect(r.onReboot(20_000)).toBe(true);
    r.reset();
    expect(r.onInfo(rig, 0).deliver).toBe(true);
  });
});
