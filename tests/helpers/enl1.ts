/**
 * Shared pieces of the ENL/1 codec tests (tests/io/protocol.test.ts, protocolDecoder.test.ts): a six-channel rig,
 * frames, a seeded PRNG for chunk boundaries, and decoder outputs as plain data.
 */
import type { DecoderOutput, RigInfo } from '../../src/io/protocol.js';
import { mulberry32 } from '../../src/model/numeric/rng.js';
import type { Frame, Phase } from '../../src/types.js';

export const bytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** A small seeded PRNG for chunk boundaries (mulberry32, the engine's own). */
export const rng = mulberry32;

/** Outputs as plain JSON-able data, so that runs can be compared with toEqual. */
export function plain(outputs: readonly DecoderOutput[]): unknown[] {
  return outputs.map((o) => (o.type === 'frame' ? { ...o, frame: { ...o.frame, values: Array.from(o.frame.values, (v) => (Number.isNaN(v) ? 'nan' : v)) } } : o));
}

export const INFO6: RigInfo = {
  proto: 'ENL/1',
  rig: 'T1',
  fw: '0.1',
  rateHz: 10,
  unit: 'ohm',
  channels: ['s1', 's2', 's3', 's4', 'temp_c', 'rh_pct'],
};

export function frame(seq: number, tMs = (seq * 100) % 2 ** 32, phase: Phase = 'B', values: readonly number[] = [1, 2, 3, 4, 21.5, 50]): Frame {
  return { seq, tMs, phase, values: Float64Array.from(values) };
}

export const types = (outs: readonly DecoderOutput[]): string[] => outs.map((o) => (o.type === 'issue' ? `issue:${o.kind}` : o.type));

/** Bitwise CRC-16/CCITT-FALSE straight from the definition, as the reference for the table-driven one. */
export function crcBitwise(data: Uint8Array): number {
  let crc = 0xffff;
  for (const b of data) {
    crc ^= b << 8;
    for (let k = 0; k < 8; k++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}
