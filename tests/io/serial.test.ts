/**
 * The serial source on serialport's MockBinding (SerialPortMock): how codec outputs become source events,
 * INFO on demand, the stale first line, reconnects with back-off, the gap across a disconnect, one-line
 * port errors, the csv mode's host-timed phases, the silence watchdog; and the port listing / --port auto.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPortMock } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { EnoseError } from '../../src/errors.js';
import { encodeAck, encodeCommand, encodeFrame, encodeInfo } from '../../src/io/protocol.js';
import {
  createSerialSource,
  DEFAULT_RIG_IDS,
  listPorts,
  parseRigIds,
  pickRigPort,
  type SerialPortInfo,
  type SerialSourceOptions,
} from '../../src/io/serial.js';
import type { RigInfo, SourceEvent } from '../../src/types.js';
import { waitFor } from '../helpers/pty.js';

const MockBinding = SerialPortMock.binding;
const INFO: RigInfo = { proto: 'ENL/1', rig: 'R7', fw: '1.0', rateHz: 10, unit: 'ohm', channels: ['a', 'b', 'temp_c'] };
const frame = (seq: number, phase: 'I' | 'B' | 'E' | 'R' = 'I', a = 1000 + seq) => encodeFrame({ seq, tMs: seq * 100, phase, values: Float64Array.from([a, 2000.5, 21.25]) });

interface Harness {
  readonly events: SourceEvent[];
  readonly ports: SerialPortMock[];
  readonly source: ReturnType<typeof createSerialSource>;
  readonly done: Promise<void>;
  readonly controller: AbortController;
  /** The port the source has open now. */
  port(): SerialPortMock;
  emit(data: string | Buffer): void;
  written(): string;
  stop(): Promise<void>;
}

let counter = 0;
function harness(options: Partial<SerialSourceOptions> = {}, create = true): Harness {
  const path = options.path ?? `/dev/ROBOT${++counter}`;
  if (create) MockBinding.createPort(path, { echo: false, record: true });
  const events: SourceEvent[] = [];
  const ports: SerialPortMock[] = [];
  const source = createSerialSource({
    path,
    reconnect: { initialDelayMs: 10, maxDelayMs: 40 },
    openPort: ({ path: p, baudRate }) => {
      const port = new SerialPortMock({ path: p, baudRate, autoOpen: false });
      ports.push(port);
      return port;
    },
    ...options,
  });
  const controller = new AbortController();
  const done = source.run((e) => events.push(e), controller.signal);
  done.catch(() => undefined);
  const port = () => ports.filter((p) => p.isOpen).at(-1)!;
  return {
    events,
    ports,
    source,
    done,
    controller,
    port,
    emit: (data) => port().port!.emitData(Buffer.isBuffer(data) ? data : Buffer.from(data, 'latin1')),
    written: () => ports.map((p) => (p.port ? p.port.recording.toString('latin1') : '')).join(''),
    stop: async () => {
      controller.abort();
      await done;
    },
  };
}

const ofType = <T extends SourceEvent['type']>(events: SourceEvent[], type: T) => events.filter((e): e is Extract<SourceEvent, { type: T }> => e.type === type);
const connected = (h: Harness, n = 1) => waitFor(() => ofType(h.events, 'state').filter((s) => s.state === 'connected').length >= n, `connected #${n}`, 30_000);

afterEach(() => MockBinding.reset());

