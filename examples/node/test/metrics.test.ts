/**
 * `--metrics`: the Node example as a child process, round robin over a real backend and a port
 * that refuses connections, known traffic through it, then `/metrics` scraped and parsed
 * strictly (prom-text.ts) and every counter checked against the traffic.
 *
 * The backend's answer is chosen by the path, so each request's fate does not depend on which
 * target round robin tries first: `/` 200, `/status/503` 503 (passed on: only `error` moves on),
 * `/slow` answers after 2 s (the 500 ms try limit cuts it: 504), `/reset` destroys the
 * connection (an error, moved on to the refusing port: 502). Every request reaches the backend
 * exactly once; the refusing port gets the tries round robin sends there first, plus one per
 * `/reset`, and each of those is one retry.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { deadPort } from '../../../test/fetch/harness.js';
import { parsePrometheusText, sampleSum, sampleValue, type Family } from '../prom-text.js';
import { cleanupSuite, cleanupTest, onCleanup, startProxy } from './harness.js';

afterEach(cleanupTest);
afterAll(cleanupSuite);

const log = (...parts: unknown[]): void => console.log('[examples/node metrics]', ...parts);

/** The backend: its answer depends on the path; counts what reached it, by path. */
async function backend(): Promise<{ url: string; hits: Map<string, number> }> {
  const hits = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    req.resume();
    if (path === '/status/503') {
      res.statusCode = 503;
      res.end('busy');
    } else if (path === '/slow') {
      const timer = setTimeout(() => res.end('late'), 2_000);
      res.on('close', () => clearTimeout(timer));
    } else if (path === '/reset') {
      req.socket.destroy();
    } else {
      res.end('ok');
    }
  });
  return { url: `http://${await listen(server)}`, hits };
}

/** Listens on a free port of 127.0.0.1, closed (every connection cut) at cleanup; returns `127.0.0.1:PORT`. */
async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function send(origin: string, path: string, method = 'GET'): Promise<number> {
  const res = await request(origin + path, { method });
  await res.body.text();
  return res.statusCode;
}

