/** The service's state reducer, driven by engine events alone (no HTTP): rig, link, cycle, frames, snapshot. */
import { describe, expect, it } from 'vitest';
import { ServiceState } from '../../src/service/state.js';
import type { EngineEvent } from '../../src/types.js';

const info: EngineEvent = { type: 'info', atMs: 0, reboot: false, proto: 'ENL/1', rig: 'R7', fw: '1', rateHz: 10, unit: 'ohm', channels: ['a', 'b'] };
const frame = (atMs: number, phase: 'I' | 'B' | 'E' | 'R', sample: string): EngineEvent => ({ type: 'frame', atMs, seq: atMs, tMs: atMs, phase, values: Float64Array.of(1, 2), sample });

describe('ServiceState', () => {
  it('follows the rig, its link and a cycle to its verdict and back to idle; the snapshot says so', () => {
    const s = new ServiceState({ maxFrameHz: Infinity, wallClock: () => Date.UTC(2026, 0, 1) });
    expect(s.rigConnected()).toBe(false);
    s.apply(info);
    expect(s.rigConnected()).toBe(true);
    s.apply(frame(1, 'I', ''));
    expect(s.lastFrameAgeS(1001)).toBe(1);
    s.apply({ type: 'sample-started', atMs: 2, sample: 'C1', seq: 2, requested: false });
    s.apply({ type: 'phase', atMs: 2, sample: 'C1', phase: 'B', seq: 2 });
    s.apply(frame(2, 'B', 'C1'));
    s.apply({ type: 'phase', atMs: 3, sample: 'C1', phase: 'R', seq: 3 });
    expect(s.cycle).toEqual({ sample: 'C1', phase: 'R', verdict: false });
    expect(s.book.busy()).toMatchObject({ state: 'running', phase: 'R' });
    s.apply({ type: 'verdict', atMs: 4, sample: 'C1', verdict: 'clear', class: 'clear', probabilities: { clear: 1 }, score: 0, reasons: ['clear-class'], quality: { framesB: 1, framesE: 1, lostFrames: 0, lostShare: 0, maxGapS: 0, cut: null, channels: [], novelty: null }, modelId: 'm', latencyMs: 0.1, frames: { first: 2, last: 3, count: 2 } });
    // The rig goes idle: the phase event of an idle frame carries no sample.
    s.apply({ type: 'phase', atMs: 5, sample: '', phase: 'I', seq: 5 });
    expect(s.cycle).toEqual({ sample: 'C1', phase: 'I', verdict: true });
    expect(s.book.busy()).toBeNull();
    const snap = JSON.parse(s.snapshot('m')) as { rig: { rig: string }; cycle: unknown; verdicts: unknown[]; frames: unknown[] };
    expect(snap.rig.rig).toBe('R7');
    expect(snap.cycle).toEqual({ sample: 'C1', phase: 'I', verdict: true });
    expect(snap.verdicts).toHaveLength(1);
    expect(snap.frames).toHaveLength(1); // the cycle's frames (the idle one before it was dropped at its start)
    s.apply({ type: 'state', atMs: 6, state: 'disconnected', detail: 'unplugged' });
    expect(s.rigConnected()).toBe(false);
  });
});
