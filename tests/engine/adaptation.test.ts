/**
 * Adaptation during operation, wired into the engine (issue 8, item 2): the scaler follows the slow drift of
 * confidently clear samples; suspicious ones never move it; the same stream gives the same verdicts; the
 * adapted model can be written out with its lineage.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EngineCore } from '../../src/engine/core.js';
import { extractTrainingSet } from '../../src/engine/training.js';
import { framesCsvHeader, formatFramesCsvRow } from '../../src/io/datasets/index.js';
import { writeModelFile } from '../../src/io/modelFile.js';
import type { ModelBundle } from '../../src/model/runtime/bundle.js';
import { fitModel } from '../../src/model/fitting/fitModel.js';
import type { EngineEvent, SourceEvent, VerdictEvent } from '../../src/types.js';
import { runEnose } from '../helpers/cli.js';
import { rigStream, TEST_RIG, trainingStream, type CycleSpec } from '../helpers/cycles.js';

const R0 = [20000, 35000, 50000, 15000];

function trainModel(): ModelBundle {
  const set = extractTrainingSet([{ group: 'train', events: trainingStream(30, 1) }]);
  return fitModel(set.table, set.input, { classifier: 'lda', limits: set.limits });
}
const model = trainModel();

/** The rig loses sensitivity: each exposure response shrinks toward 1 - loss as the cycles go by. */
function degrading(cycles: readonly CycleSpec[], seed: number, loss: number): SourceEvent[] {
  let cycle = -1;
  let inE = false;
  return rigStream(cycles, { seed, withHints: true }).map((e) => {
    if (e.type !== 'frame') return e;
    if (e.phase === 'E' && !inE) cycle++;
    inE = e.phase === 'E';
    if (e.phase !== 'E') return e;
    const f = 1 - (loss * cycle) / Math.max(1, cycles.length - 1);
    const values = Float64Array.from(e.values, (v, i) => (i < 4 ? R0[i]! * Math.pow(v / R0[i]!, f) : v));
    return { ...e, values };
  });
}

type Stopped = Extract<EngineEvent, { type: 'adaptation-stopped' }>;

function run(events: readonly SourceEvent[], adaptation: boolean | object): { verdicts: VerdictEvent[]; stops: Stopped[]; core: EngineCore } {
  const verdicts: VerdictEvent[] = [];
  const stops: Stopped[] = [];
  let clock = 0;
  const core = new EngineCore(model, { now: () => clock, emitFrames: false, adaptation }, (e) => {
    if (e.type === 'verdict') verdicts.push(e);
    else if (e.type === 'adaptation-stopped') stops.push(e);
  });
  for (const e of events) {
    clock += 0.001;
    core.push({ ...e, atMs: clock } as SourceEvent);
  }
  core.end();
  return { verdicts, stops, core };
}

const mostlyClear: CycleSpec[] = Array.from({ length: 160 }, (_, i) => ({ label: i % 8 === 7 ? 'cocaine' : 'clear' }));

