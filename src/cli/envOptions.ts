/**
 * Options from the environment: every flag `--some-flag` of a command that uses this can also come from
 * `ENOSE_SOME_FLAG` (a service unit or a container sets its options there). The command line wins: an
 * environment value is used only when its flag is not given, and for a group of flags that exclude each other
 * (`--port` / `--replay`) only when none of the group is given. A boolean flag is on for `1`, `true`, `yes`
 * and off for `0`, `false`, `no`, `` (anything else is bad usage).
 */
import { EnoseError } from '../errors.js';
import type { OptionTable } from './options.js';

/** `latency-budget-ms` -> `ENOSE_LATENCY_BUDGET_MS`. */
export function envName(flag: string): string {
  return `ENOSE_${flag.toUpperCase().replace(/-/g, '_')}`;
}

/** Whether argv names `--flag` (as `--flag`, `--flag=value`, or a short form `-x`). */
function given(argv: readonly string[], flag: string, short: string | undefined): boolean {
  return argv.some((a) => a === `--${flag}` || a.startsWith(`--${flag}=`) || (short !== undefined && a === `-${short}`));
}

/**
 * The arguments the environment adds, to go before argv (so that argv wins where both give a value).
 * `exclusive` lists groups of flags of which the environment may set one only when argv names none.
 */
export function envArguments(
  command: string,
  options: OptionTable,
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  exclusive: readonly (readonly string[])[] = [],
): string[] {
  const out: string[] = [];
  for (const [flag, spec] of Object.entries(options)) {
    if (flag === 'help') continue;
    const value = env[envName(flag)];
    if (value === undefined) continue;
    if (given(argv, flag, spec.short)) continue;
    const group = exclusive.find((g) => g.includes(flag));
    if (group && group.some((f) => given(argv, f, options[f]?.short))) continue;
    if (spec.type === 'boolean') {
      const v = value.trim().toLowerCase();
      if (v === '1' || v === 'true' || v === 'yes') out.push(`--${flag}`);
      else if (!(v === '0' || v === 'false' || v === 'no' || v === '')) {
        throw new EnoseError('bad-usage', `${envName(flag)}=${JSON.stringify(value)} is not 1/true/yes or 0/false/no (see enose ${command} --help)`);
      }
    } else if (spec.multiple === true) {
      for (const part of value.split(',')) if (part.trim() !== '') out.push(`--${flag}=${part.trim()}`);
    } else {
      out.push(`--${flag}=${value}`);
    }
  }
  return out;
}
