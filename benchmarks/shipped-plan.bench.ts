/**
 * The shipped early plan's verdict path, for sizing a deployment that runs `--early` (src/shipped/earlyPlan.ts):
 * three models on every frame (the exposure model judging at 90 s, the recovery-start model at 100 s, the default
 * model at 150 s), the first checkpoint whose threshold holds giving the verdict. Containers of the evaluation days
 * (simulator seed 1, days 21-30) are pushed frame by frame into an `EarlyEngineCore`; the time is taken around the
 * `push` of each frame that brings a verdict, and reported by the checkpoint that gave it. The exposure model runs
 * one frame ahead (as alone); the recovery-start model cannot (its row completes on the frame it decides on), so
 * its verdicts carry its model's part. Each stream is pushed twice into a new core and the second pass is timed, as
 * in shipped-models.bench.ts. Also the mean cost of a frame through the plan, beside one core of the default model.
 *
 * Checked before timing, on 200 containers: one verdict each; every verdict's class and probabilities equal the plain
 * reference computation (reference.ts) of the model that gave it (by its id) on the features a feature-only core
 * with that model's own extractor settings gives for the same cycle, to 1e-9; an early verdict comes from a
 * checkpoint model and a clear one sits below its checkpoint's `clearBelow`; the final verdicts come from the
 * default model at the recovery's end.
 */
import { resolve } from 'node:path';
import { EarlyEngineCore } from '../src/engine/earlyCore.js';
import { EngineCore } from '../src/engine/core.js';
import { readModelFile } from '../src/io/modelFile.js';
import type { ModelBundle } from '../src/model/runtime/bundle.js';
import type { EngineEarlyOption } from '../src/engine/earlyPlanSchema.js';
import { SHIPPED_EARLY_PLAN } from '../src/shipped/earlyPlan.js';
import type { SourceEvent, VerdictEvent } from '../src/types.js';
import { evaluationEvents, featureRecords } from './fixtures.js';
import { announce, check, checkClose, main, QUICK, repoRoot, report, summarize, type Row } from './harness.js';
import { referencePredict } from './reference.js';

const CONTAINERS = QUICK ? 150 : 2000;
const CHECKED = QUICK ? 50 : 200;
const WARMUP = QUICK ? 20 : 100;

/** A shipped model file of datasets/container-sim, read as the engine reads it. */
function shipped(file: string): ModelBundle {
  const read = readModelFile(resolve(repoRoot(), 'datasets', 'container-sim', file));
  check(read.ok, `${file} does not load`);
  return read.value;
}

function checkPlan(final: ModelBundle, early: EngineEarlyOption, stream: readonly SourceEvent[]): void {
  const models = [...early.models, final];
  const rows = new Map(models.map((m) => [m.id, new Map(featureRecords(m, stream).map((r) => [r.sample, r] as const))] as const));
  const verdicts: VerdictEvent[] = [];
  const core = new EarlyEngineCore(final, early, { emitFrames: false }, (e) => {
    if (e.type === 'verdict') verdicts.push(e);
  });
  for (const e of stream) core.push(e);
  core.end();
  check(verdicts.length === CHECKED, `${CHECKED} containers gave ${verdicts.length} verdicts`);
  const clearBelow = new Map(SHIPPED_EARLY_PLAN.checkpoints.map((c) => [c.modelId, c.clearBelow] as const));
  let predicted = 0;
  for (const v of verdicts) {
    const model = models.find((m) => m.id === v.modelId);
    check(model !== undefined, `${v.sample}: verdict of model ${v.modelId}, not one of the plan's`);
    check(v.early === (model !== final), `${v.sample}: early ${v.early} from model ${v.modelId}`);
    if (!v.early) check(v.checkpoint === 'recovery-end', `${v.sample}: the final verdict at ${v.checkpoint}`);
    if (v.early && v.verdict === 'clear') check(v.score !== null && v.score < clearBelow.get(v.modelId)!, `${v.sample}: early clear with P(suspicious) ${v.score}`);
    if (v.class === null) continue;
    const record = rows.get(model.id)!.get(v.sample);
    check(record !== undefined, `${v.sample}: no feature row of model ${model.id}`);
    const ref = referencePredict(model, record.features);
    check(v.class === model.classes[ref.best], `${v.sample}: class ${v.class}, reference ${model.classes[ref.best]}`);
    checkClose(model.classes.map((c) => v.probabilities[c]!), ref.probabilities, 1e-9, `${v.sample} probabilities`);
    predicted++;
  }
  check(predicted >= 0.9 * CHECKED, `only ${predicted} of ${CHECKED} check containers were predicted`);
  check(verdicts.some((v) => v.early), 'no early verdict among the checked containers');
}

