#!/usr/bin/env node
/**
 * Synthetic stations for the fleet tests and the fleet benchmark: N real station links (dist/fleet/station.js:
 * the real spool and a real MQTT client each) in one process, each giving a synthetic verdict every
 * --interval-ms until its spool's sequence reaches --count (so a restarted process carries on where the killed
 * one stopped). One JSON line on stdout per event: {"e":"spooled",station,seq,id,t} once a verdict is in the
 * spool (t: its wall-clock ms), {"e":"connected",station}, {"e":"done",station} when a station has produced
 * and had acknowledged all of its verdicts. SIGTERM: a clean stop.
 *
 *   node tests/helpers/fleetStations.mjs --url mqtt://127.0.0.1:1883 --stations s1,s2 --spool-dir DIR
 *        [--interval-ms 100] [--count 50] [--seed 1] [--ack-timeout-ms 10000] [--ack centre|broker]
 */
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(import.meta.url), '..', '..', '..');
const { startStation } = await import(join(root, 'dist', 'fleet', 'station.js'));

const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : fallback;
};
const url = arg('url');
const stations = arg('stations').split(',');
const spoolDir = arg('spool-dir');
const intervalMs = Number(arg('interval-ms', '100'));
const count = Number(arg('count', '50'));
const ackTimeoutMs = Number(arg('ack-timeout-ms', '10000'));
const ackFrom = arg('ack', 'centre');
let seed = Number(arg('seed', '1')) >>> 0;
const rand = () => {
  // mulberry32
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const out = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);
const engine = { setModel() {}, modelId: () => 'synthetic0000000', stats: () => ({ verdicts: 0 }) };

const links = stations.map((station) => {
  const link = startStation({
    station,
    broker: { url, username: process.env.ENOSE_MQTT_USERNAME, password: process.env.ENOSE_MQTT_PASSWORD },
    spoolPath: join(spoolDir, `${station}.jsonl`),
    engine,
    healthIntervalMs: 10_000,
    ackFrom,
    ackTimeoutMs,
    onSpooled: (r) => out({ e: 'spooled', station, seq: r.seq, id: JSON.parse(r.json).id, t: JSON.parse(r.json).time }),
  });
  void link.connected.then(() => out({ e: 'connected', station }));
  link.onEvent({ type: 'info', atMs: performance.now(), reboot: false, proto: 'ENL/1', rig: `rig-${station}`, fw: 'synthetic', rateHz: 10, unit: 'ohm', channels: ['a', 'b'] });
  return { station, link, done: false };
});

const verdictEvent = (station, n) => {
  const r = rand();
  const verdict = r < 0.05 ? 'suspicious' : r < 0.1 ? 'inconclusive' : 'clear';
  const p = verdict === 'suspicious' ? 0.9 : 0.02;
  return {
    type: 'verdict',
    atMs: performance.now(),
    sample: `MSCU${String(n).padStart(7, '0')}-20261207T010203Z`,
    verdict,
    class: verdict === 'suspicious' ? 'cocaine' : 'clear',
    probabilities: { clear: 1 - p, cocaine: p },
    score: p,
    reasons: verdict === 'inconclusive' ? ['baseline-unstable', 'clear-class'] : [verdict === 'suspicious' ? 'suspicious-class' : 'clear-class'],
    quality: { framesB: 300, framesE: 600, lostFrames: 0, lostShare: 0, maxGapS: 0.1, cut: null, channels: [], novelty: 0.4 },
    modelId: 'synthetic0000000',
    latencyMs: 0.3,
    frames: { first: 0, last: 899, count: 900 },
  };
};

// Stations start at random phases so that they do not all publish in the same millisecond.
const timers = links.map((s) =>
  setTimeout(() => {
    const tick = () => {
      if (s.link.spool.nextSeq <= count) s.link.onEvent(verdictEvent(s.station, s.link.spool.nextSeq));
      else if (!s.done && s.link.stats().pending === 0) {
        s.done = true;
        out({ e: 'done', station: s.station });
      }
    };
    s.timer = setInterval(tick, intervalMs);
  }, rand() * intervalMs),
);

let stopping = false;
process.on('SIGTERM', async () => {
  if (stopping) return;
  stopping = true;
  for (const t of timers) clearTimeout(t);
  for (const s of links) clearInterval(s.timer);
  await Promise.all(links.map((s) => s.link.close({ waitMs: 1000 })));
  process.exit(0);
});
