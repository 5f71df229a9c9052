/**
 * The emulated rig's answers to the host's lines (hardware/PROTOCOL.md, "Host to rig: commands"): the info
 * line for INFO, an ack for START, STOP and END, `<word>,ERR,unknown-command` for a command word it does not
 * know, and `?,ERR,<kind>` for a line that fails its checks. Valid lines that are not commands get nothing.
 */
import type { RigCommand } from '../types.js';
import { encodeAck, unknownCommandWord, type DecoderOutput } from './protocol.js';
import type { RigCycles } from './rigCycles.js';
import type { RigScript } from './rigScript.js';

/** What the answers read and change. */
export interface CommandedRig {
  readonly cycles: RigCycles;
  readonly script: RigScript;
  /** The rig's info line, with its line break. */
  readonly info: string;
  /** false: a rig from before END (answers it `unknown-command`). */
  readonly endCommand: boolean;
  /** Frames produced so far (for the log). */
  readonly slot: number;
  /** Commands received, by word (`?` for unreadable lines). */
  readonly commands: Record<string, number>;
  readonly log: ((line: string) => void) | undefined;
}

/** The line to send back for one decoded host line, or null. */
export function answerHostLine(out: DecoderOutput, rig: CommandedRig): string | null {
  if (out.type === 'command') return answerCommand(out.command, rig);
  if (out.type !== 'issue') return null;
  const word = unknownCommandWord(out);
  if (word !== null) {
    count(rig, word);
    return encodeAck({ command: word, ok: false, detail: 'unknown-command' });
  }
  if (out.kind !== 'too-long' && out.kind !== 'bad-checksum' && out.kind !== 'malformed') return null;
  count(rig, '?');
  return encodeAck({ command: '?', ok: false, detail: out.kind });
}

function count(rig: CommandedRig, word: string): void {
  rig.commands[word] = (rig.commands[word] ?? 0) + 1;
}

function answerCommand(command: RigCommand, rig: CommandedRig): string {
  count(rig, command.command);
  switch (command.command) {
    case 'INFO':
      return rig.info;
    case 'STOP':
      if (rig.cycles.abort()) rig.log?.('STOP: cycle aborted');
      return encodeAck({ command: 'STOP', ok: true });
    case 'START': {
      if (rig.cycles.running) return encodeAck({ command: 'START', ok: false, detail: 'busy' });
      const next = rig.script.nextCycle();
      if (next === null) return encodeAck({ command: 'START', ok: false, detail: 'no-data' });
      rig.cycles.start(next, command.sampleId, rig.slot);
      return encodeAck({ command: 'START', ok: true });
    }
    case 'END':
      // A rig from before END answers it as any unknown command: the host then keeps full cycles.
      if (!rig.endCommand) return encodeAck({ command: 'END', ok: false, detail: 'unknown-command' });
      if (!rig.cycles.end(command.reason, rig.slot)) return encodeAck({ command: 'END', ok: false, detail: 'idle' });
      return encodeAck({ command: 'END', ok: true });
  }
}
