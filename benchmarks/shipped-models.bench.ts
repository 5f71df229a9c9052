/**
 * The judge path of the two shipped models, for sizing a deployment on the simulated rig (18 channels): the
 * exposure model (112 features, verdict when the exposure ends) and the default model (`npm start`: 220
 * features, verdict when the recovery ends), each two MLPs of 128 and 64 units on every principal component and a novelty limit
 * over 5,000 training points in 20 components. Containers of the evaluation days (simulator seed 1, days
 * 21-30) are pushed frame by frame into an `EngineCore`; the time is taken around the `push` of each frame
 * that produces a verdict (the frame that ends the exposure, or the recovery), to the verdict reaching the sink.
 * Each model's stream is pushed twice, each time into a new core: the first pass warms the process up (V8's
 * compilers settle over the first few thousand verdicts: `research/verdict-path-tail.mjs` shows the p50 falling
 * from about 30 to 16 us through a first pass of 2,000 containers, and most slow pushes in its first 250); the
 * target row is the second pass, a long-running engine's steady state, and the first pass is its own row.
 * The engine runs the model on the frame that completes the deciding phase's last window (`predictAhead`), not
 * on the one that ends the cycle (which finds the row unchanged here: the simulated phases are as long as the
 * windows): that push is timed too, in a row of its own.
 *
 * Checked before timing: every verdict's class, probabilities and novelty equal the plain reference
 * computation (reference.ts) on the same cycle's features (from a feature-only core with the model's own
 * extractor settings) to 1e-9, its leading PCA scores (copied from the prediction's own) equal their plain
 * projection (`leadingScoresInto`) bit for bit, its fields come in the documented order, and at least 90% of the
 * cycles are predicted (not cut short by a gate).
 *
 * Then, on the feature rows of all the timed containers, the model's part of the path (shipped-stages.ts): the
 * fast path equals the plain path (plain loops on the folded layers, a brute-force novelty scan) bit for bit, and
 * each stage (networks, leading projection, novelty search) is timed on its own, warm and cold.
 *
 * Also the default model with adaptation during operation on (watch --adapt): once adaptation has moved, the
 * parent model judges each sample too, before the verdict (a parent alarm is never cleared) and after it (the
 * watchdog); the time around `push` includes both. Checked first on the timed containers: as many verdicts as
 * without adaptation, and none clear where the unadapted run's is suspicious.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { EngineCore, extractorOf } from '../src/engine/core.js';
import { readModelFile } from '../src/io/modelFile.js';
import type { ModelBundle } from '../src/model/runtime/bundle.js';
import { leadingScoresInto } from '../src/model/runtime/leadingScores.js';
import { NOVELTY_CEILING } from '../src/model/runtime/novelty.js';
import { compileModel } from '../src/model/runtime/pipeline.js';
import { recoveryWindowsS, windowsOf } from '../src/signal/extractorConfig.js';
import type { SourceEvent, VerdictEvent } from '../src/types.js';
import { evaluationEvents, featureRecords } from './fixtures.js';
import { announce, check, checkClose, main, QUICK, repoRoot, report, summarize, type Row } from './harness.js';
import { referencePredict } from './reference.js';
import { checkFastPath, stageRows } from './shipped-stages.js';

const CONTAINERS = QUICK ? 150 : 2000;
const CHECKED = QUICK ? 50 : 200;
const WARMUP = QUICK ? 20 : 100;
const BUDGET_US = 50;

function check1(bundle: ModelBundle, stream: readonly SourceEvent[]): void {
  const records = featureRecords(bundle, stream);
  const verdicts: VerdictEvent[] = [];
  const core = new EngineCore(bundle, { emitFrames: false }, (e) => {
    if (e.type === 'verdict') verdicts.push(e);
  });
  for (const e of stream) core.push(e);
  core.end();
  check(records.length === verdicts.length && verdicts.length === CHECKED, `${CHECKED} containers gave ${records.length} feature rows and ${verdicts.length} verdicts`);
  let predicted = 0;
  const model = compileModel(bundle);
  const scores = new Float64Array(3);
  const keys = 'type atMs wallTime station sample verdict class probabilities score reasons quality modelId latencyMs frames label pcaScores decidedAtS checkpoint early';
  for (let i = 0; i < verdicts.length; i++) {
    const v = verdicts[i]!;
    check(v.sample === records[i]!.sample, `verdict ${i} is for ${v.sample}, features for ${records[i]!.sample}`);
    check(Object.keys(v).join(' ') === keys, `${v.sample}: fields ${Object.keys(v).join(' ')}`);
    if (v.class === null) continue;
    leadingScoresInto(model, records[i]!.features, 0, scores, new Float64Array(model.width));
    check(v.pcaScores?.length === 3 && v.pcaScores.every((s, c) => Object.is(s, scores[c])), `${v.sample}: pcaScores ${v.pcaScores}, projected ${scores}`);
    predicted++;
    const ref = referencePredict(bundle, records[i]!.features);
    check(v.class === bundle.classes[ref.best], `${v.sample}: class ${v.class}, reference ${bundle.classes[ref.best]}`);
    checkClose(bundle.classes.map((c) => v.probabilities[c]!), ref.probabilities, 1e-9, `${v.sample} probabilities`);
    check(v.quality.novelty !== null && v.quality.novelty > 1 === ref.novelty > 1, `${v.sample}: novelty ${v.quality.novelty}, reference ${ref.novelty}`);
    checkClose([Math.min(v.quality.novelty!, NOVELTY_CEILING)], [Math.min(ref.novelty, NOVELTY_CEILING)], 1e-9, `${v.sample} novelty`);
  }
  check(predicted >= 0.9 * CHECKED, `only ${predicted} of ${CHECKED} check containers were predicted`);
}

interface Timed {
  readonly times: Float64Array;
  /** The push of the frame that completes the deciding phase's last window, where the model runs (EngineCore's `predictAhead`). */
  readonly aheadTimes: Float64Array;
  readonly predicted: number;
  readonly engineP99Us: number;
}

