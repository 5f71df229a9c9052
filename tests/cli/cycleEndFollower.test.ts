/**
 * What `watch` and `serve` do with the engine's `cycle-end` events (cycleEndFollower): a taken END goes to the
 * recording; an END whose answer the link lost (not-connected, timeout) goes to the recording as unanswered,
 * since the rig may have taken it; a refusal or a rig without END records nothing; stderr says each failure
 * once (unsupported once per run).
 */
import { describe, expect, it } from 'vitest';
import { cycleEndFollower } from '../../src/cli/earlyOption.js';
import type { LiveRecorder } from '../../src/cli/recordOption.js';
import type { CycleEndIssue } from '../../src/io/cycleEnd.js';
import type { EngineEvent } from '../../src/types.js';

function fakeRecorder(calls: string[]): LiveRecorder {
  return {
    write: () => undefined,
    cycleEnd: (ended) => calls.push(`ended ${ended.reason} ${ended.phase} ${ended.seq}`),
    cycleEndUnanswered: (sample, reason, issue, atMs) => calls.push(`unanswered ${sample} ${reason} ${issue.kind} ${atMs}`),
    close: () => Promise.resolve(),
  };
}

const end = (sample: string, issue: CycleEndIssue | null): EngineEvent => ({
  type: 'cycle-end',
  atMs: 5,
  sample,
  reason: 'clear',
  ended: issue === null ? { reason: 'clear', phase: 'E', seq: 9, atMs: 4 } : null,
  issue,
});

describe('cycleEndFollower', () => {
  it('records taken and unanswered ENDs, not refused or unsupported ones; says each failure on stderr', () => {
    const calls: string[] = [];
    const stderr: string[] = [];
    const follow = cycleEndFollower('watch', { stdout: () => undefined, stderr: (t) => stderr.push(t), isTty: false, signal: new AbortController().signal }, fakeRecorder(calls));
    follow(end('A', null));
    follow(end('B', { kind: 'not-connected', detail: 'the port closed before the rig answered END' }));
    follow(end('C', { kind: 'timeout', detail: 'no answer to END within 2000 ms' }));
    follow(end('D', { kind: 'refused', detail: 'the rig answered END,ERR,idle' }));
    follow(end('E', { kind: 'unsupported', detail: 'unknown-command' }));
    follow(end('F', { kind: 'unsupported', detail: 'unknown-command' }));
    follow({ type: 'state', atMs: 1, state: 'connected', detail: '' } as EngineEvent);
    expect(calls).toEqual(['ended clear E 9', 'unanswered B clear not-connected 5', 'unanswered C clear timeout 5']);
    expect(stderr).toEqual([
      'enose watch: cycle B not ended early (not-connected: the port closed before the rig answered END)\n',
      'enose watch: cycle C not ended early (timeout: no answer to END within 2000 ms)\n',
      'enose watch: cycle D not ended early (refused: the rig answered END,ERR,idle)\n',
      'enose watch: the rig does not end cycles early (unknown-command): full cycles\n',
    ]);
  });
});
