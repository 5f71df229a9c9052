/** The service's book of cycles: requests, the rig's phases, verdicts, time-outs. */
import { describe, expect, it } from 'vitest';
import { SampleBook, sampleJson, type Busy, type SampleRecord } from '../../src/service/samples.js';
import type { CycleQuality, EngineEvent, Phase, VerdictEvent } from '../../src/types.js';

const quality: CycleQuality = { framesB: 300, framesE: 600, lostFrames: 0, lostShare: 0, maxGapS: 0.1, cut: null, channels: [], novelty: 0.5 };
const verdictOf = (sample: string, cut: CycleQuality['cut'] = null): VerdictEvent => ({
  type: 'verdict',
  atMs: 0,
  sample,
  verdict: 'clear',
  class: 'clear',
  probabilities: { clear: 1 },
  score: 0,
  reasons: ['clear-class'],
  quality: { ...quality, cut },
  modelId: 'm',
  latencyMs: 0.1,
  frames: { first: 0, last: 899, count: 900 },
});
const phase = (sample: string, p: Phase): EngineEvent => ({ type: 'phase', atMs: 0, sample, phase: p, seq: 0 });
const started = (sample: string, requested = true): EngineEvent => ({ type: 'sample-started', atMs: 0, sample, seq: 0, requested });

function isRecord(x: SampleRecord | Busy): x is SampleRecord {
  return 'id' in x;
}

describe('SampleBook', () => {
  it('ids carry the container id and a UTC time stamp, unique within one second', () => {
    const book = new SampleBook({ now: () => Date.UTC(2026, 10, 26, 16, 4, 5, 123) });
    const a = book.request('MSCU1234567');
    if (!isRecord(a)) throw new Error('busy');
    expect(a.id).toBe('MSCU1234567-20261126T160405Z');
    book.withdraw(a.id);
    expect(book.get(a.id)).toBeUndefined();
    const b = book.request('MSCU1234567');
    if (!isRecord(b)) throw new Error('busy');
    expect(b.id).toBe('MSCU1234567-20261126T160405Z.2');
  });

  it('is busy from the request through B, E and R until the rig is idle again', () => {
    const book = new SampleBook();
    const r = book.request('C1');
    if (!isRecord(r)) throw new Error('busy');
    expect(book.busy()).toMatchObject({ sample: r.id, state: 'pending' });
    expect(isRecord(book.request('C2'))).toBe(false);
    book.onEvent(started(r.id));
    book.onEvent(phase(r.id, 'B'));
    expect(book.get(r.id)!.state).toBe('running');
    expect(book.busy()).toMatchObject({ state: 'running', phase: 'B' });
    book.onEvent(phase(r.id, 'E'));
    book.onEvent(verdictOf(r.id));
    book.onEvent(phase(r.id, 'R'));
    expect(book.get(r.id)!.state).toBe('done');
    expect(book.busy()).toMatchObject({ phase: 'R' });
    book.onEvent(phase('', 'I'));
    expect(book.busy()).toBeNull();
    expect(isRecord(book.request('C2'))).toBe(true);
  });

  it('a cut cycle, a disconnect or a reboot frees the rig', () => {
    const book = new SampleBook();
    book.onEvent(started('rig-1', false));
    book.onEvent(phase('rig-1', 'E'));
    expect(book.busy()).not.toBeNull();
    book.onEvent(verdictOf('rig-1', 'stopped'));
    expect(book.busy()).toBeNull();
    book.onEvent(phase('rig-2', 'B'));
    book.onEvent({ type: 'state', atMs: 0, state: 'disconnected', detail: '' });
    expect(book.busy()).toBeNull();
    expect(book.get('rig-1')).toMatchObject({ containerId: null, state: 'done' });
  });

  it('a request the rig does not start in time fails and frees the rig; a late start revives it', () => {
    let now = 1_000_000;
    const book = new SampleBook({ now: () => now });
    const r = book.request('C1');
    if (!isRecord(r)) throw new Error('busy');
    now += 1000;
    expect(book.overdue(5000)).toBeNull();
    now += 5000;
    expect(book.overdue(5000)?.id).toBe(r.id);
    book.fail(r.id, 'not started');
    expect(book.get(r.id)).toMatchObject({ state: 'failed', error: 'not started' });
    expect(book.busy()).toBeNull();
    book.onEvent(started(r.id));
    expect(book.get(r.id)).toMatchObject({ state: 'running', error: null });
  });

  it('keeps at most `capacity` records, dropping the oldest finished ones', () => {
    const book = new SampleBook({ capacity: 3 });
    for (let i = 0; i < 5; i++) {
      book.onEvent(started(`s${i}`, false));
      book.onEvent(verdictOf(`s${i}`));
    }
    expect(book.size).toBe(3);
    expect(book.recent(10).map((r) => r.id)).toEqual(['s4', 's3', 's2']);
  });

  it('shows records with ISO times and the verdict as it is', () => {
    const book = new SampleBook({ now: () => Date.UTC(2026, 0, 2, 3, 4, 5) });
    book.onEvent(started('x', false));
    book.onEvent(verdictOf('x'));
    book.setPca('x', [1, 2, 3]);
    const json = sampleJson(book.get('x')!);
    expect(json).toMatchObject({ id: 'x', state: 'done', startedAt: '2026-01-02T03:04:05.000Z', requestedAt: null, pca: [1, 2, 3] });
    expect(json['verdict']).toEqual(verdictOf('x'));
  });
});
