/**
 * `enose calibrate --trusted-keys` (issue 24, item 3): like watch, serve, replay and evaluate, calibrate corrects
 * only a model a trusted key signed. With both shipped models: a signed model is calibrated (its output is a new
 * model, written); an unsigned, changed-after-signing or foreign-signed one is refused with one line, exit 2, and
 * no output file.
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPrivateKey, writeKeyPair, writeSignatureFile } from '../../src/io/keyFiles.js';
import { signModel } from '../../src/model/runtime/signature.js';
import { runEnose } from '../helpers/cli.js';
import { SHIPPED_MODELS } from '../helpers/models.js';
import { ensureBuilt } from '../helpers/pty.js';
import { REPO_ROOT } from '../helpers/shared.js';
import { lines, loadShipped, rehashed } from './modelAttack.js';

const dir = mkdtempSync(join(tmpdir(), 'enose-calibrate-trust-'));
const recording = join(dir, 'rec');
const key = (n: string) => join(dir, n);

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
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(SHIPPED_MODELS)('enose calibrate --trusted-keys ($name model)', ({ name, path }) => {
  const calibrate = (model: string, out: string) => runEnose(['calibrate', '--model', model, '--out', out, '--trusted-keys', key('release.pub'), recording]);

  it('calibrates a model signed by a trusted key', () => {
    const signed = join(dir, `${name}-signed.json.gz`);
    copyFileSync(join(REPO_ROOT, path), signed);
    signWith('release', signed);
    const out = join(dir, `${name}-signed-out.json.gz`);
    const run = calibrate(signed, out);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`\\(parent ${loadShipped(path).id}\\) written to `));
    expect(loadShipped(out).lineage?.parent).toBe(loadShipped(path).hash);
  });

  it('refuses an unsigned, changed or foreign-signed model in one line (exit 2), writing nothing', () => {
    const model = loadShipped(path);
    const unsigned = join(dir, `${name}-unsigned.json.gz`);
    copyFileSync(join(REPO_ROOT, path), unsigned);
    const foreign = join(dir, `${name}-foreign.json.gz`);
    copyFileSync(join(REPO_ROOT, path), foreign);
    signWith('other', foreign);
    const signed = join(dir, `${name}-to-change.json.gz`);
    copyFileSync(join(REPO_ROOT, path), signed);
    signWith('release', signed);
    const changed = join(dir, `${name}-changed.json`);
    rehashed(model, changed, (b) => (b['policy']['threshold'] = 0.999));
    writeFileSync(`${changed}.sig`, readFileSync(`${signed}.sig`));
    const cases = [
      { file: unsigned, reason: /refused: the model is not signed/ },
      { file: changed, reason: /refused: the model was changed after it was signed/ },
      { file: foreign, reason: /refused: the model is signed by key [0-9a-f]{16}, which is not a trusted key/ },
    ];
    for (const { file, reason } of cases) {
      const out = join(dir, `${name}-refused-out.json.gz`);
      const run = calibrate(file, out);
      expect(run.code, run.stderr).toBe(2);
      expect(lines(run.stderr), run.stderr).toHaveLength(1);
      expect(run.stderr).toMatch(/^enose calibrate: /);
      expect(run.stderr).toMatch(reason);
      expect(run.stderr).not.toMatch(/internal error|warning/);
      expect(existsSync(out)).toBe(false);
    }
  });
});
