/**
 * MLP networks trained side by side on worker threads (MlpOptions.threads) are the networks trained on one
 * thread, bit for bit, with every epoch reported in order per network. The worker is the compiled one
 * (dist/model/fitting/mlpWorker.js, built by `npm test` before vitest runs); from sources, training stays on this thread.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fitMlp as fitMlpFromSources, type MlpOptions, type MlpModel } from '../../src/model/fitting/mlp.js';

type FitMlp = typeof fitMlpFromSources;
const distUrl = new URL('../../dist/model/fitting/mlp.js', import.meta.url);
const haveDist = existsSync(new URL('../../dist/model/fitting/mlpWorker.js', import.meta.url));
if (!haveDist) console.warn('skipping the worker-thread MLP tests: dist/ is not built (npm test builds it; npm run build)');

function data(seed: number, n: number, d: number, k: number) {
  let s = seed;
  const next = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  const x = new Float64Array(n * d);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % k;
    for (let j = 0; j < d; j++) x[i * d + j] = next() + (j % k === y[i] ? 0.4 : 0);
  }
  return { x, y, n, d, k };
}

function fit(fitMlp: FitMlp, options: MlpOptions): { model: MlpModel; epochs: string[][] } {
  const { x, y, n, d, k } = data(5, 1200, 10, 3);
  const epochs: string[][] = [[], [], []];
  const model = fitMlp(x, n, d, y, k, { hidden: [16, 8], networks: 3, maxEpochs: 12, ...options, onEpoch: (net, epoch, loss, acc) => epochs[net]!.push(`${epoch} ${loss} ${acc}`) });
  return { model, epochs };
}

describe('MLP training on worker threads', () => {
  it.skipIf(!haveDist)('gives the networks of one thread, bit for bit, and reports every epoch of each in order', async () => {
    const { fitMlp } = (await import(distUrl.href)) as { fitMlp: FitMlp };
    const one = fit(fitMlp, { threads: 1 });
    for (const threads of [2, 3, 8]) {
      const many = fit(fitMlp, { threads });
      expect(many.model).toEqual(one.model);
      expect(many.epochs).toEqual(one.epochs);
    }
    expect(one.epochs.every((e) => e.length > 0 && e.length <= 12)).toBe(true);
  });

  it('from sources (no compiled worker) trains on this thread, with the same result', () => {
    expect(fit(fitMlpFromSources, { threads: 2 }).model).toEqual(fit(fitMlpFromSources, { threads: 1 }).model);
  });

  it('refuses a thread count that is not a positive integer', () => {
    const { x, y, n, d, k } = data(1, 40, 3, 2);
    expect(() => fitMlpFromSources(x, n, d, y, k, { threads: 0 })).toThrow(/threads must be a positive integer/);
    expect(() => fitMlpFromSources(x, n, d, y, k, { threads: 1.5 })).toThrow(/threads must be a positive integer/);
  });
});
