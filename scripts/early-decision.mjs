#!/usr/bin/env node
// A verdict as soon as the evidence suffices (issue 22): the three shipped models as a sequential decision. At
// 90 s (the exposure's end) the exposure model's P(suspicious) clears the container when below clearBelow (and
// its own verdict is a clean clear), flags it when above suspiciousAbove; at 100 s (the recovery's first 10 s
// window) the recovery-start model does the same for the containers still open; otherwise the default model's
// verdict at 150 s (the recovery's end) stands (src/engine/earlyDecision.ts).
// The thresholds are chosen on labelled containers of the TRAINING days (SHIPPED_SETS.thresholdSet: seed 2,
// days 17-20, the containers the default model's own threshold was re-set on; src/engine/earlyThresholds.ts)
// for detection >= 95 % and false alarms <= 1 % at 95 % confidence, with no drug container of that set that the
// full cycle does not clear cleared early; then measured on evaluation-day containers (days 21-30).
// Run: npm run eval:early [-- --containers 2000] [-- --eval-seed S] [-- --selection 32000] [-- --purge-s 60]
//      [-- --workers 2] [-- --no-cache] [-- --max-drug-cleared-early 0]
//      [-- --early-model file --early-at 60]   (an earlier checkpoint: a model of the first part of the exposure,
//                                              scripts/early-model.mjs; chosen after the 90 s one, the same rule)
//      [-- --no-recovery-checkpoint]           (the plan of the exposure model alone at 90 s, as shipped before)
//      [-- --baseline-s 10 --exposure-model file --final-model file]
//                                             (every cycle with a shorter baseline, as a rig that skips most of it
//                                              after a clean recovery: the checkpoints come baselineS + 60 s and
//                                              baselineS + 120 s into the cycle; models trained on such cycles:
//                                              npm run model:default -- default --baseline-s 10 --out ...)
// Prints one JSON object. Per-container scores are cached under node_modules/.cache/enose-early/ (keyed by the
// model ids and the set), so a rerun with other thresholds or purge times does not simulate again.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { createSimulation, decideEarly, EngineCore, loadShippedModel, measureEarly, SHIPPED_SETS, simulationEvents } from '../dist/index.js';
import { chooseEarlyThresholds } from '../dist/engine/earlyThresholds.js'; // not in the public API (yet)

/**
 * Scores one simulated range with the models in one pass over its frames:
 * [sample, label, eScore, eVerdict, fScore, fVerdict, rScore, rVerdict(, xScore, xVerdict)] (e: the exposure model,
 * f: the default model, r: the recovery-start model, x: the optional earlier model).
 */
function scoreRange(simulation, earlyModelPath, paths) {
  const models = [loadShippedModel(paths.exposure, 'exposure'), loadShippedModel(paths.final, 'default'), loadShippedModel(paths.recovery, 'recovery-start')];
  if (earlyModelPath) models.push(loadShippedModel(earlyModelPath));
  const byModel = models.map(() => new Map());
  const cores = models.map((model, m) => new EngineCore(model, { emitFrames: false }, (e) => {
    if (e.type === 'verdict') byModel[m].set(e.sample, [e.label ?? '', e.score, e.verdict]);
  }));
  for (const event of simulationEvents(createSimulation(simulation))) for (const core of cores) core.push(event);
  for (const core of cores) core.end();
  const rows = [];
  for (const [sample, [label, fScore, fVerdict]] of byModel[1]) {
    const e = byModel[0].get(sample);
    const r = byModel[2].get(sample);
    const row = [sample, label, e ? e[1] : null, e ? e[2] : null, fScore, fVerdict, r ? r[1] : null, r ? r[2] : null];
    if (earlyModelPath) {
      const x = byModel[3].get(sample);
      row.push(x ? x[1] : null, x ? x[2] : null);
    }
    rows.push(row);
  }
  return { rows };
}

if (!isMainThread) {
  parentPort.postMessage(scoreRange(workerData.simulation, workerData.earlyModelPath, workerData.paths));
} else {
  await main();
}

