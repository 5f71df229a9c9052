/**
 * Issue 6 item 3, first half: ingest throughput on one core. ENL/1 lines (pre-encoded, seeded synthetic
 * cycles) are fed in 4 KiB chunks, as a port delivers them, to the streaming decoder (line splitting, CRC,
 * number parsing, channel count and sequence checks) and its outputs to an EngineCore with a model and
 * `emitFrames: false` (cycle segmentation, streaming features, a verdict at the end of each exposure).
 * Reported for 8, 16 and 32 channels: decode only, and decode + segment (the engine's ingest), in frames per
 * second; the issue's goal is 500,000 16-channel frames per second.
 *
 * Checked before timing: the decoded frames equal the encoded ones (seq, time, phase, every value bit for
 * bit), no line is rejected, and the engine gives one predicted verdict per cycle.
 */
import { EngineCore } from '../src/engine/core.js';
import { createDecoder, encodeFrame, encodeInfo, type DecoderOutput } from '../src/io/protocol.js';
import type { ModelBundle } from '../src/model/bundle.js';
import type { EngineEvent, SourceEvent } from '../src/types.js';
import { SHORT_CYCLE, cycleFrames, rigEvents, trainSynthetic, type RigShape } from './fixtures.js';
import { announce, check, main, QUICK, report, timeOnce, type Row } from './harness.js';

const CHANNELS = [8, 16, 32] as const;
const CHUNK_BYTES = 4096;
const LINES = QUICK ? 20_000 : 200_000;
const REPEATS = QUICK ? 2 : 7;
const TARGET_16 = 500_000;

/** Decoder output as the source event a serial source hands the engine. */
function toSourceEvent(o: DecoderOutput, atMs: number): SourceEvent | null {
  switch (o.type) {
    case 'frame':
      return { type: 'frame', atMs, seq: o.frame.seq, tMs: o.frame.tMs, phase: o.frame.phase, values: o.frame.values };
    case 'info':
      return { type: 'info', atMs, ...o.info };
    case 'gap':
      return { type: 'gap', atMs, fromSeq: o.fromSeq, toSeq: o.toSeq, lost: o.lost };
    case 'reboot':
      return { type: 'reboot', atMs };
    case 'issue':
      return { type: 'issue', atMs, kind: o.kind, line: o.line, detail: o.detail };
    case 'ack':
      return { type: 'ack', atMs, command: o.ack.command, ok: o.ack.ok, detail: o.ack.detail ?? '' };
    default:
      return null;
  }
}

interface Encoded {
  readonly bytes: Buffer;
  readonly frames: { seq: number; tMs: number; phase: string; values: Float64Array }[];
  readonly cycles: number;
}

/** Whole cycles of frames as ENL/1 lines after an info line; values rounded to 0.1 ohm as a rig prints them. */
function encode(shape: RigShape, lines: number): Encoded {
  const cycles = Math.max(1, Math.floor(lines / cycleFrames(SHORT_CYCLE)));
  const parts: string[] = [];
  const frames: Encoded['frames'] = [];
  for (const e of rigEvents(shape, { seed: 11, cycles })) {
    if (e.type === 'info') {
      const { type: _t, atMs: _a, ...info } = e;
      parts.push(encodeInfo(info));
    } else if (e.type === 'frame') {
      const values = e.values.map((v) => Math.round(v * 10) / 10);
      frames.push({ seq: e.seq, tMs: e.tMs, phase: e.phase, values });
      parts.push(encodeFrame({ seq: e.seq, tMs: e.tMs, phase: e.phase, values }));
    }
  }
  return { bytes: Buffer.from(parts.join(''), 'latin1'), frames, cycles };
}

