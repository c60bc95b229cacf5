/**
 * nginx's `proxy_next_upstream` rules through a real proxy (`createProxy` served by
 * @hono/node-server, upstream through undici) and real backends on 127.0.0.1: one test per
 * rule. Balancers are RoundRobin with a fixed seed, so the order of targets is known: the
 * tests read it from the backends' hit logs rather than assuming it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RetryBudget, RoundRobin, type Balancer } from '../../src/index.js';
import type { ProxyEvent } from '../../src/fetch/index.js';
import { backend, closeAll, deadPort, frozen, proxyServer, type Backend } from './harness.js';

afterEach(closeAll);

type T = { id: string; url: string };
const rr = (urls: string[]): Balancer<T> => new RoundRobin(urls.map((url, i) => ({ id: `t${i}`, url })), { seed: 1 });
const failures = (lb: Balancer<T>): Record<string, number> => Object.fromEntries(lb.stats().map((s) => [s.id, s.failures]));
const totalHits = (bs: Backend[]): number => bs.reduce((n, b) => n + b.hits.length, 0);

/** A backend answering `status` with its name as the body. */
const answering = (name: string, status: number, headers: Record<string, string> = {}): Promise<Backend> =>
  backend(name, (_req, res) => {
    res.writeHead(status, { 'content-type': 'text/plain', ...headers });
    res.end(name);
  });

/** A backend that reads the whole request, then drops the connection without answering. */
const breaking = (name: string): Promise<Backend> => backend(name, (req) => req.socket.destroy());

