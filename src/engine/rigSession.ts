/**
 * Whether the engine can judge a rig's cycles: every info line that changes the channels, the rate or the unit
 * starts a new session, checked again (docs/hardening-rig.md). Its numbers must lie within RIG_INFO_LIMITS (the
 * extractor's buffers are sized by rate x seconds x channels), and with a model its channels must be the
 * model's, in order. A session that fails is not judged, and says why; the engine never stops on an info line.
 */
import type { ModelBundle } from '../model/runtime/bundle.js';
import { RIG_INFO_LIMITS, type RigInfo } from '../types.js';

/** Why the engine cannot judge this rig's cycles with this model (null: it can). */
export function rigProblem(info: RigInfo, bundle: ModelBundle | null): string | null {
  const { minRateHz, maxRateHz, maxChannels } = RIG_INFO_LIMITS;
  if (!(info.rateHz >= minRateHz && info.rateHz <= maxRateHz)) return `the rig's rate ${info.rateHz} Hz is outside ${minRateHz} to ${maxRateHz} Hz`;
  const n = info.channels.length;
  if (n === 0 || n > maxChannels) return `the rig has ${n} channels, not 1 to ${maxChannels}`;
  return bundle ? channelMismatch(bundle, info) : null;
}

/** The model's channels against the rig's: null when they are the same list, else one line saying how they differ. */
export function channelMismatch(bundle: ModelBundle, info: RigInfo): string | null {
  const expected = bundle.input.kind === 'frames' ? bundle.input.channels : [];
  if (expected.length === info.channels.length && expected.every((c, i) => c === info.channels[i])) return null;
  const missing = expected.filter((c) => !info.channels.includes(c));
  const extra = info.channels.filter((c) => !expected.includes(c));
  const diff = [missing.length > 0 && `without ${list(missing)}`, extra.length > 0 && `with ${list(extra)}`].filter(Boolean).join(', ');
  return `the model is for ${expected.length} channels, the rig ${cut(info.rig)} has ${info.channels.length}${diff ? ` (${diff})` : ' in another order'}`;
}

/** True when two info lines describe the same session for the engine (rate, unit and channels). */
export function sameSession(a: RigInfo, b: RigInfo): boolean {
  return a.rateHz === b.rateHz && a.unit === b.unit && a.channels.length === b.channels.length && a.channels.every((c, i) => c === b.channels[i]);
}

/** What changed from `previous` to `info`, in a few words. */
export function describeChange(previous: RigInfo | null, info: RigInfo): string {
  if (previous === null) return `first info line: ${info.channels.length} channels at ${info.rateHz} Hz`;
  const parts: string[] = [];
  if (previous.channels.join(';') !== info.channels.join(';')) parts.push(`channels ${previous.channels.length} -> ${info.channels.length}`);
  if (previous.rateHz !== info.rateHz) parts.push(`rate ${previous.rateHz} -> ${info.rateHz} Hz`);
  if (previous.unit !== info.unit) parts.push(`unit ${previous.unit} -> ${info.unit}`);
  return parts.join(', ');
}

/** At most 5 names, each at most 40 characters: a reason is one readable line whatever the rig sent. */
function list(names: readonly string[]): string {
  const shown = names.slice(0, 5).map(cut).join(',');
  return names.length > 5 ? `${shown} and ${names.length - 5} more` : shown;
}

function cut(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}...` : s;
}
