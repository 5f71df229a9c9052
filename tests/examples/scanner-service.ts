/**
 * A complete scanner service that embeds the engine, as the README shows it: POST a container id to start a
 * sampling cycle, and read the engine's verdicts as server-sent events. It imports the package by its name,
 * as a service that depends on `enose` would.
 *
 *   POST /containers        body {"containerId": "MSCU1234567"} -> 202, starts a cycle (409 while one runs)
 *   GET  /events            text/event-stream: one `verdict` event per container
 *
 * Run it against the simulated rig: `node dist-example/scanner-service.js` after compiling, or import
 * `startScannerService` and give it any FrameSource (a serial rig: createSerialSource).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createEngine, type FrameSource, type ModelBundle, type VerdictEvent } from 'enose';

export interface ScannerService {
  readonly server: Server;
  readonly url: string;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of req) {
    body += String(chunk);
    if (body.length > 10_000) throw new Error('body too large');
  }
  return body;
}

export async function startScannerService(model: ModelBundle, source: FrameSource, port = 0): Promise<ScannerService> {
  const listeners = new Set<ServerResponse>();
  let running: string | null = null;
  const engine = createEngine({
    model,
    source,
    queue: false,
    emitFrames: false,
    onEvent: (event) => {
      if (event.type !== 'verdict') return;
      if (event.sample === running) running = null;
      const data = JSON.stringify(event satisfies VerdictEvent);
      for (const res of listeners) res.write(`event: verdict\ndata: ${data}\n\n`);
    },
  });

  const server = createServer((req, res) => {
    void (async () => {
      if (req.method === 'POST' && req.url === '/containers') {
        let id: unknown;
        try {
          id = (JSON.parse(await readBody(req)) as { containerId?: unknown }).containerId;
        } catch {
          id = undefined;
        }
        if (typeof id !== 'string' || id === '') {
          res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"containerId (a string) is required"}');
          return;
        }
        if (running !== null) {
          res.writeHead(409, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `cycle ${running} is running` }));
          return;
        }
        try {
          await engine.startSample(id);
        } catch (error) {
          res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: (error as Error).message }));
          return;
        }
        running = id;
        res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ sample: id }));
      } else if (req.method === 'GET' && req.url === '/events') {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
        res.write(': connected\n\n');
        listeners.add(res);
        req.on('close', () => listeners.delete(res));
      } else {
        res.writeHead(404).end();
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address();
  const url = typeof address === 'object' && address ? `http://127.0.0.1:${address.port}` : '';
  return {
    server,
    url,
    async close() {
      for (const res of listeners) res.end();
      await engine.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
