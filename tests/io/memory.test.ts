import { describe, expect, it } from 'vitest';
import { EnoseError } from '../../src/errors.js';
import { createMemorySource, framesToSourceEvents, type MemoryFrame } from '../../src/io/memory.js';
import type { Phase, RigCommand, RigInfo, SourceEvent } from '../../src/types.js';
import { waitFor } from '../helpers/pty.js';

const rig: RigInfo = { proto: 'ENL/1', rig: 'rig-M', fw: '2', rateHz: 10, unit: 'ohm', channels: ['a', 'b'] };

function frames(n: number, phase: Phase = 'I', sample?: string): MemoryFrame[] {
  return Array.from({ length: n }, (_, i) => ({ seq: i, tMs: 1000 + i * 100, phase, values: [i, i * 0.5], ...(sample === undefined ? {} : { sample }) }));
}

async function runAll(source: ReturnType<typeof createMemorySource>, signal = new AbortController().signal): Promise<SourceEvent[]> {
  const out: SourceEvent[] = [];
  await source.run((event) => out.push(event), signal);
  return out;
}

describe('framesToSourceEvents', () => {
  it('gives an info event then one frame event per frame, atMs from tMs, values as Float64Array', () => {
    const own = Float64Array.of(7, 8);
    const events = framesToSourceEvents(rig, [...frames(3, 'B', 'c1'), { seq: 3, tMs: 1300, phase: 'E', values: own, label: 'beer' }]);
    expect(events.map((e) => e.type)).toEqual(['info', 'frame', 'frame', 'frame', 'frame']);
    expect(events[0]).toEqual({ type: 'info', atMs: 0, ...rig });
    const second = events[2];
    if (second.type !== 'frame') throw new Error('not a frame');
    expect(second).toEqual({ type: 'frame', atMs: 1100, seq: 1, tMs: 1100, phase: 'B', values: Float64Array.of(1, 0.5), sample: 'c1' });
    expect(second.values).toBeInstanceOf(Float64Array);
    const last = events[4];
    expect(last.type === 'frame' && last.values === own && last.label === 'beer' && !('sample' in last)).toBe(true);
  });

  it('throws bad-usage for a frame with the wrong number of values', () => {
    expect(() => framesToSourceEvents(rig, [{ seq: 0, tMs: 0, phase: 'I', values: [1, 2, 3] }])).toThrow(EnoseError);
  });
});