/** Feeds the bytes once; `core` null: decode only. Returns verdicts given. */
function feed(bytes: Buffer, core: EngineCore | null, sink?: (o: DecoderOutput) => void): void {
  const decoder = createDecoder();
  for (let at = 0; at < bytes.length; at += CHUNK_BYTES) {
    const outputs = decoder.push(bytes.subarray(at, Math.min(bytes.length, at + CHUNK_BYTES)), 0);
    for (let i = 0; i < outputs.length; i++) {
      const o = outputs[i]!;
      if (sink) sink(o);
      if (core) {
        const e = toSourceEvent(o, 0);
        if (e) core.push(e);
      }
    }
  }
  for (const o of decoder.end(0)) {
    if (sink) sink(o);
    if (core) {
      const e = toSourceEvent(o, 0);
      if (e) core.push(e);
    }
  }
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

main(() => {
  announce('ingest throughput (one core)');
  for (const channels of CHANNELS) {
    const shape: RigShape = { gas: channels, env: [] };
    const encoded = encode(shape, LINES);
    const frameCount = encoded.frames.length;
    const model: ModelBundle = trainSynthetic(shape, QUICK ? 300 : 1000, 'lda', 1, { cvFolds: 2 });

    // Check: decoded frames equal the encoded ones, nothing rejected, one predicted verdict per cycle.
    let index = 0;
    let issues = 0;
    feed(encoded.bytes, null, (o) => {
      if (o.type === 'issue') issues++;
      if (o.type !== 'frame') return;
      const want = encoded.frames[index++]!;
      const got = o.frame;
      check(got.seq === want.seq && got.tMs === want.tMs && got.phase === want.phase, `frame ${index}: header differs`);
      check(got.values.length === want.values.length, `frame ${index}: ${got.values.length} values`);
      for (let j = 0; j < want.values.length; j++) check(Object.is(got.values[j], want.values[j]), `frame ${index} value ${j}: ${got.values[j]} != ${want.values[j]}`);
    });
    check(issues === 0 && index === frameCount, `${channels} channels: ${index} of ${frameCount} frames decoded, ${issues} issues`);
    let verdicts = 0;
    let predicted = 0;
    const core = (): EngineCore =>
      new EngineCore(model, { emitFrames: false }, (e: EngineEvent) => {
        if (e.type === 'verdict') {
          verdicts++;
          if (e.class !== null) predicted++;
        }
      });
    const checkCore = core();
    feed(encoded.bytes, checkCore);
    checkCore.end();
    check(verdicts === encoded.cycles && predicted >= 0.95 * encoded.cycles, `${encoded.cycles} cycles gave ${verdicts} verdicts, ${predicted} predicted`);

    // Warm-up, then repeated timed passes (a new decoder and core each pass, as after a reconnect).
    feed(encoded.bytes, null);
    feed(encoded.bytes, core());
    const decodeOnly: number[] = [];
    const ingest: number[] = [];
    for (let r = 0; r < REPEATS; r++) {
      decodeOnly.push(frameCount / timeOnce(() => feed(encoded.bytes, null)).seconds);
      const c = core();
      ingest.push(frameCount / timeOnce(() => feed(encoded.bytes, c)).seconds);
    }
    const bytesPerFrame = encoded.bytes.length / frameCount;
    const name = `${channels} channels (${bytesPerFrame.toFixed(0)} B/line)`;
    const is16 = channels === 16;
    const rows: Row[] = [
      { group: 'ingest throughput (one core)', name, metric: 'decode + check (frames/s)', value: median(decodeOnly), unit: '/s', n: REPEATS, note: `${frameCount} lines x ${REPEATS} passes, median pass` },
      {
        group: 'ingest throughput (one core)',
        name,
        metric: 'decode + check + segment + features (frames/s)',
        value: median(ingest),
        unit: '/s',
        n: REPEATS,
        ...(is16 && { target: `>= ${TARGET_16.toLocaleString('en-US')}/s`, pass: median(ingest) >= TARGET_16 }),
        note: `${((median(ingest) * bytesPerFrame) / 2 ** 20).toFixed(0)} MiB/s; best pass ${Math.max(...ingest).toFixed(0)}/s`,
      },
    ];
    report(rows);
  }
});
