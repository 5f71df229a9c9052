/** Runs the built CLI (dist/cli/main.js) as a child process, as a user would. */
import { spawnSync } from 'node:child_process';
import { CLI, REPO_ROOT } from './shared.js';

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runEnose(args: readonly string[], options: { cwd?: string; input?: string; env?: Record<string, string> } = {}): CliRun {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    encoding: 'utf8',
    input: options.input ?? '',
    timeout: 280_000, // a hang, not a time limit: under the 300 s test deadline (tests/vitest.config.ts)
    maxBuffer: 256 * 1024 * 1024,
    ...(options.env && { env: { ...process.env, ...options.env } }),
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
