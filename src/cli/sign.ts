/** `enose sign`: a detached Ed25519 signature of a model, for stations that load only trusted models. */
import { EnoseError, formatIssue } from '../errors.js';
import { readPrivateKey, writeSignatureFile } from '../io/keyFiles.js';
import { readModelFile } from '../io/modelFile.js';
import { signModel, verifyModelSignature } from '../model/runtime/signature.js';
import { defineCommand, parseCommand, requireString, stringOption, type Command } from './args.js';
import type { OptionTable } from './options.js';

/** `enose sign`'s options, declared once (options.ts): the parser's and the help's. */
export const SIGN_OPTIONS = {
  key: { type: 'string', value: 'file', description: 'the Ed25519 private key (enose keygen)', required: true },
  out: { type: 'string', value: 'file', description: 'where to write the signature', default: '<model>.sig' },
  'allow-no-suspicious-class': { type: 'boolean', description: 'sign a model whose policy makes no class suspicious' },
} as const satisfies OptionTable;

export const signCommand: Command = defineCommand({
  name: 'sign',
  summary: 'sign a model with an Ed25519 key (a detached <model>.sig for --trusted-keys)',
  usage: 'enose sign <model.json[.gz]> --key <private.key> [--out <file>]',
  about: `Signs a model (docs/signed-models.md): writes a detached signature, <model>.sig by default, that enose watch,
serve, replay and evaluate given --trusted-keys, and stations following roll-outs (enose fleet publish-model
sends it along), check before they load the model. The model is validated first (a model that would be
refused is not signed). The signature covers the model's content hash, so it holds for the model as .json or
.json.gz; any change to the model after signing makes it fail.`,
  options: SIGN_OPTIONS,
  async run(argv, ctx) {
    const parsed = parseCommand('sign', argv, SIGN_OPTIONS);
    if (parsed.positionals.length !== 1) throw new EnoseError('bad-usage', 'sign takes one model file (see enose sign --help)');
    const modelPath = parsed.positionals[0];
    const key = readPrivateKey(requireString('sign', parsed, 'key'));
    if (!key.ok) throw new EnoseError('bad-option', formatIssue(key.error));
    if (key.value.openToOthers) ctx.stderr(`enose sign: warning: the private key file can be read by others than its owner (chmod 600 it)\n`);
    const model = readModelFile(modelPath, { allowNoSuspiciousClass: parsed.values['allow-no-suspicious-class'] === true });
    if (!model.ok) throw new EnoseError('bad-model', formatIssue(model.error));
    const signature = signModel(model.value, key.value.key, new Date().toISOString());
    // Checked as a station checks it, so that a signature written is one that verifies.
    const self = verifyModelSignature(model.value, signature, [{ keyId: key.value.keyId, key: key.value.key }]);
    if (!self.ok) throw new Error(`the new signature does not verify: ${self.error}`);
    const out = stringOption(parsed, 'out') ?? `${modelPath}.sig`;
    try {
      writeSignatureFile(out, signature);
    } catch (error) {
      throw new EnoseError('bad-option', `cannot write ${out}: ${(error as Error).message.split('\n')[0]}`);
    }
    ctx.stdout(`enose sign: model ${model.value.id} signed with key ${key.value.keyId}: ${out}\n`);
    return 0;
  },
});
