/**
 * `enose monitor`, `enose ports` and `enose emulate-rig` as a user runs them: the emulator makes its own pty
 * pair and prints the device, the monitor reads it (JSON lines, SIGINT), the emulator unplugs and replugs
 * itself, and bad use gives one line on stderr and exit code 2.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runEnose } from '../helpers/cli.js';
import { ensureBuilt, haveSocat, startEmulator, waitFor, type EmulatorProcess } from '../helpers/pty.js';
import { CLI, REPO_ROOT } from '../helpers/shared.js';

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI without blocking this process; `onStdout` sees the output as it comes (to signal it). */
function runAsync(args: readonly string[], options: { env?: Record<string, string>; timeoutMs?: number; onStdout?: (all: string, proc: ReturnType<typeof spawn>) => void } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => proc.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    // The callback may ask for a kill on every later chunk too: pass it on once. A second SIGINT would kill the
    // command outright (the CLI, like most, takes a repeated Ctrl-C as "stop now"), which is not what is tested.
    let killed = false;
    const once = new Proxy(proc, {
      get(target, key, receiver) {
        if (key === 'kill') {
          return (sig?: NodeJS.Signals) => {
            if (killed) return true;
            killed = true;
            return target.kill(sig);
          };
        }
        const v = Reflect.get(target, key, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    proc.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
      options.onStdout?.(stdout, once);
    });
    proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    // 'close', not 'exit': it comes once the pipes are drained, however late a busy machine delivers them.
    proc.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function expectOneLineError(run: { code: number | null; stderr: string }, pattern: RegExp): void {
  expect(run.code, run.stderr).toBe(2);
  expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(run.stderr).not.toMatch(/\n\s+at /);
  expect(run.stderr).toMatch(pattern);
}

const jsonLines = (text: string) =>
  text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

beforeAll(() => ensureBuilt());

describe('enose ports, monitor, emulate-rig: usage and bad use', () => {
  it('each has --help', () => {
    for (const command of ['ports', 'monitor', 'emulate-rig']) {
      const run = runEnose([command, '--help']);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(new RegExp(`^Usage: enose ${command}`));
    }
  });

  it('ports lists without crashing where udevadm is missing, as text and as JSON', () => {
    const text = runEnose(['ports']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout.length).toBeGreaterThan(0);
    const json = runEnose(['ports', '--json']);
    expect(json.code).toBe(0);
    const ports = JSON.parse(json.stdout) as { path: string; vendorId: string | null; rig: boolean }[];
    expect(Array.isArray(ports)).toBe(true);
    for (const p of ports) expect(typeof p.path).toBe('string');
  });

  it('a port that does not exist: one line, exit 2', () => {
    expectOneLineError(runEnose(['monitor', '--port', '/dev/enose-nope']), /^enose monitor: cannot open \/dev\/enose-nope: no such device$/m);
  });

  it('--port auto with no matching rig names what it saw; a bad ENOSE_RIG_IDS is one line too', async () => {
    expectOneLineError(await runAsync(['monitor', '--port', 'auto'], { env: { ENOSE_RIG_IDS: 'ffff:fffe' } }), /--port auto: no port matches the rig ids ffff:fffe/);
    expectOneLineError(await runAsync(['monitor', '--port', 'auto'], { env: { ENOSE_RIG_IDS: 'arduino' } }), /ENOSE_RIG_IDS: "arduino" is not a USB id/);
  });

  it('bad options: one line each', () => {
    expectOneLineError(runEnose(['monitor']), /--port is required/);
    expectOneLineError(runEnose(['monitor', '--port', '/dev/x', '--protocol', 'xml']), /--protocol must be enl or csv/);
    expectOneLineError(runEnose(['monitor', '--port', '/dev/x', '--baseline-s', '3']), /--baseline-s is for --protocol csv/);
    expectOneLineError(runEnose(['monitor', '--port', '/dev/x', '--frobnicate']), /Unknown option '--frobnicate'/);
    expectOneLineError(runEnose(['emulate-rig', '--fault', 'bitflip:7']), /--fault bitflip:7: the rate is a probability/);
    expectOneLineError(runEnose(['emulate-rig', '--speed', '0']), /--speed must be greater than 0/);
    expectOneLineError(runEnose(['emulate-rig', '--from', 'x.csv', '--sim-seed', '3']), /--sim-seed is for the simulator/);
    expectOneLineError(runEnose(['emulate-rig', '--link', '/dev/enose-nope']), /cannot open \/dev\/enose-nope: no such device/);
    expectOneLineError(runEnose(['emulate-rig', '--from', '/nonexistent/frames.csv']), /\/nonexistent\/frames\.csv/);
    expectOneLineError(runEnose(['emulate-rig', '--timing', '/nonexistent/t.csv']), /cannot create the timing log \/nonexistent\/t\.csv/);
    expectOneLineError(runEnose(['emulate-rig', '--report', '/nonexistent/r.json']), /--report \/nonexistent\/r\.json: no such folder/);
    expectOneLineError(runEnose(['emulate-rig', '--on-disconnect', 'panic']), /--on-disconnect must be exit or wait/);
  });
});

const socat = haveSocat();
const emulators: EmulatorProcess[] = [];
afterEach(async () => {
  while (emulators.length > 0) await emulators.pop()!.stop();
});

function emulate(args: readonly string[]): EmulatorProcess {
  const emu = startEmulator(args);
  emulators.push(emu);
  return emu;
}

describe.skipIf(!socat)('enose monitor on enose emulate-rig (its own pty pair)', () => {
  it('the emulator prints its device; monitor --json prints flat state, info and frame objects', async () => {
    const emu = emulate(['--auto-cycle', '--speed', '50', '--baseline-s', '1', '--exposure-s', '1', '--recovery-s', '1', '--idle-s', '0.5']);
    const device = (await emu.waitForLine(/^device: /)).slice('device: '.length);
    expect(existsSync(device)).toBe(true);
    expect(emu.stdout().split('\n')[0]).toBe(`device: ${device}`);
    const run = await runAsync(['monitor', '--port', device, '--json', '--frames', '40']);
    expect(run.code, run.stderr).toBe(0);
    const lines = jsonLines(run.stdout);
    expect(lines[0]).toMatchObject({ type: 'state', state: 'connected', detail: device });
    const info = lines.find((l) => l['type'] === 'info')!;
    expect(info).toMatchObject({ proto: 'ENL/1', rig: 'SIM1', rateHz: 10, unit: 'ohm' });
    const channels = info['channels'] as string[];
    const frames = lines.filter((l) => l['type'] === 'frame');
    expect(frames).toHaveLength(40);
    for (const f of frames) {
      expect(Object.keys(f).sort()).toEqual(['atMs', 'phase', 'seq', 'tMs', 'type', 'values']);
      expect(f['values'] as unknown[]).toHaveLength(channels.length);
      expect(['I', 'B', 'E', 'R']).toContain(f['phase']);
    }
    const seqs = frames.map((f) => f['seq'] as number);
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
    const report = await emu.stop();
    expect(report).toMatchObject({ type: 'emulator-report', ended: 'signal', rig: 'SIM1' });
    expect(report!.frames).toBeGreaterThan(40);
    expect(existsSync(dirname(device))).toBe(false); // its pty folder is cleaned up
  });

  it('monitor stops cleanly on SIGINT (exit 0, whole lines); readable output without --json', async () => {
    const emu = emulate(['--speed', '20']);
    const device = (await emu.waitForLine(/^device: /)).slice('device: '.length);
    let sent = false;
    const run = await runAsync(['monitor', '--port', device], {
      onStdout: (all, proc) => {
        if (!sent && (all.match(/^frame /gm) ?? []).length >= 10) {
          sent = true;
          proc.kill('SIGINT');
        }
      },
    });
    expect(sent).toBe(true);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout.endsWith('\n')).toBe(true);
    expect(run.stdout).toMatch(/^state  connected: /m);
    expect(run.stdout).toMatch(/^info   rig SIM1 fw emu-1 ENL\/1 10 Hz ohm, 18 channels: tgs2600_1 /m);
    expect(run.stdout).toMatch(/^frame  \d+ t=\d+\.\d{3}s I \d/m);
  });

  it('monitor --start sends START; the ack and the B, E, R cycle are printed', async () => {
    const emu = emulate(['--speed', '50', '--baseline-s', '1', '--exposure-s', '1', '--recovery-s', '1']);
    const device = (await emu.waitForLine(/^device: /)).slice('device: '.length);
    // Stopped by SIGINT once the cycle after the ack is over, not by a frame count: the emulator writes 500
    // frames/s from its start, so the frames already in the link when monitor opens it (about one per 2 ms
    // that monitor took to start: over a thousand on a busy machine) come before the ack, and a count of 400
    // once ended the run before it.
    let sawCycle = false;
    const run = await runAsync(['monitor', '--port', device, '--json', '--start', 'MSCU1234567'], {
      timeoutMs: 60_000,
      onStdout: (all, proc) => {
        const ackAt = all.indexOf('"type":"ack"');
        if (ackAt >= 0 && /"phase":"R"[^\n]*\n(?:[^\n]*\n)*[^\n]*"phase":"I"/.test(all.slice(ackAt))) {
          sawCycle = true;
          proc.kill('SIGINT');
        }
      },
    });
    expect(sawCycle, `no ack followed by a whole cycle within 60 s; stderr: ${run.stderr}`).toBe(true);
    expect(run.code).toBe(0);
    const lines = jsonLines(run.stdout);
    const ack = lines.findIndex((l) => l['type'] === 'ack');
    expect(lines[ack]).toMatchObject({ command: 'START', ok: true });
    const phases = lines.slice(ack).filter((l) => l['type'] === 'frame').map((l) => l['phase'] as string);
    expect(phases.filter((p, i) => i === 0 || p !== phases[i - 1]).join('')).toMatch(/^I?BERI/);
    const report = await emu.stop();
    expect(report!.commands['START']).toBe(1);
  });

  it('disconnect-at on its own pair: socat stopped and restarted; monitor sees disconnected, reconnecting, connected and the gap', async () => {
    // The emulator counts frames from its start, and monitor may take seconds to start on a busy machine: it
    // can come after a disconnect, or just before one with no info yet (then no gap can be told, rightly). So
    // the emulator disconnects every 6 s of wall time, and the test takes the first disconnect that monitor saw
    // after frames; a monitor started during an outage (no device yet) is started again.
    const DISCONNECTS = [600, 1800, 3000, 4200];
    const emu = emulate(['--auto-cycle', '--speed', '20', '--baseline-s', '1', '--exposure-s', '1', '--recovery-s', '1', ...DISCONNECTS.flatMap((f) => ['--fault', `disconnect-at:${f}`]), '--replug-after-ms', '300']);
    const device = (await emu.waitForLine(/^device: /)).slice('device: '.length);
    const seen = /"type":"frame"[\s\S]*"state":"disconnected"[\s\S]*"state":"connected"[\s\S]*"type":"frame"/;
    let run: Run | null = null;
    for (let attempt = 0; attempt < 20; attempt++) {
      run = await runAsync(['monitor', '--port', device, '--json'], {
        onStdout: (all, proc) => {
          if (seen.test(all)) proc.kill('SIGINT');
        },
      });
      if (!(run.code === 2 && /no such device/.test(run.stderr) && run.stdout === '')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const lines = jsonLines(run!.stdout);
    const notFrames = JSON.stringify(lines.filter((l) => l['type'] !== 'frame'));
    expect(run!.code, `signal ${run!.signal}; stderr: ${run!.stderr}; events other than frames: ${notFrames}`).toBe(0);
    expect(lines[0]).toMatchObject({ type: 'state', state: 'connected' });
    // From the first frame on: connected, then the disconnect, reconnecting only, and connected again.
    const firstFrame = lines.findIndex((l) => l['type'] === 'frame');
    const cut = lines.findIndex((l, i) => i > firstFrame && l['type'] === 'state' && l['state'] === 'disconnected');
    const back = lines.findIndex((l, i) => i > cut && l['type'] === 'state' && l['state'] === 'connected');
    expect(firstFrame, notFrames).toBeGreaterThan(0);
    expect(cut, notFrames).toBeGreaterThan(firstFrame);
    expect(back, notFrames).toBeGreaterThan(cut);
    expect(lines.slice(firstFrame, cut).some((l) => l['type'] === 'state')).toBe(false);
    expect(lines.slice(cut + 1, back).filter((l) => l['type'] === 'state').every((l) => l['state'] === 'reconnecting')).toBe(true);
    await waitFor(() => /^link-back: /m.test(emu.stdout()), 'link-back notice');
    expect(emu.stdout()).toMatch(new RegExp(`^disconnect-at: frame (${DISCONNECTS.join('|')})$`, 'm'));
    // The rig kept counting while unplugged: the frames it made meanwhile are one gap, before the next frame.
    const gap = lines.find((l, i) => i > back && l['type'] === 'gap');
    expect(gap, notFrames).toBeDefined();
    expect(gap!['lost'] as number).toBeGreaterThan(40); // 300 ms and more at 200 frames/s
    const report = await emu.stop();
    expect(report!.injected['disconnect-at']).toBeGreaterThanOrEqual(1);
    expect(report!.framesUnsent).toBeGreaterThan(40);
  });
});
