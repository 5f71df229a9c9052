/**
 * A station without a centre, on a real mosquitto: with `ackFrom: 'centre'` (the default) its verdicts go out
 * live, stay in the spool, are sent again with a growing wait, and it says once that no centre acknowledges;
 * with `ackFrom: 'broker'` (`--ack broker`) the broker's PUBACK empties the spool. The CLI options are checked.
 * Unit: the centre's ack sender puts one turn's ids per station into one message.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/cli/args.js';
import { STATION_OPTION } from '../../src/cli/stationOption.js';
import { STATION_OPTIONS, stationFromArgs } from '../../src/cli/stationOptions.js';
import { createAckSender } from '../../src/fleet/acks.js';
import { ackMessageSchema } from '../../src/fleet/message.js';
import { startStation, type StationLink } from '../../src/fleet/station.js';
import { haveMosquitto, startBroker, type Broker, clearVerdictEvent } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/pty.js';

const have = haveMosquitto('a station without a centre');
const dir = mkdtempSync(join(tmpdir(), 'enose-nocentre-'));
let broker: Broker | null = null;
const links: StationLink[] = [];

afterAll(async () => {
  for (const l of links) await l.close({ waitMs: 0 });
  await broker?.stop('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const engine = { setModel() {}, modelId: () => 'm0', stats: () => ({ verdicts: 0 }) };
const verdictEvent = (n: number) => clearVerdictEvent(`MSCU000000${n}-20261207T010203Z`);
/** pty.ts's waitFor, with the deadline a broker restart needs. */
const until = (what: string, test: () => boolean, timeoutMs = 60_000): Promise<void> => waitFor(test, what, timeoutMs);

describe.runIf(have)('a station without a centre', () => {
  it('--ack centre: verdicts go out live, stay in the spool, are resent, and the station says why', async () => {
    broker ??= await startBroker(join(dir, 'broker'));
    const seen: string[] = [];
    const sub = await connectAsync(broker.url, { reconnectPeriod: 0 });
    sub.on('message', (_t, p) => seen.push((JSON.parse(p.toString()) as { id: string }).id));
    await sub.subscribeAsync('enose/lonely/verdict', { qos: 1 });
    const lines: string[] = [];
    const link = startStation({ station: 'lonely', broker: { url: broker.url, username: undefined, password: undefined }, spoolPath: join(dir, 'lonely.jsonl'), engine, ackTimeoutMs: 200, ackWarnAfterMs: 500, log: (l) => lines.push(l) });
    links.push(link);
    await link.connected;
    for (let n = 1; n <= 3; n++) link.onEvent(verdictEvent(n));
    await until('the live verdicts', () => new Set(seen).size === 3);
    await until('a resend and the warning', () => link.stats().resent >= 3 && lines.some((l) => /no acknowledgement from a fleet centre/.test(l)));
    expect(link.stats()).toMatchObject({ pending: 3, awaitingCentre: expect.any(Number) as number });
    expect(lines.filter((l) => /no acknowledgement/.test(l))).toHaveLength(1); // once per silence
    expect(seen.length).toBeGreaterThan(3); // the resends reached the broker too
    await sub.endAsync();
  });

  it('--ack broker: the PUBACK empties the spool', async () => {
    broker ??= await startBroker(join(dir, 'broker'));
    const link = startStation({ station: 'alone', broker: { url: broker.url, username: undefined, password: undefined }, spoolPath: join(dir, 'alone.jsonl'), engine, ackFrom: 'broker' });
    links.push(link);
    await link.connected;
    for (let n = 1; n <= 3; n++) link.onEvent(verdictEvent(n));
    await until('the spool empty', () => link.stats().pending === 0);
    expect(link.stats()).toMatchObject({ acked: 3, resent: 0 });
  });
});

describe('station options', () => {
  const ctx = { stdout: () => undefined, stderr: () => undefined, signal: new AbortController().signal, isTty: false };
  const parse = (argv: string[]) => parseCommand('watch', argv, { ...STATION_OPTION, ...STATION_OPTIONS });
  it('refuses a bad --ack, a bad --ack-timeout-s, and either without --mqtt', () => {
    expect(() => stationFromArgs('watch', parse(['--mqtt', 'mqtt://127.0.0.1:1', '--station', 'a', '--ack', 'maybe']), engine, ctx)).toThrow(/--ack must be centre or broker/);
    expect(() => stationFromArgs('watch', parse(['--mqtt', 'mqtt://127.0.0.1:1', '--station', 'a', '--ack-timeout-s', '0']), engine, ctx)).toThrow(/--ack-timeout-s must be greater than 0/);
    expect(() => stationFromArgs('watch', parse(['--ack', 'broker']), engine, ctx)).toThrow(/need --mqtt/);
  });
});

describe('the centre\'s ack sender', () => {
  it('sends one message per station and turn, with every id, in pieces of at most 1,000', async () => {
    const sent: { topic: string; payload: string }[] = [];
    const acks = createAckSender((topic, payload) => sent.push({ topic, payload }), () => 0);
    acks.add('a', '0123456789abcdef-1');
    acks.add('b', '0123456789abcdef-1');
    acks.add('a', '0123456789abcdef-2');
    for (let i = 1; i <= 1500; i++) acks.add('c', `0123456789abcdef-${i}`);
    expect(sent).toEqual([]); // not before the turn ends
    expect(acks.pending).toBe(1503);
    await new Promise((r) => setImmediate(r));
    expect(sent.map((s) => s.topic)).toEqual(['enose/a/ack', 'enose/b/ack', 'enose/c/ack', 'enose/c/ack']);
    const parsed = sent.map((s) => ackMessageSchema.parse(JSON.parse(s.payload)));
    expect(parsed[0]!.ids).toEqual(['0123456789abcdef-1', '0123456789abcdef-2']);
    expect(parsed[2]!.ids).toHaveLength(1000);
    expect(parsed[3]!.ids.at(-1)).toBe('0123456789abcdef-1500');
    expect(acks.pending).toBe(0);
  });
});
