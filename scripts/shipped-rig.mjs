// The rig fingerprint of the shipped models (src/model/runtime/rigFingerprint.ts): measured on SHIPPED_SETS.training
// (simulator seed 1, days 1-20, 6,000 containers: the first 300 of each day, a sample of both models' training
// containers) through the model's own feature path, so the same on every rebuild. Used by add-rig-fingerprint.mjs
// (adds it to the shipped files) and make-default-model.mjs (a rebuild gives the same files).
import { SHIPPED_SETS, createSimulation, simulationEvents } from '../dist/index.js';
import { assembleTrainingSet, extractRecordingCycles } from '../dist/engine/training.js'; // not in the public API
import { withModelRig } from '../dist/model/runtime/bundle.js';

export const FINGERPRINT_SET = SHIPPED_SETS.training;
export const FINGERPRINT_SOURCE = `simulator seed ${FINGERPRINT_SET.seed}, days ${FINGERPRINT_SET.startDay}-${FINGERPRINT_SET.startDay + FINGERPRINT_SET.days - 1}, ${FINGERPRINT_SET.containers} containers (SHIPPED_SETS.training, a sample of the training containers)`;

/**
 * The model with the fingerprint of its training rig; everything else (and so every verdict) as it was. `part`:
 * FINGERPRINT_SET's cycles already extracted (make-default-model.mjs does it on its worker threads), else here.
 */
export function withShippedRig(model, extractor, part = extractRecordingCycles({ group: 'sim-fingerprint', events: simulationEvents(createSimulation(FINGERPRINT_SET), { reuse: true }) }, { extractor })) {
  const set = assembleTrainingSet([part], { extractor });
  if (!set.modelRig) throw new Error('no gas channel to fingerprint');
  const rig = { ...set.modelRig, fingerprint: { ...set.modelRig.fingerprint, source: FINGERPRINT_SOURCE } };
  return withModelRig(model, rig);
}
