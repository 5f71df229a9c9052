/** `enose keygen`: a new Ed25519 key pair for signing models. */
import { EnoseError, formatIssue } from '../errors.js';
import { writeKeyPair } from '../io/keyFiles.js';
import { defineCommand, parseCommand, requireString, type Command } from './args.js';
import type { OptionTable } from './options.js';

/** `enose keygen`'s options, declared once (options.ts): the parser's and the help's. */
export const KEYGEN_OPTIONS = {
  out: { type: 'string', value: 'prefix', description: 'where to write the two files', required: true },
} as const satisfies OptionTable;

export const keygenCommand: Command = defineCommand({
  name: 'keygen',
  summary: 'make an Ed25519 key pair for signing models (enose sign, --trusted-keys)',
  usage: 'enose keygen --out <prefix>',
  about: `Makes an Ed25519 key pair for signing models (docs/signed-models.md): <prefix>.key, the private key (PEM,
mode 0600: keep it off the stations, where only the public key is needed) and <prefix>.pub, the public key to
put in the stations' --trusted-keys file. Existing files are never overwritten.`,
  options: KEYGEN_OPTIONS,
  async run(argv, ctx) {
    const parsed = parseCommand('keygen', argv, KEYGEN_OPTIONS);
    if (parsed.positionals.length > 0) throw new EnoseError('bad-usage', `unexpected argument "${parsed.positionals[0]}" (see enose keygen --help)`);
    const made = writeKeyPair(requireString('keygen', parsed, 'out'));
    if (!made.ok) throw new EnoseError('bad-option', formatIssue(made.error));
    ctx.stdout(`enose keygen: key ${made.value.keyId}: private ${made.value.privatePath} (mode 0600, keep it secret), public ${made.value.publicPath}\n`);
    return 0;
  },
});