describe('--metrics', () => {
  it('counts tries, failures, retries, latencies and client statuses exactly, and never proxies /metrics', async () => {
    const a = await backend();
    const refusing = await deadPort();
    const aId = a.url.slice('http://'.length);
    const deadId = `127.0.0.1:${refusing}`;
    const { origin } = await startProxy([
      '--listen', '127.0.0.1:0', '--algorithm', 'round-robin',
      '--target', a.url, '--target', `http://${deadId}`,
      '--retry-on', 'error', '--try-timeout-ms', '500', '--metrics',
    ]);

    // Before any traffic: every series of every target is there, at 0.
    const scrape = async (): Promise<{ families: Map<string, Family>; contentType: string | string[] | undefined; text: string }> => {
      const res = await request(`${origin}/metrics`);
      const text = await res.body.text();
      expect(res.statusCode).toBe(200);
      return { families: parsePrometheusText(text), contentType: res.headers['content-type'], text };
    };
    const before = await scrape();
    expect(before.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    for (const target of [aId, deadId]) {
      expect(sampleValue(before.families, 'loadwise_upstream_tries_total', { target })).toBe(0);
      for (const kind of ['error', 'timeout', '5xx']) expect(sampleValue(before.families, 'loadwise_upstream_failures_total', { target, kind })).toBe(0);
      expect(sampleValue(before.families, 'loadwise_upstream_latency_seconds_count', { target })).toBe(0);
    }
    for (const code of ['502', '503', '504']) expect(sampleValue(before.families, 'loadwise_proxy_errors_total', { code })).toBe(0);
    expect(sampleValue(before.families, 'loadwise_proxy_retries_total')).toBe(0);

    // The traffic, one request at a time.
    const plan: [path: string, method: string, count: number, status: number][] = [
      ['/', 'GET', 30, 200],
      ['/status/503', 'GET', 10, 503],
      ['/slow', 'GET', 2, 504],
      ['/reset', 'GET', 4, 502],
      ['/', 'TRACE', 2, 405],
    ];
    for (const [path, method, count, status] of plan) {
      for (let i = 0; i < count; i++) expect(await send(origin, path, method)).toBe(status);
    }
    // Not proxied, not counted: other methods on the metrics path get 405 from the proxy itself.
    expect(await send(origin, '/metrics', 'POST')).toBe(405);
    expect(await send(origin, '/metrics?x=1', 'HEAD')).toBe(200);

    const { families, text } = await scrape();
    const v = (name: string, labels: Record<string, string> = {}): number => sampleValue(families, name, labels);
    const reachedA = 30 + 10 + 2 + 4;
    const deadTries = v('loadwise_upstream_tries_total', { target: deadId });
    const figures = {
      triesA: v('loadwise_upstream_tries_total', { target: aId }),
      triesDead: deadTries,
      retries: v('loadwise_proxy_retries_total'),
      failures: Object.fromEntries(
        families.get('loadwise_upstream_failures_total')!.samples.filter((s) => s.value > 0).map((s) => [`${s.labels.target === aId ? 'a' : 'dead'}/${s.labels.kind}`, s.value]),
      ),
      responses: Object.fromEntries(families.get('loadwise_proxy_responses_total')!.samples.map((s) => [`${s.labels.code} ${s.labels.reason}`, s.value])),
      latencyCountA: v('loadwise_upstream_latency_seconds_count', { target: aId }),
      latencySumA: v('loadwise_upstream_latency_seconds_sum', { target: aId }),
      backendHits: Object.fromEntries(a.hits),
      lines: text.split('\n').length,
    };
    log(JSON.stringify(figures));

    // What reached the backend: each request once, /metrics never.
    expect(Object.fromEntries(a.hits)).toEqual({ '/': 30, '/status/503': 10, '/slow': 2, '/reset': 4 });
    // Tries: the backend got every request once; the refusing port the ones round robin sent it
    // first plus every /reset; each try there is one retry. (RoundRobin tries the refusing port
    // first for 45 of the 46: the retry's pick, excluding it, moves the rotation on to it again.)
    expect(figures.triesA).toBe(reachedA);
    expect(deadTries).toBeGreaterThanOrEqual(4 + 10);
    expect(deadTries).toBeLessThanOrEqual(reachedA);
    expect(figures.retries).toBe(deadTries);
    expect(figures.failures).toEqual({ 'a/5xx': 10, 'a/timeout': 2, 'a/error': 4, 'dead/error': deadTries });
    // Latency: the tries that brought response headers (/ and /status/503).
    expect(figures.latencyCountA).toBe(30 + 10);
    expect(v('loadwise_upstream_latency_seconds_bucket', { target: aId, le: '+Inf' })).toBe(40);
    expect(v('loadwise_upstream_latency_seconds_bucket', { target: aId, le: '10' })).toBe(40);
    expect(figures.latencySumA).toBeGreaterThan(0);
    expect(figures.latencySumA).toBeLessThan(40 * 0.5);
    expect(v('loadwise_upstream_latency_seconds_count', { target: deadId })).toBe(0);
    // Every status the clients got, and the proxy's own errors.
    expect(figures.responses).toEqual({ '200 response': 30, '503 response': 10, '504 timeout': 2, '502 failed': 4, '405 rejected': 2 });
    expect(v('loadwise_proxy_errors_total', { code: '502' })).toBe(4);
    expect(v('loadwise_proxy_errors_total', { code: '503' })).toBe(0);
    expect(v('loadwise_proxy_errors_total', { code: '504' })).toBe(2);
    // Gauges from stats(): nothing in flight, both targets up (no --passive, no health checks).
    expect(sampleSum(families, 'loadwise_upstream_open_leases')).toBe(0);
    for (const target of [aId, deadId]) {
      expect(v('loadwise_upstream_state', { target, state: 'up' })).toBe(1);
      expect(sampleSum(families, 'loadwise_upstream_state', { target })).toBe(1);
    }
    // Scraping changes nothing.
    const again = await scrape();
    expect(sampleValue(again.families, 'loadwise_upstream_tries_total', { target: aId })).toBe(reachedA);
    expect(sampleSum(again.families, 'loadwise_proxy_responses_total')).toBe(48);
  }, 30_000);

  it('holds a lease open while a response streams, and --metrics-path moves the endpoint', async () => {
    // A backend that sends headers, then holds the body until told.
    let finish: (() => void) | undefined;
    const server = createServer((_req, res) => {
      res.writeHead(200);
      res.write('first part');
      finish = () => res.end();
    });
    const id = await listen(server);
    const { origin } = await startProxy([
      '--listen', '127.0.0.1:0', '--algorithm', 'least-connections', '--target', `http://${id}`, '--metrics', '--metrics-path', '/_lb/metrics',
    ]);
    const scrape = async (): Promise<Map<string, Family>> => parsePrometheusText(await (await request(`${origin}/_lb/metrics`)).body.text());

    const res = await request(`${origin}/download`);
    expect(res.statusCode).toBe(200);
    expect(sampleValue(await scrape(), 'loadwise_upstream_open_leases', { target: id })).toBe(1);
    finish!();
    await res.body.text();
    // Released once the body is delivered to the client.
    let open = 1;
    for (let i = 0; i < 100 && open !== 0; i++) {
      open = sampleValue(await scrape(), 'loadwise_upstream_open_leases', { target: id });
      if (open !== 0) await new Promise((r) => setTimeout(r, 10));
    }
    expect(open).toBe(0);
    // /metrics is now an ordinary path: proxied to the backend (which answers 200 and hangs, so end it).
    const proxied = await request(`${origin}/metrics`);
    finish!();
    expect(await proxied.body.text()).toBe('first part');
    expect(sampleValue(await scrape(), 'loadwise_upstream_tries_total', { target: id })).toBe(2);
  }, 30_000);
});