describe('serial source on MockBinding', () => {
  it('maps info, frames, acks, issues and gaps to source events stamped with their arrival time', async () => {
    const h = harness();
    await connected(h);
    const before = performance.now();
    h.emit(encodeInfo(INFO) + frame(0) + frame(1) + encodeAck({ command: 'START', ok: true }) + '$ENF,2,200,I,1,2*0000\n' + frame(5, 'B', 1234.5));
    await waitFor(() => ofType(h.events, 'frame').length >= 3, 'three frames');
    const after = performance.now();
    const types = h.events.filter((e) => e.type !== 'state').map((e) => e.type);
    expect(types).toEqual(['info', 'frame', 'frame', 'ack', 'issue', 'gap', 'frame']);
    const info = ofType(h.events, 'info')[0]!;
    expect({ ...info, atMs: 0 }).toEqual({ type: 'info', atMs: 0, ...INFO });
    const frames = ofType(h.events, 'frame');
    expect(frames.map((f) => [f.seq, f.tMs, f.phase])).toEqual([
      [0, 0, 'I'],
      [1, 100, 'I'],
      [5, 500, 'B'],
    ]);
    expect(Array.from(frames[2]!.values)).toEqual([1234.5, 2000.5, 21.25]);
    for (const e of h.events.slice(1)) expect(e.atMs >= before && e.atMs <= after).toBe(true);
    expect(ofType(h.events, 'ack')[0]).toMatchObject({ command: 'START', ok: true, detail: '' });
    expect(ofType(h.events, 'issue')[0]).toMatchObject({ kind: 'bad-checksum' });
    expect(ofType(h.events, 'gap')[0]).toMatchObject({ fromSeq: 2, toSeq: 4, lost: 3 });
    expect(h.source.stats()).toMatchObject({ state: 'connected', framesDelivered: 3, connects: 1 });
    await h.stop();
    expect(h.source.stats().state).toBe('idle');
  });

  it('asks for INFO at connect and again when frames come without an info line; releases them when it comes; the repeated answer is not a second info', async () => {
    const h = harness();
    await connected(h);
    // Sent at connect: a rig already streaming is identified before its frames wait.
    await waitFor(() => h.written().includes('ENC,INFO'), 'INFO written at connect');
    h.emit(frame(40) + frame(41));
    // The codec asks too (the first INFO may have been lost): once per hold time.
    await waitFor(() => h.written() === encodeCommand({ command: 'INFO' }).repeat(2), 'INFO written again');
    h.emit(frame(42));
    await new Promise((r) => setTimeout(r, 30));
    expect(h.written()).toBe(encodeCommand({ command: 'INFO' }).repeat(2));
    expect(ofType(h.events, 'frame')).toHaveLength(0);
    h.emit(encodeInfo(INFO));
    await waitFor(() => ofType(h.events, 'frame').length === 3, 'held frames released');
    expect(ofType(h.events, 'frame').map((f) => f.seq)).toEqual([40, 41, 42]);
    // The rig answers both requests: the second, identical line is neither an info event nor a reboot.
    h.emit(encodeInfo(INFO) + frame(43));
    await waitFor(() => ofType(h.events, 'frame').length === 4, 'the next frame');
    expect(ofType(h.events, 'info')).toHaveLength(1);
    expect(ofType(h.events, 'reboot')).toHaveLength(0);
    await h.stop();
  });

  it('with infoOnOpen off, sends INFO only when the codec asks for it', async () => {
    const h = harness({ infoOnOpen: false });
    await connected(h);
    await new Promise((r) => setTimeout(r, 30));
    expect(h.written()).toBe('');
    h.emit(frame(40));
    await waitFor(() => h.written().includes('ENC,INFO'), 'INFO written');
    await h.stop();
  });

  it('reports held frames as no-info when no info line comes within the hold time', async () => {
    const h = harness({ holdBackMs: 60, pollMs: 20 });
    await connected(h);
    h.emit(frame(1) + frame(2));
    // Two identical issues in a row: one event that counts them (flushed within the run's hold time).
    await waitFor(() => ofType(h.events, 'issue').length === 1, 'the no-info issues', 30_000);
    expect(ofType(h.events, 'issue').map((i) => [i.kind, i.count])).toEqual([['no-info', 2]]);
    await h.stop();
  });

  it('drops the stale tail of a line that was in the buffers when the port opened', async () => {
    const h = harness();
    await connected(h);
    h.emit('8.5,2000.5,21.25*1A2B\n' + encodeInfo(INFO) + frame(7));
    await waitFor(() => ofType(h.events, 'frame').length === 1, 'a frame');
    expect(ofType(h.events, 'issue')).toHaveLength(0);
    expect(h.source.stats().bytesDropped).toBe('8.5,2000.5,21.25*1A2B\n'.length);
    await h.stop();
  });

  it('keeps a first line that holds a $ (noise before a message is no stale tail)', async () => {
    const h = harness();
    await connected(h);
    h.emit('\x00\xff' + encodeInfo(INFO));
    await waitFor(() => ofType(h.events, 'info').length === 1, 'the info line');
    expect(h.source.stats().bytesDropped).toBe(0);
    await h.stop();
  });

  it('survives an unplug: disconnected, reconnecting, connected, the cut line as an issue, and the gap across it', async () => {
    const h = harness();
    await connected(h);
    h.emit(encodeInfo(INFO) + frame(10) + frame(11) + '$ENF,12,1200,I,1');
    await waitFor(() => ofType(h.events, 'frame').length === 2, 'two frames');
    const first = h.port();
    first._disconnected(new Error('device unplugged'));
    await connected(h, 2);
    const states = ofType(h.events, 'state').map((s) => s.state);
    expect(states[0]).toBe('connected');
    expect(states[1]).toBe('disconnected');
    expect(states[2]).toBe('reconnecting');
    expect(states.at(-1)).toBe('connected');
    // The half line the unplug cut is an issue, never a frame.
    const cut = ofType(h.events, 'issue');
    expect(cut).toHaveLength(1);
    expect(cut[0]!.line).toContain('$ENF,12');
    // The rig kept counting while unplugged: the source answers need-info and reports what it missed.
    h.emit(frame(20));
    await waitFor(() => h.ports.at(-1)!.port!.recording.toString().includes('ENC,INFO'), 'INFO after the reconnect');
    h.emit(encodeInfo(INFO) + frame(21));
    await waitFor(() => ofType(h.events, 'frame').length === 4, 'frames after the reconnect');
    const gaps = ofType(h.events, 'gap');
    expect(gaps).toHaveLength(1);
    expect(gaps[0]).toMatchObject({ fromSeq: 12, toSeq: 19, lost: 8 });
    const next = h.events[h.events.findIndex((e) => e.type === 'gap') + 1];
    expect(next).toMatchObject({ type: 'frame', seq: 20 });
    expect(ofType(h.events, 'reboot')).toHaveLength(0);
    expect(h.source.stats()).toMatchObject({ connects: 2, disconnects: 1, bridgedGaps: 1, bridgedLostFrames: 8 });
    await h.stop();
  });

  it('no gap across a disconnect when the rig restarted (new info, seq back near 0)', async () => {
    const h = harness();
    await connected(h);
    h.emit(encodeInfo(INFO) + frame(500));
    await waitFor(() => ofType(h.events, 'frame').length === 1, 'a frame');
    h.port()._disconnected(new Error('gone'));
    await connected(h, 2);
    h.emit(encodeInfo({ ...INFO, fw: '1.1' }) + frame(0) + frame(1));
    await waitFor(() => ofType(h.events, 'frame').length === 3, 'frames after the restart');
    expect(ofType(h.events, 'gap')).toHaveLength(0);
    await h.stop();
  });

  it('retries a port that is gone with capped exponential back-off until it is back', async () => {
    const h = harness({ reconnect: { initialDelayMs: 5, maxDelayMs: 40 } });
    await connected(h);
    const path = h.source.path;
    MockBinding.reset(); // unplugged: the device node is gone
    h.port()._disconnected(new Error('gone'));
    await waitFor(() => h.source.stats().openFailures >= 5, 'five failed tries', 30_000);
    MockBinding.createPort(path, { echo: false, record: true });
    await connected(h, 2);
    const delays = ofType(h.events, 'state')
      .filter((s) => s.state === 'reconnecting')
      .map((s) => Number(/in (\d+) ms/.exec(s.detail)![1]));
    expect(delays.slice(0, 4)).toEqual([5, 10, 20, 40]);
    expect(Math.max(...delays)).toBe(40);
    await h.stop();
  });

  it('a port that does not exist when the source starts: run() rejects with one port-error line', async () => {
    const h = harness({ path: '/dev/does-not-exist' }, false);
    const error = await h.done.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnoseError);
    expect((error as EnoseError).code).toBe('port-error');
    expect((error as EnoseError).message).toBe('cannot open /dev/does-not-exist: no such device');
    expect(h.events).toHaveLength(0);
  });

  it('a busy port when the source starts: port-error saying so', async () => {
    MockBinding.createPort('/dev/BUSY', { echo: false, record: true });
    const holder = new SerialPortMock({ path: '/dev/BUSY', baudRate: 115200, autoOpen: false });
    await new Promise<void>((resolve, reject) => holder.open((e) => (e ? reject(e) : resolve())));
    const h = harness({ path: '/dev/BUSY' }, false);
    const error = (await h.done.catch((e: unknown) => e)) as EnoseError;
    expect(error.code).toBe('port-error');
    expect(error.message).toMatch(/^cannot open \/dev\/BUSY: port is busy/);
    expect(error.message).not.toContain('\n');
  });

  it('send() writes the encoded command, and refuses when not connected or for an id the protocol cannot carry', async () => {
    const h = harness();
    await expect(h.source.send({ command: 'START', sampleId: 'S1' })).rejects.toMatchObject({ code: 'port-error' });
    await connected(h);
    await h.source.send({ command: 'START', sampleId: 'MSCU1234567' });
    await h.source.send({ command: 'STOP' });
    // After the INFO sent at connect.
    expect(h.written()).toBe('$ENC,INFO*C25D\n$ENC,START,MSCU1234567*FDC1\n$ENC,STOP*6CB5\n');
    await expect(h.source.send({ command: 'START', sampleId: 'a,b' })).rejects.toMatchObject({ code: 'bad-usage' });
    expect(h.source.stats().commandsSent).toBe(3);
    await h.stop();
  });

  it('a silent port is closed and reopened by the watchdog', async () => {
    const h = harness({ silenceTimeoutMs: 100 });
    await connected(h);
    await connected(h, 2);
    const d = ofType(h.events, 'state').find((s) => s.state === 'disconnected')!;
    expect(d.detail).toMatch(/^no bytes for \d+ ms/);
    await h.stop();
  });
});

