/**
 * Sticky sessions through the proxy with real cookies (undici's cookie-less client, so the test
 * carries the cookie by hand as a browser would).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidOptionError, RoundRobin } from '../../src/index.js';
import { createProxy } from '../../src/fetch/index.js';
import { backend, closeAll, proxyServer } from './harness.js';

afterEach(closeAll);

const SECRET = 'a-secret-of-at-least-16-chars';

describe('createProxy: sticky sessions (nginx sticky cookie)', () => {
  it('pins a client to the target of its first response, follows the balancer while that one is down, and re-pins', async () => {
    const bs = await Promise.all(['a', 'b', 'c'].map((n) => backend(n)));
    const lb = new RoundRobin(bs.map((b, i) => ({ id: `t${i}`, url: b.url })), { seed: 2 });
    const p = await proxyServer({ balancer: lb, sticky: { cookie: 'lw', secret: SECRET, maxAgeS: 60 } });

    const first = await p.fetch('/');
    const pinnedName = await first.text();
    const setCookie = first.headers.getSetCookie();
    expect(setCookie).toHaveLength(1);
    expect(setCookie[0]).toMatch(/^lw=[A-Za-z0-9_-]{22}; Path=\/; Max-Age=60; HttpOnly; SameSite=Lax$/);
    // The token is opaque: no address, no id.
    expect(setCookie[0]).not.toMatch(/127\.0\.0\.1|t[0-2]/);
    const cookie = setCookie[0]!.split(';')[0]!;

    const pinned: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await p.fetch('/', { headers: { cookie: `other=1; ${cookie}` } });
      pinned.push(await res.text());
      expect(res.headers.getSetCookie()).toEqual([]); // already pinned: no rewrite
    }
    expect(pinned).toEqual(Array(6).fill(pinnedName));

    const id = `t${['a', 'b', 'c'].indexOf(pinnedName)}`;
    lb.markDown(id);
    const moved = await p.fetch('/', { headers: { cookie } });
    const movedName = await moved.text();
    expect(movedName).not.toBe(pinnedName);
    const rewritten = moved.headers.getSetCookie()[0]!.split(';')[0]!;
    expect(rewritten).not.toBe(cookie);
    // The new cookie pins to the new target, even after the old one returns.
    lb.markUp(id);
    for (let i = 0; i < 3; i++) expect(await (await p.fetch('/', { headers: { cookie: rewritten } })).text()).toBe(movedName);
    // The old cookie pins to the old target again now that it is back.
    expect(await (await p.fetch('/', { headers: { cookie } })).text()).toBe(pinnedName);
  });

  it('ignores forged, malformed and foreign-secret cookies, never erroring', async () => {
    const bs = await Promise.all(['a', 'b'].map((n) => backend(n)));
    const targets = bs.map((b, i) => ({ id: `t${i}`, url: b.url }));
    const p = await proxyServer({ balancer: new RoundRobin(targets, { seed: 1 }), sticky: { cookie: 'lw', secret: SECRET } });
    const other = await proxyServer({ balancer: new RoundRobin(targets, { seed: 1 }), sticky: { cookie: 'lw', secret: 'another-secret-16-chars' } });
    const foreign = (await other.fetch('/')).headers.getSetCookie()[0]!.split(';')[0]!;
    for (const cookie of ['lw=AAAAAAAAAAAAAAAAAAAAAA', 'lw=../../etc', 'lw=', 'lw', `lw=${'x'.repeat(5000)}`, foreign]) {
      const res = await p.fetch('/', { headers: { cookie } });
      expect([cookie.slice(0, 30), res.status]).toEqual([cookie.slice(0, 30), 200]);
      const set = res.headers.getSetCookie();
      expect(set).toHaveLength(1); // rewritten to a valid token
      expect(set[0]).not.toContain(cookie.split('=')[1] || '\u0000');
    }
  });

  it('sets Secure over https (or when asked) and validates its options', async () => {
    const b = await backend('b');
    const proxy = createProxy({ balancer: new RoundRobin([{ id: 'b', url: b.url }]), sticky: { cookie: 'lw', secret: SECRET, sameSite: 'Strict', httpOnly: false, path: '/app' } });
    const res = (await proxy(new Request('https://front.example/app'))) as Response;
    expect(res.headers.getSetCookie()[0]).toMatch(/^lw=[A-Za-z0-9_-]{22}; Path=\/app; SameSite=Strict; Secure$/);
    await res.text();
    for (const [sticky, name] of [
      [{ cookie: 'l w', secret: SECRET }, 'sticky.cookie'],
      [{ cookie: 'lw', secret: 'short' }, 'sticky.secret'],
      [{ cookie: 'lw', secret: SECRET, maxAgeS: -1 }, 'sticky.maxAgeS'],
      [{ cookie: 'lw', secret: SECRET, path: 'no-slash' }, 'sticky.path'],
      [{ cookie: 'lw', secret: SECRET, sameSite: 'lax' }, 'sticky.sameSite'],
      [{ cookie: 'lw', secret: SECRET, domain: 'x' }, 'sticky.domain'],
    ] as const) {
      expect(() => createProxy({ balancer: new RoundRobin([{ id: 'b', url: b.url }]), sticky: sticky as never })).toThrow(InvalidOptionError);
      try {
        createProxy({ balancer: new RoundRobin([{ id: 'b', url: b.url }]), sticky: sticky as never });
      } catch (err) {
        expect((err as InvalidOptionError).message).toContain(name);
        expect((err as InvalidOptionError).message).not.toContain('short');
      }
    }
  });
});
