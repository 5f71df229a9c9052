/**
 * The ENL/1 decoder beyond the shared vectors: round trips, decodeLine, single-bit flips, bounded memory, frames
 * before an info line, sequence numbers, blank lines and garbage, and the CSV mode. The codec's vectors, CRC,
 * chunking, value parsing and encoders: protocol.test.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EnoseError } from '../../src/errors.js';
import {
  INFO_LIMITS,
  MAX_LINE_BYTES,
  createCsvDecoder,
  createDecoder,
  decodeLine,
  encodeAck,
  encodeCommand,
  encodeFrame,
  encodeInfo,
  encodeLine,
  type IssueKind,
  type RigInfo,
} from '../../src/io/protocol.js';
import type { Phase } from '../../src/types.js';
import { bytes, crcBitwise, frame, INFO6, types } from '../helpers/enl1.js';

describe('round trips', () => {
  const phase = fc.constantFrom<Phase>('I', 'B', 'E', 'R');

  it('frames decode to the identical doubles', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 0xffffffff }),
        fc.nat({ max: 0xffffffff }),
        phase,
        fc.array(fc.double({ noDefaultInfinity: true }), { minLength: 1, maxLength: 40 }),
        (seq, tMs, ph, vals) => {
          const f = frame(seq, tMs, ph, vals);
          const r = decodeLine(encodeFrame(f), { channelCount: vals.length });
          if (!r.ok || r.message.type !== 'frame') throw new Error(JSON.stringify(r));
          const got = r.message.frame;
          expect([got.seq, got.tMs, got.phase]).toEqual([seq, tMs, ph]);
          for (let i = 0; i < vals.length; i++) {
            const a = vals[i]!;
            const b = got.values[i]!;
            // String(-0) is "0": the sign of zero is the one thing the wire does not keep.
            expect(Object.is(a, b) || (a === 0 && b === 0), `${a} -> ${b}`).toBe(true);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('info, ack and command lines survive encode -> decode', () => {
    const name = fc.stringMatching(/^[a-z_][a-z0-9_]{0,11}$/);
    const text = fc.stringMatching(/^[A-Za-z0-9 ._:/-]{1,20}$/);
    fc.assert(
      fc.property(fc.uniqueArray(name, { minLength: 1, maxLength: 16 }), text, text, fc.double({ min: 0.01, max: INFO_LIMITS.maxRateHz, noNaN: true }), (channels, rig, fw, rateHz) => {
        const info: RigInfo = { proto: 'ENL/1', rig, fw, rateHz, unit: 'adc', channels };
        const r = decodeLine(encodeInfo(info));
        expect(r).toEqual({ ok: true, message: { type: 'info', info } });
      }),
    );
    fc.assert(
      fc.property(text, fc.boolean(), fc.option(text, { nil: undefined }), (command, ok, detail) => {
        const ack = detail === undefined ? { command, ok } : { command, ok, detail };
        expect(decodeLine(encodeAck(ack))).toEqual({ ok: true, message: { type: 'ack', ack } });
      }),
    );
    fc.assert(
      fc.property(text, (sampleId) => {
        const line = encodeCommand({ command: 'START', sampleId });
        const r = decodeLine(line);
        if (!r.ok || r.message.type !== 'command') throw new Error(JSON.stringify(r));
        expect(encodeCommand(r.message.command)).toBe(line);
      }),
    );
  });
});

describe('decodeLine', () => {
  const good = encodeFrame(frame(7, 700, 'E', [1.5, 2, 3, 4, 20, 40]));

  it('accepts CRLF, garbage before the $, exponents and nan', () => {
    expect(decodeLine(`\x00\xff@@${good.trimEnd()}\r\n`).ok).toBe(true);
    const r = decodeLine(encodeLine('ENF,1,2,R,1e3,-2.5E-2,+7,.5,5.,nan'), { channelCount: 6 });
    if (!r.ok || r.message.type !== 'frame') throw new Error(JSON.stringify(r));
    expect(Array.from(r.message.frame.values)).toEqual([1000, -0.025, 7, 0.5, 5, NaN]);
  });

  it('classifies bad lines with the fixed kinds', () => {
    const body = good.slice(1, good.indexOf('*'));
    const cases: [string, IssueKind][] = [
      [body, 'malformed'], // no $
      [`$${body}`, 'malformed'], // no *
      [`$${body}*12`, 'malformed'], // short checksum
      [`$${body}*12345`, 'malformed'], // long checksum
      ['$ENA,START,OK*b175', 'malformed'], // lower-case hex
      ['$ENA,START,OK*B175', 'ack' as IssueKind],
      [`$${body}*0000`.replace('*0000', `*${(crcBitwise(bytes(body)) ^ 1).toString(16).toUpperCase().padStart(4, '0')}`), 'bad-checksum'],
      [encodeLine('ENX,1,2'), 'malformed'],
      [encodeLine('ENF,1,2,I,1,2,3,4,5'), 'wrong-channel-count'],
      [encodeLine('ENF,1,2,I,1,2,3,4,5,6,7'), 'wrong-channel-count'],
      [encodeLine('ENF,1,2,I'), 'wrong-channel-count'],
      [encodeLine('ENF,4294967296,2,I,1,2,3,4,5,6'), 'malformed'],
      [encodeLine('ENF,-1,2,I,1,2,3,4,5,6'), 'malformed'],
      [encodeLine('ENF,1,2,IB,1,2,3,4,5,6'), 'malformed'],
      [encodeLine('ENF,1,2,i,1,2,3,4,5,6'), 'malformed'],
      [encodeLine('ENF,1,2,I,1,2,3,4,5,'), 'malformed'],
      [encodeLine('ENF,1,2,I,1,2,3,4,5,1e999'), 'malformed'],
      [encodeLine('ENF,1,2,I,1,2,3,4,5,NaN'), 'malformed'],
      [encodeLine('ENF,1,2,I,1,2,3,4,5,inf'), 'malformed'],
      [encodeLine('ENF,1,2,I,1,2,3,4,5,0x10'), 'malformed'],
      [encodeLine('ENI,proto=ENL/2,rig=a,fw=1,rate_hz=10,unit=ohm,channels=a'), 'malformed'],
      [encodeLine('ENI,proto=ENL/1,rig=a,fw=1,rate_hz=10,unit=volt,channels=a'), 'malformed'],
      [encodeLine('ENI,proto=ENL/1,rig=a,fw=1,rate_hz=-1,unit=ohm,channels=a'), 'malformed'],
      [encodeLine('ENI,proto=ENL/1,rig=a,fw=1,rate_hz=10,unit=ohm,channels=a;;b'), 'malformed'],
      [encodeLine('ENI,proto=ENL/1,rig=a,fw=1,rate_hz=10,unit=ohm,channels=a;a'), 'malformed'],
      [encodeLine('ENI,proto=ENL/1,rig=a,fw=1,rate_hz=10,unit=ohm'), 'malformed'],
      [encodeLine('ENA,START'), 'malformed'],
      [encodeLine('ENA,START,MAYBE'), 'malformed'],
      [encodeLine('ENC,START'), 'malformed'],
      [encodeLine('ENC,STOP,now'), 'malformed'],
      [encodeLine('ENC,JUMP'), 'malformed'],
      [`$${'1,'.repeat(2100)}*0000`, 'too-long'],
    ];
    for (const [line, kind] of cases) {
      const r = decodeLine(line, { channelCount: 6 });
      expect(r.ok ? r.message.type : r.issue.kind, line.slice(0, 80)).toBe(kind);
    }
  });

  it('keeps unknown info keys out of the way (forward compatible)', () => {
    const r = decodeLine(encodeLine('ENI,proto=ENL/1,rig=a,fw=1,rate_hz=2.5,unit=adc,channels=x;y,heater=on'));
    expect(r).toEqual({ ok: true, message: { type: 'info', info: { proto: 'ENL/1', rig: 'a', fw: '1', rateHz: 2.5, unit: 'adc', channels: ['x', 'y'] } } });
  });

  it('counts the 4096-byte limit without the newline and one CR', () => {
    const pad = (n: number): string => {
      const head = 'ENA,X,ERR,';
      const tail = 'x'.repeat(n - head.length - 6); // $ + body + *HHHH
      return encodeLine(head + tail).trimEnd();
    };
    expect(pad(MAX_LINE_BYTES).length).toBe(MAX_LINE_BYTES);
    const dec = createDecoder();
    expect(types(dec.push(`${pad(MAX_LINE_BYTES)}\r\n`, 0))).toEqual(['ack']);
    expect(types(dec.push(`${pad(MAX_LINE_BYTES + 1)}\n`, 0))).toEqual(['issue:too-long']);
    expect(types(dec.push(`${pad(MAX_LINE_BYTES + 1)}\r\n`, 0))).toEqual(['issue:too-long']);
  });
});

describe('single-bit flips', () => {
  it('are never accepted, exhaustively over every bit of a frame, an info, an ack and a command line', () => {
    const info = encodeInfo(INFO6);
    const lines = [
      encodeFrame(frame(11, 1100, 'E', [48211.5, 31877.25, 40210, 52001.125, 21.5, 54.2])),
      encodeFrame(frame(12, 1200, 'R', [NaN, 0.001, 1e21, -3, 21.5, 54.2])),
      info,
      encodeAck({ command: 'START', ok: false, detail: 'busy' }),
      encodeCommand({ command: 'START', sampleId: 'MSCU1234567' }),
    ];
    let flips = 0;
    for (const line of lines) {
      const clean = bytes(line);
      for (let i = 0; i < clean.length; i++) {
        for (let bit = 0; bit < 8; bit++) {
          const dec = createDecoder();
          dec.push(info, 0);
          dec.push(encodeFrame(frame(10)), 0);
          const flipped = clean.slice();
          flipped[i]! ^= 1 << bit;
          // A flipped '\n' joins the line to what follows: end it with one more.
          const outs = [...dec.push(flipped, 1), ...dec.push('\n', 1)];
          const accepted = outs.filter((o) => o.type !== 'issue');
          expect(accepted, `byte ${i} bit ${bit} of ${line.trimEnd()}`).toEqual([]);
          expect(outs.length).toBeGreaterThan(0);
          flips++;
        }
      }
    }
    expect(flips).toBe(lines.reduce((n, l) => n + l.length * 8, 0));
  });
});

describe('bounded memory', () => {
  it('a 10 MB line without a newline, fed in chunks, never buffers more than one line', () => {
    const dec = createDecoder();
    dec.push(encodeInfo(INFO6), 0);
    const chunk = new Uint8Array(65536).fill(0x31);
    chunk[0] = 0x24;
    let maxPending = 0;
    let outputs = 0;
    for (let sent = 0; sent < 10 * 1024 * 1024; sent += chunk.length) {
      outputs += dec.push(chunk, 0).length;
      maxPending = Math.max(maxPending, dec.pendingBytes);
    }
    expect(outputs).toBe(0);
    expect(maxPending).toBeLessThanOrEqual(MAX_LINE_BYTES + 1);
    const outs = dec.push(`\n${encodeFrame(frame(1)).trimEnd()}`, 0);
    expect(types(outs)).toEqual(['issue:too-long']);
    if (outs[0]?.type !== 'issue') throw new Error('no issue');
    expect(outs[0].line.length).toBeLessThanOrEqual(130);
    expect(outs[0].detail).toContain(String(10 * 1024 * 1024));
    // The next line decodes; a line without '\n' waits, and end() flushes it.
    expect(dec.pendingBytes).toBeGreaterThan(0);
    expect(types(dec.end(0))).toEqual(['frame']);
  });

  it('one 10 MB string in one push gives one too-long issue', () => {
    const dec = createDecoder();
    const outs = dec.push(`$${'9'.repeat(10 * 1024 * 1024)}\n${encodeInfo(INFO6)}`, 0);
    expect(types(outs)).toEqual(['issue:too-long', 'info']);
  });
});

describe('frames before any info line', () => {
  it('are held back with need-info, then released decoded when the info comes', () => {
    const dec = createDecoder();
    const first = dec.push(encodeFrame(frame(5)), 0);
    expect(first).toEqual([{ type: 'need-info', reason: 'no-info' }]);
    expect(dec.needsInfo).toBe(true);
    expect(dec.push(encodeFrame(frame(6)) + encodeFrame(frame(8)), 100)).toEqual([]);
    const outs = dec.push(encodeInfo(INFO6), 500);
    expect(types(outs)).toEqual(['info', 'frame', 'frame', 'gap', 'frame']);
    expect(outs.flatMap((o) => (o.type === 'frame' ? [o.frame.seq] : []))).toEqual([5, 6, 8]);
    expect(dec.needsInfo).toBe(false);
    expect(types(dec.push(encodeFrame(frame(9)), 600))).toEqual(['frame']);
  });

  it('time out as no-info after 2 s (by nowMs), by push or by poll, and need-info is asked again', () => {
    const dec = createDecoder();
    expect(types(dec.push(encodeFrame(frame(1)), 0))).toEqual(['need-info']);
    expect(types(dec.push(encodeFrame(frame(2)), 100))).toEqual([]);
    expect(dec.poll(1999)).toEqual([]);
    const timedOut = dec.poll(2000);
    expect(types(timedOut)).toEqual(['issue:no-info']);
    // A frame held 2 s after the first request asks again.
    expect(types(dec.push(encodeFrame(frame(3)), 2050))).toEqual(['need-info']);
    const outs = dec.push(encodeInfo(INFO6), 2150);
    // frame 2 (held at 100) expired at 2100; frame 3 is released.
    expect(types(outs)).toEqual(['issue:no-info', 'info', 'frame']);
    expect(dec.counters().issues['no-info']).toBe(2);
  });

  it('are bounded in number', () => {
    const dec = createDecoder({ holdBackFrames: 4 });
    let text = '';
    for (let s = 0; s < 6; s++) text += encodeFrame(frame(s));
    expect(types(dec.push(text, 0))).toEqual(['need-info', 'issue:no-info', 'issue:no-info']);
    expect(types(dec.push(encodeInfo(INFO6), 10))).toEqual(['info', 'frame', 'frame', 'frame', 'frame']);
  });

  it('with the wrong channel count are reported when the info comes', () => {
    const dec = createDecoder();
    dec.push(encodeFrame(frame(1, 0, 'I', [1, 2])), 0);
    expect(types(dec.push(encodeInfo(INFO6), 10))).toEqual(['info', 'issue:wrong-channel-count']);
  });

  it('all go as no-info at the end of the stream', () => {
    const dec = createDecoder();
    dec.push(encodeFrame(frame(1)) + encodeFrame(frame(2)), 0);
    expect(types(dec.end(10))).toEqual(['issue:no-info', 'issue:no-info']);
  });

  it('rejects bad options', () => {
    expect(() => createDecoder({ holdBackMs: -1 })).toThrow(EnoseError);
    expect(() => createDecoder({ holdBackFrames: 0 })).toThrow(EnoseError);
  });
});

describe('sequence', () => {
  function primed(): ReturnType<typeof createDecoder> {
    const dec = createDecoder();
    dec.push(encodeInfo(INFO6), 0);
    return dec;
  }

  it('wraps from 4294967295 to 0 without a gap, and counts a gap across the wrap', () => {
    const dec = primed();
    expect(types(dec.push(encodeFrame(frame(4294967295)) + encodeFrame(frame(0)), 0))).toEqual(['frame', 'frame']);
    const dec2 = primed();
    dec2.push(encodeFrame(frame(4294967294)), 0);
    const outs = dec2.push(encodeFrame(frame(1)), 0);
    expect(outs[0]).toEqual({ type: 'gap', fromSeq: 4294967295, toSeq: 0, lost: 2 });
    expect(dec2.counters().lostFrames).toBe(2);
  });

  it('an info line again is a reboot: seq restarts anywhere without a gap', () => {
    const dec = primed();
    dec.push(encodeFrame(frame(500)), 0);
    const outs = dec.push(encodeInfo(INFO6) + encodeFrame(frame(3)) + encodeFrame(frame(4)), 10);
    expect(outs.slice(0, 2)).toEqual([{ type: 'reboot', lastSeq: 500 }, { type: 'info', info: INFO6 }]);
    expect(types(outs.slice(2))).toEqual(['frame', 'frame']);
    expect(dec.counters().reboots).toBe(1);
  });

  it('the identical info line answering an announced INFO is not a reboot; a different one is', () => {
    const dec = primed();
    dec.push(encodeFrame(frame(20)), 0);
    dec.infoRequested(100);
    expect(types(dec.push(encodeInfo(INFO6), 300))).toEqual(['info']);
    expect(types(dec.push(encodeFrame(frame(23)), 400))).toEqual(['gap', 'frame']);
    expect(types(dec.push(encodeFrame(frame(3)), 500))).toEqual(['issue:repeated-seq']);
    // The announcement is used up; and a changed info is a reboot even when announced.
    expect(types(dec.push(encodeInfo(INFO6), 600))).toEqual(['reboot', 'info']);
    dec.infoRequested(700);
    expect(types(dec.push(encodeInfo({ ...INFO6, fw: '0.2' }), 800))).toEqual(['reboot', 'info']);
    dec.infoRequested(900);
    expect(types(dec.push(encodeInfo(INFO6), 900 + 2001))).toEqual(['reboot', 'info']);
  });

  it('an older seq is repeated-seq and dropped; the sequence goes on from the last accepted', () => {
    const dec = primed();
    dec.push(encodeFrame(frame(10)), 0);
    const outs = dec.push(encodeFrame(frame(5)), 0);
    expect(types(outs)).toEqual(['issue:repeated-seq']);
    if (outs[0]?.type !== 'issue') throw new Error('no issue');
    expect(outs[0].detail).toContain('behind');
    expect(types(dec.push(encodeFrame(frame(11)), 0))).toEqual(['frame']);
    // 2^31 ahead is forward, 2^31 + 1 ahead is behind.
    expect(types(dec.push(encodeFrame(frame(11 + 2 ** 31 + 1)), 0))).toEqual(['issue:repeated-seq']);
    expect(types(dec.push(encodeFrame(frame(11 + 2 ** 31 - 1)), 0))).toEqual(['gap', 'frame']);
  });

  it('three older frames counting up mean a silent restart: need-info, hold back, then a reboot', () => {
    const dec = primed();
    dec.push(encodeFrame(frame(1000)), 0);
    const a = dec.push(encodeFrame(frame(0)) + encodeFrame(frame(1)), 100);
    expect(types(a)).toEqual(['issue:repeated-seq', 'issue:repeated-seq']);
    expect(dec.push(encodeFrame(frame(2)), 300)).toEqual([{ type: 'need-info', reason: 'restart' }]);
    expect(dec.needsInfo).toBe(true);
    expect(dec.push(encodeFrame(frame(3)), 400)).toEqual([]);
    const outs = dec.push(encodeInfo(INFO6), 500);
    expect(types(outs)).toEqual(['reboot', 'info', 'frame', 'frame']);
    expect(outs.flatMap((o) => (o.type === 'frame' ? [o.frame.seq] : []))).toEqual([2, 3]);
    // Older frames that do not count up (stray duplicates) never trigger it.
    const dec2 = primed();
    dec2.push(encodeFrame(frame(1000)), 0);
    const stray = dec2.push(encodeFrame(frame(7)) + encodeFrame(frame(3)) + encodeFrame(frame(900)) + encodeFrame(frame(7)), 0);
    expect(types(stray)).toEqual(Array(4).fill('issue:repeated-seq'));
    expect(dec2.needsInfo).toBe(false);
  });

  it('reset() forgets the info and the sequence', () => {
    const dec = primed();
    dec.push(encodeFrame(frame(5)) + '$ENF,6,', 0);
    dec.reset();
    expect(dec.info).toBeNull();
    expect(dec.pendingBytes).toBe(0);
    expect(types(dec.push(encodeFrame(frame(5)), 0))).toEqual(['need-info']);
    expect(types(dec.push(encodeInfo(INFO6), 0))).toEqual(['info', 'frame']);
  });
});

describe('blank lines and garbage', () => {
  it('skips empty lines, ignores bytes before $, and calls a line without $ malformed', () => {
    const dec = createDecoder();
    const outs = dec.push(`\n\r\n\x00\x13garbage${encodeInfo(INFO6)}power-up noise\n`, 0);
    expect(types(outs)).toEqual(['info', 'issue:malformed']);
    expect(dec.counters().lines).toBe(2);
  });
});

describe('csv mode', () => {
  it('reads a header, values with spaces and CRLF, nan, and flags bad lines', () => {
    const dec = createCsvDecoder();
    const outs = dec.push('tgs2600, tgs2602,temp_c\r\n1.5, 2 ,21\r\n3,nan,22\n4,5\n6,x,7\n8,9,10\n');
    expect(outs[0]).toEqual({ type: 'header', channels: ['tgs2600', 'tgs2602', 'temp_c'], named: true });
    const kinds = outs.map((o) => (o.type === 'issue' ? o.kind : o.type));
    expect(kinds).toEqual(['header', 'values', 'values', 'wrong-channel-count', 'malformed', 'values']);
    const vals = outs.flatMap((o) => (o.type === 'values' ? [Array.from(o.values)] : []));
    expect(vals).toEqual([[1.5, 2, 21], [3, NaN, 22], [8, 9, 10]]);
    expect(dec.counters()).toEqual({ lines: 6, frames: 3, issues: { 'too-long': 0, malformed: 1, 'wrong-channel-count': 1 } });
  });

  it('names channels ch1..chN without a header, or takes them from the options', () => {
    const a = createCsvDecoder();
    expect(a.push('1,2\n')[0]).toEqual({ type: 'header', channels: ['ch1', 'ch2'], named: false });
    const b = createCsvDecoder({ channels: ['x', 'y', 'z'] });
    expect(b.push('1,2,3\n').map((o) => o.type)).toEqual(['values']);
    expect(b.push('1,2\n').map((o) => (o.type === 'issue' ? o.kind : o.type))).toEqual(['wrong-channel-count']);
    expect(() => createCsvDecoder({ channels: [] })).toThrow(EnoseError);
  });

  it('discards over-long lines with bounded memory and flushes a last line at the end', () => {
    const dec = createCsvDecoder();
    const outs = dec.push(`${'1,'.repeat(5000)}1\n7,8`);
    expect(outs.map((o) => o.type)).toEqual(['issue']);
    expect(dec.pendingBytes).toBe(3);
    expect(dec.end().map((o) => o.type)).toEqual(['header', 'values']);
  });
});
