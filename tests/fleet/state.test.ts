/** The centre's reducer and route table, without HTTP or a broker. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { containerIdOf, parseStationTopic, verdictMessageSchema, type VerdictMessage } from '../../src/fleet/message.js';
import { FLEET_ROUTES, matchRoute } from '../../src/fleet/routes.js';
import { applyFleetEvent, createFleetState, missingOf, stationSummary } from '../../src/fleet/state.js';
import { openFleetLog } from '../../src/fleet/store.js';

const EPOCH = '0123456789abcdef';
function verdict(station: string, seq: number, v: VerdictMessage['verdict'] = 'clear', epoch = EPOCH): VerdictMessage {
  return verdictMessageSchema.parse({
    kind: 'enose-verdict',
    v: 1,
    id: `${epoch}-${seq}`,
    epoch,
    seq,
    station,
    sample: `MSCU${seq}-20261207T010203Z`,
    containerId: `MSCU${seq}`,
    time: new Date(1_765_000_000_000 + seq).toISOString(),
    rig: 'SIM1',
    modelId: 'm1',
    verdict: v,
    class: v === 'suspicious' ? 'cocaine' : 'clear',
    probabilities: { clear: 0.9, cocaine: 0.1 },
    score: 0.1,
    reasons: ['clear-class'],
    quality: { framesB: 1, framesE: 2, lostFrames: 0, lostShare: 0, maxGapS: 0.1, cut: null, channels: [], novelty: null },
    latencyMs: 0.3,
  });
}
const at = '2026-12-07T01:00:00.000Z';

describe('fleet state', () => {
  it('counts each verdict once, whatever order and how often it arrives, and names the missing ones', () => {
    const state = createFleetState({ recentPerStation: 3 });
    const order = [1, 2, 2, 4, 1, 5, 4, 3, 6, 6];
    const outcomes = order.map((seq) => applyFleetEvent(state, { type: 'verdict', receivedAt: at, message: verdict('q1', seq) }));
    expect(outcomes.filter((o) => o === 'new')).toHaveLength(6);
    expect(state.duplicates).toBe(4);
    const s = state.stations.get('q1')!;
    expect(s.verdicts).toBe(6);
    expect(s.recent.map((r) => r.message.seq)).toEqual([5, 3, 6]); // the last 3 received
    expect(missingOf(s)).toBe(0);
    // A new epoch (a wiped spool) starts again at 1 without being taken for a duplicate.
    expect(applyFleetEvent(state, { type: 'verdict', receivedAt: at, message: verdict('q1', 1, 'clear', 'fedcba9876543210') })).toBe('new');
    applyFleetEvent(state, { type: 'verdict', receivedAt: at, message: verdict('q1', 9) });
    expect(missingOf(s)).toBe(2); // 7 and 8
  });

  it('lists suspicious containers to hold and inconclusive ones to re-sample, bounded', () => {
    const state = createFleetState({ maxHolds: 2 });
    applyFleetEvent(state, { type: 'verdict', receivedAt: at, message: verdict('q1', 1, 'suspicious') });
    applyFleetEvent(state, { type: 'verdict', receivedAt: at, message: verdict('q1', 2, 'clear') });
    applyFleetEvent(state, { type: 'verdict', receivedAt: at, message: verdict('q1', 3, 'inconclusive') });
    applyFleetEvent(state, { type: 'verdict', receivedAt: at, message: verdict('q2', 1, 'suspicious') });
    expect(state.holds.map((h) => [h.station, h.containerId, h.action])).toEqual([
      ['q1', 'MSCU3', 'resample'],
      ['q2', 'MSCU1', 'hold'],
    ]);
    expect(stationSummary(state.stations.get('q1')!)).toMatchObject({ verdicts: 3, byVerdict: { suspicious: 1, clear: 1, inconclusive: 1 }, state: 'unknown' });
  });

  it('rebuilds the same state from its log after a restart', () => {
    const dir = mkdtempSync(join(tmpdir(), 'enose-fleetlog-'));
    const first = createFleetState();
    const { log } = openFleetLog(dir, first);
    for (const seq of [1, 2, 3]) {
      const event = { type: 'verdict' as const, receivedAt: at, message: verdict('q1', seq, seq === 2 ? 'suspicious' : 'clear') };
      log.append(event);
      applyFleetEvent(first, event);
    }
    log.close();
    const second = createFleetState();
    const reopened = openFleetLog(dir, second);
    reopened.log.close();
    expect(reopened.replayed).toBe(3);
    expect(stationSummary(second.stations.get('q1')!)).toEqual(stationSummary(first.stations.get('q1')!));
    expect(applyFleetEvent(second, { type: 'verdict', receivedAt: at, message: verdict('q1', 2) })).toBe('duplicate');
  });

  it('routes by table: parameters, 404 and 405', () => {
    const hit = matchRoute(FLEET_ROUTES, 'GET', '/v1/stations/quay-1/verdicts');
    expect(typeof hit === 'object' && hit.route.path).toBe('/v1/stations/:id/verdicts');
    expect(typeof hit === 'object' && hit.params).toEqual({ id: 'quay-1' });
    expect(matchRoute(FLEET_ROUTES, 'GET', '/v1/nothing')).toBe(404);
    expect(matchRoute(FLEET_ROUTES, 'POST', '/v1/holds')).toBe(405);
  });

  it('reads topics and container ids', () => {
    expect(parseStationTopic('enose/quay-1/verdict')).toEqual({ station: 'quay-1', kind: 'verdict' });
    expect(parseStationTopic('enose/models/verdict')).toBeNull();
    expect(parseStationTopic('enose/a/b/verdict')).toBeNull();
    expect(containerIdOf('MSCU1234567-20261126T160405Z.2')).toBe('MSCU1234567');
    expect(containerIdOf('auto-20261207T002515-0')).toBeNull();
  });
});