describe('serial source, csv mode', () => {
  it('makes up the info from the header, counts lines as seq, and times B, E, R after START on the host clock', async () => {
    // Phases of 0.15 s on the host clock. Each line is sent once the one before has come out as a frame (no
    // fixed pace), until a frame comes after the recovery. Every frame's phase must be the one its arrival
    // time falls in, whatever the machine's load; a phase with no frame at all would need a stall of the whole
    // test longer than the phase: such a run is retried with the next START (up to 5 cycles), never passed.
    const phaseS = 0.15;
    const h = harness({ protocol: 'csv', csv: { baselineS: phaseS, exposureS: phaseS, recoveryS: phaseS, rateHz: 50 } });
    await connected(h);
    h.emit('a,b,temp_c\n1,2,3\n');
    await waitFor(() => ofType(h.events, 'frame').length === 1, 'a frame');
    const expectedPhase = (atMs: number, startedAt: number) => {
      const s = (atMs - startedAt) / 1000;
      return s < phaseS ? 'B' : s < 2 * phaseS ? 'E' : s < 3 * phaseS ? 'R' : 'I';
    };
    let whole = false;
    for (let attempt = 0; attempt < 5 && !whole; attempt++) {
      const acksBefore = ofType(h.events, 'ack').length;
      await h.source.send({ command: 'START', sampleId: `S${attempt + 1}` });
      if (attempt === 0) await h.source.send({ command: 'START', sampleId: 'S-busy' });
      const ack = ofType(h.events, 'ack')[acksBefore]!;
      expect([ack.command, ack.ok, ack.detail]).toEqual(['START', true, 'host-timed']);
      const from = ofType(h.events, 'frame').length;
      for (;;) {
        const n = ofType(h.events, 'frame').length;
        h.emit('4, 5.5 ,nan\r\n');
        await waitFor(() => ofType(h.events, 'frame').length === n + 1, 'the next frame');
        const last = ofType(h.events, 'frame').at(-1)!;
        if (expectedPhase(last.atMs, ack.atMs) === 'I') break;
      }
      const cycle = ofType(h.events, 'frame').slice(from);
      for (const f of cycle) expect(f.phase, `frame ${f.seq} at ${(f.atMs - ack.atMs).toFixed(1)} ms`).toBe(expectedPhase(f.atMs, ack.atMs));
      const phases = cycle.map((f) => f.phase).filter((p, i, all) => i === 0 || p !== all[i - 1]);
      whole = phases.join('') === 'BERI';
      if (!whole) console.warn(`csv host-timed phases: attempt ${attempt + 1} saw ${phases.join('')} (a stall longer than a phase); trying the next cycle`);
    }
    expect(whole, 'a cycle with frames in each of B, E, R and I after it').toBe(true);
    h.emit('1,2\n');
    await waitFor(() => ofType(h.events, 'issue').length === 1, 'the short line');
    const info = ofType(h.events, 'info')[0]!;
    expect(info).toMatchObject({ proto: 'csv', rig: `csv:${h.source.path}`, rateHz: 50, unit: 'ohm', channels: ['a', 'b', 'temp_c'] });
    const frames = ofType(h.events, 'frame');
    expect(frames.map((f) => f.seq)).toEqual(frames.map((_, i) => i));
    expect(frames[0]!.phase).toBe('I');
    expect(Array.from(frames[1]!.values)).toEqual([4, 5.5, NaN]);
    for (const f of frames) expect(Math.abs(f.tMs - f.atMs)).toBeLessThan(1);
    // The second START, sent during the first cycle, is refused; every later one (a retried cycle) is taken.
    const acks = ofType(h.events, 'ack').map((a) => [a.command, a.ok, a.detail]);
    expect(acks.slice(0, 2)).toEqual([
      ['START', true, 'host-timed'],
      ['START', false, 'busy'],
    ]);
    for (const a of acks.slice(2)) expect(a).toEqual(['START', true, 'host-timed']);
    expect(ofType(h.events, 'issue')[0]!.kind).toBe('wrong-channel-count');
    expect(h.written()).toBe(''); // a csv rig gets no commands
    await h.stop();
  });

  it('drops a stale first data line but keeps a header; without a header the channels option names them', async () => {
    const h = harness({ protocol: 'csv', csv: { channels: ['x', 'y'] } });
    await connected(h);
    await waitFor(() => ofType(h.events, 'info').length === 1, 'the info from the option');
    h.emit('5,6\n7,8\n');
    await waitFor(() => ofType(h.events, 'frame').length === 1, 'one frame');
    expect(Array.from(ofType(h.events, 'frame')[0]!.values)).toEqual([7, 8]);
    expect(ofType(h.events, 'info')[0]!.channels).toEqual(['x', 'y']);
    await h.stop();
  });
});

