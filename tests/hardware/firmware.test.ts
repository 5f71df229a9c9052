/**
 * The firmware: the C codec (hardware/firmware/enl1.c) against the shared vectors and the TypeScript codec, the
 * reference sketch on the host stub (INFO, START, STOP, phases, what it prints), and the sketch for an Arduino Uno
 * (avr-gcc, simavr). Ending cycles on END: firmwareEnd.test.ts.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDecoder,
  decodeLine,
  encodeAck,
  encodeCommand,
  encodeFrame,
  encodeInfo,
  encodeLine,
  type DecoderOutput,
  type RigInfo,
} from '../../src/io/protocol.js';
import type { Frame } from '../../src/types.js';
import { rng } from '../helpers/enl1.js';
import { buildHostFirmware, compile, fwDir, hasTool, haveCompilers, repoRoot, type HostFirmware } from '../helpers/firmwareBuild.js';

const vectorsPath = path.resolve(repoRoot, '..', 'shared', 'protocol', 'enl1-vectors.jsonl');
const haveVectors = existsSync(vectorsPath);

if (!haveCompilers) console.warn('firmware tests skipped: gcc and g++ are not both on PATH');
if (!haveVectors) console.warn(`firmware vector test skipped: ${vectorsPath} is absent`);

let fw: HostFirmware | null = null;
let vectorsBin = '';
let rigBin = '';

beforeAll(() => {
  if (!haveCompilers) return;
  fw = buildHostFirmware();
  ({ vectorsBin, rigBin } = fw);
});

afterAll(() => fw?.remove());

/** Runs the C vector driver on instructions, one result line per instruction. */
function runVectors(instructions: readonly string[], onePerInstruction = true): string[] {
  const out = execFileSync(vectorsBin, { input: `${instructions.join('\n')}\n`, encoding: 'latin1', maxBuffer: 64 << 20 });
  const lines = out.split('\n');
  lines.pop();
  if (onePerInstruction) expect(lines.length).toBe(instructions.length);
  return lines;
}

/** The C driver instruction that should print `line` again, from the line's own text. */
function instructionFor(line: string): string {
  const r = decodeLine(line);
  if (!r.ok) throw new Error(`not a valid line: ${line}`);
  const m = r.message;
  switch (m.type) {
    case 'info':
      return `I ${m.info.rig} ${m.info.fw} ${m.info.rateHz} ${m.info.unit} ${m.info.channels.join(';')}`;
    case 'frame':
      return `F ${line.slice('$ENF,'.length, line.lastIndexOf('*')).split(',').join(' ')}`;
    case 'ack':
      return `A ${m.ack.command} ${m.ack.ok ? 'OK' : 'ERR'}${m.ack.detail !== undefined ? ` ${m.ack.detail}` : ''}`;
    case 'command':
      return m.command.command === 'START' ? `C START ${m.command.sampleId}` : m.command.command === 'END' ? `C END ${m.command.reason}` : `C ${m.command.command}`;
  }
}

