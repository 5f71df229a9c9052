/**
 * The evaluation report: its numbers (ROC, operating point, PCA scores) checked against independent
 * computations, and its HTML checked for what it must hold (and must not: scripts, remote resources).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { judgeRecordings } from '../../src/engine/judge.js';
import { readModelFile } from '../../src/io/modelFile.js';
import { reportOf } from '../../src/model/fitting/evaluation.js';
import { compileModel, predictCompiled } from '../../src/model/runtime/pipeline.js';
import { fitModel } from '../../src/model/fitting/fitModel.js';
import { operatingPoint, reportDataFromRecordings, reportDataFromTable, rocCurve } from '../../src/report/data.js';
import { escapeHtml, renderReport } from '../../src/report/html.js';
import { simulationEvents } from '../../src/sim/events.js';
import { createSimulation } from '../../src/sim/simulate.js';
import { runEnose } from '../helpers/cli.js';
import { makeClusters, mulberry32 } from '../helpers/synthetic.js';
import { ensureServiceBuilt } from '../service/serveProcess.js';

const dir = mkdtempSync(join(tmpdir(), 'enose-report-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('rocCurve', () => {
  it('its area is the share of (positive, negative) pairs ranked right, ties counted half (Mann-Whitney)', () => {
    const rand = mulberry32(4);
    for (let trial = 0; trial < 20; trial++) {
      const n = 5 + Math.floor(rand() * 60);
      // Scores on a coarse grid so that ties happen.
      const scores = Array.from({ length: n }, () => Math.round(rand() * 10) / 10);
      const positive = scores.map((s) => rand() < 0.3 + 0.4 * s);
      const roc = rocCurve(scores, positive);
      if (!roc) {
        expect(positive.every(Boolean) || positive.every((p) => !p)).toBe(true);
        continue;
      }
      let pairs = 0;
      let wins = 0;
      scores.forEach((sp, i) => {
        if (!positive[i]) return;
        scores.forEach((sn, j) => {
          if (positive[j]) return;
          pairs++;
          wins += sp > sn ? 1 : sp === sn ? 0.5 : 0;
        });
      });
      expect(roc.auc).toBeCloseTo(wins / pairs, 12);
      expect(roc.points[0]).toMatchObject({ fpr: 0, tpr: 0 });
      expect(roc.points.at(-1)).toMatchObject({ fpr: 1, tpr: 1 });
      for (let k = 1; k < roc.points.length; k++) {
        expect(roc.points[k]!.fpr).toBeGreaterThanOrEqual(roc.points[k - 1]!.fpr);
        expect(roc.points[k]!.tpr).toBeGreaterThanOrEqual(roc.points[k - 1]!.tpr);
        // Each point is the operating point of its own threshold, just below the score that made it.
        const p = operatingPoint(scores, positive, roc.points[k]!.threshold - 1e-9);
        expect(p).toEqual({ fpr: roc.points[k]!.fpr, tpr: roc.points[k]!.tpr });
      }
    }
  });

  it('operatingPoint counts scores strictly above the threshold', () => {
    expect(operatingPoint([0.2, 0.5, 0.9, 0.5], [false, true, true, false], 0.5)).toEqual({ fpr: 0, tpr: 0.5 });
    expect(rocCurve([0.1, 0.2], [true, true])).toBeNull();
  });
});

describe('report data', () => {
  it('from a feature table: the evaluation of evaluateModel, and each sample projected on the model PCA', () => {
    const table = makeClusters({ seed: 3, classes: ['clear', 'coca', 'hero'], perClass: 30, width: 6, separation: 3 });
    const bundle = fitModel(table, { kind: 'features', featureNames: [...table.featureNames] }, { classifier: 'lda' });
    const data = reportDataFromTable(bundle, table, { sources: ['synthetic'] });
    expect(data.samples).toHaveLength(table.count);
    expect(data.evaluation.n).toBe(table.count);
    const model = compileModel(bundle);
    const probs = new Float64Array(bundle.classes.length);
    predictCompiled(model, table.x, 17 * table.width, probs);
    expect(data.samples[17]!.pc).toEqual(Array.from(model.scores.subarray(0, 3)));
    // The policy: 'clear' is clear, the others suspicious; every sample has a score.
    expect(data.samples.every((s) => s.score !== null)).toBe(true);
  });

  it('from recordings: the verdicts enose evaluate scores, each cycle with its PCA point', () => {
    const model = readModelFile('datasets/container-sim/exposure-model.json.gz');
    if (!model.ok) throw new Error(model.error.reason);
    const recordings = [{ group: 'sim', events: [...simulationEvents(createSimulation({ seed: 5, containers: 12, startDay: 21 }))] }];
    const data = reportDataFromRecordings(model.value, recordings, { sources: ['sim'] });
    const judged = judgeRecordings(model.value, recordings);
    expect(data.evaluation).toEqual(reportOf(model.value, judged.samples));
    expect(data.samples.map((s) => s.verdict)).toEqual(judged.samples.map((s) => s.verdict));
    const predicted = data.samples.filter((s) => s.predicted !== null);
    expect(predicted.length).toBeGreaterThan(0);
    expect(predicted.every((s) => s.pc !== null && s.pc.length === 3)).toBe(true);
  });
});

describe('renderReport', () => {
  it('is one self-contained HTML page with the charts, the tables and the threshold', async () => {
    const table = makeClusters({ seed: 8, classes: ['clear', 'coca', 'hero'], perClass: 25, width: 5, separation: 2 });
    const grouped = { ...table, groups: table.labels.map((_, i) => (i % 2 === 0 ? 'batch1' : 'batch2')) };
    const bundle = fitModel(grouped, { kind: 'features', featureNames: [...grouped.featureNames] }, { classifier: 'logreg' });
    const data = reportDataFromTable(bundle, grouped, { sources: ['a<b>.csv'], title: 'Eval & test', generatedAt: new Date(Date.UTC(2026, 0, 1)) });
    const html = await renderReport(data);
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script|<link|<img/);
    expect(html).toContain(escapeHtml('a<b>.csv'));
    expect(html).not.toContain('a<b>.csv');
    expect(html).toContain('Eval &amp; test');
    for (const id of ['confusion', 'pca', 'loadings', 'roc', 'batches']) expect(html, id).toMatch(new RegExp(`id="${id}"><svg`));
    expect(html).toContain(`threshold ${bundle.policy!.threshold.toFixed(3)}`);
    // Every count of the confusion matrix is drawn.
    const cells = data.evaluation.confusion.flat();
    const svg = html.slice(html.indexOf('id="confusion"'), html.indexOf('</svg>', html.indexOf('id="confusion"')));
    const texts = [...svg.matchAll(/<text[^>]*>(\d+)<\/text>/g)].map((m) => Number(m[1]));
    for (const v of cells) expect(texts).toContain(v);
  });

  it('a model without a policy gets no ROC curve, and says why', async () => {
    const table = makeClusters({ seed: 2, classes: ['a', 'b'], perClass: 20, width: 4, separation: 3 });
    const bundle = fitModel(table, { kind: 'features', featureNames: [...table.featureNames] });
    expect(bundle.policy).toBeNull();
    const html = await renderReport(reportDataFromTable(bundle, table, { sources: ['t'] }));
    expect(html).not.toContain('id="roc"');
    expect(html).toContain('no suspicious/clear policy');
  });
});

describe('enose evaluate --report', () => {
  it('writes the report atomically beside the usual output, leaving no temporary file', () => {
    ensureServiceBuilt();
    const rec = join(dir, 'rec');
    expect(runEnose(['simulate', '--containers', '8', '--seed', '3', '--start-day', '21', '--out', rec]).code).toBe(0);
    const out = join(dir, 'out', 'report.html');
    const missing = runEnose(['evaluate', rec, '--model', 'datasets/container-sim/exposure-model.json.gz', '--report', out]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot write the report to .*no such file or directory/);
    expect(existsSync(out)).toBe(false);
    const target = join(dir, 'report.html');
    const run = runEnose(['evaluate', rec, '--model', 'datasets/container-sim/exposure-model.json.gz', '--report', target, '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toHaveProperty('accuracy');
    expect(run.stderr).toContain('report written');
    const html = readFileSync(target, 'utf8');
    expect(html).toContain('<h2>Confusion matrix</h2>');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
