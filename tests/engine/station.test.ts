/**
 * Verdicts name their station and carry a wall-clock time: `stationId` (default the rig's id) and `wallTime`
 * (ISO, from the injected `wallClock`), while `atMs` stays on the monotonic clock. Both survive the JSON line
 * format, and `enose replay --json` writes them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EngineCore } from '../../src/engine/core.js';
import { eventToJson, parseEventJson } from '../../src/io/eventJson.js';
import { readModelFile } from '../../src/io/modelFile.js';
import { simulationEvents } from '../../src/sim/events.js';
import { createSimulation } from '../../src/sim/simulate.js';
import type { EngineEvent, SourceEvent, VerdictEvent } from '../../src/types.js';
import { runEnose } from '../helpers/cli.js';
import { SHIPPED_MODELS } from '../helpers/models.js';

const events: SourceEvent[] = [...simulationEvents(createSimulation({ seed: 5, containers: 2, startDay: 22, idleS: 2 }))]; // rig SIM5: a simulated rig is named after its rig seed

function verdictsOf(path: string, options: { stationId?: string; wallClock?: () => number }): VerdictEvent[] {
  const model = readModelFile(path);
  if (!model.ok) throw new Error(model.error.reason);
  const out: VerdictEvent[] = [];
  let mono = 1000;
  const core = new EngineCore(model.value, { emitFrames: false, now: () => mono, ...options }, (e: EngineEvent) => e.type === 'verdict' && out.push(e));
  for (const e of events) {
    mono += 0.5;
    core.push(e);
  }
  core.end();
  return out;
}

describe.each(SHIPPED_MODELS)('station and wall-clock time of a verdict ($name model)', ({ path }) => {
  it('the injected wall clock gives wallTime; atMs stays monotonic; the station defaults to the rig id', () => {
    let wall = Date.UTC(2026, 11, 7, 9, 15, 2, 113);
    const verdicts = verdictsOf(path, { wallClock: () => (wall += 1000) });
    expect(verdicts).toHaveLength(2);
    expect(verdicts.map((v) => v.wallTime)).toEqual(['2026-12-07T09:15:03.113Z', '2026-12-07T09:15:04.113Z']);
    expect(verdicts.every((v) => v.atMs > 1000 && v.atMs < 1e7)).toBe(true);
    expect(verdicts.map((v) => v.station)).toEqual(['SIM5', 'SIM5']);
  });

  it('stationId names the station; a station id a topic or URL cannot carry is refused', () => {
    expect(verdictsOf(path, { stationId: 'antwerp-quay-7' }).map((v) => v.station)).toEqual(['antwerp-quay-7', 'antwerp-quay-7']);
    for (const bad of ['', 'a/b', 'quay 7', '#', 'x'.repeat(65)]) {
      expect(() => verdictsOf(path, { stationId: bad }), bad).toThrow(expect.objectContaining({ code: 'bad-option' }));
    }
  });

  it('station and wallTime survive the JSON line format; a wallTime that is not an ISO time is refused', () => {
    const v = verdictsOf(path, { stationId: 'quay-7', wallClock: () => Date.UTC(2026, 0, 2, 3, 4, 5, 6) })[0]!;
    const line = eventToJson(v);
    const back = parseEventJson(line);
    if (!back.ok) throw new Error(back.error);
    expect(back.value).toEqual(v);
    expect(back.value).toMatchObject({ station: 'quay-7', wallTime: '2026-01-02T03:04:05.006Z' });
    const broken = parseEventJson(line.replace('2026-01-02T03:04:05.006Z', 'yesterday'));
    expect(broken.ok).toBe(false);
    // A verdict recorded before these fields existed still reads.
    const { station: _s, wallTime: _w, ...old } = JSON.parse(line) as Record<string, unknown>;
    expect(parseEventJson(JSON.stringify(old)).ok).toBe(true);
  });

  it('enose replay --json writes both on every verdict line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'enose-station-'));
    try {
      expect(runEnose(['simulate', '--containers', '2', '--seed', '5', '--start-day', '22', '--out', join(dir, 'rec')]).code).toBe(0);
      const before = Date.now();
      const r = runEnose(['replay', join(dir, 'rec'), '--model', path, '--json']);
      expect(r.code, r.stderr).toBe(0);
      const verdicts = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e['type'] === 'verdict');
      expect(verdicts).toHaveLength(2);
      for (const v of verdicts) {
        expect(v['station']).toBe('SIM5');
        expect(Date.parse(v['wallTime'] as string)).toBeGreaterThanOrEqual(before - 1000);
        expect(Date.parse(v['wallTime'] as string)).toBeLessThanOrEqual(Date.now());
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
