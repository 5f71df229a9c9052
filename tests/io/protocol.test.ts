/**
 * The ENL/1 codec against the shared test vectors (../shared/protocol/enl1-vectors.jsonl), its CRC, chunk
 * boundaries, frame values and their parsing, and the encoders. The decoder beyond them: protocolDecoder.test.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EnoseError } from '../../src/errors.js';
import {
  crc16CcittFalse,
  createDecoder,
  decodeLine,
  encodeAck,
  encodeCommand,
  encodeFrame,
  encodeInfo,
  encodeLine,
  type DecoderOutput,
  type IssueKind,
  type RigInfo,
} from '../../src/io/protocol.js';
import type { Frame, Phase } from '../../src/types.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const vectorsPath = path.resolve(repoRoot, '..', 'shared', 'protocol', 'enl1-vectors.jsonl');
const haveVectors = existsSync(vectorsPath);
if (!haveVectors) console.warn(`protocol vectors skipped: ${vectorsPath} is absent`);

interface Vector {
  readonly line: string;
  readonly expect: string;
  readonly note: string;
}

function loadVectors(): Vector[] {
  return readFileSync(vectorsPath, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Vector);
}
import { bytes, crcBitwise, frame, INFO6, plain, rng, types } from '../helpers/enl1.js';

describe('crc16CcittFalse', () => {
  it('gives the check value 0x29B1 for "123456789"', () => {
    expect(crc16CcittFalse(bytes('123456789'))).toBe(0x29b1);
  });

  it('agrees with the bitwise definition on random input and honours start/end', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), fc.nat(), (data, a, b) => {
        const s = data.length === 0 ? 0 : a % data.length;
        const e = s + (data.length === 0 ? 0 : b % (data.length - s + 1));
        expect(crc16CcittFalse(data, s, e)).toBe(crcBitwise(data.subarray(s, e)));
      }),
    );
  });
});

describe('ENL/1 shared vectors', () => {
  it.skipIf(!haveVectors)('every vector, fed in order to one decoder, gives its expected outcome', () => {
    const vectors = loadVectors();
    expect(vectors.length).toBeGreaterThan(20);
    const dec = createDecoder();
    let t = 0;
    let lastAccepted: number | null = null;
    let infos = 0;
    const expectedIssues: Partial<Record<IssueKind, number>> = {};
    for (const v of vectors) {
      t += 100;
      const outs = dec.push(`${v.line}\n`, t);
      const what = `${v.expect} <- ${v.line.slice(0, 80)} (${v.note})`;
      const kinds = types(outs);
      if (v.expect === 'info') {
        expect(kinds, what).toEqual(infos === 0 ? ['info'] : ['reboot', 'info']);
        const info = outs.find((o) => o.type === 'info');
        if (info?.type !== 'info') throw new Error('no info');
        expect(encodeInfo(info.info), what).toBe(`${v.line}\n`);
        infos++;
        lastAccepted = null;
      } else if (v.expect === 'frame' || v.expect === 'frame+gap') {
        const f = outs.find((o) => o.type === 'frame');
        if (f?.type !== 'frame') throw new Error(`no frame for ${what}: ${JSON.stringify(outs)}`);
        expect(encodeFrame(f.frame), what).toBe(`${v.line}\n`);
        if (v.expect === 'frame') {
          expect(kinds, what).toEqual(['frame']);
        } else {
          expect(kinds, what).toEqual(['gap', 'frame']);
          const gap = outs[0];
          if (gap?.type !== 'gap' || lastAccepted === null) throw new Error('no gap or no earlier frame');
          const lost = (f.frame.seq - lastAccepted - 1) >>> 0;
          expect(gap.lost, what).toBe(lost);
          expect(gap.fromSeq).toBe((lastAccepted + 1) >>> 0);
          expect(gap.toSeq).toBe((f.frame.seq - 1) >>> 0);
          const noted = /\((\d+)\)/.exec(v.note);
          if (noted) expect(gap.lost, what).toBe(Number(noted[1]));
        }
        lastAccepted = f.frame.seq;
      } else if (v.expect === 'ack') {
        expect(kinds, what).toEqual(['ack']);
        const a = outs[0];
        if (a?.type !== 'ack') throw new Error('no ack');
        expect(encodeAck(a.ack), what).toBe(`${v.line}\n`);
      } else if (v.expect === 'command') {
        expect(kinds, what).toEqual(['command']);
        const c = outs[0];
        if (c?.type !== 'command') throw new Error('no command');
        expect(encodeCommand(c.command), what).toBe(`${v.line}\n`);
      } else if (v.expect.startsWith('issue:')) {
        const kind = v.expect.slice('issue:'.length) as IssueKind;
        expect(kinds, what).toEqual([v.expect]);
        const issue = outs[0];
        if (issue?.type !== 'issue') throw new Error('no issue');
        expect(issue.line.length, what).toBeLessThanOrEqual(130);
        expect(issue.detail.length).toBeGreaterThan(0);
        expectedIssues[kind] = (expectedIssues[kind] ?? 0) + 1;
      } else {
        throw new Error(`unknown expectation ${v.expect}`);
      }
    }
    const c = dec.counters();
    expect(c.lines).toBe(vectors.length);
    for (const [kind, n] of Object.entries(c.issues)) expect(n, kind).toBe(expectedIssues[kind as IssueKind] ?? 0);
    expect(c.frames).toBe(vectors.filter((v) => v.expect.startsWith('frame')).length);
    expect(c.reboots).toBe(infos - 1);
  });

  it.skipIf(!haveVectors)('gives the same outputs whatever the chunk boundaries (bytes or strings, CRLF too)', () => {
    const vectors = loadVectors();
    const text = vectors.map((v) => `${v.line}\n`).join('');
    const reference = createDecoder();
    const expected = plain(vectors.flatMap((v) => reference.push(`${v.line}\n`, 0)));
    expect(expected.length).toBeGreaterThanOrEqual(vectors.length);
    const all = bytes(text);
    const crlf = bytes(vectors.map((v) => `${v.line}\r\n`).join(''));
    for (let seed = 1; seed <= 40; seed++) {
      const r = rng(seed);
      const maxChunk = [1, 3, 17, 200, 5000, 100000][seed % 6]!;
      for (const input of [all, crlf]) {
        const dec = createDecoder();
        const got: DecoderOutput[] = [];
        for (let p = 0; p < input.length; ) {
          const n = 1 + Math.floor(r() * maxChunk);
          const piece = input.subarray(p, p + n);
          got.push(...(seed % 2 === 0 ? dec.push(piece, 0) : dec.push(String.fromCharCode(...piece), 0)));
          p += n;
        }
        expect(plain(got), `seed ${seed}`).toEqual(expected);
        expect(dec.pendingBytes).toBe(0);
      }
    }
  });
});

describe('chunk boundaries', () => {
  it.skipIf(!haveVectors)('splitting the vectors in two at every byte gives the same outputs', () => {
    const text = bytes(loadVectors().map((v) => `${v.line}\r\n`).join(''));
    const expected = plain(createDecoder().push(text, 0));
    for (let cut = 0; cut <= text.length; cut++) {
      const dec = createDecoder();
      const got = [...dec.push(text.subarray(0, cut), 0), ...dec.push(text.subarray(cut), 0)];
      if (got.length !== expected.length) expect(plain(got), `cut at ${cut}`).toEqual(expected);
    }
    // Full comparison on a sample of cuts (the length check above covers every cut cheaply).
    for (let cut = 0; cut <= text.length; cut += 37) {
      const dec = createDecoder();
      expect(plain([...dec.push(text.subarray(0, cut), 0), ...dec.push(text.subarray(cut), 0)]), `cut at ${cut}`).toEqual(expected);
    }
  });
});

describe('frame values', () => {
  it('are separate arrays of the announced length, safe to keep and to change', () => {
    const dec = createDecoder();
    dec.push(encodeInfo(INFO6), 0);
    let text = '';
    for (let s = 0; s < 50; s++) text += encodeFrame(frame(s, s, 'B', [s, s + 0.5, -s, s / 8, 20, 40]));
    const frames = dec.push(text, 0).flatMap((o) => (o.type === 'frame' ? [o.frame] : []));
    expect(frames).toHaveLength(50);
    for (const f of frames) f.values.fill(-1);
    for (const f of frames) expect(f.values.length).toBe(6);
    const again = createDecoder();
    again.push(encodeInfo(INFO6), 0);
    const fresh = again.push(text, 0).flatMap((o) => (o.type === 'frame' ? [o.frame] : []));
    fresh[10]!.values[0] = 999;
    expect(Array.from(fresh[9]!.values)).toEqual([9, 9.5, -9, 9 / 8, 20, 40]);
    expect(Array.from(fresh[11]!.values)).toEqual([11, 11.5, -11, 11 / 8, 20, 40]);
    expect(Array.from(frames[3]!.values)).toEqual([-1, -1, -1, -1, -1, -1]);
  });

  it('stay intact across many shared buffers, for 1 to 40 channels, in one push or line by line', () => {
    for (const channels of [1, 6, 16, 40]) {
      const info: RigInfo = { ...INFO6, channels: Array.from({ length: channels }, (_, k) => `c${k}`) };
      const sent: Frame[] = [];
      let text = encodeInfo(info);
      // 600 frames of 40 channels fill about 24 of the 8 KiB buffers the values share.
      for (let s = 0; s < 600; s++) {
        const f = frame(s, s * 100, 'E', Array.from({ length: channels }, (_, k) => s * 1000 + k + 0.5));
        sent.push(f);
        text += encodeFrame(f);
      }
      const whole = createDecoder().push(text, 0);
      const byLine = createDecoder();
      const lines = text.split(/(?<=\n)/);
      const one = lines.flatMap((l) => [...byLine.push(l, 0)]);
      for (const outs of [whole, one]) {
        const got = outs.flatMap((o) => (o.type === 'frame' ? [o.frame] : []));
        expect(got).toHaveLength(sent.length);
        // Checked after every frame was decoded: a later frame must not have written over an earlier one.
        for (let s = 0; s < sent.length; s++) expect(Array.from(got[s]!.values)).toEqual(Array.from(sent[s]!.values));
      }
    }
  });
});

describe('frame value parsing', () => {
  /** Decodes one frame line through the streaming decoder and through decodeLine; both must agree. */
  function decodeValues(fields: readonly string[]): Float64Array | string {
    const line = encodeLine(`ENF,7,700,E,${fields.join(',')}`);
    const one = decodeLine(line, { channelCount: fields.length });
    const dec = createDecoder();
    dec.push(encodeInfo({ ...INFO6, channels: fields.map((_, k) => `c${k}`) }), 0);
    const outs = dec.push(line, 0);
    const streamed = outs.find((o) => o.type === 'frame' || o.type === 'issue')!;
    if (!one.ok) {
      expect(streamed.type === 'issue' && streamed.kind).toBe(one.issue.kind);
      return one.issue.kind;
    }
    expect(streamed.type).toBe('frame');
    const a = one.message.type === 'frame' ? one.message.frame.values : new Float64Array(0);
    const b = streamed.type === 'frame' ? streamed.frame.values : new Float64Array(0);
    expect(Array.from(b)).toEqual(Array.from(a));
    for (let k = 0; k < a.length; k++) expect(Object.is(a[k], b[k])).toBe(true);
    return a;
  }

  it('reads every decimal form a rig prints as Number() does, bit for bit, short and long', () => {
    const forms = [
      '0', '-0', '0.0', '-0.0', '7', '-7', '48211.5', '-48211.5', '.5', '-.5', '5.', '-5.', '007', '00.25',
      '123456789012345', '12345678901234.5', '0.00000000000001', '1234567890123456', '123456789012345.6',
      '0.1234567890123456789', '99999999999999999999', '1e3', '-2.5E-3', '1e+300', '4.9e-324', '6.02214076e23',
      '9007199254740993', '0.30000000000000004', '1.7976931348623157e308',
    ];
    const got = decodeValues(forms);
    expect(got).toBeInstanceOf(Float64Array);
    forms.forEach((f, k) => expect(Object.is((got as Float64Array)[k], Number(f)), `${f} -> ${(got as Float64Array)[k]}`).toBe(true));
  });

  it('agrees with Number() on random decimal texts of 1 to 20 digits', () => {
    const digits = fc.stringMatching(/^[0-9]{1,20}$/);
    const text = fc
      .tuple(fc.boolean(), digits, fc.option(fc.stringMatching(/^[0-9]{0,12}$/)), fc.option(fc.integer({ min: -30, max: 30 })))
      .map(([neg, int, frac, exp]) => `${neg ? '-' : ''}${int}${frac === null ? '' : `.${frac}`}${exp === null ? '' : `e${exp}`}`);
    fc.assert(
      fc.property(fc.array(text, { minLength: 1, maxLength: 20 }), (fields) => {
        const got = decodeValues(fields);
        expect(got).toBeInstanceOf(Float64Array);
        fields.forEach((f, k) => expect(Object.is((got as Float64Array)[k], Number(f)), `${f}`).toBe(true));
      }),
      { numRuns: 400 },
    );
  });

  it('reads nan among numbers and rejects what is not a number, wherever it stands', () => {
    const got = decodeValues(['1.5', 'nan', '-2', 'nan']);
    expect(Array.from(got as Float64Array)).toEqual([1.5, NaN, -2, NaN]);
    for (const bad of ['', '-', '.', '+', '1.2.3', '1-2', '--1', '-nan', 'NaN', 'inf', 'Infinity', '1e', '1e+', '0x10', '1 ', ' 1', '5e999']) {
      for (const at of [0, 1, 2]) {
        const fields = ['1.5', '2.5', '3.5'];
        fields[at] = bad;
        expect(decodeValues(fields), `${JSON.stringify(bad)} at ${at}`).toBe('malformed');
      }
    }
  });
});

