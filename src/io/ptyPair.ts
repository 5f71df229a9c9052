/** A pseudo-terminal pair made by socat: the link between the rig emulator and the host (`enose monitor --port`). */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, unlinkSync } from 'node:fs';
import { EnoseError } from '../errors.js';

export interface PtyPair {
  readonly dir: string;
  /** The rig end (the emulator opens it). */
  readonly rig: string;
  /** The host end (`enose monitor --port <host>`). */
  readonly host: string;
  readonly alive: boolean;
  /** Kills socat (SIGTERM; it removes its links): the host end sees `close` with `disconnected`. */
  close(): Promise<void>;
  /** Starts socat again with the same link names (an unplugged rig plugged in again). */
  restart(): Promise<void>;
}

/**
 * Starts `socat -d -d pty,raw,echo=0,link=<dir>/rig pty,raw,echo=0,link=<dir>/host` and waits until both
 * links exist. Throws `EnoseError('port-error')` when socat is missing or fails.
 */
export async function createPtyPair(dir: string, options: { readonly timeoutMs?: number } = {}): Promise<PtyPair> {
  const rig = `${dir}/rig`;
  const host = `${dir}/host`;
  const timeoutMs = options.timeoutMs ?? 5000;
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();

  const start = async (): Promise<void> => {
    for (const link of [rig, host]) {
      try {
        if (lstatSync(link).isSymbolicLink()) unlinkSync(link); // stale, from a socat that was killed hard
      } catch {
        // absent: fine
      }
    }
    const proc = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${rig}`, `pty,raw,echo=0,link=${host}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    let stderr = '';
    proc.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString('latin1')).slice(-2000);
    });
    let failure: Error | null = null;
    let done = false;
    exited = new Promise<void>((resolve) => {
      proc.once('error', (error: NodeJS.ErrnoException) => {
        failure =
          error.code === 'ENOENT'
            ? new EnoseError('port-error', 'socat is not installed (Debian: apt-get install socat); or give --link <path> of a pty you made')
            : new EnoseError('port-error', `cannot start socat: ${error.message}`);
        done = true;
        resolve();
      });
      proc.once('exit', (code, signal) => {
        if (failure === null) {
          const lines = stderr.trim().split('\n');
          const last = lines.find((l) => / E /.test(l)) ?? lines.pop() ?? '';
          failure = new EnoseError('port-error', `socat ended (${signal ?? `exit ${code}`}) before its pty pair was ready${last ? `: ${last}` : ''}`);
        }
        done = true;
        resolve();
      });
    });
    const t0 = performance.now();
    while (!(existsSync(rig) && existsSync(host))) {
      if (done) throw failure!;
      if (performance.now() - t0 > timeoutMs) {
        proc.kill('SIGTERM');
        throw new EnoseError('port-error', `socat did not create ${rig} and ${host} within ${timeoutMs} ms`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  const close = async (): Promise<void> => {
    const proc = child;
    if (proc === null) return;
    child = null;
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    await exited;
  };

  await start();
  return {
    dir,
    rig,
    host,
    get alive() {
      const proc = child as ChildProcess | null;
      return proc !== null && proc.exitCode === null && proc.signalCode === null;
    },
    close,
    restart: async () => {
      await close();
      await start();
    },
  };
}
