/**
 * The centre's append-only log (`<data>/fleet.jsonl`): every distinct verdict and every status, one JSON line
 * each, fsync'd before the broker gets its PUBACK, so that what the centre acknowledged survives its restart.
 * On start the log is read once, in chunks, into the state (the dedup index with it): memory holds the state's
 * bounded part, the disk everything.
 *
 *   {"t":"verdict","at":"<received ISO>","m":{...}}
 *   {"t":"status","at":"<received ISO>","m":{...}}
 */
import { closeSync, existsSync, fdatasyncSync, mkdirSync, openSync, readSync, statSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { healthMessageSchema, statusMessageSchema, verdictMessageSchema } from './message.js';
import { applyFleetEvent, type FleetEvent, type FleetState } from './state.js';

export interface FleetLog {
  readonly path: string;
  /** Appends the event (a verdict or a status) and flushes it to disk. */
  append(event: FleetEvent): void;
  close(): void;
}

/** Reads `<dir>/fleet.jsonl` (cutting a torn last line) into `state`; returns the log, open for appends. */
export function openFleetLog(dir: string, state: FleetState): { log: FleetLog; replayed: number; skipped: number } {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'fleet.jsonl');
  let replayed = 0;
  let skipped = 0;
  if (existsSync(path)) {
    const fd = openSync(path, 'r');
    const size = statSync(path).size;
    const chunk = Buffer.alloc(1 << 20);
    let carry = '';
    let position = 0;
    let complete = 0;
    while (position < size) {
      const n = readSync(fd, chunk, 0, chunk.length, position);
      if (n <= 0) break;
      position += n;
      const text = carry + chunk.toString('utf8', 0, n);
      const lines = text.split('\n');
      carry = lines.pop()!;
      for (const line of lines) {
        complete += Buffer.byteLength(line) + 1;
        if (line === '') continue;
        const event = parseLogLine(line);
        if (event) {
          applyFleetEvent(state, event);
          replayed++;
        } else skipped++;
      }
    }
    closeSync(fd);
    if (complete < size) truncateSync(path, complete); // a line torn by a crash: its PUBACK was never sent
  }
  const fd = openSync(path, 'a');
  return {
    replayed,
    skipped,
    log: {
      path,
      append(event) {
        writeSync(fd, `${JSON.stringify({ t: event.type, at: event.receivedAt, m: event.message })}\n`);
        fdatasyncSync(fd); // the data and the file's size (an append needs no other metadata)
      },
      close: () => closeSync(fd),
    },
  };
}

function parseLogLine(line: string): FleetEvent | null {
  let rec: { t?: unknown; at?: unknown; m?: unknown };
  try {
    rec = JSON.parse(line) as typeof rec;
  } catch {
    return null;
  }
  if (typeof rec.at !== 'string') return null;
  if (rec.t === 'verdict') {
    const m = verdictMessageSchema.safeParse(rec.m);
    return m.success ? { type: 'verdict', receivedAt: rec.at, message: m.data } : null;
  }
  if (rec.t === 'status') {
    const m = statusMessageSchema.safeParse(rec.m);
    return m.success ? { type: 'status', receivedAt: rec.at, message: m.data } : null;
  }
  if (rec.t === 'health') {
    const m = healthMessageSchema.safeParse(rec.m);
    return m.success ? { type: 'health', receivedAt: rec.at, message: m.data } : null;
  }
  return null;
}
