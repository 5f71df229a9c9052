/**
 * A real mosquitto broker for a test: its own temp config on a free loopback port (never anything but
 * 127.0.0.1), persistence in the test's folder, killed and restarted on demand. Tests skip with a printed
 * SKIPPED line where mosquitto is not installed (`haveMosquitto`).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';

const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => spawnSync('test', ['-x', p]).status === 0) ?? null;

/** True when mosquitto and its clients are installed; otherwise prints why the caller skips. */
export function haveMosquitto(what = 'broker tests'): boolean {
  const clients = spawnSync('sh', ['-c', 'command -v mosquitto_sub && command -v mosquitto_passwd'], { stdio: 'ignore' }).status === 0;
  if (MOSQUITTO && clients) return true;
  console.warn(`SKIPPED: ${what}: mosquitto / mosquitto-clients not installed (apt-get install mosquitto mosquitto-clients)`);
  return false;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface Broker {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  /** Stops it (SIGTERM: mosquitto writes its persistence file; SIGKILL: it does not) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port with the same config and persistence. */
  start(): Promise<void>;
  log(): string;
}

export interface BrokerOptions {
  /** Lines added to the config (e.g. `password_file ...`, `acl_file ...`); default allows anonymous clients. */
  readonly extra?: readonly string[];
  readonly port?: number;
}

/** Starts mosquitto with `listener <port> 127.0.0.1` and persistence under `dir`. */
export async function startBroker(dir: string, options: BrokerOptions = {}): Promise<Broker> {
  if (!MOSQUITTO) throw new Error('mosquitto is not installed');
  mkdirSync(join(dir, 'db'), { recursive: true });
  const port = options.port ?? (await freePort());
  const conf = join(dir, 'mosquitto.conf');
  const extra = options.extra ?? ['allow_anonymous true'];
  // Started as root, mosquitto drops to the `mosquitto` user, which cannot read the test's private temp folder.
  const user = process.getuid?.() === 0 ? ['user root'] : [];
  writeFileSync(conf, [...user, `listener ${port} 127.0.0.1`, 'persistence true', `persistence_location ${join(dir, 'db')}/`, 'log_dest stderr', 'log_type error', 'log_type warning', ...extra, ''].join('\n'));
  let proc: ChildProcess | null = null;
  let output = '';
  const broker: Broker = {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    dir,
    log: () => output,
    async start() {
      proc = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
      proc.stdout!.on('data', (d: Buffer) => (output += d.toString()));
      proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
      for (let i = 0; i < 200; i++) {
        if (proc.exitCode !== null) throw new Error(`mosquitto exited at start: ${output}`);
        if (await accepts(port)) return;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(`mosquitto did not listen on ${port} within 5 s: ${output}`);
    },
    async stop(signal = 'SIGTERM') {
      const p = proc;
      if (!p || p.exitCode !== null || p.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
      p.kill(signal);
      const timer = setTimeout(() => p.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
  await broker.start();
  return broker;
}

/** The retained status of a station on the broker at `port`, as an independent subscriber (`mosquitto_sub`) reads it. */
export function retainedStatus(port: number, station: string): Record<string, unknown> | null {
  const r = spawnSync('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(port), '-t', `enose/${station}/status`, '-C', '1', '-W', '2'], { encoding: 'utf8' });
  return r.stdout.trim() === '' ? null : (JSON.parse(r.stdout.trim()) as Record<string, unknown>);
}

/** A clear verdict event of sample `sample`, as a station hands it to its link (fleet tests without an engine). */
export function clearVerdictEvent(sample: string) {
  return {
    type: 'verdict' as const,
    atMs: 0,
    sample,
    verdict: 'clear' as const,
    class: 'clear',
    probabilities: { clear: 0.99, cocaine: 0.01 },
    score: 0.01,
    reasons: ['clear-class' as const],
    quality: { framesB: 300, framesE: 600, lostFrames: 0, lostShare: 0, maxGapS: 0.1, cut: null, channels: [], novelty: 0.3 },
    modelId: 'm0',
    latencyMs: 0.2,
    frames: { first: 0, last: 899, count: 900 },
  };
}
