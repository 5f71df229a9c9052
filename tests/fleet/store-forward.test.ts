/**
 * Store and forward on a real mosquitto: stations (the real spool and MQTT client, in their own process) publish
 * verdicts while the broker is stopped and restarted, the station process is killed (SIGKILL) and restarted,
 * and the centre is restarted; the centre's log must then hold exactly what the stations produced, each once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startFleetCentre, type FleetCentre } from '../../src/fleet/centre.js';
import { haveMosquitto, startBroker, type Broker } from '../helpers/mosquitto.js';
import { REPO_ROOT } from '../helpers/shared.js';
import { waitFor } from '../helpers/pty.js';
import { ensureServiceBuilt } from '../service/serveProcess.js';

const DRIVER = resolve(REPO_ROOT, 'tests', 'helpers', 'fleetStations.mjs');
const STATIONS = ['quay-1', 'quay-2', 'quay-3', 'quay-4'];
const COUNT = 60;
const have = haveMosquitto('store and forward');
const dir = mkdtempSync(join(tmpdir(), 'enose-sf-'));
let broker: Broker | null = null;
let centre: FleetCentre | null = null;
let driver: ChildProcess | null = null;

afterAll(async () => {
  driver?.kill('SIGKILL');
  await centre?.close();
  await broker?.stop('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** pty.ts's waitFor, with the deadline a broker restart needs. */
const until = (what: string, test: () => boolean, timeoutMs = 60_000): Promise<void> => waitFor(test, what, timeoutMs);

interface DriverLine {
  e: string;
  station: string;
  seq?: number;
  id?: string;
}

/**
 * SIGTERM: the broker writes its database (its PUBACK holds); SIGKILL, with mosquitto's default persistence
 * (autosave every 30 min): a crash that loses what the broker held (the centre's session and its queue among
 * it), recovered only by the centre's end-to-end acks. The SIGKILL run also kills the broker while the centre is
 * down, so that the verdicts queued for the centre's session are lost with it.
 */
describe.runIf(have).each(['SIGTERM', 'SIGKILL'] as const)('store and forward through mosquitto (broker %s)', (signal) => {
  it('broker restart, station SIGKILL and restart, centre restart: the centre holds every verdict exactly once', async () => {
    ensureServiceBuilt();
    const run = join(dir, signal);
    broker = await startBroker(join(run, 'broker'), { extra: ['allow_anonymous true', 'max_queued_messages 0'] });
    const centreOptions = { broker: { url: broker.url, username: undefined, password: undefined }, dataDir: join(run, 'centre'), port: 0, processMetrics: false };
    centre = await startFleetCentre(centreOptions);
    await centre.subscribed;

    const spooled: DriverLine[] = [];
    const done = new Set<string>();
    const startDriver = () => {
      const child = spawn(process.execPath, [DRIVER, '--url', broker!.url, '--stations', STATIONS.join(','), '--spool-dir', join(run, 'spool'), '--interval-ms', '40', '--count', String(COUNT), '--ack-timeout-ms', '1000'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let buffer = '';
      child.stdout!.on('data', (d: Buffer) => {
        buffer += d.toString();
        const lines = buffer.split('\n');
        buffer = lines.pop()!;
        for (const line of lines) {
          const msg = JSON.parse(line) as DriverLine;
          if (msg.e === 'spooled') spooled.push(msg);
          if (msg.e === 'done') done.add(msg.station);
        }
      });
      return child;
    };
    driver = startDriver();
    await until('the first verdicts', () => spooled.length >= 20);
    await broker.stop(signal);
    const producedWhileDown = spooled.length;
    await until('verdicts spooled while the broker is down', () => spooled.length >= producedWhileDown + 12);
    await broker.start();
    await until('more verdicts', () => spooled.length >= 100);
    const killed = new Promise((r) => driver!.once('exit', r));
    driver.kill('SIGKILL');
    await killed;
    driver = startDriver();
    await until('more verdicts after the station restart', () => spooled.length >= 150);
    await centre.close();
    await sleep(300); // verdicts go on; the broker queues them for the centre's session
    if (signal === 'SIGKILL') {
      const queued = spooled.length;
      await until('verdicts queued for the centre', () => spooled.length >= queued + 8);
      await broker.stop('SIGKILL'); // and the queue with it
      await broker.start();
    }
    centre = await startFleetCentre(centreOptions);
    expect(centre.replayed).toBeGreaterThan(0);
    await until('every station done', () => STATIONS.every((s) => done.has(s)), 60_000);
    await until('the centre has every verdict', () => centre!.state.received >= STATIONS.length * COUNT, 30_000);

    // What the stations produced: their spools' sequences (a kill may have landed between a spool append and
    // its stdout line, so the spools, not the driver's lines, are the record).
    const produced = new Set<string>();
    for (const s of STATIONS) {
      const header = JSON.parse(readFileSync(join(run, 'spool', `${s}.jsonl`), 'utf8').split('\n')[0]!) as { epoch: string; nextSeq: number };
      for (const line of readFileSync(join(run, 'spool', `${s}.jsonl`), 'utf8').trim().split('\n')) {
        const rec = JSON.parse(line) as { t: string; seq?: number };
        if (rec.t === 'v' && rec.seq! + 1 > header.nextSeq) header.nextSeq = rec.seq! + 1;
      }
      expect(header.nextSeq - 1, s).toBe(COUNT);
      for (let seq = 1; seq <= COUNT; seq++) produced.add(`${s}/${header.epoch}-${seq}`);
    }
    const logged = readFileSync(join(run, 'centre', 'fleet.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { t: string; m: { station: string; id: string } })
      .filter((r) => r.t === 'verdict')
      .map((r) => `${r.m.station}/${r.m.id}`);
    expect(new Set(logged).size).toBe(logged.length); // nothing counted twice
    expect(new Set(logged)).toEqual(produced); // nothing lost
    expect(spooled.every((l) => produced.has(`${l.station}/${l.id}`))).toBe(true);
    for (const s of STATIONS) expect(centre.state.stations.get(s)!.verdicts).toBe(COUNT);
    await new Promise<void>((r) => {
      driver!.once('exit', () => r());
      driver!.kill('SIGTERM');
    });
    driver = null;
    await centre.close();
    centre = null;
    await broker.stop('SIGKILL');
    broker = null;
  });
});