describe('encoders', () => {
  it('write commands byte for byte with a trailing newline', () => {
    expect(encodeCommand({ command: 'START', sampleId: 'MSCU1234567' })).toBe('$ENC,START,MSCU1234567*FDC1\n');
    expect(encodeCommand({ command: 'INFO' })).toBe('$ENC,INFO*C25D\n');
    const stop = encodeCommand({ command: 'STOP' });
    expect(stop.startsWith('$ENC,STOP*')).toBe(true);
    expect(decodeLine(stop)).toEqual({ ok: true, message: { type: 'command', command: { command: 'STOP' } } });
  });

  it('throw EnoseError on misuse', () => {
    const bad = [
      () => encodeCommand({ command: 'START', sampleId: 'a,b' }),
      () => encodeCommand({ command: 'START', sampleId: '' }),
      () => encodeCommand({ command: 'START', sampleId: 'x'.repeat(65) }),
      () => encodeInfo({ ...INFO6, channels: [] }),
      () => encodeInfo({ ...INFO6, channels: ['a', 'a'] }),
      () => encodeInfo({ ...INFO6, channels: ['a;b'] }),
      () => encodeInfo({ ...INFO6, rateHz: 0 }),
      () => encodeFrame({ ...frame(1), seq: 2 ** 32 }),
      () => encodeFrame({ ...frame(1), phase: 'X' as Phase }),
      () => encodeAck({ command: 'START', ok: false, detail: 'a*b' }),
    ];
    for (const f of bad) expect(f).toThrow(EnoseError);
  });

  it('write ±Infinity as nan (a failed reading)', () => {
    const line = encodeFrame(frame(1, 0, 'I', [Infinity, -Infinity, 1]));
    expect(line).toContain(',nan,nan,1*');
  });
});
