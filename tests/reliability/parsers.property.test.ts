/**
 * Property-based tests (fast-check) of every parser a scanner service feeds untrusted bytes or files to:
 * the ENL/1 codec, the data set readers and the model loader. Whatever the input, each returns a value
 * (a message, a typed issue with file/line/reason, or a complete frozen model), never an escaping exception.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseFeatureCsv, parseFramesCsv, parseLibsvm } from '../../src/io/datasets/index.js';
import { crc16CcittFalse, createDecoder, decodeLine, encodeFrame, encodeInfo, MAX_LINE_BYTES, type DecoderOutput } from '../../src/io/protocol.js';
import { parseBundle } from '../../src/model/runtime/bundle.js';
import { REPO_ROOT } from '../helpers/shared.js';

const RUNS = Number(process.env['ENOSE_FC_RUNS'] ?? 300);
const MODEL_PATH = join(REPO_ROOT, 'datasets', 'container-sim', 'exposure-model.json.gz');

/** True when a line is `$body*HHHH` with HHHH the CRC-16/CCITT-FALSE of body (computed here, not by the codec's encoder). */
function hasValidChecksum(line: string): boolean {
  const body = line.replace(/\r?\n$/, '');
  const star = body.lastIndexOf('*');
  if (star < 0) return false;
  if (body[0] !== '$' || !/^[0-9A-F]{4}$/.test(body.slice(star + 1))) return false;
  const bytes = new Uint8Array(Buffer.from(body.slice(0, star), 'latin1'));
  return parseInt(body.slice(star + 1), 16) === crc16CcittFalse(bytes, 1);
}

/** A valid ENL/1 frame line, then a few of its bytes replaced: near-valid input reaches the deep paths. */
const frameLine = fc
  .record({
    seq: fc.nat({ max: 0xffffffff }),
    tMs: fc.nat({ max: 0xffffffff }),
    phase: fc.constantFrom('I', 'B', 'E', 'R'),
    values: fc.array(fc.double({ min: -1e9, max: 1e9, noNaN: true }), { minLength: 1, maxLength: 20 }),
  })
  .map((f) => encodeFrame({ seq: f.seq, tMs: f.tMs, phase: f.phase as 'I', values: Float64Array.from(f.values) }));
const mutatedLine = fc.tuple(frameLine, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 })).map(([line, edits]) => {
  const b = Buffer.from(line, 'latin1');
  for (const [at, v] of edits) b[at % b.length] = v;
  return new Uint8Array(b);
});
const anyBytes = fc.oneof(fc.uint8Array({ maxLength: 600 }), mutatedLine, frameLine.map((l) => new Uint8Array(Buffer.from(l, 'latin1'))));

