/**
 * The log lines of `enose serve`, `enose watch` and `enose fleet` (`--log-format text|json`): text keeps the
 * lines as they always were; json turns every line the command writes to stderr into one pino JSON line
 * (level, time, msg, command; station on a fleet station's lines; level 40 for a warning) and the access log
 * (`--access-log`) into lines of `type: "access"`. The core never sees pino: it gets the `log` and `accessLog`
 * callbacks, and the commands' stderr, wrapped here.
 */
import { pino, type Logger } from 'pino';
import { EnoseError } from '../errors.js';
import { accessLine, type AccessRecord } from '../service/accessRecord.js';
import { stringOption, type CommandContext, type Parsed } from './args.js';
import type { OptionTable } from './options.js';

export type LogFormat = 'text' | 'json';

export const LOG_OPTIONS = {
  'log-format': {
    type: 'string',
    value: 'text|json',
    description: "stderr as text lines, or one JSON line (pino) per line: level, time, msg, command (station on a fleet station's lines; a warning is level 40)",
    default: 'text',
  },
} as const satisfies OptionTable;

export const ACCESS_LOG_OPTION = {
  'access-log': {
    type: 'boolean',
    description: 'one line per HTTP request on stderr (type access: method, path without the query, status, route, ms; never a token, a cookie or any other header)',
  },
} as const satisfies OptionTable;

/**
 * Keys whose values are censored wherever a line carries them, a second line of defence: no line is built
 * from a header or a query today.
 */
export const REDACTED_KEYS = ['authorization', 'cookie', 'set-cookie', 'token', 'password', 'secret'] as const;
const REDACT_PATHS = REDACTED_KEYS.flatMap((k) => (k.includes('-') ? [`*["${k}"]`, `*.headers["${k}"]`] : [k, `*.${k}`, `*.headers.${k}`]));

/** A URL's user:password and a `token=` / `password=` query value in a message, censored (json lines). */
export function scrubMessage(text: string): string {
  return text
    .replace(/(\/\/[^/@\s:]+):[^/@\s]+@/g, '$1:[Redacted]@')
    .replace(/([?&](?:token|access_token|password|secret)=)[^&\s]+/gi, '$1[Redacted]')
    .replace(/(bearer\s+)[A-Za-z0-9._~+/=-]+/gi, '$1[Redacted]');
}

/** `--log-format` (or ENOSE_LOG_FORMAT). Throws EnoseError('bad-option'). */
export function logFormatFromArgs(parsed: Parsed<typeof LOG_OPTIONS>): LogFormat {
  const raw = stringOption(parsed, 'log-format') ?? 'text';
  if (raw !== 'text' && raw !== 'json') throw new EnoseError('bad-option', `--log-format must be text or json, got "${raw}"`);
  return raw;
}

/** A text line of a command turned into pino's level, message and fields. */
export function lineFields(command: string, line: string, station: string | undefined): { level: 'info' | 'warn'; msg: string; fields: Record<string, string> } {
  let msg = line;
  const fields: Record<string, string> = {};
  const prefix = `enose ${command}: `;
  if (msg.startsWith(prefix)) msg = msg.slice(prefix.length);
  if (msg.startsWith('fleet: ')) {
    msg = msg.slice('fleet: '.length);
    if (station !== undefined) fields['station'] = station;
  }
  let level: 'info' | 'warn' = 'info';
  if (msg.startsWith('warning: ')) {
    msg = msg.slice('warning: '.length);
    level = 'warn';
  }
  return { level, msg, fields };
}

/** The JSON logs set up by commands, by the context they were given (for the error that ends a run). */
const jsonLogs = new WeakMap<CommandContext, { logger: Logger; command: string }>();

/**
 * The line of the error that ends a command (run.ts): through the command's JSON log at level 50 (with the
 * error's code) where it set one up, else as the text line it has always been.
 */
export function writeErrorLine(ctx: CommandContext, text: string, code: string): void {
  const json = jsonLogs.get(ctx);
  if (!json) {
    ctx.stderr(`${text}\n`);
    return;
  }
  const { msg } = lineFields(json.command, text, undefined);
  json.logger.error({ code }, scrubMessage(msg));
}

export interface CommandLog {
  readonly format: LogFormat;
  /** The command's context with stderr going through the log (unchanged for text). */
  readonly ctx: CommandContext;
  /** One access-log line. */
  access(record: AccessRecord): void;
}

/** The log of one run of `command`; `station` names the fleet station lines (--station). */
export function commandLog(command: string, format: LogFormat, ctx: CommandContext, station?: string): CommandLog {
  if (format === 'text') return { format, ctx, access: (record) => ctx.stderr(`${accessLine(record)}\n`) };
  const logger: Logger = pino(
    {
      base: { command },
      redact: { paths: REDACT_PATHS, censor: '[Redacted]' },
    },
    // Synchronous and through the context, so that tests that run a command in-process see the lines.
    { write: (text: string) => ctx.stderr(text) },
  );
  jsonLogs.set(ctx, { logger, command });
  const stderr = (text: string) => {
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      const { level, msg, fields } = lineFields(command, line, station);
      logger[level](fields, scrubMessage(msg));
    }
  };
  return {
    format,
    ctx: { ...ctx, stderr },
    access: (record) => logger.info({ type: 'access', ...record }, `${record.method} ${record.path ?? '-'} ${record.status}`),
  };
}
