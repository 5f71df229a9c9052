/**
 * The event stream's snapshot as shared pieces (state.ts, frameLog.ts): whatever the number of frames, the
 * pieces join into one valid SSE message whose JSON holds the cycle's newest frames, bounded by count and bytes;
 * two clients get the same Buffers (no copy per client); and request targets parse or are refused (requestTarget.ts).
 */
import { describe, expect, it } from 'vitest';
import { CHUNK_FRAMES, FrameLog } from '../../src/service/frameLog.js';
import { parseRequestTarget } from '../../src/service/requestTarget.js';
import { ServiceState } from '../../src/service/state.js';
import type { EngineEvent } from '../../src/types.js';

const info: EngineEvent = { type: 'info', atMs: 0, reboot: false, proto: 'ENL/1', rig: 'R7', fw: '1', rateHz: 10, unit: 'ohm', channels: ['a', 'b'] };
const frame = (seq: number, phase: 'I' | 'B', sample: string): EngineEvent => ({ type: 'frame', atMs: seq, seq, tMs: seq, phase, values: Float64Array.of(seq, 2), sample });

function joined(state: ServiceState): { json: { frames: { seq: number }[]; cycle: unknown }; message: string; bytes: number } {
  const parts = state.snapshotParts('m');
  const message = parts.head + Buffer.concat(parts.frames).toString('utf8') + parts.end;
  expect(message.startsWith('event: snapshot\ndata: ')).toBe(true);
  expect(message.endsWith('\n\n')).toBe(true);
  expect(message.slice(0, -2)).not.toContain('\n\n');
  return { json: JSON.parse(message.slice('event: snapshot\ndata: '.length, -2)), message, bytes: parts.bytes };
}

describe('the snapshot in shared pieces', () => {
  it('is one valid message for 0, 1, a chunk and many chunks of frames, the newest kept, in order', () => {
    for (const n of [0, 1, CHUNK_FRAMES - 1, CHUNK_FRAMES, CHUNK_FRAMES + 1, 7000]) {
      const s = new ServiceState({ maxFrameHz: Infinity });
      s.apply(info);
      s.apply({ type: 'sample-started', atMs: 0, sample: 'C1', seq: 0, requested: false });
      for (let i = 1; i <= n; i++) s.apply(frame(i, 'B', 'C1'));
      const { json, message, bytes } = joined(s);
      const seqs = json.frames.map((f) => f.seq);
      // At most 6000 frames in a cycle (whole chunks go): the newest, consecutive, ending with the last.
      expect(seqs.length).toBeLessThan(6000 + CHUNK_FRAMES);
      if (n <= 6000) expect(seqs.length).toBe(n);
      if (n > 0) expect(seqs[seqs.length - 1]).toBe(n);
      for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe(seqs[i - 1]! + 1);
      // The stated size is the message's within the commas' count.
      expect(Math.abs(bytes - Buffer.byteLength(message))).toBeLessThanOrEqual(2);
    }
  });

  it('holds at most the byte bound, whatever the frames weigh', () => {
    const log = new FrameLog(64 * 1024);
    const line = JSON.stringify({ type: 'frame', pad: 'x'.repeat(1000) });
    for (let i = 0; i < 5000; i++) {
      log.push(line);
      log.trim(6000);
    }
    expect(log.bytes).toBeLessThanOrEqual(64 * 1024 + CHUNK_FRAMES * (line.length + 1));
    const text = `[${Buffer.concat(log.parts()).toString('utf8')}]`;
    expect((JSON.parse(text) as unknown[]).length).toBe(log.length);
  });

  it('gives two clients the same Buffers until a frame comes, and a new head only after a change', () => {
    const s = new ServiceState({ maxFrameHz: Infinity });
    s.apply(info);
    s.apply({ type: 'sample-started', atMs: 0, sample: 'C1', seq: 0, requested: false });
    for (let i = 1; i <= 3 * CHUNK_FRAMES + 5; i++) s.apply(frame(i, 'B', 'C1'));
    const a = s.snapshotParts('m');
    const b = s.snapshotParts('m');
    expect(b.frames).toHaveLength(a.frames.length);
    a.frames.forEach((buf, i) => expect(b.frames[i]).toBe(buf));
    expect(b.head).toBe(a.head);
    s.apply({ type: 'phase', atMs: 9, sample: 'C1', phase: 'E', seq: 9 });
    const c = s.snapshotParts('m');
    expect(c.head).not.toBe(a.head);
    expect(c.head).toContain('"phase":"E"');
    // A request booked outside the engine's events changes the head too.
    s.apply({ type: 'verdict', atMs: 10, sample: 'C1', verdict: 'clear', class: 'clear', probabilities: { clear: 1 }, score: 0, reasons: ['clear-class'], quality: { framesB: 1, framesE: 1, lostFrames: 0, lostShare: 0, maxGapS: 0, cut: null, channels: [], novelty: null }, modelId: 'm', latencyMs: 0.1, frames: { first: 1, last: 2, count: 2 } });
    s.apply({ type: 'phase', atMs: 11, sample: '', phase: 'I', seq: 11 });
    const before = s.snapshotParts('m').head;
    s.book.request('MSCU1234567');
    expect(s.snapshotParts('m').head).not.toBe(before);
    expect(s.snapshotParts('m').head).toContain('MSCU1234567');
  });
});

describe('parseRequestTarget', () => {
  it('reads origin-form and absolute-form targets by their path and query', () => {
    const cases: [string, string, string][] = [
      ['/v1/health', '/v1/health', ''],
      ['/v1/samples?limit=5', '/v1/samples', '?limit=5'],
      ['//evil.example/', '//evil.example/', ''],
      ['http://127.0.0.1:8080/v1/health?x=1', '/v1/health', '?x=1'],
      ['/v1/samples?limit=%zz', '/v1/samples', '?limit=%zz'],
    ];
    for (const [raw, path, search] of cases) {
      const r = parseRequestTarget(raw);
      expect(r.ok, raw).toBe(true);
      if (r.ok) {
        expect(r.value.pathname, raw).toBe(path);
        expect(r.value.search, raw).toBe(search);
        expect(r.value.host, raw).toBe('localhost');
      }
    }
  });

  it('refuses what is not a path or an http URL, with one line', () => {
    for (const raw of ['http://[', 'http://[::1', 'https://%zz/', '*', 'example.com:443', '', undefined, `http://[${'x'.repeat(500)}`]) {
      const r = parseRequestTarget(raw);
      expect(r.ok, String(raw)).toBe(false);
      if (!r.ok) {
        expect(r.error).toMatch(/request target/);
        expect(r.error).not.toContain('\n');
        expect(r.error.length).toBeLessThan(200);
      }
    }
  });
});
