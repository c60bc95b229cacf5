/**
 * `balancedFetch`: relative URLs resolve against the chosen target, with the proxy's retry,
 * time-limit and lease rules; failures reject (a client has no status page to send).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidOptionError, LeastConnections, NoTargetError, RetryError, RoundRobin } from '../../src/index.js';
import { balancedFetch } from '../../src/fetch/index.js';
import { backend, closeAll, deadPort, frozen } from './harness.js';

afterEach(closeAll);

type T = { id: string; url: string };

describe('balancedFetch', () => {
  it('resolves a relative path against the target, base path included, and sends method, headers and body', async () => {
    const b = await backend('b', (req, res, body) => res.end(`${req.method} ${req.url} ${req.headers['x-k']} ${body}`));
    const api = balancedFetch(new RoundRobin<T>([{ id: 'b', url: `${b.url}/api/` }]));
    const res = await api('/v1/users?id=1', { method: 'POST', headers: { 'x-k': 'v' }, body: 'hi' });
    expect(await res.text()).toBe('POST /api/v1/users?id=1 v hi');
    expect(await (await api('v2')).text()).toBe('GET /api/v2 undefined ');
    const viaRequest = await api(new Request('http://ignored.example/v3?q', { method: 'PUT', body: 'r' }));
    expect(await viaRequest.text()).toBe('PUT /api/v3?q undefined r');
  });

  it('refuses absolute URLs (it only talks to its targets)', async () => {
    const api = balancedFetch(new RoundRobin<T>([{ id: 'b', url: 'http://127.0.0.1:9' }]));
    for (const bad of ['http://evil.example/x', '//evil.example/x', 'mailto:x']) {
      await expect(api(bad)).rejects.toBeInstanceOf(InvalidOptionError);
    }
  });

  it('moves past a refused target, rejects with RetryError when all fail and NoTargetError when none is eligible', async () => {
    const live = await backend('live');
    const dead = `http://127.0.0.1:${await deadPort()}`;
    const lb = new RoundRobin<T>(
      [
        { id: 'dead', url: dead },
        { id: 'live', url: live.url },
      ],
      { seed: 1 },
    );
    const api = balancedFetch(lb);
    for (let i = 0; i < 3; i++) expect(await (await api('/x', { method: 'POST', body: 'p' })).text()).toBe('live');
    lb.markDown('live');
    const err = await api('/x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryError);
    expect((err as RetryError).code).toBe('ERR_RETRIES_EXHAUSTED');
    lb.markDown('dead');
    await expect(api('/x')).rejects.toBeInstanceOf(NoTargetError);
  });

  it('cuts a frozen target at tryTimeoutMs and holds the lease until the body is read', async () => {
    const ice = await frozen();
    const live = await backend('live');
    const lb = new LeastConnections<T>([
      { id: 'ice', url: ice.url },
      { id: 'live', url: live.url },
    ]);
    const api = balancedFetch(lb, { tryTimeoutMs: 100 });
    const started = performance.now();
    const responses = await Promise.all([api('/a'), api('/b')]);
    expect(performance.now() - started).toBeLessThan(100 + 400);
    expect(lb.stats().find((s) => s.id === 'live')!.active).toBe(2);
    expect(await Promise.all(responses.map((r) => r.text()))).toEqual(['live', 'live']);
    await new Promise((r) => setTimeout(r, 10));
    expect(lb.stats().reduce((n, s) => n + s.active, 0)).toBe(0);
  });

  it("rejects with the caller's abort reason and releases the lease", async () => {
    const ice = await frozen();
    const lb = new RoundRobin<T>([{ id: 'ice', url: ice.url }]);
    const api = balancedFetch(lb);
    const controller = new AbortController();
    const p = api('/x', { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('caller gave up')), 20);
    await expect(p).rejects.toThrow('caller gave up');
    expect(lb.stats()[0]).toMatchObject({ active: 0, failures: 0 });
  });
});
