/** The station's spool: append before publish, ack after PUBACK, the unacknowledged ones back after a restart. */
import { appendFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Spool } from '../../src/fleet/spool.js';

const fresh = () => join(mkdtempSync(join(tmpdir(), 'enose-spool-')), 'st.jsonl');

describe('Spool', () => {
  it('keeps what the broker has not acknowledged across a reopen, in order, and continues the sequence', () => {
    const path = fresh();
    const a = Spool.open(path);
    const epoch = a.epoch;
    for (let i = 0; i < 5; i++) a.append((seq) => ({ seq, n: i }));
    a.ack(1);
    a.ack(3);
    a.close();
    const b = Spool.open(path);
    expect(b.epoch).toBe(epoch);
    expect(b.pending().map((r) => r.seq)).toEqual([2, 4, 5]);
    expect(JSON.parse(b.pending()[0]!.json)).toEqual({ seq: 2, n: 1 });
    expect(b.append((seq) => ({ seq })).seq).toBe(6);
    b.close();
  });

  it('cuts a line torn by a crash: that append never returned, so nothing it held was published', () => {
    const path = fresh();
    const a = Spool.open(path);
    a.append((seq) => ({ seq }));
    a.close();
    appendFileSync(path, '{"t":"v","seq":2,"m":{"se'); // a crash in the middle of the next append
    const b = Spool.open(path);
    expect(b.pending().map((r) => r.seq)).toEqual([1]);
    expect(b.append((seq) => ({ seq })).seq).toBe(2);
    b.close();
    expect(readFileSync(path, 'utf8').endsWith('\n')).toBe(true);
    expect(Spool.open(path).pending().map((r) => r.seq)).toEqual([1, 2]);
  });

  it('compacts to its header once everything is acknowledged, keeping the epoch and the sequence', () => {
    const path = fresh();
    const s = Spool.open(path, { compactAfterAcks: 4 });
    for (let i = 0; i < 4; i++) s.append((seq) => ({ seq }));
    for (let i = 1; i <= 4; i++) s.ack(i);
    expect(s.compactions).toBe(2); // the initial header, then the compaction
    expect(readFileSync(path, 'utf8').trim().split('\n')).toHaveLength(1);
    const epoch = s.epoch;
    s.close();
    const t = Spool.open(path);
    expect(t.epoch).toBe(epoch);
    expect(t.nextSeq).toBe(5);
    expect(t.pendingCount).toBe(0);
    t.close();
  });

  it('refuses a spool another live process holds; a stale lock is taken over', () => {
    const path = fresh();
    writeFileSync(`${path}.lock`, `${process.ppid}\n`); // a live process that is not this one
    expect(() => Spool.open(path)).toThrow(/in use by process/);
    writeFileSync(`${path}.lock`, '999999999\n'); // no such process
    const s = Spool.open(path);
    s.close();
    expect(existsSync(`${path}.lock`)).toBe(false);
  });
});
