/**
 * Issue 6 item 3, second half: how many rigs one engine process serves. N rigs (16 gas channels + temperature
 * + humidity, short seeded cycles of 3.5 s baseline and 5.5 s exposure, each rig starting at a random point
 * of its cycle) each feed their own engine (`createEngine`, one per rig, as a service would run them) through
 * a paced memory source: every frame is handed over at its due time (rig clock), from one 1 ms timer for all
 * rigs, and carries that due time as its arrival time. A verdict's latency is then measured from when its
 * frame was due, so time spent waiting for a busy event loop counts, as it would for bytes waiting in a
 * serial port's buffer. N grows until the p99 verdict latency passes the 5 ms budget (or the process would
 * need more memory than MAX_RSS_MIB). At 10 and 100 frames per second per rig. Each level runs in a fresh
 * child process (model loaded from a file), so that no level inherits the heap of the one before.
 *
 * Checked before timing: one rig, paced, gives the same verdicts (class and probabilities, bit for bit) as
 * the same frames pushed straight into an EngineCore.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EngineCore } from '../src/engine/core.js';
import { createEngine } from '../src/engine/engine.js';
import { parseBundle, serializeBundle, type ModelBundle } from '../src/model/runtime/bundle.js';
import type { FrameSource, SourceEvent, VerdictEvent } from '../src/types.js';
import { SHAPE_ARRAY16, cyclePool, trainSynthetic, type CyclePool, type CycleLength } from './fixtures.js';
import { announce, check, main, mulberry32, QUICK, quantileSorted, report, repoRoot, rssMiB } from './harness.js';

const BUDGET_MS = 5;
const LEVEL_S = QUICK ? 1.5 : 12;
/** A level runs until at least this many verdicts (up to MAX_LEVEL_S): a p99 needs a hundred or more. */
const MIN_VERDICTS = QUICK ? 0 : 200;
const MAX_LEVEL_S = 40;
const SETTLE_S = QUICK ? 0.5 : 1;
const MAX_RSS_MIB = 12_288;
const TICK_MS = 1;
const LEVELS: Record<number, number[]> = QUICK
  ? { 10: [300], 100: [200] }
  : { 10: [100, 300, 1000, 2000, 3000, 5000, 7500, 10_000, 15_000], 100: [100, 300, 600, 1000, 1500, 2000, 3000, 5000] };

interface Rig {
  emit: ((event: SourceEvent) => void) | null;
  seq: number;
  cycle: number;
  frame: number;
  stop: (() => void) | null;
}

/**
 * Paced sources for `count` rigs: frames in global due order (rig r's frame s is due at
 * start + (s + r / count) / rateHz), handed over from one timer.
 */
class PacedRigs {
  readonly rigs: Rig[];
  private readonly rand: () => number;
  private global = 0;
  private timer: NodeJS.Timeout | null = null;
  private startMs = 0;
  /** Frames delivered. */
  delivered = 0;
  /** Lateness of every 16th frame handed over (ms after it was due), while `sampling`. */
  readonly lateness: number[] = [];
  sampling = false;

  constructor(
    private readonly pool: CyclePool,
    private readonly count: number,
    private readonly rateHz: number,
    seed: number,
    /** Frames are handed over this many times faster than the rig clock (the check runs compressed). */
    private readonly speed = 1,
  ) {
    this.rand = mulberry32(seed);
    this.rigs = Array.from({ length: count }, () => {
      const cycle = Math.floor(this.rand() * pool.cycles.length);
      return { emit: null, seq: 0, cycle, frame: Math.floor(this.rand() * pool.cycles[cycle]!.length), stop: null };
    });
  }

  source(r: number): FrameSource {
    const rig = this.rigs[r]!;
    return {
      description: `paced:${r}`,
      run: (emit, signal) =>
        new Promise<void>((resolve) => {
          rig.emit = emit;
          emit({ ...this.pool.info, rig: `R${r}`, atMs: performance.now() });
          rig.stop = resolve;
          signal.addEventListener('abort', () => resolve());
        }),
      send: async () => undefined,
    };
  }

  start(): void {
    this.startMs = performance.now();
    const tick = (): void => {
      const now = performance.now();
      const stepMs = 1000 / this.rateHz;
      for (;;) {
        const g = this.global;
        const due = this.startMs + ((g / this.count) * stepMs) / this.speed;
        if (due > now) break;
        this.global++;
        const rig = this.rigs[g % this.count]!;
        if (!rig.emit) continue;
        const frames = this.pool.cycles[rig.cycle]!;
        const f = frames[rig.frame]!;
        const seq = rig.seq++;
        rig.emit({ type: 'frame', atMs: due, seq, tMs: (1000 + Math.round(seq * stepMs)) >>> 0, phase: f.phase, values: f.values });
        if (this.sampling && (this.delivered & 15) === 0) this.lateness.push(now - due);
        this.delivered++;
        if (++rig.frame === frames.length) {
          rig.frame = 0;
          rig.cycle = (rig.cycle + 1) % this.pool.cycles.length;
        }
      }
      this.timer = setTimeout(tick, TICK_MS);
    };
    this.timer = setTimeout(tick, TICK_MS);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const rig of this.rigs) rig.stop?.();
  }
}

