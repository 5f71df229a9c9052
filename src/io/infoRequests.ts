/**
 * The host's INFO requests on one connection. The host asks for the info line when the port opens (and after
 * every reconnect), so a rig that was already streaming is identified before its frames wait, and again when
 * the codec asks (`need-info`: frames came without an info line, so the first INFO may have been lost, e.g.
 * sent while a powered rig was still reopening its end). Two requests can bring two identical info lines; the
 * codec reads the second as an answer (it is re-armed with `infoRequested` for each request still open) and the
 * source passes only the first on: a repeated info line would look like a reboot to the engine.
 */
export class InfoRequests {
  private open = 0;
  private seen = false;
  private reboot = false;

  /** An INFO went out. */
  sent(): void {
    this.open++;
  }

  /** The codec reported a reboot: the info line that follows it is a new one, passed on. */
  rebooted(): void {
    this.reboot = true;
  }

  /**
   * An info line came. `deliver`: pass it on (the connection's first, or one after a reboot); otherwise it answers
   * a repeated request. `rearm`: requests are still open, so the codec must take the next identical line as an
   * answer too (call `infoRequested`).
   */
  onInfo(): { readonly deliver: boolean; readonly rearm: boolean } {
    const deliver = !this.seen || this.reboot;
    this.seen = true;
    this.reboot = false;
    if (this.open > 0) this.open--;
    return { deliver, rearm: this.open > 0 };
  }

  /** A new connection: nothing asked, nothing seen. */
  reset(): void {
    this.open = 0;
    this.seen = false;
    this.reboot = false;
  }
}
