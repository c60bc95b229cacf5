/**
 * One lease per try, released exactly once: when the response body has been delivered, the
 * client went away, or the try failed — so LeastConnections counts a long stream as open and
 * latency-aware balancers learn time-to-headers. Plus cooldowns after 429/503 + Retry-After.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LeastConnections, PeakEwma, RoundRobin, type Balancer } from '../../src/index.js';
import { backend, closeAll, proxyServer } from './harness.js';

afterEach(closeAll);

type T = { id: string; url: string };
const active = (lb: Balancer<T>): number => lb.stats().reduce((n, s) => n + s.active, 0);

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
  return true;
}

describe('createProxy: leases', () => {
  it('keeps a streaming response counted in flight until its body ends, then releases it as a success', async () => {
    let finish: (() => void) | undefined;
    const slow = await backend('slow', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first ');
      finish = () => res.end('last');
    });
    const lb = new LeastConnections<T>([{ id: 's', url: slow.url }]);
    const p = await proxyServer({ balancer: lb });
    const res = await p.fetch('/stream');
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe('first ');
    expect(active(lb)).toBe(1);
    finish!();
    let text = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    expect(text).toBe('last');
    expect(await until(() => active(lb) === 0, 1000)).toBe(true);
    expect(lb.stats()[0]).toMatchObject({ failures: 0, picks: 1 });
  });

  it('releases the lease when the client goes away mid-body, without blaming the target', async () => {
    const endless = await backend('endless', (_req, res) => {
      res.writeHead(200);
      const timer = setInterval(() => res.write('x'.repeat(1024)), 5);
      res.on('close', () => clearInterval(timer));
    });
    const lb = new LeastConnections<T>([{ id: 'e', url: endless.url }]);
    const p = await proxyServer({ balancer: lb });
    const controller = new AbortController();
    const res = await p.fetch('/forever', { signal: controller.signal });
    const reader = res.body!.getReader();
    await reader.read();
    expect(active(lb)).toBe(1);
    controller.abort();
    expect(await until(() => active(lb) === 0, 2000)).toBe(true);
    expect(lb.stats()[0]!.failures).toBe(0);
  });

  it('releases as a failure when the upstream breaks off mid-body', async () => {
    const breaking = await backend('breaks', (_req, res) => {
      res.writeHead(200, { 'content-length': '100000' });
      res.write('x'.repeat(1000));
      setTimeout(() => res.destroy(), 20);
    });
    const lb = new LeastConnections<T>([{ id: 'b', url: breaking.url }]);
    const p = await proxyServer({ balancer: lb });
    // @hono/node-server logs the broken response stream; that is expected here.
    const quiet = vi.spyOn(console, 'error').mockImplementation(() => {});
    const res = await p.fetch('/broken');
    await expect(res.arrayBuffer()).rejects.toThrow();
    quiet.mockRestore();
    expect(await until(() => active(lb) === 0, 2000)).toBe(true);
    expect(lb.stats()[0]!.failures).toBe(1);
  });

  it('reports time to headers, not to the end of the body, to latency-aware balancers', async () => {
    const b = await backend('b', (_req, res) => {
      res.writeHead(200);
      res.write('head');
      setTimeout(() => res.end('tail'), 200);
    });
    const lb = new PeakEwma<T>([{ id: 'b', url: b.url }]);
    const p = await proxyServer({ balancer: lb });
    expect(await (await p.fetch('/t')).text()).toBe('headtail');
    expect(await until(() => active(lb) === 0, 1000)).toBe(true);
    // Headers came at once; the body took 200 ms more.
    expect(lb.rttEstimate('b')).toBeLessThan(100);
  });

  it('leaves a target out for Retry-After after a 429 or 503 (cooldown), and answers 503 while all cool', async () => {
    const limited = await backend('limited', (_req, res) => {
      res.writeHead(429, { 'retry-after': '2' });
      res.end('slow down');
    });
    const ok = await backend('ok');
    const lb = new RoundRobin<T>(
      [
        { id: 'limited', url: limited.url },
        { id: 'ok', url: ok.url },
      ],
      { seed: 1 },
    );
    const cooled: string[] = [];
    const p = await proxyServer({ balancer: lb, cooldown: true, retry: { on: ['error', 'http_429'] }, onEvent: (e) => void (e.type === 'cooldown' && cooled.push(`${e.target.id} ${e.ms}`)) });
    const bodies = [];
    for (let i = 0; i < 6; i++) bodies.push(await (await p.fetch('/x')).text());
    expect(bodies).toEqual(Array(6).fill('ok'));
    expect(limited.hits).toHaveLength(1);
    expect(cooled).toEqual(['limited 2000']);

    const alone = await proxyServer({ balancer: new RoundRobin<T>([{ id: 'limited', url: limited.url }]), cooldown: { maxMs: 5_000 } });
    const first = await alone.fetch('/x');
    expect([first.status, await first.text()]).toEqual([429, 'slow down']);
    const second = await alone.fetch('/x');
    expect([second.status, second.headers.get('retry-after')]).toEqual([503, '2']);
    await second.text();
    expect(limited.hits).toHaveLength(2);
  });
});