describe('createMemorySource', () => {
  it('emits the events in order and stamps atMs with performance.now() at emission', async () => {
    const events = framesToSourceEvents(rig, frames(50));
    const before = performance.now();
    const got = await runAll(createMemorySource(events));
    const after = performance.now();
    expect(got.map((e) => (e.type === 'frame' ? e.seq : -1))).toEqual(events.map((e) => (e.type === 'frame' ? e.seq : -1)));
    for (let i = 0; i < got.length; i++) {
      expect(got[i].atMs).toBeGreaterThanOrEqual(before);
      expect(got[i].atMs).toBeLessThanOrEqual(after);
      if (i > 0) expect(got[i].atMs).toBeGreaterThanOrEqual(got[i - 1].atMs);
    }
    // The given objects are not modified.
    expect(events[1].atMs).toBe(1000);
  });

  it('keeps the given atMs with keepTimes, and passes frame values without copying them', async () => {
    const events = framesToSourceEvents(rig, frames(5));
    const got = await runAll(createMemorySource(events, { keepTimes: true }));
    expect(got).toEqual(events);
    expect(got[3]).toBe(events[3]);
  });

  it('yields to the event loop every yieldEvery events, so that async consumer code runs between batches', async () => {
    const events = framesToSourceEvents(rig, frames(34)); // 35 events
    const seenAtImmediate: number[] = [];
    let count = 0;
    await createMemorySource(events, { yieldEvery: 10 }).run(() => {
      count++;
      if (count === 1 || count === 11) setImmediate(() => seenAtImmediate.push(count));
    }, new AbortController().signal);
    expect(count).toBe(35);
    expect(seenAtImmediate).toEqual([10, 20]);
  });

  it('yields every 1000 events by default', async () => {
    const events = framesToSourceEvents(rig, frames(2500));
    const marks: number[] = [];
    let count = 0;
    const ticker = setInterval(() => marks.push(count), 0);
    await createMemorySource(events).run(() => void count++, new AbortController().signal);
    clearInterval(ticker);
    expect(count).toBe(2501);
    // Timers only run between batches: every count seen by the timer is a multiple of 1000.
    expect(marks.length).toBeGreaterThan(0);
    for (const mark of marks) expect(mark % 1000).toBe(0);
  });

  it('stops when the signal aborts and rejects a second concurrent run', async () => {
    const events = framesToSourceEvents(rig, frames(5000));
    const source = createMemorySource(events, { yieldEvery: 100 });
    const controller = new AbortController();
    let count = 0;
    const running = source.run(() => {
      if (++count === 250) controller.abort();
    }, controller.signal);
    await expect(source.run(() => undefined, new AbortController().signal)).rejects.toMatchObject({ code: 'bad-usage' });
    await running;
    expect(count).toBe(250);
    // A finished source can run again from the start.
    expect((await runAll(source)).length).toBe(5001);
  });

  it('records sent commands, and lets onCommand answer START with an ack and a cycle right after the current event', async () => {
    const cycle = framesToSourceEvents(rig, [...frames(3, 'B', 'box-1'), ...frames(4, 'E', 'box-1')]).slice(1);
    const source = createMemorySource(framesToSourceEvents(rig, frames(10)), {
      onCommand: (command, emit) => {
        if (command.command !== 'START') return;
        emit({ type: 'ack', atMs: 0, command: 'START', ok: true, detail: command.sampleId });
        for (const event of cycle) emit(event);
      },
    });
    const got: SourceEvent[] = [];
    await source.run((event) => {
      got.push(event);
      if (event.type === 'frame' && event.seq === 4 && event.sample === undefined) void source.send({ command: 'START', sampleId: 'box-1' });
    }, new AbortController().signal);
    expect(source.sent).toEqual([{ command: 'START', sampleId: 'box-1' }]);
    const order = got.map((e) => (e.type === 'frame' ? `${e.sample ?? '-'}:${e.seq}` : e.type));
    expect(order).toEqual([
      'info', '-:0', '-:1', '-:2', '-:3', '-:4', 'ack', 'box-1:0', 'box-1:1', 'box-1:2', 'box-1:0', 'box-1:1', 'box-1:2', 'box-1:3', '-:5', '-:6', '-:7', '-:8', '-:9',
    ]);
  });

  it('with stayOpen, waits for commands after the given events until the signal aborts', async () => {
    const controller = new AbortController();
    const commands: RigCommand[] = [];
    const source = createMemorySource([{ type: 'info', atMs: 0, ...rig }], {
      stayOpen: true,
      onCommand: (command, emit) => {
        commands.push(command);
        if (command.command === 'START') for (const event of framesToSourceEvents(rig, frames(3, 'B', command.sampleId)).slice(1)) emit(event);
      },
    });
    const got: SourceEvent[] = [];
    let ended = false;
    const running = source.run((event) => got.push(event), controller.signal).then(() => (ended = true));
    await waitFor(() => got.length >= 1, 'the info');
    await new Promise((resolve) => setTimeout(resolve, 20)); // it stays open: nothing more, no end
    expect(got.map((e) => e.type)).toEqual(['info']);
    expect(ended).toBe(false);
    await source.send({ command: 'START', sampleId: 'late' });
    await waitFor(() => got.length >= 4, 'the frames the command brought');
    expect(got.map((e) => (e.type === 'frame' ? e.sample : e.type))).toEqual(['info', 'late', 'late', 'late']);
    controller.abort();
    await running;
    expect(ended).toBe(true);
    expect(commands).toEqual([{ command: 'START', sampleId: 'late' }]);
  });

  it('rejects send when onCommand throws, and throws bad-option for a bad yieldEvery', async () => {
    const source = createMemorySource([], {
      onCommand: () => {
        throw new EnoseError('port-error', 'write failed');
      },
    });
    await expect(source.send({ command: 'STOP' })).rejects.toMatchObject({ code: 'port-error' });
    expect(source.sent).toEqual([{ command: 'STOP' }]);
    expect(() => createMemorySource([], { yieldEvery: 0 })).toThrow(expect.objectContaining({ code: 'bad-option' }));
    expect(() => createMemorySource([], { yieldEvery: 1.5 })).toThrow(EnoseError);
  });
});
