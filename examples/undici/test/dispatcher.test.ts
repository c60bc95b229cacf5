/**
 * End-to-end tests of `LoadwiseDispatcher`: real node:http backends on 127.0.0.1, real undici
 * clients (`request`, `fetch`, `RetryAgent`) with `{ dispatcher }`, the balancer's own
 * `stats()` checked against what the backends saw. The last block replays undici's BalancedPool
 * outage bug (nodejs/undici#4839) against the installed undici, and the same outage through the
 * dispatcher. Every server, pool and dispatcher a test made is closed after it, pass or fail.
 * Each test runs in well under a second (measured 5–400 ms, up to ~800 ms on a loaded machine),
 * a sixth of vitest's default 5 s limit at most, so none sets its own timeout.
 */
import { BalancedPool, RetryAgent, fetch, request, type Dispatcher } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { LeastConnections, PeakEwma, RoundRobin, type Balancer, type TargetStats } from '../../../src/index.js';
import { drain } from '../../shared/harness.js';
import { startBackends, type Backend } from '../backends.js';
import { LoadwiseDispatcher, type UrlTarget } from '../dispatcher.js';

const cleanups: (() => unknown)[] = [];
afterEach(() => drain(cleanups));

const log = (...parts: unknown[]): void => console.log('[examples/undici]', ...parts);

async function backends(...names: string[]): Promise<Backend[]> {
  const started = await startBackends(names);
  cleanups.push(() => Promise.all(started.map((b) => b.close())));
  return started;
}

function dispatcherFor<T extends UrlTarget>(lb: Balancer<T>): LoadwiseDispatcher<T> {
  const d = new LoadwiseDispatcher(lb);
  cleanups.push(() => d.destroy());
  return d;
}

const target = (b: Backend): UrlTarget => ({ id: b.name, url: b.url });

/** What a killed backend's connections fail with: refused, or a kept-alive socket found closed. */
const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET']);

/**
 * GET through `dispatcher` with undici.request: the body, prefixed with the status unless 200;
 * `error:connection` for a connection error, `error:CODE` for other errors.
 */
async function get(dispatcher: Dispatcher, path = '/'): Promise<string> {
  try {
    const res = await request(`http://service${path}`, { dispatcher });
    const body = await res.body.text();
    return res.statusCode === 200 ? body : `${res.statusCode}:${body}`;
  } catch (error) {
    const code = (error as { code?: string }).code ?? (error as Error).name;
    return `error:${CONNECTION_ERRORS.has(code) ? 'connection' : code}`;
  }
}

/** `n` GETs one after another; how many of each answer (see {@link get}) came back. */
async function drive(dispatcher: Dispatcher, n: number): Promise<Record<string, number>> {
  const seen: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const answer = await get(dispatcher);
    seen[answer] = (seen[answer] ?? 0) + 1;
  }
  return seen;
}

function stat(lb: Balancer<UrlTarget>, id: string): TargetStats {
  const s = lb.stats().find((x) => x.id === id);
  if (s === undefined) throw new Error(`no target ${id}`);
  return s;
}

/** BalancedPool's weight per upstream: its private `kWeight` symbol, read only to show the mechanism. */
function weights(pool: BalancedPool): number[] {
  return pool.upstreams.map((origin) => {
    const upstream = pool.getUpstream(origin) as unknown as Record<symbol, number>;
    const kWeight = Object.getOwnPropertySymbols(upstream).find((sym) => sym.description === 'kWeight');
    return kWeight === undefined ? Number.NaN : upstream[kWeight]!;
  });
}

