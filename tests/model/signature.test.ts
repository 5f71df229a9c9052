/** Ed25519 model signatures over the content hash (src/model/runtime/signature.ts), and the JSON size scan (src/io/modelBytes.ts). */
import { generateKeyPairSync } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { jsonSizeIssue, MODEL_SIZE_LIMITS, parseModelBytes } from '../../src/io/modelBytes.js';
import { keyIdOf, signModel, verifyModelSignature } from '../../src/model/runtime/signature.js';

const model = { id: 'a'.repeat(16), hash: 'a'.repeat(64) };
const other = { id: 'b'.repeat(16), hash: 'b'.repeat(64) };
const pair = () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, trusted: { keyId: keyIdOf(publicKey), key: publicKey } };
};

describe('model signatures', () => {
  const a = pair();
  const b = pair();
  const sig = signModel(model, a.privateKey);

  it('names its key by the public half, whichever half it is given', () => {
    expect(sig.keyId).toBe(a.trusted.keyId);
    expect(keyIdOf(a.privateKey)).toBe(a.trusted.keyId);
    expect(a.trusted.keyId).not.toBe(b.trusted.keyId);
  });

  it('verifies with its key among others, and refuses each kind of bad signature with its own reason', () => {
    const good = verifyModelSignature(model, sig, [b.trusted, a.trusted]);
    expect(good.ok && good.value.keyId).toBe(a.trusted.keyId);
    const reason = (m: typeof model, s: unknown, keys = [a.trusted]) => {
      const r = verifyModelSignature(m, s, keys);
      return r.ok ? 'verified' : r.error;
    };
    expect(reason(model, undefined)).toMatch(/not signed/);
    expect(reason(model, { ...sig, signature: 'x' })).toMatch(/not an e-nose model signature/);
    expect(reason(other, sig)).toMatch(/changed after it was signed/);
    expect(reason(model, sig, [b.trusted])).toMatch(/not a trusted key/);
    // The hash and id edited to another model's: the signature no longer verifies.
    expect(reason(other, { ...sig, modelId: other.id, modelHash: other.hash })).toMatch(/does not verify/);
    // A signature made by another key but labelled with the trusted key's id.
    const forged = signModel(model, b.privateKey);
    expect(reason(model, { ...forged, keyId: a.trusted.keyId })).toMatch(/does not verify/);
  });
});

describe('model bytes within bounds', () => {
  it('counts values and depth outside strings only', () => {
    const limits = { ...MODEL_SIZE_LIMITS, maxJsonValues: 3, maxJsonDepth: 2 };
    expect(jsonSizeIssue('[1,2,3]', limits)).toBeNull();
    expect(jsonSizeIssue('[1,2,3,4]', limits)).toMatch(/more than 3 JSON values/);
    expect(jsonSizeIssue('["[[[,,,,\\"[[["]', limits)).toBeNull();
    expect(jsonSizeIssue('[[[1]]]', limits)).toMatch(/nested deeper than 2/);
  });

  it('stops decompressing at the bound and says so', () => {
    const limits = { ...MODEL_SIZE_LIMITS, maxJsonBytes: 1000 };
    const r = parseModelBytes(gzipSync(Buffer.alloc(2000, 0x20)), limits);
    expect(r.ok ? 'parsed' : r.error.reason).toMatch(/decompresses to more than the 1000 bytes a model may hold/);
    const small = parseModelBytes(gzipSync('{"a":[1,2]}'), limits);
    expect(small.ok && small.value).toEqual({ a: [1, 2] });
  });
});