interface LevelResult {
  readonly rigs: number;
  readonly verdicts: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly overBudget: number;
  /** p99 of how late frames were handed to their engine (the paced source's timer and a busy loop). */
  readonly latenessP99Ms: number;
  readonly cpuShare: number;
  readonly rssMiB: number;
  readonly framesPerS: number;
}

async function runLevel(model: ModelBundle, pool: CyclePool, count: number, rateHz: number, seconds: number): Promise<LevelResult> {
  const paced = new PacedRigs(pool, count, rateHz, count * 31 + rateHz);
  const latencies: number[] = [];
  let overBudget = 0;
  let measuring = false;
  const engines = Array.from({ length: count }, (_, r) =>
    createEngine({
      model,
      source: paced.source(r),
      queue: false,
      emitFrames: false,
      latencyBudgetMs: BUDGET_MS,
      onEvent: (e) => {
        if (!measuring) return;
        if (e.type === 'verdict') latencies.push(e.latencyMs);
        else if (e.type === 'over-budget') overBudget++;
      },
    }),
  );
  await new Promise((resolve) => setTimeout(resolve, 50)); // let every engine attach its source
  paced.start();
  // The first second settles (JIT, first cycles); then measure.
  await new Promise((resolve) => setTimeout(resolve, SETTLE_S * 1000));
  measuring = true;
  paced.sampling = true;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const delivered0 = paced.delivered;
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const wallS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const framesPerS = (paced.delivered - delivered0) / wallS;
  measuring = false;
  paced.sampling = false;
  const rss = rssMiB();
  paced.stop();
  await Promise.all(engines.map((e) => e.close()));
  const sorted = Float64Array.from(latencies).sort();
  return {
    rigs: count,
    verdicts: sorted.length,
    p50: quantileSorted(sorted, 0.5),
    p99: quantileSorted(sorted, 0.99),
    max: sorted[sorted.length - 1] ?? NaN,
    overBudget,
    latenessP99Ms: quantileSorted(Float64Array.from(paced.lateness).sort(), 0.99),
    cpuShare: (cpu.user + cpu.system) / 1e6 / wallS,
    rssMiB: rss,
    framesPerS,
  };
}

/** One paced rig must give what the same frames give pushed straight into a core. */
async function checkPaced(model: ModelBundle, pool: CyclePool): Promise<void> {
  const paced = new PacedRigs(pool, 1, pool.info.rateHz, 5, 200);
  const live: VerdictEvent[] = [];
  const sent: SourceEvent[] = [];
  const source = paced.source(0);
  const engine = createEngine({
    model,
    queue: false,
    emitFrames: false,
    source: {
      description: source.description,
      run: (emit, signal) =>
        source.run((e) => {
          sent.push(e);
          emit(e);
        }, signal),
      send: source.send,
    },
    onEvent: (e) => {
      if (e.type === 'verdict') live.push(e);
    },
  });
  await new Promise((resolve) => setTimeout(resolve, 20));
  paced.start();
  while (live.length < (QUICK ? 4 : 10)) await new Promise((resolve) => setTimeout(resolve, 20));
  paced.stop();
  await engine.close();
  const direct: VerdictEvent[] = [];
  const core = new EngineCore(model, { emitFrames: false }, (e) => {
    if (e.type === 'verdict') direct.push(e);
  });
  for (const e of sent) core.push(e);
  check(direct.length >= (QUICK ? 4 : 10) && live.length >= direct.length, `paced check: ${live.length} live verdicts, ${direct.length} direct`);
  for (let i = 0; i < direct.length; i++) {
    const a = live[i]!;
    const b = direct[i]!;
    check(a.sample === b.sample && a.class === b.class && a.verdict === b.verdict, `paced check: verdict ${i} differs (${a.sample} ${a.class} / ${b.sample} ${b.class})`);
    for (const c of model.classes) check(Object.is(a.probabilities[c], b.probabilities[c]), `paced check: verdict ${i} P(${c}) differs`);
  }
}

function poolFor(rateHz: number): CyclePool {
  const length: CycleLength = { idle: 1, baseline: Math.round(3.5 * rateHz), exposure: Math.round(5.5 * rateHz), recovery: Math.round(0.2 * rateHz) };
  return cyclePool(SHAPE_ARRAY16, 21, 50, rateHz, length);
}

function loadModel(file: string): ModelBundle {
  const parsed = parseBundle(JSON.parse(readFileSync(file, 'utf8')), file);
  if (!parsed.ok) throw new Error(parsed.error.reason);
  return parsed.value;
}

/** Child: one level (rate, rig count, seconds) in a fresh process, so that no level inherits another's heap. */
async function levelChild(rateHz: number, count: number, seconds: number, modelFile: string): Promise<void> {
  const model = loadModel(modelFile);
  const pool = poolFor(rateHz);
  if (!QUICK) await runLevel(model, pool, 10, rateHz, 1); // warm-up (JIT)
  const baseRss = rssMiB();
  const r = await runLevel(model, pool, count, rateHz, seconds);
  console.log(JSON.stringify({ ...r, baseRssMiB: baseRss }));
}

