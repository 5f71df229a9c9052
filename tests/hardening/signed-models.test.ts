/**
 * Signed models (issue 24, item 3): `enose keygen`, `enose sign`, and `--trusted-keys` on `watch` and `serve` (and
 * `replay`) with both shipped models, as an operator runs them: a signed model runs; one changed after signing,
 * unsigned, signed by an unknown key or with a forged signature is refused with one line and exit 2. A station
 * following roll-outs with --trusted-keys (real mosquitto) refuses the same, and a roll-out bomb, keeps its model
 * and reports the refusal in its retained status; a properly signed roll-out is taken.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { connectAsync } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPrivateKey, writeKeyPair, writeSignatureFile } from '../../src/io/keyFiles.js';
import { signModel } from '../../src/model/runtime/signature.js';
import { runEnose } from '../helpers/cli.js';
import { SHIPPED_MODELS } from '../helpers/models.js';
import { haveMosquitto, startBroker, type Broker } from '../helpers/mosquitto.js';
import { ensureBuilt, haveSocat, startEmulator } from '../helpers/pty.js';
import { CLI, REPO_ROOT } from '../helpers/shared.js';
import { awaitSample, postSample, startServe, type ServeProcess } from '../service/serveProcess.js';
import { lines, loadShipped, rehashed } from './modelAttack.js';

const dir = mkdtempSync(join(tmpdir(), 'enose-signed-'));
const recording = join(dir, 'rec');
const key = (n: string) => join(dir, n);
let broker: Broker | null = null;
const serves: ServeProcess[] = [];

/** The files of the attacks, per shipped model: made once with the library, so that each test stands alone. */
const files = (name: string) => ({
  signed: join(dir, `${name}.json.gz`),
  unsigned: join(dir, `${name}-unsigned.json.gz`),
  changed: join(dir, `${name}-changed.json`),
  foreign: join(dir, `${name}-foreign.json.gz`),
  forged: join(dir, `${name}-forged.json`),
});

function signWith(keyName: string, model: string): void {
  const k = readPrivateKey(key(`${keyName}.key`));
  if (!k.ok) throw new Error(k.error.reason);
  writeSignatureFile(`${model}.sig`, signModel(loadShipped(model), k.value.key));
}

