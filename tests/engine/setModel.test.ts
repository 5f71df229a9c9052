/**
 * Switching models between cycles (a fleet's model roll-out), with both shipped models: after the switch every
 * verdict is the one the new model alone gives that cycle, the cycle in progress keeps the model it started
 * with, and a model the rig cannot run is refused.
 */
import { describe, expect, it } from 'vitest';
import { EngineCore } from '../../src/engine/core.js';
import { signBundle, type ModelBundle, type UnsignedBundle } from '../../src/model/runtime/bundle.js';
import { simulationEvents } from '../../src/sim/events.js';
import { createSimulation } from '../../src/sim/simulate.js';
import type { EngineEvent, SourceEvent, VerdictEvent } from '../../src/types.js';
import { loadModel } from '../helpers/models.js';

const DEFAULT = loadModel('datasets/container-sim/default-model.json.gz');
const EXPOSURE = loadModel('datasets/container-sim/exposure-model.json.gz');
const events: SourceEvent[] = [...simulationEvents(createSimulation({ seed: 5, containers: 4, startDay: 21, idleS: 3 }))];

function run(model: ModelBundle, onEvent: (e: EngineEvent, core: EngineCore) => void = () => undefined): VerdictEvent[] {
  const out: VerdictEvent[] = [];
  const core: EngineCore = new EngineCore(model, { emitFrames: false }, (e) => {
    if (e.type === 'verdict') out.push(e);
    onEvent(e, core);
  });
  for (const e of events) core.push(e);
  core.end();
  return out;
}
// What differs by nature between two runs: monotonic and wall-clock times, latency.
const content = ({ atMs: _a, latencyMs: _l, wallTime: _w, ...rest }: VerdictEvent) => rest;

describe('EngineCore.setModel', () => {
  const alone = new Map([DEFAULT, EXPOSURE].map((m) => [m.id, run(m)]));

  for (const [from, to] of [
    [DEFAULT, EXPOSURE],
    [EXPOSURE, DEFAULT],
  ] as const) {
    it(`switches from ${from === DEFAULT ? 'the default' : 'the exposure'} model to the other between cycles`, () => {
      expect(alone.get(from.id)).toHaveLength(4);
      // Asked for right after the first verdict: cycles 2 to 4 are the new model's.
      const switched = run(from, (e, core) => {
        if (e.type === 'verdict' && e.sample === alone.get(from.id)![0]!.sample) core.setModel(to);
      });
      expect(switched.map((v) => v.modelId)).toEqual([from.id, to.id, to.id, to.id]);
      expect(content(switched[0]!)).toEqual(content(alone.get(from.id)![0]!));
      for (let i = 1; i < 4; i++) expect(content(switched[i]!)).toEqual(content(alone.get(to.id)![i]!));
    });
  }

  it('never within a cycle: a model set while cycle 2 runs judges from cycle 3 on', () => {
    let asked = 0;
    const switched = run(DEFAULT, (e, core) => {
      if (e.type === 'phase' && e.phase === 'E' && ++asked === 2) core.setModel(EXPOSURE);
    });
    expect(switched.map((v) => v.modelId)).toEqual([DEFAULT.id, DEFAULT.id, EXPOSURE.id, EXPOSURE.id]);
    expect(content(switched[1]!)).toEqual(content(run(DEFAULT)[1]!));
    expect(content(switched[2]!)).toEqual(content(run(EXPOSURE)[2]!));
  });

  it('refuses a model for other channels, and leaves the running one in place', () => {
    const { id: _i, hash: _h, ...unsigned } = EXPOSURE;
    // The first sensor renamed, in the channel list and in the feature names: a consistent model for another rig.
    const first = unsigned.input.kind === 'frames' ? unsigned.input.channels[0]! : '';
    const rename = (name: string) => (name.startsWith(`${first}:`) ? `other_sensor${name.slice(first.length)}` : name === first ? 'other_sensor' : name);
    const input = unsigned.input.kind === 'frames' ? { ...unsigned.input, channels: unsigned.input.channels.map(rename), featureNames: unsigned.input.featureNames.map(rename) } : unsigned.input;
    const other = signBundle({ ...unsigned, input } as UnsignedBundle);
    let refused = '';
    const verdicts = run(DEFAULT, (e, core) => {
      if (e.type === 'verdict' && refused === '') {
        try {
          core.setModel(other);
        } catch (error) {
          refused = (error as Error).message;
        }
      }
    });
    expect(refused).toMatch(/channels/);
    expect(verdicts.map((v) => v.modelId)).toEqual(Array(4).fill(DEFAULT.id));
  });
});
