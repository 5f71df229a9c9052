/**
 * Issue 24, items 1 and 6 (rig part): what a rig can send must never stop the live engine, exhaust it, or turn a
 * verdict to clear (docs/hardening-rig.md).
 *
 * - The decoder alone: stale frames (valid CRC, old seqs) are `repeated-seq`, never data, never a reboot nor a
 *   gap; a silent restart is still found; info lines beyond the bounds are `malformed`.
 * - The serial source over a real socat pty: the first line after open passes only when complete and valid.
 * - `enose watch` and `enose serve` over a real pty with both shipped models, the test process acting as the rig:
 *   an info line without `rh_pct` mid-cycle, then `rate_hz=1e9` and `1e308`, then the rig's own line again. The
 *   process stays up, no internal error, the cut cycle is inconclusive, judging pauses with its reason (events,
 *   `/v1/health`) and resumes with the matching line; resident memory stays under a stated bound.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { EngineCore } from '../../src/engine/core.js';
import { readModelFile } from '../../src/io/modelFile.js';
import { openRigLink, closeLink, type RigLink } from '../../src/io/rigLink.js';
import { createDecoder, encodeFrame, encodeInfo, encodeLine, type DecoderOutput } from '../../src/io/protocol.js';
import { createSerialSource } from '../../src/io/serial.js';
import { createSimulation } from '../../src/sim/simulate.js';
import { simulatedRigInfo } from '../../src/sim/events.js';
import type { EngineEvent, Frame, Phase, RigInfo, SourceEvent } from '../../src/types.js';
import { SHIPPED_MODELS } from '../helpers/models.js';
import { ensureBuilt, haveSocat, startPty, waitFor, type TestPty } from '../helpers/pty.js';
import { CLI, REPO_ROOT } from '../helpers/shared.js';
import { startServe, type ServeProcess } from '../service/serveProcess.js';

const types = (outs: readonly DecoderOutput[]): string[] => outs.map((o) => (o.type === 'issue' ? `issue:${o.kind}` : o.type));
const INFO: RigInfo = { proto: 'ENL/1', rig: 'R7', fw: '1.0', rateHz: 10, unit: 'ohm', channels: ['a', 'b', 'temp_c'] };
const f = (seq: number): string => encodeFrame({ seq, tMs: (seq * 100) % 2 ** 32, phase: 'I', values: Float64Array.from([1, 2, 21.5]) });
const seqs = (outs: readonly DecoderOutput[]): number[] => outs.flatMap((o) => (o.type === 'frame' ? [o.frame.seq] : []));

describe('decoder: stale and reordered frames', () => {
  function streaming(to: number): ReturnType<typeof createDecoder> {
    const dec = createDecoder();
    dec.push(encodeInfo(INFO), 0);
    let text = '';
    for (let s = to - 10; s <= to; s++) text += f(s);
    expect(seqs(dec.push(text, 10))).toHaveLength(11);
    return dec;
  }

  it('three stale frames in a row (valid CRC, old seqs) are repeated-seq: no reboot, no frame taken, no gap', () => {
    const dec = streaming(1000);
    const outs: DecoderOutput[] = [];
    outs.push(...dec.push(f(1) + f(2) + f(3), 100));
    // The host asks for INFO (need-info) and the rig answers with its unchanged line.
    expect(types(outs)).toContain('need-info');
    dec.infoRequested(110);
    outs.push(...dec.push(encodeInfo(INFO), 150));
    outs.push(...dec.push(f(1001) + f(1002), 200));
    expect(types(outs).filter((t) => t === 'reboot' || t === 'gap')).toEqual([]);
    expect(seqs(outs)).toEqual([1001, 1002]);
    const c = dec.counters();
    expect([c.reboots, c.gaps, c.lostFrames, c.issues['repeated-seq']]).toEqual([0, 0, 0, 3]);
  });

  it('a burst of 40 stale frames, then the rig going on: 40 repeated-seq, nothing else', () => {
    const dec = streaming(5000);
    let burst = '';
    for (let s = 100; s < 140; s++) burst += f(s);
    const outs = [...dec.push(burst, 100)];
    dec.infoRequested(101);
    outs.push(...dec.push(encodeInfo(INFO) + f(5001), 300));
    expect(seqs(outs)).toEqual([5001]);
    expect(dec.counters()).toMatchObject({ reboots: 0, gaps: 0, frames: 12, issues: expect.objectContaining({ 'repeated-seq': 40 }) });
    // Reordered (one frame late): dropped as repeated-seq, the sequence goes on without a gap.
    expect(types(dec.push(f(5003) + f(5002) + f(5004), 400))).toEqual(['gap', 'frame', 'issue:repeated-seq', 'frame']);
  });

  it('a silent restart is still found: the run goes on after the answered INFO, then reboot, info and its frames', () => {
    const dec = streaming(1000);
    const outs = [...dec.push(f(0) + f(1) + f(2), 100)];
    expect(types(outs)).toEqual(['issue:repeated-seq', 'issue:repeated-seq', 'need-info']);
    dec.infoRequested(110);
    outs.push(...dec.push(encodeInfo(INFO), 150));
    const after = dec.push(f(3) + f(4) + f(5) + f(6), 250);
    expect(types(after)).toEqual(['reboot', 'info', 'frame', 'frame', 'frame', 'frame', 'frame']);
    expect(seqs(after)).toEqual([2, 3, 4, 5, 6]);
    expect(dec.counters()).toMatchObject({ reboots: 1, gaps: 0 });
  });
});

describe('decoder: info lines beyond the bounds are malformed, the last info stays', () => {
  const line = (fields: string) => encodeLine(`ENI,proto=ENL/1,${fields}`);
  it.each([
    ['rate_hz=1e9', line('rig=R7,fw=1.0,rate_hz=1e9,unit=ohm,channels=a;b;temp_c'), /rate_hz .* outside/],
    ['rate_hz=1e308', line('rig=R7,fw=1.0,rate_hz=1e308,unit=ohm,channels=a;b;temp_c'), /rate_hz .* outside/],
    ['rate_hz=1e-9', line('rig=R7,fw=1.0,rate_hz=0.000000001,unit=ohm,channels=a;b;temp_c'), /rate_hz .* outside/],
    ['300 channels', line(`rig=R7,fw=1.0,rate_hz=10,unit=ohm,channels=${Array.from({ length: 300 }, (_, i) => `c${i}`).join(';')}`), /300 channels, more than 256/],
    ['a 65-character channel name', line(`rig=R7,fw=1.0,rate_hz=10,unit=ohm,channels=a;${'x'.repeat(65)}`), /longer than 64/],
    ['a 65-character rig id', line(`rig=${'r'.repeat(65)},fw=1.0,rate_hz=10,unit=ohm,channels=a`), /longer than 64/],
  ])('%s', (_what, text, detail) => {
    const dec = createDecoder();
    dec.push(encodeInfo(INFO) + f(1), 0);
    const outs = dec.push(text + f(2), 10);
    expect(types(outs)).toEqual(['issue:malformed', 'frame']);
    expect(outs[0]).toMatchObject({ detail: expect.stringMatching(detail) });
    expect(outs[0]!.type === 'issue' && outs[0]!.detail.length).toBeLessThan(200);
    expect(dec.info).toEqual(INFO);
  });
});

describe.each(SHIPPED_MODELS)('engine core with the $name model: info lines from any source (replay, embedding)', ({ path: model }) => {
  it('absurd rates or channel counts pause judging with the reason; the model\'s rig resumes it; never a throw', () => {
    const loaded = readModelFile(join(REPO_ROOT, model));
    if (!loaded.ok) throw new Error(loaded.error.reason);
    const bundle = loaded.value;
    const channels = bundle.input.kind === 'frames' ? bundle.input.channels : [];
    const events: EngineEvent[] = [];
    const core = new EngineCore(bundle, {}, (e) => events.push(e));
    const info = (over: Partial<RigInfo>): SourceEvent => ({ type: 'info', atMs: 0, proto: 'ENL/1', rig: 'SIM1', fw: 'sim', rateHz: 10, unit: 'ohm', channels, ...over });
    const changed = () => events.filter((e): e is Extract<EngineEvent, { type: 'rig-changed' }> => e.type === 'rig-changed');
    const heapBefore = process.memoryUsage().arrayBuffers;
    for (const [over, why] of [
      [{ rateHz: 1e9 }, /rate 1000000000 Hz is outside/],
      [{ rateHz: 1e308 }, /rate 1e\+308 Hz is outside/],
      [{ rateHz: Infinity }, /rate Infinity Hz/],
      [{ channels: Array.from({ length: 100_000 }, (_, i) => `c${i}`) }, /100000 channels, not 1 to 256/],
    ] as const) {
      expect(() => core.push(info(over))).not.toThrow();
      expect(changed().at(-1)).toMatchObject({ judging: false, reason: expect.stringMatching(why) });
      expect(core.notJudging).toMatch(why);
      // Frames of the paused session are ignored, whatever their length.
      expect(() => core.push({ type: 'frame', atMs: 1, seq: 1, tMs: 100, phase: 'B', values: new Float64Array(3) })).not.toThrow();
    }
    expect(process.memoryUsage().arrayBuffers - heapBefore).toBeLessThan(16 * 1024 * 1024);
    core.push(info({}));
    expect(changed().at(-1)).toMatchObject({ judging: true });
    expect(core.notJudging).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------------------
// Over a real pty: the test process is the rig (non-blocking writes to the rig end; the host reads elsewhere).

const socat = haveSocat();

/** The rig end: writes lines, answers INFO with the info line it has now. */
class ScriptedRig {
  info: string;
  infoRequests = 0;
  private constructor(
    readonly link: RigLink,
    info: string,
  ) {
    this.info = info;
    let pending = '';
    link.reader.on('data', (d: Buffer) => {
      pending += d.toString('latin1');
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const l = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (l.includes('ENC,INFO')) {
          this.infoRequests++;
          this.write(this.info);
        }
      }
    });
  }

  static async open(path: string, info: string): Promise<ScriptedRig> {
    return new ScriptedRig(await openRigLink(path, () => undefined), info);
  }

  write(text: string): void {
    this.link.writer.write(Buffer.from(text, 'latin1'));
  }

  close(): Promise<void> {
    return closeLink(this.link);
  }
}

