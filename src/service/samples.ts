/**
 * The service's book of sampling cycles: which container was asked for, whether the rig started it, and its
 * verdict. Pure: engine events and the clock come in as arguments, so every state change is testable.
 *
 * A cycle is `pending` from the request until the rig starts it (`sample-started`), `running` until its
 * verdict, then `done`; `failed` when the rig refused it or did not start it in time. The rig is busy (a new
 * request gets 409) while a request is pending or a cycle is in its B, E or R phase, whoever started it: a rig
 * cannot start a cycle in the middle of another one.
 */
import type { EngineEvent, Phase, VerdictEvent } from '../types.js';

export type SampleState = 'pending' | 'running' | 'done' | 'failed';

export interface SampleRecord {
  /** The cycle's id: the sample id the engine and the rig carry, and the API's resource id. */
  readonly id: string;
  /** The container id of the request; null for a cycle the rig ran on its own. */
  readonly containerId: string | null;
  state: SampleState;
  /** Epoch milliseconds; null where the step has not happened. */
  readonly requestedAt: number | null;
  startedAt: number | null;
  finishedAt: number | null;
  verdict: VerdictEvent | null;
  /** The cycle's first PCA scores (the operator page's point), when known. */
  pca: readonly number[] | null;
  error: string | null;
}

export interface SampleBookOptions {
  /** Records kept; the oldest finished ones go first. @default 1000 */
  readonly capacity?: number;
  /** Epoch milliseconds. @default Date.now */
  readonly now?: () => number;
}

/** Why a request cannot start now: the cycle in the way and its phase. */
export interface Busy {
  readonly sample: string;
  readonly state: 'pending' | 'running';
  readonly phase: Phase;
}

/** Characters a container id may hold: what an ENL/1 sample id carries safely, and readable in a URL path. */
export const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/;

export class SampleBook {
  private readonly records = new Map<string, SampleRecord>();
  private readonly capacity: number;
  private readonly now: () => number;
  private pendingId: string | null = null;
  /** Phase of the rig as the last `phase` event said; I after a disconnect or a reboot. */
  private rigPhase: Phase = 'I';
  private rigSample = '';
  private lastStamp = '';
  private sameStamp = 0;
  /** Bumped by each change made outside `onEvent` (requests, failures, PCA points): a cached view is stale. */
  revision = 0;

  constructor(options: SampleBookOptions = {}) {
    this.capacity = options.capacity ?? 1000;
    this.now = options.now ?? Date.now;
  }

  /** Null when a request can start a cycle now. */
  busy(): Busy | null {
    if (this.pendingId !== null) return { sample: this.pendingId, state: 'pending', phase: this.rigPhase };
    if (this.rigPhase !== 'I') return { sample: this.rigSample, state: 'running', phase: this.rigPhase };
    return null;
  }

  /**
   * Books a request: a new `pending` record whose id is the container id and a time stamp (unique within the
   * process, readable in logs: `MSCU1234567-20261126T160405Z`, with `.2`, `.3` ... within one second).
   * Returns the Busy state instead when the rig cannot start a cycle now.
   */
  request(containerId: string): SampleRecord | Busy {
    const busy = this.busy();
    if (busy) return busy;
    this.revision++;
    const at = this.now();
    const stamp = new Date(at).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    this.sameStamp = stamp === this.lastStamp ? this.sameStamp + 1 : 1;
    this.lastStamp = stamp;
    let id = `${containerId}-${stamp}${this.sameStamp > 1 ? `.${this.sameStamp}` : ''}`;
    while (this.records.has(id)) id = `${id}.${++this.sameStamp}`;
    const record: SampleRecord = {
      id,
      containerId,
      state: 'pending',
      requestedAt: at,
      startedAt: null,
      finishedAt: null,
      verdict: null,
      pca: null,
      error: null,
    };
    this.add(record);
    this.pendingId = id;
    return record;
  }

