#!/usr/bin/env node
// The memory the fit of the shipped recipe takes on its own (issue 23): a synthetic feature table of the default
// model's size (236,800 rows x 220 features: 240,000 containers less the ones skipped for quality), fitted with
// the default model's fit options (MLP_FIT: two networks of 128 and 64 units on the PCA scores, one held-out fold
// of five) but 2 epochs, on 2 threads as `npm run model:default` does. Prints the peak resident memory before the
// fit (the table) and after it. Needs the built package (npm run build).
//   node scripts/measure-fit-memory.mjs [rows] [width]
import { fitModel } from '../dist/index.js';

const rows = Number(process.argv[2] ?? 236800);
const width = Number(process.argv[3] ?? 220);
const classes = ['clear', 'cocaine', 'cannabis', 'heroin', 'coffee', 'fish'];
let s = 1;
const next = () => {
  s = (s * 1103515245 + 12345) % 2147483648;
  return s / 2147483648;
};
const x = new Float64Array(rows * width);
const labels = new Array(rows);
for (let i = 0; i < rows; i++) {
  const c = i % classes.length;
  labels[i] = classes[c];
  for (let j = 0; j < width; j++) x[i * width + j] = next() + (j % classes.length === c ? 0.3 : 0) + 0.01 * j;
}
const table = { source: 'synthetic', featureNames: Array.from({ length: width }, (_, j) => `f${j}`), width, count: rows, x, labels, samples: labels.map((_, i) => `s${i}`), groups: labels.map(() => 'synthetic') };
const gib = (kb) => (kb / 1048576).toFixed(3);
const before = process.resourceUsage().maxRSS;
const started = performance.now();
const model = fitModel(table, { kind: 'features', featureNames: [...table.featureNames] }, {
  classifier: 'mlp', variance: 1, noveltyQuantile: 0.995, noveltyComponents: 20,
  mlp: { hidden: [128, 64], networks: 2, maxEpochs: 2, threads: 2 },
});
const after = process.resourceUsage().maxRSS;
console.log(`table ${rows} x ${width} (${((rows * width * 8) / 2 ** 30).toFixed(3)} GiB); model ${model.id}, ${model.pca.components} components, ${model.training.count} rows fitted, ` +
  `${((performance.now() - started) / 1000).toFixed(0)} s; peak RSS before the fit ${gib(before)} GiB, after ${gib(after)} GiB: the fit adds ${gib(after - before)} GiB`);
