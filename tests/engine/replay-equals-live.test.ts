/**
 * Replay equals live (issue 4): the rig emulator runs as its own process on one end of a socat pty pair and
 * plays simulated cycles (time compressed); `enose watch --record --json` runs as a user would on the other
 * end through the real serialport package. The verdicts watch printed live must equal, field for field
 * (verdict, class, probabilities to the last bit, score, reasons, quality, frame span), those `enose replay`
 * prints for the recording watch wrote.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runEnose } from '../helpers/cli.js';
import { ensureBuilt, haveSocat, startEmulator, startPty, waitFor, type TestPty } from '../helpers/pty.js';
import { CLI, REPO_ROOT } from '../helpers/shared.js';

/** The shipped models: the default decides when the recovery ends, the exposure model when the exposure ends. */
const MODELS = [
  ['default', 'datasets/container-sim/default-model.json.gz'],
  ['exposure', 'datasets/container-sim/exposure-model.json.gz'],
] as const;
const CYCLES = 5;

/** A verdict without the fields that differ by nature between two runs (arrival times, latency). */
function comparable(line: string): Record<string, unknown> {
  const { atMs: _a, latencyMs: _l, wallTime: _w, ...rest } = JSON.parse(line) as Record<string, unknown>;
  return rest;
}

const have = haveSocat();
let pty: TestPty | null = null;
afterAll(async () => {
  await pty?.close();
});

describe('replay equals live, over a real serial link', () => {
  it.skipIf(!have).each(MODELS)(`the verdicts of ${CYCLES} live cycles equal those of their replay, to the last bit (%s model)`, async (name, MODEL) => {
    ensureBuilt();
    await pty?.close();
    pty = await startPty();
    const record = join(mkdtempSync(join(tmpdir(), 'enose-live-')), 'rec');
    const watch = spawn(process.execPath, [CLI, 'watch', '--port', pty.host, '--model', MODEL, '--record', record, '--json'], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    watch.stdout!.on('data', (d: Buffer) => (out += d.toString('utf8')));
    watch.stderr!.on('data', (d: Buffer) => (err += d.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => watch.once('close', (code) => resolve(code)));
    const liveVerdicts = () => out.split('\n').filter((l) => l.startsWith('{"type":"verdict"'));
    // The rig: simulated containers of the evaluation days, 150 s cycles played 50 times faster. One more than
    // compared: the default model's verdict of a cycle needs the next cycle's first frame (the last cycle's
    // would come from the end of the link, which live and replay see differently: a cut against the file's end).
    const rig = startEmulator(['--link', pty.rig, '--sim-seed', '3', '--sim-start-day', '21', '--containers', String(CYCLES + 1), '--auto-cycle', '--speed', '50']);
    try {
      await waitFor(() => liveVerdicts().length >= CYCLES, `${CYCLES} live verdicts (watch stderr: ${err})`, 60_000);
    } finally {
      await rig.stop();
      watch.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    const live = liveVerdicts().slice(0, CYCLES);
    expect(live).toHaveLength(CYCLES);

    const replay = runEnose(['replay', record, '--model', MODEL, '--json']);
    expect(replay.code, replay.stderr).toBe(0);
    const replayed = replay.stdout.split('\n').filter((l) => l.startsWith('{"type":"verdict"')).slice(0, CYCLES);
    expect(replayed).toHaveLength(CYCLES);
    for (let i = 0; i < CYCLES; i++) expect(comparable(replayed[i]!)).toEqual(comparable(live[i]!));
    // Every live frame is in the recording: the replay sees as many frames as watch printed.
    const liveFrames = out.split('\n').filter((l) => l.startsWith('{"type":"frame"')).length;
    const replayFrames = replay.stdout.split('\n').filter((l) => l.startsWith('{"type":"frame"')).length;
    expect(replayFrames).toBe(liveFrames);
    const ids = live.map((l) => (JSON.parse(l) as { sample: string }).sample);
    expect(new Set(ids).size).toBe(CYCLES);
    expect(ids[0]).toMatch(/^SIM1-\d+$/);
    // The default model's verdicts come after the 60 s recovery, with its frames counted.
    const framesR = live.map((l) => (JSON.parse(l) as { quality: { framesR?: number } }).quality.framesR);
    expect(framesR).toEqual(Array.from({ length: CYCLES }, () => (name === 'default' ? 600 : undefined)));
  });
});
