/** `enose keygen`: a new Ed25519 key pair for signing models. */
import { EnoseError, formatIssue } from '../errors.js';
import { writeKeyPair } from '../io/keyFiles.js';
import { parseCommand, requireString, type Command } from './args.js';

const usage = `Usage: enose keygen --out <prefix>

Makes an Ed25519 key pair for signing models (docs/signed-models.md): <prefix>.key, the private key (PEM,
mode 0600: keep it off the stations, where only the public key is needed) and <prefix>.pub, the public key to
put in the stations' --trusted-keys file. Existing files are never overwritten.

Options:
  --out <prefix>         where to write the two files                                  [required]
  -h, --help             this help
`;

export const keygenCommand: Command = {
  name: 'keygen',
  summary: 'make an Ed25519 key pair for signing models (enose sign, --trusted-keys)',
  usage,
  async run(argv, ctx) {
    const parsed = parseCommand('keygen', argv, { out: { type: 'string' } });
    if (parsed.positionals.length > 0) throw new EnoseError('bad-usage', `unexpected argument "${parsed.positionals[0]}" (see enose keygen --help)`);
    const made = writeKeyPair(requireString('keygen', parsed, 'out'));
    if (!made.ok) throw new EnoseError('bad-option', formatIssue(made.error));
    ctx.stdout(`enose keygen: key ${made.value.keyId}: private ${made.value.privatePath} (mode 0600, keep it secret), public ${made.value.publicPath}\n`);
    return 0;
  },
};
