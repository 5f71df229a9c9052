/**
 * The service on a serial link: the rig emulator (its own process) plays a recording on one end of a socat
 * pty pair, `enose serve --port` reads the other end. A client runs cycles over HTTP and gets, for each, the
 * verdict `enose replay` gives for the recorded cycle (class, probabilities to the bit, reasons, quality).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseEventJson } from '../../src/io/eventJson.js';
import type { VerdictEvent } from '../../src/types.js';
import { runEnose } from '../helpers/cli.js';
import { ensureBuilt, haveSocat, startEmulator, startPty } from '../helpers/pty.js';
import { SHIPPED_MODELS } from '../helpers/models.js';
import { awaitSample, ensureServiceBuilt, postSample, startServe } from './serveProcess.js';

const socat = haveSocat();
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
});

/** What a verdict says about the cycle, without what depends on the run (ids, times, seq numbers, label). */
const judged = (v: Record<string, unknown>) => ({
  verdict: v['verdict'],
  class: v['class'],
  probabilities: v['probabilities'],
  score: v['score'],
  reasons: v['reasons'],
  quality: v['quality'],
  count: (v['frames'] as { count: number }).count,
});

describe.each(SHIPPED_MODELS)('with the $name model', ({ path: MODEL }) => {
  describe.skipIf(!socat)('enose serve on the emulated rig over a pty link', () => {
    it('a client runs two cycles over HTTP and gets the verdicts enose replay gives for the recorded cycles', async () => {
      ensureBuilt();
      ensureServiceBuilt();
      const dir = mkdtempSync(join(tmpdir(), 'enose-serve-emu-'));
      cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
      const recording = join(dir, 'rec');
      expect(runEnose(['simulate', '--containers', '2', '--seed', '9', '--start-day', '24', '--out', recording]).code).toBe(0);
      const replay = runEnose(['replay', recording, '--model', MODEL, '--json']);
      expect(replay.code, replay.stderr).toBe(0);
      const expected = replay.stdout
        .trim()
        .split('\n')
        .map((l) => parseEventJson(l))
        .flatMap((p) => (p.ok && p.value.type === 'verdict' ? [p.value as VerdictEvent] : []));
      expect(expected).toHaveLength(2);

      const pty = await startPty();
      cleanups.push(() => pty.close());
      const serve = await startServe(['--port', pty.host, '--model', MODEL]);
      cleanups.push(() => serve.stop());
      const emu = startEmulator(['--link', pty.rig, '--from', recording, '--speed', '50']);
      cleanups.push(() => emu.stop());

      let health: { rig: { connected: boolean; id: string | null } } | null = null;
      const t0 = Date.now();
      while (Date.now() - t0 < 60_000) {
        health = (await (await fetch(`${serve.url}/v1/health`)).json()) as typeof health;
        if (health!.rig.connected && health!.rig.id !== null) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(health!.rig).toMatchObject({ connected: true });

      for (let i = 0; i < expected.length; i++) {
        let started = await postSample(serve.url, { containerId: `MSCU000000${i}` });
        // The emulated rig is busy in its recovery for a moment after the previous verdict.
        for (let k = 0; started.status === 409 && k < 600; k++) {
          await new Promise((r) => setTimeout(r, 100));
          started = await postSample(serve.url, { containerId: `MSCU000000${i}` });
        }
        expect(started.status, JSON.stringify(started.json)).toBe(202);
        const done = await awaitSample(serve.url, started.json['id'] as string);
        expect(done['state']).toBe('done');
        const verdict = done['verdict'] as Record<string, unknown>;
        expect(verdict['sample']).toBe(started.json['id']);
        expect(judged(verdict)).toEqual(judged(expected[i] as unknown as Record<string, unknown>));
      }
      const metrics = await (await fetch(`${serve.url}/metrics`)).text();
      expect(metrics).toMatch(/^enose_cycles_started_total\{requested="true"\} 2$/m);
      expect(metrics).toMatch(/^enose_rig_connected 1$/m);
    });
  });
});
