/**
 * `POST /v1/samples`: a container id in, a cycle started. Checks the body (JSON, at most 16 KiB, zod), books the
 * cycle (409 while the rig is busy), announces it, then sends START (503 when it cannot be sent).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { Engine } from '../engine/engine.js';
import type { EventHub } from './hub.js';
import type { ServiceMetrics } from './metrics.js';
import { sendJson } from './routes.js';
import { CONTAINER_ID, sampleJson, type SampleBook } from './samples.js';

const MAX_BODY_BYTES = 16 * 1024;

const sampleRequestSchema = z.strictObject({
  containerId: z
    .string({ error: 'containerId must be a string' })
    .regex(CONTAINER_ID, 'containerId must be 1 to 40 letters, digits, dots, dashes or underscores, starting with a letter or digit'),
});

async function readBody(req: IncomingMessage): Promise<string | null> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export interface SamplePoster {
  readonly book: SampleBook;
  readonly engine: Engine;
  readonly hub: EventHub;
  readonly metrics: ServiceMetrics;
}

export async function postSample(req: IncomingMessage, res: ServerResponse, s: SamplePoster): Promise<void> {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/json') {
    s.metrics.sampleRequest('invalid');
    sendJson(res, 415, { error: 'the body must be JSON with Content-Type: application/json' });
    return;
  }
  const text = await readBody(req);
  if (text === null) {
    s.metrics.sampleRequest('invalid');
    sendJson(res, 413, { error: `the body is over ${MAX_BODY_BYTES} bytes` });
    return;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    s.metrics.sampleRequest('invalid');
    sendJson(res, 400, { error: `the body is not JSON: ${(error as Error).message}` });
    return;
  }
  const parsed = sampleRequestSchema.safeParse(value);
  if (!parsed.success) {
    s.metrics.sampleRequest('invalid');
    const issue = parsed.error.issues[0];
    const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    sendJson(res, 400, { error: `${where}${issue.message}` });
    return;
  }
  const booked = s.book.request(parsed.data.containerId);
  if (!('id' in booked)) {
    s.metrics.sampleRequest('conflict');
    sendJson(res, 409, { error: `the rig is busy with ${booked.sample || 'a cycle'} (${booked.state}, phase ${booked.phase})`, busy: booked }, { 'retry-after': '5' });
    return;
  }
  // Announced before the START goes out: the rig can start the cycle before the START's write returns, and a
  // page that saw the start must not then see the request as still waiting.
  s.hub.broadcast('sample-requested', JSON.stringify({ type: 'sample-requested', id: booked.id, containerId: booked.containerId }));
  try {
    await s.engine.startSample(booked.id);
  } catch (error) {
    s.book.withdraw(booked.id);
    s.hub.broadcast('sample-failed', JSON.stringify({ type: 'sample-failed', id: booked.id, containerId: booked.containerId, error: 'the START could not be sent' }));
    s.metrics.sampleRequest('unavailable');
    sendJson(res, 503, { error: `could not start a cycle: ${(error as Error).message.split('\n')[0]}` });
    return;
  }
  s.metrics.sampleRequest('accepted');
  sendJson(res, 202, sampleJson(s.book.get(booked.id) ?? booked), { location: `/v1/samples/${encodeURIComponent(booked.id)}` });
}
