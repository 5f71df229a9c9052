/**
 * ENL/1's vocabulary: its name, its line limit, the issue kinds, the messages a line decodes to, and the
 * rules for free-text and name fields that encoders and the parser share (hardware/PROTOCOL.md).
 */

import { RIG_INFO_LIMITS, type Frame, type LinkIssueKind, type RigCommand, type RigInfo } from '../../types.js';

/** The protocol name and version carried in the info line. */
export const PROTOCOL_NAME = 'ENL/1';
/** Longest valid line in bytes, without '\n' and an optional '\r' before it. */
export const MAX_LINE_BYTES = 4096;

/** The protocol's fixed issue names, used in events, metrics and tests (the shared vocabulary's LinkIssueKind). */
export type IssueKind = LinkIssueKind;
export const ISSUE_KINDS: readonly IssueKind[] = [
  'too-long',
  'bad-checksum',
  'malformed',
  'wrong-channel-count',
  'repeated-seq',
  'no-info',
];


/** A rig's answer to a command (`$ENA`). `command` is the command word echoed, `?` when unreadable. */
export interface Ack {
  readonly command: string;
  readonly ok: boolean;
  readonly detail?: string;
}

/** A rejected line: the fixed kind, the offending line shortened to about 120 characters, and why. */
export interface LineIssue {
  readonly kind: IssueKind;
  readonly line: string;
  readonly detail: string;
}

/** One valid line, decoded without any state. */
export type Message =
  | { readonly type: 'info'; readonly info: RigInfo }
  | { readonly type: 'frame'; readonly frame: Frame }
  | { readonly type: 'ack'; readonly ack: Ack }
  | { readonly type: 'command'; readonly command: RigCommand };

export type LineResult = { readonly ok: true; readonly message: Message } | { readonly ok: false; readonly issue: LineIssue };

/**
 * Bounds of what an info line may announce (the shared RIG_INFO_LIMITS): the engine sizes buffers by the rate
 * and the channel count, so a line beyond them is `malformed`, never a huge allocation. 1000 Hz is 100 times
 * the reference rig; a 4096-byte frame line holds about 256 readings of 15 characters.
 */
export const INFO_LIMITS = RIG_INFO_LIMITS;

/** Longest sample id a command may carry (firmware buffers are sized for it). */
export const MAX_SAMPLE_ID_CHARS = 64;
/** Longest reason an END command may carry. */
export const MAX_END_REASON_CHARS = 32;

/** Characters allowed in a free-text field (sample id, rig id, ack detail): printable ASCII but `,;*$`. */
export function isTextByte(b: number): boolean {
  return b >= 0x20 && b <= 0x7e && b !== 0x2c && b !== 0x3b && b !== 0x2a && b !== 0x24;
}

export function isTextField(s: string, allowEmpty = false): boolean {
  if (s.length === 0) return allowEmpty;
  for (let i = 0; i < s.length; i++) if (!isTextByte(s.charCodeAt(i))) return false;
  return true;
}

/** Channel names: printable ASCII without spaces or `,;*$=`. */
export function isNameField(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const b = s.charCodeAt(i);
    if (!isTextByte(b) || b === 0x20 || b === 0x3d) return false;
  }
  return true;
}
