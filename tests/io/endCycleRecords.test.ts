/**
 * END without a link: the codec's END line and the unknown-command word, the serial bookkeeping of END requests
 * (CycleEnder) on its own, and the recording's cycle-end lines: placed by seq, read back, refused when bad,
 * absent from older recordings (which stay readable and answer endCycle as ones that ran every cycle in full).
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnoseError } from '../../src/errors.js';
import { CycleEnder } from '../../src/io/cycleEnd.js';
import { createDecoder, decodeLine, encodeCommand, encodeLine, unknownCommandWord } from '../../src/io/protocol.js';
import { createRecorder } from '../../src/io/recording.js';
import { createReplaySource } from '../../src/io/replay.js';
import type { EngineEvent, Phase, SourceEvent } from '../../src/types.js';
import { collect, openReplay, tempDir } from './recordingRoundTrip.js';

describe('the END line', () => {
  it('encodes and decodes with its reason; refuses a reason the wire cannot carry', () => {
    const line = encodeCommand({ command: 'END', reason: 'clear' });
    expect(line).toBe('$ENC,END,clear*8836\n'); // the CRC python3's binascii.crc_hqx gives (hardware/PROTOCOL.md)
    expect(decodeLine(line)).toEqual({ ok: true, message: { type: 'command', command: { command: 'END', reason: 'clear' } } });
    for (const reason of ['', 'a,b', 'x'.repeat(33), 'a*b']) expect(() => encodeCommand({ command: 'END', reason })).toThrow(EnoseError);
    for (const body of ['ENC,END', 'ENC,END,a,b', `ENC,END,${'x'.repeat(33)}`]) {
      const r = decodeLine(encodeLine(body));
      expect(r.ok === false && r.issue.kind).toBe('malformed');
      expect(r.ok === false && unknownCommandWord(r.issue)).toBeNull();
    }
  });

  it('names the word of a valid command line the codec does not know, and nothing else', () => {
    const jump = decodeLine(encodeLine('ENC,JUMP,3'));
    expect(jump.ok === false && unknownCommandWord(jump.issue)).toBe('JUMP');
    const bad = decodeLine('$ENC,JUMP*0000');
    expect(bad.ok === false && unknownCommandWord(bad.issue)).toBeNull();
    // A rig's decoder sees END as a command among its frames' echoes, whole.
    const out = createDecoder().push(`${encodeCommand({ command: 'END', reason: 'suspicious' })}`, 0);
    expect(out).toEqual([{ type: 'command', command: { command: 'END', reason: 'suspicious' } }]);
  });
});

describe('CycleEnder (one link)', () => {
  const write = (): Promise<void> => Promise.resolve();

  it('matches the ack in wire order and names the last frame before it', async () => {
    const ends = new CycleEnder(60_000);
    ends.frame(7, 'E');
    const pending = ends.begin('clear', write);
    expect(ends.begin('other', write)).toBe(pending); // one in flight: the same answer
    ends.onAck('START', true, '', 1);
    ends.frame(8, 'E');
    ends.onAck('END', true, '', 42);
    ends.frame(9, 'R');
    expect(await pending).toEqual({ ok: true, value: { reason: 'clear', phase: 'E', seq: 8, atMs: 42 } });
    expect(ends.supported).toBe(true);
  });

  it('a rig from before END: unknown-command or ?,ERR,malformed are unsupported and remembered until the link is new', async () => {
    for (const [command, detail] of [['END', 'unknown-command'], ['?', 'malformed']] as const) {
      const ends = new CycleEnder(60_000);
      const first = ends.begin('clear', write);
      ends.onAck(command, false, detail, 1);
      expect((await first).ok === false && (await first)).toMatchObject({ error: { kind: 'unsupported' } });
      let wrote = 0;
      const again = await ends.begin('clear', () => ((wrote += 1), Promise.resolve()));
      expect([again.ok === false && again.error.kind, wrote]).toEqual(['unsupported', 0]);
      ends.forget();
      expect(ends.supported).toBeNull();
    }
  });

  it('garbled and idle answers are refusals, not a verdict on the rig; a failed write and a closed port are not-connected', async () => {
    const ends = new CycleEnder(60_000);
    const garbled = ends.begin('clear', write);
    ends.onAck('?', false, 'bad-checksum', 1);
    expect(await garbled).toEqual({ ok: false, error: { kind: 'refused', detail: 'the rig answered ?,ERR,bad-checksum to END' } });
    expect(ends.supported).toBeNull();
    const failed = await ends.begin('clear', () => Promise.reject(new Error('EIO')));
    expect(failed).toEqual({ ok: false, error: { kind: 'not-connected', detail: 'writing END failed: EIO' } });
    const cut = ends.begin('clear', write);
    ends.disconnected();
    expect((await cut).ok === false && (await cut)).toMatchObject({ error: { kind: 'not-connected' } });
  });
});

const INFO: EngineEvent = { type: 'info', atMs: 0, reboot: false, proto: 'ENL/1', rig: 'R1', fw: '1', rateHz: 10, unit: 'ohm', channels: ['a', 'b'] };
const frame = (i: number, phase: Phase, sample: string): EngineEvent => ({ type: 'frame', atMs: i * 100, seq: 1000 + i, tMs: i * 100, phase, values: Float64Array.of(i, -i), sample });

/** A cycle: frames 0-2 idle, 3-5 B, 6-9 E, 10-14 R, 15-16 idle, for sample S. */
function cycle(): EngineEvent[] {
  return Array.from({ length: 17 }, (_, i) => (i < 3 || i > 14 ? frame(i, 'I', '') : frame(i, i < 6 ? 'B' : i < 10 ? 'E' : 'R', 'S')));
}

