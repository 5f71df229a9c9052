import { describe, expect, it } from 'vitest';
import { healthMessageSchema, statusMessageSchema, verdictMessage, verdictMessageSchema } from '../../src/fleet/message.js';
import type { VerdictEvent } from '../../src/types.js';
import { clearVerdictEvent } from '../helpers/mosquitto.js';

// The centre keeps what stations send: one message must not be able to fill its memory or its log.
const ctx = { station: 'quay-1', epoch: '0123456789abcdef', seq: 1, rig: 'SIM1', wallMs: Date.parse('2026-12-07T08:00:00Z') };
const verdict = (patch: Partial<Record<keyof VerdictEvent, unknown>>) => verdictMessage({ ...clearVerdictEvent('S1'), modelId: '450622994f2a8584', ...patch } as VerdictEvent, ctx);
const health = (link: string) => ({ kind: 'enose-health', station: 'quay-1', time: '2026-12-07T08:00:00.000Z', uptimeS: 1, link, verdicts: 0, spoolPending: 0, lastFrameAgeS: null });

describe('fleet message bounds', () => {
  it('an engine verdict passes, at the bounds too', () => {
    expect(verdictMessageSchema.safeParse(verdict({})).success).toBe(true);
    const reasons = Array.from({ length: 64 }, (_, i) => `${i}`.padEnd(128, 'x'));
    expect(verdictMessageSchema.safeParse(verdict({ reasons })).success).toBe(true);
  });

  it('refuses a reason past 128 characters, more than 64 reasons, a class name past 128 or more than 1,000 classes', () => {
    expect(verdictMessageSchema.safeParse(verdict({ reasons: ['x'.repeat(16 * 1024)] })).success).toBe(false);
    expect(verdictMessageSchema.safeParse(verdict({ reasons: Array.from({ length: 65 }, () => 'clear-class') })).success).toBe(false);
    expect(verdictMessageSchema.safeParse(verdict({ class: 'c'.repeat(129) })).success).toBe(false);
    const probabilities = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`c${i}`, 0.001]));
    expect(verdictMessageSchema.safeParse(verdict({ probabilities })).success).toBe(false);
  });

  it("refuses a 64 KB health link and a 64 KB status reason", () => {
    expect(healthMessageSchema.safeParse(health('serial: connected')).success).toBe(true);
    expect(healthMessageSchema.safeParse(health('x'.repeat(64 * 1024))).success).toBe(false);
    const status = { kind: 'enose-status', station: 'quay-1', state: 'offline', time: '2026-12-07T08:00:00.000Z', modelId: null, rig: null, follow: null };
    expect(statusMessageSchema.safeParse({ ...status, reason: 'connection lost' }).success).toBe(true);
    expect(statusMessageSchema.safeParse({ ...status, reason: 'x'.repeat(64 * 1024) }).success).toBe(false);
  });
});