async function until(what: string, check: () => boolean, timeoutMs = 500): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('LoadwiseDispatcher', () => {
  it('round robin over 3 backends: exact shares through request() and fetch(), whatever origin the caller names', async () => {
    const bs = await backends('a', 'b', 'c');
    const lb = new RoundRobin(bs.map(target));
    const d = dispatcherFor(lb);
    const order: string[] = [];
    for (let i = 0; i < 30; i++) {
      if (i % 2 === 0) order.push(await get(d, '/x?y=1'));
      else order.push(await (await fetch('http://elsewhere.example:1234/x?y=1', { dispatcher: d })).text());
    }
    log('round robin order', order.join(''));
    expect(new Set(order.slice(0, 3)).size).toBe(3);
    for (let i = 3; i < 30; i++) expect(order[i]).toBe(order[i % 3]);
    for (const b of bs) {
      expect(b.hits).toBe(10);
      expect(stat(lb, b.name)).toMatchObject({ picks: 10, active: 0, failures: 0 });
      expect(b.lastHost).toBe(b.url.slice('http://'.length)); // Host is the target's
      expect(new Set(b.paths)).toEqual(new Set(['/x?y=1']));
    }
  });

  it('least connections: a streaming response holds its lease until the body ends', async () => {
    const [a, b] = await backends('a', 'b');
    const lb = new LeastConnections([target(a!), target(b!)]);
    const d = dispatcherFor(lb);
    const streaming = await fetch('http://service/stream', { dispatcher: d }); // resolves at the headers
    const busy = a!.hits === 1 ? 'a' : 'b';
    const idle = busy === 'a' ? 'b' : 'a';
    expect(stat(lb, busy).active).toBe(1);
    // While it streams, every other request goes to the idle target.
    expect(await drive(d, 6)).toEqual({ [idle]: 6 });
    expect(stat(lb, busy).active).toBe(1);
    expect(stat(lb, idle).active).toBe(0);
    a!.finishStreams();
    b!.finishStreams();
    expect(await streaming.text()).toBe(`${busy} end`);
    expect(stat(lb, busy)).toMatchObject({ active: 0, failures: 0 });
    // Both idle again: least connections alternates.
    expect(await drive(d, 4)).toEqual({ a: 2, b: 2 });
  });

  it('a body cut off mid-stream is a failure; the caller aborting is not', async () => {
    const [a] = await backends('a');
    const lb = new LeastConnections([target(a!)]);
    const d = dispatcherFor(lb);

    const aborter = new AbortController();
    const aborted = await fetch('http://service/stream', { dispatcher: d, signal: aborter.signal });
    expect(stat(lb, 'a').active).toBe(1);
    aborter.abort();
    await expect(aborted.text()).rejects.toThrow();
    await until('the aborted lease to close', () => stat(lb, 'a').active === 0);
    expect(stat(lb, 'a').failures).toBe(0);

    const cut = await fetch('http://service/stream', { dispatcher: d });
    expect(stat(lb, 'a').active).toBe(1);
    await a!.kill();
    await expect(cut.text()).rejects.toThrow();
    expect(stat(lb, 'a')).toMatchObject({ active: 0, failures: 1 });
  });

  it('5xx answers are failures, 4xx are not; latency is time to headers', async () => {
    const [a] = await backends('a');
    const lb = new PeakEwma([target(a!)]);
    const d = dispatcherFor(lb);
    expect(await get(d, '/status/404')).toBe('404:a');
    expect(stat(lb, 'a').failures).toBe(0);
    expect(await get(d, '/status/503')).toBe('503:a');
    expect(stat(lb, 'a').failures).toBe(1);
    const latency = stat(lb, 'a').latencyMs;
    log('PeakEwma latency after 2 requests (ms)', latency?.toFixed(2));
    expect(latency).toBeGreaterThan(0);
    expect(latency).toBeLessThan(200);
  });

  it('targets added and removed at run time: pools follow, a removed target’s connections close', async () => {
    const [a, b, c] = await backends('a', 'b', 'c');
    const lb = new RoundRobin([target(a!), target(b!)]);
    const d = dispatcherFor(lb);
    expect(await drive(d, 4)).toEqual({ a: 2, b: 2 });
    lb.add(target(c!));
    expect(await drive(d, 6)).toEqual({ a: 2, b: 2, c: 2 });
    expect(d.pooled().sort()).toEqual(['a', 'b', 'c']);
    expect(a!.sockets.size).toBe(1); // keep-alive

    lb.remove('a');
    expect(await drive(d, 6)).toEqual({ b: 3, c: 3 });
    expect(d.pooled().sort()).toEqual(['b', 'c']);
    await until("a's keep-alive connection to close", () => a!.sockets.size === 0);

    // Same id, new url (with a path prefix): the old pool goes, requests follow the url.
    lb.remove('b');
    lb.add({ id: 'b', url: `${c!.url}/v2` });
    expect(await drive(d, 4)).toEqual({ c: 4 });
    expect(c!.paths.slice(-4).sort()).toEqual(['/', '/', '/v2/', '/v2/']);
    expect(stat(lb, 'b')).toMatchObject({ picks: 2, active: 0 });
    await until("b's keep-alive connection to close", () => b!.sockets.size === 0);
    expect(a!.hits + b!.hits + c!.hits).toBe(20);
  });

  it('a killed backend, passive health: one failed request, then it is out of rotation', async () => {
    const bs = await backends('a', 'b', 'c');
    const lb = new RoundRobin(bs.map(target), { passive: { maxFails: 1, failTimeoutMs: 10_000 } });
    const d = dispatcherFor(lb);
    expect(await drive(d, 6)).toEqual({ a: 2, b: 2, c: 2 });
    await bs[1]!.kill();
    const after = await drive(d, 13);
    log('after killing b', after);
    expect(after).toEqual({ a: 6, c: 6, 'error:connection': 1 });
    expect(stat(lb, 'b')).toMatchObject({ state: 'down', failures: 1, active: 0 });
  });

  it("composes with undici's RetryAgent: each retry is a new lease on another target", async () => {
    const [a, b] = await backends('a', 'b');
    const lb = new RoundRobin([target(a!), target(b!)], { passive: true });
    const d = dispatcherFor(lb);
    const retrying = new RetryAgent(d, { maxRetries: 2, minTimeout: 1, maxTimeout: 1, timeoutFactor: 1 });
    await a!.kill();
    expect(await drive(retrying, 10)).toEqual({ b: 10 });
    expect(stat(lb, 'a')).toMatchObject({ state: 'down', failures: 1 });
    expect(stat(lb, 'b')).toMatchObject({ picks: 10, failures: 0, active: 0 });
  });

  it('a balancer with no eligible target fails the request with NoTargetError; close() refuses new requests', async () => {
    const [a] = await backends('a');
    const lb = new RoundRobin([target(a!)]);
    const d = dispatcherFor(lb);
    lb.markDown('a');
    expect(await get(d)).toBe('error:ERR_NO_TARGET');
    lb.markUp('a');
    expect(await get(d)).toBe('a');
    await d.close();
    expect(await get(d)).toBe('error:UND_ERR_CLOSED');
    await until("a's connection to close", () => a!.sockets.size === 0);
  });
});

