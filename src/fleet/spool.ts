/**
 * The station's store-and-forward spool: an append-only JSONL file. A verdict is appended and fsync'd BEFORE it
 * is published; an ack record is appended when it is acknowledged (by the centre's end-to-end ack, or with
 * `--ack broker` by the broker's PUBACK: station.ts and outbox.ts decide which); the verdicts without an ack
 * are sent again, in order, after a restart. When every verdict is acknowledged the file is compacted (rewritten
 * to its header, atomically), so it stays small while the broker is reachable and grows only during an outage.
 *
 *   {"t":"h","epoch":"<16 hex>","nextSeq":N}   header: the spool's epoch and the next sequence number
 *   {"t":"v","seq":n,"m":{...}}                 a verdict message, fsync'd before it is published
 *   {"t":"a","seq":n}                           its acknowledgement (not fsync'd: losing one only resends a
 *                                               verdict, which the centre drops by its id)
 *
 * A crash in the middle of an append leaves a torn last line: it is cut off on open (that append never returned,
 * so its verdict was never published). Synchronous on purpose: a verdict every few seconds per station, and
 * the order of the file is the order of publication.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fdatasyncSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, truncateSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { EnoseError } from '../errors.js';

export interface SpoolOptions {
  /** Compact after this many acknowledgements once none is pending. @default 256 */
  readonly compactAfterAcks?: number;
  /** fsync each verdict before append returns (off only in unit tests of the format). @default true */
  readonly fsync?: boolean;
}

export interface SpoolRecord {
  readonly seq: number;
  /** The message as JSON text (published as is). */
  readonly json: string;
}

interface Parsed {
  epoch: string | null;
  nextSeq: number;
  pending: Map<number, string>;
  acks: number;
}

function parseSpool(text: string): Parsed {
  const out: Parsed = { epoch: null, nextSeq: 1, pending: new Map(), acks: 0 };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let rec: { t?: unknown; seq?: unknown; epoch?: unknown; nextSeq?: unknown; m?: unknown };
    try {
      rec = JSON.parse(line) as typeof rec;
    } catch {
      continue; // a torn line cannot be in the middle (open cuts it off); skip anything else unreadable
    }
    if (rec.t === 'h' && typeof rec.epoch === 'string' && typeof rec.nextSeq === 'number') {
      out.epoch = rec.epoch;
      out.nextSeq = Math.max(out.nextSeq, rec.nextSeq);
    } else if (rec.t === 'v' && typeof rec.seq === 'number' && rec.m !== undefined) {
      out.pending.set(rec.seq, JSON.stringify(rec.m));
      out.nextSeq = Math.max(out.nextSeq, rec.seq + 1);
    } else if (rec.t === 'a' && typeof rec.seq === 'number') {
      out.pending.delete(rec.seq);
      out.acks++;
    }
  }
  return out;
}

export class Spool {
  readonly path: string;
  readonly epoch: string;
  private fd: number;
  private seq: number;
  private readonly unacked: Map<number, string>;
  private acksSinceCompact: number;
  private readonly compactAfterAcks: number;
  private readonly doFsync: boolean;
  private readonly lockPath: string;
  /** Times the file was compacted (for tests and health). */
  compactions = 0;

  private constructor(path: string, parsed: Parsed, options: SpoolOptions, lockPath: string) {
    this.path = path;
    this.lockPath = lockPath;
    this.epoch = parsed.epoch ?? randomBytes(8).toString('hex');
    this.seq = parsed.nextSeq;
    this.unacked = parsed.pending;
    this.acksSinceCompact = parsed.acks;
    this.compactAfterAcks = options.compactAfterAcks ?? 256;
    this.doFsync = options.fsync ?? true;
    if (parsed.epoch === null) this.rewrite();
    this.fd = openSync(path, 'a');
  }

  /**
   * Opens (or creates) the spool at `path`, holding `<path>.lock` so that two stations cannot share one file.
   * Throws EnoseError('bad-option') when another live process holds it.
   */
  static open(path: string, options: SpoolOptions = {}): Spool {
    mkdirSync(dirname(path), { recursive: true });
    const lockPath = `${path}.lock`;
    takeLock(lockPath, path);
    let text = '';
    if (existsSync(path)) {
      text = readFileSync(path, 'utf8');
      const end = text.lastIndexOf('\n') + 1;
      if (end < text.length) {
        truncateSync(path, Buffer.byteLength(text.slice(0, end)));
        text = text.slice(0, end);
      }
    }
    return new Spool(path, parseSpool(text), options, lockPath);
  }

  /** The verdicts not yet acknowledged, oldest first. */
  pending(): SpoolRecord[] {
    return [...this.unacked.entries()].sort((a, b) => a[0] - b[0]).map(([seq, json]) => ({ seq, json }));
  }

  get pendingCount(): number {
    return this.unacked.size;
  }

  /** The sequence number the next append gets. */
  get nextSeq(): number {
    return this.seq;
  }

  /** Appends the message `build(seq)` makes and flushes it to disk; returns the record to publish. */
  append(build: (seq: number) => object): SpoolRecord {
    const seq = this.seq;
    const message = build(seq);
    const json = JSON.stringify(message);
    writeSync(this.fd, `{"t":"v","seq":${seq},"m":${json}}\n`);
    if (this.doFsync) fdatasyncSync(this.fd);
    this.seq = seq + 1;
    this.unacked.set(seq, json);
    return { seq, json };
  }

  /** `seq` was acknowledged: the verdict leaves the spool (compacted once none is pending). */
  ack(seq: number): void {
    if (!this.unacked.delete(seq)) return;
    writeSync(this.fd, `{"t":"a","seq":${seq}}\n`);
    this.acksSinceCompact++;
    if (this.unacked.size === 0 && this.acksSinceCompact >= this.compactAfterAcks) {
      closeSync(this.fd);
      this.rewrite();
      this.fd = openSync(this.path, 'a');
    }
  }

  close(): void {
    closeSync(this.fd);
    try {
      unlinkSync(this.lockPath);
    } catch {
      // already gone
    }
  }

  /** The header and the pending verdicts to a temporary file, flushed, then renamed over the spool. */
  private rewrite(): void {
    const tmp = `${this.path}.tmp`;
    const lines = [JSON.stringify({ t: 'h', epoch: this.epoch, nextSeq: this.seq })];
    for (const { seq, json } of this.pending()) lines.push(`{"t":"v","seq":${seq},"m":${json}}`);
    writeFileSync(tmp, `${lines.join('\n')}\n`);
    const fd = openSync(tmp, 'r+');
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, this.path);
    try {
      const dir = openSync(dirname(this.path), 'r');
      fsyncSync(dir);
      closeSync(dir);
    } catch {
      // some file systems cannot fsync a directory; the rename is still atomic
    }
    this.acksSinceCompact = 0;
    this.compactions++;
  }

  /** Size of the spool file in bytes. */
  bytes(): number {
    return statSync(this.path).size;
  }
}

function takeLock(lockPath: string, path: string): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lockPath, `${process.pid}\n`, { flag: 'wx' });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const pid = Number(readFileSync(lockPath, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
      throw new EnoseError('bad-option', `the spool ${path} is in use by process ${pid} (one station per spool)`);
    }
    unlinkSync(lockPath); // a stale lock of a process that died
  }
  throw new EnoseError('bad-option', `cannot lock the spool ${path}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
