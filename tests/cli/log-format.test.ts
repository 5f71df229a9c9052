/**
 * `--log-format json` (pino) of `enose serve` and `enose fleet`: every line on stderr is one JSON object with
 * level, time, msg and command; warnings at level 40; a fleet station's lines name the station; the access log
 * (`--access-log`) goes through the same logger with type "access"; the access token (from a mode-600 token
 * file, sent both as `/login?token=` and as `Authorization: Bearer`) and the broker password are in no line.
 * Real processes, both shipped models, a real mosquitto for the station and the centre. The default, text,
 * is covered by the tests that have always read serve's and fleet's stderr (serve-env, rig-mismatch, ...).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandLog, lineFields, logFormatFromArgs, scrubMessage } from '../../src/cli/logger.js';
import type { CommandContext } from '../../src/cli/args.js';
import type { AccessRecord } from '../../src/service/accessRecord.js';
import { runEnose } from '../helpers/cli.js';
import { SHIPPED_MODELS } from '../helpers/models.js';
import { haveMosquitto, startBroker, type Broker } from '../helpers/mosquitto.js';
import { haveSocat, startEmulator, waitFor } from '../helpers/pty.js';
import { CLI, REPO_ROOT } from '../helpers/shared.js';
import { awaitSample, ensureServiceBuilt, postSample, startServe } from '../service/serveProcess.js';

const TOKEN = 'log-token-never-logged-5519';
const MQTT_PASSWORD = 'mqtt-password-never-logged-8802';
const dir = mkdtempSync(join(tmpdir(), 'enose-log-format-'));
const recording = join(dir, 'rig7');
const tokenFile = join(dir, 'token');
const have = haveMosquitto('log lines of a fleet station and of enose fleet');
let broker: Broker | null = null;

interface LogLine {
  readonly level: number;
  readonly time: number;
  readonly msg: string;
  readonly command: string;
  readonly [field: string]: unknown;
}

/** Every non-empty line parsed as a pino line (throws, naming the line, when one is not). */
function logLines(stderr: string): LogLine[] {
  return stderr
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const line = JSON.parse(l) as LogLine;
      expect(line, l).toMatchObject({ level: expect.any(Number), time: expect.any(Number), msg: expect.any(String), command: expect.any(String) });
      return line;
    });
}

function memoryCtx(): { ctx: CommandContext; text: () => string } {
  let text = '';
  return { ctx: { stdout: () => undefined, stderr: (t) => (text += t), isTty: false, signal: new AbortController().signal }, text: () => text };
}

beforeAll(async () => {
  ensureServiceBuilt();
  // Rig seed 7: not the shipped models' rig (SIM1), so serve warns once (rig-mismatch).
  const sim = runEnose(['simulate', '--containers', '2', '--seed', '7', '--rig-seed', '7', '--out', recording]);
  expect(sim.code, sim.stderr).toBe(0);
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  if (have) broker = await startBroker(join(dir, 'broker'));
});

afterAll(async () => {
  await broker?.stop('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('the log of a command (unit)', () => {
  it('maps a text line to level, message and fields; text stays as it is', () => {
    expect(lineFields('serve', 'enose serve: warning: the rig is SIM7', 'q1')).toEqual({ level: 'warn', msg: 'the rig is SIM7', fields: {} });
    expect(lineFields('serve', 'enose serve: fleet: connected to mqtt://h:1883 as station q1', 'q1')).toEqual({ level: 'info', msg: 'connected to mqtt://h:1883 as station q1', fields: { station: 'q1' } });
    expect(lineFields('fleet', 'enose fleet: stopped', undefined)).toEqual({ level: 'info', msg: 'stopped', fields: {} });
    const text = memoryCtx();
    const log = commandLog('serve', 'text', text.ctx);
    log.ctx.stderr('enose serve: warning: as before\n');
    expect(text.text()).toBe('enose serve: warning: as before\n');
    expect(logFormatFromArgs({ values: {}, positionals: [] })).toBe('text');
    expect(() => logFormatFromArgs({ values: { 'log-format': 'xml' }, positionals: [] })).toThrow(/text or json/);
  });

  it('json: censors a secret that reaches a line anyway (a header in a record, a URL password, a token query)', () => {
    const json = memoryCtx();
    const log = commandLog('serve', 'json', json.ctx);
    const record = { method: 'GET', path: '/v1/health', route: 'health', status: 200, ms: 1, authorization: `Bearer ${TOKEN}`, headers: { cookie: `s=${TOKEN}` } };
    log.access(record as AccessRecord);
    log.ctx.stderr(`enose serve: fleet: broker: cannot reach mqtt://user:${MQTT_PASSWORD}@h/?token=${TOKEN}\n`);
    const lines = logLines(json.text());
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ type: 'access', level: 30, authorization: '[Redacted]', headers: { cookie: '[Redacted]' }, path: '/v1/health' });
    expect(json.text()).not.toContain(TOKEN);
    expect(json.text()).not.toContain(MQTT_PASSWORD);
    expect(scrubMessage('Authorization: Bearer abc.def')).toBe('Authorization: Bearer [Redacted]');
  });
});

