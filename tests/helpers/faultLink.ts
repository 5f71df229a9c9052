/**
 * The fault-injection harness of issue 7: `enose watch --json` (optionally `--record`) on the host end of a
 * socat pty pair, `enose emulate-rig --auto-cycle` with `--fault` specs on the rig end, both as their own
 * processes; the same simulated cycles (same seed) run once clean and once per fault, then compared cycle by
 * cycle. Frames are matched between runs by their values (the simulator's noise makes every cycle frame
 * unique), so a reboot or a skipped seq does not misalign the comparison.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSimulation } from '../../src/sim/simulate.js';
import type { EmulatorReport } from '../../src/io/emulator.js';
import { startEmulator, startPty, waitFor } from './pty.js';
import { CLI, REPO_ROOT } from './shared.js';

/** The default model: with the shipped early plan (`watch --early`) it is the plan's final model. */
export const DEFAULT_MODEL = 'datasets/container-sim/default-model.json.gz';
/**
 * The third configuration (issue 22): ENOSE_FAULTS_EARLY=1 runs watch with the default model and `--early` (the
 * shipped plan: the exposure model at 90 s, the recovery-start model at 100 s, the default model at 150 s); the rig is told to END early cycles.
 */
export const FAULT_EARLY = process.env['ENOSE_FAULTS_EARLY'] === '1';
/** The model the fault runs judge with: the exposure model, another shipped one (ENOSE_FAULTS_MODEL=<path>), or the default under the early plan. */
export const FAULT_MODEL = process.env['ENOSE_FAULTS_MODEL'] ?? (FAULT_EARLY ? DEFAULT_MODEL : 'datasets/container-sim/exposure-model.json.gz');

/** How watch judges in a run: a model, and whether with the shipped early plan. */
export interface FaultConfig {
  readonly model: string;
  readonly early: boolean;
}
export const FAULT_CONFIG: FaultConfig = { model: FAULT_MODEL, early: FAULT_EARLY };

/** The simulated cycles every run plays (the emulator's defaults: 30/60/60 s at 10 Hz, 1 s idle between). */
export interface SimPlan {
  readonly seed: number;
  readonly containers: number;
  readonly startDay: number;
}

export interface Verdict {
  readonly sample: string;
  readonly verdict: 'clear' | 'suspicious' | 'inconclusive';
  readonly class: string;
  readonly reasons: readonly string[];
  /** quality.lostFrames of the verdict. */
  readonly lostFrames: number;
  /** When it was decided (issue 22): a verdict at an early checkpoint of the plan has `early: true`. */
  readonly early: boolean;
  readonly checkpoint: string | null;
  readonly decidedAtS: number | null;
}

/** A `cycle-end` event of watch (after an early verdict): `ended` when the rig took END. */
export interface CycleEnd {
  readonly sample: string;
  readonly reason: string;
  readonly ended: boolean;
  /** Why the rig did not end it (the event's `issue`, as JSON), or null. */
  readonly issue: string | null;
}

/** What one run over the link gave. */
export interface LinkRun {
  readonly faults: readonly string[];
  readonly config: FaultConfig;
  readonly report: EmulatorReport;
  /** Per frames-log row (every frame the emulator produced, in order): the fault kinds that touched it ('' for none). */
  readonly rowFaults: readonly string[];
  /** Per frames-log row: its seq (to find skipped seqs). */
  readonly rowSeq: readonly number[];
  /** Accepted frames in arrival order: `seq|tMs|phase|values` and the engine's cycle id (`id#run`). */
  readonly frames: readonly { readonly key: string; readonly content: string; readonly sample: string; readonly phase: string; readonly seq: number }[];
  readonly verdicts: readonly Verdict[];
  readonly cycleEnds: readonly CycleEnd[];
  /** Peak resident set of the watch process, sampled every 100 ms (kB). */
  readonly peakRssKb: number;
  /** watch's exit code after SIGINT at the end (0: it kept running and stopped cleanly). */
  readonly watchExit: number | null;
  readonly watchStderr: string;
  readonly wallMs: number;
}

function rssKb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/**
 * One run: watch on the host end, the emulator with `faults` on the rig end, at `--speed max`. Handles
 * `disconnect-at` as the owner of the pty pair (kills socat, restarts it `outageMs` later; the emulator waits).
 */