describe('adaptation during operation in the engine', () => {
  it('learns from clear verdicts only after its warm-up, and moves the scaler the way the sensors drifted', () => {
    const events = degrading(mostlyClear, 5, 0.5);
    const { verdicts, core } = run(events, { warmupSamples: 20 });
    expect(verdicts).toHaveLength(160);
    const accepted = verdicts.map((v) => v.adaptation!.accepted);
    for (let i = 1; i < accepted.length; i++) expect(accepted[i]!).toBeGreaterThanOrEqual(accepted[i - 1]!);
    const clearVerdicts = verdicts.filter((v) => v.verdict === 'clear').length;
    // Every accepted sample was a clear verdict beyond the 20 of the warm-up.
    expect(accepted.at(-1)!).toBeGreaterThan(50);
    expect(accepted.at(-1)!).toBeLessThanOrEqual(clearVerdicts - 20);
    expect(verdicts.at(-1)!.adaptation!.largestShiftSd).toBeGreaterThan(0);
    const adapted = core.adaptedModel()!;
    expect(adapted.lineage!.parent).toBe(model.hash);
    expect(adapted.lineage!.method).toMatch(/^online-adaptation\(accepted=\d+/);
    // Clear responses are small drops (negative fractional responses); lost sensitivity makes them smaller,
    // so the steady-state means move up.
    const j = model.input.featureNames.indexOf('g1:ss');
    expect(adapted.scaler.mean[j]!).toBeGreaterThan(model.scaler.mean[j]!);
  });

  it('is not dragged by a run of suspicious containers', () => {
    const events = degrading(Array.from({ length: 60 }, () => ({ label: 'cocaine' })), 6, 0.3);
    const { verdicts } = run(events, { warmupSamples: 5 });
    expect(verdicts.every((v) => v.verdict !== 'clear')).toBe(true);
    expect(verdicts.at(-1)!.adaptation).toEqual({ accepted: 0, largestShiftSd: 0, stopped: false });
  });

  it('is stopped by its watchdog when it adds alarms, and the parent model judges from then on', () => {
    // Adaptation made reckless on purpose (the running mean is the last clear sample, no caps to speak of):
    // its noise flags samples the parent calls clear, and the watchdog must catch that.
    const events = degrading(mostlyClear, 9, 0);
    const reckless = { warmupSamples: 5, rate: 1, maxStepSd: 100, maxShiftSd: 100, clipSd: 100, maxScoreShare: 1, maxNovelty: 100, watchSamples: 50, maxAddedAlarmShare: 0.04 };
    const { verdicts, stops } = run(events, reckless);
    const parent = run(events, false).verdicts;
    expect(stops).toHaveLength(1);
    const stop = stops[0]!;
    expect(stop.addedAlarms).toBe(3);
    expect(stop.watchSamples).toBe(50);
    expect(stop.accepted).toBeGreaterThan(0);
    const at = verdicts.findIndex((v) => v.sample === stop.sample);
    expect(at).toBeGreaterThan(5);
    // Before the stop the adapted model flagged samples the parent cleared; after it, every verdict is the parent's.
    let added = 0;
    for (let i = 0; i <= at; i++) if (verdicts[i]!.verdict === 'suspicious' && parent[i]!.verdict === 'clear') added++;
    expect(added).toBeGreaterThanOrEqual(3);
    for (let i = at + 1; i < verdicts.length; i++) {
      expect(verdicts[i]!.adaptation).toEqual({ accepted: stop.accepted, largestShiftSd: 0, stopped: true });
      expect(verdicts[i]!.verdict).toBe(parent[i]!.verdict);
      expect(verdicts[i]!.probabilities).toEqual(parent[i]!.probabilities);
    }
  });

  it('never clears on its own what the parent model flags: such a sample is inconclusive, adaptation-disagrees', () => {
    // Reckless adaptation again, with the watchdog out of the way, so that it moves far and disagrees often.
    const reckless = { warmupSamples: 5, rate: 1, maxStepSd: 100, maxShiftSd: 100, clipSd: 100, maxScoreShare: 1, maxNovelty: 100, maxAddedAlarmShare: 1 };
    let disagreements = 0;
    for (const seed of [9, 10, 11]) {
      const events = degrading(mostlyClear, seed, 0.5);
      const { verdicts, stops } = run(events, reckless);
      const parent = run(events, false).verdicts;
      expect(stops).toHaveLength(0);
      expect(verdicts).toHaveLength(parent.length);
      for (let i = 0; i < verdicts.length; i++) {
        const v = verdicts[i]!;
        if (parent[i]!.verdict === 'suspicious') expect(v.verdict).not.toBe('clear');
        if (v.reasons.includes('adaptation-disagrees')) {
          disagreements++;
          expect(v.verdict).toBe('inconclusive');
          expect(parent[i]!.verdict).toBe('suspicious');
          expect(v.reasons).toContain('clear-class');
        }
      }
    }
    expect(disagreements).toBeGreaterThan(0);
  });

  it('gives the same verdicts for the same stream, and none of its fields when off', () => {
    const events = degrading(mostlyClear.slice(0, 80), 7, 0.4);
    const a = run(events, true).verdicts.map(({ atMs: _a, latencyMs: _l, wallTime: _w, ...v }) => v);
    const b = run(events, true).verdicts.map(({ atMs: _a, latencyMs: _l, wallTime: _w, ...v }) => v);
    expect(a).toEqual(b);
    const off = run(events, false).verdicts;
    expect(off.every((v) => v.adaptation === undefined)).toBe(true);
  });
});

describe('enose replay --adapt', () => {
  it('writes the adapted model with --adapted-out, and refuses --adapted-out without --adapt in one line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'enose-adapt-'));
    const modelPath = join(dir, 'm.json');
    writeModelFile(modelPath, model);
    const events = degrading(mostlyClear.slice(0, 90), 8, 0.4);
    const columns = { withPhase: true, withSeq: true, withRigTime: true };
    let text = framesCsvHeader(TEST_RIG.channels, columns);
    for (const e of events) {
      if (e.type !== 'frame') continue;
      text += formatFramesCsvRow({ sample: e.sample ?? '', label: e.label ?? '', tS: e.tMs / 1000, phase: e.phase, seq: e.seq, tRigMs: e.tMs, values: e.values }, columns);
    }
    const csv = join(dir, 'frames.csv');
    writeFileSync(csv, text);
    const out = join(dir, 'adapted.json');
    const ok = runEnose(['replay', csv, '--model', modelPath, '--adapt', '--adapted-out', out]);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toMatch(/adapted model [0-9a-f]{16} \(online-adaptation\(accepted=\d+/);
    const written = JSON.parse(readFileSync(out, 'utf8'));
    expect(written.lineage.parent).toBe(model.hash);
    expect(written.id).not.toBe(model.id);
    const bad = runEnose(['replay', csv, '--model', modelPath, '--adapted-out', out]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toEqual(['enose replay: --adapted-out needs --adapt']);
  });
});
