/**
 * `enose calibrate` in-process (runCli): feature files and unlabelled frames recordings in, a signed model with
 * its lineage out; rig transfer with --master; misuse is one line and exit code 2.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run.js';
import { readDataset } from '../../src/io/datasets/index.js';
import { readModelFile, writeModelFile } from '../../src/io/modelFile.js';
import { hashFeatureRows } from '../../src/model/drift/correction.js';
import { fitModel } from '../../src/model/fitting/fitModel.js';
import { fitViewsModel } from '../../src/model/drift/views.js';
import { makeClusters } from '../helpers/synthetic.js';

const dir = mkdtempSync(join(tmpdir(), 'enose-calibrate-'));
const path = (name: string) => join(dir, name);

async function cli(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    isTty: false,
    signal: new AbortController().signal,
  });
  return { code, stdout, stderr };
}

const train = makeClusters({ seed: 2, classes: ['clear', 'cocaine'], perClass: 30, width: 5, separation: 2, scale: 3, offset: 10 });
const parent = fitModel(train, { kind: 'features', featureNames: [...train.featureNames] }, { classifier: 'lda', cvFolds: 0 });
writeModelFile(path('parent.json'), parent);

/** A feature CSV of the training rows moved by a per-feature drift; labels left empty unless asked, ids kept. */
function featureCsv(name: string, drift: (v: number, j: number) => number, rows = train.count, labelled = false): string {
  const lines = [`sample,label,${train.featureNames.join(',')}`];
  for (let i = 0; i < rows; i++) {
    const values = Array.from({ length: train.width }, (_, j) => drift(train.x[i * train.width + j]!, j));
    lines.push(`${train.samples[i]},${labelled ? train.labels[i] : ''},${values.join(',')}`);
  }
  writeFileSync(path(name), `${lines.join('\n')}\n`);
  return path(name);
}

function oneLineError(run: { code: number; stderr: string }, pattern: RegExp): void {
  expect(run.code).toBe(2);
  expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(run.stderr).toMatch(pattern);
}

