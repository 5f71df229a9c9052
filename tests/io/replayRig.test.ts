/**
 * A recording acting as a rig: each START plays the next recorded cycle, and the engine gives it the verdict a
 * replay of the whole recording gives that cycle (class, probabilities to the bit, reasons, quality, frames).
 */
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/engine.js';
import { EngineCore } from '../../src/engine/core.js';
import { readModelFile } from '../../src/io/modelFile.js';
import { createReplayRig, cutCycles } from '../../src/io/replayRig.js';
import { simulationEvents } from '../../src/sim/events.js';
import { createSimulation } from '../../src/sim/simulate.js';
import { SHIPPED_MODELS } from '../helpers/models.js';
import { waitFor } from '../helpers/pty.js';
import type { EngineEvent, SourceEvent, VerdictEvent } from '../../src/types.js';

const events: SourceEvent[] = [...simulationEvents(createSimulation({ seed: 11, containers: 4, startDay: 23, idleS: 3 }))];

describe.each(SHIPPED_MODELS)('the replay rig with the $name model', ({ path }) => {
  const model = readModelFile(path);
  if (!model.ok) throw new Error(model.error.reason);
  const bundle = model.value;

  function replayVerdicts(): VerdictEvent[] {
    const out: VerdictEvent[] = [];
    const core = new EngineCore(bundle, { emitFrames: false }, (e) => e.type === 'verdict' && out.push(e));
    for (const e of events) core.push(e);
    core.end();
    return out;
  }

  const content = ({ sample: _s, atMs: _a, latencyMs: _l, wallTime: _w, ...rest }: VerdictEvent) => rest;

  describe('cutCycles', () => {
    it('cuts a recording into its cycles, with the info line before them', () => {
      const cut = cutCycles(events);
      expect(cut.prelude.map((e) => e.type)).toEqual(['info']);
      expect(cut.cycles).toHaveLength(4);
      expect(cut.samples).toEqual(replayVerdicts().map((v) => v.sample));
      for (const cycle of cut.cycles) {
        const frames = cycle.filter((e) => e.type === 'frame');
        expect(frames[0]).toMatchObject({ phase: 'B' });
        expect(frames.some((f) => f.type === 'frame' && f.phase === 'I')).toBe(false);
        expect(new Set(frames.map((f) => (f.type === 'frame' ? f.phase : '')))).toEqual(new Set(['B', 'E', 'R']));
      }
    });
  });

  describe('createReplayRig', () => {
    it('plays one recorded cycle per START, under the requested id, with the verdict a whole replay gives it; then starts over', async () => {
      const expected = replayVerdicts();
      const rig = createReplayRig(events, 'replay:sim', { speed: 'max' });
      const verdicts: VerdictEvent[] = [];
      let wake: (() => void) | null = null;
      let ready = false;
      const engine = createEngine({
        model: bundle,
        source: rig,
        queue: false,
        emitFrames: false,
        onEvent: (e: EngineEvent) => {
          if (e.type === 'info') ready = true;
          if (e.type === 'verdict') verdicts.push(e);
          // The rig is free again once the cycle's recovery is over.
          if (e.type === 'phase' && e.phase === 'I') wake?.();
        },
      });
      await waitFor(() => ready, 'the rig to identify itself');
      for (let i = 0; i < expected.length + 1; i++) {
        const done = new Promise<void>((resolve) => (wake = resolve));
        await engine.startSample(`C${i}`);
        await done;
        expect(verdicts[i]!.sample).toBe(`C${i}`);
        expect(content(verdicts[i]!)).toEqual(content(expected[i % expected.length]!));
      }
      expect(rig.nextCycle).toBe(1);
      await engine.close();
    });

    it('refuses a second START while a cycle plays; STOP cuts it (inconclusive, cut-stopped)', async () => {
      // At speed 1 the 30 s baseline takes 30 s: the STOP sent on its first frame lands in it on any machine.
      const rig = createReplayRig(events, 'replay:sim', { speed: 1 });
      const verdicts: VerdictEvent[] = [];
      let ready = false;
      let baseline = false;
      let started = false;
      const engine = createEngine({
        model: bundle,
        source: rig,
        queue: false,
        emitFrames: false,
        onEvent: (e) => {
          if (e.type === 'info') ready = true;
          if (e.type === 'verdict') verdicts.push(e);
          if (e.type === 'phase' && e.phase === 'B') baseline = true;
          if (e.type === 'phase' && e.phase === 'E') started = true;
        },
      });
      await waitFor(() => ready, 'the rig to identify itself');
      await engine.startSample('A1');
      await expect(rig.send({ command: 'START', sampleId: 'A2' })).rejects.toThrow(/busy/);
      await waitFor(() => baseline, 'the baseline');
      await engine.stopSample();
      await waitFor(() => verdicts.length > 0, 'the verdict of the cut cycle');
      expect(started).toBe(false);
      expect(verdicts).toHaveLength(1);
      expect(verdicts[0]).toMatchObject({ sample: 'A1', verdict: 'inconclusive' });
      expect(verdicts[0]!.reasons).toContain('cut-stopped');
      await engine.close();
      expect(verdicts).toHaveLength(1); // and no second one from the cycle it cut
    });

    it('sends idle frames while it waits, continuing the seq', async () => {
      const rig = createReplayRig(events, 'replay:sim', { speed: 'max', idleEveryMs: 50 });
      const got: SourceEvent[] = [];
      const controller = new AbortController();
      const running = rig.run((e) => got.push(e), controller.signal);
      await waitFor(() => got.filter((e) => e.type === 'frame').length >= 3, 'three idle frames');
      controller.abort();
      await running;
      const frames = got.filter((e): e is Extract<SourceEvent, { type: 'frame' }> => e.type === 'frame');
      expect(got[0]!.type).toBe('info');
      expect(frames.length).toBeGreaterThanOrEqual(3);
      expect(frames.every((f) => f.phase === 'I')).toBe(true);
      expect(frames.map((f) => f.seq)).toEqual(frames.map((_, i) => i));
    });
  });
});
