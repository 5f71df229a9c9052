/**
 * The centre's side of the end-to-end acknowledgement: verdict ids gathered per station as they reach the log
 * (fdatasync'd), then one `enose/<station>/ack` message (QoS 1) per station with all of them, on the next turn of
 * the event loop, so that a burst of resends after an outage costs a few ack messages, not one each. An ack lost
 * on the way (a broker crash, the station offline) only makes the station send the verdict again, which the
 * centre drops by its id and acknowledges once more.
 */
import { topics, type AckMessage } from './message.js';

export interface AckSender {
  /** The verdict `id` of `station` is on disk (a new one or one received before). */
  add(station: string, id: string): void;
  /** Ids gathered and not yet handed to `publish`. */
  readonly pending: number;
}

/** At most this many ids in one message (the schema's bound is 10,000). */
const MAX_IDS = 1000;

export function createAckSender(publish: (topic: string, payload: string) => void, now: () => number = Date.now): AckSender {
  const byStation = new Map<string, string[]>();
  let pending = 0;
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    const time = new Date(now()).toISOString();
    for (const [station, ids] of byStation) {
      for (let i = 0; i < ids.length; i += MAX_IDS) {
        const message: AckMessage = { kind: 'enose-ack', station, time, ids: ids.slice(i, i + MAX_IDS) };
        publish(topics.ack(station), JSON.stringify(message));
      }
    }
    byStation.clear();
    pending = 0;
  };
  return {
    add(station, id) {
      let ids = byStation.get(station);
      if (!ids) byStation.set(station, (ids = []));
      ids.push(id);
      pending++;
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    get pending() {
      return pending;
    },
  };
}
