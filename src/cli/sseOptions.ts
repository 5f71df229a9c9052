/**
 * The protection of an event stream (`/v1/events`) as a command's options, for `enose serve` and `enose fleet`:
 * a cap on open streams (503 with Retry-After past it) and the stall after which a stream that does not read is
 * cut.
 */
import { numberOption, type Parsed } from './args.js';
import type { OptionTable } from './options.js';

export const SSE_OPTIONS = {
  'max-sse-clients': { type: 'string', value: 'n', description: 'event streams (/v1/events) open at most; past it 503, Retry-After', default: '100' },
  'sse-stall-s': { type: 'string', value: 's', description: 'an event stream that is behind and takes nothing this long is cut', default: '10' },
} as const satisfies OptionTable;

export function sseLimitsFromArgs(command: string, parsed: Parsed<typeof SSE_OPTIONS>): { maxSseClients: number; sseStallS: number } {
  return {
    maxSseClients: numberOption(command, parsed, 'max-sse-clients', { integer: true, min: 1, max: 100_000 }) ?? 100,
    sseStallS: numberOption(command, parsed, 'sse-stall-s', { above: 0, max: 3600 }) ?? 10,
  };
}