describe.skipIf(!socat)('serial source over a socat pty: the first line after open', () => {
  it('a partial first line holding a $ is dropped without an issue; a complete valid first line is kept', async () => {
    for (const [first, kept] of [
      ['21.5,54.2*3C15$ENF,9,900,B,1', false],
      [`\x00noise${encodeInfo(INFO).trimEnd()}`, true],
    ] as const) {
      const pty = await startPty();
      const rig = await ScriptedRig.open(pty.rig, '');
      const events: SourceEvent[] = [];
      const controller = new AbortController();
      const source = createSerialSource({ path: pty.host, infoOnOpen: false });
      const done = source.run((e) => events.push(e), controller.signal);
      try {
        await waitFor(() => events.some((e) => e.type === 'state' && e.state === 'connected'), 'connected', 20_000);
        rig.write(`${first}\n${kept ? '' : encodeInfo(INFO)}${f(10)}`);
        await waitFor(() => events.some((e) => e.type === 'frame'), 'a frame', 20_000);
        expect(events.filter((e) => e.type === 'issue')).toEqual([]);
        expect(events.filter((e) => e.type === 'info')).toHaveLength(1);
        expect(source.stats().bytesDropped).toBe(kept ? 0 : first.length + 1);
      } finally {
        controller.abort();
        await done.catch(() => undefined);
        await rig.close();
        await pty.close();
      }
    }
  });
});