describe.skipIf(!haveCompilers)('enl1.c on the host', () => {
  it('gives the CRC check value 29B1', () => {
    expect(runVectors(['X'])).toEqual(['29B1']);
  });

  it.skipIf(!haveVectors)('reproduces every valid line of the shared vectors byte for byte, and the decoder accepts them', () => {
    const vectors = readFileSync(vectorsPath, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { line: string; expect: string });
    const valid = vectors.filter((v) => ['info', 'frame', 'frame+gap', 'ack', 'command'].includes(v.expect));
    expect(valid.length).toBeGreaterThan(10);
    const printed = runVectors(valid.map((v) => instructionFor(v.line)));
    for (let i = 0; i < valid.length; i++) expect(printed[i], valid[i]!.line).toBe(valid[i]!.line);
    // The C parser reads the host's command lines as the TypeScript encoder writes them.
    const commands = valid.filter((v) => v.expect === 'command').map((v) => v.line);
    const parsed = runVectors(commands.map((c) => `P ${c}`));
    for (let i = 0; i < commands.length; i++) {
      const r = decodeLine(commands[i]!);
      if (!r.ok || r.message.type !== 'command') throw new Error('bad vector');
      const c = r.message.command;
      expect(parsed[i]).toBe(`ok ${c.command} ${c.command} ${c.command === 'START' ? c.sampleId : '-'}`);
    }
    const dec = createDecoder();
    const outs = printed.flatMap((l) => dec.push(`${l}\n`, 0));
    expect(outs.filter((o) => o.type === 'issue')).toEqual([]);
    expect(dec.counters().frames).toBe(valid.filter((v) => v.expect.startsWith('frame')).length);
  });

  it('formats numbers as String() does for values with up to 6 decimals, and nan', () => {
    const r = rng(7);
    const xs: number[] = [0, 1, -1, 0.5, 10, 1e-6, 123456.789, NaN];
    for (let i = 0; i < 400; i++) {
      const scale = 10 ** Math.floor(r() * 12);
      xs.push((Math.round((r() - 0.3) * scale) / 10 ** Math.floor(r() * 7)) || 0);
    }
    const got = runVectors(xs.map((x) => `N ${String(x)}`));
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i]!;
      // Within 15 significant digits and 6 decimals, the fixed-point text is the shortest one: String(x).
      if (Number.isNaN(x) || Math.abs(x) < 1e9) expect(got[i], String(x)).toBe(Number.isNaN(x) ? 'nan' : String(x));
      else expect(Math.abs(Number(got[i]) - x)).toBeLessThanOrEqual(Math.abs(x) * 1e-14);
    }
  });

  it('formats frames the decoder reads back within the stated resolution', () => {
    const r = rng(11);
    const frames: Frame[] = [];
    const special = [NaN, Infinity, -Infinity, 1e-7, -1e-7, 2.5e17, -3.75e21, 999999.9999996, 0.1 + 0.2];
    for (let i = 0; i < 300; i++) {
      const values = Float64Array.from({ length: 8 }, (_, k) => (i < 2 ? special[(i * 8 + k) % special.length]! : (r() - 0.1) * 10 ** (r() * 10 - 3)));
      frames.push({ seq: (i * 2654435761) >>> 0, tMs: Math.floor(r() * 2 ** 32), phase: 'IBER'[i % 4] as Frame['phase'], values });
    }
    const printed = runVectors(frames.map((f) => `F ${f.seq} ${f.tMs} ${f.phase} ${Array.from(f.values, (v) => String(v)).join(' ')}`));
    for (let i = 0; i < frames.length; i++) {
      const res = decodeLine(printed[i]!, { channelCount: 8 });
      if (!res.ok || res.message.type !== 'frame') throw new Error(`${printed[i]}: ${JSON.stringify(res)}`);
      const got = res.message.frame;
      const want = frames[i]!;
      expect([got.seq, got.tMs, got.phase]).toEqual([want.seq, want.tMs, want.phase]);
      for (let k = 0; k < 8; k++) {
        const x = want.values[k]!;
        const y = got.values[k]!;
        if (!Number.isFinite(x)) {
          expect(Number.isNaN(y), printed[i]).toBe(true);
          continue;
        }
        const tol = Math.abs(x) >= 1e15 ? Math.abs(x) * 1e-6 : Math.max(5.01e-7, Math.abs(x) * 1e-14);
        expect(Math.abs(y - x), `${x} -> ${y}`).toBeLessThanOrEqual(tol);
      }
    }
  });

  it('parses commands in the host order of checks and refuses bad fields', () => {
    const good = encodeCommand({ command: 'START', sampleId: 'AB-12 x' });
    const star = good.lastIndexOf('*');
    const lines = [
      good.trimEnd(),
      `${good.trimEnd()}\r`,
      `noise${encodeCommand({ command: 'STOP' }).trimEnd()}`,
      `${good.slice(0, star)}*${good.slice(star + 1, star + 5).toLowerCase()}`,
      `${good.slice(0, star)}*0000`,
      good.slice(0, star),
      encodeLine('ENC,JUMP').trimEnd(),
      encodeLine('ENC,STOP,now').trimEnd(),
      encodeLine(`ENC,START,${'x'.repeat(65)}`).trimEnd(),
      encodeLine('ENC,START').trimEnd(),
      encodeAck({ command: 'START', ok: true }).trimEnd(),
      `$ENC,${'x'.repeat(5000)}*0000`,
    ];
    expect(runVectors(lines.map((l) => `P ${l}`))).toEqual([
      'ok START START AB-12 x',
      'ok START START AB-12 x',
      'ok STOP STOP -',
      'malformed NONE ? -',
      'bad-checksum NONE ? -',
      'malformed NONE ? -',
      'unknown-command NONE JUMP -',
      'malformed NONE STOP -',
      'malformed NONE START -',
      'malformed NONE START -',
      'not-command NONE ? -',
      'too-long NONE ? -',
    ]);
  });

  it('formats and parses END with its reason, and refuses one without a reason or with a long one', () => {
    const end = encodeCommand({ command: 'END', reason: 'clear' });
    expect(runVectors(['C END clear', 'C END suspicious'])).toEqual([end.trimEnd(), encodeCommand({ command: 'END', reason: 'suspicious' }).trimEnd()]);
    expect(runVectors(['C END', `C END ${'r'.repeat(33)}`, 'C END a;b'])).toEqual(Array(3).fill('ERROR'));
    const lines = [end.trimEnd(), encodeLine('ENC,END').trimEnd(), encodeLine(`ENC,END,${'r'.repeat(33)}`).trimEnd(), encodeLine(`ENC,END,${'r'.repeat(32)}`).trimEnd(), encodeLine('ENC,END,a,b').trimEnd()];
    expect(runVectors(lines.map((l) => `P ${l}`))).toEqual(['ok END END clear', 'malformed NONE END -', 'malformed NONE END -', `ok END END ${'r'.repeat(32)}`, 'malformed NONE END -']);
  });

  it('assembles lines from bytes, dropping noise before the $ and lines without one', () => {
    expect(runVectors([`R xx$ENC,INFO*C25D|noise|\r|$ENC,STOP\r|$${'y'.repeat(200)}|`], false)).toEqual([
      'LINE 0 $ENC,INFO*C25D',
      'LINE 0 $ENC,STOP',
      `LINE 1 $${'y'.repeat(94)}`,
    ]);
  });

  it('refuses fields the wire cannot carry', () => {
    expect(runVectors(['A ST*RT OK', 'C START a,b', 'I r f 10 volt a;b', 'I r f 10 ohm a;a=b', 'F 1 2 X 1'])).toEqual(Array(5).fill('ERROR'));
  });
});

