/**
 * Bad use through the real CLI (issue 7, part 4): unknown options, missing and unreadable files, a model for
 * another channel layout, a port that does not exist when watch starts. Each gives exit code 2 and one line
 * on stderr, no stack trace, and leaves no half-written output under its final name.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { runEnose } from '../helpers/cli.js';

const MODEL = 'datasets/container-sim/exposure-model.json.gz';
const dir = mkdtempSync(join(tmpdir(), 'enose-baduse-'));

function expectOneLine(run: ReturnType<typeof runEnose>, ...patterns: RegExp[]): void {
  expect(run.code, run.stderr).toBe(2);
  expect(run.stderr.trimEnd().split('\n'), run.stderr).toHaveLength(1);
  expect(run.stderr).not.toMatch(/\n\s+at |Error:|node:internal/);
  for (const p of patterns) expect(run.stderr).toMatch(p);
}

/** A frames CSV with `channels` channels and two short cycles. */
function framesCsv(channels: number): string {
  const names = Array.from({ length: channels }, (_, i) => `s${i + 1}`);
  const rows = [`sample,label,t_s,phase,${names.join(',')}`];
  for (const s of ['c1', 'c2']) for (let t = 0; t < 40; t++) rows.push(`${s},,${t},${t < 10 ? 'B' : 'E'},${names.map((_, c) => 1000 + c + t).join(',')}`);
  return `${rows.join('\n')}\n`;
}

describe('bad use of the CLI: one line, exit code 2, no stack trace', () => {
  it.each([
    ['watch', ['watch', '--port', '/dev/null', '--model', MODEL, '--bogus']],
    ['replay', ['replay', 'x', '--model', MODEL, '--frobnicate']],
    ['emulate-rig', ['emulate-rig', '--no-such-option']],
    ['train', ['train', 'x.csv', '--out', join(dir, 'm.json'), '--what']],
    ['simulate', ['simulate', '--containers', '1', '--seed', '1', '--out', join(dir, 'sim'), '--nope']],
  ])('an unknown option to %s', (_name, args) => {
    expectOneLine(runEnose(args), /--(bogus|frobnicate|no-such-option|what|nope)/);
    expect(existsSync(join(dir, 'm.json'))).toBe(false);
    expect(existsSync(join(dir, 'sim'))).toBe(false);
  });

  it('a missing model file, to replay and to watch', () => {
    const csv = join(dir, 'ok.csv');
    writeFileSync(csv, framesCsv(18));
    expectOneLine(runEnose(['replay', csv, '--model', join(dir, 'absent.json')]), /absent\.json/);
    expectOneLine(runEnose(['watch', '--port', '/dev/null', '--model', join(dir, 'absent.json')]), /absent\.json/);
  });

  it('a model path that is a folder (unreadable as a file, even for root)', () => {
    const csv = join(dir, 'ok4.csv');
    writeFileSync(csv, framesCsv(18));
    expectOneLine(runEnose(['replay', csv, '--model', dir]), new RegExp(dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  });

  it('a missing recording to replay', () => {
    expectOneLine(runEnose(['replay', join(dir, 'no-such-recording'), '--model', MODEL]), /no-such-recording/);
  });

  it('an unreadable model file (chmod 000)', (ctx) => {
    const path = join(dir, 'locked.json');
    writeFileSync(path, readFileSync(MODEL));
    chmodSync(path, 0o000);
    let readable = false;
    try {
      readFileSync(path);
      readable = true;
    } catch {
      readable = false;
    }
    if (readable) {
      console.warn('SKIPPED: chmod 000 does not stop reads here (running as root, or a file system without modes): the unreadable-file case cannot be made');
      ctx.skip();
      return;
    }
    const csv = join(dir, 'ok2.csv');
    writeFileSync(csv, framesCsv(18));
    expectOneLine(runEnose(['replay', csv, '--model', path]), /locked\.json/);
  });

  it('a model for another channel layout (18-channel model, 8-channel data)', () => {
    const csv = join(dir, 'eight.csv');
    writeFileSync(csv, framesCsv(8));
    expectOneLine(runEnose(['replay', csv, '--model', MODEL]), /channel/i);
  });

  it('a model file that is not a model (truncated JSON, truncated gzip, another JSON)', () => {
    const text = gunzipSync(readFileSync(MODEL)).toString('utf8');
    const cut = join(dir, 'cut.json');
    writeFileSync(cut, text.slice(0, Math.floor(text.length / 2)));
    const csv = join(dir, 'ok3.csv');
    writeFileSync(csv, framesCsv(18));
    expectOneLine(runEnose(['replay', csv, '--model', cut]), /cut\.json.*not valid JSON/);
    const cutGz = join(dir, 'cut.json.gz');
    const bytes = readFileSync(MODEL);
    writeFileSync(cutGz, bytes.subarray(0, bytes.length >> 1));
    expectOneLine(runEnose(['replay', csv, '--model', cutGz]), /cut\.json\.gz.*gzip/);
    const other = join(dir, 'other.json');
    writeFileSync(other, '{"kind":"something-else","version":1}');
    expectOneLine(runEnose(['replay', csv, '--model', other]), /other\.json/);
  });

  it('a port that does not exist when watch starts: one line naming it, exit 2', () => {
    const record = join(dir, 'rec-noport');
    expectOneLine(runEnose(['watch', '--port', join(dir, 'ttyNONE'), '--model', MODEL, '--record', record]), /ttyNONE/);
  });

  // Found by this suite: watch used to create the --record folder before it opened the port.
  it('a port that does not exist when watch starts leaves no recording folder under its final name', () => {
    const record = join(dir, 'rec-noport-2');
    const run = runEnose(['watch', '--port', join(dir, 'ttyNONE'), '--model', MODEL, '--record', record]);
    expect(run.code).toBe(2);
    expect(existsSync(record)).toBe(false);
  });
});
