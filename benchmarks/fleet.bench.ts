/**
 * The fleet over MQTT (issue 20): 100 stations through one local mosquitto to one `enose fleet` centre, the broker
 * stopped and restarted twice and every station process killed (SIGKILL) and restarted once during the run.
 * - Stations: tests/helpers/fleetStations.mjs, 4 processes of 25 real station links each (the real fsync'd spool
 *   and a real mqtt.js client per station), a synthetic verdict every 500 ms per station (compressed time: a real
 *   cycle takes minutes), 100 x COUNT verdicts in all.
 * - Centre: `enose fleet` (dist/cli/main.js) as its own process, its log in a temp folder; its RSS is read from
 *   /proc at the start, every second, and at the end.
 * - Check before reporting: the verdicts the stations produced (their spools' sequences) equal the verdicts in the
 *   centre's log, each exactly once. Then the delivery time, station wall clock at the verdict -> the centre's
 *   receipt (both Date.now() on this host, ms resolution), p50/p99/max over the verdicts produced while the broker
 *   was up and their station running (outside [stop - 0.5 s, restart + 5 s] of the broker, and outside
 *   [start or kill - 0.5 s, connected + 5 s] of their station process: the start is a warm-up); the others'
 *   delays are reported apart.
 *
 * Run after a build (it needs dist/ and mosquitto):
 *   npm run build && npm run bench -- --only fleet [--out /tmp/fleet.json]   (about 2 minutes; --quick: 30 s)
 * ENOSE_FLEET_BROKER_SIGNAL=SIGKILL stops the broker with SIGKILL instead of SIGTERM (a crash; mosquitto's default
 * persistence unless ENOSE_FLEET_AUTOSAVE=<s>); ENOSE_FLEET_ACK=broker makes the stations drop a verdict on the
 * broker's PUBACK instead of the centre's ack (the behaviour before end-to-end acks); ENOSE_FLEET_CENTRE_RESTART=1
 * stops the centre before the second broker stop and starts it after the broker is back (with SIGKILL: the
 * verdicts the broker queued for the centre die with it). See benchmarks/README.md.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { applyFleetEvent, createFleetState } from '../src/fleet/state.js';
import type { VerdictMessage } from '../src/fleet/message.js';
import { freePort, startBroker, type Broker } from '../tests/helpers/mosquitto.js';
import { announce, check, main, QUICK, quantileSorted, repoRoot, report } from './harness.js';

const STATIONS = 100;
const PROCESSES = 4;
const INTERVAL_MS = 500;
const COUNT = QUICK ? 30 : 120;
const BROKER_SIGNAL = (process.env['ENOSE_FLEET_BROKER_SIGNAL'] ?? 'SIGTERM') as NodeJS.Signals;
/** Who takes a verdict out of a station's spool: the centre's end-to-end ack (the default) or the broker's PUBACK. */
const ACK_FROM = process.env['ENOSE_FLEET_ACK'] === 'broker' ? 'broker' : 'centre';
/** ENOSE_FLEET_CENTRE_RESTART=1: the centre is stopped before the second broker stop and started after it. */
const CENTRE_RESTART = process.env['ENOSE_FLEET_CENTRE_RESTART'] === '1';
/**
 * "While the broker is up": verdicts produced from MARGIN_BEFORE_MS before a broker stop (in flight when it
 * stopped) to MARGIN_AFTER_MS after its restart (100 clients reconnect within their 1 s period, then send
 * what waited in their spools) are the outage's, and so for a station process's restart.
 */
const MARGIN_BEFORE_MS = 500;
const MARGIN_AFTER_MS = 5000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Driver {
  proc: ChildProcess;
  stations: string[];
  exited: Promise<void>;
}

function rssMiBOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** The centre's state alone: heap after 10% and after all of `total` verdicts from 100 stations (bounded: equal). */
function reducerHeap(total: number): { early: number; late: number } {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const state = createFleetState({ recentPerStation: 20 });
  const heap = () => {
    gc();
    return process.memoryUsage().heapUsed / 2 ** 20;
  };
  let early = NaN;
  for (let i = 0; i < total; i++) {
    const station = `st-${i % 100}`;
    const seq = Math.floor(i / 100) + 1;
    const message: VerdictMessage = {
      kind: 'enose-verdict', v: 1, id: `0123456789abcdef-${seq}`, epoch: '0123456789abcdef', seq, station, sample: `MSCU${seq}-20261207T010203Z`, containerId: `MSCU${seq}`,
      time: new Date(1_765_000_000_000 + i).toISOString(), rig: 'SIM1', modelId: 'm', verdict: i % 20 === 0 ? 'suspicious' : 'clear', class: 'clear',
      probabilities: { clear: 0.9, cocaine: 0.1 }, score: 0.1, reasons: ['clear-class'],
      quality: { framesB: 300, framesE: 600, lostFrames: 0, lostShare: 0, maxGapS: 0.1, cut: null, channels: [], novelty: 0.3 }, latencyMs: 0.3,
    };
    applyFleetEvent(state, { type: 'verdict', receivedAt: message.time, message });
    if (i + 1 === total / 10) early = heap();
  }
  check(state.received === total, 'the reducer lost verdicts');
  return { early, late: heap() };
}

