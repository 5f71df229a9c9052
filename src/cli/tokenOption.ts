/**
 * The access token of `enose serve` and `enose fleet`: `--token <secret>`, `--token-file <path>`, or the
 * environment (ENOSE_TOKEN, ENOSE_TOKEN_FILE). A command line is visible to every user of the machine (`ps`,
 * /proc/<pid>/cmdline), so the help says to prefer the file or the environment.
 *
 * A token file that other users can read (or write) is refused, not warned about: a warning scrolls past in a
 * service's log while the secret stays open to every local account, and the fix is one `chmod 600` (ssh refuses
 * a private key with open permissions for the same reason). The file is read through one descriptor (its mode
 * checked on that descriptor, not on the path), at most 4 KiB, and must hold one token of printable ASCII.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { EnoseError } from '../errors.js';
import { stringOption, type Parsed } from './args.js';
import type { OptionTable } from './options.js';

export const TOKEN_OPTIONS = {
  'token-file': {
    type: 'string',
    value: 'path',
    description:
      'the access token from a file (one line, at least 8 characters; refused when other users may read it: chmod 600), or set ENOSE_TOKEN_FILE',
  },
  token: {
    type: 'string',
    value: 'secret',
    description:
      'require "Authorization: Bearer <secret>" on the API; the page takes a session cookie from GET /login?token=<secret> (or set ENOSE_TOKEN). Prefer --token-file or ENOSE_TOKEN: a command line is visible to every user of the machine (ps)',
  },
} as const satisfies OptionTable;

const MAX_TOKEN_FILE_BYTES = 4096;
const TOKEN_TEXT = /^[\x21-\x7e]+$/;

/**
 * The token the options give, or null for none. `env` (ENOSE_TOKEN, ENOSE_TOKEN_FILE) is read only for a
 * command that does not take its options from the environment already (envOptions.ts), and only when neither
 * flag is given. Throws EnoseError: both given, a short token, a bad or open token file.
 */
export function tokenFromArgs(command: string, parsed: Parsed<typeof TOKEN_OPTIONS>, env?: Readonly<Record<string, string | undefined>>): string | null {
  let token = stringOption(parsed, 'token');
  let file = stringOption(parsed, 'token-file');
  if (env && token === undefined && file === undefined) {
    token = env['ENOSE_TOKEN'] || undefined;
    file = env['ENOSE_TOKEN_FILE'] || undefined;
  }
  if (token !== undefined && file !== undefined) {
    throw new EnoseError('bad-usage', `give one of --token or --token-file (ENOSE_TOKEN or ENOSE_TOKEN_FILE), not both (see enose ${command} --help)`);
  }
  if (file !== undefined) return readTokenFile(file);
  if (token === undefined) return null;
  if (token.length < 8) throw new EnoseError('bad-option', '--token must be at least 8 characters');
  return token;
}

/** Reads a token file (see the module's comment). Throws EnoseError('bad-option') with one line. */
export function readTokenFile(path: string): string {
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO in place of the file must not hang the start (it is refused as not a regular file).
    fd = openSync(path, constants.O_NONBLOCK === undefined ? 'r' : constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw new EnoseError('bad-option', `cannot read the token file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new EnoseError('bad-option', `the token file ${path} is not a regular file`);
    if (process.platform !== 'win32' && (st.mode & 0o006) !== 0) {
      const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
      throw new EnoseError('bad-option', `the token file ${path} is open to other users (mode ${mode}): chmod 600 ${path}, then start again`);
    }
    if (st.size > MAX_TOKEN_FILE_BYTES) throw new EnoseError('bad-option', `the token file ${path} holds ${st.size} bytes: a token file holds one token (at most ${MAX_TOKEN_FILE_BYTES} bytes)`);
    const buf = Buffer.alloc(MAX_TOKEN_FILE_BYTES + 1);
    let length = 0;
    for (let n; length < buf.length && (n = readSync(fd, buf, length, buf.length - length, null)) > 0; ) length += n;
    if (length > MAX_TOKEN_FILE_BYTES) throw new EnoseError('bad-option', `the token file ${path} holds more than ${MAX_TOKEN_FILE_BYTES} bytes`);
    const token = buf.toString('utf8', 0, length).trim();
    if (token === '') throw new EnoseError('bad-option', `the token file ${path} is empty`);
    if (!TOKEN_TEXT.test(token)) throw new EnoseError('bad-option', `the token file ${path} must hold one token of printable ASCII without spaces (one line)`);
    if (token.length < 8) throw new EnoseError('bad-option', `the token in ${path} must be at least 8 characters`);
    return token;
  } finally {
    closeSync(fd);
  }
}