/** The stream through a new core, the push of each frame that brings a verdict timed (after the first WARMUP). */
function timeVerdicts(bundle: ModelBundle, stream: readonly SourceEvent[], adaptation = false): Timed {
  let verdict: VerdictEvent | null = null;
  const core = new EngineCore(bundle, { emitFrames: false, adaptation }, (e) => {
    if (e.type === 'verdict') verdict = e;
  });
  const times: number[] = [];
  const aheadTimes: number[] = [];
  const engineNs: number[] = [];
  let seen = 0;
  let predicted = 0;
  // Frames of the deciding phase (the recovery with recovery windows, else the exposure) that complete its windows.
  const config = extractorOf(bundle);
  const recoveryS = recoveryWindowsS(config);
  const deciding = recoveryS > 0 ? 'R' : 'E';
  let finalAt = 0;
  let phaseFrames = 0;
  for (const e of stream) {
    if (e.type === 'info') finalAt = Math.round((recoveryS > 0 ? recoveryS : windowsOf(config) * (config.windowS ?? 0)) * e.rateHz);
    if (e.type === 'frame') phaseFrames = e.phase === deciding ? phaseFrames + 1 : 0;
    const stamped = e.type === 'frame' ? ({ ...e, atMs: performance.now() } as SourceEvent) : e;
    verdict = null;
    const t0 = process.hrtime.bigint();
    core.push(stamped);
    const t1 = process.hrtime.bigint();
    if (finalAt > 0 && phaseFrames === finalAt && seen >= WARMUP) aheadTimes.push(Number(t1 - t0));
    const v = verdict as VerdictEvent | null;
    if (v === null) continue;
    if (seen++ < WARMUP) continue;
    times.push(Number(t1 - t0));
    engineNs.push(v.latencyMs * 1e6);
    if (v.class !== null) predicted++;
  }
  return { times: Float64Array.from(times), aheadTimes: Float64Array.from(aheadTimes), predicted, engineP99Us: summarize(engineNs).p99 };
}

/** The first pass (the process warming up: a new engine in a fresh process runs like this), as rows of its own. */
function firstPassRows(group: string, label: string, pass: Timed): Row[] {
  const s = summarize(pass.times);
  const name = `${label}, first pass (warming up)`;
  return [
    { group, name, metric: 'p50', value: s.p50, unit: 'us', n: s.n },
    { group, name, metric: 'p99', value: s.p99, unit: 'us', n: s.n, note: `engine's own latencyMs p99 ${pass.engineP99Us.toFixed(1)} us` },
  ];
}

