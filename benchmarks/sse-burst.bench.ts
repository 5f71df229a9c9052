/**
 * Issue 24 "Must show": `/v1/health` latency while 400 event-stream clients connect in a burst, and the engine's
 * verdict latency meanwhile. Three processes, so that no figure measures its own client's load:
 * - the service (this file with `--server`): `startScannerService`, what `enose serve --replay` runs, on a
 *   simulated recording replayed 20 times faster than real time, with a shipped model, `maxSseClients` 500 (then
 *   the default 100: the rest of each wave gets 503), and
 *   the snapshot keeping every frame (`maxFrameHz` 1000 instead of 25: the cycle's whole 1,500 frames, about
 *   0.6 MB, are in every snapshot after seconds instead of minutes);
 * - the burst (this file with `--clients`): waves of 400 connections at once to `/v1/events?frames=25` (the
 *   page's kind of stream), each reading its snapshot; when all 400 have it they close and the next wave starts;
 * - this process: posts the cycles, probes `/v1/health` one request after the other (keep-alive) and follows the
 *   verdicts on its own stream.
 * Each round plays one recorded cycle under continuous waves, from the request to its verdict; the quiet rounds
 * before them play the same cycles without clients.
 *
 * Checks before it times: a first cycle under the waves, not timed, whose verdict must equal `enose replay`'s and
 * whose waves must all be whole. Checks before it reports: every admitted client of every wave got a snapshot
 * (status 200, the whole message framed as one snapshot; every 8th parsed as JSON with its frames), and every
 * verdict, quiet or under the burst, equals the one `enose replay` gives for that cycle.
 *
 * The service prints each verdict's latency with the GC pauses inside it (`# verdict ...` on stderr); with
 * ENOSE_SSE_BURST_TRACE=1 also the process CPU time and the involuntary context switches (the OS ran something
 * else) between the trigger frame and the verdict: a latency far above its CPU time with a context switch is
 * the machine, not the service. ENOSE_SSE_BURST_CAPPED=1 runs only the default cap (100), with both models;
 * ENOSE_SSE_BURST_PROF=<dir> writes a CPU profile of the service there; ENOSE_SSE_BURST_NODE_ARGS passes node
 * options to the service (e.g. --single-threaded-gc).
 *
 * Run after a build (about 3 minutes; --quick: the exposure model, 2 rounds):
 *   npm run build && npm run bench -- --only sse-burst
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { get, request, Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { openReplayRig } from '../src/io/replayRig.js';
import { readModelFile } from '../src/io/modelFile.js';
import { parseEventJson } from '../src/io/eventJson.js';
import { startScannerService } from '../src/service/server.js';
import type { EngineEvent, FrameSource, VerdictEvent } from '../src/types.js';
import { announce, check, main, QUICK, quantileSorted, repoRoot, report } from './harness.js';

const CLIENTS = 400;
const SPEED = 20;
const ROUNDS = QUICK ? 2 : 6;
const MODELS_ALL = ['default', 'exposure'];
const MODELS = QUICK ? ['exposure'] : MODELS_ALL;
/** ENOSE_SSE_BURST_CAPPED=1: only the default cap of 100, with both models (to compare variants back to back). */
const CAPPED_ONLY = process.env['ENOSE_SSE_BURST_CAPPED'] === '1';

// ------------------------------------------------------------------------------------------------ roles

