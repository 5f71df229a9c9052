/**
 * A training set's classes against the verdict policy: a model trained without a suspicious class can only ever
 * clear (an attack run trained one on clear samples alone, and it cleared 19 of 20 cocaine containers), so such a
 * set is refused unless the caller asks for it explicitly.
 */
import { EnoseError } from '../errors.js';
import { isSuspiciousLabel, resolvePolicyRule, type PolicyOptions } from '../model/runtime/policy.js';
import type { SourceEvent } from '../types.js';

/**
 * Throws `EnoseError('bad-data')` when the labels have a verdict policy (a label named clear, or --suspicious /
 * --clear) under which no class is suspicious, unless `allowed`. Without a policy (no label named clear and
 * neither option) the model gives classes, never clear: nothing to refuse. `where` names the data.
 */
export function checkSuspiciousClass(labels: Iterable<string>, options: PolicyOptions, allowed: boolean, where: string): void {
  if (allowed) return;
  const classes = [...new Set(labels)].filter((l) => l !== '').sort();
  if (classes.length === 0) return;
  const rule = resolvePolicyRule(classes, options);
  if (rule === null || classes.some((c) => isSuspiciousLabel(rule, c))) return;
  throw new EnoseError(
    'bad-data',
    `${where}: no suspicious class to train on (classes: ${classes.slice(0, 10).join(', ')}${classes.length > 10 ? ', ...' : ''}, all clear under ${rule.rule === 'clear-listed' ? `clear = ${rule.labels.join(',')}` : 'the policy'}): the model could only clear; --allow-no-suspicious-class trains it anyway`,
  );
}

/** The labels of the cycles (frames with a sample id) in recordings' events. */
export function cycleLabels(recordings: readonly { readonly events: Iterable<SourceEvent> }[]): Set<string> {
  const labels = new Set<string>();
  let last = '';
  for (const r of recordings) {
    for (const e of r.events) {
      if (e.type !== 'frame' || !e.sample || (e.label ?? '') === last) continue;
      last = e.label ?? '';
      labels.add(last);
    }
  }
  return labels;
}
