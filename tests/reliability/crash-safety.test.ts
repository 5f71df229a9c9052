/**
 * Crash safety of recordings (issue 7, part 3): `enose watch --record` runs on a real pty link against the
 * rig emulator and is killed with SIGKILL in the middle of an exposure. Every frame watch had taken more than
 * the recorder's flush period (1 s) before the kill must be in the recording, bit for bit, and `enose replay`
 * must read what is left; a last line cut by the crash is taken as the end, with a warning.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runEnose } from '../helpers/cli.js';
import { crashWatch } from '../helpers/crashRecord.js';
import { ensureBuilt, haveSocat } from '../helpers/pty.js';

const MODEL = 'datasets/container-sim/exposure-model.json.gz';

const have = haveSocat();

describe('a recording survives SIGKILL of watch', () => {
  it.skipIf(!have)('every frame taken more than one flush period before the kill is recorded; replay reads the rest, a cut last line with a warning', async () => {
    ensureBuilt();
    // Into the second cycle's exposure, then half a second more: the kill lands mid-cycle, mid-stream.
    const run = await crashWatch(MODEL, { seed: 5, exposures: 2, afterMs: 500 });
    const { record, recorded, beforeFlush } = run;
    expect(run.signal).toBe('SIGKILL');
    expect(beforeFlush.length).toBeGreaterThan(500);
    expect(run.printed[run.printed.length - 1]!.phase).not.toBe('I');
    // The recording is the stream watch saw, in order: what was printed long enough before the kill is its prefix.
    expect(run.lostBeforeFlush).toBe(0);
    expect(recorded.length).toBeGreaterThanOrEqual(beforeFlush.length);
    expect(recorded.slice(0, beforeFlush.length)).toEqual(beforeFlush);
    // It holds nothing watch never took: the recording agrees with everything printed as far as both go.
    const printed = run.printed.map((p) => p.key);
    const both = Math.min(recorded.length, printed.length);
    expect(recorded.slice(0, both)).toEqual(printed.slice(0, both));
    expect(recorded.length).toBeLessThanOrEqual(printed.length + 1000);
    const meta = JSON.parse(readFileSync(join(record, 'meta.json'), 'utf8')) as { endedAt: unknown };
    expect(meta.endedAt).toBeNull();

    // replay reads the killed recording as it is.
    const replay = runEnose(['replay', record, '--model', MODEL, '--json']);
    expect(replay.code, replay.stderr).toBe(0);
    expect(replay.stdout.split('\n').filter((l) => l.startsWith('{"type":"frame"')).length).toBe(recorded.length);
    expect(replay.stderr).not.toMatch(/\n\s+at /);

    // A crash that cuts the last line in two (a power cut between two writes): replay stops at the cut, warns.
    const cut = join(mkdtempSync(join(tmpdir(), 'enose-cut-')), 'rec');
    cpSync(record, cut, { recursive: true });
    const framesFile = join(cut, 'frames.csv');
    const text = readFileSync(framesFile, 'utf8');
    const lastRowStart = text.lastIndexOf('\n', text.length - 2) + 1;
    truncateSync(framesFile, lastRowStart + Math.floor((text.length - lastRowStart) / 3));
    expect(statSync(framesFile).size).toBeLessThan(text.length);
    const cutReplay = runEnose(['replay', cut, '--model', MODEL, '--json']);
    expect(cutReplay.code, cutReplay.stderr).toBe(0);
    expect(cutReplay.stderr).toMatch(/warning/i);
    expect(cutReplay.stderr).toMatch(/frames\.csv/);
    const cutFrames = cutReplay.stdout.split('\n').filter((l) => l.startsWith('{"type":"frame"')).length;
    // One frames file here (no reboot, no repeated id): the cut row alone is lost.
    expect(readdirSync(cut).filter((f) => f.startsWith('frames'))).toEqual(['frames.csv']);
    expect(cutFrames).toBe(recorded.length - 1);
  });
});
