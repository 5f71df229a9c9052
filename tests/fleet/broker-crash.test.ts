/**
 * Nothing lost when the broker crashes: two stations (`enose watch --mqtt`, one per shipped model, each on a rig
 * emulator over a socat pty, so the verdicts come from the engine) publish to a real mosquitto with its default
 * persistence (autosave every 30 min: a SIGKILL loses what it held). The broker is killed (SIGKILL) and restarted
 * mid-stream, then the centre is stopped, the broker killed again while it holds the centre's queue, and both
 * restarted. Afterwards the centre holds every verdict the engines gave, each exactly once, and the spools are
 * empty: the stations kept each verdict until the centre acknowledged it (enose/<station>/ack).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startFleetCentre, type FleetCentre } from '../../src/fleet/centre.js';
import { readModelFile } from '../../src/io/modelFile.js';
import { haveMosquitto, startBroker, type Broker } from '../helpers/mosquitto.js';
import { ensureBuilt, haveSocat, startEmulator, type EmulatorProcess, waitFor } from '../helpers/pty.js';
import { CLI, REPO_ROOT } from '../helpers/shared.js';

const MODELS = { default: 'datasets/container-sim/default-model.json.gz', exposure: 'datasets/container-sim/exposure-model.json.gz' } as const;
const CONTAINERS = 10;
const have = haveMosquitto('broker crash') && haveSocat();
const dir = mkdtempSync(join(tmpdir(), 'enose-crash-'));
let broker: Broker | null = null;
let centre: FleetCentre | null = null;
const emulators: EmulatorProcess[] = [];
const watches: ChildProcess[] = [];

afterAll(async () => {
  for (const w of watches) if (w.exitCode === null) w.kill('SIGKILL');
  for (const e of emulators) await e.stop();
  await centre?.close();
  await broker?.stop('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** pty.ts's waitFor, with the deadline a broker restart needs. */
const until = (what: string, test: () => boolean, timeoutMs = 60_000): Promise<void> => waitFor(test, what, timeoutMs);

/** A spool file read back: the verdicts it ever held (by seq) and those still waiting for the centre's ack. */
function readSpool(path: string): { epoch: string; produced: number; pending: number } {
  const lines = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { t: string; seq?: number; epoch?: string; nextSeq?: number });
  const head = lines[0]!;
  let produced = head.nextSeq! - 1;
  const waiting = new Set<number>();
  for (const r of lines) {
    if (r.t === 'v') {
      produced = Math.max(produced, r.seq!);
      waiting.add(r.seq!);
    } else if (r.t === 'a') waiting.delete(r.seq!);
  }
  return { epoch: head.epoch!, produced, pending: waiting.size };
}

describe.runIf(have)('a broker crash (SIGKILL, default persistence) with both shipped models', () => {
  it('loses no verdict and counts none twice; nor does a centre restart across a second crash', async () => {
    ensureBuilt();
    broker = await startBroker(join(dir, 'broker'));
    const centreOptions = { broker: { url: broker.url, username: undefined, password: undefined }, dataDir: join(dir, 'centre'), port: 0, processMetrics: false };
    centre = await startFleetCentre(centreOptions);
    await centre.subscribed;

    const stations = Object.entries(MODELS).map(([name, path], i) => {
      const model = readModelFile(path);
      if (!model.ok) throw new Error(model.error.reason);
      return { name, path, station: `crash-${name}`, modelId: model.value.id, seed: 11 + i, verdictLines: 0 };
    });
    for (const s of stations) {
      const emu = startEmulator(['--sim-seed', String(s.seed), '--containers', String(CONTAINERS), '--sim-start-day', '22', '--speed', '60', '--auto-cycle', '--rig-id', 'R9']);
      emulators.push(emu);
      const device = (await emu.waitForLine(/^device: /)).slice('device: '.length);
      const watch = spawn(process.execPath, [CLI, 'watch', '--port', device, '--model', s.path, '--json', '--mqtt', broker.url, '--station', s.station, '--spool', join(dir, `${s.station}.jsonl`), '--ack-timeout-s', '1'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      watches.push(watch);
      let buffer = '';
      watch.stdout!.on('data', (d: Buffer) => {
        buffer += d.toString();
        const lines = buffer.split('\n');
        buffer = lines.pop()!;
        s.verdictLines += lines.filter((l) => l.startsWith('{"type":"verdict"')).length;
      });
    }
    const atCentre = (station: string) => centre?.state.stations.get(station)?.verdicts ?? 0;
    const produced = () => stations.reduce((n, s) => n + s.verdictLines, 0);

    await until('two verdicts of each station at the centre', () => stations.every((s) => atCentre(s.station) >= 2), 120_000);
    await broker.stop('SIGKILL');
    const beforeCrash = produced();
    await until('a verdict while the broker is down', () => produced() > beforeCrash);
    await broker.start();

    const seen = produced();
    await until('the stream going on', () => produced() >= seen + 2);
    await centre.close();
    centre = null;
    const centreDown = produced();
    await until('verdicts queued by the broker for the stopped centre', () => produced() >= centreDown + 2);
    await broker.stop('SIGKILL'); // the queue goes with it
    await broker.start();
    centre = await startFleetCentre(centreOptions);
    expect(centre.replayed).toBeGreaterThan(0);

    await Promise.all(emulators.map((e) => e.exited));
    const spools = () => stations.map((s) => readSpool(join(dir, `${s.station}.jsonl`)));
    await until('every spool empty', () => spools().every((x) => x.pending === 0), 60_000);
    for (const w of watches) {
      const exited = new Promise((r) => w.once('exit', r));
      w.kill('SIGINT');
      await exited;
    }

    const logged = readFileSync(join(dir, 'centre', 'fleet.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { t: string; m: { station: string; id: string; modelId: string } })
      .filter((r) => r.t === 'verdict');
    const ids = logged.map((r) => `${r.m.station}/${r.m.id}`);
    expect(new Set(ids).size).toBe(ids.length); // nothing counted twice
    for (const [i, s] of stations.entries()) {
      const spool = spools()[i]!;
      expect(spool.produced, s.name).toBe(s.verdictLines); // the spool holds what the engine gave
      expect(s.verdictLines, s.name).toBeGreaterThanOrEqual(2); // a loaded pty can cost whole cycles; every verdict made counts
      const expected = Array.from({ length: spool.produced }, (_, k) => `${s.station}/${spool.epoch}-${k + 1}`);
      expect(ids.filter((id) => id.startsWith(`${s.station}/`)).sort(), s.name).toEqual(expected.sort()); // nothing lost
      expect(centre.state.stations.get(s.station)!.verdicts).toBe(s.verdictLines);
      expect(logged.filter((r) => r.m.station === s.station).every((r) => r.m.modelId === s.modelId)).toBe(true);
    }
    console.log(`broker crash: ${stations.map((s) => `${s.name} ${s.verdictLines}`).join(', ')} verdicts produced and held once each; ${centre.state.duplicates} resend(s) dropped as duplicates after the restart`);
  });
});