describe('ENL/1 codec: any bytes', () => {
  it('decodeLine never throws; an accepted frame re-encodes to a line with a valid checksum that decodes to the same frame', () => {
    fc.assert(
      fc.property(anyBytes, (bytes) => {
        const r = decodeLine(bytes);
        if (!r.ok) {
          expect(typeof r.issue.kind).toBe('string');
          expect(r.issue.line.length).toBeLessThanOrEqual(200);
          return;
        }
        if (r.message.type !== 'frame') return;
        const again = encodeFrame(r.message.frame);
        expect(hasValidChecksum(again)).toBe(true);
        const back = decodeLine(again);
        expect(back.ok && back.message.type === 'frame').toBe(true);
        if (back.ok && back.message.type === 'frame') {
          expect(back.message.frame.seq).toBe(r.message.frame.seq);
          expect(Array.from(back.message.frame.values)).toEqual(Array.from(r.message.frame.values));
        }
      }),
      { numRuns: RUNS * 3 },
    );
  });

  it('the streaming decoder never throws on any chunking of any bytes, and every frame it accepts re-encodes with a valid checksum', () => {
    fc.assert(
      fc.property(fc.array(anyBytes, { maxLength: 12 }), fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 8 }), (parts, cuts) => {
        const all = Buffer.concat(parts.flatMap((p) => [Buffer.from(p), Buffer.from('\n')]));
        const d = createDecoder({ holdBackMs: 0 });
        let now = 0;
        let frames = 0;
        const see = (out: readonly DecoderOutput[]) => {
          for (const o of out) {
            if (o.type === 'frame') {
              frames++;
              expect(hasValidChecksum(encodeFrame(o.frame))).toBe(true);
            }
          }
        };
        for (let at = 0, k = 0; at < all.length; k++) {
          const n = cuts[k % cuts.length]!;
          see(d.push(all.subarray(at, at + n), (now += 1)));
          at += n;
          expect(d.pendingBytes).toBeLessThanOrEqual(MAX_LINE_BYTES + 1);
        }
        see(d.end(now + 10_000));
        expect(d.counters().frames).toBe(frames);
      }),
      { numRuns: RUNS },
    );
  });

  it('an endless line without a line break keeps the buffer bounded and is reported too-long, then the decoder recovers', () => {
    const d = createDecoder({ holdBackMs: 0 });
    const chunk = Buffer.alloc(997, 0x41);
    let tooLong = 0;
    for (let i = 0; i < 2000; i++) {
      for (const o of d.push(chunk, i)) if (o.type === 'issue' && o.kind === 'too-long') tooLong++;
      expect(d.pendingBytes).toBeLessThanOrEqual(MAX_LINE_BYTES + 1);
    }
    for (const o of d.push('\n', 2001)) if (o.type === 'issue' && o.kind === 'too-long') tooLong++;
    expect(tooLong).toBeGreaterThanOrEqual(1);
    // About 2 MB went through; the decoder still takes a good line after it (an info line then a frame).
    const info = encodeInfo({ proto: 'ENL/1', rig: 'R1', fw: '1', rateHz: 10, unit: 'ohm', channels: ['a', 'b'] } as Parameters<typeof encodeInfo>[0]);
    const out = [...d.push(info, 3000), ...d.push(encodeFrame({ seq: 1, tMs: 100, phase: 'I', values: Float64Array.of(1, 2) }), 3001), ...d.end(9000)];
    expect(out.some((o) => o.type === 'issue' && o.kind === 'too-long')).toBe(false);
    expect(out.filter((o) => o.type === 'frame')).toHaveLength(1);
  });
});

/** Text made of the characters the readers care about, so that properties reach beyond the first cell. */
const csvish = fc.string({ unit: fc.constantFrom(...'0123456789.,-+e:;# \t\r\nabnNInfsample,label,t_s,phase,seq,"'.split('')), maxLength: 400 });
const anyText = fc.oneof(csvish, fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 }));

function expectTyped(r: { ok: boolean; error?: unknown }, source: string): void {
  if (r.ok) return;
  const e = r.error as { file: unknown; line: unknown; reason: unknown };
  expect(e.file).toBe(source);
  expect(Number.isInteger(e.line) && (e.line as number) >= 0).toBe(true);
  expect(typeof e.reason === 'string' && (e.reason as string).length > 0).toBe(true);
}

