/**
 * Options from the environment (ENOSE_<FLAG>, one mapping for serve and watch) and the service's JSON access
 * log: `enose serve` started with its options in the environment alone, with both shipped models; the access
 * log has one line per request and never the token.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envArguments, envName } from '../../src/cli/envOptions.js';
import { SERVE_OPTIONS } from '../../src/cli/serve.js';
import { WATCH_OPTIONS } from '../../src/cli/watch.js';
import { runEnose } from '../helpers/cli.js';
import { waitFor } from '../helpers/pty.js';
import { SHIPPED_MODELS } from '../helpers/models.js';
import { awaitSample, ensureServiceBuilt, postSample, startServe } from '../service/serveProcess.js';

describe('ENOSE_<FLAG> options', () => {
  it('every flag of serve and watch has its variable; the command line wins; booleans read 1/true/yes and 0/false/no', () => {
    for (const [command, options] of [['serve', SERVE_OPTIONS], ['watch', WATCH_OPTIONS]] as const) {
      for (const [flag, spec] of Object.entries(options)) {
        const env = { [envName(flag)]: spec.type === 'boolean' ? 'true' : 'v1' };
        expect(envArguments(command, options, [], env), `${command} --${flag}`).toEqual([spec.type === 'boolean' ? `--${flag}` : `--${flag}=v1`]);
        expect(envArguments(command, options, [`--${flag}${spec.type === 'boolean' ? '' : '=v2'}`], env), `${command} --${flag} on the command line`).toEqual([]);
      }
    }
    expect(envName('latency-budget-ms')).toBe('ENOSE_LATENCY_BUDGET_MS');
    expect(envArguments('serve', SERVE_OPTIONS, [], { ENOSE_ACCESS_LOG: '0' })).toEqual([]);
    expect(() => envArguments('serve', SERVE_OPTIONS, [], { ENOSE_ACCESS_LOG: 'sometimes' })).toThrow(/ENOSE_ACCESS_LOG="sometimes"/);
    // --port and --replay exclude each other: the environment's is used only when the command line names neither.
    const group = [['port', 'replay']] as const;
    expect(envArguments('serve', SERVE_OPTIONS, ['--replay', 'r'], { ENOSE_PORT: '/dev/ttyACM0' }, group)).toEqual([]);
    expect(envArguments('serve', SERVE_OPTIONS, [], { ENOSE_PORT: '/dev/ttyACM0' }, group)).toEqual(['--port=/dev/ttyACM0']);
  });

  it('a bad value from the environment is reported like a bad flag', () => {
    const r = runEnose(['serve', '--model', 'x.json'], { env: { ENOSE_LISTEN: 'nohost:99999', ENOSE_REPLAY: 'nowhere' } });
    expect(r.code).toBe(2);
  });
});

const TOKEN = 'env-token-123456';
const dir = mkdtempSync(join(tmpdir(), 'enose-serve-env-'));
const recording = join(dir, 'rec');
beforeAll(() => {
  ensureServiceBuilt();
  expect(runEnose(['simulate', '--containers', '2', '--seed', '5', '--start-day', '22', '--out', recording]).code).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(SHIPPED_MODELS)('enose serve configured by the environment ($name model)', ({ path }) => {
  it('runs from ENOSE_* alone; the access log has one JSON line per request and never the token', async () => {
    const serve = await startServe([], { ENOSE_REPLAY: recording, ENOSE_MODEL: path, ENOSE_SPEED: 'max', ENOSE_TOKEN: TOKEN, ENOSE_STATION: 'quay-9', ENOSE_ACCESS_LOG: '1' });
    try {
      const bearer = { authorization: `Bearer ${TOKEN}` };
      expect((await fetch(`${serve.url}/v1/health`)).status).toBe(401);
      const started = await postSample(serve.url, { containerId: 'MSCU7654321' }, bearer);
      expect(started.status).toBe(202);
      const done = await awaitSample(serve.url, started.json['id'] as string, bearer);
      expect((done['verdict'] as { station: string }).station).toBe('quay-9');
      expect((await fetch(`${serve.url}/login?token=${TOKEN}`, { redirect: 'manual' })).status).toBe(303);
      // The access line of the last request comes on stderr shortly after its answer: waited for, not slept for.
      await waitFor(() => serve.stderr().includes('"path":"/login"'), 'the access line of /login');
      const lines = serve
        .stderr()
        .split('\n')
        .filter((l) => l.startsWith('{"type":"access"'))
        .map((l) => JSON.parse(l) as { method: string; path: string; status: number; route: string; time: string; ms: number });
      expect(lines.find((l) => l.path === '/v1/health')).toMatchObject({ method: 'GET', status: 401, route: 'health' });
      expect(lines.find((l) => l.method === 'POST')).toMatchObject({ path: '/v1/samples', status: 202, route: 'samples' });
      expect(lines.find((l) => l.path === '/login')).toMatchObject({ status: 303, route: 'login' });
      expect(lines.every((l) => Number.isFinite(Date.parse(l.time)) && l.ms >= 0)).toBe(true);
      expect(serve.stderr()).not.toContain(TOKEN);
    } finally {
      expect(await serve.stop()).toBe(0);
    }
  });
});
