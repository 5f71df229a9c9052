/** The model as the operator page draws it: the training cloud on PC1/PC2 with a class for each point. */
import { describe, expect, it } from 'vitest';
import { fitModel } from '../../src/model/fitting/fitModel.js';
import { pageModelOf } from '../../src/service/pageModel.js';
import { readModelFile } from '../../src/io/modelFile.js';
import { SHIPPED_MODELS } from '../helpers/models.js';
import { makeClusters } from '../helpers/synthetic.js';

const table = makeClusters({ seed: 6, classes: ['clear', 'coca', 'hero'], perClass: 40, width: 6, separation: 4 });
const input = { kind: 'features' as const, featureNames: [...table.featureNames] };

describe('pageModelOf', () => {
  it('kNN: the training points with their true labels, and class centres', () => {
    const bundle = fitModel(table, input, { classifier: 'knn' });
    const page = pageModelOf(bundle);
    const k = bundle.pca.components;
    expect(page.cloud.colouring).toBe('label');
    expect(page.cloud.total).toBe(table.count);
    expect(page.cloud.xy).toHaveLength(2 * table.count);
    const points = bundle.classifier.type === 'knn' ? bundle.classifier.points : [];
    expect(page.cloud.xy[2 * 7]).toBe(points[7 * k]);
    expect(page.cloud.xy[2 * 7 + 1]).toBe(points[7 * k + 1]);
    expect(page.cloud.classIndex.map((c) => bundle.classes[c])).toEqual(table.labels.map((l) => l));
    const clear = bundle.classes.indexOf('clear');
    const xs = page.cloud.xy.filter((_, i) => i % 2 === 0 && page.cloud.classIndex[i / 2] === clear);
    expect(page.centroids[clear]!.x).toBeCloseTo(xs.reduce((s, v) => s + v, 0) / xs.length, 12);
    expect(page.suspicious).toEqual(bundle.classes.map((c) => c !== 'clear'));
    expect(page.threshold).toBe(bundle.policy!.threshold);
  });

  it('LDA: the novelty points, each with the class the model gives it; at most maxPoints', () => {
    const bundle = fitModel(table, input, { classifier: 'lda' });
    const page = pageModelOf(bundle, 60);
    expect(page.cloud.colouring).toBe('predicted');
    expect(page.cloud.total).toBe(bundle.novelty!.points.length / bundle.pca.components);
    expect(page.cloud.classIndex.length).toBeLessThanOrEqual(60);
    expect(page.cloud.classIndex.length).toBeGreaterThan(30);
    // Well separated clusters: the model's class of a training point is mostly its own, so all classes show.
    expect(new Set(page.cloud.classIndex).size).toBe(3);
  });

  it.each(SHIPPED_MODELS)('the shipped $name model (an MLP): its points are drawn unclassified, with no class centres, and the page is told why', ({ path, decidesAfter }) => {
    const model = readModelFile(path);
    if (!model.ok) throw new Error(model.error.reason);
    const page = pageModelOf(model.value);
    expect(page.classifier).toBe('mlp');
    expect(page.cloud.total).toBeGreaterThan(0);
    expect(page.cloud.colouring).toBe('none');
    // Not one class (the first, "cannabis") for every point, as before: no class at all.
    expect(new Set(page.cloud.classIndex)).toEqual(new Set([-1]));
    expect(page.centroids.every((c) => c === null)).toBe(true);
    expect(page.cloud.uncolouredBecause).toMatch(new RegExp(`reads ${model.value.pca.components} components; the plot's training points keep ${model.value.novelty!.components}`));
    // When the verdict comes, for the page's countdown.
    expect(page.cycle).toEqual({ decidesAfter: decidesAfter === 'R' ? 'recovery' : 'exposure', baselineS: 30, exposureS: 60, recoveryS: decidesAfter === 'R' ? 60 : null });
  });
});