describe.skipIf(!socat)('serial source over a socat pty: stale frames', () => {
  it('three stale frames (valid CRC, old seqs) while the rig streams: repeated-seq x3, no reboot, no gap, no stale frame taken', async () => {
    const pty = await startPty();
    const rig = await ScriptedRig.open(pty.rig, encodeInfo(INFO));
    const events: SourceEvent[] = [];
    const controller = new AbortController();
    const source = createSerialSource({ path: pty.host });
    const done = source.run((e) => events.push(e), controller.signal);
    const frames = () => events.flatMap((e) => (e.type === 'frame' ? [e.seq] : []));
    try {
      await waitFor(() => rig.infoRequests > 0 && events.some((e) => e.type === 'info'), 'the info line', 20_000);
      let text = '';
      for (let s = 990; s <= 1000; s++) text += f(s);
      rig.write(text);
      await waitFor(() => frames().includes(1000), 'frame 1000', 20_000);
      const asked = rig.infoRequests;
      rig.write(f(1) + f(2) + f(3));
      // The host asks for INFO (the rig answers with its unchanged line), then the rig goes on.
      await waitFor(() => rig.infoRequests > asked, 'INFO after the stale run', 20_000);
      rig.write(f(1001) + f(1002));
      await waitFor(() => frames().includes(1002), 'frame 1002', 20_000);
      expect(frames().filter((s) => s < 990)).toEqual([]);
      expect(events.filter((e) => e.type === 'reboot' || e.type === 'gap')).toEqual([]);
      expect(source.stats().decoder!.issues['repeated-seq']).toBe(3);
      expect(source.stats().decoder!).toMatchObject({ reboots: 0, gaps: 0, lostFrames: 0 });
    } finally {
      controller.abort();
      await done.catch(() => undefined);
      await rig.close();
      await pty.close();
    }
  });
});

