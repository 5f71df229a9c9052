/**
 * The real 32-sensor beverage recording through the live engine's feature path (issue 4, "Real time series").
 * It asserts that the path works end to end on real data, not a figure: the figures are in the README.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runEnose } from '../helpers/cli.js';
import { BEVERAGE, haveShared } from '../helpers/shared.js';

describe('real beverage recording (32 sensors, 7 beverages)', () => {
  it.skipIf(!haveShared('datasets', 'beverage-enose-2016-05', 'frames.csv'))('enose train --cv 5 trains through the engine and reports cross-validated accuracy', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'enose-bev-')), 'm.json');
    const run = runEnose(['train', BEVERAGE, '--out', out, '--features', 'phase', '--transform', 'none', '--classifier', 'lda', '--cv', '5', '--ignore-gates', 'baseline-unstable,channel-spiking,channel-saturated', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as { samples: number; features: number; cvFolds: number; cvAccuracy: number; classes: Record<string, number> };
    expect(summary.samples).toBe(33);
    expect(summary.features).toBe(32 * 7);
    expect(Object.keys(summary.classes)).toHaveLength(7);
    expect(summary.cvFolds).toBe(5);
    expect(summary.cvAccuracy).toBeGreaterThan(0);
    console.info(`beverage, LDA, 5-fold CV accuracy through the engine's feature path: ${(100 * summary.cvAccuracy).toFixed(1)}%`);
    // With the fixed gate limits and without accepting the data's known defects, every cycle fails a gate:
    // training refuses, in one line (the default, limits learned from the data, trains: tests/cli/train-select).
    const strict = runEnose(['train', BEVERAGE, '--out', out, '--fixed-gates', '--features', 'phase', '--classifier', 'lda', '--transform', 'none']);
    expect(strict.code).toBe(2);
    expect(strict.stderr.trim().split('\n').at(-1)).toMatch(/no usable cycle to train on/);
  });
});