describe('cycle-end lines of a recording', () => {
  it('land after the frame the result names by seq, however many frames came after, and replay as the END ack there', async () => {
    const dir = join(tempDir('ended'), 'rec');
    const recorder = createRecorder(dir, { modelId: 'm', source: 'memory', startedAt: new Date() });
    recorder.write(INFO);
    const events = cycle();
    for (const e of events.slice(0, 12)) recorder.write(e);
    // The ack came after frame 7 (seq 1007); frames 8 to 11 were already delivered when the result was.
    recorder.cycleEnd({ reason: 'clear', phase: 'E', seq: 1007, atMs: 700 });
    for (const e of events.slice(12)) recorder.write(e);
    await recorder.close();
    const line = readFileSync(join(dir, 'events.jsonl'), 'utf8').split('\n').find((l) => l.includes('cycle-end'))!;
    expect(JSON.parse(line)).toEqual({ afterFrame: 7, type: 'cycle-end', atMs: 700, sample: 'S', reason: 'clear', phase: 'E', seq: 1007 });
    const replay = await openReplay(dir);
    expect(replay.cycleEnds).toEqual([{ afterFrame: 7, sample: 'S', reason: 'clear', phase: 'E', seq: 1007 }]);
    expect(replay.endSupported).toBe(true);
    const played = await collect(replay);
    const at = played.findIndex((e) => e.type === 'ack');
    expect(played[at]).toMatchObject({ type: 'ack', command: 'END', ok: true, detail: '' });
    expect(played[at - 1]).toMatchObject({ type: 'frame', seq: 1007 });
    expect(played[at + 1]).toMatchObject({ type: 'frame', seq: 1008 });
  });

  it('answer endCycle during the ended cycle from the recording, and refuse it before any cycle', async () => {
    const dir = join(tempDir('ended-answer'), 'rec');
    const recorder = createRecorder(dir, { modelId: 'm', source: 'memory', startedAt: new Date() });
    recorder.write(INFO);
    for (const e of cycle()) recorder.write(e);
    recorder.cycleEnd({ reason: 'suspicious', phase: 'R', seq: 1016, atMs: 1 });
    await recorder.close();
    const replay = await openReplay(dir);
    const answers: unknown[] = [];
    answers.push(await replay.endCycle('x'));
    await replay.run((e) => {
      if (e.type === 'frame' && (e.seq === 1001 || e.seq === 1008)) void replay.endCycle('x').then((r) => answers.push(r));
    }, new AbortController().signal);
    expect(answers.map((a) => (a as { ok: boolean; error?: { kind: string } }).ok || (a as { error: { kind: string } }).error.kind)).toEqual(['refused', 'refused', true]);
  });

  it('keep an END whose answer never came: after the last frame written, no ack on replay, endCycle answered with the recorded issue', async () => {
    const dir = join(tempDir('unanswered'), 'rec');
    const recorder = createRecorder(dir, { modelId: 'm', source: 'memory', startedAt: new Date() });
    recorder.write(INFO);
    const events = cycle();
    for (const e of events.slice(0, 11)) recorder.write(e);
    // The port closed before the rig answered: frame 10 (seq 1010) was the last one recorded.
    recorder.cycleEndUnanswered('S', 'clear', { kind: 'not-connected', detail: 'the port closed before the rig answered END' }, 1050);
    expect(() => recorder.cycleEndUnanswered('S', 'clear', { kind: 'refused', detail: 'idle' }, 1)).toThrow(EnoseError);
    for (const e of events.slice(11)) recorder.write(e);
    await recorder.close();
    const line = readFileSync(join(dir, 'events.jsonl'), 'utf8').split('\n').find((l) => l.includes('unanswered'))!;
    expect(JSON.parse(line)).toEqual({ afterFrame: 10, type: 'cycle-end-unanswered', atMs: 1050, sample: 'S', reason: 'clear', issue: 'not-connected', detail: 'the port closed before the rig answered END' });
    const replay = await openReplay(dir);
    expect([replay.cycleEnds, replay.unansweredEnds, replay.endSupported]).toEqual([[], [{ afterFrame: 10, sample: 'S', reason: 'clear', issue: { kind: 'not-connected', detail: 'the port closed before the rig answered END' } }], null]);
    const answers: string[] = [];
    const played: SourceEvent[] = [];
    await replay.run((e) => {
      played.push(e);
      if (e.type === 'frame' && e.seq === 1012) void replay.endCycle('clear').then((r) => answers.push(r.ok ? 'ok' : `${r.error.kind}: ${r.error.detail}`));
    }, new AbortController().signal);
    await Promise.resolve();
    expect(answers).toEqual(['not-connected: as recorded: the port closed before the rig answered END']);
    expect(played.filter((e) => e.type === 'ack')).toEqual([]);
    expect(played.filter((e) => e.type === 'frame')).toHaveLength(17);
    appendFileSync(join(dir, 'events.jsonl'), '{"afterFrame":3,"type":"cycle-end-unanswered","atMs":1,"sample":"S","reason":"clear","issue":"refused","detail":""}\n');
    const bad = await createReplaySource(dir);
    expect(bad.ok === false && bad.error.reason).toMatch(/^a cycle-end-unanswered line with a bad issue/);
  });

  it('keep older recordings readable: no cycle-end, endCycle unsupported; a bad cycle-end line is one readable reason', async () => {
    const dir = join(tempDir('old'), 'rec');
    const recorder = createRecorder(dir, { modelId: 'm', source: 'memory', startedAt: new Date() });
    recorder.write(INFO);
    for (const e of cycle()) recorder.write(e);
    await recorder.close();
    const replay = await openReplay(dir);
    expect([replay.cycleEnds, replay.endSupported]).toEqual([[], null]);
    const answers: string[] = [];
    await replay.run((e) => {
      if (e.type === 'frame' && e.seq === 1008) void replay.endCycle('clear').then((r) => answers.push(r.ok ? 'ok' : r.error.kind));
    }, new AbortController().signal);
    await Promise.resolve();
    expect(answers).toEqual(['unsupported']);
    appendFileSync(join(dir, 'events.jsonl'), '{"afterFrame":3,"type":"cycle-end","atMs":1,"sample":"S","reason":"","phase":"E","seq":1}\n');
    const bad = await createReplaySource(dir);
    expect(bad.ok === false && bad.error.reason).toMatch(/^a cycle-end line with a bad reason/);
  });
});
