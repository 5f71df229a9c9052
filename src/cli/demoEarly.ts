/**
 * `enose demo --early`: the shipped early plan (src/shipped/earlyPlan.ts: the exposure model at 90 s, the
 * recovery-start model at 100 s, the default model at 150 s) on the shipped evaluation set through the live engine, and the decision-time summary:
 * detection, false alarms, mean time to a verdict (all containers, clear ones), containers per rig-hour and the
 * distribution of decision times for clear and for drug containers (src/engine/earlyMeasure.ts, the same
 * measurement as `npm run eval:early`).
 */
import { EnoseError } from '../errors.js';
import { shippedEarlyOption } from '../shipped/earlyPlan.js';
import { runEarlySet } from '../shipped/earlySet.js';
import { loadShippedModel, SHIPPED_SETS } from '../shipped/recipes.js';
import type { SimulationOptions } from '../sim/simulate.js';
import type { EarlySummary } from '../engine/earlyMeasure.js';
import type { VerdictEvent } from '../types.js';
import { numberOption, stringOption, type CommandContext, type Parsed } from './args.js';
import type { OptionTable } from './options.js';
import { createProgress } from './progress.js';

/** `enose demo`'s options for the early decision, a fragment of its table (options.ts). */
export const DEMO_EARLY_OPTIONS = {
  early: {
    type: 'boolean',
    description:
      "a verdict as soon as the evidence suffices: the exposure model clears or flags a container at 90 s, the recovery-start model at 100 s, else the default model's verdict at 150 s stands (the shipped early plan, docs/early-decision.md); prints the decision-time summary (with --containers, --eval-seed, --json)",
  },
  'purge-s': { type: 'string', value: 's', description: '--early: clean air after a cycle ended early, for containersPerRigHour', default: '60' },
} as const satisfies OptionTable;

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

function verdictLine(v: VerdictEvent): string {
  const at = `${v.decidedAtS ?? '?'} s${v.early === true ? ' early' : ''}`;
  return `${v.sample.padEnd(8)} ${(v.label ?? '').padEnd(9)} -> ${(v.verdict ?? 'class only').padEnd(12)} ${at.padEnd(11)} ${v.reasons.join(',')}`;
}

function times(t: Record<string, number>): string {
  return Object.entries(t).sort(([a], [b]) => Number(a) - Number(b)).map(([s, n]) => `${n} at ${s} s`).join(', ') || 'none';
}

export function formatEarlySummary(s: EarlySummary): string {
  return [
    `${s.containers} containers (${s.clearContainers} clear, ${s.suspiciousContainers} drug)`,
    `  detection rate ${pct(s.detectionRate)}, false-alarm rate ${pct(s.falseAlarmRate)} (95 % upper bound ${pct(s.falseAlarmUpper95)}), inconclusive ${s.inconclusive}`,
    `  mean time to the verdict ${s.meanDecisionS} s (clear containers ${s.meanDecisionClearS} s, drug containers ${s.meanDecisionSuspiciousS} s; a full cycle is 150 s)`,
    `  clear containers: ${times(s.decisionTimesS.clear)}`,
    `  drug containers:  ${times(s.decisionTimesS.suspicious)}; cleared early ${s.drugsClearedEarly.total}`,
    `  containers per rig-hour ${s.containersPerRigHour} (purge after an early end 0 / 30 / 60 s: ${['0', '30', '60'].map((p) => s.containersPerRigHourByPurgeS[p]).join(' / ')})`,
  ].join('\n');
}

/** Runs `enose demo --early` on the parsed options of `enose demo`. */
export async function runDemoEarly(parsed: Parsed, ctx: CommandContext): Promise<number> {
  for (const other of ['model', 'shipped', 'at-exposure-end', 'adapt']) {
    if (parsed.values[other] !== undefined) throw new EnoseError('bad-option', `--early runs the shipped early plan (both shipped models): drop --${other}`);
  }
  const containers = numberOption('demo', parsed, 'containers', { integer: true, min: 1, max: 100000 }) ?? SHIPPED_SETS.evaluation.containers;
  const evalSeed = numberOption('demo', parsed, 'eval-seed', { integer: true, min: 0 });
  const purgeS = numberOption('demo', parsed, 'purge-s', { min: 0 }) ?? 60;
  const json = parsed.values['json'] === true;
  const redrawn = evalSeed !== undefined && evalSeed !== SHIPPED_SETS.evaluation.seed;
  const evalSet: SimulationOptions = { ...SHIPPED_SETS.evaluation, containers, ...(redrawn && { seed: evalSeed, rigSeed: SHIPPED_SETS.evaluation.seed }) };
  const finalModel = loadShippedModel(undefined, 'default');
  const early = shippedEarlyOption();
  const plan = early.plan;
  if (!json) {
    const cp = plan.checkpoints.map((c) => `${c.atS} s: model ${c.modelId} clears below ${c.clearBelow}, flags above ${c.suspiciousAbove}`).join('; ');
    ctx.stdout(`early plan: ${cp}; ${plan.finalAtS} s: model ${plan.finalModelId}. Evaluation set: simulator seed ${evalSet.seed}${redrawn ? ` (rig of seed ${evalSet.rigSeed})` : ''}, days ${SHIPPED_SETS.evaluation.startDay}-${SHIPPED_SETS.evaluation.startDay + SHIPPED_SETS.evaluation.days - 1}, ${containers} containers\n`);
    ctx.stdout(`${'sample'.padEnd(8)} ${'truth'.padEnd(9)}    ${'verdict'.padEnd(12)} ${'decided'.padEnd(11)} reasons\n`);
  }
  const progress = createProgress('evaluation', containers, ctx.stderr, ctx.isTty && !json);
  const run = await runEarlySet(finalModel, early, evalSet, purgeS, (v, done) => {
    if (!json) ctx.stdout(`${verdictLine(v)}\n`);
    progress.update(done);
  });
  progress.finish();
  if (json) {
    ctx.stdout(`${JSON.stringify({ plan, models: { exposure: early.models[0]!.id, recoveryStart: early.models[1]!.id, final: finalModel.id }, set: evalSet, purgeS, ...run.summary, unlabelled: run.unlabelled, missing: run.missing })}\n`);
  } else {
    ctx.stdout(`\n${formatEarlySummary(run.summary)}\n`);
  }
  return 0;
}

/** `--purge-s` is read only with --early; a value without it is misuse. */
export function checkEarlyOnly(parsed: Parsed): void {
  if (parsed.values['early'] !== true && stringOption(parsed, 'purge-s') !== undefined) throw new EnoseError('bad-option', '--purge-s needs --early');
}
