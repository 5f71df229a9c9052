/**
 * How a command that runs a model loads it: `--model <file>`, and with `--trusted-keys <file>` only when a trusted
 * key signed it (`<model>.sig`, or `--signature <file>`); `--allow-no-suspicious-class` admits a policy that
 * clears every class. Every refusal is one line (EnoseError 'bad-model': exit 2).
 */
import { EnoseError, formatIssue } from '../errors.js';
import { readSignatureFile, readTrustedKeys } from '../io/keyFiles.js';
import { readModelFile } from '../io/modelFile.js';
import type { ModelBundle } from '../model/runtime/bundle.js';
import { verifyModelSignature, type TrustedKey } from '../model/runtime/signature.js';
import { stringOption, type Parsed } from './args.js';
import type { HelpGroup, OptionTable } from './options.js';

export const MODEL_TRUST_GROUP: HelpGroup = { title: 'Model trust (docs/signed-models.md)' };

export const MODEL_TRUST_OPTIONS = {
  'trusted-keys': {
    type: 'string',
    value: 'file',
    description:
      'load only a model signed by one of these Ed25519 public keys (PEM; enose keygen, enose sign); an unsigned, changed or foreign-signed model is refused (exit 2)',
    group: MODEL_TRUST_GROUP,
  },
  signature: { type: 'string', value: 'file', description: "the model's signature", default: '<model>.sig', group: MODEL_TRUST_GROUP },
  'allow-no-suspicious-class': {
    type: 'boolean',
    description: 'accept a model whose policy makes no class suspicious (it clears everything)',
    group: MODEL_TRUST_GROUP,
  },
} as const satisfies OptionTable;

/** The trusted keys of --trusted-keys, or null without it. */
export function trustedKeysFromArgs(parsed: Parsed<typeof MODEL_TRUST_OPTIONS>): TrustedKey[] | null {
  const path = stringOption(parsed, 'trusted-keys');
  if (path === undefined) return null;
  if (path === '') throw new EnoseError('bad-usage', '--trusted-keys needs a file of public keys');
  const keys = readTrustedKeys(path);
  if (!keys.ok) throw EnoseError.fromIssue('bad-option', keys.error);
  return keys.value;
}

/** Reads, validates and (with --trusted-keys) verifies the model at `path`; one line and exit 2 on any refusal. */
export function loadModel(parsed: Parsed<typeof MODEL_TRUST_OPTIONS>, path: string): ModelBundle {
  const model = readModelFile(path, { allowNoSuspiciousClass: parsed.values['allow-no-suspicious-class'] === true });
  if (!model.ok) throw new EnoseError('bad-model', formatIssue(model.error));
  const keys = trustedKeysFromArgs(parsed);
  if (keys === null) {
    if (stringOption(parsed, 'signature') !== undefined) throw new EnoseError('bad-usage', '--signature needs --trusted-keys (the keys it is checked against)');
    return model.value;
  }
  const sigPath = stringOption(parsed, 'signature') ?? `${path}.sig`;
  const signature = readSignatureFile(sigPath);
  if (!signature.ok) throw new EnoseError('bad-model', `${path}: refused: ${formatIssue(signature.error)}`);
  const verified = verifyModelSignature(model.value, signature.value, keys);
  if (!verified.ok) {
    const where = signature.value === undefined ? ` (no ${sigPath})` : '';
    throw new EnoseError('bad-model', `${path}: refused: ${verified.error}${where}`);
  }
  return model.value;
}
