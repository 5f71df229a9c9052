/** A port another program holds when a command starts: one line naming it, exit 2, nothing recorded. */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { afterAll, describe, expect, it } from 'vitest';
import { runEnose } from '../helpers/cli.js';
import { haveSocat, startPty, type TestPty } from '../helpers/pty.js';

const MODEL = 'datasets/container-sim/exposure-model.json.gz';
let pty: TestPty | null = null;
let holder: SerialPort | null = null;
afterAll(async () => {
  await new Promise<void>((resolve) => (holder?.isOpen ? holder.close(() => resolve()) : resolve()));
  await pty?.close();
});

describe('a busy port', () => {
  it.skipIf(!haveSocat())('watch and monitor say the port is busy, in one line, exit 2, and record nothing', async () => {
    pty = await startPty();
    // Another program holds the port with serialport's exclusive lock.
    holder = new SerialPort({ path: pty.host, baudRate: 115200, autoOpen: false });
    await new Promise<void>((resolve, reject) => holder!.open((e) => (e ? reject(e) : resolve())));
    const record = join(mkdtempSync(join(tmpdir(), 'enose-busy-')), 'rec');
    for (const args of [
      ['watch', '--port', pty.host, '--model', MODEL, '--record', record],
      ['monitor', '--port', pty.host],
    ]) {
      const run = runEnose(args);
      expect(run.code, run.stderr).toBe(2);
      const lines = run.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/busy/);
      expect(lines[0]).toContain(pty.host);
    }
    expect(existsSync(record)).toBe(false);
  });
});
