/**
 * The host's INFO requests on one connection. The host asks for the info line when the port opens (and after
 * every reconnect), so a rig that was already streaming is identified before its frames wait, and again when
 * the codec asks (`need-info`: frames came without an info line, so the first INFO may have been lost, e.g.
 * sent while a powered rig was still reopening its end). Two requests can bring two identical info lines. The
 * codec takes the second for an answer while its window lasts (re-armed with `infoRequested` for each request
 * still open); when the second comes later than that (a long backlog read first), the codec reports a reboot
 * before it, and this class takes a reboot followed by the same info line, while a request younger than
 * `openMs` is unanswered, for that answer too. Only the connection's first info line, and the line after a
 * reboot that changed it or came with no request open, are passed on: a repeated info line would look like a
 * reboot to the engine.
 */
import { sameRigInfo as sameInfo, type RigInfo } from '../types.js';

export interface InfoDecision {
  /** Pass the info line on. */
  readonly deliver: boolean;
  /** Pass a reboot held back by `onReboot` on first. */
  readonly reboot: boolean;
  /** Requests are still open: the codec must take the next identical line as an answer too (`infoRequested`). */
  readonly rearm: boolean;
}

export class InfoRequests {
  private sentAtMs: number[] = [];
  private current: RigInfo | null = null;
  private held = false;
  private passed = false;

  /** @param openMs how long a request may wait for its answer (a backlog read before it). */
  constructor(private readonly openMs = 10_000) {}

  /** An INFO went out at `nowMs`. */
  sent(nowMs: number): void {
    this.sentAtMs.push(nowMs);
  }

  /** The codec reported a reboot. True: pass it on now; false: held until the info line says what it was. */
  onReboot(nowMs: number): boolean {
    this.expire(nowMs);
    if (this.current !== null && this.sentAtMs.length > 0) {
      this.held = true;
      return false;
    }
    this.passed = true;
    return true;
  }

  onInfo(info: RigInfo, nowMs: number): InfoDecision {
    this.expire(nowMs);
    const answered = this.sentAtMs.length > 0;
    if (answered) this.sentAtMs.shift();
    const rearm = this.sentAtMs.length > 0;
    const first = this.current === null;
    const held = this.held;
    const passed = this.passed;
    this.held = false;
    this.passed = false;
    if (first || passed) {
      this.current = info;
      return { deliver: true, reboot: false, rearm };
    }
    if (sameInfo(this.current!, info) && (answered || !held)) return { deliver: false, reboot: false, rearm };
    this.current = info;
    return { deliver: true, reboot: held, rearm };
  }

  /** A new connection: nothing asked, nothing seen. */
  reset(): void {
    this.sentAtMs = [];
    this.current = null;
    this.held = false;
    this.passed = false;
  }

  private expire(nowMs: number): void {
    while (this.sentAtMs.length > 0 && nowMs - this.sentAtMs[0] > this.openMs) this.sentAtMs.shift();
  }
}