describe('data set readers: any text is a table or a typed issue', () => {
  const libsvmish = fc
    .array(fc.tuple(fc.constantFrom('1', '2', 'x', ''), fc.array(fc.tuple(fc.integer({ min: -2, max: 40 }), fc.constantFrom('1', '-2.5', 'nan', 'e', '', '1e400')), { maxLength: 6 })), { maxLength: 20 })
    .map((rows) => rows.map(([l, p]) => `${l} ${p.map(([i, v]) => `${i}:${v}`).join(' ')}`).join('\n'));
  it('parseLibsvm', () => {
    fc.assert(
      fc.property(fc.oneof(anyText, libsvmish), (text) => {
        const r = parseLibsvm(text, 'x/batch1.dat');
        expectTyped(r, 'x/batch1.dat');
        if (!r.ok) return;
        // A table is whole: count x width values, every one finite, one label, sample and group per row.
        expect(r.value.x.length).toBe(r.value.count * r.value.width);
        expect(r.value.labels.length).toBe(r.value.count);
        expect(r.value.samples.length).toBe(r.value.count);
        for (const v of r.value.x) expect(Number.isFinite(v)).toBe(true);
      }),
      { numRuns: RUNS * 2 },
    );
  });
  it('parseFeatureCsv', () => {
    fc.assert(
      fc.property(fc.oneof(anyText, csvish.map((t) => `sample,label,f1,f2\n${t}`)), (text) => {
        const r = parseFeatureCsv(text, 'f.csv');
        expectTyped(r, 'f.csv');
        if (r.ok) expect(r.value.x.length).toBe(r.value.count * r.value.width);
      }),
      { numRuns: RUNS * 2 },
    );
  });
  it('parseFramesCsv (strict and crash-tolerant)', () => {
    const framesish = fc.array(fc.array(fc.constantFrom('s1', '', 'x', '0', '0.1', '1', 'B', 'E', 'nan', '-3', '4294967296'), { maxLength: 8 }), { maxLength: 12 });
    fc.assert(
      fc.property(fc.oneof(anyText, framesish.map((rows) => `sample,label,t_s,phase,seq,t_rig_ms,a,b\n${rows.map((r) => r.join(',')).join('\n')}`)), fc.boolean(), (text, tolerate) => {
        expectTyped(parseFramesCsv(text, 'frames.csv', { tolerateCutLastLine: tolerate }), 'frames.csv');
      }),
      { numRuns: RUNS * 2 },
    );
  });
});

describe('model loader: any JSON is a complete frozen model or a typed issue', () => {
  const model = JSON.parse(gunzipSync(readFileSync(MODEL_PATH)).toString('utf8')) as Record<string, unknown>;
  const check = (json: unknown) => {
    const r = parseBundle(json, 'm.json');
    expectTyped(r, 'm.json');
    if (r.ok) {
      expect(Object.isFrozen(r.value)).toBe(true);
      expect(r.value.kind).toBe('enose-model');
    }
    return r;
  };

  it('the real model loads whole and frozen', () => {
    const r = check(structuredClone(model));
    expect(r.ok).toBe(true);
  });

  it('any JSON value', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => void check(v)), { numRuns: RUNS * 2 });
  });

  /** Paths to every leaf and object of the real model, to mutate one at a time. */
  const paths: (string | number)[][] = [];
  (function walk(v: unknown, p: (string | number)[]) {
    paths.push(p);
    if (Array.isArray(v)) v.slice(0, 3).forEach((x, i) => walk(x, [...p, i]));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...p, k]);
  })(model, []);

  it('mutations of a real model (a field deleted, retyped, resized or changed): rejected with a reason, never half-loaded', () => {
    let rejected = 0;
    fc.assert(
      fc.property(fc.constantFrom(...paths.filter((p) => p.length > 0)), fc.constantFrom('delete', 'null', 'string', 'number', 'empty-array', 'push', 'nan-ish'), (path, how) => {
        const m = structuredClone(model) as Record<string | number, unknown>;
        let parent = m as Record<string | number, unknown>;
        for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
        const key = path[path.length - 1]!;
        const old = parent[key];
        if (how === 'delete') {
          if (Array.isArray(parent)) parent.splice(key as number, 1);
          else delete parent[key];
        } else if (how === 'null') parent[key] = null;
        else if (how === 'string') parent[key] = 'x';
        else if (how === 'number') parent[key] = typeof old === 'number' ? old + 1 : 7;
        else if (how === 'empty-array') parent[key] = [];
        else if (how === 'push') parent[key] = Array.isArray(old) ? [...old, 0] : [old];
        else parent[key] = 1e308 * 10;
        const r = check(JSON.parse(JSON.stringify(m)));
        // The hash covers the content: any change that survives JSON must be refused.
        if (JSON.stringify(m) !== JSON.stringify(model)) {
          expect(r.ok).toBe(false);
          rejected++;
        }
      }),
      { numRuns: RUNS * 2 },
    );
    expect(rejected).toBeGreaterThan(0);
  });
});