  /** A request the rig refused or never started: final, and the rig is free again. */
  fail(id: string, error: string): void {
    this.revision++;
    const record = this.records.get(id);
    if (record && record.state === 'pending') {
      record.state = 'failed';
      record.error = error;
      record.finishedAt = this.now();
    }
    if (this.pendingId === id) this.pendingId = null;
  }

  /** Forgets a request that never reached the rig (its START could not be sent). */
  withdraw(id: string): void {
    this.revision++;
    if (this.records.get(id)?.state === 'pending') this.records.delete(id);
    if (this.pendingId === id) this.pendingId = null;
  }

  /** The pending request, when it has waited longer than `timeoutMs`. */
  overdue(timeoutMs: number): SampleRecord | null {
    if (this.pendingId === null) return null;
    const record = this.records.get(this.pendingId);
    return record && record.requestedAt !== null && this.now() - record.requestedAt > timeoutMs ? record : null;
  }

  /** Follows the engine: cycles starting, phases, verdicts, link losses. */
  onEvent(event: EngineEvent): void {
    switch (event.type) {
      case 'sample-started': {
        let record = this.records.get(event.sample);
        if (!record) {
          record = { id: event.sample, containerId: null, state: 'running', requestedAt: null, startedAt: null, finishedAt: null, verdict: null, pca: null, error: null };
          this.add(record);
        }
        // A late start of a request that timed out revives it: the cycle did run.
        record.state = 'running';
        record.error = null;
        record.startedAt = this.now();
        if (this.pendingId === event.sample) this.pendingId = null;
        this.rigSample = event.sample;
        return;
      }
      case 'phase':
        this.rigPhase = event.phase;
        if (event.sample !== '') this.rigSample = event.sample;
        return;
      case 'verdict': {
        let record = this.records.get(event.sample);
        if (!record) {
          record = { id: event.sample, containerId: null, state: 'running', requestedAt: null, startedAt: null, finishedAt: null, verdict: null, pca: null, error: null };
          this.add(record);
        }
        record.state = 'done';
        record.verdict = event;
        record.finishedAt = this.now();
        // A cycle cut short leaves the phase where it was: it is over.
        if (event.quality.cut !== null) this.rigPhase = 'I';
        return;
      }
      case 'state':
        if (event.state !== 'connected') this.rigPhase = 'I';
        return;
      case 'info':
        if (event.reboot) this.rigPhase = 'I';
        return;
      default:
        return;
    }
  }

  /** Sets the PCA point of a cycle (the page's marker). */
  setPca(id: string, scores: readonly number[] | null): void {
    this.revision++;
    const record = this.records.get(id);
    if (record) record.pca = scores;
  }

  get(id: string): SampleRecord | undefined {
    return this.records.get(id);
  }

  /** The newest records first, at most `limit`. */
  recent(limit: number, filter?: (record: SampleRecord) => boolean): SampleRecord[] {
    const out: SampleRecord[] = [];
    const all = [...this.records.values()];
    for (let i = all.length - 1; i >= 0 && out.length < limit; i--) if (!filter || filter(all[i])) out.push(all[i]);
    return out;
  }

  get size(): number {
    return this.records.size;
  }

  private add(record: SampleRecord): void {
    this.records.set(record.id, record);
    if (this.records.size <= this.capacity) return;
    for (const [id, r] of this.records) {
      if (r.state === 'done' || r.state === 'failed') {
        this.records.delete(id);
        if (this.records.size <= this.capacity) return;
      }
    }
  }
}

/** A record as the API shows it: times as ISO strings, the verdict as its engine-event JSON object. */
export function sampleJson(record: SampleRecord): Record<string, unknown> {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: record.id,
    containerId: record.containerId,
    state: record.state,
    requestedAt: iso(record.requestedAt),
    startedAt: iso(record.startedAt),
    finishedAt: iso(record.finishedAt),
    verdict: record.verdict,
    pca: record.pca,
    error: record.error,
  };
}