function spawnLevel(rateHz: number, count: number, seconds: number, modelFile: string): LevelResult & { baseRssMiB: number } {
  const self = fileURLToPath(import.meta.url);
  const run = spawnSync(process.execPath, [self, '--level', String(rateHz), String(count), String(seconds), modelFile, ...(QUICK ? ['--quick'] : [])], {
    encoding: 'utf8',
    maxBuffer: 64 * 2 ** 20,
    env: { ...process.env, ENOSE_BENCH_OUT: '' },
  });
  if (run.status !== 0) throw new Error(`level ${rateHz} Hz x ${count} failed: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').pop()!) as LevelResult & { baseRssMiB: number };
}

async function parent(): Promise<void> {
  announce('rigs served by one engine process');
  const dir = resolve(repoRoot(), 'node_modules', '.cache', 'enose-bench');
  mkdirSync(dir, { recursive: true });
  const modelFile = resolve(dir, 'rigs-model.json');
  const model = trainSynthetic(SHAPE_ARRAY16, QUICK ? 300 : 2000, 'lda', 1, { cvFolds: 2 });
  writeFileSync(modelFile, serializeBundle(model));
  for (const rateHz of [10, 100]) {
    const pool = poolFor(rateHz);
    await checkPaced(model, pool);
    let served = 0;
    let why = 'not reached in the levels run';
    let perRigMiB = NaN;
    let baseRss = NaN;
    for (const count of LEVELS[rateHz]!) {
      if (Number.isFinite(perRigMiB) && baseRss + perRigMiB * count > MAX_RSS_MIB) {
        why = `memory: ${count} rigs would need about ${(baseRss + perRigMiB * count).toFixed(0)} MiB (${perRigMiB.toFixed(2)} MiB a rig)`;
        break;
      }
      const cycleS = pool.cycles[0]!.length / rateHz;
      const seconds = Math.min(MAX_LEVEL_S, Math.max(LEVEL_S, (MIN_VERDICTS * cycleS) / count));
      // A level that misses while the process used under half a core was most likely descheduled by other
      // work on the machine (frames then wait with the CPU idle): it is run again, up to twice, and every
      // attempt is named in the note.
      const attempts: number[] = [];
      let r = spawnLevel(rateHz, count, seconds, modelFile);
      while (r.p99 > BUDGET_MS && r.cpuShare < 0.5 && attempts.length < 2) {
        attempts.push(r.p99);
        r = spawnLevel(rateHz, count, seconds, modelFile);
      }
      baseRss = r.baseRssMiB;
      perRigMiB = Math.max(0, (r.rssMiB - r.baseRssMiB) / count);
      const group = `rigs served at ${rateHz} Hz (16 gas ch + T + RH, one engine per rig, one process)`;
      const name = `${count} rigs`;
      const ok = r.p99 <= BUDGET_MS;
      report([
        { group, name, metric: 'verdict latency p50', value: r.p50, unit: 'ms', n: r.verdicts },
        {
          group,
          name,
          metric: 'verdict latency p99',
          value: r.p99,
          unit: 'ms',
          n: r.verdicts,
          target: `<= ${BUDGET_MS} ms`,
          pass: r.verdicts > 0 ? ok : null,
          note: `${attempts.length > 0 ? `attempt ${attempts.length + 1} (earlier p99 ${attempts.map((x) => x.toFixed(1)).join(', ')} ms at under half a core); ` : ''}${r.verdicts} verdicts, max ${r.max.toFixed(2)} ms, ${r.overBudget} over budget; frames handed over p99 ${r.latenessP99Ms.toFixed(2)} ms late; CPU ${(100 * r.cpuShare).toFixed(0)}% of a core; ${Math.round(r.framesPerS)} frames/s; RSS ${r.rssMiB.toFixed(0)} MiB (${perRigMiB.toFixed(2)} MiB a rig)`,
        },
      ]);
      if (r.verdicts > 0 && ok) served = count;
      if (!ok) {
        why = `p99 ${r.p99.toFixed(2)} ms at ${count} rigs`;
        break;
      }
    }
    report([
      {
        group: 'rigs one engine process serves within the 5 ms p99 verdict budget',
        name: `${rateHz} Hz rigs`,
        metric: 'rigs',
        value: served,
        unit: 'rigs',
        note: `stopped: ${why}${Number.isFinite(perRigMiB) ? `; ${perRigMiB.toFixed(2)} MiB RSS a rig at the last level` : ''}`,
      },
    ]);
  }
}

const levelAt = process.argv.indexOf('--level');
if (levelAt >= 0) {
  const [rate, count, seconds, file] = process.argv.slice(levelAt + 1, levelAt + 5);
  main(() => levelChild(Number(rate), Number(count), Number(seconds), file!));
} else {
  main(parent);
}
