#!/usr/bin/env node
// Issue 22 research (docs/early-model-research.md): simulates a set ONCE and caches, per container, the default
// model's full feature vector (220: six exposure windows, six recovery windows and the RH/T steps of both), the
// two shipped models' scores and verdicts, the cycle's quality reasons and the simulator's truth (label,
// concentrations, faults, day). Every early-model candidate is then trained and measured on these tables
// (research/early-model.py) without simulating again.
// Run after a build: node research/early-model-extract.mjs <train|threshold|eval> [--containers N] [--eval-seed S]
//   [--workers 2] [--out /tmp/h22m]
// Writes <out>/<name>.f64 (Float64Array, containers x 220, row-major) and <out>/<name>.json (the rest, one row a container).
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { createSimulation, EngineCore, loadShippedModel, SHIPPED_SETS } from '../dist/index.js';
import { simulatedRigInfo } from '../dist/sim/events.js';

function scoreRange(options) {
  const models = [loadShippedModel(undefined, 'exposure'), loadShippedModel(undefined, 'default')];
  const verdicts = models.map(() => new Map());
  const records = new Map();
  const cores = models.map((model, m) => new EngineCore(model, { emitFrames: false }, (e) => {
    if (e.type === 'verdict') verdicts[m].set(e.sample, [e.score, e.verdict, e.reasons ?? []]);
  }, m === 1 ? (r) => records.set(r.sample, r) : undefined));
  const sim = createSimulation(options);
  const truths = new Map();
  const info = { type: 'info', atMs: 0, ...simulatedRigInfo(sim) };
  for (const core of cores) core.push(info);
  for (const cycle of sim.cycles()) {
    const t = cycle.truth;
    truths.set(t.sample, { day: t.day, label: t.label, conc: t.concentrationsPpb, markers: t.markers, confounders: t.confounders, reefer: t.reefer,
      faults: cycle.faults.map((f) => `${f.kind}:${f.channelName}@${f.frame}+${f.frames}`), tC: t.containerTempC, rh: t.containerRhPct });
    for (const frame of cycle.frames({ reuse: true })) {
      const inCycle = frame.phase !== 'I';
      const event = { type: 'frame', atMs: 0, seq: frame.seq, tMs: frame.tMs, phase: frame.phase, values: frame.values, sample: inCycle ? t.sample : '', label: inCycle ? t.label : '' };
      for (const core of cores) core.push(event);
    }
  }
  for (const core of cores) core.end();
  const rows = [];
  const feats = [];
  for (const [sample, truth] of truths) {
    const e = verdicts[0].get(sample);
    const f = verdicts[1].get(sample);
    const r = records.get(sample);
    if (!f || !r) continue;
    rows.push({ sample, ...truth, eScore: e ? e[0] : null, eVerdict: e ? e[1] : null, eReasons: e ? e[2] : [], fScore: f[0], fVerdict: f[1], fReasons: f[2], reasons: r.reasons });
    feats.push(r.features);
  }
  const buf = new Float64Array(feats.length * 220);
  feats.forEach((f, i) => buf.set(f, i * 220));
  return { rows, buf };
}

if (!isMainThread) {
  const out = scoreRange(workerData);
  parentPort.postMessage(out, [out.buf.buffer]);
} else {
  const args = process.argv.slice(2);
  const name = args[0];
  const opt = (n, d) => { const i = args.indexOf(`--${n}`); return i < 0 ? d : args[i + 1]; };
  const evalSeed = Number(opt('eval-seed', 1));
  const sets = {
    train: { ...SHIPPED_SETS.mlpTraining, containers: Number(opt('containers', 20000)) },
    threshold: { ...SHIPPED_SETS.thresholdSet, containers: Number(opt('containers', SHIPPED_SETS.thresholdSet.containers)) },
    eval: { ...SHIPPED_SETS.evaluation, containers: Number(opt('containers', 5000)), ...(evalSeed !== 1 && { seed: evalSeed, rigSeed: 1 }) },
  };
  const set = sets[name];
  if (!set) throw new Error(`set must be one of ${Object.keys(sets).join(', ')}`);
  const workers = Number(opt('workers', 2));
  const outDir = resolve(opt('out', '/tmp/h22m'));
  const file = `${name}${name === 'eval' ? `-s${evalSeed}` : ''}-n${set.containers}`;
  const started = performance.now();
  const perDay = set.containers / set.days;
  if (!Number.isInteger(perDay)) throw new Error('containers must split evenly over the days');
  const ranges = [];
  for (let w = 0; w < workers; w++) {
    const first = Math.floor((w * set.days) / workers);
    const end = Math.floor(((w + 1) * set.days) / workers);
    ranges.push({ ...set, startDay: set.startDay + first, days: end - first, containers: perDay * (end - first) });
  }
  const parts = await Promise.all(ranges.map((simulation) => new Promise((done, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: simulation });
    worker.once('message', done);
    worker.once('error', reject);
  })));
  const rows = parts.flatMap((p) => p.rows);
  const buf = new Float64Array(rows.length * 220);
  let at = 0;
  for (const p of parts) { buf.set(p.buf, at); at += p.buf.length; }
  mkdirSync(outDir, { recursive: true });
  writeFileSync(resolve(outDir, `${file}.f64`), Buffer.from(buf.buffer));
  writeFileSync(resolve(outDir, `${file}.json`), JSON.stringify({ set, featureNames: loadShippedModel(undefined, 'default').input.featureNames, rows }));
  console.log(`${file}: ${rows.length} containers, ${((performance.now() - started) / 1000).toFixed(0)} s`);
}
