/**
 * The host builds of the firmware that tests/hardware/firmware*.test.ts run: the C codec's vector driver and the
 * reference sketch on the Arduino stub (also with SHORT_BASELINE_MS = 10 s), compiled with gcc/g++ -Werror into a
 * temporary directory; and a runner for a sketch build on a schedule of "<ms> <line>" inputs.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDecoder, type DecoderOutput } from '../../src/io/protocol.js';
import type { Frame } from '../../src/types.js';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const fwDir = path.join(repoRoot, 'hardware', 'firmware');

export const hasTool = (tool: string): boolean => spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0;
export const haveCompilers = hasTool('gcc') && hasTool('g++');

export function compile(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}\n${r.stderr}`);
}

export interface HostFirmware {
  readonly dir: string;
  readonly vectorsBin: string;
  readonly rigBin: string;
  /** The sketch built with SHORT_BASELINE_MS = 10 s (a baseline carried over from a clean recovery). */
  readonly rigBinShort: string;
  /** Removes the build directory. */
  remove(): void;
}

export function buildHostFirmware(): HostFirmware {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'enose-fw-'));
  const obj = path.join(dir, 'enl1.o');
  const cflags = ['-std=c99', '-Wall', '-Wextra', '-Wpedantic', '-Werror', '-O2', `-I${fwDir}`];
  compile('gcc', [...cflags, '-c', path.join(fwDir, 'enl1.c'), '-o', obj]);
  const vectorsBin = path.join(dir, 'vectors');
  compile('gcc', [...cflags, path.join(fwDir, 'host-test', 'vectors_main.c'), obj, '-lm', '-o', vectorsBin]);
  const rigBin = path.join(dir, 'rig');
  const rigBinShort = path.join(dir, 'rig-short-baseline');
  for (const [bin, defines] of [[rigBin, []], [rigBinShort, ['-DSHORT_BASELINE_MS=10000UL']]] as const) {
    compile('g++', [
      ...defines,
      '-std=c++11',
      '-Wall',
      '-Wextra',
      '-Werror',
      '-O2',
      `-I${path.join(fwDir, 'host-stub')}`,
      `-I${fwDir}`,
      '-x',
      'c++',
      path.join(fwDir, 'enose_rig', 'enose_rig.ino'),
      '-x',
      'none',
      path.join(fwDir, 'host-stub', 'arduino_stub.cpp'),
      obj,
      '-lm',
      '-o',
      bin,
    ]);
  }
  return { dir, vectorsBin, rigBin, rigBinShort, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs a host build of the sketch on a schedule of "<ms> <line>" inputs: what it printed, decoded, and its pin changes. */
export function runSketch(bin: string, schedule: readonly string[], totalMs: number): { outputs: DecoderOutput[]; frames: Frame[]; pins: number[][] } {
  const res = spawnSync(bin, [String(totalMs)], { input: `${schedule.join('\n')}\n`, encoding: 'latin1', maxBuffer: 64 << 20 });
  if (res.status !== 0) throw new Error(`rig exited with ${res.status}: ${res.stderr}`);
  const dec = createDecoder();
  const outputs = res.stdout.split('\n').filter((l) => l !== '').flatMap((l) => dec.push(`${l}\n`, 0));
  const frames = outputs.flatMap((o) => (o.type === 'frame' ? [o.frame] : []));
  const pins = res.stderr.split('\n').filter((l) => l.startsWith('PIN ')).map((l) => l.split(' ').slice(1).map(Number));
  return { outputs, frames, pins };
}

/** Runs of equal phases: [phase, first tMs, frames]. */
export function phaseRuns(frames: readonly Frame[]): [string, number, number][] {
  const runs: [string, number, number][] = [];
  for (const f of frames) {
    const last = runs[runs.length - 1];
    if (last !== undefined && last[0] === f.phase) last[2]++;
    else runs.push([f.phase, f.tMs, 1]);
  }
  return runs;
}

/**
 * Where a recovery after END must end by the protocol's rule, from the frames alone: the first frame at which
 * every sensor has been within 5 % of its mean over the cycle's B frames for 3 s, and R is 10 s old.
 */
export function cleanEndMs(frames: readonly Frame[], bStartMs: number, rStartMs: number): number | null {
  const cycleB = frames.filter((f) => f.phase === 'B' && f.tMs >= bStartMs && f.tMs < rStartMs);
  const r0 = Array.from(cycleB[0]!.values, (_, k) => cycleB.reduce((sum, f) => sum + f.values[k]!, 0) / cycleB.length);
  let since: number | null = null;
  for (const f of frames) {
    if (f.tMs < rStartMs) continue;
    const clean = Array.from(f.values).every((v, k) => Math.abs(v - r0[k]!) <= 0.05 * r0[k]!);
    if (!clean) since = null;
    else since ??= f.tMs;
    if (since !== null && f.tMs - since >= 3000 && f.tMs - rStartMs >= 10000) return f.tMs;
  }
  return null;
}