beforeAll(() => {
  ensureBuilt();
  const sim = runEnose(['simulate', '--containers', '3', '--seed', '7', '--rig-seed', '1', '--start-day', '22', '--out', recording]);
  expect(sim.code, sim.stderr).toBe(0);
  for (const name of ['release', 'other']) expect(writeKeyPair(key(name)).ok).toBe(true);
  // A trusted-keys file may hold several keys, with comments between them.
  writeFileSync(key('trusted.pub'), `${readFileSync(key('other.pub'), 'utf8')}\n# the release key\n${readFileSync(key('release.pub'), 'utf8')}`);
  for (const { name, path } of SHIPPED_MODELS) {
    const f = files(name);
    const model = loadShipped(path);
    for (const copy of [f.signed, f.unsigned, f.foreign]) copyFileSync(join(REPO_ROOT, path), copy);
    signWith('release', f.signed);
    signWith('other', f.foreign);
    // Changed after signing (hash recomputed, the old signature beside it); and a signature edited to name the
    // changed model's hash.
    const tampered = rehashed(model, f.changed, (b) => (b['policy']['threshold'] = 0.999));
    copyFileSync(`${f.signed}.sig`, `${f.changed}.sig`);
    rehashed(model, f.forged, (b) => (b['policy']['threshold'] = 0.999));
    const sig = JSON.parse(readFileSync(`${f.signed}.sig`, 'utf8')) as Record<string, string>;
    writeFileSync(`${f.forged}.sig`, JSON.stringify({ ...sig, modelId: tampered.id, modelHash: tampered.hash }));
  }
});
afterAll(async () => {
  for (const s of serves) await s.stop();
  await broker?.stop('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** exit 2, exactly one line on stderr that matches, never an internal error. */
function expectOneLineRefusal(run: { code: number | null; stderr: string; stdout: string }, reason: RegExp): void {
  expect(run.code, run.stderr).toBe(2);
  expect(lines(run.stderr), run.stderr).toHaveLength(1);
  expect(run.stderr).toMatch(reason);
  expect(run.stderr).not.toMatch(/internal error/);
  expect(run.stdout).not.toMatch(/listening on|: (clear|suspicious|inconclusive),/);
}

describe('enose keygen and enose sign', () => {
  it('keygen writes a private key (mode 0600) and a public key, and never overwrites them', () => {
    for (const name of ['k1', 'k2']) {
      const made = runEnose(['keygen', '--out', key(name)]);
      expect(made.code, made.stderr).toBe(0);
      expect(made.stdout).toMatch(/^enose keygen: key [0-9a-f]{16}: private .*k\d\.key \(mode 0600/);
      expect(statSync(key(`${name}.key`)).mode & 0o777).toBe(0o600);
      expect(readFileSync(key(`${name}.pub`), 'utf8')).toMatch(/-----BEGIN PUBLIC KEY-----/);
    }
    const before = readFileSync(key('k1.key'), 'utf8');
    const again = runEnose(['keygen', '--out', key('k1')]);
    expectOneLineRefusal(again, /k1\.key: already exists: not overwritten/);
    expect(readFileSync(key('k1.key'), 'utf8')).toBe(before);
  });

  it('sign refuses a private key that is not one, and a model that would be refused', () => {
    const model = join(dir, 'sign-check.json.gz');
    copyFileSync(join(REPO_ROOT, SHIPPED_MODELS[0]!.path), model);
    expectOneLineRefusal(runEnose(['sign', model, '--key', key('release.pub')]), /not a private key/);
    const bad = join(dir, 'sign-bad.json');
    rehashed(loadShipped(SHIPPED_MODELS[0]!.path), bad, (b) => (b['input']['extractor']['windowCount'] = 1e9));
    expectOneLineRefusal(runEnose(['sign', bad, '--key', key('release.key')]), /windowCount/);
  });
});

describe.each(SHIPPED_MODELS)('--trusted-keys ($name model)', ({ name, path }) => {
  const f = files(name);
  const refusals = () => {
    const model = loadShipped(path);
    return [
      { file: f.unsigned, reason: /refused: the model is not signed.*\(no .*unsigned\.json\.gz\.sig\)/ },
      { file: f.changed, reason: new RegExp(`refused: the model was changed after it was signed \\(the signature is for model ${model.id}, this is ${loadShipped(f.changed).id}\\)`) },
      { file: f.foreign, reason: /refused: the model is signed by key [0-9a-f]{16}, which is not a trusted key/ },
      { file: f.forged, reason: /refused: the signature by key [0-9a-f]{16} does not verify \(forged or corrupt\)/ },
    ];
  };

  it('enose sign signs the model; replay --trusted-keys runs it (a file of two keys, comments between them)', () => {
    const mine = join(dir, `${name}-cli-signed.json.gz`);
    copyFileSync(join(REPO_ROOT, path), mine);
    const s = runEnose(['sign', mine, '--key', key('release.key')]);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout).toMatch(new RegExp(`model ${loadShipped(path).id} signed with key [0-9a-f]{16}: ${mine}\\.sig`));
    const run = runEnose(['replay', recording, '--model', mine, '--trusted-keys', key('trusted.pub')]);
    expect(run.code, run.stderr).toBe(0);
    expect(lines(run.stdout).filter((l) => /: (clear|suspicious|inconclusive),/.test(l))).toHaveLength(3);
  });

  it('serve --trusted-keys runs the signed model and answers with its verdicts', async () => {
    const serve = await startServe(['--replay', recording, '--model', f.signed, '--trusted-keys', key('release.pub'), '--speed', 'max']);
    serves.push(serve);
    const posted = await postSample(serve.url, { containerId: 'MSCU7654321' });
    expect(posted.status).toBe(202);
    const result = await awaitSample(serve.url, posted.json['id'] as string);
    expect((result['verdict'] as { modelId: string }).modelId).toBe(loadShipped(path).id);
    expect(await serve.stop()).toBe(0);
    serves.splice(serves.indexOf(serve), 1);
  });

  it('serve and watch refuse an unsigned, changed, foreign-signed or forged model in one line (exit 2)', () => {
    for (const { file, reason } of refusals()) {
      const serve = runEnose(['serve', '--replay', recording, '--model', file, '--trusted-keys', key('release.pub'), '--listen', '127.0.0.1:0']);
      expectOneLineRefusal(serve, reason);
      expect(serve.stderr).toMatch(/^enose serve: /);
      // The model is checked before the port is opened: no rig is needed to see the refusal.
      const watch = runEnose(['watch', '--port', join(dir, 'no-such-port'), '--model', file, '--trusted-keys', key('release.pub')]);
      expectOneLineRefusal(watch, reason);
      expect(watch.stderr).toMatch(/^enose watch: /);
    }
    // A trusted-keys file without a public key (here: the private key given by mistake) is one line too.
    expectOneLineRefusal(runEnose(['watch', '--port', join(dir, 'no-such-port'), '--model', f.unsigned, '--trusted-keys', key('release.key')]), /no public key/);
  });

  it.runIf(haveSocat())('watch --trusted-keys runs the signed model on a live rig (pty) and stops cleanly', async () => {
    const emu = startEmulator(['--sim-seed', '3', '--containers', '2', '--sim-start-day', '22', '--speed', '50', '--auto-cycle', '--rig-id', 'R7']);
    try {
      const device = (await emu.waitForLine(/^device: /)).slice('device: '.length);
      const watch = spawn(process.execPath, [CLI, 'watch', '--port', device, '--model', f.signed, '--trusted-keys', key('release.pub')], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      watch.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      watch.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      const exited = new Promise<number | null>((r) => watch.once('exit', (code) => r(code)));
      for (let i = 0; i < 600 && !/^rig R7 /m.test(out) && watch.exitCode === null; i++) await new Promise((r) => setTimeout(r, 50));
      expect(out, err).toMatch(/^rig R7 /m);
      watch.kill('SIGINT');
      expect(await exited, err).toBe(0);
    } finally {
      await emu.stop();
    }
  });
});

const haveBroker = haveMosquitto('signed model roll-out');
describe.runIf(haveBroker)('a station with --trusted-keys following roll-outs', () => {
  const statusOf = (station: string): Record<string, any> | null => {
    const r = spawnSync('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(broker!.port), '-t', `enose/${station}/status`, '-C', '1', '-W', '2'], { encoding: 'utf8' });
    return r.stdout.trim() === '' ? null : (JSON.parse(r.stdout.trim()) as Record<string, any>);
  };
  const refusedReason = (s: Record<string, any> | null): string => s?.['follow']?.['refused']?.['reason'] ?? '';
  async function until<T>(what: string, get: () => T, ok: (v: T) => boolean): Promise<T> {
    for (let i = 0; i < 300; i++) {
      const v = get();
      if (ok(v)) return v;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`gave up waiting for ${what}: ${JSON.stringify(get())}`);
  }

  it('refuses unsigned, foreign-signed, changed and bomb roll-outs, keeps its model, then takes a signed one', async () => {
    broker = await startBroker(join(dir, 'broker'));
    const [dflt, expo] = [SHIPPED_MODELS[0]!, SHIPPED_MODELS[1]!];
    const station = 'st-trust';
    // The station runs the signed exposure model; the roll-out is the default model.
    const serve = await startServe(['--replay', recording, '--model', files('exposure').signed, '--trusted-keys', key('release.pub'), '--speed', 'max', '--mqtt', broker.url, '--station', station, '--spool', join(dir, `${station}.jsonl`), '--follow-models']);
    serves.push(serve);
    const running = loadShipped(expo.path).id;
    const rollout = loadShipped(dflt.path);
    await until('following enose/models/SIM1', () => statusOf(station), (s) => s?.['follow']?.['topic'] === 'enose/models/SIM1');
    const admin = await connectAsync(broker.url, { reconnectPeriod: 0 });
    let last = '';
    const expectRefusal = async (what: string, reason: RegExp) => {
      const s = await until(what, () => statusOf(station), (v) => refusedReason(v) !== '' && refusedReason(v) !== last);
      last = refusedReason(s);
      expect(last).toMatch(reason);
      expect(s!['modelId']).toBe(running);
      expect(s!['follow']['pending']).toBeUndefined();
    };

    const unsignedPublish = runEnose(['fleet', 'publish-model', files('default').unsigned, '--rig', 'SIM1', '--mqtt', broker.url]);
    expect(unsignedPublish.code, unsignedPublish.stderr).toBe(0);
    expect(unsignedPublish.stdout).toMatch(/published \(retained, unsigned\)/);
    await expectRefusal('the unsigned roll-out refused', /not signed/);

    const foreignPublish = runEnose(['fleet', 'publish-model', files('default').foreign, '--rig', 'SIM1', '--mqtt', broker.url]);
    expect(foreignPublish.code, foreignPublish.stderr).toBe(0);
    await expectRefusal('the foreign-signed roll-out refused', /not a trusted key/);

    // Changed after signing, hash recomputed, sent with the original's signature (publish-model would refuse it).
    const changed = loadShipped(files('default').changed);
    const signature = JSON.parse(readFileSync(`${files('default').signed}.sig`, 'utf8')) as unknown;
    const message = { kind: 'enose-model-rollout', rig: 'SIM1', publishedAt: new Date().toISOString(), model: changed, signature };
    await admin.publishAsync('enose/models/SIM1', gzipSync(JSON.stringify(message)), { qos: 1, retain: true });
    await expectRefusal('the changed roll-out refused', /changed after it was signed/);

    // A roll-out bomb: bounded like a model file.
    await admin.publishAsync('enose/models/SIM1', gzipSync(Buffer.alloc(160 * 1024 * 1024), { level: 1 }), { qos: 1, retain: true });
    await expectRefusal('the bomb refused', /decompresses to more than the 128 MiB/);
    expect(serve.proc.exitCode).toBeNull();

    const good = runEnose(['fleet', 'publish-model', files('default').signed, '--rig', 'SIM1', '--mqtt', broker.url]);
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).toMatch(/published \(retained, signed\)/);
    await until('the signed roll-out accepted', () => statusOf(station), (s) => s?.['follow']?.['pending'] === rollout.id && refusedReason(s) === '');
    const posted = await postSample(serve.url, { containerId: 'MSCU1234567' });
    expect(posted.status).toBe(202);
    expect(((await awaitSample(serve.url, posted.json['id'] as string))['verdict'] as { modelId: string }).modelId).toBe(rollout.id);
    expect(serve.stderr()).not.toMatch(/internal error/);
    await admin.publishAsync('enose/models/SIM1', '', { qos: 1, retain: true });
    await admin.endAsync();
    expect(await serve.stop()).toBe(0);
    serves.splice(serves.indexOf(serve), 1);
  });
});