/** The resident set of a process, kB (0 once it is gone). */
function rssKb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Simulated frames of two cycles (training rig SIM1, evaluation days), with the info line they go under. */
function simulatedCycles(): { info: RigInfo; cycles: { phase: Phase; values: Float64Array }[][] } {
  const sim = createSimulation({ seed: 11, rigSeed: 1, containers: 2, startDay: 21 });
  const cycles = [...sim.cycles()].map((c) => [...c.frames()].map((fr: Frame) => ({ phase: fr.phase, values: Float64Array.from(fr.values) })));
  return { info: simulatedRigInfo(sim), cycles };
}

/** Resident memory a live process may reach during the attack (it idles at about 100 to 150 MB). */
const RSS_BOUND_KB = 400 * 1024;
/** Growth from just before the changed info line to the peak (measured: 1 to 13 MB). */
const RSS_GROWTH_KB = 64 * 1024;

interface LiveHost {
  readonly proc: ChildProcess;
  /** Lines of output so far. */
  lines(): string[];
  stderr(): string;
  stop(): Promise<number | null>;
}

function startWatch(port: string, model: string): LiveHost {
  const proc = spawn(process.execPath, [CLI, 'watch', '--port', port, '--model', model, '--json'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString('utf8')));
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return {
    proc,
    lines: () => out.split('\n').filter((l) => l !== ''),
    stderr: () => err,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGINT');
      return exited;
    },
  };
}

function fromServe(s: ServeProcess): LiveHost {
  return { proc: s.proc, lines: () => s.stdout().split('\n').filter((l) => l !== ''), stderr: () => s.stderr(), stop: () => s.stop() };
}

/** What the host said, for either command: watch --json lines, or serve's readable lines. */
interface Seen {
  rigChanged: { judging: boolean; reason: string }[];
  verdicts: { verdict: string; reasons: string[]; judged: boolean }[];
  malformed: number;
}