async function main() {
  const args = process.argv.slice(2);
  const option = (name, fallback) => {
    const i = args.indexOf(`--${name}`);
    if (i < 0) return fallback;
    const v = Number(args[i + 1]);
    if (!Number.isFinite(v) || v < 0) {
      console.error(`early-decision: --${name} needs a number >= 0, got ${args[i + 1]}`);
      process.exit(2);
    }
    return v;
  };
  const containers = option('containers', 2000);
  const selectionN = option('selection', SHIPPED_SETS.thresholdSet.containers);
  const evalSeed = option('eval-seed', SHIPPED_SETS.evaluation.seed);
  const purgeS = option('purge-s', 60);
  const workers = option('workers', 2);
  const useCache = !args.includes('--no-cache');
  const modelAt = args.indexOf('--early-model');
  const earlyModelPath = modelAt < 0 ? undefined : resolve(args[modelAt + 1]);
  const earlyAtS = option('early-at', 60);
  const baselineS = option('baseline-s', 30);
  const pathOption = (name) => {
    const i = args.indexOf(`--${name}`);
    return i < 0 ? undefined : resolve(args[i + 1]);
  };
  const paths = { exposure: pathOption('exposure-model'), final: pathOption('final-model'), recovery: pathOption('recovery-model') };
  const withRecovery = !args.includes('--no-recovery-checkpoint');
  const maxDrugClearedEarly = option('max-drug-cleared-early', 0);
  const started = performance.now();
  const exposureModel = loadShippedModel(paths.exposure, 'exposure');
  const finalModel = loadShippedModel(paths.final, 'default');
  const recoveryModel = loadShippedModel(paths.recovery, 'recovery-start');
  const earlyModel = earlyModelPath === undefined ? undefined : loadShippedModel(earlyModelPath);
  const ids = `${exposureModel.id.slice(0, 12)}-${finalModel.id.slice(0, 12)}-r${recoveryModel.id.slice(0, 12)}${earlyModel ? `-${earlyModel.id.slice(0, 12)}` : ''}`;

  const shortBaseline = baselineS !== 30 ? { baselineS } : {};
  const selectionSet = { ...SHIPPED_SETS.thresholdSet, containers: selectionN, ...shortBaseline };
  const evalSet = { ...SHIPPED_SETS.evaluation, containers, ...(evalSeed !== SHIPPED_SETS.evaluation.seed && { seed: evalSeed, rigSeed: SHIPPED_SETS.evaluation.seed }), ...shortBaseline };
  const selection = toRows(await scoreSet(selectionSet, 'selection'));
  const evaluation = toRows(await scoreSet(evalSet, 'evaluation'));

  const EXPOSURE_END_S = baselineS + 60;
  const RECOVERY_START_S = EXPOSURE_END_S + 10;
  const RECOVERY_END_S = baselineS + 120;
  const targets = { minDetection: 0.95, maxFalseAlarm: 0.01, confidence: 0.95, maxDrugClearedEarly };
  // Rows' early scores in time order: the earlier model's (if any), the exposure model's, the recovery-start model's.
  const E = earlyModel ? 1 : 0;
  const never = (atS) => ({ atS, clearBelow: 0, suspiciousAbove: 1 });
  const choice = chooseEarlyThresholds(selection.map((r) => ({ ...r, early: r.early[E] })), { atS: EXPOSURE_END_S, ...targets });
  // The recovery-start checkpoint, chosen after the 90 s one on the containers that reach it, by the same rule
  // against the full cycle's verdict.
  const reach = selection.filter((r) => !decideEarly({ checkpoints: [choice.thresholds], finalAtS: RECOVERY_END_S }, [r.early[E]], r.final).early);
  const atRecovery = chooseEarlyThresholds(reach.map((r) => ({ ...r, early: r.early[E + 1] })), { atS: RECOVERY_START_S, ...targets });
  const recoveryThresholds = withRecovery ? atRecovery.thresholds : never(RECOVERY_START_S);
  let plan = { checkpoints: [choice.thresholds, recoveryThresholds], finalAtS: RECOVERY_END_S };
  let earlier = null;
  if (earlyModel) {
    // The earlier checkpoint, chosen last: its "final" is what the rest of the plan (90 s, 100 s, then 150 s) decides.
    const rest = plan;
    earlier = chooseEarlyThresholds(selection.map((r) => ({ suspicious: r.suspicious, early: r.early[0], final: { score: null, verdict: decideEarly(rest, r.early.slice(1), r.final).verdict } })), { atS: earlyAtS, ...targets });
    plan = { checkpoints: [earlier.thresholds, choice.thresholds, recoveryThresholds], finalAtS: RECOVERY_END_S };
  }
  const measured = measure(evaluation, plan, purgeS, RECOVERY_END_S);
  const padded = (t) => ({ checkpoints: [...(earlyModel ? [never(earlyAtS)] : []), t, never(RECOVERY_START_S)], finalAtS: RECOVERY_END_S });
  const finalOnly = measure(evaluation, padded(never(EXPOSURE_END_S)), purgeS, RECOVERY_END_S);
  // The issue's first look: clear at 90 s below 0.1, no early suspicious.
  const firstLook = measure(evaluation, padded({ atS: EXPOSURE_END_S, clearBelow: 0.1, suspiciousAbove: 1 }), purgeS, RECOVERY_END_S);
  // The 90 s checkpoint's thresholds alone (the plan before the recovery-start checkpoint, without --early-model).
  const only90 = measure(evaluation, padded(choice.thresholds), purgeS, RECOVERY_END_S);
  // What other clear thresholds would give (no early flag), on the selection and the evaluation containers: the
  // price of each in drug containers cleared early that the full cycle would not have cleared.
  const sweep = (rows) => [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2].map((clearBelow) => {
    const t = { atS: EXPOSURE_END_S, clearBelow, suspiciousAbove: 1 };
    const m = measure(rows, padded(t), purgeS, RECOVERY_END_S);
    const lost = rows.filter((r) => r.suspicious && r.final.verdict !== 'clear' && decideEarly(padded(t), r.early, r.final).early).length;
    return { clearBelow, clearClearedEarly: m.decisionTimesS.clear[EXPOSURE_END_S] ?? 0, clearContainers: m.clearContainers, drugsClearedEarlyNotClearedByFull: lost, detectionRate: m.detectionRate, falseAlarmRate: m.falseAlarmRate, meanDecisionClearS: m.meanDecisionClearS };
  });
  const out = {
    models: { exposure: exposureModel.id, recoveryStart: recoveryModel.id, final: finalModel.id },
    plan,
    selection: {
      set: selectionSet,
      containers: selection.length,
      rule: `clearBelow: lowest exposure-model score of a drug container the full cycle does not clear (${maxDrugClearedEarly} of the drug containers may be passed), detection >= 0.95 (or no lower than the full cycle's); suspiciousAbove: the lowest that keeps the Wilson 95 % upper bound of false alarms <= 1 % (never below 0.5)`,
      finalOnly: choice.finalOnly,
      withEarly: choice.withEarly,
      ...(withRecovery && { recoveryStart: { model: recoveryModel.id, atS: RECOVERY_START_S, containersReaching: reach.length, withEarly: atRecovery.withEarly } }),
      ...(earlier && { earlierCheckpoint: { model: earlyModel.id, atS: earlyAtS, withEarly: earlier.withEarly } }),
    },
    evaluation: { set: evalSet, ...measured },
    evaluationFinalOnly: finalOnly,
    evaluationFirstLook: { clearBelow: 0.1, ...firstLook },
    evaluationExposureEndOnly: only90,
    sweep: { selection: sweep(selection), evaluation: sweep(evaluation) },
    assumption: `a cycle ended early at t s (baseline included) purges the sensors ${purgeS} s (--purge-s; default 60: as much clean air as a full recovery), then the next container's cycle starts with its own ${baselineS} s baseline: t + ${purgeS} s a cycle (${EXPOSURE_END_S + purgeS} s at the ${EXPOSURE_END_S} s checkpoint); a full cycle is ${RECOVERY_END_S} s; ${baselineS === 30 ? 'no baseline is skipped after a clean recovery' : `every cycle of the sets has a ${baselineS} s baseline, right after the last one's recovery`}`,
    host: `${cpus()[0]?.model ?? 'unknown cpu'} x ${cpus().length}, Node ${process.version}; the seconds include simulation and are not a benchmark`,
    seconds: Math.round((performance.now() - started) / 1000),
  };
  console.log(JSON.stringify(out, null, 2));

  async function scoreSet(set, name) {
    const cacheDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'node_modules', '.cache', 'enose-early');
    const file = resolve(cacheDir, `${ids}-${name}-s${set.seed}-r${set.rigSeed ?? set.seed}-d${set.startDay}x${set.days}-n${set.containers}${set.baselineS === undefined ? '' : `-b${set.baselineS}`}.json`);
    if (useCache && existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'));
    const n = Math.min(Math.max(1, workers), set.days);
    let rows;
    if (n <= 1 || set.containers % set.days !== 0) {
      rows = scoreRange(set, earlyModelPath, paths).rows;
    } else {
      // The days split over worker threads (each day is drawn on its own, as make-default-model.mjs splits them).
      const perDay = set.containers / set.days;
      const ranges = [];
      for (let w = 0; w < n; w++) {
        const first = Math.floor((w * set.days) / n);
        const end = Math.floor(((w + 1) * set.days) / n);
        ranges.push({ ...set, startDay: set.startDay + first, days: end - first, containers: perDay * (end - first) });
      }
      const parts = await Promise.all(ranges.map((simulation) => new Promise((done, reject) => {
        const worker = new Worker(new URL(import.meta.url), { workerData: { simulation, earlyModelPath, paths } });
        worker.once('message', done);
        worker.once('error', reject);
      })));
      rows = parts.flatMap((p) => p.rows);
    }
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(file, JSON.stringify(rows));
    return rows;
  }
}

function toRows(raw) {
  return raw
    .filter(([, label]) => label !== '')
    .map(([sample, label, eScore, eVerdict, fScore, fVerdict, rScore, rVerdict, ...x]) => ({
      sample,
      suspicious: label !== 'clear',
      // the early checkpoints in time order: the earlier model's (if any), the exposure model's, the recovery-start model's
      early: [...(x.length > 0 ? [{ score: x[0], verdict: x[1] }] : []), { score: eScore, verdict: eVerdict }, { score: rScore, verdict: rVerdict }],
      final: { score: fScore, verdict: fVerdict },
    }));
}

/** The sequential decision on labelled rows, measured by the library (src/engine/earlyMeasure.ts, as `enose demo --early`). */
function measure(rows, plan, purgeS, fullCycleS) {
  return measureEarly(rows.map((r) => {
    const o = decideEarly(plan, r.early, r.final);
    return { suspicious: r.suspicious, verdict: o.verdict, atS: o.atS, early: o.early, fullVerdict: r.final.verdict };
  }), { purgeS, fullCycleS });
}
