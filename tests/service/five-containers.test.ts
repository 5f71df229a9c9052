/**
 * The service takes container after container, with either shipped model: `enose serve --replay` on a recording
 * of five containers, five samples posted one after the other give five verdicts, each the one `enose replay`
 * gives for its recorded cycle. The default model decides when the recovery ends, so the rig is idle at its
 * verdict and the next POST is taken at once; the exposure model decides when the exposure ends, so the rig is
 * still in its recovery (409, phase R, Retry-After) until the recovery ends, and then takes the next one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEventJson } from '../../src/io/eventJson.js';
import type { VerdictEvent } from '../../src/types.js';
import { runEnose } from '../helpers/cli.js';
import { SHIPPED_MODELS } from '../helpers/models.js';
import { awaitSample, ensureServiceBuilt, postSample, startServe } from './serveProcess.js';

const dir = mkdtempSync(join(tmpdir(), 'enose-serve-five-'));
const recording = join(dir, 'rec');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(() => {
  ensureServiceBuilt();
  const sim = runEnose(['simulate', '--containers', '5', '--seed', '31', '--start-day', '25', '--out', recording]);
  expect(sim.code, sim.stderr).toBe(0);
});

const content = ({ sample: _s, atMs: _a, latencyMs: _l, wallTime: _w, station: _st, ...rest }: Record<string, unknown>) => rest;

describe.each(SHIPPED_MODELS)('enose serve --replay (5 containers) with the $name model', ({ path, decidesAfter }) => {
  it.each(['max', '200'])('five samples posted one after the other give five verdicts (speed %s)', async (speed) => {
    const replay = runEnose(['replay', recording, '--model', path, '--json']);
    expect(replay.code, replay.stderr).toBe(0);
    const expected = replay.stdout
      .trim()
      .split('\n')
      .map((l) => parseEventJson(l))
      .flatMap((p) => (p.ok && p.value.type === 'verdict' ? [p.value as VerdictEvent] : []));
    expect(expected).toHaveLength(5);

    const serve = await startServe(['--replay', recording, '--model', path, '--speed', speed]);
    try {
      const conflicts: Record<string, unknown>[] = [];
      for (let i = 0; i < 5; i++) {
        let started = await postSample(serve.url, { containerId: `MSCU100000${i}` });
        for (let k = 0; started.status === 409 && k < 2000; k++) {
          conflicts.push(started.json);
          await new Promise((resolve) => setTimeout(resolve, 20));
          started = await postSample(serve.url, { containerId: `MSCU100000${i}` });
        }
        expect(started.status, JSON.stringify(started.json)).toBe(202);
        const done = await awaitSample(serve.url, started.json['id'] as string);
        expect(done['state']).toBe('done');
        expect(content(done['verdict'] as Record<string, unknown>)).toEqual(content(expected[i] as unknown as Record<string, unknown>));
      }
      if (decidesAfter === 'R') {
        // The verdict comes as the rig goes idle: no request waited.
        expect(conflicts).toEqual([]);
      } else {
        // Every wait was for a recovery in progress, never for a rig stuck after it.
        for (const c of conflicts) expect(c['busy']).toMatchObject({ state: 'running', phase: 'R' });
      }
      const health = (await (await fetch(`${serve.url}/v1/health`)).json()) as { verdicts: number; cycle: unknown };
      expect(health.verdicts).toBe(5);
    } finally {
      expect(await serve.stop()).toBe(0);
    }
  });
});
