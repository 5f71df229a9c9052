/** Raw HTTP clients of `/v1/events` for the hardening tests: many at once, and one that never reads. */
import { get, type ClientRequest, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';

export interface StreamOpened {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  /** The snapshot's JSON (status 200), or the JSON body (any other status). */
  readonly json: Record<string, unknown>;
  /** The snapshot message's size in bytes (200 only). */
  readonly bytes: number;
  close(): void;
}

/**
 * Opens `GET <url><path>` on its own connection and resolves with the first SSE message (the snapshot) parsed,
 * or with the JSON body of an error answer. The stream stays open until `close`.
 */
export function openStream(url: string, path: string, headers: Record<string, string> = {}): Promise<StreamOpened> {
  return new Promise((resolve, reject) => {
    let req: ClientRequest | null = null;
    req = get(`${url}${path}`, { agent: false, headers }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const close = () => {
        res.destroy();
        req?.destroy();
      };
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        if (res.statusCode !== 200) return;
        // The snapshot ends at the first blank line after its data line (its JSON holds no newline).
        const text = Buffer.concat(chunks, size).toString('utf8');
        const at = text.indexOf('event: snapshot\ndata: ');
        if (at < 0) return;
        const end = text.indexOf('\n\n', at);
        if (end < 0) return;
        res.removeAllListeners('data');
        res.on('data', () => undefined);
        try {
          const json = JSON.parse(text.slice(at + 'event: snapshot\ndata: '.length, end)) as Record<string, unknown>;
          resolve({ status: 200, headers: res.headers, json, bytes: end - at + 2, close });
        } catch (error) {
          close();
          reject(error as Error);
        }
      });
      res.on('end', () => {
        if (res.statusCode === 200) return reject(new Error('the event stream ended before its snapshot'));
        try {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>, bytes: 0, close });
        } catch (error) {
          reject(error as Error);
        }
      });
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/** A client that sends its request and never reads a byte of the answer (a paused socket). */
export function pausedClient(url: string, path: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\n\r\n`);
      socket.pause();
      resolve(socket);
    });
    socket.on('error', () => undefined); // cut by the server: expected
    socket.once('error', reject);
  });
}

/** Sends a raw request and resolves with the status code and the body of the answer (the server closes). */
export function rawRequest(url: string, head: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => socket.write(head));
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('utf8')));
    socket.on('error', reject);
    socket.on('close', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      resolve({ status, body: text.slice(text.indexOf('\r\n\r\n') + 4) });
    });
  });
}
