/**
 * The README's embedding example, run for real: a node:http scanner service that imports the built package by
 * its name (through package.json `exports`), a simulated rig that answers START with a cycle, an HTTP client
 * that posts a container id and reads the verdict from the server-sent events.
 */
import { describe, expect, it } from 'vitest';
import * as byName from 'enose';
import { createMemorySource, createSimulation, readModelFile, simulatedRigInfo, type SourceEvent } from 'enose';
import { SHIPPED_MODELS } from '../helpers/models.js';
import { startScannerService } from './scanner-service.js';

describe('embedding the engine in a scanner service', () => {
  it('imports the built package by its name, with the documented API', () => {
    for (const name of ['createEngine', 'createSerialSource', 'openReplayRig', 'createReplayRig', 'createReplaySource', 'createMemorySource', 'fitModel', 'readModelFile', 'EnoseError']) {
      expect(typeof (byName as Record<string, unknown>)[name]).toBe('function');
    }
  });

  it.each(SHIPPED_MODELS)('POST a container id, get its verdict as a server-sent event ($name model)', async ({ path }) => {
    const model = readModelFile(path);
    if (!model.ok) throw new Error(model.error.reason);
    const sim = createSimulation({ seed: 3, containers: 2, startDay: 25 });
    const info = simulatedRigInfo(sim);
    // A rig that runs one simulated cycle per START.
    let next = 0;
    const source = createMemorySource([{ type: 'info', atMs: 0, ...info }], {
      stayOpen: true,
      onCommand: (command, emit) => {
        if (command.command !== 'START') return;
        emit({ type: 'ack', atMs: 0, command: 'START', ok: true, detail: '' });
        let last: SourceEvent | null = null;
        for (const frame of sim.cycleAt(next++).frames()) emit((last = { type: 'frame', atMs: 0, seq: frame.seq, tMs: frame.tMs, phase: frame.phase, values: frame.values } satisfies SourceEvent));
        // Then idle, as a rig is: the frame that ends the recovery brings the default model's verdict.
        if (last?.type === 'frame') emit({ ...last, seq: last.seq + 1, tMs: last.tMs + 100, phase: 'I' });
      },
    });
    const service = await startScannerService(model.value, source);
    try {
      const events = await fetch(`${service.url}/events`);
      const reader = events.body!.getReader();
      const bad = await fetch(`${service.url}/containers`, { method: 'POST', body: '{"nope":1}' });
      expect(bad.status).toBe(400);
      const started = await fetch(`${service.url}/containers`, { method: 'POST', body: JSON.stringify({ containerId: 'MSCU1234567' }) });
      expect(started.status).toBe(202);
      let text = '';
      const decoder = new TextDecoder();
      while (!text.includes('event: verdict')) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value);
      }
      const data = text.split('\n').find((l) => l.startsWith('data: '))!;
      const verdict = JSON.parse(data.slice(6)) as { type: string; sample: string; verdict: string; modelId: string };
      expect(verdict.type).toBe('verdict');
      expect(verdict.sample).toBe('MSCU1234567');
      expect(['suspicious', 'clear', 'inconclusive']).toContain(verdict.verdict);
      expect(verdict.modelId).toBe(model.value.id);
      await reader.cancel();
    } finally {
      await service.close();
    }
  });
});
