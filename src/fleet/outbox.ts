/**
 * What a station has to send and what it waits for, as a pure state machine (the clock comes in): each spooled
 * verdict is `queued` (to publish), `publishing` (sent, waiting for the broker's PUBACK) or `awaiting` (the broker
 * has it, the centre has not said so yet). It leaves the outbox, and so the spool, on the end-to-end
 * acknowledgement: the centre's ack (`ackFrom: 'centre'`, after the centre wrote it to disk) or, with
 * `ackFrom: 'broker'` (a station without a centre), the broker's PUBACK.
 *
 * A PUBACK only says the broker took the verdict: a broker crash before it saved or delivered it loses it. So an
 * `awaiting` verdict is sent again, oldest first, after a reconnect (everything awaiting) and when the centre has
 * not acknowledged it within `ackTimeoutMs` (at most `maxInFlight` a round; the wait doubles while no ack comes,
 * up to `maxAckTimeoutMs`, so that a centre that is down for hours costs a few resends, not a flood). Live
 * verdicts never wait for the centre: only `publishing` counts against `maxInFlight`.
 */

export type AckFrom = 'centre' | 'broker';

export interface OutboxOptions {
  /** Who takes a verdict out of the spool. @default 'centre' */
  readonly ackFrom?: AckFrom;
  /** Verdicts published and not yet acknowledged by the broker, at most. @default 64 */
  readonly maxInFlight?: number;
  /** Resend a verdict the centre has not acknowledged after this long (then twice as long, ...). @default 10000 */
  readonly ackTimeoutMs?: number;
  /** The longest wait between resends while the centre says nothing. @default 300000 */
  readonly maxAckTimeoutMs?: number;
}

interface Entry {
  readonly json: string;
  state: 'queued' | 'publishing' | 'awaiting';
  /** When the broker acknowledged it (ms, the outbox's clock). */
  ackedByBrokerAt: number;
}

export class Outbox {
  readonly ackFrom: AckFrom;
  private readonly entries = new Map<number, Entry>();
  private readonly maxInFlight: number;
  private readonly baseTimeoutMs: number;
  private readonly maxTimeoutMs: number;
  private timeoutMs: number;
  private inFlight = 0;
  /** Resends because of a timeout or a reconnect (health, tests, the benchmark). */
  resent = 0;

  constructor(options: OutboxOptions = {}) {
    this.ackFrom = options.ackFrom ?? 'centre';
    this.maxInFlight = options.maxInFlight ?? 64;
    this.baseTimeoutMs = options.ackTimeoutMs ?? 10_000;
    this.maxTimeoutMs = Math.max(this.baseTimeoutMs, options.maxAckTimeoutMs ?? 300_000);
    this.timeoutMs = this.baseTimeoutMs;
  }

  /** A verdict to send (its seq above every seq added before: the map keeps the spool's order). */
  add(seq: number, json: string): void {
    this.entries.set(seq, { json, state: 'queued', ackedByBrokerAt: NaN });
  }

  /** The queued verdicts to publish now, oldest first, marked as publishing (at most the free in-flight slots). */
  take(): { seq: number; json: string }[] {
    const out: { seq: number; json: string }[] = [];
    for (const [seq, e] of this.entries) {
      if (this.inFlight >= this.maxInFlight) break;
      if (e.state !== 'queued') continue;
      e.state = 'publishing';
      this.inFlight++;
      out.push({ seq, json: e.json });
    }
    return out;
  }

  /**
   * The publish of `seq` ended: `ok` with the broker's PUBACK, else failed (it is queued again). True when the
   * verdict leaves the spool now (ackFrom 'broker').
   */
  published(seq: number, ok: boolean, nowMs: number): boolean {
    const e = this.entries.get(seq);
    if (!e || e.state !== 'publishing') return false; // the centre acknowledged it meanwhile
    this.inFlight--;
    if (!ok) {
      e.state = 'queued';
      return false;
    }
    if (this.ackFrom === 'broker') {
      this.entries.delete(seq);
      return true;
    }
    e.state = 'awaiting';
    e.ackedByBrokerAt = nowMs;
    return false;
  }

  /** The centre has `seq` on disk: true when it was still here (it leaves the spool now). */
  centreAck(seq: number): boolean {
    const e = this.entries.get(seq);
    if (!e) return false;
    if (e.state === 'publishing') this.inFlight--;
    this.entries.delete(seq);
    this.timeoutMs = this.baseTimeoutMs;
    return true;
  }

  /** After a reconnect: what the broker had may be gone (a crash), so everything awaiting is sent again. */
  reconnected(): void {
    for (const e of this.entries.values()) {
      if (e.state === 'awaiting') {
        e.state = 'queued';
        this.resent++;
      }
    }
  }

  /**
   * Verdicts the centre has not acknowledged within the current wait go back to the queue (oldest first, at most
   * maxInFlight); the wait doubles when any did. Returns how many.
   */
  due(nowMs: number): number {
    let n = 0;
    for (const e of this.entries.values()) {
      if (n >= this.maxInFlight) break;
      if (e.state === 'awaiting' && nowMs - e.ackedByBrokerAt >= this.timeoutMs) {
        e.state = 'queued';
        n++;
      }
    }
    if (n > 0) {
      this.resent += n;
      this.timeoutMs = Math.min(this.maxTimeoutMs, this.timeoutMs * 2);
    }
    return n;
  }

  /** The oldest broker acknowledgement still waiting for the centre's (ms, NaN when none). */
  oldestAwaitingMs(): number {
    let oldest = NaN;
    for (const e of this.entries.values()) if (e.state === 'awaiting' && !(e.ackedByBrokerAt >= oldest)) oldest = e.ackedByBrokerAt;
    return oldest;
  }

  get size(): number {
    return this.entries.size;
  }

  get publishing(): number {
    return this.inFlight;
  }

  get awaiting(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.state === 'awaiting') n++;
    return n;
  }
}
