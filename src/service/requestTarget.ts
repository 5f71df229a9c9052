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
