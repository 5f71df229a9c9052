/**
 * `enose serve --follow-models` after a model roll-out, both ways between the shipped models (exposure ->
 * default, default -> exposure): once the engine judges with the new model (it switches outside a cycle), the
 * service shows that model everywhere: GET /v1/model (the page's model panel and score plot), /v1/health,
 * enose_model_info in /metrics, the OpenAPI document, and a `model` event on /v1/events so that an open page
 * reads /v1/model again; the new model's verdicts get their score-plot point. Before that cycle it shows the old.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readModelFile } from '../../src/io/modelFile.js';
import { runEnose } from '../helpers/cli.js';
import { SHIPPED_MODELS } from '../helpers/models.js';
import { haveMosquitto, startBroker, type Broker, retainedStatus } from '../helpers/mosquitto.js';
import { awaitSample, ensureServiceBuilt, postSample, startServe, type ServeProcess } from '../service/serveProcess.js';

const have = haveMosquitto('serve after a roll-out');
const dir = mkdtempSync(join(tmpdir(), 'enose-serve-rollout-'));
const recording = join(dir, 'rec');
let broker: Broker;
const serves: ServeProcess[] = [];

beforeAll(async () => {
  if (!have) return;
  ensureServiceBuilt();
  // Rig seed 1: the shipped models' own rig (SIM1).
  const sim = runEnose(['simulate', '--containers', '4', '--seed', '9', '--rig-seed', '1', '--start-day', '22', '--out', recording]);
  expect(sim.code, sim.stderr).toBe(0);
  broker = await startBroker(join(dir, 'broker'));
});

afterAll(async () => {
  for (const s of serves) await s.stop();
  await broker?.stop('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const idOf = (path: string) => {
  const m = readModelFile(path);
  if (!m.ok) throw new Error(m.error.reason);
  return m.value.id;
};

const statusOf = (station: string) => retainedStatus(broker.port, station);

async function until<T>(what: string, get: () => T | Promise<T>, ok: (v: T) => boolean, tries = 300): Promise<T> {
  let v = await get();
  for (let i = 0; i < tries && !ok(v); i++) {
    await new Promise((r) => setTimeout(r, 50));
    v = await get();
  }
  if (!ok(v)) throw new Error(`gave up waiting for ${what}: ${JSON.stringify(v)}`);
  return v;
}

/** Reads /v1/events in the background and keeps the `model` events. */
function watchModelEvents(url: string): { events: Record<string, unknown>[]; stop: () => void } {
  const controller = new AbortController();
  const events: Record<string, unknown>[] = [];
  void (async () => {
    try {
      const res = await fetch(`${url}/v1/events?frames=none`, { signal: controller.signal });
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (/^event: model$/m.test(block)) events.push(JSON.parse(/^data: (.*)$/m.exec(block)![1]!) as Record<string, unknown>);
        }
      }
    } catch {
      // aborted
    }
  })();
  return { events, stop: () => controller.abort() };
}

const [defaultModel, exposureModel] = [SHIPPED_MODELS.find((m) => m.name === 'default')!, SHIPPED_MODELS.find((m) => m.name === 'exposure')!];

describe.runIf(have).each([
  { from: exposureModel, to: defaultModel },
  { from: defaultModel, to: exposureModel },
])('enose serve after a roll-out ($from.name -> $to.name)', ({ from, to }) => {
  it('shows the model the engine judges with: /v1/model, /v1/health, /metrics, OpenAPI, a model event', async () => {
    const [fromId, toId] = [idOf(from.path), idOf(to.path)];
    const station = `roll-${from.name}`;
    const serve = await startServe(['--replay', recording, '--model', from.path, '--speed', 'max', '--mqtt', broker.url, '--station', station, '--spool', join(dir, `${station}.jsonl`), '--follow-models', '--ack', 'broker']);
    serves.push(serve);
    const get = async (path: string) => (await fetch(`${serve.url}${path}`)).text();
    const run = async (containerId: string) => {
      const posted = await postSample(serve.url, { containerId });
      expect(posted.status).toBe(202);
      return awaitSample(serve.url, posted.json['id'] as string);
    };
    await until('following enose/models/SIM1', () => statusOf(station), (s) => (s?.['follow'] as { topic?: string } | null)?.topic === 'enose/models/SIM1');
    const stream = watchModelEvents(serve.url);

    const first = await run('MSCU1000001');
    expect((first['verdict'] as { modelId: string }).modelId).toBe(fromId);
    expect(JSON.parse(await get('/v1/model'))).toMatchObject({ id: fromId });

    const published = runEnose(['fleet', 'publish-model', to.path, '--rig', 'SIM1', '--mqtt', broker.url]);
    expect(published.code, published.stderr).toBe(0);
    await until('the roll-out accepted', () => statusOf(station), (s) => (s?.['follow'] as { pending?: string } | null)?.pending === toId);
    // Accepted; the engine switches at its next frame outside a cycle (the replay may still be sending the last
    // cycle's tail, or nothing until the next request): until then the service shows the old model, and
    // /v1/model, /v1/health and the events agree on which.
    const shown = (JSON.parse(await get('/v1/model')) as { id: string }).id;
    expect([fromId, toId]).toContain(shown);
    expect((JSON.parse(await get('/v1/health')) as { model: { id: string } }).model.id).toBe(shown);
    if (shown === fromId) expect(stream.events).toEqual([]);

    const second = await run('MSCU1000002');
    const verdict = second['verdict'] as { modelId: string; class: string | null; pcaScores: number[] | null };
    expect(verdict.modelId).toBe(toId);
    // The first cycle after the switch is drawn too: its point is the scores its verdict carries.
    if (verdict.class !== null) expect(second['pca']).toEqual(verdict.pcaScores);
    expect(verdict.pcaScores === null).toBe(verdict.class === null);
    const pageModel = JSON.parse(await get('/v1/model')) as { id: string; classes: string[]; cycle: { decidesAfter: string } | null };
    expect(pageModel.id).toBe(toId);
    expect(pageModel.cycle?.decidesAfter).toBe(to.decidesAfter === 'R' ? 'recovery' : 'exposure');
    const health = JSON.parse(await get('/v1/health')) as { model: { id: string } };
    expect(health.model.id).toBe(toId);
    const metrics = await get('/metrics');
    expect(metrics).toContain(`enose_model_info{model_id="${toId}"`);
    expect(metrics).not.toContain(`model_id="${fromId}"`);
    expect(await get('/v1/openapi.json')).toContain(`(model ${toId})`);
    await until('the model event', () => stream.events.length, (n) => n >= 1);
    expect(stream.events).toEqual([expect.objectContaining({ type: 'model', id: toId })]);
    stream.stop();

    // The next cycle stays with it (no second switch) and is drawn as well.
    const third = await run('MSCU1000003');
    expect((third['verdict'] as { modelId: string }).modelId).toBe(toId);
    if ((third['verdict'] as { class: string | null }).class !== null) expect(third['pca']).toEqual(expect.arrayContaining([expect.any(Number)]));

    const admin = await connectAsync(broker.url, { reconnectPeriod: 0 });
    await admin.publishAsync('enose/models/SIM1', '', { qos: 1, retain: true }); // clear the retained roll-out
    await admin.endAsync();
    expect(await serve.stop()).toBe(0);
    serves.splice(serves.indexOf(serve), 1);
  });
});
