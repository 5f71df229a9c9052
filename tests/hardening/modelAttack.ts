/**
 * Crafted model files for the hardening tests: a shipped model with one setting changed and its hash recomputed
 * (so that only the meaning check can refuse it), and the CLI run in a child that reports its peak memory.
 */
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { readModelFile, writeModelFile } from '../../src/io/modelFile.js';
import { signBundle, type ModelBundle, type UnsignedBundle } from '../../src/model/runtime/bundle.js';
import { REPO_ROOT } from '../helpers/shared.js';

export function loadShipped(path: string): ModelBundle {
  const m = readModelFile(path);
  if (!m.ok) throw new Error(m.error.reason);
  return m.value;
}

/** A deep, mutable copy of `model` changed by `change`, with its id and hash recomputed, written to `out`. */
export function rehashed(model: ModelBundle, out: string, change: (b: Record<string, any>) => void): ModelBundle {
  const copy = JSON.parse(JSON.stringify(model)) as Record<string, any>;
  change(copy);
  delete copy['id'];
  delete copy['hash'];
  const signed = signBundle(copy as unknown as UnsignedBundle);
  writeModelFile(out, signed);
  return signed;
}

export interface MeasuredRun {
  readonly code: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  /** stderr without the memory line. */
  readonly stderr: string;
  /** Peak resident memory of the child, MB (process.resourceUsage().maxRSS). */
  readonly maxRssMb: number;
}

const RUN = pathToFileURL(resolve(REPO_ROOT, 'dist', 'cli', 'run.js')).href;
const WRAPPER = `const { runCli } = await import(${JSON.stringify(RUN)});
const code = await runCli(process.argv.slice(1), { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t), isTty: false, signal: new AbortController().signal, env: {} });
process.stderr.write('maxrss-kb ' + process.resourceUsage().maxRSS + '\\n');
process.exitCode = code;`;

/** Runs `enose <args>` (the built CLI's runCli, as main.ts runs it) in a child and measures its peak memory. */
export function runMeasured(args: readonly string[]): MeasuredRun {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', WRAPPER, ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
  const rss = /maxrss-kb (\d+)/.exec(r.stderr);
  return {
    code: r.status,
    signal: r.signal,
    stdout: r.stdout,
    stderr: r.stderr.replace(/maxrss-kb \d+\n/, ''),
    maxRssMb: rss ? Number(rss[1]) / 1024 : Infinity,
  };
}

/** The non-empty lines of a text. */
export const lines = (text: string) => text.split('\n').filter((l) => l.trim() !== '');
