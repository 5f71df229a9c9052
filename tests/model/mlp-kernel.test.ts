/**
 * The WebAssembly matrix kernel of the MLP (src/model/fitting/gemmWasm.ts) and the trainer built on it
 * (src/model/fitting/mlpTrainer.ts) give the same doubles as the plain loops they replaced: the kernel against a plain
 * loop on random shapes (fast-check), a network trained with the new trainer against one trained with the
 * reference trainer (benchmarks/mlp-reference.ts, the trainer as it was), weight for weight, and the compiled
 * forward pass against the plain one (`forwardInto`), probability for probability.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReferenceTrainer } from '../../benchmarks/mlp-reference.js';
import { createGemm, gemmPlain, gemmScratchDoubles, plainOps } from '../../src/model/fitting/gemmWasm.js';
import { mlpSettings, trainNetwork, type MlpNetwork } from '../../src/model/fitting/mlp.js';
import { compileMlp, foldMlpInput, forwardInto, predictMlpFoldedInto, predictMlpInto } from '../../src/model/runtime/mlpPredict.js';
import { gaussian, mulberry32 } from '../helpers/synthetic.js';

/** Bit patterns equal (Object.is, except that +0 and -0 count as equal: a skipped zero term may flip a zero's sign). */
function sameDoubles(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let differ = 0;
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (!(a[i] === b[i] || (Number.isNaN(a[i]) && Number.isNaN(b[i])))) differ++;
  return differ;
}

function blobs(count: number, width: number, classes: number, seed: number) {
  const rand = mulberry32(seed);
  const normal = gaussian(rand);
  const x = new Float64Array(count * width);
  const y = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    y[i] = i % classes;
    for (let j = 0; j < width; j++) x[i * width + j] = normal() + (j % classes === y[i] ? 1.5 : 0);
  }
  return { x, y };
}

describe('WebAssembly matrix kernel', () => {
  it('is available here (Node 20 runs WebAssembly SIMD)', () => {
    expect(createGemm(16)).not.toBeNull();
  });

  it('equals a plain loop bit for bit, on any shape, stride, bias, ReLU and mask (fast-check)', () => {
    const kernel = createGemm(1 << 17)!;
    fc.assert(
      fc.property(
        fc.record({
          rows: fc.integer({ min: 1, max: 11 }),
          // Mostly short sums; sometimes past one block of k (KC = 256), so that later blocks resume stored sums.
          k: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 40 }) }, { weight: 1, arbitrary: fc.integer({ min: 250, max: 600 }) }),
          n: fc.integer({ min: 1, max: 19 }),
          transposedA: fc.boolean(),
          transposedB: fc.boolean(),
          withBias: fc.boolean(),
          relu: fc.boolean(),
          masked: fc.boolean(),
          gap: fc.integer({ min: 0, max: 3 }),
          zeros: fc.double({ min: 0, max: 0.7, noNaN: true }),
          seed: fc.integer({ min: 1, max: 1 << 30 }),
        }),
        ({ rows, k, n, transposedA, transposedB, withBias, relu, masked, gap, zeros, seed }) => {
          const rand = mulberry32(seed);
          const m = kernel.memory;
          const a = 3;
          const b = a + rows * k + 1;
          const bias = b + k * n;
          const c = bias + n + 2;
          // A mask laid out as C (the activations whose ReLU the deltas go back through).
          const mask = c + rows * n + 1;
          const scratch = mask + rows * n + 2 * gap;
          const end = scratch + gemmScratchDoubles(rows);
          // Zeros of both signs: the ReLU keeps a -0, the mask stores +0.
          for (let i = 0; i < end; i++) m[i] = rand() < zeros ? (rand() < 0.5 ? 0 : -0) : (rand() - 0.5) * 10 ** Math.floor(rand() * 8 - 4);
          const plain = Float64Array.from(m.subarray(0, end));
          const [ars, acs] = transposedA ? [1, rows] : [k, 1];
          const [brs, bcs] = transposedB ? [1, k] : [n, 1];
          kernel.gemm(c, a, b, withBias ? bias : -1, rows, k, n, ars, acs, brs, bcs, scratch, relu ? 1 : 0, masked ? mask : -1);
          gemmPlain(plain, c, a, b, withBias ? bias : -1, rows, k, n, ars, acs, brs, bcs, relu ? 1 : 0, masked ? mask : -1);
          // Everything below the scratch: C as the plain loop gives it, A, B, the bias and the mask untouched.
          for (let i = 0; i < scratch; i++) if (!Object.is(m[i], plain[i])) return false;
          return true;
        },
      ),
      { numRuns: 300 },
    );
  });

  it('its element-wise training step (Adam with and without the L2 term) equals the plain loops bit for bit (fast-check)', () => {
    const kernel = createGemm(1 << 12)!;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 41 }), fc.integer({ min: 1, max: 1 << 30 }), (n, seed) => {
        const rand = mulberry32(seed);
        const m = kernel.memory;
        // Four arrays of n (+1 spare when n is odd, as Layout gives), some values zero, negative zero or negative.
        const stride = n + (n & 1);
        const end = 4 * stride;
        for (let i = 0; i < end; i++) m[i] = rand() < 0.2 ? (rand() < 0.5 ? 0 : -0) : (rand() - 0.5) * 10 ** Math.floor(rand() * 6 - 3);
        for (let i = 3 * stride; i < end; i++) m[i] = Math.abs(m[i]!); // Adam's second moments are >= 0
        const plain = Float64Array.from(m.subarray(0, end));
        const ref = plainOps(plain);
        const [a, b, c, d] = [0, stride, 2 * stride, 3 * stride];
        const lr = 1e-3 * rand();
        kernel.ops.adam(a, b, c, d, n, lr, 0.9, 1 - 0.9, 0.999, 1 - 0.999, 1e-8);
        ref.adam(a, b, c, d, n, lr, 0.9, 1 - 0.9, 0.999, 1 - 0.999, 1e-8);
        // With the L2 term: parameters a, gradient c, moments b and d (d >= 0 still).
        kernel.ops.adamL2(a, c, b, d, n, lr, 0.9, 1 - 0.9, 0.999, 1 - 0.999, 1e-8, 1e-3, 200);
        ref.adamL2(a, c, b, d, n, lr, 0.9, 1 - 0.9, 0.999, 1 - 0.999, 1e-8, 1e-3, 200);
        for (let k = 0; k < 4; k++) for (let i = k * stride; i < k * stride + n; i++) if (!Object.is(m[i], plain[i])) return false;
        return true;
      }),
      { numRuns: 300 },
    );
  });
});

