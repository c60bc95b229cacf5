/**
 * The proxy faces the internet: every security rule, through a real Node server, with raw
 * sockets where a client library would have sanitised the request. A "secret" server stands
 * for any host that is not a configured target: it must never see a request.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { IpHash, RoundRobin } from '../../src/index.js';
import { clientAddressKey, createProxy, type RequestLike } from '../../src/fetch/index.js';
import { backend, closeAll, deadPort, proxyServer, rawRequest, statusOf } from './harness.js';

afterEach(closeAll);

const echo = (name: string) =>
  backend(name, (req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ name, url: req.url, headers: req.headers }));
  });

describe('createProxy: never an open proxy', () => {
  it('sends absolute-form targets, //host paths and dot segments only to the configured target', async () => {
    const target = await echo('target');
    const secret = await echo('secret');
    const p = await proxyServer({ balancer: new RoundRobin([{ id: 't', url: target.url }]) });
    const secretHost = `127.0.0.1:${secret.port}`;
    const requests = [
      `GET http://${secretHost}/steal HTTP/1.1\r\nHost: ${secretHost}\r\nConnection: close\r\n\r\n`,
      `GET //${secretHost}/steal HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`,
      `GET /a/../../${secretHost}/steal HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`,
      `GET /%2e%2e/%2e%2e/steal HTTP/1.1\r\nHost: ${secretHost}\r\nConnection: close\r\n\r\n`,
      `GET /x HTTP/1.1\r\nHost: ${secretHost}@evil\r\nConnection: close\r\n\r\n`,
      `GET http://user@${secretHost}/steal HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`,
    ];
    const statuses = [];
    for (const raw of requests) statuses.push(statusOf(await rawRequest(p.port, raw)));
    expect(secret.hits).toEqual([]);
    // Whatever each one became, it went to the target (or was refused by the server in front).
    expect(target.hits.length).toBe(statuses.filter((s) => s === 200).length);
    expect(target.hits.length).toBeGreaterThanOrEqual(4);
    for (const hit of target.hits) expect(hit).not.toMatch(/\.\.|%2e/i);
  });

  it('answers CONNECT and TRACE with 405 and an Allow header (handler level; Node sends CONNECT elsewhere)', async () => {
    const target = await echo('target');
    const proxy = createProxy({ balancer: new RoundRobin([{ id: 't', url: target.url }]) });
    for (const method of ['CONNECT', 'TRACE']) {
      // undici's Request refuses these methods, so hand the handler a request-shaped object.
      const req: RequestLike = { method, url: `http://proxy.example/x`, headers: new Headers({ host: 'proxy.example' }), body: null };
      const res = (await proxy(req as unknown as Request)) as Response;
      expect([method, res.status, res.headers.get('allow')]).toEqual([method, 405, 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS']);
    }
    const p = await proxyServer({ balancer: new RoundRobin([{ id: 't', url: target.url }]) });
    expect(statusOf(await rawRequest(p.port, 'TRACE / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'))).toBe(405);
    expect(target.hits).toEqual([]);
  });

  it('never forwards a header value holding CR, LF or NUL', async () => {
    const target = await echo('target');
    const proxy = createProxy({ balancer: new RoundRobin([{ id: 't', url: target.url }]) });
    // Real Headers refuse such values; a request from another source might not.
    for (const bad of ['a\r\nx-injected: 1', 'a\nb', 'a\0b']) {
      const headers = {
        get: (n: string) => (n === 'x-bad' ? bad : null),
        has: (n: string) => n === 'x-bad',
        set() {},
        append() {},
        delete() {},
        forEach: (cb: (v: string, n: string) => void) => cb(bad, 'x-bad'),
      };
      const res = (await proxy({ method: 'GET', url: 'http://p/x', headers, body: null } as unknown as Request)) as Response;
      expect(res.status).toBe(400);
    }
    // Through a socket, Node's parser refuses them before the proxy; either way nothing arrives.
    const p = await proxyServer({ balancer: new RoundRobin([{ id: 't', url: target.url }]) });
    const raw = await rawRequest(p.port, 'GET /x HTTP/1.1\r\nHost: x\r\nX-Bad: a\rb\r\nConnection: close\r\n\r\n');
    expect(statusOf(raw)).toBe(400);
    expect(target.hits).toEqual([]);
  });

  it('answers 431 for a header section over maxHeaderBytes and 413 for a body over maxBodyBytes', async () => {
    const target = await echo('target');
    const p = await proxyServer({ balancer: new RoundRobin([{ id: 't', url: target.url }]), maxHeaderBytes: 4096, maxBodyBytes: 10_000 });
    const big = await p.fetch('/h', { headers: { 'x-big': 'a'.repeat(5000) } });
    expect(big.status).toBe(431);
    const declared = await p.fetch('/b', { method: 'POST', body: 'z'.repeat(10_001) });
    expect(declared.status).toBe(413);
    // A chunked body (no Content-Length) is counted as it arrives.
    const chunked = await rawRequest(
      p.port,
      `POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${(6000).toString(16)}\r\n${'q'.repeat(6000)}\r\n${(6000).toString(16)}\r\n${'q'.repeat(6000)}\r\n0\r\n\r\n`,
    );
    expect(statusOf(chunked)).toBe(413);
    const fine = await p.fetch('/ok', { method: 'POST', body: 'z'.repeat(10_000) });
    expect(fine.status).toBe(200);
    expect(target.hits).toEqual(['POST /ok']);
  });

  it('never takes X-Forwarded-For from an untrusted peer as the client address (IpHash key)', async () => {
    const a = await echo('a');
    const b = await echo('b');
    const c = await echo('c');
    const targets = [a, b, c].map((x, i) => ({ id: `10.0.${i}.1:80`, url: x.url }));
    const untrusted = await proxyServer({ balancer: new IpHash(targets), key: clientAddressKey() });
    const seen = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const res = await untrusted.fetch('/ip', { headers: { 'x-forwarded-for': `198.51.${i}.7` } });
      const body = (await res.json()) as { name: string; headers: Record<string, string> };
      seen.add(body.name);
      // The upstream is told the real peer only.
      expect(body.headers['x-forwarded-for']).toBe('127.0.0.1');
      expect(body.headers.forwarded).toMatch(/^for=127\.0\.0\.1;proto=http;host=/);
    }
    expect(seen.size).toBe(1);
    // Behind a trusted proxy, the forwarded address is the key (and is kept and appended to).
    const trusted = await proxyServer({ balancer: new IpHash(targets), key: clientAddressKey(), forwarded: { trust: ['127.0.0.0/8'] } });
    const names = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const res = await trusted.fetch('/ip', { headers: { 'x-forwarded-for': `198.51.${i}.7` } });
      const body = (await res.json()) as { name: string; headers: Record<string, string> };
      names.add(body.name);
      expect(body.headers['x-forwarded-for']).toBe(`198.51.${i}.7, 127.0.0.1`);
    }
    expect(names.size).toBeGreaterThan(1);
  });

  it('never leaks an upstream address, error message or stack in its own responses', async () => {
    const port = await deadPort();
    const p = await proxyServer({ balancer: new RoundRobin([{ id: 'secret-id', url: `http://127.0.0.1:${port}` }]) });
    for (const accept of ['text/plain', 'application/json']) {
      const res = await p.fetch('/x', { headers: { accept } });
      const text = await res.text();
      expect(res.status).toBe(502);
      expect(text).not.toMatch(new RegExp(`127\\.0\\.0\\.1|${port}|secret-id|ECONNREFUSED|fetch failed|at `));
      expect(text).toBe(accept === 'text/plain' ? 'Bad Gateway\n' : '{"error":{"status":502,"message":"Bad Gateway"}}');
    }
  });
});

describe('createProxy: headers', () => {
  it('removes hop-by-hop headers both ways, sets Host to the target, and keeps end-to-end ones', async () => {
    const target = await backend('t', (_req, res) => {
      res.writeHead(200, { 'x-up': '1', 'keep-alive': 'timeout=77', 'x-hop': 'secret', connection: 'x-hop', 'set-cookie': ['a=1', 'b=2'] });
      res.end('ok');
    });
    const p = await proxyServer({ balancer: new RoundRobin([{ id: 't', url: target.url }]) });
    // A raw request: fetch clients drop Connection and Host themselves.
    const raw = await rawRequest(
      p.port,
      'GET /h HTTP/1.1\r\nHost: front.example\r\nConnection: x-private, close\r\nX-Private: p\r\nTE: trailers\r\nProxy-Connection: x\r\nKeep-Alive: 5\r\nX-End: e\r\n\r\n',
    );
    expect(statusOf(raw)).toBe(200);
    const got = target.headers[0]!;
    expect(got['x-private']).toBeUndefined();
    expect(got.te).toBeUndefined();
    expect(got['proxy-connection']).toBeUndefined();
    expect(got['keep-alive']).toBeUndefined();
    expect(got['x-end']).toBe('e');
    expect(got.host).toBe(`127.0.0.1:${target.port}`);
    expect(got['x-forwarded-host']).toBe('front.example');
    const res = await p.fetch('/h');
    expect(await res.text()).toBe('ok');
    expect(res.headers.get('x-up')).toBe('1');
    expect(res.headers.get('x-hop')).toBeNull();
    // Node's server adds its own Keep-Alive for the client's connection; the upstream's must not pass.
    expect(res.headers.get('keep-alive')).not.toBe('timeout=77');
    expect(res.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
  });

  it('passes redirects on instead of following them; preserveHost hands the client Host to fetch', async () => {
    const target = await backend('t', (_req, res) => {
      res.writeHead(302, { location: '/elsewhere' });
      res.end();
    });
    const p = await proxyServer({ balancer: new RoundRobin([{ id: 't', url: target.url }]) });
    const res = await p.fetch('/go', { redirect: 'manual' });
    expect([res.status, res.headers.get('location')]).toEqual([302, '/elsewhere']);
    expect(target.hits).toEqual(['GET /go']);
    // Node's fetch (undici) and Deno's drop a Host header (a forbidden header in the fetch
    // standard), so this checks what the proxy hands its fetch; Bun's fetch sends it.
    const hosts: (string | null)[] = [];
    for (const preserveHost of [true, false]) {
      const proxy = createProxy({
        balancer: new RoundRobin([{ id: 't', url: target.url }]),
        preserveHost,
        fetch: async (_url, init) => {
          hosts.push(init.headers.get('host'));
          return new Response('ok');
        },
      });
      await proxy(new Request('http://front.example/h', { headers: { host: 'front.example' } }));
    }
    expect(hosts).toEqual(['front.example', null]);
  });
});