/**
 * The model runs on the frame that completes the deciding phase's last window (the recovery's, or the exposure's),
 * not on the frame that ends the cycle: that push, timed on its own, so that the work moved off the verdict stays
 * in view.
 */
function aheadRows(group: string, label: string, times: Float64Array): Row[] {
  if (times.length === 0) return [];
  check(times.length >= CONTAINERS - WARMUP - 1, `${times.length} timed pushes completing the last window`);
  const s = summarize(times);
  const name = `${label}: the push of the frame completing the deciding phase's last window (the model's part runs there)`;
  return [
    { group, name, metric: 'p50', value: s.p50, unit: 'us', n: s.n },
    { group, name, metric: 'p99', value: s.p99, unit: 'us', n: s.n },
  ];
}

/**
 * The machine's own noise, measured in the same run: plain arithmetic on 8 KiB (nothing of the engine), as long as
 * the verdict push's p50, timed 20,000 times the same way. A p99 far above its p50 here is the host, not the engine.
 */
function controlRows(group: string, label: string, p50Us: number): Row[] {
  const values = new Float64Array(1024).map((_, i) => Math.sin(i));
  const work = (reps: number): number => {
    let sum = 0;
    for (let r = 0; r < reps; r++) for (let i = 0; i < 1024; i++) sum += values[i]! * values[(i + r) & 1023]!;
    return sum;
  };
  let sink = 0;
  for (let k = 0; k < 2000; k++) sink += work(1);
  const t0 = process.hrtime.bigint();
  for (let k = 0; k < 20_000; k++) sink += work(1);
  const perRepNs = Number(process.hrtime.bigint() - t0) / 20_000;
  const reps = Math.max(1, Math.round((p50Us * 1000) / perRepNs));
  const times = new Float64Array(QUICK ? 2000 : 20_000);
  for (let k = 0; k < times.length; k++) {
    const a = process.hrtime.bigint();
    sink += work(reps);
    times[k] = Number(process.hrtime.bigint() - a);
  }
  check(Number.isFinite(sink), 'the control loop summed to a finite value');
  const s = summarize(times);
  const over = times.filter((t) => t > BUDGET_US * 1000).length;
  const name = `${label}: control, plain arithmetic as long as the verdict push's p50 (${reps} x 1,024 multiply-adds on 8 KiB, nothing of the engine)`;
  return [
    { group, name, metric: 'p50', value: s.p50, unit: 'us', n: s.n },
    { group, name, metric: 'p99', value: s.p99, unit: 'us', n: s.n, note: `${((100 * over) / times.length).toFixed(2)} % over ${BUDGET_US} us: the host's interruptions; ${damonState()}` },
  ];
}

/**
 * Whether the kernel's DAMON monitor (kdamond) samples this machine's memory: each sample clears the accessed bits
 * of pages, and the process touching them next walks its page tables again. A suspect for the engine's rare slow
 * pushes that the control loop, on 8 KiB, does not see (not proven: the monitor belongs to the host).
 */
function damonState(): string {
  const root = '/sys/kernel/mm/damon/admin/kdamonds/0';
  try {
    const state = readFileSync(`${root}/state`, 'utf8').trim();
    const ops = readFileSync(`${root}/contexts/0/operations`, 'utf8').trim();
    const sampleUs = Number(readFileSync(`${root}/contexts/0/monitoring_attrs/intervals/sample_us`, 'utf8'));
    return `the kernel's DAMON monitor: ${state} (${ops}, a sample every ${sampleUs / 1e6} s)`;
  } catch {
    return "no DAMON monitor on this host";
  }
}

