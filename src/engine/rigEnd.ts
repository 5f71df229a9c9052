/**
 * The rig follows an early verdict (issue 22, docs/ending-cycles.md): the engine tells a source that can end
 * cycles (`canEndCycles`) to end the cycle with the verdict as the reason, without waiting in the frame path,
 * and reports the rig's answer as a `cycle-end` event (a recorder takes its `ended`). A rig known not to take
 * END (`endSupported === false`) is not asked again: it keeps full cycles, and the event said so once.
 */
import { canEndCycles, type EngineEvent, type FrameSource, type VerdictEvent } from '../types.js';

/**
 * Returns the `onEarly` hook of an engine on `source`, or null for a source that cannot end cycles (memory).
 * `deliver` gets the `cycle-end` event once the rig has answered; `now` stamps it.
 */
export function rigEnder(source: FrameSource, deliver: (event: EngineEvent) => void, now: () => number): ((verdict: VerdictEvent) => void) | null {
  if (!canEndCycles(source)) return null;
  return (verdict) => {
    if (source.endSupported === false || verdict.verdict === null) return;
    const reason = verdict.verdict;
    const sample = verdict.sample;
    source.endCycle(reason).then(
      (result) => deliver({ type: 'cycle-end', atMs: now(), sample, reason, ended: result.ok ? result.value : null, issue: result.ok ? null : result.error }),
      // Only a reason the protocol cannot carry throws, and a verdict kind is not one: say so as an issue.
      (error: unknown) => deliver({ type: 'cycle-end', atMs: now(), sample, reason, ended: null, issue: { kind: 'refused', detail: `END not sent: ${(error as Error).message}` } }),
    );
  };
}
