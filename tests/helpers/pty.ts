/**
 * A real serial link for integration tests: a socat pty pair (rig end, host end) in a temp folder, and the
 * rig emulator run as its own process on the rig end (`node dist/cli/main.js emulate-rig --link ...`).
 * Without socat the tests that need it skip, saying so loudly.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPtyPair, type EmulatorReport, type PtyPair } from '../../src/io/emulator.js';
import { CLI, REPO_ROOT } from './shared.js';

/** True when socat is on the PATH; otherwise warns once why the pty tests are skipped. */
export function haveSocat(): boolean {
  const r = spawnSync('socat', ['-V'], { stdio: 'ignore' });
  if (r.error === undefined && r.status === 0) return true;
  console.warn('SKIPPED: socat not installed (Debian: apt-get install socat; .ci/run installs it): the pty link tests need it');
  return false;
}

/** A socat pty pair for a test: unplug (kill socat) and replug (start it again, same names); close cleans up. */
export interface TestPty extends PtyPair {
  /** Kills socat: the host end sees a disconnect, the links go away. */
  unplug(): Promise<void>;
  /** Starts socat again with the same link names. */
  replug(): Promise<void>;
}

/** A socat pty pair in a fresh temp folder; `close()` kills socat and removes the folder. */
export async function startPty(): Promise<TestPty> {
  const dir = mkdtempSync(join(tmpdir(), 'enose-pty-'));
  const pair = await createPtyPair(dir);
  return {
    dir,
    rig: pair.rig,
    host: pair.host,
    get alive() {
      return pair.alive;
    },
    restart: () => pair.restart(),
    unplug: () => pair.close(),
    replug: () => pair.restart(),
    close: async () => {
      await pair.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const SOURCES = ['src/io/emulator.ts', 'src/io/rigCycles.ts', 'src/io/rigRecovery.ts', 'src/io/rigCommands.ts', 'src/io/serial.ts', 'src/io/cycleEnd.ts', 'src/io/protocol.ts', 'src/cli/emulateRig.ts', 'src/cli/monitor.ts', 'src/cli/ports.ts', 'src/cli/run.ts'];

/**
 * Builds dist/ (npx tsc -p tsconfig.json) when the CLI the tests spawn is older than the sources it runs; one
 * test file builds at a time (a lock folder), the others wait and see it fresh.
 */
export function ensureBuilt(): void {
  const mtime = (p: string): number => {
    try {
      return statSync(join(REPO_ROOT, p)).mtimeMs;
    } catch {
      return -1;
    }
  };
  const stale = (): boolean => SOURCES.some((s) => mtime(s.replace(/^src\//, 'dist/').replace(/\.ts$/, '.js')) < mtime(s));
  if (!stale()) return;
  const lock = join(REPO_ROOT, 'node_modules', '.cache', 'enose-build.lock');
  mkdirSync(join(REPO_ROOT, 'node_modules', '.cache'), { recursive: true });
  const t0 = Date.now();
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() - t0 > 120_000) throw new Error(`build lock ${lock} held for 2 minutes`);
      spawnSync('sleep', ['0.2']);
    }
  }
  try {
    if (!stale()) return;
    const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: REPO_ROOT, encoding: 'utf8' });
    if (stale()) throw new Error(`build failed (exit ${r.status}): ${r.stdout}${r.stderr}`);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export interface EmulatorProcess {
  readonly proc: ChildProcess;
  /** stdout and stderr so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the first stdout line matching `re`. */
  waitForLine(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM (if still running), then the report it printed on stderr (null when none). */
  stop(): Promise<EmulatorReport | null>;
  /** The report on stderr once it has exited by itself. */
  report(): EmulatorReport | null;
}

/** Runs `enose emulate-rig <args>` as its own process (as a user would, and as the issue asks). */
export function startEmulator(args: readonly string[]): EmulatorProcess {
  const proc = spawn(process.execPath, [CLI, 'emulate-rig', ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters: { re: RegExp; resolve: (line: string) => void }[] = [];
  proc.stdout!.on('data', (d: Buffer) => {
    out += d.toString('utf8');
    for (const w of [...waiters]) {
      const line = out.split('\n').find((l) => w.re.test(l));
      if (line !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  proc.stderr!.on('data', (d: Buffer) => {
    err += d.toString('utf8');
  });
  // 'close', not 'exit': the report is the last thing on stderr, and can still be in the pipe at exit.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once('close', (code, signal) => resolve({ code, signal })));
  const report = (): EmulatorReport | null => {
    const line = err.split('\n').find((l) => l.startsWith('{"type":"emulator-report"'));
    return line === undefined ? null : (JSON.parse(line) as EmulatorReport);
  };
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    exited,
    report,
    waitForLine(re, timeoutMs = 30_000) {
      const line = out.split('\n').find((l) => re.test(l));
      if (line !== undefined) return Promise.resolve(line);
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no stdout line matching ${re} within ${timeoutMs} ms; stderr: ${err}`)), timeoutMs);
        waiters.push({
          re,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
      });
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
      return report();
    },
  };
}

/**
 * Polls `predicate` every 10 ms until it holds; rejects after `timeoutMs` with `what`. The deadline is for a
 * test that would otherwise hang: set it generously (a busy machine is slow), it costs nothing when the event comes.
 */
export async function waitFor(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const t0 = performance.now();
  while (!(await predicate())) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
