#!/usr/bin/env node
// Adds the rig fingerprint (shipped-rig.mjs) to the shipped model files without retraining: the scaler, PCA,
// classifier, policy and limits stay as they were, bit for bit (checked below), so every verdict is the same;
// the id changes, since the hash covers the whole document. make-default-model.mjs does the same at the end of a
// rebuild, so `npm run model:default` writes these same files. About a minute for both here.
// Run: npm run build && node scripts/add-rig-fingerprint.mjs [default|exposure]
import { isDeepStrictEqual } from 'node:util';
import { SHIPPED_MODELS, readModelFile, shippedModelPath, writeModelFile } from '../dist/index.js';
import { withShippedRig } from './shipped-rig.mjs';

const wanted = process.argv.slice(2);
for (const [name, { recipe }] of Object.entries(SHIPPED_MODELS)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  const path = shippedModelPath(name);
  const read = readModelFile(path);
  if (!read.ok) throw new Error(`${path}: ${read.error.reason}`);
  const before = read.value;
  const after = withShippedRig(before, recipe.extractor);
  const strip = ({ id: _i, hash: _h, rig: _r, ...rest }) => rest;
  if (!isDeepStrictEqual(strip(JSON.parse(JSON.stringify(before))), strip(JSON.parse(JSON.stringify(after))))) throw new Error(`${name}: the model changed beyond its rig`);
  writeModelFile(path, after);
  const fp = after.rig.fingerprint;
  console.log(`${name} model ${before.id} -> ${after.id}: rig ${after.rig.identity.rig}, fingerprint of ${fp.cycles} cycles over ${fp.channels.length} gas channels; everything else unchanged`);
}
