/**
 * The files of signed models: an Ed25519 key pair (`enose keygen`: PEM, the private key mode 0600), a trusted-keys
 * file (one or more public keys in PEM, comments between them allowed), and detached signatures (`<model>.sig`,
 * JSON). Every problem is a `DataIssue` naming the file.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { closeSync, existsSync, fstatSync, openSync, readSync, writeFileSync } from 'node:fs';
import { fail, ok, type DataIssue, type Result } from '../errors.js';
import { keyIdOf, type ModelSignature, type TrustedKey } from '../model/runtime/signature.js';
import { describeFsError, writeFileAtomic } from './files.js';

/** Key and signature files are small: anything larger is not one. */
const MAX_KEY_FILE_BYTES = 1024 * 1024;

/** A small text file, read whole after a size check (a key file of gigabytes is refused, not read). */
function readSmall(path: string, maxBytes = MAX_KEY_FILE_BYTES): Result<{ text: string; mode: number }> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    return fail({ file: path, line: 0, reason: describeFsError(error) });
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return fail({ file: path, line: 0, reason: 'not a regular file' });
    if (stat.size > maxBytes) return fail({ file: path, line: 0, reason: `${stat.size} bytes, larger than a key or signature file (${maxBytes})` });
    const bytes = Buffer.alloc(stat.size);
    let length = 0;
    for (let n; length < bytes.length && (n = readSync(fd, bytes, length, bytes.length - length, null)) > 0; ) length += n;
    return ok({ text: bytes.subarray(0, length).toString('utf8'), mode: stat.mode });
  } catch (error) {
    return fail({ file: path, line: 0, reason: describeFsError(error) });
  } finally {
    closeSync(fd);
  }
}

const PUBLIC_PEM = /-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g;

/** The Ed25519 public keys of a trusted-keys file (PEM blocks; text between them is ignored). */
export function readTrustedKeys(path: string): Result<TrustedKey[]> {
  const file = readSmall(path);
  if (!file.ok) return file;
  const blocks = file.value.text.match(PUBLIC_PEM) ?? [];
  if (blocks.length === 0) return fail({ file: path, line: 0, reason: 'no public key (-----BEGIN PUBLIC KEY-----) in the trusted-keys file' });
  const keys: TrustedKey[] = [];
  for (const [i, pem] of blocks.entries()) {
    const line = file.value.text.slice(0, file.value.text.indexOf(pem)).split('\n').length;
    let key: KeyObject;
    try {
      key = createPublicKey(pem);
    } catch (error) {
      return fail({ file: path, line, reason: `public key ${i + 1} does not read: ${(error as Error).message.split('\n')[0]}` });
    }
    if (key.asymmetricKeyType !== 'ed25519') return fail({ file: path, line, reason: `public key ${i + 1} is ${key.asymmetricKeyType ?? 'unknown'}, expected ed25519 (enose keygen)` });
    keys.push({ keyId: keyIdOf(key), key });
  }
  return ok(keys);
}

/** An Ed25519 private key (PEM, PKCS#8), and whether its file is readable by others than its owner. */
export function readPrivateKey(path: string): Result<{ key: KeyObject; keyId: string; openToOthers: boolean }> {
  const file = readSmall(path);
  if (!file.ok) return file;
  let key: KeyObject;
  try {
    key = createPrivateKey(file.value.text);
  } catch (error) {
    return fail({ file: path, line: 0, reason: `not a private key: ${(error as Error).message.split('\n')[0]}` });
  }
  if (key.asymmetricKeyType !== 'ed25519') return fail({ file: path, line: 0, reason: `a ${key.asymmetricKeyType ?? 'unknown'} key, expected ed25519 (enose keygen)` });
  return ok({ key, keyId: keyIdOf(key), openToOthers: (file.value.mode & 0o077) !== 0 });
}

/** A detached signature file as parsed JSON (checked by verifyModelSignature), or undefined when there is none. */
export function readSignatureFile(path: string): Result<unknown> {
  if (!existsSync(path)) return ok(undefined);
  const file = readSmall(path, 64 * 1024);
  if (!file.ok) return file;
  try {
    return ok(JSON.parse(file.value.text) as unknown);
  } catch {
    return fail({ file: path, line: 0, reason: 'not a signature file (JSON expected; enose sign writes one)' });
  }
}

export function writeSignatureFile(path: string, signature: ModelSignature): void {
  writeFileAtomic(path, `${JSON.stringify(signature, null, 2)}\n`);
}

/**
 * A new Ed25519 key pair: `<prefix>.key` (private, PKCS#8 PEM, mode 0600) and `<prefix>.pub` (SPKI PEM). Existing
 * files are never overwritten (an issue instead): a key that signed models must not be lost by a typo.
 */
export function writeKeyPair(prefix: string): Result<{ privatePath: string; publicPath: string; keyId: string }> {
  const privatePath = `${prefix}.key`;
  const publicPath = `${prefix}.pub`;
  for (const path of [privatePath, publicPath]) {
    if (existsSync(path)) return fail({ file: path, line: 0, reason: 'already exists: not overwritten (choose another --out prefix)' });
  }
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const keyId = keyIdOf(publicKey);
  const pub = `# enose model-signing public key ${keyId}\n${publicKey.export({ type: 'spki', format: 'pem' }) as string}`;
  const priv = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  for (const [path, text, mode] of [
    [privatePath, priv, 0o600],
    [publicPath, pub, 0o644],
  ] as const) {
    try {
      // 'wx': fail when the file exists; the mode applies at creation, before any byte is written.
      const fd = openSync(path, 'wx', mode);
      try {
        writeFileSync(fd, text);
      } finally {
        closeSync(fd);
      }
    } catch (error) {
      const exists = (error as NodeJS.ErrnoException).code === 'EEXIST';
      return fail({ file: path, line: 0, reason: exists ? 'already exists: not overwritten (choose another --out prefix)' : describeFsError(error) });
    }
  }
  return ok({ privatePath, publicPath, keyId });
}