describe.skipIf(!haveCompilers)('the reference sketch on the host stub', () => {
  const INFO_CMD = encodeCommand({ command: 'INFO' }).trimEnd();
  const schedule = [
    `500 ${INFO_CMD}`,
    `1000 ${encodeCommand({ command: 'START', sampleId: 'TEST-1' }).trimEnd()}`,
    `1500 ${encodeCommand({ command: 'START', sampleId: 'TEST-2' }).trimEnd()}`,
    '2000 power-up noise without a dollar',
    '2100 $ENC,STOP*0000',
    `2200 ${encodeLine('ENC,JUMP').trimEnd()}`,
    `2300 ${encodeAck({ command: 'START', ok: true }).trimEnd()}`,
    `153000 ${encodeCommand({ command: 'START', sampleId: 'TEST-3' }).trimEnd()}`,
    `160000 ${encodeCommand({ command: 'STOP' }).trimEnd()}`,
  ];
  const totalMs = 165000;

  interface Run {
    readonly outputs: DecoderOutput[];
    readonly frames: Frame[];
    readonly pins: number[][];
    readonly info: RigInfo;
    /** The sketch's stdout, one line each, without '\n'. */
    readonly lines: string[];
  }
  let run: Run | null = null;

  function simulate(): Run {
    if (run !== null) return run;
    const res = spawnSync(rigBin, [String(totalMs)], { input: `${schedule.join('\n')}\n`, encoding: 'latin1', maxBuffer: 64 << 20 });
    if (res.status !== 0) throw new Error(`rig exited with ${res.status}: ${res.stderr}`);
    const dec = createDecoder();
    const outputs: DecoderOutput[] = [];
    let now = 0;
    let infos = 0;
    const lines = res.stdout.split('\n').filter((l) => l !== '');
    for (const line of lines) {
      if (line.startsWith('$ENI') && infos++ > 0) dec.infoRequested(now);
      for (const o of dec.push(`${line}\n`, now)) {
        if (o.type === 'frame') now = o.frame.tMs;
        outputs.push(o);
      }
    }
    const info = dec.info;
    if (info === null) throw new Error('no info line from the sketch');
    const pins = res.stderr
      .split('\n')
      .filter((l) => l.startsWith('PIN '))
      .map((l) => l.split(' ').slice(1).map(Number));
    const frames = outputs.flatMap((o) => (o.type === 'frame' ? [o.frame] : []));
    run = { outputs, frames, pins, info, lines };
    return run;
  }

  it('prints only lines the decoder accepts: info at boot, frames at 10 Hz without gaps', () => {
    const { outputs, frames, info } = simulate();
    expect(outputs.filter((o) => o.type === 'issue' || o.type === 'gap' || o.type === 'reboot' || o.type === 'need-info')).toEqual([]);
    expect(outputs[0]?.type).toBe('info');
    expect(outputs.filter((o) => o.type === 'info')).toHaveLength(2); // at boot and the answer to INFO
    expect(info).toMatchObject({ proto: 'ENL/1', rateHz: 10, unit: 'ohm' });
    expect(info.channels.length).toBeGreaterThanOrEqual(4);
    expect(info.channels.length).toBeLessThanOrEqual(8);
    expect(frames.length).toBe(totalMs / 100 - 1);
    frames.forEach((f, i) => {
      expect(f.seq).toBe(i);
      expect(f.tMs).toBe((i + 1) * 100);
    });
  });

  it('answers commands: START, busy, bad checksum, unknown, STOP; ignores noise and echoes', () => {
    const acks = simulate().outputs.flatMap((o) => (o.type === 'ack' ? [o.ack] : []));
    expect(acks).toEqual([
      { command: 'START', ok: true },
      { command: 'START', ok: false, detail: 'busy' },
      { command: '?', ok: false, detail: 'bad-checksum' },
      { command: 'JUMP', ok: false, detail: 'unknown-command' },
      { command: 'START', ok: true },
      { command: 'STOP', ok: true },
    ]);
  });

  it('runs B 30 s, E 60 s, R 60 s then I on START, and STOP aborts', () => {
    const { frames } = simulate();
    const runs: [string, number, number][] = [];
    for (const f of frames) {
      const last = runs[runs.length - 1];
      if (last !== undefined && last[0] === f.phase) last[2]++;
      else runs.push([f.phase, f.tMs, 1]);
    }
    expect(runs).toEqual([
      ['I', 100, 9],
      ['B', 1000, 300],
      ['E', 31000, 600],
      ['R', 91000, 600],
      ['I', 151000, 20],
      ['B', 153000, 70],
      ['I', 160000, 50],
    ]);
  });

  it('drives the pump and the valve with the phases', () => {
    expect(simulate().pins).toEqual([
      [1000, 7, 1],
      [31000, 8, 1],
      [91000, 8, 0],
      [151000, 7, 0],
      [153000, 7, 1],
      [160000, 7, 0],
    ]);
  });

  it('turns ADC counts into the sensor resistance, which falls under sample air and recovers', () => {
    const { frames } = simulate();
    // The stub's sensors: R0 = 20 k + 5 k * i behind 10 k load resistors; quantisation is about 0.5 %.
    const idle = frames.filter((f) => f.tMs < 1000);
    for (const f of idle) f.values.forEach((v, i) => expect(Math.abs(v / (20000 + 5000 * i) - 1)).toBeLessThan(0.015));
    const lateExposure = frames.filter((f) => f.phase === 'E' && f.tMs >= 80000);
    const lateRecovery = frames.filter((f) => f.phase === 'R' && f.tMs >= 140000);
    expect(lateExposure.length).toBeGreaterThan(50);
    for (const f of lateExposure) f.values.forEach((v, i) => expect(v / (20000 + 5000 * i)).toBeLessThan(0.5));
    for (const f of lateRecovery) f.values.forEach((v, i) => expect(Math.abs(v / (20000 + 5000 * i) - 1)).toBeLessThan(0.05));
  });

  it('prints every line exactly as the TypeScript encoders write what it means', () => {
    const { lines, outputs } = simulate();
    const messages = outputs.filter((o) => o.type === 'info' || o.type === 'frame' || o.type === 'ack');
    expect(messages.length).toBe(lines.length);
    messages.forEach((o, i) => {
      const again = o.type === 'info' ? encodeInfo(o.info) : o.type === 'frame' ? encodeFrame(o.frame) : o.type === 'ack' ? encodeAck(o.ack) : '';
      expect(again, lines[i]).toBe(`${lines[i]}\n`);
    });
  });
});