describe('createProxy: moving on (nginx proxy_next_upstream)', () => {
  it('moves a GET past a refused connection (error), counting a failure on the dead target', async () => {
    const live = await backend('live');
    const lb = rr([`http://127.0.0.1:${await deadPort()}`, live.url]);
    const p = await proxyServer({ balancer: lb });
    const bodies = await Promise.all([1, 2, 3, 4].map(async () => (await p.fetch('/x')).text()));
    expect(bodies).toEqual(['live', 'live', 'live', 'live']);
    expect(failures(lb).t0).toBeGreaterThan(0);
    expect(failures(lb).t1).toBe(0);
  });

  it('hands a listed status on from the last try, counted as a success there and a failure before', async () => {
    const a = await answering('a', 503);
    const b = await answering('b', 503);
    const lb = rr([a.url, b.url]);
    const p = await proxyServer({ balancer: lb, retry: { tries: 2, on: ['error', 'timeout', 'http_503'] } });
    const res = await p.fetch('/x');
    const second = a.hits.length === 1 && b.hits.length === 1 ? await res.text() : 'both not tried';
    expect(res.status).toBe(503);
    // The body is the last target's own, not a proxy page.
    const first = second === 'a' ? 'b' : 'a';
    expect(['a', 'b']).toContain(second);
    const byName = { a: 't0', b: 't1' } as const;
    expect(failures(lb)[byName[first]]).toBe(1);
    expect(failures(lb)[byName[second as 'a' | 'b']]).toBe(0);
  });

  it('passes an unlisted status on at once, as a success', async () => {
    const a = await answering('a', 500);
    const b = await answering('b', 500);
    const lb = rr([a.url, b.url]);
    const p = await proxyServer({ balancer: lb, retry: { on: ['error', 'timeout', 'http_503'] } });
    const res = await p.fetch('/x');
    expect(res.status).toBe(500);
    await res.text();
    expect(totalHits([a, b])).toBe(1);
    expect(failures(lb)).toEqual({ t0: 0, t1: 0 });
  });

  it('moves on after a listed 404 without blaming the target (NGX_PEER_NEXT)', async () => {
    const a = await answering('a', 404);
    const b = await answering('b', 404);
    const c = await answering('c', 200);
    const lb = rr([a.url, b.url, c.url]);
    const p = await proxyServer({ balancer: lb, retry: { on: ['error', 'http_404'] } });
    for (let i = 0; i < 3; i++) {
      const res = await p.fetch('/x');
      expect([res.status, await res.text()]).toEqual([200, 'c']);
    }
    expect(failures(lb)).toEqual({ t0: 0, t1: 0, t2: 0 });
  });

  it('moves a POST that was refused (never sent), and not one that was sent', async () => {
    const live = await backend('live');
    const refused = rr([`http://127.0.0.1:${await deadPort()}`, live.url]);
    const p1 = await proxyServer({ balancer: refused });
    for (let i = 0; i < 2; i++) {
      const res = await p1.fetch('/post', { method: 'POST', body: `payload ${i}` });
      expect([res.status, await res.text()]).toEqual([200, 'live']);
    }
    expect(live.bodies.map(String)).toEqual(['payload 0', 'payload 1']);

    const broken = await breaking('broken');
    const other = await backend('other');
    const sent = rr([broken.url, other.url]);
    const p2 = await proxyServer({ balancer: sent });
    const statuses: number[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await p2.fetch('/post', { method: 'POST', body: 'once' });
      statuses.push(res.status);
      await res.text();
    }
    // The request that reached `broken` is answered 502 and never reaches `other`.
    expect(statuses.sort()).toEqual([200, 502]);
    expect(broken.hits).toHaveLength(1);
    expect(other.hits).toHaveLength(1);
  });

  it('moves a sent POST when non_idempotent is listed; PUT and DELETE move without it', async () => {
    const broken = await breaking('broken');
    const other = await backend('other');
    const lb = rr([broken.url, other.url]);
    const p = await proxyServer({ balancer: lb, retry: { on: ['error', 'non_idempotent'] } });
    for (let i = 0; i < 2; i++) {
      const res = await p.fetch('/post', { method: 'POST', body: 'again' });
      expect([res.status, await res.text()]).toEqual([200, 'other']);
    }
    expect(other.bodies.map(String)).toEqual(['again', 'again']);

    const broken2 = await breaking('broken2');
    const other2 = await backend('other2');
    const p2 = await proxyServer({ balancer: rr([broken2.url, other2.url]) });
    for (const method of ['PUT', 'DELETE', 'PUT', 'DELETE']) {
      const res = await p2.fetch('/r', { method, body: 'x' });
      expect([method, res.status, await res.text()]).toEqual([method, 200, 'other2']);
    }
  });

  it('hands a POST its listed 503 instead of moving it (the request was sent)', async () => {
    const a = await answering('a', 503);
    const b = await answering('b', 503);
    const p = await proxyServer({ balancer: rr([a.url, b.url]), retry: { on: ['error', 'http_503'] } });
    const res = await p.fetch('/post', { method: 'POST', body: 'x' });
    expect(res.status).toBe(503);
    await res.text();
    expect(totalHits([a, b])).toBe(1);
  });

  it('stops after `tries` tries (first included) and answers 502', async () => {
    const bs = await Promise.all(['a', 'b', 'c'].map(breaking));
    const p = await proxyServer({ balancer: rr(bs.map((b) => b.url)), retry: { tries: 2 } });
    const res = await p.fetch('/x');
    expect(res.status).toBe(502);
    expect(await res.text()).toBe('Bad Gateway\n');
    expect(totalHits(bs)).toBe(2);
  });

  it('never moves with on: [] (nginx proxy_next_upstream off)', async () => {
    const live = await backend('live');
    const p = await proxyServer({ balancer: rr([`http://127.0.0.1:${await deadPort()}`, live.url]), retry: { on: [] } });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await p.fetch('/x')).status);
    expect(statuses.sort()).toEqual([200, 200, 502, 502]);
  });

  it('cuts a frozen try at tryTimeoutMs and moves a GET on; a POST gets 504 and stays', async () => {
    const ice = await frozen();
    const live = await backend('live');
    const lb = rr([ice.url, live.url]);
    const p = await proxyServer({ balancer: lb, tryTimeoutMs: 150 });
    const t0 = performance.now();
    const gets = await Promise.all([1, 2].map(async () => [(await p.fetch('/x')).status]));
    const elapsed = performance.now() - t0;
    expect(gets).toEqual([[200], [200]]);
    // One of the two paid one try timeout, never more: 150 ms plus scheduling slack.
    expect(elapsed).toBeLessThan(150 + 350);
    expect(failures(lb).t0).toBe(1);

    const posts = await Promise.all([1, 2].map(async () => (await p.fetch('/p', { method: 'POST', body: 'x' })).status));
    expect(posts.sort()).toEqual([200, 504]);
  });

  it('answers 504 when the whole request runs past timeoutMs', async () => {
    const a = await frozen();
    const b = await frozen();
    const p = await proxyServer({ balancer: rr([a.url, b.url]), timeoutMs: 120, tryTimeoutMs: 100 });
    const res = await p.fetch('/x');
    expect(res.status).toBe(504);
    expect(await res.text()).toBe('Gateway Timeout\n');
  });

  it('stops moving on once retry.timeoutMs has passed (nginx proxy_next_upstream_timeout)', async () => {
    const slowFail = await backend('slow', (_req, res) => setTimeout(() => res.destroy(), 80));
    const live = await backend('live');
    const p = await proxyServer({ balancer: rr([slowFail.url, live.url]), retry: { timeoutMs: 50 } });
    const statuses = [];
    for (let i = 0; i < 2; i++) statuses.push((await p.fetch('/x')).status);
    expect(statuses.sort()).toEqual([200, 502]);
    expect(live.hits).toHaveLength(1);
  });

  it('answers 503 with Retry-After when no target is eligible, and never reaches a down one', async () => {
    const a = await backend('a');
    const lb = rr([a.url]);
    lb.markDown('t0');
    const p = await proxyServer({ balancer: lb });
    const res = await p.fetch('/x');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await res.text()).toBe('Service Unavailable\n');
    expect(a.hits).toHaveLength(0);
  });

  it('stops moving on when the retry budget says no', async () => {
    const bs = await Promise.all(['a', 'b', 'c'].map(breaking));
    const budget = new RetryBudget({ percentCanRetry: 0, minRetriesPerSec: 0 });
    const p = await proxyServer({ balancer: rr(bs.map((b) => b.url)), retry: { budget } });
    const res = await p.fetch('/x');
    expect(res.status).toBe(502);
    expect(totalHits(bs)).toBe(1);
  });

  it('replays a held body to the next target, but never a streamed one that started flowing', async () => {
    const broken = await breaking('broken');
    const other = await backend('other');
    const p = await proxyServer({ balancer: rr([broken.url, other.url]), replayBodyBytes: 1024 });
    const small = 'x'.repeat(1000);
    const big = 'y'.repeat(64 * 1024);
    const results: string[] = [];
    for (const body of [small, small, big, big]) {
      const res = await p.fetch('/put', { method: 'PUT', body });
      results.push(`${body.length}:${res.status}`);
      await res.text();
    }
    // Small bodies always arrive (replayed after `broken`); a big one that went to `broken` first
    // gets 502 and `other` never sees it.
    expect(results.slice(0, 2)).toEqual(['1000:200', '1000:200']);
    expect(results.slice(2).sort()).toEqual(['65536:200', '65536:502']);
    expect(other.bodies.map((b) => b.length).sort((x, y) => x - y)).toEqual([1000, 1000, 65536]);
  });

  it('reports every try and the outcome through onEvent, and a throwing listener changes nothing', async () => {
    const live = await backend('live');
    const events: ProxyEvent<T>[] = [];
    const dead = `http://127.0.0.1:${await deadPort()}`;
    const p = await proxyServer({
      balancer: new RoundRobin([{ id: 'dead', url: dead }, { id: 'live', url: live.url }], { seed: 1 }),
      onEvent: (e) => {
        events.push(e);
        throw new Error('listener bug');
      },
    });
    for (let i = 0; i < 2; i++) expect((await p.fetch('/e')).status).toBe(200);
    const summary = events.map((e) =>
      e.type === 'try' ? `try ${e.attempt} ${e.target.id}` : e.type === 'try-end' ? `end ${e.target.id} ${e.status ?? e.failure}` : e.type === 'done' ? `done ${e.status} ${e.reason} ${e.tries}` : e.type,
    );
    expect(summary).toContain('end dead error');
    const done = events.filter((e) => e.type === 'done');
    expect(done.map((e) => `${e.status} ${e.reason}`)).toEqual(['200 response', '200 response']);
    // Every try is reported once, and each outcome counts its own tries.
    expect(summary.filter((s) => s.startsWith('try')).length).toBe(done.reduce((n, e) => n + e.tries, 0));
    expect(summary.filter((s) => s.startsWith('end')).length).toBe(summary.filter((s) => s.startsWith('try')).length);
  });
});