if (process.argv[2] === '--server') {
  const [, , , recording, modelPath, cap] = process.argv;
  const model = readModelFile(modelPath!);
  if (!model.ok) throw new Error('the model does not load');
  const rig = await openReplayRig(recording!, { speed: SPEED });
  if (!rig.ok) throw new Error('the recording does not open');
  // Attribution of each verdict's latency (printed at the end): the GC pauses inside its window, and the
  // involuntary context switches (the OS ran something else: the machine is shared) between its trigger frame
  // reaching the engine and the verdict.
  // The context switches need a getrusage call per frame (about 7 % of the service's CPU here): only with
  // ENOSE_SSE_BURST_TRACE=1.
  const source = rig.value.rig;
  const trace = process.env['ENOSE_SSE_BURST_TRACE'] === '1';
  let frameRusage = process.resourceUsage();
  const traced: FrameSource = !trace
    ? source
    : {
        description: source.description,
        send: (command) => source.send(command),
        run: (emit, signal) =>
          source.run((event) => {
            if (event.type === 'frame') frameRusage = process.resourceUsage();
            emit(event);
          }, signal),
      };
  const verdictTrace: { sample: string; latencyMs: number; atMs: number; preempted: number; cpuUs: number }[] = [];
  const onEvent = (event: EngineEvent) => {
    if (event.type !== 'verdict') return;
    const now = trace ? process.resourceUsage() : frameRusage;
    verdictTrace.push({ sample: event.sample, latencyMs: event.latencyMs, atMs: event.atMs, preempted: now.involuntaryContextSwitches - frameRusage.involuntaryContextSwitches, cpuUs: now.userCPUTime + now.systemCPUTime - frameRusage.userCPUTime - frameRusage.systemCPUTime });
  };
  const service = await startScannerService({ model: model.value, source: traced, port: 0, maxSseClients: Number(cap), maxFrameHz: 1000, processMetrics: false, onEvent });
  console.log(`listening on ${service.url}`);
  let requests = 0;
  service.server.on('request', () => requests++);
  const { monitorEventLoopDelay, PerformanceObserver } = await import('node:perf_hooks');
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const gcs: number[] = [];
  const gcSpans: { start: number; end: number }[] = [];
  const kinds: Record<string, number> = {};
  new PerformanceObserver((list) =>
    list.getEntries().forEach((e) => {
      gcs.push(e.duration);
      gcSpans.push({ start: e.startTime, end: e.startTime + e.duration });
      const kind = String((e as unknown as { detail?: { kind?: number } }).detail?.kind);
      kinds[kind] = Math.max(kinds[kind] ?? 0, e.duration);
    }),
  ).observe({ entryTypes: ['gc'] });
  process.once('SIGINT', () => {
    for (const v of verdictTrace) {
      const from = v.atMs - v.latencyMs;
      const gcMs = gcSpans.reduce((ms, g) => ms + Math.max(0, Math.min(g.end, v.atMs) - Math.max(g.start, from)), 0);
      const rusage = trace ? `; process CPU ${(v.cpuUs / 1000).toFixed(2)} ms; ${v.preempted} involuntary context switches` : '';
      console.error(`# verdict ${v.sample}: ${v.latencyMs.toFixed(2)} ms, of which GC ${gcMs.toFixed(2)} ms${rusage}`);
    }
    gcs.sort((a, b) => b - a);
    console.error(`# service: event-loop delay p99 ${(loop.percentile(99) / 1e6).toFixed(1)} ms, max ${(loop.max / 1e6).toFixed(1)} ms; ${gcs.length} GC pauses, longest ${gcs.slice(0, 5).map((d) => d.toFixed(1)).join(', ')} ms; longest by kind ${JSON.stringify(kinds)}; heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB, rss ${(process.memoryUsage.rss() / 2 ** 20).toFixed(0)} MiB; CPU ${((process.cpuUsage().user + process.cpuUsage().system) / 1e6).toFixed(1)} s, ${service.server.listenerCount('request') > 0 ? requests : 0} requests`);
    void service.close().then(() => process.exit(0));
  });
} else if (process.argv[2] === '--clients') {
  await clientWaves(process.argv[3]!, Number(process.argv[4]));
} else {
  main(run);
}

/** One wave after the other until stdin closes; one JSON line per wave. */
async function clientWaves(url: string, count: number): Promise<void> {
  let stop = false;
  process.stdin.on('end', () => (stop = true)).resume();
  while (!stop) {
    // Every snapshot is checked for its framing; every 8th is parsed whole (parsing 400 would load the CPU the
    // service shares with this process, and time this process rather than the service).
    const results = await Promise.all(Array.from({ length: count }, (_, i) => snapshotOf(url, i % 8 === 0)));
    const ok = results.filter((r) => r.status === 200);
    console.log(
      JSON.stringify({
        clients: results.length,
        ok: ok.length,
        refused: results.filter((r) => r.status === 503).length,
        parsed: ok.filter((r) => r.parsed).length,
        samples: [...new Set(ok.map((r) => r.sample))],
        minBytes: Math.min(...ok.map((r) => r.bytes)),
        maxBytes: Math.max(...ok.map((r) => r.bytes)),
      }),
    );
  }
}

