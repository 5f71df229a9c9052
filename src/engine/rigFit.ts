/** The rig a model is trained on, from its training cycles: identity from the info line, fingerprint from the cycles' rig values. */
import { fitRigFingerprint, identityOf, type ModelRig } from '../model/runtime/rigFingerprint.js';
import type { RigInfo } from '../types.js';

export function modelRigOf(info: RigInfo, rigValues: readonly ArrayLike<number>[], source: string): ModelRig | null {
  const fingerprint = fitRigFingerprint(info.channels, rigValues, source);
  return fingerprint ? { identity: identityOf(info), fingerprint } : null;
}