describe('enose calibrate', () => {
  it('recalibrates from an unlabelled feature file and records the lineage', async () => {
    const reference = featureCsv('reference.csv', (v, j) => 1.3 * v + 4 * j);
    const run = await cli('calibrate', '--model', path('parent.json'), reference, '--out', path('calibrated.json'));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/calibrated model [0-9a-f]{16} with standardise on 60 reference samples/);
    const model = readModelFile(path('calibrated.json'));
    if (!model.ok) throw new Error(model.error.reason);
    const read = await readDataset(reference);
    if (!read.ok || read.value.kind !== 'features') throw new Error('cannot read the reference');
    expect(model.value.lineage).toEqual({ parent: parent.hash, method: 'standardise', reference: hashFeatureRows(read.value.table) });
  });

  it('prints a JSON summary with --json and passes the method options', async () => {
    const reference = featureCsv('reference-cc.csv', (v, j) => v + 2 * j);
    const run = await cli('calibrate', '--model', path('parent.json'), reference, '--out', path('cc.json'), '--method', 'component-correction', '--directions', '2', '--json');
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as { id: string; parent: string; lineage: { method: string }; samples: number; changedPredictions: number };
    expect(summary.parent).toBe(parent.id);
    expect(summary.lineage.method).toBe('component-correction(directions=2)');
    expect(summary.samples).toBe(60);
    expect(summary.changedPredictions).toBeGreaterThanOrEqual(0);
  });

  it('transfers to another rig with --method pds and --master, pairing samples by id', async () => {
    const master = featureCsv('master.csv', (v) => v, 12);
    const slave = featureCsv('slave.csv', (v, j) => 0.8 * v + j, 12);
    const run = await cli('calibrate', '--model', path('parent.json'), slave, '--master', master, '--method', 'pds', '--out', path('rigB.json'));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/transferred model .* with pds\(ridge=0\.01\) on 12 paired transfer samples/);
    const model = readModelFile(path('rigB.json'));
    expect(model.ok && model.value.lineage?.parent).toBe(parent.hash);
  });

  it('works on an unlabelled frames recording through the engine feature path', async () => {
    const channels = ['s1', 's2', 's3'];
    const frames = (labelled: boolean, shift: number) => {
      const rows = [`sample,label,t_s,phase,${channels.join(',')}`];
      for (let k = 0; k < 8; k++) {
        for (let t = 0; t < 20; t++) {
          const phase = t < 5 ? 'B' : 'E';
          const values = channels.map((_, c) => (phase === 'B' ? 1000 + c : (800 + c * (k % 2 ? 30 : 10) + 7 * (k % 3)) * (1 - shift)));
          rows.push(`c${k},${labelled ? (k % 2 ? 'clear' : 'cocaine') : ''},${t},${phase},${values.join(',')}`);
        }
      }
      return `${rows.join('\n')}\n`;
    };
    writeFileSync(path('train-frames.csv'), frames(true, 0));
    writeFileSync(path('reference-frames.csv'), frames(false, 0.05));
    const trained = await cli('train', path('train-frames.csv'), '--out', path('frames-model.json'), '--cv-folds', '0');
    expect(trained.code, trained.stderr).toBe(0);
    const run = await cli('calibrate', '--model', path('frames-model.json'), path('reference-frames.csv'), '--out', path('frames-calibrated.json'));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/on 8 reference samples/);
    expect(run.stderr).toMatch(/warning: 8 reference samples give noisy/);
  });

  it('with --labelled, also refits the classifier on at most --per-class labelled samples a class, and says so', async () => {
    const reference = featureCsv('reference-l.csv', (v, j) => 1.2 * v + j);
    const labelled = featureCsv('labelled.csv', (v, j) => 1.2 * v + j, 30, true);
    const run = await cli('calibrate', '--model', path('parent.json'), reference, '--labelled', labelled, '--per-class', '6', '--out', path('tuned.json'));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/USES LABELS: classifier refitted on 12 labelled samples \(clear 6, cocaine 6\)/);
    expect(run.stderr).toMatch(/warning: 18 labelled sample\(s\) over 6 a class were left out/);
    const model = readModelFile(path('tuned.json'));
    if (!model.ok) throw new Error(model.error.reason);
    expect(model.value.lineage?.parent).toBe(parent.hash);
    expect(model.value.lineage?.method).toMatch(/^standardise\+fine-tune\(lambda=0\.001,perClass=6,seed=1,labelled=[0-9a-f]{64}\)$/);
    const json = await cli('calibrate', '--model', path('parent.json'), reference, '--labelled', labelled, '--seed', '4', '--out', path('tuned2.json'), '--json');
    expect(json.code, json.stderr).toBe(0);
    const summary = JSON.parse(json.stdout) as { labelled: { used: number; perClass: Record<string, number> }; lineage: { method: string } };
    expect(summary.labelled.used).toBe(20);
    expect(summary.labelled.perClass).toEqual({ clear: 10, cocaine: 10 });
    expect(summary.lineage.method).toContain('seed=4');
  });

  it('calibrates a views model from the base features, expanding them', async () => {
    const views = fitViewsModel(train, ['none', 'log-abs'], { classifier: 'logreg', components: 5 });
    writeModelFile(path('views.json'), views);
    const reference = featureCsv('reference-views.csv', (v, j) => 0.9 * v + 3 * j);
    const run = await cli('calibrate', '--model', path('views.json'), reference, '--out', path('views-calibrated.json'), '--json');
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as { samples: number; lineage: { method: string; parent: string } };
    expect(summary.samples).toBe(60);
    expect(summary.lineage).toMatchObject({ method: 'standardise', parent: views.hash });
    const model = readModelFile(path('views-calibrated.json'));
    expect(model.ok && model.value.input.featureNames.length).toBe(2 * train.width);
  });

  it('misuse is one line and exit code 2', async () => {
    const reference = featureCsv('reference-misuse.csv', (v) => v);
    oneLineError(await cli('calibrate', '--model', path('parent.json'), reference, '--out', path('x.json'), '--method', 'magic'), /--method must be one of/);
    oneLineError(await cli('calibrate', '--model', path('parent.json'), reference, '--out', path('x.json'), '--method', 'pds'), /needs --master/);
    oneLineError(await cli('calibrate', '--model', path('parent.json'), reference, '--out', path('x.json'), '--penalty', '1'), /--penalty is an option of --method entropy/);
    oneLineError(await cli('calibrate', reference, '--out', path('x.json')), /--model is required/);
    oneLineError(await cli('calibrate', '--model', path('parent.json'), reference, '--out', path('x.json'), '--per-class', '3'), /options of --labelled/);
    oneLineError(await cli('calibrate', '--model', path('parent.json'), reference, '--out', path('x.json'), '--method', 'pds', '--master', reference, '--labelled', reference), /--labelled is for drift calibration/);
    oneLineError(await cli('calibrate', '--model', path('parent.json'), reference, '--out', path('x.json'), '--labelled', reference), /no labelled row carries/);
    oneLineError(await cli('calibrate', '--model', path('nope.json'), reference, '--out', path('x.json')), /nope\.json/);
    const knn = fitModel(train, { kind: 'features', featureNames: [...train.featureNames] }, { classifier: 'knn', cvFolds: 0 });
    writeModelFile(path('knn.json'), knn);
    oneLineError(await cli('calibrate', '--model', path('knn.json'), reference, '--out', path('x.json'), '--method', 'entropy'), /linear classifier/);
  });
});