describe('listing ports and --port auto', () => {
  const port = (path: string, vendorId: string | null, productId: string | null): SerialPortInfo => ({
    path,
    manufacturer: null,
    vendorId,
    productId,
    serialNumber: null,
    via: 'scan',
  });

  it('falls back to scanning /dev and sysfs when serialport cannot list (no udevadm)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'enose-ports-'));
    const dev = join(root, 'dev');
    const sys = join(root, 'sys');
    mkdirSync(dev);
    for (const n of ['ttyACM0', 'ttyUSB10', 'ttyUSB2', 'ttyS0', 'null']) writeFileSync(join(dev, n), '');
    // sysfs: ttyACM0 -> an interface of a USB device with ids; ttyUSB2 -> two levels below it; ttyUSB10: none.
    const usb = join(sys, 'devices', 'usb1', '1-1');
    mkdirSync(join(usb, '1-1:1.0', 'ttyUSB2'), { recursive: true });
    writeFileSync(join(usb, 'idVendor'), '2341\n');
    writeFileSync(join(usb, 'idProduct'), '0043\n');
    writeFileSync(join(usb, 'manufacturer'), 'Arduino (www.arduino.cc)\n');
    writeFileSync(join(usb, 'serial'), '7563\n');
    mkdirSync(join(sys, 'class', 'tty', 'ttyACM0'), { recursive: true });
    mkdirSync(join(sys, 'class', 'tty', 'ttyUSB2'), { recursive: true });
    symlinkSync(join(usb, '1-1:1.0'), join(sys, 'class', 'tty', 'ttyACM0', 'device'));
    symlinkSync(join(usb, '1-1:1.0', 'ttyUSB2'), join(sys, 'class', 'tty', 'ttyUSB2', 'device'));
    const ports = await listPorts({
      list: () => Promise.reject(new Error('spawn udevadm ENOENT')),
      devDir: dev,
      sysTtyDir: join(sys, 'class', 'tty'),
    });
    expect(ports.map((p) => p.path)).toEqual([join(dev, 'ttyACM0'), join(dev, 'ttyUSB2'), join(dev, 'ttyUSB10')]);
    expect(ports[0]).toMatchObject({ vendorId: '2341', productId: '0043', manufacturer: 'Arduino (www.arduino.cc)', serialNumber: '7563', via: 'scan' });
    expect(ports[1]).toMatchObject({ vendorId: '2341', productId: '0043' });
    expect(ports[2]).toMatchObject({ vendorId: null, productId: null });
    rmSync(root, { recursive: true, force: true });
  });

  it("uses serialport's list when it works, normalising the ids", async () => {
    const ports = await listPorts({ list: async () => [{ path: '/dev/ttyACM3', vendorId: '2341', productId: '8036', manufacturer: 'Arduino LLC' }, { path: '/dev/ttyS0' }] });
    expect(ports).toEqual([
      { path: '/dev/ttyACM3', manufacturer: 'Arduino LLC', vendorId: '2341', productId: '8036', serialNumber: null, via: 'serialport' },
      { path: '/dev/ttyS0', manufacturer: null, vendorId: null, productId: null, serialNumber: null, via: 'serialport' },
    ]);
  });

  it('picks the one matching rig, and names the candidates when there are none or several', () => {
    const ports = [port('/dev/ttyS0', null, null), port('/dev/ttyUSB0', '1a86', '7523'), port('/dev/ttyUSB1', '0403', '6015')];
    expect(pickRigPort(ports, DEFAULT_RIG_IDS).path).toBe('/dev/ttyUSB0');
    const none = (() => {
      try {
        pickRigPort([ports[0]!, ports[2]!], DEFAULT_RIG_IDS);
      } catch (e) {
        return e as EnoseError;
      }
      return null;
    })();
    expect(none?.code).toBe('port-error');
    expect(none?.message).toMatch(/no port matches .*\/dev\/ttyS0 \(no USB ids\), \/dev\/ttyUSB1 \(0403:6015\)/);
    expect(() => pickRigPort([...ports, port('/dev/ttyACM0', '2341', '0043')], DEFAULT_RIG_IDS)).toThrow(/2 ports match the rig ids: \/dev\/ttyUSB0 \(1a86:7523\), \/dev\/ttyACM0 \(2341:0043\)/);
    expect(pickRigPort(ports, parseRigIds('0403:6015')).path).toBe('/dev/ttyUSB1');
    expect(pickRigPort(ports, parseRigIds('0403')).path).toBe('/dev/ttyUSB1');
  });

  it('parses ENOSE_RIG_IDS and rejects a malformed one', () => {
    expect(parseRigIds('2341, 1A86:7523,0403:*')).toEqual([
      { vendorId: '2341', productId: null },
      { vendorId: '1a86', productId: '7523' },
      { vendorId: '0403', productId: null },
    ]);
    expect(() => parseRigIds('2341:12')).toThrow(/ENOSE_RIG_IDS: "2341:12" is not a USB id/);
    expect(() => parseRigIds(' , ')).toThrow(/holds no USB id/);
  });
});
