/**
 * The OpenAPI document against the routes that really answer: every documented operation is requested on a
 * running service and answers with one of its documented status codes (never 404 or 405); every route of the
 * table is in the document, and the document has nothing else. Run with each shipped model, in-process, on a
 * recording acting as the rig, with a token (so the access rules are exercised too).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openReplayRig } from '../../src/io/replayRig.js';
import { readModelFile } from '../../src/io/modelFile.js';
import { ROUTES } from '../../src/service/routes.js';
import { startScannerService, type ScannerService } from '../../src/service/server.js';
import { runEnose } from '../helpers/cli.js';
import { SHIPPED_MODELS } from '../helpers/models.js';
import { ensureServiceBuilt } from './serveProcess.js';

const TOKEN = 'openapi-test-token';
const dir = mkdtempSync(join(tmpdir(), 'enose-openapi-'));
const recording = join(dir, 'rec');
beforeAll(() => {
  ensureServiceBuilt();
  expect(runEnose(['simulate', '--containers', '2', '--seed', '3', '--start-day', '22', '--out', recording]).code).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Operation {
  readonly responses: Record<string, unknown>;
  readonly parameters?: { name: string; in: string }[];
  readonly requestBody?: { content: { 'application/json': { example: unknown } } };
  readonly security: unknown[];
}
type Doc = { openapi: string; paths: Record<string, Record<string, Operation>> };

describe.each(SHIPPED_MODELS)('/v1/openapi.json with the $name model', ({ path }) => {
  let service: ScannerService;
  let doc: Doc;
  beforeAll(async () => {
    const model = readModelFile(path);
    if (!model.ok) throw new Error(model.error.reason);
    const opened = await openReplayRig(recording, { speed: 'max' });
    if (!opened.ok) throw new Error(opened.error.reason);
    service = await startScannerService({ model: model.value, source: opened.value.rig, port: 0, token: TOKEN, processMetrics: false });
    const res = await fetch(`${service.url}/v1/openapi.json`);
    expect(res.status).toBe(200);
    doc = (await res.json()) as Doc;
  });
  afterAll(() => service?.close());

  it('documents every route of the table, and only those', () => {
    expect(doc.openapi).toMatch(/^3\./);
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)).sort();
    const table = ROUTES.map((r) => `${r.method === '*' ? 'GET' : r.method} ${r.path}`).sort();
    expect(documented).toEqual(table);
  });

  it('every documented operation answers with a documented status, with and without the token', async () => {
    // Wait until the rig is up, so that a cycle can start.
    for (let i = 0; i < 2400 && (await fetch(`${service.url}/v1/health`, { headers: { authorization: `Bearer ${TOKEN}` } })).status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
    let sampleId = 'nope';
    for (const [pattern, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        for (const withToken of [true, false]) {
          const target = pattern.replace('{id}', encodeURIComponent(sampleId));
          const headers: Record<string, string> = withToken ? { authorization: `Bearer ${TOKEN}` } : {};
          const init: RequestInit = { method: method.toUpperCase(), headers, redirect: 'manual' };
          if (op.requestBody) {
            headers['content-type'] = 'application/json';
            init.body = JSON.stringify(op.requestBody.content['application/json'].example);
          }
          const res = await fetch(`${service.url}${target}`, init);
          if (res.headers.get('content-type')?.startsWith('text/event-stream')) await res.body!.cancel();
          else {
            const text = await res.text();
            if (method === 'post' && res.status === 202) sampleId = (JSON.parse(text) as { id: string }).id;
          }
          const what = `${method.toUpperCase()} ${target} (${withToken ? 'token' : 'no token'})`;
          expect(Object.keys(op.responses), what).toContain(String(res.status));
          // The route answers (the POST comes before the sample route in the document, so its id is real).
          expect([404, 405], what).not.toContain(res.status);
          // Without the token, what the document marks as secured is refused.
          if (!withToken && op.security.length > 0) expect(res.status, what).toBe(401);
        }
      }
    }
    // The POST started a cycle, and the sample route found it.
    expect(sampleId).not.toBe('nope');
  });
});
