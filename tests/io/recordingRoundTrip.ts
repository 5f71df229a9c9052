/** Shared by the recording and replay tests: record a stream, replay it, and compare what comes back. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';
import { createRecorder, type RecorderOptions } from '../../src/io/recording.js';
import { createReplaySource, type ReplayOptions, type ReplaySource } from '../../src/io/replay.js';
import type { EngineEvent, SourceEvent } from '../../src/types.js';
import { sameBits } from '../helpers/engineEvents.js';

const created: string[] = [];
afterAll(() => {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh folder under the OS temp folder, removed after the test file. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `enose-${prefix}-`));
  created.push(dir);
  return dir;
}

export async function record(dir: string, events: readonly EngineEvent[], options: Partial<RecorderOptions> = {}): Promise<void> {
  const recorder = createRecorder(dir, { modelId: 'model-0123456789abcdef', source: 'memory', startedAt: new Date('2026-01-02T03:04:05.678Z'), ...options });
  for (const event of events) recorder.write(event);
  await recorder.close();
}

export async function openReplay(path: string, options: ReplayOptions = {}): Promise<ReplaySource> {
  const opened = await createReplaySource(path, options);
  if (!opened.ok) throw new Error(`replay failed: ${JSON.stringify(opened.error)}`);
  return opened.value;
}

export async function collect(source: { run: ReplaySource['run'] }, signal = new AbortController().signal): Promise<SourceEvent[]> {
  const out: SourceEvent[] = [];
  await source.run((event) => out.push(event), signal);
  return out;
}

/** What a source fed the live engine, as the engine's events show it: a reboot info stands for reboot + info. */
export function sourceEventsOf(live: readonly EngineEvent[]): SourceEvent[] {
  const out: SourceEvent[] = [];
  for (const event of live) {
    switch (event.type) {
      case 'info': {
        if (event.reboot) out.push({ type: 'reboot', atMs: event.atMs });
        const { reboot: _reboot, ...info } = event;
        out.push(info);
        break;
      }
      case 'frame':
        out.push({ type: 'frame', atMs: event.atMs, seq: event.seq, tMs: event.tMs, phase: event.phase, values: event.values, sample: event.sample });
        break;
      case 'issue':
      case 'gap':
      case 'state':
        out.push(event);
        break;
      default:
        break;
    }
  }
  return out;
}

/** Asserts that `got` is `want` event for event: frames bit for bit (seq, tMs, phase, sample, values), others field for field but atMs. */
export function expectSameSourceEvents(got: readonly SourceEvent[], want: readonly SourceEvent[]): void {
  expect(got.map((e) => e.type)).toEqual(want.map((e) => e.type));
  for (let i = 0; i < want.length; i++) {
    const a = got[i];
    const b = want[i];
    if (a.type === 'frame' && b.type === 'frame') {
      expect({ seq: a.seq, tMs: a.tMs, phase: a.phase, sample: a.sample }, `frame ${i}`).toEqual({ seq: b.seq, tMs: b.tMs, phase: b.phase, sample: b.sample });
      expect(sameBits(a.values, b.values), `values of frame ${i} (seq ${b.seq}): ${String(a.values)} vs ${String(b.values)}`).toBe(true);
    } else {
      const { atMs: _a, ...x } = a;
      const { atMs: _b, ...y } = b;
      expect(x, `event ${i}`).toEqual(y);
    }
  }
}
