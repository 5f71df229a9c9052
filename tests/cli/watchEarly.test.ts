/**
 * `enose watch --early` through the real CLI on the rig emulator over a socat pty pair: a cycle the shipped plan
 * decides at 90 s is ended on the rig and, with --record, the recording says where; a rig without END keeps full
 * cycles with one line on stderr and no error. The containers are ones the plan decides early in-process (the
 * first such of a few simulator seeds). Both shipped models run (the exposure model at its checkpoint).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { VerdictEvent } from '../../src/types.js';
import { SHIPPED_MODELS } from '../helpers/models.js';
import { earlySeed } from '../helpers/earlySeed.js';
import { ensureBuilt, haveSocat, startEmulator, startPty, waitFor } from '../helpers/pty.js';
import { CLI, REPO_ROOT } from '../helpers/shared.js';
import { runEnose } from '../helpers/cli.js';

const socat = haveSocat();
if (!socat) console.info('SKIPPED: socat is not installed (apt-get install socat): enose watch --early needs a pty pair');
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
});


/** `enose watch --early` on a fresh pty with the emulator playing `seed`'s first container; one cycle, then SIGINT. */
async function watchOnce(seed: number, emulatorArgs: readonly string[], watchArgs: readonly string[]): Promise<{ stdout: string; stderr: string; code: number | null }> {
  const pty = await startPty();
  cleanups.push(() => pty.close());
  const emu = startEmulator(['--link', pty.rig, '--sim-seed', String(seed), '--sim-start-day', '21', '--containers', '1', '--speed', '50', ...emulatorArgs]);
  cleanups.push(() => emu.stop());
  const proc = spawn(process.execPath, [CLI, 'watch', '--port', pty.host, '--model', SHIPPED_MODELS[0]!.path, '--early', '--cycle-every', '1', ...watchArgs], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => proc.once('close', (code) => resolve(code)));
  cleanups.push(async () => proc.kill('SIGKILL'));
  // The verdict, then the rig's answer to END (or a rig without END: the cycle runs to its idle frames).
  await waitFor(() => /early, at 90 s/.test(stdout), 'the early verdict', 120_000);
  await waitFor(() => /ended on the rig|not ended on the rig/.test(stdout), 'the cycle-end line', 60_000);
  proc.kill('SIGINT');
  return { stdout, stderr, code: await exited };
}

describe.skipIf(!socat)('enose watch --early', () => {
  beforeAll(() => ensureBuilt(), 180_000);

  it('ends a cycle decided early on the rig, and the recording holds where', async () => {
    const { seed, verdict } = await earlySeed();
    const dir = mkdtempSync(join(tmpdir(), 'enose-watch-early-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const run = await watchOnce(seed, [], ['--record', join(dir, 'rec')]);
    expect(run.code).toBe(0);
    // The emulator has one container: later STARTs of --cycle-every are refused while it runs (busy), no more.
    expect(run.stdout).toMatch(new RegExp(`: ${verdict.verdict}, .*; early, at 90 s \\(exposure-end\\)`));
    expect(run.stdout).toMatch(new RegExp(`cycle \\S+ ended on the rig \\(${verdict.verdict}; last frame \\d+ in R\\)`));
    const ends = readFileSync(join(dir, 'rec', 'events.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"cycle-end"'));
    expect(ends).toHaveLength(1);
    expect(JSON.parse(ends[0]!)).toMatchObject({ type: 'cycle-end', reason: verdict.verdict, phase: 'R' });
    // The recording replays to the same early verdict.
    const replay = runEnose(['replay', join(dir, 'rec'), '--model', SHIPPED_MODELS[0]!.path, '--early', '--json']);
    expect(replay.code).toBe(0);
    const replayed = replay.stdout.split('\n').filter((l) => l.startsWith('{"type":"verdict"')).map((l) => JSON.parse(l) as VerdictEvent);
    expect(replayed.map((v) => [v.verdict, v.early, v.decidedAtS, v.checkpoint])).toEqual([[verdict.verdict, true, 90, 'exposure-end']]);
  }, 300_000);

  it('a rig without END keeps full cycles: one line on stderr, no error', async () => {
    const { seed } = await earlySeed();
    const run = await watchOnce(seed, ['--no-end-command'], []);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/not ended on the rig: unsupported/);
    expect(run.stderr.split('\n').filter((l) => /does not end cycles early/.test(l))).toHaveLength(1);
    expect(run.stderr).not.toMatch(/error/i);
  }, 300_000);
});