/** Opens one stream, reads its snapshot (parsed as JSON), closes. */
function snapshotOf(url: string, parse: boolean): Promise<{ status: number; parsed: boolean; sample: string | null; bytes: number }> {
  return new Promise((done) => {
    const req = get(`${url}/v1/events?frames=25`, { agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        const all = Buffer.concat(chunks, size);
        const at = all.indexOf('event: snapshot\ndata: ');
        const end = at < 0 ? -1 : all.indexOf('\n\n', at);
        if (end < 0) return;
        res.destroy();
        let sample: string | null = null;
        let parsed = false;
        const data = all.toString('utf8', at + 22, end);
        if (!parse) {
          parsed = data.startsWith('{"type":"snapshot",') && data.endsWith(']}') && data.includes('"frames":[');
        } else {
          try {
            const json = JSON.parse(data) as { cycle: { sample: string } | null; frames: unknown[] };
            sample = json.cycle?.sample ?? null;
            parsed = Array.isArray(json.frames);
          } catch {
            // counted as not parsed
          }
        }
        done({ status: res.statusCode ?? 0, parsed, sample, bytes: end - at });
      });
      res.on('end', () => done({ status: res.statusCode ?? 0, parsed: false, sample: null, bytes: 0 }));
      res.on('error', () => done({ status: 0, parsed: false, sample: null, bytes: 0 }));
    });
    req.on('error', () => done({ status: 0, parsed: false, sample: null, bytes: 0 }));
  });
}

// ------------------------------------------------------------------------------------------------ main

const self = fileURLToPath(import.meta.url);

