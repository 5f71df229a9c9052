/**
 * The package as a consumer gets it: `npm pack`, installed from the tarball into a fresh project (offline,
 * from npm's cache, with a lockfile made from this package's own), then, from that project, `import {
 * createSerialSource, createEngine } from 'enose'` opens a rig (the rig emulator as its own process on a socat
 * pty) and receives verdicts, with each shipped model as the package ships it. The program is the docs'
 * embedding example, type-checked against the installed package's types.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, haveSocat, startEmulator, startPty } from '../helpers/pty.js';
import { SHIPPED_MODELS } from '../helpers/models.js';
import { REPO_ROOT } from '../helpers/shared.js';
import { compileSnippets, markdownSnippets } from '../helpers/snippets.js';

const socat = haveSocat();
const work = mkdtempSync(join(tmpdir(), 'enose-consumer-'));
const consumer = join(work, 'consumer');
afterAll(() => rmSync(work, { recursive: true, force: true }));

const npm = (args: readonly string[], cwd: string) => spawnSync('npm', [...args], { cwd, encoding: 'utf8', timeout: 180_000 });

/** A lockfile for the consumer: the tarball, and this package's own runtime dependencies as it locks them. */
function consumerLock(tgz: string): void {
  const own = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string>; engines: Record<string, string> };
  const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  const integrity = `sha512-${createHash('sha512').update(readFileSync(join(work, tgz))).digest('base64')}`;
  const spec = `file:../${tgz}`;
  const packages: Record<string, unknown> = {
    '': { name: 'consumer', dependencies: { enose: spec } },
    'node_modules/enose': { version: own.version, resolved: spec, integrity, dependencies: own.dependencies, bin: { enose: 'dist/cli/main.js' }, engines: own.engines },
  };
  for (const [key, entry] of Object.entries(lock.packages)) if (key.startsWith('node_modules/') && !entry.dev) packages[key] = entry;
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: { enose: spec } }, null, 2));
  writeFileSync(join(consumer, 'package-lock.json'), JSON.stringify({ name: 'consumer', lockfileVersion: 3, requires: true, packages }, null, 1));
}

beforeAll(() => {
  ensureBuilt();
  const pack = npm(['pack', '--pack-destination', work, '--silent'], REPO_ROOT);
  expect(pack.status, pack.stderr).toBe(0);
  const tgz = readdirSync(work).find((f) => f.endsWith('.tgz'))!;
  mkdirSync(consumer);
  consumerLock(tgz);
  const install = npm(['ci', '--no-audit', '--no-fund', '--offline'], consumer);
  expect(install.status, `npm ci --offline in the consumer project failed (npm's cache lacks a dependency?):\n${install.stderr}`).toBe(0);
});

describe('a consumer project that installed the packed package', () => {
  it('imports the rig API by the package name, requires it (Node >= 20.19), and cannot reach past the exports map', () => {
    const imported = spawnSync(process.execPath, ['--input-type=module', '-e', "import { createSerialSource, createEngine, openReplayRig } from 'enose'; console.log([createSerialSource, createEngine, openReplayRig].map((f) => typeof f).join())"], { cwd: consumer, encoding: 'utf8' });
    expect(imported.stdout.trim(), imported.stderr).toBe('function,function,function');
    const required = spawnSync(process.execPath, ['-e', "const e = require('enose'); console.log(typeof e.createSerialSource, typeof e.createEngine)"], { cwd: consumer, encoding: 'utf8' });
    expect(required.stdout.trim(), required.stderr).toBe('function function');
    const deep = spawnSync(process.execPath, ['--input-type=module', '-e', "import 'enose/dist/io/serial.js'"], { cwd: consumer, encoding: 'utf8' });
    expect(deep.stderr).toMatch(/ERR_PACKAGE_PATH_NOT_EXPORTED/);
  });

  describe.skipIf(!socat).each(SHIPPED_MODELS)('the docs example over a socat pty with the $name model', ({ path }) => {
    it('opens the emulated rig with createSerialSource and prints the verdict of the container it started', async () => {
      const [js] = compileSnippets(markdownSnippets('docs/embedding.md'), join(consumer, 'example'));
      const pty = await startPty();
      const rig = startEmulator(['--link', pty.rig, '--sim-seed', '4', '--sim-start-day', '22', '--containers', '2', '--speed', '40']);
      try {
        const child = spawn(process.execPath, [js!], {
          cwd: consumer,
          env: { ...process.env, ENOSE_PORT: pty.host, ENOSE_MODEL: join(consumer, 'node_modules', 'enose', path) },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
        child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
        const code = await new Promise<number | null>((resolve) => {
          const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
          // 'close', not 'exit': the verdict line can still be in the pipe when the example exits.
          child.once('close', (c) => {
            clearTimeout(timer);
            resolve(c);
          });
        });
        expect(code, `the example exited with ${code}:\n${err}`).toBe(0);
        // station (the example names it), wall-clock time, the container id it started, and a verdict.
        expect(out).toMatch(/^quay-7 \d{4}-\d\d-\d\dT\S+Z MSCU1234567 (suspicious|clear|inconclusive) /m);
      } finally {
        await rig.stop();
        await pty.close();
      }
    });
  });
});
