/** The warm-up cycles are real cycles to the engine: each gets a verdict (else they would warm nothing). */
import { describe, expect, it } from 'vitest';
import { readModelFile } from '../../src/io/modelFile.js';
import { fitModel } from '../../src/model/fitting/fitModel.js';
import { warmUp } from '../../src/service/warmup.js';
import { SHIPPED_MODELS } from '../helpers/models.js';
import { makeClusters } from '../helpers/synthetic.js';

describe('warmUp', () => {
  it.each(SHIPPED_MODELS)('runs the given number of made-up cycles to a verdict through a frames model ($name model)', ({ path }) => {
    const model = readModelFile(path);
    if (!model.ok) throw new Error(model.error.reason);
    expect(warmUp(model.value, 2)).toBe(2);
    expect(warmUp(model.value, 5)).toBe(5);
  });

  it('does nothing for a features model (the streaming engine cannot run it)', () => {
    const table = makeClusters({ seed: 1, classes: ['a', 'b'], perClass: 10, width: 3, separation: 3 });
    expect(warmUp(fitModel(table, { kind: 'features', featureNames: [...table.featureNames] }))).toBe(0);
  });
});
