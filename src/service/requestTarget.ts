/**
 * The request target of an HTTP/1.1 request line (RFC 9112 section 3.2) as a URL, or why it is not one. Node's
 * parser passes on any target without spaces or control characters: `http://[` (absolute-form that is not a
 * URL), `*`, `example.com:443` or `//host/path` all reach the service, and `new URL(target, base)` throws on
 * some and reads others as another host. Pure.
 *
 * - origin-form `/path?query`: the path is the path as sent (`//x/` stays a path, never a host);
 * - absolute-form `http://host/path?query`: must parse as an http or https URL; its path and query are used
 *   (the Host header stays what the loopback check reads);
 * - anything else (asterisk-form, authority-form, a bare word): not a target this service answers.
 */
import type { Duplex } from 'node:stream';
import { fail, ok, type Result } from '../errors.js';

const BASE = 'http://localhost';

/** The target as a URL whose `pathname` and `searchParams` the routes read, or a one-line reason. */
export function parseRequestTarget(raw: string | undefined): Result<URL, string> {
  const target = raw ?? '';
  if (target.startsWith('/')) {
    // `BASE + target` keeps a leading `//` as part of the path (new URL(target, BASE) would read it as a host).
    try {
      return ok(new URL(BASE + target));
    } catch {
      return fail(`the request target ${quote(target)} is not a valid path`);
    }
  }
  if (/^https?:\/\//i.test(target)) {
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      return fail(`the request target ${quote(target)} is not a valid URL`);
    }
    return ok(new URL(BASE + url.pathname + url.search));
  }
  return fail(`the request target ${quote(target)} is neither a path nor an http URL`);
}

/** At most 80 characters of the target, JSON-quoted (one line whatever it holds). */
function quote(target: string): string {
  return JSON.stringify(target.length > 80 ? `${target.slice(0, 80)}...` : target);
}

/** What Node's parser reports for a request it cannot read (the server's `clientError` event). */
export interface ClientError extends Error {
  readonly code?: string;
}

/**
 * The answer to a request Node's parser refused (an invalid request target such as `example.com:443`, a bad
 * method, headers too large, a request that did not arrive in time): Node's own choice of status (431, 408,
 * else 400) with a one-line JSON error in place of its empty body, then the connection closes. A reset socket,
 * or one whose answer has begun already, is only closed.
 */
export function clientErrorReply(error: ClientError): string {
  const [status, text, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'the request headers are too large']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'the request did not arrive in time']
        : error.code === 'HPE_INVALID_URL'
          ? [400, 'Bad Request', 'the request target is not valid']
          : [400, 'Bad Request', `malformed request (${error.code ?? 'unknown'})`];
  const body = JSON.stringify({ error: message });
  return `HTTP/1.1 ${status} ${text}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n${body}`;
}

/** Answers a refused request on its socket (see clientErrorReply); for `server.on('clientError', ...)`. */
export function answerClientError(error: ClientError, socket: Duplex): void {
  // `_httpMessage`: the response in progress on this socket (Node's own handler checks the same), if any.
  const inProgress = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || inProgress?.headersSent) {
    socket.destroy();
    return;
  }
  socket.end(clientErrorReply(error));
}
