/**
 * A model knows its rig, through the commands a user runs (issue 19 item 5): `evaluate`, `replay`, `serve` and
 * `watch` (over a real serial link) warn once when the data is another rig's, and its verdicts carry
 * `rig-mismatch` and are never clear; on the model's own rig nothing changes. `enose train` records the rig.
 * Both shipped models.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEnose } from '../helpers/cli.js';
import { ensureBuilt, haveSocat, startEmulator, startPty, waitFor, type TestPty } from '../helpers/pty.js';
import { CLI, REPO_ROOT } from '../helpers/shared.js';
import { startServe } from '../service/serveProcess.js';

const MODELS = ['datasets/container-sim/default-model.json.gz', 'datasets/container-sim/exposure-model.json.gz'];
const N = 40;
const dir = mkdtempSync(join(tmpdir(), 'enose-rig-'));
const other = join(dir, 'rig7');
const own = join(dir, 'own');

const warningLines = (stderr: string, command: string) => stderr.split('\n').filter((l) => l.startsWith(`enose ${command}: warning:`) && /rig/.test(l) && /rig-mismatch/.test(l));

beforeAll(() => {
  ensureBuilt();
  for (const [out, args] of [
    [other, ['--seed', '7', '--rig-seed', '7']],
    [own, ['--seed', '1', '--start-day', '21', '--days', '10']],
  ] as const) {
    const run = runEnose(['simulate', '--containers', String(N), ...args, '--out', out]);
    expect(run.code, run.stderr).toBe(0);
  }
});

describe('enose simulate names a rig after its rig seed', () => {
  it('rig seed 7 is SIM7, the shipped models\' training rig (seed 1) stays SIM1', () => {
    expect(JSON.parse(readFileSync(join(other, 'meta.json'), 'utf8')).rig.rig).toBe('SIM7');
    expect(JSON.parse(readFileSync(join(own, 'meta.json'), 'utf8')).rig.rig).toBe('SIM1');
    for (const model of MODELS) expect(JSON.parse(gunzipSync(readFileSync(model)).toString('utf8')).rig.identity.rig).toBe('SIM1');
  });
});

describe.each(MODELS)('with %s', (model) => {
  it('evaluate on another rig: one warning line, >= 90 % rig-mismatch; on its own rig: none', () => {
    const text = runEnose(['evaluate', other, '--model', model]);
    expect(text.code, text.stderr).toBe(0);
    expect(warningLines(text.stderr, 'evaluate')).toHaveLength(1);
    expect(text.stderr).toMatch(/it is rig SIM7, the model was trained on rig SIM1/);
    const flagged = Number(/^rig-mismatch: (\d+) of 40 samples/m.exec(text.stdout)?.[1]);
    expect(flagged).toBeGreaterThanOrEqual(0.9 * N);
    const ownRun = runEnose(['evaluate', own, '--model', model, '--json']);
    expect(ownRun.code, ownRun.stderr).toBe(0);
    expect(ownRun.stderr).not.toMatch(/rig-mismatch/);
    expect((JSON.parse(ownRun.stdout) as { rigMismatch: number }).rigMismatch).toBeLessThanOrEqual(0.01 * N);
  });

  it('replay --json on another rig: one rig-mismatch event, one warning line, no clear verdict', () => {
    const run = runEnose(['replay', other, '--model', model, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const events = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; verdict?: string; reasons?: string[] });
    const verdicts = events.filter((e) => e.type === 'verdict');
    expect(verdicts).toHaveLength(N);
    expect(verdicts.filter((v) => v.verdict === 'clear')).toEqual([]);
    expect(verdicts.filter((v) => v.reasons!.includes('rig-mismatch')).length).toBeGreaterThanOrEqual(0.9 * N);
    expect(events.filter((e) => e.type === 'rig-mismatch')).toHaveLength(1);
    expect(warningLines(run.stderr, 'replay')).toHaveLength(1);
  });

  it('serve --replay of another rig: one warning line on stderr', async () => {
    const serve = await startServe(['--replay', other, '--model', model, '--speed', 'max']);
    try {
      await waitFor(() => warningLines(serve.stderr(), 'serve').length > 0, `serve's rig warning (stderr: ${serve.stderr()})`, 60_000);
    } finally {
      await serve.stop();
    }
    expect(warningLines(serve.stderr(), 'serve')).toHaveLength(1);
  });
});

describe('enose train records the rig of its data', () => {
  it('a model trained on the SIM1 recording knows it, and warns on SIM7', () => {
    const path = join(dir, 'trained.json');
    const train = runEnose(['train', own, '--out', path, '--cv-folds', '0']);
    expect(train.code, train.stderr).toBe(0);
    const bundle = JSON.parse(readFileSync(path, 'utf8')) as { rig: { identity: { rig: string }; fingerprint: { cycles: number; channels: unknown[] } } };
    expect(bundle.rig.identity.rig).toBe('SIM1');
    expect(bundle.rig.fingerprint.channels).toHaveLength(16);
    expect(bundle.rig.fingerprint.cycles).toBeGreaterThan(N / 2);
    const run = runEnose(['evaluate', other, '--model', path]);
    expect(run.code, run.stderr).toBe(0);
    expect(warningLines(run.stderr, 'evaluate')).toHaveLength(1);
  });
});

const have = haveSocat();
let pty: TestPty | null = null;
afterAll(async () => {
  await pty?.close();
});

describe('enose watch over a real serial link', () => {
  if (!have) console.log('SKIPPED: socat is not installed (watch over a pty pair)');
  it.skipIf(!have).each(MODELS)('another rig that calls itself SIM1 (rig seed 7): the data warns once, on stderr and as an event (%s)', async (model) => {
    await pty?.close();
    pty = await startPty();
    const watch = spawn(process.execPath, [CLI, 'watch', '--port', pty.host, '--model', model, '--json'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    watch.stdout!.on('data', (d: Buffer) => (out += d.toString('utf8')));
    watch.stderr!.on('data', (d: Buffer) => (err += d.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => watch.once('close', (code) => resolve(code)));
    const rig = startEmulator(['--link', pty.rig, '--sim-seed', '7', '--containers', '6', '--auto-cycle', '--speed', '100']);
    try {
      await waitFor(() => out.includes('{"type":"rig-mismatch"'), `the rig-mismatch event (watch stderr: ${err})`, 60_000);
    } finally {
      await rig.stop();
      watch.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    const events = out.trim().split('\n').map((l) => JSON.parse(l) as { type: string; basis?: string; verdict?: string; reasons?: string[] });
    expect(events.filter((e) => e.type === 'rig-mismatch').map((e) => e.basis)).toEqual(['data']);
    const verdicts = events.filter((e) => e.type === 'verdict');
    expect(verdicts.length).toBeGreaterThanOrEqual(3);
    expect(verdicts.filter((v) => v.verdict === 'clear')).toEqual([]);
    expect(warningLines(err, 'watch')).toHaveLength(1);
  });
});