main(async () => {
  announce(`fleet: ${STATIONS} stations x ${COUNT} verdicts through one mosquitto to enose fleet, 2 broker restarts (${BROKER_SIGNAL}), every station restarted once${CENTRE_RESTART ? ', the centre stopped across the second broker restart' : ''}, ack from ${ACK_FROM}`);
  const root = repoRoot();
  const cli = resolve(root, 'dist', 'cli', 'main.js');
  const driverJs = resolve(root, 'tests', 'helpers', 'fleetStations.mjs');
  check(existsSync(resolve(root, 'dist', 'fleet', 'station.js')), 'dist/ is missing or old: run npm run build first');
  check(spawnSync('sh', ['-c', 'command -v mosquitto || test -x /usr/sbin/mosquitto'], { stdio: 'ignore' }).status === 0, 'mosquitto is not installed (apt-get install mosquitto)');

  const dir = mkdtempSync(join(tmpdir(), 'enose-fleet-bench-'));
  let broker: Broker | null = null;
  let centre = null as ChildProcess | null; // (assigned in startCentre: no narrowing to null here)
  const drivers: Driver[] = [];
  try {
    broker = await startBroker(join(dir, 'broker'), { extra: ['allow_anonymous true', 'max_queued_messages 0', ...(process.env['ENOSE_FLEET_AUTOSAVE'] ? ['autosave_on_changes true', `autosave_interval ${process.env['ENOSE_FLEET_AUTOSAVE']}`] : [])] });
    const centrePort = await freePort(); // the same address across a restart of the centre
    const startCentre = async (): Promise<string> => {
      const proc = spawn(process.execPath, [cli, 'fleet', '--mqtt', broker!.url, '--listen', `127.0.0.1:${centrePort}`, '--data', join(dir, 'centre'), '--keep', '20'], { stdio: ['ignore', 'pipe', 'pipe'] });
      centre = proc;
      let centreOut = '';
      proc.stderr!.on('data', (d: Buffer) => (centreOut += d.toString()));
      const listening = await new Promise<string>((res, rej) => {
        proc.stdout!.on('data', (d: Buffer) => {
          centreOut += d.toString();
          const m = /listening on (http:\/\/\S+)/.exec(centreOut);
          if (m) res(m[1]!);
        });
        proc.once('exit', (code) => rej(new Error(`enose fleet exited with ${code}: ${centreOut}`)));
      });
      for (let i = 0; i < 200 && !(await (await fetch(`${listening}/v1/health`)).json() as { broker: boolean }).broker; i++) await sleep(50);
      await sleep(300); // its subscriptions
      return listening;
    };
    const url = await startCentre();
    const health = async () => (await (await fetch(`${url}/v1/health`)).json()) as { broker: boolean; verdicts: number; duplicates: number };
    const heapMiB = async () => {
      const text = await (await fetch(`${url}/metrics`)).text();
      const m = /^nodejs_heap_size_used_bytes (\S+)$/m.exec(text);
      return m ? Number(m[1]) / 2 ** 20 : NaN;
    };
    const heapStart = await heapMiB();
    const rss: number[] = [rssMiBOf(centre!.pid!)];
    const rssTimer = setInterval(() => {
      if (centre?.exitCode === null) rss.push(rssMiBOf(centre.pid!));
    }, 1000);

    const names = Array.from({ length: STATIONS }, (_, i) => `st-${String(i + 1).padStart(3, '0')}`);
    const done = new Set<string>();
    /** Station -> windows [from, to] (wall ms) while it was not running or not yet reconnected. */
    const stationDown = new Map<string, [number, number][]>();
    const startDriver = (stations: string[], seed: number): Driver => {
      const proc = spawn(process.execPath, [driverJs, '--url', broker!.url, '--stations', stations.join(','), '--spool-dir', join(dir, 'spool'), '--interval-ms', String(INTERVAL_MS), '--count', String(COUNT), '--seed', String(seed), '--ack', ACK_FROM], { stdio: ['ignore', 'pipe', 'inherit'] });
      let buffer = '';
      proc.stdout!.on('data', (d: Buffer) => {
        buffer += d.toString();
        const lines = buffer.split('\n');
        buffer = lines.pop()!;
        for (const line of lines) {
          const msg = JSON.parse(line) as { e: string; station: string };
          if (msg.e === 'done') done.add(msg.station);
          if (msg.e === 'connected') {
            const w = stationDown.get(msg.station)?.at(-1);
            if (w && w[1] === Infinity) w[1] = Date.now() + MARGIN_AFTER_MS;
          }
        }
      });
      return { proc, stations, exited: new Promise((r) => proc.once('exit', () => r())) };
    };
    const per = STATIONS / PROCESSES;
    const t0 = Date.now();
    // The start is a warm-up under the same rule as a restart: from start to connected + 5 s.
    for (const s of names) stationDown.set(s, [[t0 - MARGIN_BEFORE_MS, Infinity]]);
    for (let p = 0; p < PROCESSES; p++) drivers.push(startDriver(names.slice(p * per, (p + 1) * per), p + 1));
    const brokerDown: [number, number][] = [];
    const restartBroker = async () => {
      const from = Date.now();
      await broker!.stop(BROKER_SIGNAL);
      await sleep(2000);
      await broker!.start();
      brokerDown.push([from - MARGIN_BEFORE_MS, Date.now() + MARGIN_AFTER_MS]);
    };
    const restartDriver = async (p: number) => {
      const d = drivers[p]!;
      const at = Date.now();
      for (const s of d.stations) stationDown.set(s, [...(stationDown.get(s) ?? []), [at - MARGIN_BEFORE_MS, Infinity]]);
      d.proc.kill('SIGKILL');
      await d.exited;
      drivers[p] = startDriver(d.stations, 100 + p);
    };
    const runS = (COUNT * INTERVAL_MS) / 1000;
    const at = async (fraction: number) => {
      const wait = t0 + fraction * runS * 1000 - Date.now();
      if (wait > 0) await sleep(wait);
    };
    await at(0.15);
    await restartBroker();
    await at(0.35);
    await restartDriver(0);
    await restartDriver(1);
    await at(0.55);
    if (CENTRE_RESTART) {
      // The centre stops, the broker dies holding the verdicts queued for the centre's session, both come back.
      const c = centre!;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await exited;
      await sleep(1000);
      await restartBroker();
      await startCentre();
    } else await restartBroker();
    await at(0.7);
    await restartDriver(2);
    await restartDriver(3);
    for (let i = 0; i < 1200 && done.size < STATIONS; i++) await sleep(100);
    for (let i = 0; i < 300 && (await health()).verdicts < STATIONS * COUNT; i++) await sleep(100);
    const wallS = (Date.now() - t0) / 1000;
    clearInterval(rssTimer);
    rss.push(rssMiBOf(centre!.pid!));
    const heapEnd = await heapMiB();
    const final = await health();

    // The check: produced (the spools) = received (the centre's log), each once.
    const produced = new Map<string, string>(); // "station/id" -> station
    for (const s of names) {
      const lines = readFileSync(join(dir, 'spool', `${s}.jsonl`), 'utf8').trim().split('\n');
      const head = JSON.parse(lines[0]!) as { epoch: string; nextSeq: number };
      let next = head.nextSeq;
      for (const line of lines) {
        const rec = JSON.parse(line) as { t: string; seq?: number };
        if (rec.t === 'v') next = Math.max(next, rec.seq! + 1);
      }
      for (let seq = 1; seq < next; seq++) produced.set(`${s}/${head.epoch}-${seq}`, s);
    }
    const received = readFileSync(join(dir, 'centre', 'fleet.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { t: string; at: string; m: { station: string; id: string; time: string } })
      .filter((r) => r.t === 'verdict');
    const ids = received.map((r) => `${r.m.station}/${r.m.id}`);
    const idSet = new Set(ids);
    const lost = [...produced.keys()].filter((k) => !idSet.has(k));
    // Lost and doubled are printed before the checks fail on them (the broker-crash variant is measured by them).
    console.log(`# ${BROKER_SIGNAL}, ack from ${ACK_FROM}: produced ${produced.size}, received ${idSet.size} distinct, lost ${lost.length}, held twice ${ids.length - idSet.size}, stations finished ${done.size} of ${STATIONS}`);
    check(produced.size === STATIONS * COUNT, `the stations produced ${produced.size} verdicts, expected ${STATIONS * COUNT}`);
    check(idSet.size === ids.length, `the centre's log holds ${ids.length - idSet.size} verdict(s) twice`);
    check(lost.length === 0, `${lost.length} verdict(s) produced and never received (first: ${lost[0]})`);
    check(ids.every((k) => produced.has(k)), 'the centre holds a verdict no station produced');
    check(done.size === STATIONS, `only ${done.size} of ${STATIONS} stations finished (their spools acknowledged)`);

    const inWindow = (t: number, windows: readonly [number, number][] | undefined) => (windows ?? []).some(([a, b]) => t >= a && t <= b);
    const up: number[] = [];
    const disturbed: number[] = [];
    for (const r of received) {
      const t = Date.parse(r.m.time);
      const delay = Date.parse(r.at) - t;
      if (inWindow(t, brokerDown) || inWindow(t, stationDown.get(r.m.station))) disturbed.push(delay);
      else up.push(delay);
    }
    // Where the slowest deliveries of the undisturbed ones fall, relative to the run's events (to read a p99).
    const slow = received
      .map((r) => ({ t: Date.parse(r.m.time), delay: Date.parse(r.at) - Date.parse(r.m.time), station: r.m.station }))
      .filter((x) => !inWindow(x.t, brokerDown) && !inWindow(x.t, stationDown.get(x.station)))
      .sort((a, b) => b.delay - a.delay)
      .slice(0, 12);
    console.log(`# broker down windows (s from start): ${brokerDown.map(([a, b]) => `${((a - t0) / 1000).toFixed(1)}-${((b - t0) / 1000).toFixed(1)}`).join(', ')}`);
    console.log(`# slowest undisturbed deliveries (s from start: ms): ${slow.map((x) => `${((x.t - t0) / 1000).toFixed(1)}: ${x.delay}`).join(', ')}`);
    up.sort((a, b) => a - b);
    disturbed.sort((a, b) => a - b);
    const p99 = quantileSorted(up, 0.99);
    const group = `fleet: ${STATIONS} stations, 1 mosquitto, 2 broker restarts (${BROKER_SIGNAL})${CENTRE_RESTART ? ', the centre down across the second' : ''}, each station restarted once, ack from ${ACK_FROM}`;
    const name = `${PROCESSES} station processes, verdict every ${INTERVAL_MS} ms per station`;
    report([
      { group, name, metric: 'verdicts produced', value: produced.size, unit: '', note: `${COUNT} per station, over ${wallS.toFixed(0)} s` },
      { group, name, metric: 'received once each', value: ids.length, unit: '', target: '= produced', pass: ids.length === produced.size && lost.length === 0 },
      { group, name, metric: 'duplicates dropped', value: final.duplicates, unit: '', note: 'resent after an outage or a restart, dropped by message id' },
      { group, name, metric: 'delivery p50 (broker up)', value: quantileSorted(up, 0.5), unit: 'ms', n: up.length },
      { group, name, metric: 'delivery p99 (broker up)', value: p99, unit: 'ms', n: up.length, target: '< 100 ms', pass: p99 < 100 },
      { group, name, metric: 'delivery max (broker up)', value: up.at(-1) ?? null, unit: 'ms', n: up.length },
      { group, name, metric: 'delivery max (warm-up, outage or restart)', value: disturbed.at(-1) ?? null, unit: 'ms', n: disturbed.length, note: 'broker stop - 0.5 s to restart + 5 s; station start or kill - 0.5 s to connected + 5 s' },
      { group, name, metric: 'centre RSS start', value: rss[0]!, unit: 'MiB' },
      { group, name, metric: 'centre RSS end', value: rss.at(-1)!, unit: 'MiB' },
      { group, name, metric: 'centre heap used start', value: heapStart, unit: 'MiB' },
      { group, name, metric: 'centre heap used end', value: heapEnd, unit: 'MiB', note: 'V8 heap in use as /metrics reports it (no forced GC)' },
      { group, name, metric: 'centre RSS max', value: Math.max(...rss), unit: 'MiB', note: 'the last 20 verdicts per station in memory, all on disk' },
    ]);
    const total = QUICK ? 200_000 : 1_000_000;
    const heap = reducerHeap(total);
    const g2 = 'fleet: the centre\'s state alone (reducer, in this process)';
    const n2 = `100 stations, ${total.toLocaleString('en-US')} verdicts, last 20 per station kept`;
    report([
      { group: g2, name: n2, metric: `heap after ${(total / 10).toLocaleString('en-US')}`, value: heap.early, unit: 'MiB' },
      { group: g2, name: n2, metric: 'heap after all', value: heap.late, unit: 'MiB', target: '<= 1.5x the early heap', pass: heap.late <= 1.5 * heap.early },
    ]);
  } finally {
    for (const d of drivers) d.proc.kill('SIGKILL');
    if (centre && centre.exitCode === null) {
      const exited = new Promise((r) => centre!.once('exit', r));
      centre.kill('SIGINT');
      await Promise.race([exited, sleep(5000)]);
      centre.kill('SIGKILL');
    }
    await broker?.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
