/**
 * The serial source's plain csv mode: a made-up `info` from the header (or the `channels` option), frames
 * numbered by a line counter, and host-timed phases after `START` (see src/io/serial.ts).
 */
import { EnoseError } from '../errors.js';
import type { Phase, RigCommand, SourceEvent } from '../types.js';
import { createCsvDecoder, encodeCommand, type CsvCounters, type CsvDecoder, type CsvOutput } from './protocol.js';
import { positiveNumber, type CsvModeOptions } from './serialSourceOptions.js';

const UINT32 = 4294967296;

/** What the csv mode reads from and writes to the source it belongs to. */
export interface CsvHost {
  readonly path: string;
  readonly emitFn: ((event: SourceEvent) => void) | null;
  readonly connected: boolean;
  readonly counts: { framesDelivered: number; commandsSent: number };
}

export class SerialCsvMode {
  readonly options: Required<Omit<CsvModeOptions, 'channels'>> & { channels: readonly string[] | null };
  decoder: CsvDecoder | null = null;
  private totals: CsvCounters = { lines: 0, frames: 0, issues: { 'too-long': 0, malformed: 0, 'wrong-channel-count': 0 } };
  channels: readonly string[] | null;
  private infoSent: readonly string[] | null = null;
  private seq = 0;
  private cycleStartMs: number | null = null;

  /** Throws `EnoseError('bad-option')` on bad options. */
  constructor(
    csv: CsvModeOptions,
    private readonly host: CsvHost,
  ) {
    this.options = {
      baselineS: positiveNumber('csv.baselineS', csv.baselineS, 30, true),
      exposureS: positiveNumber('csv.exposureS', csv.exposureS, 60, true),
      recoveryS: positiveNumber('csv.recoveryS', csv.recoveryS, 60, true),
      rateHz: positiveNumber('csv.rateHz', csv.rateHz, 10),
      unit: csv.unit ?? 'ohm',
      channels: csv.channels ?? null,
    };
    if (csv.channels !== undefined && csv.channels.length === 0) throw new EnoseError('bad-option', 'csv.channels must not be empty');
    this.channels = this.options.channels;
  }

  /** The decoder's counters over every connection so far. */
  counters(): CsvCounters {
    return this.decoder ? addCsv(this.totals, this.decoder.counters()) : this.totals;
  }

  /** A new connection: a fresh decoder (that knows the channels seen so far), no cycle running. */
  connect(): void {
    this.decoder = createCsvDecoder(this.channels === null ? {} : { channels: this.channels });
    this.cycleStartMs = null;
  }

  /** The connection ended: its counters are kept, its decoder dropped. */
  disconnect(): void {
    if (!this.decoder) return;
    // A cut csv line is not decoded (no checksum could tell a cut number from a whole one).
    this.totals = addCsv(this.totals, this.decoder.counters());
    this.channels = this.decoder.channels ?? this.channels;
    this.decoder = null;
    this.cycleStartMs = null;
  }

  deliver(outputs: readonly CsvOutput[], atMs: number): void {
    const emit = this.host.emitFn;
    if (emit === null) return;
    for (const out of outputs) {
      switch (out.type) {
        case 'header':
          this.channels = out.channels;
          this.info(out.channels, atMs, true);
          break;
        case 'values': {
          const seq = this.seq;
          this.seq = (this.seq + 1) % UINT32;
          this.host.counts.framesDelivered++;
          emit({ type: 'frame', atMs, seq, tMs: Math.round(atMs) % UINT32, phase: this.phase(atMs), values: out.values });
          break;
        }
        case 'issue':
          emit({ type: 'issue', atMs, kind: out.kind, line: out.line, detail: out.detail });
          break;
      }
    }
  }

  /** The made-up info of a csv rig; a header line after data had flowed means the rig restarted. */
  info(channels: readonly string[], atMs: number, fromHeader: boolean): void {
    const emit = this.host.emitFn;
    if (emit === null) return;
    if (fromHeader && this.infoSent !== null && this.host.connected && this.host.counts.framesDelivered > 0) {
      this.cycleStartMs = null;
      emit({ type: 'reboot', atMs });
    }
    this.infoSent = channels;
    const o = this.options;
    emit({ type: 'info', atMs, proto: 'csv', rig: `csv:${this.host.path}`, fw: 'csv', rateHz: o.rateHz, unit: o.unit, channels: [...channels] });
  }

  private phase(atMs: number): Phase {
    const start = this.cycleStartMs;
    if (start === null) return 'I';
    const o = this.options;
    const s = (atMs - start) / 1000;
    if (s < o.baselineS) return 'B';
    if (s < o.baselineS + o.exposureS) return 'E';
    if (s < o.baselineS + o.exposureS + o.recoveryS) return 'R';
    this.cycleStartMs = null;
    return 'I';
  }

  command(command: RigCommand): void {
    encodeCommand(command); // the same validation as enl mode
    const emit = this.host.emitFn;
    if (emit === null || !this.host.connected) throw new EnoseError('port-error', `${this.host.path} is not connected: ${command.command} not sent`);
    const atMs = performance.now();
    this.host.counts.commandsSent++;
    switch (command.command) {
      case 'START':
        if (this.cycleStartMs !== null && this.phase(atMs) !== 'I') {
          emit({ type: 'ack', atMs, command: 'START', ok: false, detail: 'busy' });
          return;
        }
        this.cycleStartMs = atMs;
        emit({ type: 'ack', atMs, command: 'START', ok: true, detail: 'host-timed' });
        return;
      case 'STOP':
        this.cycleStartMs = null;
        emit({ type: 'ack', atMs, command: 'STOP', ok: true, detail: 'host-timed' });
        return;
      case 'INFO':
        return; // nothing to ask a csv rig; its info is made up from the header
    }
  }
}

/** A first line that is a csv header (names, not numbers), kept when it arrives right after an open. */
export function looksLikeHeader(text: string): boolean {
  const fields = text.replace(/\r$/, '').split(',').map((f) => f.trim());
  return fields.length > 0 && fields.every((f) => /^[A-Za-z_][A-Za-z0-9_.-]*$/.test(f));
}

function addCsv(a: CsvCounters, b: CsvCounters): CsvCounters {
  return {
    lines: a.lines + b.lines,
    frames: a.frames + b.frames,
    issues: {
      'too-long': a.issues['too-long'] + b.issues['too-long'],
      malformed: a.issues.malformed + b.issues.malformed,
      'wrong-channel-count': a.issues['wrong-channel-count'] + b.issues['wrong-channel-count'],
    },
  };
}
