/**
 * SIGKILL of `enose watch --record` on a real pty link (issue 7, crash safety): watch runs against the rig
 * emulator, is killed mid-cycle, and its recording is compared with the frames it printed (--json): every
 * frame printed more than one flush period before the kill must be in the recording, in order.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, startPty, waitFor } from './pty.js';
import { CLI, REPO_ROOT } from './shared.js';

/** The recorder's flush period in watch (createRecorder's default, 1 s), plus a margin for the pipe to the test. */
export const FLUSH_MARGIN_MS = 1200;

export interface CrashRun {
  readonly record: string;
  /** Keys (`seq|t_rig_ms|values`) of the frames watch printed, and when the test read each. */
  readonly printed: readonly { readonly key: string; readonly atMs: number; readonly phase: string }[];
  /** Keys of the frames printed more than FLUSH_MARGIN_MS before the kill. */
  readonly beforeFlush: readonly string[];
  /** Keys of the frames in the recording, in file order. */
  readonly recorded: readonly string[];
  /** Frames of `beforeFlush` missing from the recording's prefix (must be 0). */
  readonly lostBeforeFlush: number;
  readonly signal: NodeJS.Signals | null;
}

/** `seq|t_rig_ms|values...` of every frame row of a recording's frames files, in order. */
export function recordedFrames(dir: string): string[] {
  const files = readdirSync(dir)
    .filter((f) => /^frames(-\d+)?\.csv$/.test(f))
    .sort((a, b) => (a === 'frames.csv' ? -1 : b === 'frames.csv' ? 1 : a.localeCompare(b, 'en', { numeric: true })));
  const out: string[] = [];
  for (const f of files) {
    const rows = readFileSync(join(dir, f), 'utf8').split('\n');
    const header = rows[0]!.split(',');
    const seqAt = header.indexOf('seq');
    const rigAt = header.indexOf('t_rig_ms');
    for (const row of rows.slice(1)) {
      if (row === '') continue;
      const cells = row.split(',');
      out.push(`${cells[seqAt]}|${cells[rigAt]}|${cells.slice(6).map(Number).join(';')}`);
    }
  }
  return out;
}

function frameKey(line: string): { key: string; phase: string } {
  const f = JSON.parse(line) as { seq: number; tMs: number; phase: string; values: (number | null)[] };
  return { key: `${f.seq}|${f.tMs}|${f.values.map((v) => (v === null ? NaN : v)).join(';')}`, phase: f.phase };
}

/**
 * Runs watch --record against the emulator (sim seed `seed`), waits for the `exposures`-th exposure plus
 * `afterMs`, kills watch with SIGKILL and reads what it left.
 */
export async function crashWatch(model: string, options: { seed: number; exposures: number; afterMs: number }): Promise<CrashRun> {
  const pty = await startPty();
  const record = join(mkdtempSync(join(tmpdir(), 'enose-crash-')), 'rec');
  const watch = spawn(process.execPath, [CLI, 'watch', '--port', pty.host, '--model', model, '--record', record, '--json'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const printed: { key: string; atMs: number; phase: string }[] = [];
  const samplesInE = new Set<string>();
  let partial = '';
  let err = '';
  watch.stdout!.on('data', (d: Buffer) => {
    const now = performance.now();
    const parts = (partial + d.toString('utf8')).split('\n');
    partial = parts.pop()!;
    for (const line of parts) {
      if (!line.startsWith('{"type":"frame"')) continue;
      const k = frameKey(line);
      printed.push({ ...k, atMs: now });
      if (k.phase === 'E') samplesInE.add((JSON.parse(line) as { sample: string }).sample);
    }
  });
  watch.stderr!.on('data', (d: Buffer) => (err += d.toString('utf8')));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => watch.once('close', (_code, signal) => resolve(signal)));
  const rig = startEmulator(['--link', pty.rig, '--sim-seed', String(options.seed), '--containers', String(options.exposures + 2), '--auto-cycle', '--speed', '50']);
  let killAt = 0;
  let signal: NodeJS.Signals | null = null;
  try {
    await waitFor(() => samplesInE.size >= options.exposures, `exposure ${options.exposures} (watch stderr: ${err})`, 120_000);
    await new Promise((r) => setTimeout(r, options.afterMs));
    killAt = performance.now();
    watch.kill('SIGKILL');
    signal = await exited;
  } finally {
    await rig.stop();
    if (watch.exitCode === null && watch.signalCode === null) watch.kill('SIGKILL');
    await pty.close();
  }
  const beforeFlush = printed.filter((p) => p.atMs < killAt - FLUSH_MARGIN_MS).map((p) => p.key);
  const recorded = recordedFrames(record);
  let lostBeforeFlush = 0;
  for (let i = 0; i < beforeFlush.length; i++) if (recorded[i] !== beforeFlush[i]) lostBeforeFlush++;
  return { record, printed, beforeFlush, recorded, lostBeforeFlush, signal };
}
