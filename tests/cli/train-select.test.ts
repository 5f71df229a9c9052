/**
 * `enose train` choosing by itself on real recordings nobody here produced (issue 19, items 2 and 4), with the
 * figures the report states. SmellNet: 88 % of the 50 test recordings (scikit-learn's peer, LDA on the seven
 * statistics with signed-log: 88 %, research/smellnet_reference.py); one test recording is 2 points, the
 * binomial standard error at 88 % of 50 is 4.6 points. Beverage: 54.5 % in 5-fold CV of 33 samples (standard
 * error about 8.7 points; 57.6 % before the selection kept the simplest candidate within one standard error).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runEnose } from '../helpers/cli.js';
import { BEVERAGE, haveShared, sharedPath } from '../helpers/shared.js';

const TRAIN = sharedPath('datasets', 'smellnet-offline', 'frames_train.csv');
const TEST = sharedPath('datasets', 'smellnet-offline', 'frames_test.csv');

describe('enose train with no options on real recordings', () => {
  it.skipIf(!haveShared('datasets', 'smellnet-offline', 'frames_train.csv'))('SmellNet offline: chooses, prints the table, and the model classifies the test recordings', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'enose-smellnet-')), 'm.json');
    const train = runEnose(['train', TRAIN, '--out', out]);
    expect(train.code, train.stderr).toBe(0);
    expect(train.stdout).toMatch(/chose from 24 candidates by 5-fold cross-validation grouped by sample/);
    expect(train.stdout).toMatch(/^\* whole +signed-log/m);
    expect(train.stderr).toMatch(/choosing a model: 24\/24 candidates scored/);
    const evaluation = runEnose(['evaluate', TEST, '--model', out, '--json']);
    expect(evaluation.code, evaluation.stderr).toBe(0);
    const report = JSON.parse(evaluation.stdout) as { n: number; accuracy: number };
    expect(report.n).toBe(50);
    console.info(`SmellNet offline, enose train with no options: test accuracy ${(100 * report.accuracy).toFixed(0)}% of 50`);
    expect(report.accuracy).toBeGreaterThanOrEqual(0.82);
    expect(Math.abs(report.accuracy - 0.88)).toBeLessThanOrEqual(2 * 0.046);
  }, 300_000);

  it.skipIf(!haveShared('datasets', 'beverage-enose-2016-05', 'frames.csv'))('beverage: defaults, no --ignore-gates, 5-fold CV by sample; --strict refuses small classes', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'enose-bev-')), 'm.json');
    const run = runEnose(['train', BEVERAGE, '--out', out, '--cv', '5', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as { samples: number; cvFolds: number; cvAccuracy: number; skipped: number; problems: string[]; selection: { groupedBy: string } };
    expect(summary.samples).toBe(33);
    expect(summary.skipped).toBe(0);
    expect(summary.cvFolds).toBe(5);
    expect(summary.selection.groupedBy).toBe('sample');
    console.info(`beverage, enose train --cv 5 with no other option: 5-fold CV accuracy ${(100 * summary.cvAccuracy).toFixed(1)}%`);
    expect(summary.cvAccuracy).toBeGreaterThanOrEqual(0.42);
    expect(Math.abs(summary.cvAccuracy - 0.545)).toBeLessThanOrEqual(2 * 0.087);
    expect(summary.problems.join('\n')).toMatch(/fewer than 5 samples: beer \(3\), liquor \(3\), wine \(3\)/);
    const strict = runEnose(['train', BEVERAGE, '--out', out, '--features', 'whole', '--classifier', 'lda', '--transform', 'signed-log', '--strict']);
    expect(strict.code).toBe(2);
    expect(strict.stderr.trim().split('\n')).toHaveLength(1);
    expect(strict.stderr).toMatch(/--strict: 3 class\(es\) with fewer than 5 samples/);
  }, 300_000);
});