describe.each(SHIPPED_MODELS)('enose serve --log-format json ($name model)', ({ name, path }) => {
  it('every stderr line is pino JSON; access lines of type access; the warning at level 40; no secret', async () => {
    const station = `log-${name}`;
    const mqtt = broker ? ['--mqtt', broker.url, '--station', station, '--ack', 'broker', '--spool', join(dir, `${station}.jsonl`)] : [];
    if (!broker) console.warn('SKIPPED: the station lines of serve --mqtt: mosquitto not installed');
    const serve = await startServe(['--replay', recording, '--model', path, '--speed', 'max', '--log-format', 'json', '--access-log', '--token-file', tokenFile, ...mqtt], { ENOSE_MQTT_USERNAME: station, ENOSE_MQTT_PASSWORD: MQTT_PASSWORD });
    let code: number | null = null;
    try {
      const bearer = { authorization: `Bearer ${TOKEN}` };
      const started = await postSample(serve.url, { containerId: 'MSCU7654321' }, bearer);
      expect(started.status).toBe(202);
      await awaitSample(serve.url, started.json['id'] as string, bearer);
      expect((await fetch(`${serve.url}/login?token=${TOKEN}`, { redirect: 'manual' })).status).toBe(303);
      await waitFor(() => serve.stderr().includes('"path":"/login"'), 'the access line of /login');
      await waitFor(() => serve.stderr().includes('"level":40'), `the rig warning (stderr: ${serve.stderr()})`, 60_000);
      if (broker) await waitFor(() => serve.stderr().includes(`"station":"${station}"`), `a station line (stderr: ${serve.stderr()})`, 60_000);
    } finally {
      code = await serve.stop();
    }
    expect(code).toBe(0);
    const lines = logLines(serve.stderr());
    expect(lines.every((l) => l.command === 'serve')).toBe(true);
    const access = lines.filter((l) => l.type === 'access');
    expect(access.find((l) => l.path === '/login')).toMatchObject({ level: 30, method: 'GET', status: 303, route: 'login' });
    expect(access.find((l) => l.method === 'POST')).toMatchObject({ path: '/v1/samples', status: 202, route: 'samples' });
    expect(access.every((l) => typeof l.ms === 'number' && !String(l.path).includes('?'))).toBe(true);
    const warnings = lines.filter((l) => l.level === 40);
    expect(warnings.filter((l) => /rig-mismatch/.test(l.msg))).toHaveLength(1);
    expect(warnings.every((l) => !l.msg.startsWith('enose serve:') && !l.msg.startsWith('warning:'))).toBe(true);
    if (broker) expect(lines.find((l) => l.station === station && /connected to .* as station/.test(l.msg))).toBeDefined();
    expect(lines.at(-1)).toMatchObject({ level: 30, msg: 'stopped' });
    expect(serve.stderr()).not.toContain(TOKEN);
    expect(serve.stderr()).not.toContain(MQTT_PASSWORD);
    expect(serve.stdout()).not.toContain(TOKEN);
  });
});

