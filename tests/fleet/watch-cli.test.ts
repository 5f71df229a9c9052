/**
 * `enose watch --mqtt --station` on a rig over a socat pty (the rig emulator running its own cycles), on a real
 * mosquitto, with both shipped models: mosquitto_sub sees the verdicts with the model's id and the rig's id, and
 * SIGINT leaves the retained status "offline (stopped)".
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readModelFile } from '../../src/io/modelFile.js';
import { haveMosquitto, startBroker, type Broker } from '../helpers/mosquitto.js';
import { ensureBuilt, haveSocat, startEmulator, type EmulatorProcess } from '../helpers/pty.js';
import { CLI, REPO_ROOT } from '../helpers/shared.js';

const MODELS = ['datasets/container-sim/default-model.json.gz', 'datasets/container-sim/exposure-model.json.gz'];
const have = haveMosquitto('enose watch --mqtt') && haveSocat();
const dir = mkdtempSync(join(tmpdir(), 'enose-watch-mqtt-'));
let broker: Broker | null = null;
const emulators: EmulatorProcess[] = [];

afterAll(async () => {
  for (const e of emulators) await e.stop();
  await broker?.stop('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe.runIf(have)('enose watch --mqtt', () => {
  for (const [i, path] of MODELS.entries()) {
    it(`publishes the verdicts of a live rig (${path.includes('default') ? 'default' : 'exposure'} model)`, async () => {
      ensureBuilt();
      broker ??= await startBroker(join(dir, 'broker'));
      const model = readModelFile(path);
      if (!model.ok) throw new Error(model.error.reason);
      const station = `watch-${i}`;
      const emu = startEmulator(['--sim-seed', String(3 + i), '--containers', '6', '--sim-start-day', '22', '--speed', '50', '--auto-cycle', '--rig-id', 'R7']);
      emulators.push(emu);
      const device = (await emu.waitForLine(/^device: /)).slice('device: '.length);
      const sub = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(broker.port), '-v', '-q', '1', '-t', `enose/${station}/verdict`, '-C', '2', '-W', '120'], { stdio: ['ignore', 'pipe', 'ignore'] });
      let subOut = '';
      sub.stdout.on('data', (d: Buffer) => (subOut += d.toString()));
      const subDone = new Promise((r) => sub.once('close', r));
      const watch = spawn(process.execPath, [CLI, 'watch', '--port', device, '--model', path, '--mqtt', broker.url, '--station', station, '--spool', join(dir, `${station}.jsonl`)], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      watch.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      const exited = new Promise<number | null>((r) => watch.once('close', (code) => r(code)));
      await subDone;
      watch.kill('SIGINT');
      expect(await exited, err).toBe(0);
      const messages = subOut
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l.slice(l.indexOf(' ') + 1)) as Record<string, unknown>);
      expect(messages).toHaveLength(2);
      for (const m of messages) {
        expect(m).toMatchObject({ kind: 'enose-verdict', station, modelId: model.value.id, rig: 'R7', containerId: null });
        expect(['suspicious', 'clear', 'inconclusive']).toContain(m['verdict']);
      }
      expect(messages.map((m) => m['seq'])).toEqual([1, 2]);
      const status = spawnSync('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(broker.port), '-t', `enose/${station}/status`, '-C', '1', '-W', '5'], { encoding: 'utf8' });
      expect(JSON.parse(status.stdout)).toMatchObject({ state: 'offline', reason: 'stopped', modelId: model.value.id, rig: 'R7' });
      expect(err).not.toMatch(/password|ENOSE_MQTT/i);
      await emu.stop();
    });
  }
});
