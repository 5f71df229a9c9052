/** Access rules of the service, and the SSE helpers. */
import { describe, expect, it } from 'vitest';
import { accessOf, bearerToken, isLoopbackAddress, isLoopbackHost, parseCookies, sameSecret, SESSION_COOKIE, sessionCookie, SessionStore } from '../../src/service/auth.js';
import { FrameThinner, parseFrameRate, sseMessage } from '../../src/service/sse.js';
import { parseListen } from '../../src/cli/serve.js';

describe('auth', () => {
  it('reads bearer tokens and cookies', () => {
    expect(bearerToken('Bearer abc.def')).toBe('abc.def');
    expect(bearerToken('bearer   xyz ')).toBe('xyz');
    expect(bearerToken('Basic abc')).toBeNull();
    expect(bearerToken('Bearer a b')).toBeNull();
    expect(bearerToken(undefined)).toBeNull();
    expect(parseCookies('a=1; enose_session=xyz; a=2')).toEqual(new Map([['a', '1'], ['enose_session', 'xyz']]));
    expect(sameSecret('secret-1', 'secret-1')).toBe(true);
    expect(sameSecret('secret-1', 'secret-12')).toBe(false);
  });

  it('no token: open; a token: the bearer everywhere, the session cookie only where the page reads', () => {
    const sessions = new SessionStore(2);
    const id = sessions.create();
    const cookie = sessionCookie(id).split(';')[0]!;
    expect(cookie).toBe(`${SESSION_COOKIE}=${id}`);
    expect(accessOf(null, {}, sessions, false)).toBe('open');
    expect(accessOf('tok-12345', {}, sessions, true)).toBe('denied');
    expect(accessOf('tok-12345', { authorization: 'Bearer tok-12345' }, sessions, false)).toBe('bearer');
    expect(accessOf('tok-12345', { authorization: 'Bearer tok-1234' }, sessions, false)).toBe('denied');
    expect(accessOf('tok-12345', { cookie }, sessions, true)).toBe('session');
    expect(accessOf('tok-12345', { cookie }, sessions, false)).toBe('denied');
    expect(accessOf('tok-12345', { cookie: `${SESSION_COOKIE}=forged` }, sessions, true)).toBe('denied');
    // The oldest session goes when the store is full.
    sessions.create();
    sessions.create();
    expect(sessions.has(id)).toBe(false);
  });

  it('tells loopback hosts and addresses', () => {
    for (const h of ['127.0.0.1:8080', 'localhost:1', '[::1]:8080', 'localhost', '127.1.2.3']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['evil.example', 'evil.example:8080', '10.0.0.1:80', '127.0.0.1.evil.example', undefined]) expect(isLoopbackHost(h), String(h)).toBe(false);
    expect(isLoopbackAddress('127.0.0.1')).toBe(true);
    expect(isLoopbackAddress('0.0.0.0')).toBe(false);
  });

  it('parses --listen', () => {
    expect(parseListen('127.0.0.1:8080')).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(parseListen('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(parseListen(':9000')).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(parseListen('9000')).toEqual({ host: '127.0.0.1', port: 9000 });
    for (const bad of ['host:99999', 'host:', 'a:b:c', 'host:-1']) expect(() => parseListen(bad), bad).toThrow(/--listen/);
  });
});

describe('server-sent events', () => {
  it('formats one message per event', () => {
    expect(sseMessage('verdict', '{"a":1}')).toBe('event: verdict\ndata: {"a":1}\n\n');
  });

  it('thins frames to a rate by arrival time', () => {
    const thin = new FrameThinner(10);
    const passed = [0, 20, 99, 100, 150, 205, 300].filter((t) => thin.accept(t));
    expect(passed).toEqual([0, 100, 205]);
    const none = new FrameThinner(0);
    expect([0, 1000].some((t) => none.accept(t))).toBe(false);
    const all = new FrameThinner(Infinity);
    expect([0, 0, 0].every((t) => all.accept(t))).toBe(true);
  });

  it('reads the frames parameter', () => {
    expect(parseFrameRate(null, 25)).toBe(25);
    expect(parseFrameRate('all', 25)).toBe(Infinity);
    expect(parseFrameRate('none', 25)).toBe(0);
    expect(parseFrameRate('2.5', 25)).toBe(2.5);
    for (const bad of ['0', '-1', '1e3', 'x', '5000']) expect(parseFrameRate(bad, 25), bad).toBeNull();
  });
});