/**
 * nodejs/undici#4839 (open): "BalancedPool deteriorates to a single point of failure after
 * outages". BalancedPool lowers an upstream's weight by `errorPenalty` (15) on each connection
 * error, down to 1, and raises it by 15 only on a new connection. Same outage for both: 20
 * requests with both backends up, both killed for 30 requests, then one or both back.
 */
describe('after both upstreams fail (nodejs/undici#4839)', () => {
  async function outage(d: Dispatcher, bs: readonly Backend[], restore: readonly Backend[], pauseMs = 0) {
    const before = await drive(d, 20);
    await Promise.all(bs.map((b) => b.kill()));
    const during = await drive(d, 30);
    await Promise.all(restore.map((b) => b.restart()));
    await new Promise((r) => setTimeout(r, pauseMs));
    for (const b of bs) b.hits = 0;
    return { before, during };
  }

  it('BalancedPool (connections: 1), only a comes back: every request still goes to the dead b', async () => {
    const bs = await backends('a', 'b');
    const pool = new BalancedPool(bs.map((b) => b.url), { connections: 1 });
    cleanups.push(() => pool.destroy());
    const { before, during } = await outage(pool, bs, [bs[0]!]);
    const after = await drive(pool, 100);
    log('BalancedPool connections: 1, a back:', { before, during, after });
    expect(before).toEqual({ a: 10, b: 10 });
    expect(during).toEqual({ 'error:connection': 30 });
    expect(weights(pool)).toEqual([1, 1]);
    // The bug, as undici 7.30.3 does it. If this fails, undici fixed #4839: update the README.
    expect(after).toEqual({ 'error:connection': 100 });
    expect(bs[0]!.hits).toBe(0);
  });

  it('LoadwiseDispatcher (round robin, passive health), only a comes back: a takes the traffic', async () => {
    const bs = await backends('a', 'b');
    const failTimeoutMs = 100;
    const lb = new RoundRobin(bs.map(target), { passive: { maxFails: 1, failTimeoutMs } });
    const d = dispatcherFor(lb);
    const { before, during } = await outage(d, bs, [bs[0]!], failTimeoutMs);
    const t0 = performance.now();
    const after = await drive(d, 100);
    const elapsed = performance.now() - t0;
    log('loadwise, a back:', { before, during, after, elapsedMs: Math.round(elapsed) });
    expect(before).toEqual({ a: 10, b: 10 });
    // Both refused once, then out of rotation: NoTargetError at once, no connection attempted.
    expect(during).toEqual({ 'error:connection': 2, 'error:ERR_NO_TARGET': 28 });
    // b is tried again once per failTimeoutMs (nginx's rule), a takes everything else.
    const refused = after['error:connection'] ?? 0;
    expect(refused).toBeGreaterThanOrEqual(1);
    expect(refused).toBeLessThanOrEqual(1 + Math.floor(elapsed / failTimeoutMs));
    expect(after.a).toBe(100 - refused);
  });

  it('BalancedPool (default options), both come back: weights stay at 16 and 31, a ~1:2 split', async () => {
    const bs = await backends('a', 'b');
    const pool = new BalancedPool(bs.map((b) => b.url));
    cleanups.push(() => pool.destroy());
    const { before } = await outage(pool, bs, bs);
    const first = await drive(pool, 100);
    const next = await drive(pool, 200);
    log('BalancedPool default, both back:', { before, first100: first, next200: next, weights: weights(pool) });
    expect(before).toEqual({ a: 10, b: 10 });
    expect(weights(pool)).toEqual([16, 31]);
    // The bug, as undici 7.30.3 does it (measured: a 27 / b 73, then a 70 / b 130); keep-alive
    // means no new connection, so the weights never climb back to 100.
    expect(next.a ?? 0).toBeLessThan(0.4 * 200);
    expect((next.a ?? 0) + (next.b ?? 0)).toBe(200);
  });

  it('LoadwiseDispatcher, both come back: exact halves once failTimeoutMs has passed', async () => {
    const bs = await backends('a', 'b');
    const failTimeoutMs = 100;
    const lb = new RoundRobin(bs.map(target), { passive: { maxFails: 1, failTimeoutMs } });
    const d = dispatcherFor(lb);
    const { before } = await outage(d, bs, bs, failTimeoutMs);
    const first = await drive(d, 100);
    const next = await drive(d, 200);
    log('loadwise, both back:', { before, first100: first, next200: next });
    expect(first).toEqual({ a: 50, b: 50 });
    expect(next).toEqual({ a: 100, b: 100 });
  });
});