function seenBy(kind: 'watch' | 'serve', host: LiveHost): Seen {
  const seen: Seen = { rigChanged: [], verdicts: [], malformed: 0 };
  for (const l of host.lines()) {
    if (kind === 'watch') {
      if (!l.startsWith('{')) continue;
      const e = JSON.parse(l) as { type: string; judging?: boolean; reason?: string; verdict?: string; reasons?: string[]; class?: string | null; kind?: string; count?: number };
      if (e.type === 'rig-changed') seen.rigChanged.push({ judging: e.judging!, reason: e.reason! });
      if (e.type === 'verdict') seen.verdicts.push({ verdict: e.verdict!, reasons: e.reasons!, judged: e.class !== null });
      if (e.type === 'issue' && e.kind === 'malformed') seen.malformed += e.count ?? 1;
    } else {
      const rc = /^rig changed \(.*\): (judging|NOT judging): (.*)$/.exec(l);
      if (rc) seen.rigChanged.push({ judging: rc[1] === 'judging', reason: rc[2]! });
      const v = /^\S+: (clear|suspicious|inconclusive|class only), (.*?); (.*?); frames /.exec(l);
      if (v) seen.verdicts.push({ verdict: v[1]!, reasons: v[3]!.split(', '), judged: !/^no class/.test(v[2]!) && !v[3]!.includes('features-invalid') });
      const m = /^issue malformed(?: x(\d+))?:/.exec(l);
      if (m) seen.malformed += Number(m[1] ?? 1);
    }
  }
  return seen;
}

