/**
 * Issue 24, item 2: SIGTERM and SIGINT are honoured while `evaluate`, `calibrate` and `replay` read a large input:
 * exit 143 or 130, one line on stderr (`enose <command>: stopped by <signal>: ...`), and no output file (no model,
 * no report, no adapted model, nor an atomic writer's temporary file). The input is generated in a temp folder:
 * one simulated recording copied into many recording folders, so that reading them takes long; the signal is
 * sent when the child has one of them open (read from /proc/<pid>/fd), that is, during the read. Both shipped
 * models.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEnose } from '../helpers/cli.js';
import { SHIPPED_MODELS } from '../helpers/models.js';
import { ensureBuilt } from '../helpers/pty.js';
import { CLI, REPO_ROOT } from '../helpers/shared.js';

const COPIES = 60;
const dir = mkdtempSync(join(tmpdir(), 'enose-stop-read-'));
const data = join(dir, 'data');
const copies = Array.from({ length: COPIES }, (_, i) => join(data, `rec${String(i).padStart(3, '0')}`));
/** One large recording for replay, which reads a single folder: 6 containers are read in a few ms, too short to catch. */
const big = join(data, 'big');
const haveProc = existsSync('/proc/self/fd');
if (!haveProc) console.log('SKIPPED: stop during a read: no /proc/<pid>/fd to see when the child reads its input');

beforeAll(() => {
  if (!haveProc) return;
  ensureBuilt();
  const one = join(dir, 'one');
  const sim = runEnose(['simulate', '--containers', '6', '--seed', '7', '--start-day', '22', '--out', one]);
  expect(sim.code, sim.stderr).toBe(0);
  mkdirSync(data);
  for (const copy of copies) cpSync(one, copy, { recursive: true });
  const bigSim = runEnose(['simulate', '--containers', '120', '--seed', '7', '--start-day', '22', '--out', big]);
  expect(bigSim.code, bigSim.stderr).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** True when process `pid` has a file under `folder` open. */
function reading(pid: number, folder: string): boolean {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith(folder);
      } catch {
        return false; // closed meanwhile
      }
    });
  } catch {
    return false; // the process is gone
  }
}

/** Runs `enose <args>`, sends `signal` once it reads a file under `data`; the exit code, stderr, and whether it was caught reading. */
function stopWhileReading(args: readonly string[], signal: 'SIGTERM' | 'SIGINT'): Promise<{ code: number | null; stderr: string; stdout: string; caught: boolean; stopMs: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    let caught = false;
    let signalledAt = NaN;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    // A deadline for a hang, not a bound: the signal must end the run however slow the machine.
    const deadline = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no exit within 240 s (stderr: ${stderr.slice(-300)})`));
    }, 240_000);
    const poll = setInterval(() => {
      if (child.pid === undefined || caught || !reading(child.pid, data)) return;
      caught = true;
      signalledAt = performance.now();
      child.kill(signal);
    }, 2);
    child.on('exit', (code) => {
      clearInterval(poll);
      clearTimeout(deadline);
      resolve({ code, stderr, stdout, caught, stopMs: performance.now() - signalledAt });
    });
  });
}

function expectStopped(run: Awaited<ReturnType<typeof stopWhileReading>>, command: string, signal: 'SIGTERM' | 'SIGINT', outDir: string): void {
  expect(run.caught, `the child was never seen reading its input: ${run.stderr}`).toBe(true);
  expect(run.code, run.stderr).toBe(signal === 'SIGINT' ? 130 : 143);
  const lines = run.stderr.split('\n').filter((l) => l.trim() !== '' && !/: warning: /.test(l));
  expect(lines, run.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^enose ${command}: stopped by ${signal}: `));
  expect(run.stderr).not.toMatch(/internal error/);
  expect(readdirSync(outDir)).toEqual([]);
  // A figure for tests/hardening/RESULTS.md, not a bound.
  console.log(`enose ${command}: ${signal} honoured ${run.stopMs.toFixed(0)} ms after it was sent (load ${loadavg()[0]!.toFixed(1)})`);
}

describe.runIf(haveProc).each(SHIPPED_MODELS)('a signal during a long read ($name model)', ({ name, path }) => {
  it('evaluate: SIGTERM gives exit 143, one line, no report and no result on stdout', async () => {
    const out = mkdtempSync(join(dir, `evaluate-${name}-`));
    const run = await stopWhileReading(['evaluate', '--model', path, '--report', join(out, 'report.html'), '--json', ...copies], 'SIGTERM');
    expectStopped(run, 'evaluate', 'SIGTERM', out);
    expect(run.stdout).toBe('');
  });

  it('calibrate: SIGTERM gives exit 143, one line, no model file', async () => {
    const out = mkdtempSync(join(dir, `calibrate-${name}-`));
    const run = await stopWhileReading(['calibrate', '--model', path, '--out', join(out, 'model.json.gz'), ...copies], 'SIGTERM');
    expectStopped(run, 'calibrate', 'SIGTERM', out);
  });

  it('calibrate: SIGINT gives exit 130, one line, no model file', async () => {
    const out = mkdtempSync(join(dir, `calibrate-int-${name}-`));
    const run = await stopWhileReading(['calibrate', '--model', path, '--out', join(out, 'model.json.gz'), ...copies], 'SIGINT');
    expectStopped(run, 'calibrate', 'SIGINT', out);
  });

  it('replay --adapt: SIGINT gives exit 130, one line, no adapted model', async () => {
    const out = mkdtempSync(join(dir, `replay-${name}-`));
    // One large recording (replay reads one folder), read, then played.
    const run = await stopWhileReading(['replay', big, '--model', path, '--speed', 'max', '--adapt', '--adapted-out', join(out, 'adapted.json.gz')], 'SIGINT');
    expectStopped(run, 'replay', 'SIGINT', out);
  });
});
