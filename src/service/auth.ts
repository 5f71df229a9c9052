/**
 * Access to the service. Without a token everything is open (the service listens on loopback by default).
 * With one, every API request needs `Authorization: Bearer <token>`; a browser cannot add that header to a
 * page load or an EventSource, so `GET /login?token=` trades the token for a session cookie (HttpOnly,
 * SameSite=Strict) that the page and its read-only streams accept. Sessions live as long as the process.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const SESSION_COOKIE = 'enose_session';

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(header: string | undefined): string | null {
  if (header === undefined) return null;
  const match = /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(header);
  return match ? match[1] : null;
}

/** Compares two secrets in time that does not depend on where they differ (hashing evens out the lengths). */
export function sameSecret(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** Cookie header -> name/value pairs (first occurrence wins; values are not decoded). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (name !== '' && !out.has(name)) out.set(name, part.slice(eq + 1).trim());
  }
  return out;
}

/** Random session ids, the newest `capacity` kept. */
export class SessionStore {
  private readonly ids = new Set<string>();
  constructor(private readonly capacity = 1000) {}

  create(): string {
    const id = randomBytes(32).toString('base64url');
    this.ids.add(id);
    if (this.ids.size > this.capacity) this.ids.delete(this.ids.values().next().value!);
    return id;
  }

  has(id: string | undefined): boolean {
    return id !== undefined && this.ids.has(id);
  }
}

/** The Set-Cookie value of a new session. `secure` when served over TLS (a proxy in front). */
export function sessionCookie(id: string, secure = false): string {
  return `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

export type Access = 'open' | 'bearer' | 'session' | 'denied';

/**
 * Who may do what: with no token, everyone; with one, a matching bearer token anywhere, and a session cookie
 * where `sessionOk` (the page's reads).
 */
export function accessOf(
  token: string | null,
  headers: { readonly authorization?: string | undefined; readonly cookie?: string | undefined },
  sessions: SessionStore,
  sessionOk: boolean,
): Access {
  if (token === null) return 'open';
  const bearer = bearerToken(headers.authorization);
  if (bearer !== null && sameSecret(bearer, token)) return 'bearer';
  if (sessionOk && sessions.has(parseCookies(headers.cookie).get(SESSION_COOKIE))) return 'session';
  return 'denied';
}

/** True for a Host header that names a loopback address (guards a loopback listener against DNS rebinding). */
export function isLoopbackHost(host: string | undefined): boolean {
  if (!host) return false;
  let name = host.trim().toLowerCase();
  if (name.startsWith('[')) name = name.slice(1, name.indexOf(']'));
  else if (name.includes(':')) name = name.slice(0, name.lastIndexOf(':'));
  return name === 'localhost' || name === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

/** True when a listen address is loopback only. */
export function isLoopbackAddress(address: string): boolean {
  return address === 'localhost' || address === '::1' || /^127\./.test(address);
}
