import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ENGINE_EVENT_TYPES, eventToJson, parseEventJson } from '../../src/io/eventJson.js';
import type { EngineEvent } from '../../src/types.js';
import { engineStream, sameBits } from '../helpers/engineEvents.js';

describe('eventToJson / parseEventJson', () => {
  it('writes one flat line per event and reads every event type of a stream back equal, frame values bit for bit', () => {
    const events = engineStream({ seed: 21, cycles: 4, rebootAfterCycle: 1 });
    const extra: EngineEvent[] = [
      { type: 'over-budget', atMs: 12.5, sample: 'c1', latencyMs: 7.25, budgetMs: 5 },
      { type: 'adaptation-stopped', atMs: 13, sample: 'c2', addedAlarms: 5, watchSamples: 200, accepted: 223, largestShiftSd: 0.4775 },
      { type: 'rig-mismatch', atMs: 14, basis: 'data', sample: 'c3', message: '3 of the last 3 cycles are far outside the model\'s training data' },
      { type: 'rig-changed', atMs: 15, judging: false, change: 'channels 18 -> 17', reason: 'the model is for 18 channels, the rig SIM1 has 17 (without rh_pct)' },
      { type: 'cycle-end', atMs: 16, sample: 'c3', reason: 'clear', ended: { reason: 'clear', phase: 'R', seq: 1817, atMs: 15.5 }, issue: null },
      { type: 'cycle-end', atMs: 17, sample: 'c4', reason: 'suspicious', ended: null, issue: { kind: 'unsupported', detail: 'the rig answered END,ERR,unknown-command: it runs full cycles' } },
    ];
    const seen = new Set<string>();
    for (const event of [...events, ...extra]) {
      const line = eventToJson(event);
      expect(line).not.toContain('\n');
      expect(line.startsWith(`{"type":"${event.type}"`)).toBe(true);
      const back = parseEventJson(line);
      if (!back.ok) throw new Error(`${back.error}: ${line}`);
      seen.add(back.value.type);
      if (event.type === 'frame' && back.value.type === 'frame') {
        const { values, ...rest } = back.value;
        const { values: want, ...wantRest } = event;
        expect(rest).toEqual(wantRest);
        expect(values).toBeInstanceOf(Float64Array);
        expect(sameBits(values, want)).toBe(true);
      } else {
        expect(back.value).toEqual(event);
      }
    }
    expect([...seen].sort()).toEqual([...ENGINE_EVENT_TYPES].sort());
  });

  it('writes NaN and infinities as null, -0 in frame values as -0, and reads null numbers back as NaN', () => {
    const frame: EngineEvent = { type: 'frame', atMs: 1.5, seq: 3, tMs: 4, phase: 'E', values: Float64Array.of(NaN, -0, Infinity, 0.1), sample: 'a"b' };
    const line = eventToJson(frame);
    expect(line).toBe('{"type":"frame","atMs":1.5,"seq":3,"tMs":4,"phase":"E","sample":"a\\"b","values":[null,-0,null,0.1]}');
    const back = parseEventJson(line);
    expect(back.ok && back.value.type === 'frame' && sameBits(back.value.values, Float64Array.of(NaN, -0, NaN, 0.1))).toBe(true);
    const late: EngineEvent = { type: 'over-budget', atMs: NaN, sample: 's', latencyMs: 1, budgetMs: 5 };
    expect(eventToJson(late)).toBe('{"type":"over-budget","atMs":null,"sample":"s","latencyMs":1,"budgetMs":5}');
  });

  it('keeps fields a frame event has beyond its declared ones (slow path)', () => {
    const frame = { type: 'frame', atMs: 1, seq: 1, tMs: 1, phase: 'I', values: Float64Array.of(NaN, 2), sample: '', label: 'beer' } as EngineEvent;
    const line = eventToJson(frame);
    expect(JSON.parse(line)).toEqual({ type: 'frame', atMs: 1, seq: 1, tMs: 1, phase: 'I', values: [null, 2], sample: '', label: 'beer' });
    expect(parseEventJson(line)).toMatchObject({ ok: true, value: { label: 'beer' } });
  });

  it('gives a reason for anything that is not an event', () => {
    expect(parseEventJson('{')).toEqual({ ok: false, error: 'not a JSON line' });
    expect(parseEventJson('[1]')).toEqual({ ok: false, error: 'not a JSON object' });
    expect(parseEventJson('{"type":"nope","atMs":1}')).toMatchObject({ ok: false, error: expect.stringContaining('unknown event type "nope"') });
    expect(parseEventJson('{"type":"gap","atMs":1,"fromSeq":1,"toSeq":2}')).toMatchObject({ ok: false, error: expect.stringContaining('lost') });
    expect(parseEventJson('{"type":"frame","atMs":1,"seq":-1,"tMs":0,"phase":"I","sample":"","values":[]}')).toMatchObject({ ok: false, error: expect.stringContaining('seq') });
  });

  it('never throws on any JSON value or any string', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue().map((v) => JSON.stringify(v)), fc.string()), (text) => {
        const result = parseEventJson(text);
        expect(typeof result.ok).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
    const types = fc.constantFrom(...ENGINE_EVENT_TYPES, 'x');
    fc.assert(
      fc.property(types, fc.dictionary(fc.string(), fc.jsonValue()), (type, fields) => {
        const result = parseEventJson(JSON.stringify({ ...fields, type }));
        if (result.ok) expect(result.value.type).toBe(type);
      }),
      { numRuns: 2000 },
    );
  });
});
