/**
 * The protection of an event stream (`/v1/events`) as a command's options: a cap on open streams (503 with
 * Retry-After past it) and the stall after which a stream that does not read is cut. `enose fleet` takes them
 * from here; `enose serve` declares the same two options with the same bounds and defaults.
 */
import { numberOption, type OptionSpec, type Parsed } from './args.js';

export const SSE_OPTIONS: OptionSpec = {
  'max-sse-clients': { type: 'string' },
  'sse-stall-s': { type: 'string' },
};

export const SSE_USAGE = `  --max-sse-clients <n>  event streams (/v1/events) open at most; past it 503, Retry-After   [default: 100]
  --sse-stall-s <s>      an event stream that is behind and takes nothing this long is cut  [default: 10]`;

export function sseLimitsFromArgs(command: string, parsed: Parsed): { maxSseClients: number; sseStallS: number } {
  return {
    maxSseClients: numberOption(command, parsed, 'max-sse-clients', { integer: true, min: 1, max: 100_000 }) ?? 100,
    sseStallS: numberOption(command, parsed, 'sse-stall-s', { above: 0, max: 3600 }) ?? 10,
  };
}
