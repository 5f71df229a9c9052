import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Every temporary file of a test run goes under one folder, removed when the run ends: the test processes and
 * every child they start (the CLI, socat, mosquitto, Chromium) inherit TMPDIR, so `os.tmpdir()` points there.
 * Without it, tests that make a folder and leave it (a failing test, or one that keeps its output for a look)
 * filled /tmp: 750 folders after ten runs.
 */
export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'enose-test-run-'));
  process.env['TMPDIR'] = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