async function run(): Promise<void> {
  announce(`/v1/health and verdict latency while ${CLIENTS} event-stream clients connect in waves, replay x${SPEED}`);
  const root = repoRoot();
  const cli = resolve(root, 'dist', 'cli', 'main.js');
  check(existsSync(cli), `${cli} is missing: run npm run build first`);
  const dir = mkdtempSync(join(tmpdir(), 'enose-sse-burst-'));
  const recording = join(dir, 'rec');
  const sim = spawnSync(process.execPath, [cli, 'simulate', '--containers', '3', '--seed', '7', '--start-day', '22', '--out', recording], { encoding: 'utf8' });
  check(sim.status === 0, `enose simulate failed: ${sim.stderr}`);
  try {
    const model = (name: string) => resolve(root, 'datasets', 'container-sim', `${name}-model.json.gz`);
    if (!CAPPED_ONLY) for (const name of MODELS) await runModel(name, model(name), recording, cli, CLIENTS + 100);
    // With the default cap (100): 99 places (the prober's stream holds one); the rest of a wave gets 503 until
    // clients that have their snapshot leave.
    if (!QUICK || CAPPED_ONLY) for (const name of CAPPED_ONLY ? MODELS_ALL : ['exposure']) await runModel(name, model(name), recording, cli, 100);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runModel(name: string, modelPath: string, recording: string, cli: string, cap: number): Promise<void> {
  const replay = spawnSync(process.execPath, [cli, 'replay', recording, '--model', modelPath, '--json'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  check(replay.status === 0, `enose replay failed: ${replay.stderr}`);
  const expected = replay.stdout
    .trim()
    .split('\n')
    .map((l) => parseEventJson(l))
    .flatMap((r) => (r.ok && r.value.type === 'verdict' ? [r.value] : []));
  check(expected.length === 3, `enose replay gave ${expected.length} verdicts, expected 3`);

  // ENOSE_SSE_BURST_PROF=<dir>: a CPU profile of the service (node --cpu-prof) into that folder;
  // ENOSE_SSE_BURST_NODE_ARGS: more node options for the service (e.g. --single-threaded-gc), space-separated.
  const prof = process.env['ENOSE_SSE_BURST_PROF'];
  const nodeArgs = (process.env['ENOSE_SSE_BURST_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
  const server = spawn(process.execPath, [...nodeArgs, ...(prof ? ['--cpu-prof', '--cpu-prof-dir', prof] : []), self, '--server', recording, modelPath, String(cap)], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const url = await new Promise<string>((ok, fail) => {
      createInterface({ input: server.stdout! }).on('line', (line) => {
        const m = /listening on (\S+)/.exec(line);
        if (m) ok(m[1]!);
      });
      server.once('exit', (code) => fail(new Error(`the service exited with ${code}`)));
    });
    const verdicts = followVerdicts(url);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const quiet = { health: [] as number[], verdict: [] as number[] };
    const burst = { health: [] as number[], verdict: [] as number[], waves: 0, fullWaves: 0, clients: 0, refused: 0, maxBytes: 0, minBytes: Infinity };

    const checkWave = (wave: Wave) =>
      check(
        wave.parsed === wave.ok && wave.ok + wave.refused === wave.clients && wave.ok >= 1,
        `a wave of ${wave.clients} (cap ${cap}): ${wave.ok} got 200, ${wave.parsed} a snapshot that parses, ${wave.refused} a 503`,
      );
    // Checked before timing: one cycle under the waves (which also warms up every path they take, the refusals
    // included), its verdict equal to enose replay's and every wave's snapshots whole; nothing of it is timed.
    const warmWaves: Wave[] = [];
    const warm = await playCycle(url, agent, verdicts, 'WARMUP', [], (wave) => warmWaves.push(wave));
    check(sameVerdict(warm, expected[0]!), "the warm-up cycle under the burst: the verdict differs from enose replay's");
    check(warmWaves.length > 0, 'no wave ran in the warm-up cycle');
    warmWaves.forEach(checkWave);
    // Quiet: each recorded cycle once, health probed meanwhile (the replay goes on with the recording's next cycle).
    for (let i = 0; i < 3; i++) {
      const v = await playCycle(url, agent, verdicts, `QUIET${i}`, quiet.health, null);
      check(sameVerdict(v, expected[(1 + i) % 3]!), `quiet cycle ${i}: the verdict differs from enose replay's`);
      quiet.verdict.push(v.latencyMs);
    }
    // Under the burst: the waves run from each request to its verdict.
    const admitted = Math.min(CLIENTS, cap - 1);
    for (let i = 0; i < ROUNDS; i++) {
      const waves: Wave[] = [];
      const v = await playCycle(url, agent, verdicts, `BURST${i}`, burst.health, (wave) => waves.push(wave));
      for (const wave of waves) {
        checkWave(wave);
        // The cap counts open streams: a client that has its snapshot and leaves frees its place within the wave
        // (so more than the cap may be served in one wave), and the previous wave's may not all be closed yet.
        burst.fullWaves += (admitted < CLIENTS ? wave.refused > 0 : wave.ok === CLIENTS) ? 1 : 0;
        burst.waves++;
        burst.clients += wave.ok;
        burst.refused += wave.refused;
        burst.maxBytes = Math.max(burst.maxBytes, wave.maxBytes);
        burst.minBytes = Math.min(burst.minBytes, wave.minBytes);
      }
      check(sameVerdict(v, expected[(4 + i) % 3]!), `burst cycle ${i}: the verdict differs from enose replay's`);
      burst.verdict.push(v.latencyMs);
    }
    agent.destroy();
    check(burst.waves >= ROUNDS, `only ${burst.waves} waves in ${ROUNDS} rounds`);
    check(burst.fullWaves > 0, admitted < CLIENTS ? `no wave met the cap of ${cap} (no 503)` : `no wave had all of its ${CLIENTS} clients served`);

    const group = 'SSE burst: /v1/health and verdict latency';
    const config = (what: string) => `${name} model, cap ${cap}, ${what}`;
    const p = (xs: number[], q: number) => quantileSorted(Float64Array.from(xs).sort(), q);
    const note = `${burst.waves} waves of ${CLIENTS} clients (${burst.clients} snapshots${burst.refused > 0 ? ` and ${burst.refused} answers 503` : ''} of ${(burst.minBytes / 1e6).toFixed(2)} to ${(burst.maxBytes / 1e6).toFixed(2)} MB, all checked)`;
    report([
      { group, name: config('quiet'), metric: 'health p50', value: p(quiet.health, 0.5), unit: 'ms', n: quiet.health.length },
      { group, name: config('quiet'), metric: 'health p99', value: p(quiet.health, 0.99), unit: 'ms', n: quiet.health.length },
      { group, name: config('quiet'), metric: 'verdict p99', value: p(quiet.verdict, 0.99), unit: 'ms', n: quiet.verdict.length, note: 'the same cycles without clients' },
      { group, name: config(`${CLIENTS} clients in waves`), metric: 'health p50', value: p(burst.health, 0.5), unit: 'ms', n: burst.health.length },
      { group, name: config(`${CLIENTS} clients in waves`), metric: 'health p99', value: p(burst.health, 0.99), unit: 'ms', n: burst.health.length, target: '< 50 ms', pass: p(burst.health, 0.99) < 50 },
      { group, name: config(`${CLIENTS} clients in waves`), metric: 'verdict p99', value: p(burst.verdict, 0.99), unit: 'ms', n: burst.verdict.length, target: '< 5 ms', pass: p(burst.verdict, 0.99) < 5, note },
    ]);
  } finally {
    server.kill('SIGINT');
    await new Promise((r) => (server.exitCode !== null ? r(null) : server.once('exit', r)));
  }
}

/** The verdicts of the service's own stream, by sample id. */
function followVerdicts(url: string): Map<string, VerdictEvent> & { wait(id: string): Promise<VerdictEvent> } {
  const seen = new Map<string, VerdictEvent>() as Map<string, VerdictEvent> & { wait(id: string): Promise<VerdictEvent> };
  const waiting = new Map<string, (v: VerdictEvent) => void>();
  seen.wait = (id) => (seen.has(id) ? Promise.resolve(seen.get(id)!) : new Promise((r) => waiting.set(id, r)));
  get(`${url}/v1/events?frames=none`, { agent: false }, (res) => {
    let text = '';
    res.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      let end;
      while ((end = text.indexOf('\n\n')) >= 0) {
        const message = text.slice(0, end);
        text = text.slice(end + 2);
        if (!message.startsWith('event: verdict\n')) continue;
        const parsed = parseEventJson(message.slice(message.indexOf('data: ') + 6));
        if (!parsed.ok || parsed.value.type !== 'verdict') continue;
        seen.set(parsed.value.sample, parsed.value);
        waiting.get(parsed.value.sample)?.(parsed.value);
      }
    });
  });
  return seen;
}

interface Wave {
  clients: number;
  ok: number;
  refused: number;
  parsed: number;
  samples: (string | null)[];
  minBytes: number;
  maxBytes: number;
}

/** Requests one cycle and waits for its verdict, probing health all along and running client waves when asked. */
async function playCycle(url: string, agent: Agent, verdicts: ReturnType<typeof followVerdicts>, container: string, health: number[], onWave: ((wave: Wave) => void) | null): Promise<VerdictEvent> {
  let id: string | null = null;
  for (let tries = 0; id === null; tries++) {
    const r = await httpJson(agent, 'POST', `${url}/v1/samples`, JSON.stringify({ containerId: container }));
    if (r.status === 202) id = (r.body as { id: string }).id;
    else if (r.status !== 409 || tries > 2000) throw new Error(`POST /v1/samples: ${r.status}`);
    else await new Promise((res) => setTimeout(res, 20));
  }
  let clients: ChildProcess | null = null;
  if (onWave) {
    clients = spawn(process.execPath, [self, '--clients', url, String(CLIENTS)], { stdio: ['pipe', 'pipe', 'inherit'] });
    createInterface({ input: clients.stdout! }).on('line', (line) => onWave(JSON.parse(line) as Wave));
  }
  let done = false;
  const verdict = verdicts.wait(id).then((v) => ((done = true), v));
  while (!done) {
    const t0 = performance.now();
    const r = await httpJson(agent, 'GET', `${url}/v1/health`);
    health.push(performance.now() - t0);
    check(r.status === 200 && (r.body as { status: string }).status === 'ok', `/v1/health answered ${r.status}`);
    await new Promise((res) => setTimeout(res, 5));
  }
  if (clients) {
    const exited = new Promise((r) => clients!.once('exit', r));
    clients.stdin!.end();
    await exited;
  }
  return verdict;
}

function httpJson(agent: Agent, method: string, url: string, body?: string): Promise<{ status: number; body: unknown }> {
  return new Promise((done, fail) => {
    const req = request(url, { method, agent, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString('utf8')));
      res.on('end', () => done({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown }));
    });
    req.on('error', fail);
    req.end(body);
  });
}

/** The same verdict but for what differs between runs by nature (id, times, latency, station). */
function sameVerdict(a: VerdictEvent, b: VerdictEvent): boolean {
  const strip = ({ sample: _s, atMs: _a, latencyMs: _l, wallTime: _w, station: _st, ...rest }: VerdictEvent) => rest;
  return JSON.stringify(strip(a)) === JSON.stringify(strip(b));
}
