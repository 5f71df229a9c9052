/**
 * The scikit-learn peer process: benchmarks/peer/sklearn_bench.py run with /usr/bin/python3 (Debian's
 * python3-sklearn), or $ENOSE_PYTHON. Used by peer.bench.ts and training.bench.ts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { repoRoot } from './harness.js';

export const PYTHON = process.env['ENOSE_PYTHON'] ?? '/usr/bin/python3';

/** Why the peer cannot run here, or null when the interpreter imports scikit-learn. */
export function peerMissing(): string | null {
  if (!existsSync(PYTHON)) return `${PYTHON} not found (apt-get install python3-sklearn)`;
  const probe = spawnSync(PYTHON, ['-c', 'import sklearn, numpy'], { encoding: 'utf8' });
  if (probe.status !== 0) return `scikit-learn not importable by ${PYTHON} (apt-get install python3-sklearn): ${probe.stderr.trim().split('\n').pop()}`;
  return null;
}

/** Runs sklearn_bench.py on a spec (see its docstring); returns its JSON, or throws with its stderr. */
export function runPeer(spec: object, name: string): Record<string, unknown> {
  const dir = resolve(repoRoot(), 'node_modules', '.cache', 'enose-bench');
  mkdirSync(dir, { recursive: true });
  const file = resolve(dir, `${name}-input.json`);
  writeFileSync(file, JSON.stringify(spec));
  const run = spawnSync(PYTHON, [resolve(repoRoot(), 'benchmarks', 'peer', 'sklearn_bench.py'), file], {
    encoding: 'utf8',
    maxBuffer: 256 * 2 ** 20,
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
  });
  if (run.status !== 0) throw new Error(`sklearn_bench.py failed (${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout) as Record<string, unknown>;
}