describe('MLP trainer on the kernel', () => {
  const cases = [
    { name: '12 -> 16-8 -> 3, 900 rows (batches of 200 and a short last one)', count: 900, width: 12, classes: 3, hidden: [16, 8], epochs: 6 },
    { name: '37 -> 33-9-5 -> 5, 333 rows (odd widths: every tail of the tiling)', count: 333, width: 37, classes: 5, hidden: [33, 9, 5], epochs: 5 },
    // 250 rows held out: validation passes wider than a training batch.
    { name: '12 -> 16-8 -> 3, 2500 rows (validation passes of 250 rows)', count: 2500, width: 12, classes: 3, hidden: [16, 8], epochs: 2 },
  ];
  for (const c of cases) {
    it(`trains the same weights as the reference trainer, bit for bit: ${c.name}`, () => {
      const { x, y } = blobs(c.count, c.width, c.classes, 11);
      const data = { scores: x, count: c.count, dimensions: c.width, labels: y, classCount: c.classes };
      const s = mlpSettings({ hidden: c.hidden, maxEpochs: c.epochs, seed: 4 });
      const log: string[][] = [[], []];
      const kernel = trainNetwork(data, s, 0, (_n, e, loss, acc) => log[0]!.push(`${e} ${loss} ${acc}`));
      const reference = trainNetwork(data, s, 0, (_n, e, loss, acc) => log[1]!.push(`${e} ${loss} ${acc}`), (sizes, batch, next) => new ReferenceTrainer(sizes, batch, next));
      expect(log[0]).toEqual(log[1]);
      expect(log[0]!.length).toBe(c.epochs);
      const flat = (net: MlpNetwork) => net.layers.flatMap((l) => [...l.weights, ...l.bias]);
      expect(flat(kernel).length).toBe(flat(reference).length);
      expect(sameDoubles(flat(kernel), flat(reference))).toBe(0);
      expect(JSON.stringify(kernel)).toBe(JSON.stringify(reference));
    });
  }

  it('predicts what the plain forward pass gives, bit for bit, on scores and through a folded first layer', () => {
    const width = 9;
    const k = 7;
    const { x, y } = blobs(300, k, 3, 2);
    const s = mlpSettings({ hidden: [13, 6], maxEpochs: 4, seed: 2 });
    const nets = [0, 1].map((n) => trainNetwork({ scores: x, count: 300, dimensions: k, labels: y, classCount: 3 }, s, n));
    const mlp = compileMlp({ networks: nets }, 3);
    expect(mlp.kernel).not.toBeNull();
    const rand = mulberry32(9);
    const projection = Float64Array.from({ length: k * width }, () => rand() - 0.5);
    const offset = Float64Array.from({ length: k }, () => rand() - 0.5);
    const folded = foldMlpInput(mlp, projection, offset, width);
    const fast = new Float64Array(3);
    const plain = new Float64Array(3);
    for (let i = 0; i < 200; i++) {
      const row = Float64Array.from({ length: width }, () => (rand() - 0.5) * 6);
      predictMlpInto(mlp, row, 0, fast);
      forwardInto(mlp, null, row, 0, plain);
      expect(sameDoubles(fast, plain)).toBe(0);
      predictMlpFoldedInto(mlp, folded, row, 0, fast);
      forwardInto(mlp, folded, row, 0, plain);
      expect(sameDoubles(fast, plain)).toBe(0);
    }
  });
});
