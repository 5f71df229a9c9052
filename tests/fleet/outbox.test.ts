/** The station's outbox: what is sent, what waits for the centre, what is sent again and when. */
import { describe, expect, it } from 'vitest';
import { Outbox } from '../../src/fleet/outbox.js';

const fill = (o: Outbox, n: number) => {
  for (let seq = 1; seq <= n; seq++) o.add(seq, `{"seq":${seq}}`);
};

describe('Outbox', () => {
  it('keeps a verdict the broker acknowledged until the centre does (end to end)', () => {
    const o = new Outbox({ maxInFlight: 2 });
    fill(o, 3);
    expect(o.take().map((r) => r.seq)).toEqual([1, 2]);
    expect(o.take()).toEqual([]); // both slots taken
    expect(o.published(1, true, 0)).toBe(false);
    expect(o.take().map((r) => r.seq)).toEqual([3]); // live verdicts do not wait for the centre
    expect(o).toMatchObject({ size: 3, awaiting: 1, publishing: 2 });
    expect(o.centreAck(1)).toBe(true);
    expect(o.centreAck(1)).toBe(false);
    // The centre's ack may overtake the PUBACK of a resend: the late PUBACK changes nothing.
    expect(o.centreAck(2)).toBe(true);
    expect(o.published(2, true, 1)).toBe(false);
    expect(o).toMatchObject({ size: 1, publishing: 1 });
  });

  it('with ackFrom broker, the PUBACK takes it out', () => {
    const o = new Outbox({ ackFrom: 'broker' });
    fill(o, 2);
    o.take();
    expect(o.published(1, true, 0)).toBe(true);
    expect(o.published(2, false, 0)).toBe(false); // failed: queued again
    expect(o.take().map((r) => r.seq)).toEqual([2]);
    expect(o.size).toBe(1);
  });

  it('sends everything awaiting again after a reconnect, oldest first', () => {
    const o = new Outbox();
    fill(o, 4);
    o.take();
    for (const seq of [1, 2, 3, 4]) o.published(seq, true, 0);
    o.centreAck(2);
    o.reconnected();
    expect(o.take().map((r) => r.seq)).toEqual([1, 3, 4]);
    expect(o.resent).toBe(3);
  });

  it('resends what the centre left unacknowledged after the timeout, doubling the wait while it stays silent', () => {
    const o = new Outbox({ ackTimeoutMs: 1000, maxAckTimeoutMs: 3000, maxInFlight: 3 });
    fill(o, 5);
    const round = (t: number) => {
      const taken = o.take().map((r) => r.seq);
      for (const seq of taken) o.published(seq, true, t);
      return taken;
    };
    expect(round(0)).toEqual([1, 2, 3]);
    expect(round(0)).toEqual([4, 5]);
    expect(o.due(999)).toBe(0);
    expect(o.due(1000)).toBe(3); // at most maxInFlight a round
    expect(round(1000)).toEqual([1, 2, 3]);
    expect(o.due(1500)).toBe(0); // the wait is 2000 now
    expect(o.due(2000)).toBe(2); // 4 and 5, sent at 0
    expect(round(2000)).toEqual([4, 5]);
    expect(o.due(3999)).toBe(0); // 1 to 3 broker-acked at 1000; the wait is capped at 3000
    expect(o.due(4000)).toBe(3);
    round(4000);
    o.centreAck(1); // any ack: the wait is 1000 again
    expect(o.due(5000)).toBe(3); // 2, 3 (at 4000) and 4 (at 2000): maxInFlight
    expect(o.resent).toBe(11);
    expect(o.take().map((r) => r.seq)).toEqual([2, 3, 4]);
  });
});
