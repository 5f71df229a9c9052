/**
 * Seeded streams of engine events, as a live engine would hand them to the recorder: link states, infos
 * (reboots with the same and with other channels), cycles of I/B/E/R frames with awkward values (NaN, -0,
 * subnormals, huge numbers, full-precision decimals), seq and rig-time wrap-around, issues, gaps and verdicts.
 */
import type { EngineEvent, Phase, RigInfo, VerdictEvent } from '../../src/types.js';
import { mulberry32 } from './synthetic.js';

export interface EngineStreamOptions {
  readonly seed: number;
  readonly cycles: number;
  /** Frames of each phase in a cycle. */
  readonly phaseFrames?: Readonly<Record<Phase, number>>;
  readonly channels?: readonly string[];
  readonly rateHz?: number;
  /** Add a reboot with the same channels after this cycle (seq and rig time restart at 0). */
  readonly rebootAfterCycle?: number;
  /** Add a reboot with one more channel after this cycle. */
  readonly newChannelsAfterCycle?: number;
  /** Give this cycle the id of the first cycle again (a container scanned twice). */
  readonly repeatIdAtCycle?: number;
}

export const DEFAULT_CHANNELS: readonly string[] = ['tgs2600', 'tgs2602', 'tgs2611', 'mq135', 'temp_c', 'rh_pct'];

const UINT32 = 4294967296;

export function engineStream(o: EngineStreamOptions): EngineEvent[] {
  const rand = mulberry32(o.seed);
  const phaseFrames = o.phaseFrames ?? { I: 4, B: 6, E: 8, R: 3 };
  let channels = o.channels ?? DEFAULT_CHANNELS;
  const rateHz = o.rateHz ?? 10;
  const events: EngineEvent[] = [];
  let atMs = 1000 + rand() * 100;
  // Start close to the uint32 limit so that seq and rig time wrap inside the stream.
  let seq = UINT32 - 7;
  let tMs = UINT32 - 450;
  const info = (reboot: boolean): EngineEvent => {
    const rig: RigInfo = { proto: 'ENL/1', rig: 'rig-A', fw: reboot ? '1.0.1' : '1.0.0', rateHz, unit: 'ohm', channels };
    return { type: 'info', atMs, reboot, ...rig };
  };
  events.push({ type: 'state', atMs, state: 'connected', detail: 'port /dev/pty0' });
  events.push(info(false));
  let firstId = '';

  const value = (k: number): number => {
    const r = rand();
    if (r < 0.03) return NaN;
    if (r < 0.05) return -0;
    if (r < 0.06) return 5e-324;
    if (r < 0.07) return 1.7976931348623157e308;
    if (r < 0.08) return -1234.5678e-200;
    return k < channels.length - 2 ? 1000 + rand() * 99000 : 20 + rand() * 10;
  };

  const frame = (phase: Phase, sample: string): void => {
    // Two frames now and then arrive in the same chunk, with the same host time.
    atMs += rand() < 0.1 ? 0 : 1000 / rateHz + (rand() - 0.5) * 3;
    const values = new Float64Array(channels.length);
    for (let k = 0; k < values.length; k++) values[k] = value(k);
    events.push({ type: 'frame', atMs, seq, tMs, phase, values, sample });
    seq = (seq + 1) % UINT32;
    tMs = (tMs + Math.round(1000 / rateHz)) % UINT32;
  };

  for (let c = 0; c < o.cycles; c++) {
    for (let i = 0; i < phaseFrames.I; i++) frame('I', '');
    let id = c % 3 === 1 ? `container-${c}` : `rig-A-${seq}`;
    if (c === o.repeatIdAtCycle) id = firstId;
    if (c === 0) firstId = id;
    events.push({ type: 'sample-started', atMs, sample: id, seq, requested: c % 3 === 1 });
    for (const phase of ['B', 'E', 'R'] as const) {
      events.push({ type: 'phase', atMs, sample: id, phase, seq });
      for (let i = 0; i < phaseFrames[phase]; i++) {
        frame(phase, id);
        if (rand() < 0.04) {
          events.push({ type: 'issue', atMs, kind: 'bad-checksum', line: `$ENF,${seq},garbage\u0001"quoted"*0000`, detail: 'checksum 0000, expected 1a2b' });
        }
        if (rand() < 0.03) {
          const lost = 1 + Math.floor(rand() * 3);
          events.push({ type: 'gap', atMs, fromSeq: seq, toSeq: (seq + lost - 1) % UINT32, lost });
          seq = (seq + lost) % UINT32;
        }
      }
      if (phase === 'E') events.push(verdictFor(id, atMs, c, seq));
    }
    if (c === o.rebootAfterCycle) {
      events.push({ type: 'state', atMs, state: 'disconnected', detail: 'read error' });
      events.push({ type: 'state', atMs, state: 'connected', detail: 'reopened' });
      seq = 0;
      tMs = 0;
      events.push(info(true));
    }
    if (c === o.newChannelsAfterCycle) {
      channels = [...channels, 'extra_gas'];
      seq = 0;
      tMs = 0;
      events.push(info(true));
    }
  }
  return events;
}

function verdictFor(sample: string, atMs: number, c: number, seq: number): VerdictEvent {
  const p = ((c * 7919) % 1000) / 1000 + 1e-17 * c;
  return {
    type: 'verdict',
    atMs,
    sample,
    verdict: c % 2 === 0 ? 'clear' : 'suspicious',
    class: c % 2 === 0 ? 'air' : 'ethanol',
    probabilities: { air: 1 - p, ethanol: p },
    score: c % 4 === 3 ? null : p,
    reasons: c % 2 === 0 ? ['clear-class'] : ['suspicious-class'],
    quality: { framesB: 6, framesE: 8, lostFrames: 0, lostShare: 0, maxGapS: 0.1 + 0.2 / 3, cut: null, channels: [], novelty: c % 3 === 0 ? null : 0.25 },
    modelId: 'model-0123456789abcdef',
    latencyMs: 0.1 * c + 0.2,
    frames: { first: seq, last: seq + 14, count: 14 },
  };
}

/** Bit-exact equality of two Float64Arrays (NaN equal to NaN, -0 unequal to 0). */
export function sameBits(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  const x = new BigUint64Array(a.buffer, a.byteOffset, a.length);
  const y = new BigUint64Array(b.buffer, b.byteOffset, b.length);
  for (let k = 0; k < a.length; k++) if (x[k] !== y[k]) return false;
  return true;
}