describe.each(SHIPPED_MODELS)('enose watch --log-format json on a rig over a pty ($name model)', ({ name, path }) => {
  it.runIf(have && haveSocat())('logs pino JSON lines; its fleet lines name the station', async () => {
    const station = `watch-log-${name}`;
    const emu = startEmulator(['--sim-seed', '3', '--containers', '4', '--sim-start-day', '22', '--speed', '50', '--auto-cycle']);
    try {
      const device = (await emu.waitForLine(/^device: /)).slice('device: '.length);
      const watch = spawn(process.execPath, [CLI, 'watch', '--port', device, '--model', path, '--log-format', 'json', '--mqtt', broker!.url, '--station', station, '--ack', 'broker', '--spool', join(dir, `${station}.jsonl`)], {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, ENOSE_MQTT_USERNAME: station, ENOSE_MQTT_PASSWORD: MQTT_PASSWORD },
      });
      let err = '';
      watch.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      const exited = new Promise<number | null>((r) => watch.once('close', (code) => r(code)));
      try {
        await waitFor(() => err.includes(`"station":"${station}"`), `a station line (stderr: ${err})`, 60_000);
      } finally {
        watch.kill('SIGINT');
      }
      expect(await exited, err).toBe(0);
      const lines = logLines(err);
      expect(lines.every((l) => l.command === 'watch')).toBe(true);
      expect(lines.find((l) => l.station === station && /connected to .* as station/.test(l.msg))).toMatchObject({ level: 30 });
      expect(err).not.toContain(MQTT_PASSWORD);
    } finally {
      await emu.stop();
    }
  });
});

describe('the error that ends a run', () => {
  it('comes as one JSON line at level 50 with its code (json), as the text line it was (text)', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as AddressInfo).port;
    try {
      const args = ['serve', '--replay', recording, '--model', SHIPPED_MODELS[1]!.path, '--listen', `127.0.0.1:${port}`];
      const json = runEnose([...args, '--log-format', 'json']);
      expect(json.code).toBe(2);
      const lines = logLines(json.stderr);
      expect(lines.at(-1)).toMatchObject({ level: 50, code: 'bad-option', command: 'serve', msg: `cannot listen on 127.0.0.1:${port}: EADDRINUSE` });
      const text = runEnose(args);
      expect(text.code).toBe(2);
      expect(text.stderr.trim().split('\n').at(-1)).toBe(`enose serve: cannot listen on 127.0.0.1:${port}: EADDRINUSE`);
    } finally {
      busy.close();
    }
  });
});

describe('enose fleet with ENOSE_LOG_FORMAT=json', () => {
  it.runIf(have)('logs pino JSON lines, its access log among them, and never the token', async () => {
    const proc = spawn(process.execPath, [CLI, 'fleet', '--mqtt', broker!.url, '--listen', '127.0.0.1:0', '--data', join(dir, 'centre'), '--access-log', '--token-file', tokenFile], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ENOSE_LOG_FORMAT: 'json' },
    });
    let out = '';
    let err = '';
    proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => proc.once('close', (c) => resolve(c)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        proc.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /listening on (http:\/\/\S+)/.exec(out);
          if (m) resolve(m[1]!);
        });
        void exited.then((c) => reject(new Error(`enose fleet exited with ${c}: ${err}`)));
      });
      expect((await fetch(`${url}/v1/stations`)).status).toBe(401);
      expect((await fetch(`${url}/v1/stations`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
      expect((await fetch(`${url}/login?token=${TOKEN}`, { redirect: 'manual' })).status).toBe(303);
      await waitFor(() => err.includes('"path":"/login"'), `the access line of /login (stderr: ${err})`);
    } finally {
      if (proc.exitCode === null) proc.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    const lines = logLines(err);
    expect(lines.every((l) => l.command === 'fleet')).toBe(true);
    const access = lines.filter((l) => l.type === 'access');
    expect(access.filter((l) => l.path === '/v1/stations').map((l) => l.status)).toEqual([401, 200]);
    expect(access.find((l) => l.path === '/login')).toMatchObject({ level: 30, method: 'GET', status: 303, route: '/login' });
    expect(lines.at(-1)).toMatchObject({ level: 30, msg: 'stopped' });
    expect(err).not.toContain(TOKEN);
  });
});
