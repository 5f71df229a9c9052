/**
 * `enose demo --early` through the real CLI: the shipped early plan (both shipped models) on evaluation
 * containers, and the decision-time summary, equal to the rule applied to each model alone and measured by the
 * same code as `npm run eval:early`. Misuse is one line.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EngineCore } from '../../src/engine/core.js';
import { decideEarly } from '../../src/engine/earlyDecision.js';
import { measureEarly, type EarlySummary } from '../../src/engine/earlyMeasure.js';
import { SHIPPED_EARLY_PLAN } from '../../src/shipped/earlyPlan.js';
import { loadShippedModel } from '../../src/shipped/recipes.js';
import { simulationEvents } from '../../src/sim/events.js';
import { createSimulation } from '../../src/sim/simulate.js';
import type { VerdictEvent } from '../../src/types.js';
import { runEnose } from '../helpers/cli.js';
import { REPO_ROOT } from '../helpers/shared.js';

const present = ['default-model.json.gz', 'exposure-model.json.gz', 'recovery-start-model.json.gz'].every((f) => existsSync(join(REPO_ROOT, 'datasets', 'container-sim', f)));
if (!present) console.info('SKIPPED: enose demo --early needs the three shipped models (npm run model:default)');

describe.skipIf(!present)('enose demo --early', () => {
  it('prints the decision-time summary as JSON, equal to the rule on each shipped model alone (eval:early\'s way)', () => {
    const containers = 120;
    const run = runEnose(['demo', '--early', '--containers', String(containers), '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as EarlySummary & { plan: unknown; models: { exposure: string; recoveryStart: string; final: string }; missing: number; unlabelled: number };
    expect(out.plan).toEqual(SHIPPED_EARLY_PLAN);
    expect(out.missing).toBe(0);
    expect(out.containers).toBe(containers);
    const sum = (t: Record<string, number>) => Object.values(t).reduce((s, n) => s + n, 0);
    expect(sum(out.decisionTimesS.clear)).toBe(out.clearContainers);
    expect(sum(out.decisionTimesS.suspicious)).toBe(out.suspiciousContainers);
    for (const key of ['detectionRate', 'falseAlarmRate', 'meanDecisionS', 'meanDecisionClearS', 'containersPerRigHour'] as const) expect(typeof out[key]).toBe('number');

    // The same containers scored by each model alone, as scripts/early-decision.mjs does, and the rule applied.
    const exposure = loadShippedModel(undefined, 'exposure');
    const final = loadShippedModel(undefined, 'default');
    const recoveryStart = loadShippedModel(undefined, 'recovery-start');
    expect(out.models).toEqual({ exposure: exposure.id, recoveryStart: recoveryStart.id, final: final.id });
    const alone = [new Map<string, VerdictEvent>(), new Map<string, VerdictEvent>(), new Map<string, VerdictEvent>()];
    const cores = [exposure, final, recoveryStart].map((m, i) => new EngineCore(m, { emitFrames: false }, (e) => {
      if (e.type === 'verdict') alone[i]!.set(e.sample, e);
    }));
    for (const e of simulationEvents(createSimulation({ seed: 1, containers, startDay: 21, days: 10 }))) for (const c of cores) c.push(e);
    for (const c of cores) c.end();
    const rows = [...alone[1]!.values()].map((f) => {
      const o = decideEarly(SHIPPED_EARLY_PLAN, [alone[0]!.get(f.sample)!, alone[2]!.get(f.sample)!], f);
      return { suspicious: f.label !== 'clear', verdict: o.verdict, atS: o.atS, early: o.early, fullVerdict: f.verdict };
    });
    const want = measureEarly(rows);
    const { plan: _p, models: _m, set: _s, purgeS: _g, missing: _x, unlabelled: _u, drugsClearedEarly, ...measured } = out as typeof out & { set: unknown; purgeS: number };
    const { drugsClearedEarly: wantDrugs, ...wanted } = want;
    expect(measured).toEqual(wanted);
    expect(drugsClearedEarly.total).toBe(wantDrugs.total);
  });

  it('prints each container with when it was decided, then the summary', () => {
    const run = runEnose(['demo', '--early', '--containers', '40', '--purge-s', '30']);
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines.filter((l) => / -> (suspicious|clear|inconclusive) +(90|100|150) s/.test(l))).toHaveLength(40);
    expect(run.stdout).toMatch(/40 containers \(\d+ clear, \d+ drug\)/);
    expect(run.stdout).toMatch(/mean time to the verdict [\d.]+ s \(clear containers [\d.]+ s/);
    expect(run.stdout).toMatch(/clear containers: .*at 150 s/);
    expect(run.stdout).toMatch(/containers per rig-hour [\d.]+/);
  });

  it('refuses a model with --early, and --purge-s without it, in one line', () => {
    for (const args of [['--early', '--at-exposure-end'], ['--early', '--shipped', 'default'], ['--purge-s', '30']]) {
      const run = runEnose(['demo', ...args, '--containers', '2']);
      expect(run.code).toBe(2);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});