interface Timed {
  /** Push times (ns) of the frames that brought a verdict, by the checkpoint that gave it. */
  readonly byCheckpoint: Map<string, number[]>;
  /** Mean push time (ns) of every frame. */
  readonly meanFrameNs: number;
}

/** The stream through a new core (`make`), each push timed; verdicts after the first WARMUP are kept by checkpoint. */
function timePushes(make: (sink: (v: VerdictEvent) => void) => { push(e: SourceEvent): void }, stream: readonly SourceEvent[]): Timed {
  let verdict: VerdictEvent | null = null;
  const core = make((v) => (verdict = v));
  const byCheckpoint = new Map<string, number[]>();
  let seen = 0;
  let frameNs = 0;
  let frames = 0;
  for (const e of stream) {
    const stamped = e.type === 'frame' ? ({ ...e, atMs: performance.now() } as SourceEvent) : e;
    verdict = null;
    const t0 = process.hrtime.bigint();
    core.push(stamped);
    const ns = Number(process.hrtime.bigint() - t0);
    if (e.type === 'frame') {
      frameNs += ns;
      frames++;
    }
    const v = verdict as VerdictEvent | null;
    if (v === null || seen++ < WARMUP) continue;
    const key = v.checkpoint ?? 'none';
    const list = byCheckpoint.get(key) ?? [];
    list.push(ns);
    byCheckpoint.set(key, list);
  }
  return { byCheckpoint, meanFrameNs: frameNs / frames };
}

const AT: Readonly<Record<string, string>> = {
  'exposure-end': 'early at 90 s (exposure model, the frame that ends the exposure)',
  'in-recovery': "early at 100 s (recovery-start model, the frame that completes its recovery window: its model's part in the push)",
  'recovery-end': 'final at 150 s (default model, the frame that ends the recovery)',
};

main(() => {
  announce('verdict latency of the shipped early plan (simulated rig, 18 channels)');
  const final = shipped('default-model.json.gz');
  // The plan and its checkpoints' models as `shippedEarlyOption()` gives them, read from the repository's files.
  const early: EngineEarlyOption = { plan: SHIPPED_EARLY_PLAN, models: [shipped('exposure-model.json.gz'), shipped('recovery-start-model.json.gz')] };
  checkPlan(final, early, evaluationEvents(CHECKED));
  const stream = evaluationEvents(CONTAINERS);
  const plan = () => timePushes((sink) => new EarlyEngineCore(final, early, { emitFrames: false }, (e) => e.type === 'verdict' && sink(e)), stream);
  plan();
  const timed = plan();
  const alone = (() => {
    const one = () => timePushes((sink) => new EngineCore(final, { emitFrames: false }, (e) => e.type === 'verdict' && sink(e)), stream);
    one();
    return one();
  })();
  const total = [...timed.byCheckpoint.values()].reduce((n, l) => n + l.length, 0);
  check(total >= CONTAINERS - WARMUP - 1, `${total} timed verdicts of ${CONTAINERS - WARMUP}`);
  const group = 'verdict latency: the shipped early plan (push of the frame that brings a verdict -> verdict event)';
  const rows: Row[] = [];
  for (const key of ['exposure-end', 'in-recovery', 'recovery-end']) {
    const times = timed.byCheckpoint.get(key) ?? [];
    if (times.length === 0) continue;
    const s = summarize(times);
    const name = `${AT[key]}, ${((100 * times.length) / total).toFixed(1)} % of the verdicts`;
    rows.push({ group, name, metric: 'p50', value: s.p50, unit: 'us', n: s.n });
    rows.push({ group, name, metric: 'p99', value: s.p99, unit: 'us', n: s.n });
  }
  const frameName = 'every frame through the plan (three models), mean push; peer column: one core of the default model alone';
  rows.push({ group, name: frameName, metric: 'mean', value: timed.meanFrameNs / 1e3, unit: 'us', peer: alone.meanFrameNs / 1e3, ratio: timed.meanFrameNs / alone.meanFrameNs, n: stream.length });
  report(rows);
});
