/**
 * deploy/mosquitto.conf and deploy/mosquitto.acl on a real mosquitto with a password file: a station publishes
 * under its own topic only. What it publishes under another station's topic (or the models') never reaches a
 * subscriber; a wrong password is refused.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connectAsync } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { startFleetCentre, type FleetCentre } from '../../src/fleet/centre.js';
import { startStation, type StationLink } from '../../src/fleet/station.js';
import { haveMosquitto, startBroker, type Broker, clearVerdictEvent } from '../helpers/mosquitto.js';
import { REPO_ROOT } from '../helpers/shared.js';

const have = haveMosquitto('ACL test');
const dir = mkdtempSync(join(tmpdir(), 'enose-acl-'));
const USERS: Record<string, string> = { 'quay-1': 'pw-quay-1-secret', 'quay-2': 'pw-quay-2-secret', 'enose-centre': 'pw-centre-secret', 'enose-admin': 'pw-admin-secret' };
let broker: Broker | null = null;
let centre: FleetCentre | null = null;
let station: StationLink | null = null;

afterAll(async () => {
  await station?.close({ waitMs: 0 });
  await centre?.close();
  await broker?.stop('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const verdictEvent = clearVerdictEvent;

describe.runIf(have)('deploy/mosquitto.conf with its ACL', () => {
  it('lets a station publish under its own topic and nowhere else', async () => {
    const passwd = join(dir, 'enose.passwd');
    for (const [i, [user, password]] of Object.entries(USERS).entries()) {
      const r = spawnSync('mosquitto_passwd', [...(i === 0 ? ['-c'] : []), '-b', passwd, user, password], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
    }
    // The deploy file as shipped, but for the port and the paths.
    const lines = readFileSync(resolve(REPO_ROOT, 'deploy', 'mosquitto.conf'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.startsWith('#') && !/^(listener|persistence_location|password_file|acl_file)\b/.test(l));
    expect(lines).toContain('allow_anonymous false');
    broker = await startBroker(join(dir, 'broker'), { extra: [...lines, `password_file ${passwd}`, `acl_file ${resolve(REPO_ROOT, 'deploy', 'mosquitto.acl')}`] });

    await expect(connectAsync(broker.url, { username: 'quay-1', password: 'wrong', reconnectPeriod: 0 })).rejects.toThrow(/[Nn]ot authori[sz]ed|[Bb]ad user/);

    centre = await startFleetCentre({ broker: { url: broker.url, username: 'enose-centre', password: USERS['enose-centre'] }, dataDir: join(dir, 'centre'), port: 0, processMetrics: false });
    await centre.subscribed;
    const admin = await connectAsync(broker.url, { username: 'enose-admin', password: USERS['enose-admin'], reconnectPeriod: 0 });
    const modelTopics: string[] = [];
    admin.on('message', (topic) => modelTopics.push(topic));
    await admin.subscribeAsync('enose/models/#', { qos: 1 });

    // quay-1, logged in as itself, first tries to speak for quay-2 and to roll out a model, then speaks for itself.
    // One connection per attempt: after a denied QoS 1 publish, mosquitto 2.0.11 answers with a PUBACK carrying
    // reason 135, and mqtt.js 5.16 (MQTT 3.1.1) sends nothing more on that connection.
    const forged = { kind: 'enose-status', station: 'quay-2', state: 'online', time: new Date().toISOString(), modelId: 'forged', rig: 'SIM1', follow: null };
    for (const [topic, payload] of [
      ['enose/quay-2/status', JSON.stringify(forged)],
      ['enose/models/SIM1', 'not a model'],
    ] as const) {
      const rogue = await connectAsync(broker.url, { username: 'quay-1', password: USERS['quay-1'], reconnectPeriod: 0 });
      await rogue.publishAsync(topic, payload, { qos: 1 });
      await rogue.endAsync();
    }

    // The acks: quay-2 may neither read quay-1's (directly or by wildcard) nor forge one; quay-1 reads its own.
    const seen: { spy: string[]; rogue: string[] } = { spy: [], rogue: [] };
    const spy = await connectAsync(broker.url, { username: 'quay-1', password: USERS['quay-1'], clientId: 'quay-1-spy', reconnectPeriod: 0 });
    spy.on('message', (_t, payload) => seen.spy.push(payload.toString()));
    await spy.subscribeAsync('enose/quay-1/ack', { qos: 1 });
    const reader = await connectAsync(broker.url, { username: 'quay-2', password: USERS['quay-2'], reconnectPeriod: 0 });
    reader.on('message', (_t, payload) => seen.rogue.push(payload.toString()));
    await reader.subscribeAsync(['enose/quay-1/ack', 'enose/+/ack'], { qos: 1 });
    const forger = await connectAsync(broker.url, { username: 'quay-2', password: USERS['quay-2'], reconnectPeriod: 0 });
    await forger.publishAsync('enose/quay-1/ack', JSON.stringify({ kind: 'enose-ack', station: 'quay-1', time: new Date().toISOString(), ids: ['0000000000000000-1'] }), { qos: 1 });
    await forger.endAsync();

    // Then the real station quay-1 (the station link, its spool and its credentials) publishes a verdict; it
    // leaves the spool on the centre's ack, which passes the ACL.
    station = startStation({ station: 'quay-1', broker: { url: broker.url, username: 'quay-1', password: USERS['quay-1'] }, spoolPath: join(dir, 'spool', 'quay-1.jsonl'), engine: { setModel() {}, modelId: () => 'm0', stats: () => ({ verdicts: 0 }) } });
    await station.connected;
    station.onEvent(verdictEvent('MSCU0000001-20261207T010203Z'));
    for (let i = 0; i < 2400 && (centre.state.received < 1 || station.stats().pending > 0); i++) await new Promise((r) => setTimeout(r, 25));
    expect(centre.state.received).toBe(1);
    expect(station.stats()).toMatchObject({ pending: 0, acked: 1 });
    expect(seen.spy.map((m) => (JSON.parse(m) as { ids: string[] }).ids)).toEqual([[`${station.spool.epoch}-1`]]); // the centre's, not the forged one
    expect(seen.rogue).toEqual([]);
    await spy.endAsync();
    await reader.endAsync();
    expect(centre.state.stations.get('quay-1')!.recent[0]!.message.containerId).toBe('MSCU0000001');
    // The forged status was published (and acknowledged) before: had the broker passed it on, it would be here.
    expect(centre.state.stations.has('quay-2')).toBe(false);
    expect(modelTopics).toEqual([]);
    await admin.endAsync();
  });
});