describe.skipIf(!socat).each(SHIPPED_MODELS)('live engine with the $name model: the info line changes mid-session', ({ path: model }) => {
  let data: ReturnType<typeof simulatedCycles>;
  beforeAll(() => {
    ensureBuilt();
    data = simulatedCycles();
  });

  let pty: TestPty | null = null;
  let rig: ScriptedRig | null = null;
  let host: LiveHost | null = null;
  afterAll(async () => {
    await host?.stop();
    await rig?.close();
    await pty?.close();
  });

  it.each(['watch', 'serve'] as const)('enose %s stays up: pauses judging on the changed line, refuses absurd rates, resumes on the rig\'s own line', async (kind) => {
    pty = await startPty();
    const ownInfo = encodeInfo(data.info);
    const lessInfo = encodeInfo({ ...data.info, channels: data.info.channels.filter((c) => c !== 'rh_pct') });
    rig = await ScriptedRig.open(pty.rig, ownInfo);
    let serve: ServeProcess | null = null;
    if (kind === 'watch') host = startWatch(pty.host, model);
    else host = fromServe((serve = await startServe(['--port', pty.host, '--model', model])));
    const h = host;
    const r = rig;
    const pid = h.proc.pid!;
    let peakKb = 0;
    const sampler = setInterval(() => (peakKb = Math.max(peakKb, rssKb(pid))), 50);
    const alive = () => h.proc.exitCode === null && h.proc.signalCode === null;
    const seen = () => seenBy(kind, h);
    const health = async () => (await fetch(`${serve!.url}/v1/health`)).json() as Promise<{ judging: boolean; notJudging: string | null }>;
    try {
      await waitFor(() => r.infoRequests > 0, 'the host asking for INFO', 30_000);
      let seq = 0;
      let tMs = 0;
      const frames = (list: readonly { phase: Phase; values: Float64Array }[], drop?: number): string =>
        list.map((fr) => encodeFrame({ seq: seq++, tMs: (tMs += 100), phase: fr.phase, values: drop === undefined ? fr.values : fr.values.filter((_, i) => i !== drop) })).join('');
      // Cycle 1: baseline and the first half of the exposure, then the info line changes.
      const c1 = data.cycles[0]!;
      const firstR = c1.findIndex((fr) => fr.phase === 'R');
      const cut = Math.floor((c1.findIndex((fr) => fr.phase === 'E') + firstR) / 2);
      r.write(frames(c1.slice(0, cut)));
      await waitFor(() => h.lines().some((l) => /"phase":"E"|phase E|"type":"phase"/.test(l)) || kind === 'serve', 'the exposure', 30_000);
      const rssBeforeKb = rssKb(pid);
      r.info = lessInfo;
      r.write(lessInfo + frames(c1.slice(cut, cut + 50), data.info.channels.indexOf('rh_pct')));
      await waitFor(() => seen().rigChanged.some((c) => !c.judging), 'rig-changed, not judging', 30_000);
      if (serve) {
        const body = await health();
        expect(body.judging).toBe(false);
        expect(body.notJudging).toMatch(/model is for 18 channels.*17.*without rh_pct/);
        const post = await fetch(`${serve.url}/v1/samples`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ containerId: 'MSCU0000001' }) });
        expect(post.status).toBe(503);
      }
      // Absurd rates: each a malformed line, nothing else.
      r.write(encodeLine(`ENI,proto=ENL/1,rig=SIM1,fw=sim,rate_hz=1e9,unit=ohm,channels=${data.info.channels.join(';')}`));
      r.write(encodeLine(`ENI,proto=ENL/1,rig=SIM1,fw=sim,rate_hz=1e308,unit=ohm,channels=${data.info.channels.join(';')}`));
      await waitFor(() => seen().malformed >= 2, 'two malformed info lines', 30_000);
      // The rig's own line again: judging resumes, and the next whole cycle is judged.
      r.info = ownInfo;
      r.write(ownInfo);
      await waitFor(() => seen().rigChanged.some((c) => c.judging), 'rig-changed, judging again', 30_000);
      if (serve) expect((await health()).judging).toBe(true);
      const c2 = data.cycles[1]!.filter((fr) => fr.phase !== 'I');
      const idle = Array.from({ length: 5 }, () => ({ phase: 'I' as Phase, values: c2.at(-1)!.values }));
      r.write(frames([...c2, ...idle]));
      await waitFor(() => seen().verdicts.length >= 2, 'the verdicts of the cut cycle and the next one', 60_000);
      const s = seen();
      if (process.env['DEBUG_RIG']) console.log(h.lines().filter((l) => !l.includes('"type":"frame"')).join('\n'));
      expect(alive()).toBe(true);
      expect(h.stderr()).not.toMatch(/internal error/i);
      // The cut cycle: inconclusive, cut by the new session; never clear.
      expect(s.verdicts[0]).toMatchObject({ verdict: 'inconclusive' });
      expect(s.verdicts[0]!.reasons).toContain('cut-reboot');
      // The cycle after the matching line is judged by the model (a class, no cut).
      expect(s.verdicts[1]!.judged, JSON.stringify(s.verdicts)).toBe(true);
      expect(s.verdicts[1]!.reasons.some((x) => x.startsWith('cut-')), JSON.stringify(s.verdicts)).toBe(false);
      expect(s.rigChanged.map((c) => c.judging)).toEqual([false, true]);
      expect(h.stderr()).toMatch(/warning: not judging: the model is for 18 channels/);
      console.log(`${kind} ${model}: RSS ${Math.round(rssBeforeKb / 1024)} MB before the changed line, peak ${Math.round(peakKb / 1024)} MB (bounds: ${RSS_BOUND_KB / 1024} MB, growth ${RSS_GROWTH_KB / 1024} MB)`);
      expect(peakKb).toBeLessThan(RSS_BOUND_KB);
      expect(peakKb - rssBeforeKb).toBeLessThan(RSS_GROWTH_KB);
      // It was running all along: SIGINT stops it cleanly.
      expect(await h.stop()).toBe(0);
    } finally {
      clearInterval(sampler);
      await h.stop();
      host = null;
      await r.close();
      rig = null;
      await pty.close();
      pty = null;
    }
  });
});
