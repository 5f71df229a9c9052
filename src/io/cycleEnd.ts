/**
 * Ending a rig's cycle once the host's verdict is in (ENL/1 `END`, hardware/PROTOCOL.md "Ending a cycle"):
 * the typed face a source offers (`CycleEnding`), and the bookkeeping of one link's END requests
 * (`CycleEnder`, used by the serial source).
 *
 * `endCycle(reason)` never throws for what a rig or a link does: the rig's `END,OK` is `{ ok: true, value }`
 * with where the cycle was ended (the phase and seq of the last frame before the ack); anything else is
 * `{ ok: false, error }` with a kind:
 * - `unsupported`: the rig does not know END (`END,ERR,unknown-command`, or `?,ERR,malformed` from a parser
 *   older than END), a csv rig, or a replay whose recording did not end this cycle. The link remembers it
 *   until it reconnects or the rig reboots: later calls answer at once, and the rig keeps full cycles.
 * - `refused`: the rig knows END but did not take it (`END,ERR,idle`: no cycle to end; a garbled line).
 * - `timeout`: no answer within `timeoutMs`.
 * - `not-connected`: the port is closed (or closed while waiting).
 * Only misuse throws: a reason the protocol cannot carry (EnoseError('bad-usage'), from `encodeCommand`).
 */
import { fail, ok } from '../errors.js';
import { canEndCycles, type CycleEnded, type CycleEndIssueKind, type CycleEnding, type CycleEndResult, type FrameSource, type Phase } from '../types.js';

export type { CycleEnded, CycleEndIssue, CycleEndIssueKind, CycleEndResult, CycleEnding } from '../types.js';
export { canEndCycles } from '../types.js';

/** How long `endCycle` waits for the rig's ack. */
export const DEFAULT_END_TIMEOUT_MS = 2000;

export function endIssue(kind: CycleEndIssueKind, detail: string): CycleEndResult {
  return fail({ kind, detail });
}

interface Pending {
  readonly reason: string;
  readonly resolve: (result: CycleEndResult) => void;
  readonly timer: ReturnType<typeof setTimeout>;
  readonly promise: Promise<CycleEndResult>;
}

/** One link's END requests: at most one in flight, matched with the rig's ack in wire order. */
export class CycleEnder {
  /** null: not asked on this connection yet. */
  supported: boolean | null = null;
  private pending: Pending | null = null;
  private lastSeq: number | null = null;
  private lastPhase: Phase | null = null;

  constructor(private readonly timeoutMs = DEFAULT_END_TIMEOUT_MS) {}

  /** Every delivered frame, in wire order (two stores, no allocation). */
  frame(seq: number, phase: Phase): void {
    this.lastSeq = seq;
    this.lastPhase = phase;
  }

  /**
   * Starts an END: `write` sends the line. A call while one is in flight gets the same answer; a rig known not
   * to take END is answered at once without a write.
   */
  begin(reason: string, write: () => Promise<void>): Promise<CycleEndResult> {
    if (this.supported === false) return Promise.resolve(endIssue('unsupported', 'the rig does not know END (it said so on this connection): it runs full cycles'));
    if (this.pending !== null) return this.pending.promise;
    let resolve!: (result: CycleEndResult) => void;
    const promise = new Promise<CycleEndResult>((r) => (resolve = r));
    const timer = setTimeout(() => this.settle(endIssue('timeout', `no answer to END within ${this.timeoutMs} ms`)), this.timeoutMs);
    this.pending = { reason, resolve, timer, promise };
    write().catch((error: unknown) => this.settle(endIssue('not-connected', `writing END failed: ${(error as Error).message}`)));
    return promise;
  }

  /** An ack from the rig, in wire order. */
  onAck(command: string, isOk: boolean, detail: string, atMs: number): void {
    const p = this.pending;
    if (p === null) return;
    if (command === 'END') {
      if (isOk) {
        this.supported = true;
        this.settle(ok({ reason: p.reason, phase: this.lastPhase, seq: this.lastSeq, atMs }));
      } else if (detail === 'unknown-command') {
        this.supported = false;
        this.settle(endIssue('unsupported', 'the rig answered END,ERR,unknown-command: it runs full cycles'));
      } else {
        this.supported = true;
        this.settle(endIssue('refused', `the rig answered END,ERR${detail === '' ? '' : `,${detail}`}`));
      }
    } else if (command === '?' && !isOk) {
      // Our END is a valid line: a rig that calls it malformed predates END; any other kind was a garbled line.
      if (detail === 'malformed') this.supported = false;
      this.settle(endIssue(detail === 'malformed' ? 'unsupported' : 'refused', `the rig answered ?,ERR,${detail} to END`));
    }
  }

  /** The link closed: an END in flight is answered `not-connected`; the next connection asks afresh. */
  disconnected(): void {
    this.settle(endIssue('not-connected', 'the port closed before the rig answered END'));
    this.forget();
  }

  /** A new connection or a reboot: what the rig said about END no longer holds. */
  forget(): void {
    this.supported = null;
    this.lastSeq = null;
    this.lastPhase = null;
  }

  private settle(result: CycleEndResult): void {
    const p = this.pending;
    if (p === null) return;
    this.pending = null;
    clearTimeout(p.timer);
    p.resolve(result);
  }
}

/**
 * `tap` (a wrapper around `source`, e.g. one that watches its events) with `source`'s `endCycle` and
 * `endSupported` when it has them, so that the engine can still end the rig's cycles through the wrapper.
 */
export function withCycleEnding(tap: FrameSource, source: FrameSource): FrameSource {
  if (!canEndCycles(source)) return tap;
  const ending: FrameSource & CycleEnding = {
    description: tap.description,
    send: (command) => tap.send(command),
    run: (emit, signal) => tap.run(emit, signal),
    endCycle: (reason) => source.endCycle(reason),
    get endSupported() {
      return source.endSupported;
    },
  };
  return ending;
}
