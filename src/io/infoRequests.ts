/**
 * When the host asks the rig for its info line (`INFO`): when the port opens (and after every reconnect), so a
 * rig that was already streaming is identified before its frames wait, and when the codec asks (`need-info`).
 * One request at a time: an INFO while another is unanswered within the answer window would bring two identical
 * info lines, and the codec reads the second as a reboot (hardware/PROTOCOL.md, "Reboots").
 */
export class InfoRequests {
  private askedAtMs = -Infinity;

  /** @param windowMs how long an INFO waits for its answer (the codec's hold time). */
  constructor(private readonly windowMs: number) {}

  /** True when an INFO should go out now (none is waiting for its answer); records it as sent. */
  ask(nowMs: number): boolean {
    if (nowMs - this.askedAtMs < this.windowMs) return false;
    this.askedAtMs = nowMs;
    return true;
  }

  /** An info line came: the request, if any, is answered. */
  answered(): void {
    this.askedAtMs = -Infinity;
  }

  /** A new connection: nothing is waiting. */
  reset(): void {
    this.askedAtMs = -Infinity;
  }
}
