/**
 * Signed models: an Ed25519 signature (RFC 8032, node:crypto) over a model's content hash. The hash is the
 * SHA-256 of the model's canonical JSON (src/model/runtime/bundle.ts) and parseBundle checks it against the content, so
 * signing the hash signs every setting and number; the same signature then holds for the model as a .json or a
 * .json.gz file and inside a fleet roll-out message, which carries the model as JSON, not the file's bytes.
 * The hash alone has no key: anyone can recompute it. The signature needs the private key.
 */
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { fail, ok, type Result } from '../../errors.js';

export const SIGNATURE_KIND = 'enose-model-signature';

/** A detached signature (`<model>.sig`, and the `signature` of a roll-out message). */
export const modelSignatureSchema = z.object({
  kind: z.literal(SIGNATURE_KIND),
  version: z.literal(1),
  algorithm: z.literal('ed25519'),
  /** The signed model's id and hash (the hash is what is signed). */
  modelId: z.string().regex(/^[0-9a-f]{16}$/),
  modelHash: z.string().regex(/^[0-9a-f]{64}$/),
  /** First 16 hex digits of the SHA-256 of the public key (SPKI DER): names the key, proves nothing. */
  keyId: z.string().regex(/^[0-9a-f]{16}$/),
  /** The 64-byte Ed25519 signature, base64. */
  signature: z.string().regex(/^[A-Za-z0-9+/]{86}==$/),
  signedAt: z.string().max(64).optional(),
});
export type ModelSignature = z.infer<typeof modelSignatureSchema>;

/** A public key the operator trusts, with its id. */
export interface TrustedKey {
  readonly keyId: string;
  readonly key: KeyObject;
}

/** The key's id (of a private key: of its public half): the first 16 hex digits of the SHA-256 of its SPKI DER encoding. */
export function keyIdOf(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

/** What is signed: a fixed prefix (so that a signature over a model cannot pass for one over anything else) and the hash. */
function signedBytes(modelHash: string): Buffer {
  return Buffer.from(`${SIGNATURE_KIND}/1\n${modelHash}\n`, 'utf8');
}

/** Signs a model's hash with an Ed25519 private key (its public half names the key). */
export function signModel(model: { readonly id: string; readonly hash: string }, privateKey: KeyObject, signedAt?: string): ModelSignature {
  return {
    kind: SIGNATURE_KIND,
    version: 1,
    algorithm: 'ed25519',
    modelId: model.id,
    modelHash: model.hash,
    keyId: keyIdOf(privateKey),
    signature: sign(null, signedBytes(model.hash), privateKey).toString('base64'),
    ...(signedAt !== undefined && { signedAt }),
  };
}

/** `signature` as a signature of this model (its form and the hash it names), before any key is consulted. */
export function signatureFor(model: { readonly id: string; readonly hash: string }, signature: unknown): Result<ModelSignature, string> {
  if (signature === undefined || signature === null) return fail('the model is not signed, and only signed models are trusted here (enose sign)');
  const parsed = modelSignatureSchema.safeParse(signature);
  if (!parsed.success) return fail('its signature is not an e-nose model signature (enose sign)');
  const s = parsed.data;
  if (s.modelHash !== model.hash) return fail(`the model was changed after it was signed (the signature is for model ${s.modelId}, this is ${model.id})`);
  return ok(s);
}

/**
 * Checks that `signature` (parsed JSON, or undefined when there is none) signs this model with one of `keys`:
 * the trusted key that signed it, or one line saying why the model is refused. `model` must have passed
 * parseBundle, so its hash matches its content.
 */
export function verifyModelSignature(
  model: { readonly id: string; readonly hash: string },
  signature: unknown,
  keys: readonly TrustedKey[],
): Result<TrustedKey, string> {
  const checked = signatureFor(model, signature);
  if (!checked.ok) return checked;
  const s = checked.value;
  const key = keys.find((k) => k.keyId === s.keyId);
  if (!key) return fail(`the model is signed by key ${s.keyId}, which is not a trusted key (${keys.map((k) => k.keyId).join(', ')})`);
  let good = false;
  try {
    good = verify(null, signedBytes(model.hash), key.key, Buffer.from(s.signature, 'base64'));
  } catch {
    good = false;
  }
  return good ? ok(key) : fail(`the signature by key ${s.keyId} does not verify (forged or corrupt)`);
}