export async function runOverLink(plan: SimPlan, faults: readonly string[], options: { outageMs?: number; faultSeed?: number; config?: FaultConfig } = {}): Promise<LinkRun> {
  const config = options.config ?? FAULT_CONFIG;
  const t0 = performance.now();
  const pty = await startPty();
  const logDir = mkdtempSync(join(tmpdir(), 'enose-faults-'));
  const framesLog = join(logDir, 'frames.log');
  const reportPath = join(logDir, 'report.json');
  const watch = spawn(process.execPath, [CLI, 'watch', '--port', pty.host, '--model', config.model, '--json', ...(config.early ? ['--early'] : [])], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const frames: { key: string; content: string; sample: string; phase: string; seq: number }[] = [];
  const verdicts: Verdict[] = [];
  const cycleEnds: CycleEnd[] = [];
  let connected = 0;
  let partial = '';
  // A cycle id can come back (a rig that reboots counts its cycles from 1 again): frames are grouped by
  // contiguous runs of one id, and a verdict belongs to the latest run of its id.
  let lastSample = '';
  let runNo = 0;
  const latestRun = new Map<string, string>();
  let lastOut = performance.now();
  let lastFrameSeq = -1;
  watch.stdout!.on('data', (d: Buffer) => {
    lastOut = performance.now();
    const parts = (partial + d.toString('utf8')).split('\n');
    partial = parts.pop()!;
    for (const line of parts) {
      if (line.startsWith('{"type":"frame"')) {
        // {"type":"frame","atMs":..,"seq":..,"tMs":..,"phase":"B","sample":"..","values":[..]}
        const seqAt = line.indexOf(',"seq":');
        const phaseAt = line.indexOf(',"phase":"', seqAt);
        const sampleAt = line.indexOf(',"sample":', phaseAt);
        const valuesAt = line.indexOf(',"values":[', sampleAt);
        const phase = line.slice(phaseAt + 10, phaseAt + 11);
        const values = line.slice(valuesAt + 11, line.lastIndexOf(']'));
        const sample = JSON.parse(line.slice(sampleAt + 10, valuesAt)) as string | null;
        let group = '';
        if (sample !== null && sample !== '') {
          if (sample !== lastSample) latestRun.set(sample, `${sample}#${++runNo}`);
          lastSample = sample;
          group = latestRun.get(sample)!;
        }
        lastFrameSeq = Number(line.slice(seqAt + 7, line.indexOf(',', seqAt + 7)));
        frames.push({ key: `${line.slice(seqAt + 7, phaseAt)}|${phase}|${values}`, content: values, sample: group, phase, seq: lastFrameSeq });
      } else if (line.startsWith('{"type":"verdict"')) {
        const v = JSON.parse(line) as Omit<Verdict, 'early' | 'checkpoint' | 'decidedAtS'> & { quality?: { lostFrames?: number }; early?: boolean; checkpoint?: string; decidedAtS?: number };
        verdicts.push({
          sample: latestRun.get(v.sample) ?? v.sample,
          verdict: v.verdict,
          class: v.class,
          reasons: v.reasons,
          lostFrames: v.quality?.lostFrames ?? 0,
          early: v.early === true,
          checkpoint: v.checkpoint ?? null,
          decidedAtS: v.decidedAtS ?? null,
        });
      } else if (line.startsWith('{"type":"cycle-end"')) {
        const e = JSON.parse(line) as { sample: string; reason: string; ended: unknown; issue: unknown };
        const issue = e.issue === null || e.issue === undefined ? null : JSON.stringify(e.issue);
        cycleEnds.push({ sample: latestRun.get(e.sample) ?? e.sample, reason: e.reason, ended: e.ended !== null && e.ended !== undefined, issue });
      } else if (line.startsWith('{"type":"state"') && line.includes('"connected"')) connected++;
    }
  });
  let err = '';
  watch.stderr!.on('data', (d: Buffer) => (err += d.toString('utf8')));
  // 'close', not 'exit': what watch printed last can still be in the pipe when it exits.
  const exited = new Promise<number | null>((resolve) => watch.once('close', (code) => resolve(code)));
  let peakRssKb = 0;
  const sampler = setInterval(() => (peakRssKb = Math.max(peakRssKb, rssKb(watch.pid!))), 100);
  const args = ['--link', pty.rig, '--sim-seed', String(plan.seed), '--containers', String(plan.containers), '--sim-start-day', String(plan.startDay)];
  args.push('--auto-cycle', '--speed', 'max', '--on-disconnect', 'wait', '--frames-log', framesLog, '--report', reportPath, '--fault-seed', String(options.faultSeed ?? 1));
  for (const f of faults) args.push('--fault', f);
  try {
    await waitFor(() => connected > 0, `watch connected (stderr: ${err})`, 60_000);
    const emu = startEmulator(args);
    const disconnects = faults.filter((f) => f.startsWith('disconnect-at')).length;
    let emuDone = false;
    void emu.exited.then(() => (emuDone = true));
    for (let i = 0; i < disconnects; i++) {
      await emu.waitForLine(new RegExp(`^disconnect-at: frame`), 600_000);
      const seen = emu.stdout().split('\n').filter((l) => l.startsWith('disconnect-at')).length;
      if (seen < i + 1) await waitFor(() => emu.stdout().split('\n').filter((l) => l.startsWith('disconnect-at')).length >= i + 1, 'disconnect line', 600_000);
      await pty.unplug();
      await new Promise((r) => setTimeout(r, options.outageMs ?? 500));
      await pty.replug();
    }
    await waitFor(() => emuDone, `the emulator to play its cycles (stderr: ${emu.stderr()})`, 900_000);
    // Let watch take what is still in the pty, then stop it as a user would. When the emulator's last frame went
    // out clean, watch has taken everything once it prints that frame (the verdicts come before it); otherwise
    // (the last frame hit by a fault) once it has printed nothing for a while.
    const rows = readFileSync(framesLog, 'utf8').trimEnd().split('\n');
    const [lastSeq, , lastFaults] = (rows.at(-1) ?? '').split(',');
    if (rows.length > 0 && (lastFaults ?? '') === '') await waitFor(() => lastFrameSeq === Number(lastSeq), `watch to print frame ${lastSeq}, the emulator's last`, 600_000);
    else await waitFor(() => performance.now() - lastOut > 800, 'watch to go quiet', 60_000);
    watch.kill('SIGINT');
    const watchExit = await exited;
    clearInterval(sampler);
    const report = JSON.parse(readFileSync(reportPath, 'utf8')) as EmulatorReport;
    const rowFaults: string[] = [];
    const rowSeq: number[] = [];
    for (const row of readFileSync(framesLog, 'utf8').split('\n')) {
      if (row === '') continue;
      const a = row.indexOf(',');
      const b = row.indexOf(',', a + 1);
      rowSeq.push(Number(row.slice(0, a)));
      rowFaults.push(row.slice(b + 1));
    }
    return { faults, config, report, rowFaults, rowSeq, frames, verdicts, cycleEnds, peakRssKb, watchExit, watchStderr: err, wallMs: performance.now() - t0 };
  } finally {
    clearInterval(sampler);
    if (watch.exitCode === null && watch.signalCode === null) watch.kill('SIGKILL');
    await pty.close();
    rmSync(logDir, { recursive: true, force: true });
  }
}

/** The clean run as the reference: which cycle each frame content belongs to, and each cycle's verdict and label. */
export interface Reference {
  readonly run: LinkRun;
  /** Clean cycle index of a cycle frame's values (B/E/R frames only). */
  readonly cycleOfContent: ReadonlyMap<string, number>;
  /** Clean cycle index of each frames-log row (-1 for idle rows). */
  readonly cycleOfRow: readonly number[];
  /** Every accepted clean frame key (seq|tMs|phase|values). */
  readonly keys: ReadonlySet<string>;
  readonly verdicts: readonly Verdict[];
  readonly labels: readonly string[];
  /** Clear-air cycles and how many of them the clean run cleared. */
  readonly clearAir: number;
  readonly clearAirCleared: number;
}

export function makeReference(plan: SimPlan, run: LinkRun): Reference {
  if (run.frames.length !== run.rowFaults.length) {
    throw new Error(`clean run: watch took ${run.frames.length} frames of ${run.rowFaults.length} produced (${run.watchStderr})`);
  }
  const cycleOfContent = new Map<string, number>();
  const cycleOfRow: number[] = [];
  const cycleOfSample = new Map<string, number>();
  for (const f of run.frames) {
    if (f.phase === 'I') {
      cycleOfRow.push(-1);
      continue;
    }
    if (f.sample === '') {
      // A cycle frame outside an engine cycle id (none seen here, but kept safe): it belongs to the last cycle.
      cycleOfRow.push(cycleOfSample.size - 1);
      continue;
    }
    let c = cycleOfSample.get(f.sample);
    if (c === undefined) cycleOfSample.set(f.sample, (c = cycleOfSample.size));
    cycleOfContent.set(f.content, c);
    cycleOfRow.push(c);
  }
  const sim = createSimulation({ seed: plan.seed, containers: plan.containers, startDay: plan.startDay });
  const labels = Array.from({ length: plan.containers }, (_, i) => sim.cycleAt(i).truth.label);
  const verdicts: Verdict[] = [];
  for (const v of run.verdicts) verdicts[cycleOfSample.get(v.sample) ?? -1] = v;
  let clearAir = 0;
  let cleared = 0;
  labels.forEach((l, i) => {
    if (l !== 'clear') return;
    clearAir++;
    if (verdicts[i]?.verdict === 'clear') cleared++;
  });
  return { run, cycleOfContent, cycleOfRow, keys: new Set(run.frames.map((f) => f.key)), verdicts, labels, clearAir, clearAirCleared: cleared };
}

/** The verdict of one faulty run, cycle by cycle, against the clean run. */
export interface FaultOutcome {
  readonly name: string;
  readonly frames: number;
  readonly faultsInjected: number;
  readonly corruptedLines: number;
  readonly corruptedAccepted: number;
  readonly cyclesTouched: number;
  readonly touchedInconclusive: number;
  readonly touchedAsClean: number;
  /** Touched cycles whose verdict is neither inconclusive nor the clean one (allowed unless it is a wrong clear). */
  readonly touchedOther: number;
  /**
   * Cleared where it must not be: a touched cycle cleared despite a limit reason, or a clear where the clean run
   * gave suspicious, or an untouched cycle cleared where the clean run did not clear it. Must be 0.
   */
  readonly wronglyCleared: number;
  /**
   * Touched cycles within the engine's limits (a few frames lost, no limit reason) cleared where the clean run
   * said inconclusive: allowed by the issue's rule (only cycles beyond the limits must be inconclusive), but
   * reported, with the ground-truth label, as a finding.
   */
  readonly clearedWithinLimits: number;
  /** Verdicts with a limit reason (cut, too short, lost frames, long gap) that are not inconclusive. */
  readonly beyondLimitsNotInconclusive: number;
  readonly untouchedCycles: number;
  readonly untouchedMismatches: number;
  readonly peakRssMb: number;
  readonly cleanPeakRssMb: number;
  readonly watchExit: number | null;
  readonly wallS: number;
  readonly details: readonly string[];
  /** Clean cycle indices the fault touched. */
  readonly touched: ReadonlySet<number>;
  /** The clean cycle a faulty run's cycle (`id#run`) matches, by the majority of its frames' contents (-1: none). */
  readonly cycleOf: (sample: string) => number;
}

/**
 * Clean cycle of each frames-log row of `run`, from the run's own accepted frames (matched to rows by seq, in
 * order; a row watch did not take belongs to the cycle of the row before it, -1 after idle rows). Under the early
 * plan the rig ends cycles where the END reaches it, so a run's rows do not line up with the clean run's.
 */
export function cyclesOfRows(run: LinkRun, ref: Reference): number[] {
  const out: number[] = [];
  let j = 0;
  let last = -1;
  for (const seq of run.rowSeq) {
    for (let k = j; k < Math.min(run.frames.length, j + 64); k++) {
      const f = run.frames[k]!;
      if (f.seq !== seq) continue;
      j = k + 1;
      last = f.phase === 'I' ? -1 : (ref.cycleOfContent.get(f.content) ?? last);
      break;
    }
    out.push(last);
  }
  return out;
}

const LIMIT_REASONS = new Set(['cut-disconnect', 'cut-reboot', 'cut-stopped', 'too-short', 'lost-frames', 'gap-too-long']);

/**
 * Compares a faulty run with the clean reference. A cycle is touched when a frame of it was changed, repeated,
 * unsent, preceded by a skipped seq, or held an event fault (`eventRows`: the rows of reboot-at, clock-jump,
 * stall, disconnect-at).
 */
export function compareRun(name: string, ref: Reference, run: LinkRun, eventRows: readonly number[], checkCorruption: boolean): FaultOutcome {
  const details: string[] = [];
  const touched = new Set<number>();
  const cycleOfRow = run.config.early ? cyclesOfRows(run, ref) : ref.cycleOfRow;
  // Rows align with the clean run's up to the first reboot (a reboot drops the rest of the cycle in progress).
  const firstReboot = run.faults.some((f) => f.startsWith('reboot-at')) ? Math.min(...eventRows) : Infinity;
  const mark = (row: number) => {
    // An event in the idle frames before a cycle touches the cycle that follows.
    for (let r = row; r < cycleOfRow.length; r++) {
      const c = cycleOfRow[r]!;
      if (c >= 0) {
        touched.add(c);
        return;
      }
      if (r - row > 20) return;
    }
  };
  for (let r = 0; r < run.rowFaults.length && r < firstReboot; r++) {
    if (run.rowFaults[r] !== '' || (r > 0 && run.rowSeq[r] !== ((run.rowSeq[r - 1]! + 1) >>> 0))) mark(r);
  }
  for (const r of eventRows) {
    mark(r);
    // Under the early plan rows are the run's own: a reboot's row is the rebooted rig's first (idle) frame, and the
    // cycle it cut is the one of the row before.
    if (run.config.early && r > 0 && run.rowSeq[r] !== ((run.rowSeq[r - 1]! + 1) >>> 0) && cycleOfRow[r - 1]! >= 0) touched.add(cycleOfRow[r - 1]!);
  }
  if (Number.isFinite(firstReboot)) {
    // After a reboot rows no longer align: find touched cycles by content (unsent or faulted rows are rare there).
    details.push('rows after the first reboot are compared by content only');
  }
  // The faulty run's cycles, mapped to clean cycles by the majority of their frames' contents.
  const votes = new Map<string, Map<number, number>>();
  let corruptedAccepted = 0;
  for (const f of run.frames) {
    if (checkCorruption && !ref.keys.has(f.key)) {
      corruptedAccepted++;
      if (corruptedAccepted <= 3) details.push(`accepted a frame the clean run never saw: ${f.key.slice(0, 120)}`);
    }
    if (f.sample === '' || f.phase === 'I') continue;
    const c = ref.cycleOfContent.get(f.content);
    if (c === undefined) continue;
    let m = votes.get(f.sample);
    if (!m) votes.set(f.sample, (m = new Map()));
    m.set(c, (m.get(c) ?? 0) + 1);
  }
  const cycleOf = (sample: string): number => {
    const m = votes.get(sample);
    if (!m) return -1;
    let best = -1;
    let n = 0;
    for (const [c, k] of m) if (k > n) [best, n] = [c, k];
    return best;
  };
  const got = new Map<number, Verdict[]>();
  let beyond = 0;
  for (const v of run.verdicts) {
    if (v.reasons.some((r) => LIMIT_REASONS.has(r)) && v.verdict !== 'inconclusive') {
      beyond++;
      details.push(`${v.sample}: ${v.verdict} despite ${v.reasons.join('+')}`);
    }
    const c = cycleOf(v.sample);
    if (c < 0) {
      if (v.verdict === 'clear') details.push(`${v.sample}: clear for a cycle matched to no clean cycle`);
      continue;
    }
    const list = got.get(c) ?? [];
    list.push(v);
    got.set(c, list);
  }
  let touchedInconclusive = 0;
  let touchedAsClean = 0;
  let touchedOther = 0;
  let wronglyCleared = 0;
  let clearedWithinLimits = 0;
  let untouched = 0;
  let untouchedMismatches = 0;
  for (let c = 0; c < ref.labels.length; c++) {
    const clean = ref.verdicts[c];
    const vs = got.get(c) ?? [];
    if (touched.has(c)) {
      for (const v of vs) {
        if (v.verdict === 'inconclusive') touchedInconclusive++;
        else if (clean && v.verdict === clean.verdict && v.class === clean.class) touchedAsClean++;
        else {
          touchedOther++;
          details.push(`touched cycle ${c} (label ${ref.labels[c]}): ${v.verdict}/${v.class} with ${v.lostFrames} frames lost, clean ${clean?.verdict}/${clean?.class}`);
        }
        if (v.verdict === 'clear' && clean?.verdict !== 'clear') {
          if (v.reasons.some((r) => LIMIT_REASONS.has(r)) || clean?.verdict === 'suspicious' || clean === undefined) wronglyCleared++;
          else clearedWithinLimits++;
        }
      }
    } else if (clean) {
      untouched++;
      const v = vs[0];
      if (vs.length !== 1 || v!.verdict !== clean.verdict || v!.class !== clean.class) {
        untouchedMismatches++;
        details.push(`untouched cycle ${c}: ${vs.map((x) => `${x.verdict}/${x.class}`).join(',') || 'no verdict'}, clean ${clean.verdict}/${clean.class}`);
        if (v?.verdict === 'clear' && clean.verdict !== 'clear') wronglyCleared++;
      }
    }
  }
  const injected = Object.values(run.report.injected).reduce((a, b) => a + b, 0);
  return {
    name,
    frames: run.report.frames,
    faultsInjected: injected,
    corruptedLines: run.report.corruptedLines,
    corruptedAccepted: checkCorruption ? corruptedAccepted : -1,
    cyclesTouched: touched.size,
    touchedInconclusive,
    touchedAsClean,
    touchedOther,
    wronglyCleared,
    clearedWithinLimits,
    beyondLimitsNotInconclusive: beyond,
    untouchedCycles: untouched,
    untouchedMismatches,
    peakRssMb: run.peakRssKb / 1024,
    cleanPeakRssMb: ref.run.peakRssKb / 1024,
    watchExit: run.watchExit,
    wallS: run.wallMs / 1000,
    details,
    touched,
    cycleOf,
  };
}