main(() => {
  announce('verdict latency of the shipped models (simulated rig, 18 channels)');
  const root = repoRoot();
  const checkStream = evaluationEvents(CHECKED);
  const timedStream = evaluationEvents(CONTAINERS);
  for (const [name, file] of [
    ['exposure model (verdict at the end of the exposure)', 'exposure-model.json.gz'],
    ['default model (verdict at the end of the recovery)', 'default-model.json.gz'],
  ] as const) {
    const read = readModelFile(resolve(root, 'datasets', 'container-sim', file));
    check(read.ok, `${file} does not load`);
    if (!read.ok) return;
    const bundle = read.value;
    check1(bundle, checkStream);
    const timedRows = featureRecords(bundle, timedStream).map((r) => Float64Array.from(r.features));
    const compared = checkFastPath(bundle, timedRows, file);
    check(compared >= 0.9 * timedRows.length, `${file}: only ${compared} of ${timedRows.length} feature rows were finite`);
    const firstPass = timeVerdicts(bundle, timedStream);
    const timed = timeVerdicts(bundle, timedStream);
    const { times, predicted, engineP99Us } = timed;
    // The last container's verdict comes from the end of the stream for the default model (no frame after it).
    check(times.length >= CONTAINERS - WARMUP - 1, `${times.length} timed verdicts of ${CONTAINERS - WARMUP}`);
    check(predicted >= 0.9 * times.length, `only ${predicted} of ${times.length} timed containers were predicted`);
    const s = summarize(times);
    const label = `${name}: ${bundle.input.featureNames.length} features, ${bundle.pca.components} components, ${bundle.novelty ? bundle.novelty.points.length / (bundle.novelty.components ?? bundle.pca.components) : 0} novelty points`;
    const group = 'verdict latency: shipped models (push of the frame that ends the cycle -> verdict event)';
    const rows: Row[] = [
      { group, name: label, metric: 'p50', value: s.p50, unit: 'us', n: s.n },
      { group, name: label, metric: 'p99', value: s.p99, unit: 'us', n: s.n, target: `< ${BUDGET_US} us`, pass: s.p99 < BUDGET_US, note: `engine's own latencyMs p99 ${engineP99Us.toFixed(1)} us` },
      { group, name: label, metric: 'max', value: s.max, unit: 'us', n: s.n },
      ...firstPassRows(group, label, firstPass),
      ...aheadRows(group, label, timed.aheadTimes),
      ...controlRows(group, name.replace(/ \(.*/, ''), s.p50),
    ];
    report(rows);
    const stageGroup = `the model's part of a verdict, stage by stage (${compared} feature rows, each through the fast path equal to the plain path bit for bit; transform: ${bundle.transform})`;
    report(stageRows(bundle, timedRows, stageGroup, name.replace(/ \(.*/, ''), QUICK ? 1 : 3));
    if (file !== 'default-model.json.gz') continue;
    // The same with adaptation on.
    const unadapted: VerdictEvent[] = [];
    const adapted: VerdictEvent[] = [];
    for (const [on, into] of [[false, unadapted], [true, adapted]] as const) {
      const core = new EngineCore(bundle, { emitFrames: false, adaptation: on }, (e) => {
        if (e.type === 'verdict') into.push(e);
      });
      for (const e of timedStream) core.push(e);
      core.end();
    }
    check(adapted.length === unadapted.length, `adaptation gave ${adapted.length} verdicts, ${unadapted.length} without`);
    const disagree = adapted.filter((v) => v.reasons.includes('adaptation-disagrees')).length;
    for (let i = 0; i < adapted.length; i++) {
      check(!(unadapted[i]!.verdict === 'suspicious' && adapted[i]!.verdict === 'clear'), `${adapted[i]!.sample}: adaptation cleared a suspicious verdict`);
    }
    const stoppedAt = adapted.findIndex((v) => v.adaptation?.stopped === true);
    const withAdapt = timeVerdicts(bundle, timedStream, true);
    const a = summarize(withAdapt.times);
    const adaptLabel = `${name} with adaptation on (the parent model judges each sample too once it has moved)`;
    report([
      { group, name: adaptLabel, metric: 'p50', value: a.p50, unit: 'us', n: a.n },
      { group, name: adaptLabel, metric: 'p99', value: a.p99, unit: 'us', n: a.n, note: `engine's own latencyMs p99 ${withAdapt.engineP99Us.toFixed(1)} us; ${disagree} verdicts inconclusive for adaptation-disagrees, ${stoppedAt < 0 ? 'not stopped' : `stopped by its watchdog after container ${stoppedAt}`} of ${adapted.length} (the parent judges each sample only until then)` },
      { group, name: adaptLabel, metric: 'max', value: a.max, unit: 'us', n: a.n },
    ]);
  }
});
