/** `--record <dir>` for the live commands: a recorder that comes into being when the rig does. */
import { existsSync } from 'node:fs';
import { EnoseError } from '../errors.js';
import { createRecorder, type Recorder } from '../io/recording.js';
import type { CycleEnded, CycleEndIssue } from '../io/cycleEnd.js';
import type { EngineEvent } from '../types.js';
import type { CommandContext } from './args.js';
import type { OptionTable } from './options.js';

export const RECORD_OPTION = {
  record: { type: 'string', value: 'dir', description: 'record every frame, the link events and the verdicts to a new folder' },
} as const satisfies OptionTable;

export interface LiveRecorder {
  write(event: EngineEvent): void;
  /** Where and why the rig ended a cycle early (`recorder.cycleEnd`); nothing before the recording has begun. */
  cycleEnd(ended: CycleEnded): void;
  /** An END whose answer never came (`recorder.cycleEndUnanswered`); nothing before the recording has begun. */
  cycleEndUnanswered(sample: string, reason: string, issue: CycleEndIssue, atMs: number): void;
  close(): Promise<void>;
}

/**
 * The folder is checked now (it must not exist) but created only at the first link event (connected, or the
 * rig's info line): a command that fails to open its port leaves nothing under the recording's name.
 */
export function liveRecorder(command: string, dir: string | undefined, modelId: string, source: string, ctx: CommandContext): LiveRecorder | null {
  if (dir === undefined) return null;
  if (existsSync(dir)) throw new EnoseError('bad-usage', `--record ${dir}: already exists; choose a new folder`);
  let recorder: Recorder | null = null;
  return {
    write(event) {
      if (recorder === null) {
        if (event.type !== 'info' && !(event.type === 'state' && event.state === 'connected')) return;
        recorder = createRecorder(dir, {
          modelId,
          source,
          startedAt: new Date(),
          onError: (error) => ctx.stderr(`enose ${command}: recording stopped: ${error.message.split('\n')[0]}\n`),
        });
      }
      recorder.write(event);
    },
    cycleEnd(ended) {
      recorder?.cycleEnd(ended);
    },
    cycleEndUnanswered(sample, reason, issue, atMs) {
      recorder?.cycleEndUnanswered(sample, reason, issue, atMs);
    },
    async close() {
      await recorder?.close();
    },
  };
}