// Optional: the real target. Needs Debian's gcc-avr, avr-libc and arduino-core-avr (and simavr to run it).
const arduinoCore = '/usr/share/arduino/hardware/arduino/avr';
const haveAvr = hasTool('avr-gcc') && hasTool('avr-g++') && existsSync(path.join(arduinoCore, 'cores', 'arduino', 'Arduino.h'));
// simavr has no --version and exits with 1 on --help; finding it is enough.
const haveSimavr = haveAvr && spawnSync('sh', ['-c', 'command -v simavr'], { stdio: 'ignore' }).status === 0;
if (!haveAvr) console.warn('AVR build of the sketch skipped: needs avr-gcc, avr-libc and arduino-core-avr (apt-get install gcc-avr avr-libc arduino-core-avr)');
else if (!haveSimavr) console.warn('AVR run of the sketch skipped: simavr is not installed');

describe.skipIf(!haveAvr)('the reference sketch for an Arduino Uno (avr-gcc)', () => {
  it('compiles without warnings, fits an ATmega328P, and (under simavr) prints lines the decoder accepts', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'enose-avr-'));
    try {
      const core = path.join(arduinoCore, 'cores', 'arduino');
      const common = ['-Os', '-mmcu=atmega328p', '-DF_CPU=16000000L', '-DARDUINO=10807', '-DARDUINO_AVR_UNO', '-DARDUINO_ARCH_AVR', '-ffunction-sections', '-fdata-sections', `-I${core}`, `-I${path.join(arduinoCore, 'variants', 'standard')}`];
      const cxx = ['-std=gnu++11', '-fno-exceptions', '-fno-threadsafe-statics'];
      const objs: string[] = [];
      for (const f of readdirSync(core)) {
        const o = path.join(dir, `${f}.o`);
        const args = f.endsWith('.c') ? ['avr-gcc', [...common, '-std=gnu11']] : f.endsWith('.cpp') ? ['avr-g++', [...common, ...cxx]] : null;
        if (args === null) continue;
        // Debian's core has a file or two that its own avr-gcc cannot build (WString.cpp); the sketch needs none of them.
        const r = spawnSync(args[0] as string, [...(args[1] as string[]), '-w', '-c', path.join(core, f), '-o', o]);
        if (r.status === 0) objs.push(o);
      }
      const ours = (cmd: string, args: string[]): void => {
        const r = spawnSync(cmd, args, { encoding: 'utf8' });
        expect(r.status, r.stderr).toBe(0);
        expect(r.stderr, 'warnings in our code').toBe('');
      };
      ours('avr-gcc', [...common, '-std=c99', '-Wall', '-Wextra', '-Wpedantic', '-c', path.join(fwDir, 'enl1.c'), '-o', path.join(dir, 'enl1.o')]);
      ours('avr-g++', [...common, ...cxx, '-Wall', '-Wextra', `-I${fwDir}`, '-x', 'c++', '-c', path.join(fwDir, 'enose_rig', 'enose_rig.ino'), '-o', path.join(dir, 'sketch.o')]);
      const elf = path.join(dir, 'rig.elf');
      compile('avr-gcc', ['-Os', '-mmcu=atmega328p', '-Wl,--gc-sections', ...objs, path.join(dir, 'enl1.o'), path.join(dir, 'sketch.o'), '-lm', '-o', elf]);
      const size = spawnSync('avr-size', ['-A', elf], { encoding: 'utf8' }).stdout;
      const section = (name: string): number => Number(new RegExp(`^\\${name}\\s+(\\d+)`, 'm').exec(size)?.[1] ?? 0);
      const flash = section('.text') + section('.data');
      const ram = section('.data') + section('.bss');
      console.info(`AVR build: flash ${flash} bytes of 32256, RAM ${ram} bytes of 2048 (static)`);
      expect(flash).toBeLessThan(32256);
      expect(ram).toBeLessThan(1536); // leave a quarter of the RAM for the stack
      if (!haveSimavr) return;
      const sim = spawnSync('simavr', ['-m', 'atmega328p', '-f', '16000000', elf], { encoding: 'latin1', timeout: 3000 });
      // simavr prints each UART line in colour on stderr, with the '\n' shown as '.'.
      const lines = `${sim.stdout}\n${sim.stderr}`
        .replace(/\x1b\[[0-9;]*m/g, '')
        .split('\n')
        .filter((l) => l.startsWith('$') && l.endsWith('.'))
        .map((l) => `${l.slice(0, -1)}\n`);
      const dec = createDecoder();
      const outs = lines.flatMap((l) => dec.push(l, 0));
      expect(outs.filter((o) => o.type === 'issue' || o.type === 'gap')).toEqual([]);
      expect(outs[0]?.type).toBe('info');
      expect(dec.counters().frames).toBeGreaterThan(10);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
