/**
 * Crafted model files (issue 24, items 2 and 3): decompression bombs, huge and deep JSON, settings out of their
 * bounds in a model whose hash was recomputed, a policy that clears every class, and sizes that disagree. Each
 * is refused with one line and exit 2: no crash, no internal error, no verdict, and the child's peak memory
 * under MEMORY_BOUND_MB. Both shipped models, through `enose replay` as a user runs it.
 */
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGzip, gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL_SIZE_LIMITS } from '../../src/io/modelBytes.js';
import { readModelFile } from '../../src/io/modelFile.js';
import { parseBundle } from '../../src/model/runtime/bundle.js';
import { runEnose } from '../helpers/cli.js';
import { SHIPPED_MODELS } from '../helpers/models.js';
import { ensureBuilt } from '../helpers/pty.js';
import { REPO_ROOT } from '../helpers/shared.js';
import { lines, loadShipped, rehashed, runMeasured } from './modelAttack.js';

/** Peak memory of a process refusing a crafted file: the bounds keep it here (the attacks took 4 to 6.4 GB). */
const MEMORY_BOUND_MB = 512;
const MIB = 1024 * 1024;
const dir = mkdtempSync(join(tmpdir(), 'enose-model-files-'));
const recording = join(dir, 'rec');

beforeAll(() => {
  ensureBuilt();
  // Rig seed 1 (the shipped models' rig): 8 containers, among them suspicious ones the models flag.
  const sim = runEnose(['simulate', '--containers', '8', '--seed', '7', '--rig-seed', '1', '--start-day', '22', '--out', recording]);
  expect(sim.code, sim.stderr).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes `parts()` gzip-compressed (level 1) to `path`, streaming: the text itself may be larger than memory allows. */
async function gzipStream(path: string, parts: () => Iterable<string | Buffer>): Promise<void> {
  const gz = createGzip({ level: 1 });
  const out = createWriteStream(path);
  gz.pipe(out);
  for (const p of parts()) if (!gz.write(p)) await new Promise<void>((r) => gz.once('drain', () => r()));
  gz.end();
  await new Promise<void>((r) => out.once('finish', () => r()));
}

/** A refusal as the user sees it: exit 2, one line on stderr naming the file, nothing on stdout, bounded memory. */
function expectRefused(run: ReturnType<typeof runMeasured>, path: string, reason: RegExp): void {
  expect(run.signal, run.stderr).toBeNull();
  expect(run.code, run.stderr).toBe(2);
  expect(lines(run.stderr), run.stderr).toHaveLength(1);
  expect(run.stderr).toContain(path);
  expect(run.stderr).toMatch(reason);
  expect(run.stderr).not.toMatch(/internal error/);
  expect(lines(run.stdout).filter((l) => /: (clear|suspicious|inconclusive),/.test(l))).toEqual([]);
  expect(run.maxRssMb).toBeLessThan(MEMORY_BOUND_MB);
  console.log(`refused ${path.slice(dir.length + 1)}: peak memory ${run.maxRssMb.toFixed(0)} MB`);
}

describe('model files are read within bounds', () => {
  it('a gzip of zeros larger than the bound is refused naming the bound (not "empty file"), memory bounded', () => {
    const path = join(dir, 'zeros.json.gz');
    writeFileSync(path, gzipSync(Buffer.alloc(160 * MIB), { level: 1 }));
    const run = runMeasured(['replay', recording, '--model', path]);
    expectRefused(run, path, /decompresses to more than the 128 MiB a model may hold/);
  });

  it('a 1-2 MB gzip holding a 200 M-element array (the attack that killed V8) is refused, memory bounded', async () => {
    const path = join(dir, 'array.json.gz');
    const chunk = Buffer.from('0,'.repeat(1_000_000));
    await gzipStream(path, function* () {
      yield '{"kind":"enose-model","version":1,"pad":[';
      for (let i = 0; i < 200; i++) yield chunk;
      yield '0]}';
    });
    const run = runMeasured(['replay', recording, '--model', path]);
    expectRefused(run, path, /128 MiB/);
  });

  it('JSON within the size bound but with more values than a model holds is refused before it is parsed', async () => {
    const path = join(dir, 'values.json.gz');
    const chunk = Buffer.from('0,'.repeat(1_000_000));
    await gzipStream(path, function* () {
      yield '{"kind":"enose-model","version":1,"id":"0","hash":"0","classifier":{"type":"knn","k":1,"labels":[0],"points":[';
      for (let i = 0; i < 40; i++) yield chunk;
      yield '0]}}';
    });
    const run = runMeasured(['replay', recording, '--model', path]);
    expectRefused(run, path, new RegExp(`more than ${MODEL_SIZE_LIMITS.maxJsonValues} JSON values`));
  });

  it('JSON nested 200,000 deep inside a valid model is refused (it used to overflow the stack: internal error)', () => {
    const path = join(dir, 'deep.json.gz');
    const text = gunzipSync(readFileSync(join(REPO_ROOT, SHIPPED_MODELS[0]!.path))).toString('utf8');
    const depth = 200_000;
    const deep = text.replace('"options":{', `"options":{"deep":${'['.repeat(depth)}${']'.repeat(depth)},`);
    expect(deep.length).toBeGreaterThan(text.length);
    writeFileSync(path, gzipSync(deep));
    const run = runMeasured(['replay', recording, '--model', path]);
    expectRefused(run, path, /nested deeper than 32 levels/);
  });

  it('a plain file larger than the file bound is refused before it is read', () => {
    const path = join(dir, 'large.json');
    writeFileSync(path, Buffer.alloc(MODEL_SIZE_LIMITS.maxFileBytes + 1, 0x20));
    const run = runMeasured(['replay', recording, '--model', path]);
    expectRefused(run, path, /larger than the 128 MiB a model may be/);
  });
});

/** The settings of issue 24 that crashed the engine, exhausted it or changed a verdict. */
const OUT_OF_RANGE: readonly { setting: string; value: number; reason: RegExp }[] = [
  { setting: 'windowCount', value: 1e9, reason: /windowCount is 1000000000, expected an integer in \[1, 64\]/ },
  { setting: 'maxExposureFrames', value: 1e9, reason: /maxExposureFrames is 1000000000, expected an integer in \[1, 262144\]/ },
  { setting: 'slopeWindowS', value: 1e308, reason: /slopeWindowS is 1e\+308, expected in \[0\.01, 600\] s/ },
  { setting: 'windowS', value: 1e-300, reason: /windowS is 1e-300, expected 0 or in \[0\.1, 3600\] s/ },
];

describe.each(SHIPPED_MODELS)('settings checked for meaning ($name model)', ({ name, path }) => {
  const verdictsOf = (stdout: string) =>
    new Map(
      lines(stdout)
        .map((l) => /^(\S+): (clear|suspicious|inconclusive),.*\[label (\S+)\]$/.exec(l))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => [m[1]!, { verdict: m[2]!, label: m[3]! }]),
    );

  // The shipped model's own verdicts on the recording, run once (any test of this model may be the first).
  let original: Map<string, { verdict: string; label: string }> | null = null;
  const originalVerdicts = () => {
    if (original) return original;
    const run = runEnose(['replay', recording, '--model', path]);
    expect(run.code, run.stderr).toBe(0);
    return (original = verdictsOf(run.stdout));
  };
  it('the shipped model itself loads and judges the recording (the bounds admit it)', () => {
    expect(originalVerdicts().size).toBe(8);
  });

  for (const { setting, value, reason } of OUT_OF_RANGE) {
    it(`${setting}: ${value} with a recomputed hash is refused in one line; no verdict, so none turns clear`, () => {
      const model = loadShipped(path);
      const out = join(dir, `${name}-${setting}.json`);
      rehashed(model, out, (b) => (b['input']['extractor'][setting] = value));
      const run = runMeasured(['replay', recording, '--model', out]);
      expectRefused(run, out, reason);
      // The suspicious containers the model flags stay unjudged: none of them is cleared by the crafted file.
      const flagged = [...originalVerdicts()].filter(([, v]) => v.verdict === 'suspicious' && v.label !== 'clear');
      expect(flagged.length).toBeGreaterThan(0);
      const crafted = verdictsOf(run.stdout);
      for (const [sample] of flagged) expect(crafted.get(sample)?.verdict).not.toBe('clear');
    });
  }

  it('a policy under which every class is clear is refused, and accepted only with --allow-no-suspicious-class', () => {
    const model = loadShipped(path);
    const allClear = join(dir, `${name}-all-clear.json`);
    rehashed(model, allClear, (b) => (b['policy']['labels'] = [...model.classes]));
    expectRefused(runMeasured(['replay', recording, '--model', allClear]), allClear, /policy makes no class suspicious.*--allow-no-suspicious-class/);
    const noneListed = join(dir, `${name}-none-suspicious.json`);
    rehashed(model, noneListed, (b) => (b['policy'] = { ...b['policy'], rule: 'suspicious-listed', labels: [] }));
    expectRefused(runMeasured(['replay', recording, '--model', noneListed]), noneListed, /policy makes no class suspicious/);
    const unknownLabel = join(dir, `${name}-unknown-label.json`);
    rehashed(model, unknownLabel, (b) => (b['policy'] = { ...b['policy'], rule: 'suspicious-listed', labels: ['nothing-known'] }));
    expectRefused(runMeasured(['replay', recording, '--model', unknownLabel]), unknownLabel, /policy label "nothing-known" is not one of the model's classes/);
    // Asked for explicitly: it loads, and clears what the shipped model flags (which is why it needs asking).
    const allowed = runEnose(['replay', recording, '--model', allClear, '--allow-no-suspicious-class']);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect([...verdictsOf(allowed.stdout).values()].some((v) => v.verdict === 'suspicious')).toBe(false);
  });
});

describe('sizes that disagree and settings outside their bounds (parseBundle)', () => {
  const model = loadShipped(SHIPPED_MODELS[0]!.path);
  const check = (change: (b: Record<string, any>) => void) => {
    const out = join(dir, 'check.json');
    rehashed(model, out, change);
    const read = readModelFile(out);
    return read.ok ? 'accepted' : read.error.reason;
  };

  it('refuses scaler, PCA and classifier sizes that disagree with the feature count', () => {
    expect(check((b) => b['scaler']['mean'].pop())).toMatch(/scaler has 219 features, input has 220/);
    expect(check((b) => (b['pca']['width'] = 221))).toMatch(/pca width 221 != 220 features/);
    expect(check((b) => b['classifier']['networks'][0]['layers'][0]['bias'].pop())).toMatch(/weights or bias do not match/);
  });

  it('refuses quality limits and extractor settings without meaning', () => {
    expect(check((b) => (b['limits']['gates']['maxRailShare'] = 2))).toMatch(/maxRailShare is 2, expected a share in \[0, 1\]/);
    expect(check((b) => (b['limits']['gates']['railLow'] = 2e9))).toMatch(/railLow is not below railHigh/);
    expect(check((b) => (b['input']['extractor']['emaAlphas'] = [0, 0.1]))).toMatch(/emaAlphas/);
    expect(check((b) => (b['input']['extractor']['response'] = 'sqrt'))).toMatch(/response is "sqrt"/);
    expect(check((b) => (b['input']['extractor']['windowS'] = 1000))).toMatch(/windowS x windowCount cover 6000 s/);
    expect(check((b) => (b['input']['extractor']['future'] = 1))).toMatch(/unknown extractor setting "future"/);
    expect(check((b) => (b['input']['extractor']['dropChannels'] = ['nope']))).toMatch(/dropChannels names "nope"/);
    expect(check(() => undefined)).toBe('accepted');
  });

  it('the schema bounds every array: a class list longer than any model is refused by zod, not allocated further', () => {
    const json = JSON.parse(JSON.stringify(model)) as Record<string, any>;
    json['classes'] = Array.from({ length: 1025 }, (_, i) => `c${i}`);
    const r = parseBundle(json, 'x.json');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.reason).toMatch(/^invalid model: classes: /);
  });
});
