/** The novelty limit measured in the leading principal components only (`noveltyComponents`). */
import { describe, expect, it } from 'vitest';
import { parseBundle, serializeBundle, signBundle } from '../../src/model/runtime/bundle.js';
import { fitNovelty } from '../../src/model/runtime/novelty.js';
import { compileModel, noveltyOfLast, predictCompiled } from '../../src/model/runtime/pipeline.js';
import { fitModel } from '../../src/model/fitting/fitModel.js';
import { makeClusters } from '../helpers/synthetic.js';

const table = makeClusters({ seed: 11, classes: ['clear', 'cocaine', 'cannabis'], perClass: 150, width: 12, separation: 3 });
const input = { kind: 'features' as const, featureNames: [...table.featureNames] };

describe('novelty in the leading components', () => {
  it('stores only those components and sets its limit from distances in them', () => {
    const scores = Float64Array.from({ length: 300 * 6 }, (_, i) => Math.sin(i * 1.7) * (1 + (i % 6)));
    const full = fitNovelty(scores, 300, 6, { quantile: 0.9 })!;
    const lead = fitNovelty(scores, 300, 6, { quantile: 0.9, components: 2 })!;
    const truncated = Float64Array.from({ length: 300 * 2 }, (_, i) => scores[Math.floor(i / 2) * 6 + (i % 2)]!);
    const direct = fitNovelty(truncated, 300, 2, { quantile: 0.9 })!;
    expect(full.components).toBeUndefined();
    expect(lead.components).toBe(2);
    expect(lead.points).toEqual(direct.points);
    expect(lead.threshold).toBe(direct.threshold);
    expect(lead.threshold).toBeLessThan(full.threshold);
    expect(fitNovelty(scores, 300, 6, { components: 9 })!.components).toBeUndefined(); // more than there are: all
    expect(() => fitNovelty(scores, 300, 6, { components: 0 })).toThrow(/positive integer/);
  });

  it('gives the engine the distance over the leading components, and survives a save and load', () => {
    const model = fitModel(table, input, { classifier: 'logreg', components: 12, noveltyQuantile: 0.95, noveltyComponents: 3, cvFolds: 0 });
    expect(model.pca.components).toBe(12);
    expect(model.novelty!.components).toBe(3);
    expect(model.novelty!.points.length).toBe(450 * 3);
    expect(model.training.options['noveltyComponents']).toBe(3);
    const loaded = parseBundle(JSON.parse(serializeBundle(model)), 'm.json');
    expect(loaded.ok).toBe(true);
    const compiled = compileModel(model);
    const probs = new Float64Array(3);
    const pts = model.novelty!.points;
    for (const row of [0, 77, 301]) {
      predictCompiled(compiled, table.x, row * table.width, probs);
      let best = Infinity;
      for (let i = 0; i < pts.length / 3; i++) {
        let d2 = 0;
        for (let j = 0; j < 3; j++) d2 += (pts[i * 3 + j]! - compiled.scores[j]!) ** 2;
        best = Math.min(best, d2);
      }
      expect(noveltyOfLast(compiled)).toBeCloseTo(Math.min(2, Math.sqrt(best) / model.novelty!.threshold), 12);
    }
  });

  it('is refused when the file claims more novelty components than the model keeps', () => {
    const model = fitModel(table, input, { classifier: 'lda', components: 4, noveltyComponents: 2, cvFolds: 0 });
    const { id: _id, hash: _hash, ...rest } = JSON.parse(serializeBundle(model));
    rest.novelty.components = 5;
    const bad = parseBundle(JSON.parse(serializeBundle(signBundle(rest))), 'm.json');
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error.reason).toMatch(/novelty components exceed/);
  });
});
