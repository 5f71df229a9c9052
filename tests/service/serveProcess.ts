/** Runs `enose serve` as its own process, as an operator would, and hands back its URL. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, REPO_ROOT } from '../helpers/shared.js';
import { parseEventJson } from '../../src/io/eventJson.js';
import type { VerdictEvent } from '../../src/types.js';
import { runEnose } from '../helpers/cli.js';

const OWN_SOURCES = ['src/service', 'src/report', 'src/cli/serve.ts', 'src/cli/evaluate.ts', 'src/cli/run.ts'];

function newestMtime(path: string): number {
  const full = join(REPO_ROOT, path);
  const st = statSync(full);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(...readdirSync(full).map((name) => newestMtime(join(path, name))));
}

/** Builds dist/ when the service's sources are newer than the built CLI (running vitest without `npm test`). */
export function ensureServiceBuilt(): void {
  let built = -1;
  try {
    built = statSync(join(REPO_ROOT, 'dist', 'cli', 'serve.js')).mtimeMs;
  } catch {
    // not built yet
  }
  if (built >= Math.max(...OWN_SOURCES.map(newestMtime))) return;
  const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build failed: ${r.stdout}${r.stderr}`);
}

export interface ServeProcess {
  readonly proc: ChildProcess;
  readonly url: string;
  stdout(): string;
  stderr(): string;
  /** SIGINT, then the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `enose serve <args> --listen 127.0.0.1:0` and waits for its "listening on" line. */
export async function startServe(args: readonly string[], env: Record<string, string> = {}): Promise<ServeProcess> {
  const proc = spawn(process.execPath, [CLI, 'serve', ...args, '--listen', '127.0.0.1:0'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let out = '';
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => proc.once('close', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`enose serve did not start within 60 s; stderr: ${err}`)), 60_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`enose serve exited with ${code}: ${err}`));
    });
  });
  return {
    proc,
    url,
    stdout: () => out,
    stderr: () => err,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGINT');
      return exited;
    },
  };
}

/** POST /v1/samples with a JSON body. */
export async function postSample(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${url}/v1/samples`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** GET /v1/samples/:id?waitS=... until the sample is finished (200), or throws after `timeoutMs`. */
export async function awaitSample(url: string, id: string, headers: Record<string, string> = {}, timeoutMs = 60_000): Promise<Record<string, unknown>> {
  const t0 = Date.now();
  for (;;) {
    const res = await fetch(`${url}/v1/samples/${encodeURIComponent(id)}?waitS=10`, { headers });
    const json = (await res.json()) as Record<string, unknown>;
    if (res.status === 200) return json;
    if (res.status !== 202) throw new Error(`GET sample ${id}: ${res.status} ${JSON.stringify(json)}`);
    if (Date.now() - t0 > timeoutMs) throw new Error(`sample ${id} not finished after ${timeoutMs} ms: ${JSON.stringify(json)}`);
  }
}

/**
 * Simulates `containers` containers of rig SIM7 (day 22) into `recording` and returns the verdicts `enose replay`
 * gives them with `model`: what a service on that recording must answer.
 */
export function simulateAndReplay(recording: string, model: string, containers = 3): VerdictEvent[] {
  const sim = runEnose(['simulate', '--containers', String(containers), '--seed', '7', '--start-day', '22', '--out', recording]);
  if (sim.code !== 0) throw new Error(`enose simulate failed: ${sim.stderr}`);
  const replay = runEnose(['replay', recording, '--model', model, '--json']);
  if (replay.code !== 0) throw new Error(`enose replay failed: ${replay.stderr}`);
  return replay.stdout
    .trim()
    .split('\n')
    .map((line) => {
      const parsed = parseEventJson(line);
      if (!parsed.ok) throw new Error(parsed.error);
      return parsed.value;
    })
    .filter((e): e is VerdictEvent => e.type === 'verdict');
}
