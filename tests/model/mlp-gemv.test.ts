/**
 * The one-row WebAssembly kernel of MLP prediction (src/model/runtime/gemvWasm.ts) on weights packed by `packWeights`
 * gives the same doubles as a plain loop on the weights as the model stores them (inputs x outputs, row-major):
 * each output its bias plus its terms in input order, then the ReLU when asked (a -0 or NaN stays). On random
 * shapes (fast-check), with zeros, negative zeros and NaN among the inputs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createGemv, gemvPlain, packWeights, paddedOutputs } from '../../src/model/runtime/gemvWasm.js';
import { mulberry32 } from '../helpers/synthetic.js';

/** The plain affine map on unpacked weights (inputs x outputs), ReLU as the forward pass applies it. */
function plainAffine(x: Float64Array, w: Float64Array, bias: Float64Array, inputs: number, outputs: number, relu: boolean): Float64Array {
  const out = new Float64Array(outputs);
  for (let o = 0; o < outputs; o++) {
    let s = bias[o]!;
    for (let k = 0; k < inputs; k++) s += x[k]! * w[k * outputs + o]!;
    out[o] = relu && s < 0 ? 0 : s;
  }
  return out;
}

describe('one-row WebAssembly kernel on packed weights', () => {
  it('is available here (Node 20 runs WebAssembly SIMD)', () => {
    expect(createGemv(16)).not.toBeNull();
  });

  it('pads the outputs to a multiple of 8', () => {
    expect([1, 5, 8, 9, 16, 20, 128].map(paddedOutputs)).toEqual([8, 8, 8, 16, 16, 24, 128]);
  });

  it('equals the plain loop bit for bit on any shape, with and without ReLU (fast-check)', () => {
    const kernel = createGemv(1 << 16)!;
    fc.assert(
      fc.property(
        fc.record({
          inputs: fc.integer({ min: 0, max: 45 }),
          outputs: fc.integer({ min: 1, max: 53 }),
          relu: fc.boolean(),
          zeros: fc.double({ min: 0, max: 0.6, noNaN: true }),
          special: fc.constantFrom(0, -0, Number.NaN, Infinity, 1e-310),
          seed: fc.integer({ min: 1, max: 1 << 30 }),
        }),
        ({ inputs, outputs, relu, zeros, special, seed }) => {
          const rand = mulberry32(seed);
          const value = () => (rand() < zeros ? (rand() < 0.5 ? 0 : -0) : (rand() - 0.5) * 4);
          const x = Float64Array.from({ length: inputs }, value);
          if (inputs > 0 && rand() < 0.3) x[Math.floor(rand() * inputs)] = special;
          const w = Float64Array.from({ length: inputs * outputs }, value);
          const bias = Float64Array.from({ length: outputs }, value);
          const padded = paddedOutputs(outputs);
          const m = kernel.memory;
          // Offsets at odd doubles as well as even ones: the kernel's loads need no alignment.
          const a = 1 + (seed & 1);
          const wAt = a + inputs + 2;
          const bAt = wAt + inputs * padded + 1;
          const cAt = bAt + padded + 3;
          m.fill(7, 0, cAt + padded + 8);
          m.set(x, a);
          packWeights(m, wAt, inputs, outputs, (k, o) => w[k * outputs + o]!);
          m.fill(0, bAt, bAt + padded);
          m.set(bias, bAt);
          kernel.gemv(cAt, a, wAt, bAt, inputs, padded, relu ? 1 : 0);
          const fast = m.slice(cAt, cAt + outputs);
          const expected = plainAffine(x, w, bias, inputs, outputs, relu);
          for (let o = 0; o < outputs; o++) expect(Object.is(fast[o], expected[o]), `output ${o}: ${fast[o]} vs ${expected[o]}`).toBe(true);
          // The padding outputs are zero (zero weights, zero bias; a NaN or infinite input makes them NaN, which no
          // caller reads) and nothing past them was written.
          if (x.every(Number.isFinite)) for (let o = outputs; o < padded; o++) expect(m[cAt + o]).toBe(0);
          expect(m[cAt + padded]).toBe(7);
          // gemvPlain, the packed layout's own reference, agrees too.
          gemvPlain(m, cAt, a, wAt, bAt, inputs, padded, relu ? 1 : 0);
          for (let o = 0; o < outputs; o++) expect(Object.is(m[cAt + o], expected[o])).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
