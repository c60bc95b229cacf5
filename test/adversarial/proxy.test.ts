/**
 * The adversarial suite's proxy part (issue 14, "The suite"): malformed and hostile requests
 * through the `createProxy` handler, with fake upstream `fetch` functions that misbehave. For
 * every case:
 *
 * - the handler settles (a Response, never a rejection) within a time bound, with a sane status
 *   (an integer from 200 to 599; the proxy's own errors are 400, 405, 413, 431, 499, 500, 502,
 *   503 and 504);
 * - every upstream URL is a target's base URL followed by a path (same origin, never a host
 *   taken from the request);
 * - once the response body is read to the end or cancelled, every lease was released (each
 *   lease's first `release` returned true exactly once) and `stats()` shows 0 active;
 * - no unhandled rejection.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { LeastConnections, Maglev, type Balancer, type Lease, type PickRequest } from '../../src/index.js';
import { createProxy, headerKey, type ProxyOptions } from '../../src/fetch/index.js';
import { Boom, errorText } from './twins.js';
import { revoked, throwingGetters, trapProxy } from './hostile.js';

interface Target {
  readonly id: string;
  readonly url: string;
}
const TARGETS: readonly Target[] = [
  { id: 'a', url: 'http://10.0.0.1:8080' },
  { id: 'b', url: 'http://10.0.0.2:8080/base' },
  { id: 'c', url: 'https://10.0.0.3' },
];
const BASES = TARGETS.map((t) => new URL(t.url));

// ── a balancer that counts its leases ───────────────────────────────────────────────────────

interface Counted {
  readonly balancer: Balancer<Target>;
  /** Leases never released (no `release` call returned true). */
  open(): number;
  /** Leases whose release returned true more than once (must never happen). */
  twice(): number;
  leases(): number;
}

function counted(lb: Balancer<Target>): Counted {
  const records: { released: number }[] = [];
  const balancer: Balancer<Target> = {
    pick: (input?: string | PickRequest) => lb.pick(input),
    acquire: (input?: string | PickRequest): Lease<Target> => {
      const lease = lb.acquire(input);
      const r = { released: 0 };
      records.push(r);
      return {
        target: lease.target,
        release: (outcome) => {
          const first = lease.release(outcome);
          if (first) r.released++;
          return first;
        },
      };
    },
    add: (t) => lb.add(t),
    remove: (id) => lb.remove(id),
    setTargets: (ts) => lb.setTargets(ts),
    setWeight: (id, w) => lb.setWeight(id, w),
    markDown: (id) => lb.markDown(id),
    markUp: (id) => lb.markUp(id),
    reportHealth: (id, h) => lb.reportHealth(id, h),
    targets: () => lb.targets(),
    get size() {
      return lb.size;
    },
    stats: () => lb.stats(),
  };
  return {
    balancer,
    open: () => records.filter((r) => r.released === 0).length,
    twice: () => records.filter((r) => r.released > 1).length,
    leases: () => records.length,
  };
}

// ── fake requests ───────────────────────────────────────────────────────────────────────────

/** A Headers-like object over raw pairs (values a real Headers would refuse included). */
function rawHeaders(pairs: readonly [string, string][]): unknown {
  const map = new Map<string, string>();
  for (const [k, v] of pairs) map.set(k.toLowerCase(), map.has(k.toLowerCase()) ? `${map.get(k.toLowerCase())!}, ${v}` : v);
  return {
    get: (n: string) => map.get(n.toLowerCase()) ?? null,
    has: (n: string) => map.has(n.toLowerCase()),
    set: (n: string, v: string) => void map.set(n.toLowerCase(), v),
    append: (n: string, v: string) => void map.set(n.toLowerCase(), v),
    delete: (n: string) => void map.delete(n.toLowerCase()),
    forEach: (f: (v: string, n: string) => void) => map.forEach((v, n) => f(v, n)),
    [Symbol.iterator]: () => map.entries(),
  };
}

interface Shape {
  method?: unknown;
  url?: unknown;
  headers?: unknown;
  body?: unknown;
  signal?: unknown;
}
/** A request-shaped object; every field can be made hostile. */
function req(s: Shape = {}): unknown {
  return {
    method: 'GET',
    url: 'http://proxy.local/x?y=1',
    headers: new Headers({ accept: 'text/plain' }),
    body: null,
    ...s,
  };
}

const enc = new TextEncoder();

/** The controllers of the streams `stream()` made, so that a "client who leaves" can error them. */
const controllers = new WeakMap<ReadableStream<Uint8Array>, ReadableStreamDefaultController<Uint8Array>>();

/** A body stream from a list of steps: bytes, a thrown error, or a read that never resolves. */
function stream(steps: readonly (Uint8Array | 'error' | 'hang' | 'bad-chunk' | 'empty')[]): ReadableStream<Uint8Array> {
  let i = 0;
  let made: ReadableStreamDefaultController<Uint8Array> | undefined;
  const s = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        made = controller;
      },
      pull(controller) {
        const s = steps[i++];
        if (s === undefined) return controller.close();
        if (s === 'error') return controller.error(new Boom('body broke off'));
        if (s === 'hang') return new Promise<void>(() => undefined);
        if (s === 'bad-chunk') return controller.enqueue('not bytes' as unknown as Uint8Array);
        if (s === 'empty') return controller.enqueue(new Uint8Array(0));
        controller.enqueue(s);
        return undefined;
      },
    },
    { highWaterMark: 0 },
  );
  controllers.set(s, made!);
  return s;
}

// ── fake upstreams ──────────────────────────────────────────────────────────────────────────

type Upstream = (url: string, init: { signal: AbortSignal; body: unknown }) => unknown;
const ok: Upstream = () => Promise.resolve(new Response('hello', { status: 200, headers: { 'content-type': 'text/plain' } }));
const status =
  (n: number, headers: Record<string, string> = {}): Upstream =>
  () =>
    Promise.resolve(new Response(n === 204 || n === 304 ? null : 'x', { status: n, headers }));
/** Reads the request body it was sent (a stream or bytes) before answering. */
const drains: Upstream = async (_url, init) => {
  const b = init.body;
  if (b instanceof ReadableStream) {
    const r = b.getReader();
    for (;;) if ((await r.read()).done) break;
  }
  return new Response('read', { status: 200 });
};
const neverSettles: Upstream = () => new Promise(() => undefined);
/** Never settles on its own, but honours the abort signal as fetch does. */
const untilAborted: Upstream = (_url, init) =>
  new Promise((_resolve, reject) => init.signal.addEventListener('abort', () => reject(init.signal.reason), { once: true }));

// ── the cases ───────────────────────────────────────────────────────────────────────────────

interface Case {
  readonly name: string;
  readonly request?: () => unknown;
  readonly info?: () => unknown;
  readonly upstream?: Upstream;
  readonly options?: Partial<ProxyOptions<Target>>;
  /** Statuses the case may end with (default: any sane one). */
  readonly status?: readonly number[];
  /** Abort the request's signal after this many ms. */
  readonly abortAfterMs?: number;
  /** Use a hash balancer routed by a header (keys in play). */
  readonly hashed?: boolean;
}

const PROXY_STATUSES = new Set([400, 405, 413, 431, 499, 500, 502, 503, 504]);

const cases: Record<string, Case[]> = {
  'request line': [
    { name: 'CONNECT', request: () => req({ method: 'CONNECT' }), status: [405] },
    { name: 'TRACE', request: () => req({ method: 'TRACE' }), status: [405] },
    { name: "method ''", request: () => req({ method: '' }) },
    { name: 'method with CR/LF', request: () => req({ method: 'GE\r\nT' }) },
    { name: 'method 5 (not a string)', request: () => req({ method: 5 }) },
    { name: 'method getter throws', request: () => throwingGetters(req() as object, 'method') },
    { name: 'method 10,000 chars', request: () => req({ method: 'X'.repeat(10_000) }) },
    { name: 'lowercase get', request: () => req({ method: 'get' }) },
    { name: 'absolute-form URL of another host', request: () => req({ url: 'http://evil.example/steal?x=1' }) },
    { name: "'//evil.example/x'", request: () => req({ url: '//evil.example/x' }) },
    { name: 'userinfo in the URL', request: () => req({ url: 'http://user:pw@evil.example/x' }) },
    { name: 'dot segments', request: () => req({ url: 'http://proxy.local/a/../../../etc/passwd' }) },
    { name: 'encoded dot segments', request: () => req({ url: 'http://proxy.local/%2e%2e/%2E%2E/x' }) },
    { name: 'backslashes', request: () => req({ url: 'http://proxy.local\\\\evil.example\\x' }) },
    { name: "url ''", request: () => req({ url: '' }) },
    { name: "url 'not a url'", request: () => req({ url: 'not a url' }) },
    { name: 'url with CR/LF', request: () => req({ url: 'http://proxy.local/x\r\nHost: evil' }) },
    { name: 'url with NUL', request: () => req({ url: 'http://proxy.local/x\u0000y' }) },
    { name: 'url with a lone surrogate', request: () => req({ url: 'http://proxy.local/\uD800' }) },
    { name: 'url of 200,000 chars', request: () => req({ url: `http://proxy.local/${'a'.repeat(200_000)}` }) },
    { name: 'query before any slash', request: () => req({ url: 'http://proxy.local?x=1' }) },
    { name: 'fragment', request: () => req({ url: 'http://proxy.local/x#frag?y' }) },
    { name: "url '@evil.example'", request: () => req({ url: '@evil.example/x' }) },
    { name: 'url null', request: () => req({ url: null }) },
    { name: 'url 5', request: () => req({ url: 5 }) },
    { name: 'url getter throws', request: () => throwingGetters(req() as object, 'url') },
    { name: 'request null', request: () => null },
    { name: 'request undefined', request: () => undefined },
    { name: "request 'GET /'", request: () => 'GET /' },
    { name: 'request {}', request: () => ({}) },
    { name: 'request: proxy whose every trap throws', request: () => trapProxy(req() as object, ['get', 'has', 'ownKeys', 'getOwnPropertyDescriptor']) },
    { name: 'request: revoked proxy', request: () => revoked(req() as object) },
    { name: 'a real Request', request: () => new Request('http://proxy.local/a?b=c', { headers: { 'x-forwarded-for': '1.2.3.4' } }) },
  ],
  headers: [
    { name: 'header value with CR/LF', request: () => req({ headers: rawHeaders([['x-a', 'a\r\nHost: evil']]) }), status: [400] },
    { name: 'header value with NUL', request: () => req({ headers: rawHeaders([['x-a', 'a\u0000']]) }), status: [400] },
    { name: '40 KB of headers', request: () => req({ headers: rawHeaders([['x-big', 'b'.repeat(40_000)]]) }), status: [431] },
    { name: '2,000 headers', request: () => req({ headers: rawHeaders(Array.from({ length: 2_000 }, (_, i) => [`x-h${i}`, 'v'] as [string, string])) }) },
    { name: "content-length '-1'", request: () => req({ headers: rawHeaders([['content-length', '-1']]) }) },
    { name: "content-length 'abc'", request: () => req({ headers: rawHeaders([['content-length', 'abc']]) }), status: [400] },
    { name: "content-length '1e3'", request: () => req({ headers: rawHeaders([['content-length', '1e3']]) }) },
    { name: 'content-length 10^20', request: () => req({ headers: rawHeaders([['content-length', '100000000000000000000']]) }), status: [413] },
    { name: "content-length '5, 6'", request: () => req({ headers: rawHeaders([['content-length', '5, 6']]) }), status: [400] },
    { name: 'transfer-encoding chunked and content-length', request: () => req({ method: 'POST', headers: rawHeaders([['transfer-encoding', 'chunked'], ['content-length', '3']]), body: stream([enc.encode('abc')]) }) },
    { name: 'connection naming host and x-forwarded-for', request: () => req({ headers: rawHeaders([['connection', 'host, x-forwarded-for, close, ,"bad token"'], ['x-forwarded-for', '6.6.6.6']]) }) },
    { name: 'host header of another host', request: () => req({ headers: rawHeaders([['host', 'evil.example']]) }) },
    { name: 'host header of another host, preserveHost', request: () => req({ headers: rawHeaders([['host', 'evil.example:1']]) }), options: { preserveHost: true } },
    { name: 'spoofed forwarded headers', request: () => req({ headers: rawHeaders([['x-forwarded-for', '1.1.1.1, 2.2.2.2'], ['forwarded', 'for=3.3.3.3;host=evil'], ['x-real-ip', '4.4.4.4']]) }) },
    { name: 'headers null', request: () => req({ headers: null }) },
    { name: 'headers {}', request: () => req({ headers: {} }) },
    { name: 'headers.forEach throws', request: () => req({ headers: { ...(rawHeaders([]) as object), forEach: () => { throw new Boom('forEach'); } } }) },
    { name: 'headers.get throws', request: () => req({ headers: { ...(rawHeaders([['a', 'b']]) as object), get: () => { throw new Boom('get'); } } }) },
    { name: 'headers.get returns 5', request: () => req({ headers: { ...(rawHeaders([['a', 'b']]) as object), get: () => 5 } }) },
    { name: 'headers getter throws', request: () => throwingGetters(req() as object, 'headers') },
    { name: 'headers: revoked proxy', request: () => req({ headers: revoked({}) }) },
    { name: 'accept wants JSON, error path', request: () => req({ method: 'TRACE', headers: rawHeaders([['accept', 'application/problem+json']]) }), status: [405] },
    { name: 'routing header missing (hash balancer)', request: () => req(), hashed: true },
    { name: 'routing header with a lone surrogate', request: () => req({ headers: rawHeaders([['x-user', '\uD800']]) }), hashed: true },
  ],
  bodies: [
    { name: 'POST body of 3 bytes', request: () => req({ method: 'POST', body: stream([enc.encode('abc')]) }), upstream: drains },
    { name: 'body errors mid-stream (held)', request: () => req({ method: 'POST', body: stream([enc.encode('ab'), 'error']) }), upstream: drains },
    { name: 'body errors mid-stream (streamed past replayBodyBytes)', request: () => req({ method: 'POST', body: stream([new Uint8Array(64), new Uint8Array(64), 'error']) }), upstream: drains, options: { replayBodyBytes: 16 } },
    { name: 'body larger than maxBodyBytes, no content-length', request: () => req({ method: 'POST', body: stream([new Uint8Array(600), new Uint8Array(600)]) }), options: { maxBodyBytes: 1_000 }, status: [413] },
    { name: 'streamed body larger than maxBodyBytes', request: () => req({ method: 'POST', body: stream([new Uint8Array(600), new Uint8Array(600), new Uint8Array(600)]) }), upstream: drains, options: { maxBodyBytes: 1_000, replayBodyBytes: 100 }, status: [413, 502] },
    { name: 'body chunks that are not bytes', request: () => req({ method: 'POST', body: stream([enc.encode('a'), 'bad-chunk']) }), upstream: drains },
    { name: 'empty chunks, then bytes', request: () => req({ method: 'POST', body: stream(['empty', 'empty', enc.encode('a')]) }), upstream: drains },
    { name: 'body never ends, client goes away', request: () => req({ method: 'POST', body: stream([enc.encode('a'), 'hang']) }), abortAfterMs: 30 },
    { name: 'streamed body never ends, client goes away', request: () => req({ method: 'POST', body: stream([new Uint8Array(64), 'hang']) }), upstream: drains, options: { replayBodyBytes: 16 }, abortAfterMs: 30 },
    { name: 'body a locked stream', request: () => { const s = stream([enc.encode('a')]); s.getReader(); return req({ method: 'POST', body: s }); } },
    { name: "body 'a string'", request: () => req({ method: 'POST', body: 'a string' }) },
    { name: 'body {}', request: () => req({ method: 'POST', body: {} }) },
    { name: 'body.getReader throws', request: () => req({ method: 'POST', body: { locked: false, getReader: () => { throw new Boom('getReader'); }, cancel: async () => undefined } }) },
    { name: 'body reader.read throws synchronously', request: () => req({ method: 'POST', body: { locked: false, getReader: () => ({ read: () => { throw new Boom('read'); }, cancel: async () => undefined, releaseLock: () => undefined }), cancel: async () => undefined } }) },
    { name: 'body getter throws', request: () => throwingGetters(req({ method: 'POST' }) as object, 'body') },
    { name: 'body on a retried POST (upstream refuses, then answers)', request: () => req({ method: 'POST', body: stream([enc.encode('abc')]) }), upstream: refusesOnce() },
  ],
  signals: [
    { name: 'signal already aborted', request: () => req({ signal: AbortSignal.abort(new Boom('gone')) }), upstream: untilAborted },
    { name: 'client goes away while upstream is slow', request: () => req(), upstream: untilAborted, abortAfterMs: 20 },
    { name: 'client goes away while upstream ignores the abort', request: () => req(), upstream: neverSettles, abortAfterMs: 20 },
    { name: 'signal {}', request: () => req({ signal: {} }) },
    { name: 'signal getter throws', request: () => throwingGetters(req() as object, 'signal') },
    { name: 'signal: revoked proxy', request: () => req({ signal: revoked({}) }) },
  ],
  'connection info': [
    { name: 'info.clientAddress getter throws', info: () => throwingGetters({}, 'clientAddress') },
    { name: 'info.requestIP throws', info: () => ({ requestIP: () => { throw new Boom('requestIP'); } }) },
    { name: 'info: revoked proxy', info: () => revoked({}) },
    { name: "info.clientAddress 'not an ip'", info: () => ({ clientAddress: 'not an ip' }), options: { forwarded: { trust: ['10.0.0.0/8'] } } },
    { name: 'info 5', info: () => 5 },
  ],
  upstream: [
    { name: 'fetch throws synchronously', upstream: () => { throw new Boom('fetch'); }, status: [502] },
    { name: 'fetch throws a string', upstream: () => { throw 'refused'; }, status: [502] },
    { name: 'fetch rejects with undefined', upstream: () => Promise.reject(undefined), status: [502] },
    { name: 'fetch rejects with null', upstream: () => Promise.reject(null), status: [502] },
    { name: 'fetch rejects with a Symbol', upstream: () => Promise.reject(Symbol('x')), status: [502] },
    { name: 'fetch rejects with a revoked proxy', upstream: () => Promise.reject(revoked({})), status: [502] },
    { name: 'fetch rejects with an Error whose getters throw', upstream: () => Promise.reject(throwingGetters(new Error('x'), 'name', 'message', 'cause', 'code')), status: [502] },
    { name: 'fetch rejects with an AggregateError cycle', upstream: () => { const e = new AggregateError([], 'x') as AggregateError & { errors: unknown[] }; e.errors.push(e); return Promise.reject(e); }, status: [502] },
    { name: 'fetch returns null', upstream: () => Promise.resolve(null), status: [502] },
    { name: 'fetch returns 5', upstream: () => Promise.resolve(5) },
    { name: 'fetch returns {}', upstream: () => Promise.resolve({}) },
    { name: "fetch returns { status: 'x' }", upstream: () => Promise.resolve({ status: 'x', statusText: 'x', headers: new Headers(), body: null }) },
    { name: 'fetch returns status 999', upstream: () => Promise.resolve({ status: 999, statusText: '', headers: new Headers(), body: null }) },
    { name: 'fetch returns status 0', upstream: () => Promise.resolve({ status: 0, statusText: '', headers: new Headers(), body: null }) },
    { name: 'fetch returns status 101', upstream: () => Promise.resolve({ status: 101, statusText: '', headers: new Headers(), body: null }) },
    { name: 'fetch returns headers null', upstream: () => Promise.resolve({ status: 200, statusText: 'OK', headers: null, body: null }) },
    { name: 'fetch returns a headers getter that throws', upstream: () => Promise.resolve(throwingGetters({ status: 200, statusText: 'OK', body: null }, 'headers')) },
    { name: 'fetch returns body {}', upstream: () => Promise.resolve({ status: 200, statusText: 'OK', headers: new Headers(), body: {} }) },
    { name: 'fetch returns a status getter that throws', upstream: () => Promise.resolve(throwingGetters({ statusText: 'OK', headers: new Headers(), body: null }, 'status')) },
    { name: 'fetch returns a thenable that throws', upstream: () => ({ then() { throw new Boom('then'); } }) },
    { name: 'upstream body errors mid-stream', upstream: () => Promise.resolve(new Response(stream([enc.encode('half'), 'error']), { status: 200 })) },
    { name: 'upstream body never ends (the client cancels)', upstream: () => Promise.resolve(new Response(stream([enc.encode('part'), 'hang']), { status: 200 })) },
    { name: 'upstream body of non-bytes', upstream: () => Promise.resolve({ status: 200, statusText: 'OK', headers: new Headers(), body: stream(['bad-chunk']) }) },
    { name: 'fetch never settles, tryTimeoutMs', upstream: neverSettles, status: [504] },
    { name: 'fetch answers only on abort', upstream: untilAborted, status: [504] },
    { name: '502 then retried', upstream: status(502), options: { retry: { tries: 3, on: ['error', 'timeout', 'http_502'] } }, status: [502] },
    { name: '503 with Retry-After, cooldown', upstream: status(503, { 'retry-after': '5' }), options: { cooldown: true, retry: { on: ['http_503'] } }, status: [503] },
    { name: '429 with a hostile Retry-After', upstream: status(429, { 'retry-after': '99999999999999999999' }), options: { cooldown: { maxMs: 10 } }, status: [429] },
    { name: '204 with a body stream', upstream: () => Promise.resolve({ status: 204, statusText: '', headers: new Headers(), body: stream([enc.encode('x')]) }), status: [204] },
    { name: 'hop-by-hop and content-encoding from upstream', upstream: status(200, { connection: 'x-secret', 'x-secret': 's', 'content-encoding': 'gzip, br', 'content-length': '1' }), status: [200] },
    { name: 'fetch removes its target from the balancer', upstream: 'remove' as unknown as Upstream },
    { name: 'fetch empties the balancer, then fails', upstream: 'empty' as unknown as Upstream, status: [502, 503] },
  ],
  options: [
    { name: 'key function throws', options: { key: () => { throw new Boom('key'); } }, hashed: true, status: [500] },
    { name: 'key function returns 5', options: { key: (() => 5) as never }, hashed: true },
    { name: "url function returns 'javascript:alert(1)'", options: { url: () => 'javascript:alert(1)' }, status: [500, 502] },
    { name: 'url function returns credentials', options: { url: () => 'http://u:p@evil.example' }, status: [500, 502] },
    { name: 'url function returns a query', options: { url: () => 'http://10.0.0.1/?x=1' }, status: [500, 502] },
    { name: "url function returns 'ftp://x'", options: { url: () => 'ftp://10.0.0.1' }, status: [500, 502] },
    { name: 'url function throws', options: { url: () => { throw new Boom('url'); } }, status: [500, 502] },
    { name: 'url function returns an object whose toString throws', options: { url: () => throwingGetters({}, 'toString') as never }, status: [500, 502] },
    { name: 'onEvent throws', options: { onEvent: () => { throw new Boom('onEvent'); } } },
    { name: 'now throws', options: { now: () => { throw new Boom('now'); } } },
    ...[1, 2, 3, 4, 5, 6, 8].map((n): Case => ({ name: `now throws from its read ${n} on`, options: { now: throwsFrom(n) } })),
    ...[1, 2, 3, 4, 5, 6, 8].map((n): Case => ({ name: `now throws on its read ${n} only`, options: { now: throwsOn(n) } })),
    ...[2, 3, 4, 5, 6, 7, 8, 10].map((n): Case => ({ name: `now throws on its read ${n} only, with a listener`, options: { now: throwsOn(n), onEvent: () => undefined } })),
    ...[2, 4, 6, 8].map((n): Case => ({ name: `now throws on its read ${n} only, sticky`, options: { now: throwsOn(n), sticky: { cookie: 'lb', secret: 'x'.repeat(32) } } })),
    { name: 'now goes backwards', options: { now: backwards() } },
    { name: 'every target down', options: {}, upstream: 'down' as unknown as Upstream, status: [503] },
  ],
};

function refusesOnce(): Upstream {
  let n = 0;
  return async (url, init) => {
    if (n++ === 0) {
      const e = new TypeError('fetch failed');
      (e as { cause?: unknown }).cause = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      throw e;
    }
    return drains(url, init);
  };
}

function throwsFrom(n: number): () => number {
  let reads = 0;
  return () => {
    if (++reads >= n) throw new Boom('now');
    return reads;
  };
}

function throwsOn(n: number): () => number {
  let reads = 0;
  return () => {
    if (++reads === n) throw new Boom('now');
    return reads;
  };
}

function backwards(): () => number {
  let t = 1e6;
  return () => (t -= 3);
}

// ── the harness ─────────────────────────────────────────────────────────────────────────────

const BOUND_MS = 2_000;
const HUNG = Symbol('hung');
function bounded<V>(p: Promise<V>, ms: number): Promise<V | typeof HUNG> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([p, new Promise<typeof HUNG>((r) => (timer = setTimeout(() => r(HUNG), ms)))]).finally(() => clearTimeout(timer));
}
const tick = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms));

let total = 0;

async function run(c: Case): Promise<string[]> {
  total++;
  const problems: string[] = [];
  const lb = c.hashed === true ? new Maglev([...TARGETS], { seed: 1, tableSize: 101 }) : new LeastConnections([...TARGETS], { seed: 1 });
  const leases = counted(lb);
  const fetched: string[] = [];
  const ac = new AbortController();
  const special = c.upstream as unknown;
  const upstream: Upstream =
    special === 'remove'
      ? (url) => {
          const t = TARGETS.find((x) => url.startsWith(x.url));
          if (t !== undefined) lb.remove(t.id);
          return ok(url, { signal: ac.signal, body: null });
        }
      : special === 'empty'
        ? () => {
            lb.setTargets([]);
            return Promise.reject(new Boom('gone'));
          }
        : (c.upstream ?? ok);
  if (special === 'down') for (const t of TARGETS) lb.markDown(t.id);
  const fetch = (url: string, init: { signal: AbortSignal; body: unknown }): unknown => {
    fetched.push(url);
    return upstream(url, init);
  };
  const rejections: unknown[] = [];
  const onRejection = (r: unknown): void => void rejections.push(r);
  process.on('unhandledRejection', onRejection);
  try {
    const options: ProxyOptions<Target> = {
      balancer: leases.balancer,
      fetch: fetch as never,
      tryTimeoutMs: 40,
      timeoutMs: 400,
      ...(c.hashed === true ? { key: headerKey('x-user') } : {}),
      ...c.options,
    };
    const proxy = createProxy(options);
    let request = c.request === undefined ? req() : c.request();
    if (c.abortAfterMs !== undefined && typeof request === 'object' && request !== null) {
      request = { ...(request as object), signal: ac.signal };
      const body = (request as { body?: unknown }).body;
      setTimeout(() => {
        ac.abort(new Boom('client went away'));
        // As a server does when the client disconnects: the request body errors too.
        if (body instanceof ReadableStream) controllers.get(body)?.error(new Boom('client went away'));
      }, c.abortAfterMs);
    }
    let res: unknown;
    try {
      res = await bounded(Promise.resolve().then(() => proxy(request as never, c.info?.() as never)), BOUND_MS);
    } catch (err) {
      problems.push(`the handler rejected: ${errorText(err)}`);
    }
    if (res === HUNG) problems.push(`the handler did not settle within ${BOUND_MS} ms`);
    if (res instanceof Response) {
      const s = res.status;
      if (!Number.isInteger(s) || s < 200 || s > 599) problems.push(`status ${s}`);
      if (c.status !== undefined && !c.status.includes(s)) problems.push(`status ${s}, expected one of ${c.status.join(', ')}`);
      if (s >= 400 && PROXY_STATUSES.has(s) && res.headers.get('content-type') === null) problems.push(`error ${s} without a content-type`);
      // Read the body as a client would; a body that never ends is cancelled, as a client that leaves.
      if (res.body !== null) {
        const reader = res.body.getReader();
        const drained = bounded(
          (async () => {
            for (;;) if ((await reader.read()).done) return;
          })().catch(() => undefined),
          150,
        );
        if ((await drained) === HUNG) await reader.cancel(new Boom('client left')).catch(() => undefined);
      }
    } else if (res !== HUNG && res !== undefined) {
      problems.push(`the handler resolved with a non-Response ${errorText(res)}`);
    }
    await tick(5);
    await tick(5);
  } catch (err) {
    problems.push(`createProxy threw: ${errorText(err)}`);
  } finally {
    process.off('unhandledRejection', onRejection);
  }
  for (const url of fetched) {
    let safe = false;
    try {
      const u = new URL(url);
      safe = BASES.some((b) => u.origin === b.origin && url.startsWith(`${b.origin}${b.pathname === '/' ? '' : b.pathname}/`));
    } catch {
      safe = false;
    }
    if (!safe) problems.push(`fetched ${JSON.stringify(url.slice(0, 120))}, not a target's base URL + path`);
  }
  if (leases.open() > 0) problems.push(`${leases.open()} of ${leases.leases()} leases never released`);
  if (leases.twice() > 0) problems.push(`${leases.twice()} leases released twice`);
  const active = lb.stats().filter((s) => s.active !== 0);
  if (active.length > 0) problems.push(`stats() still show ${active.map((s) => `${s.id}: ${s.active}`).join(', ')} active`);
  if (rejections.length > 0) problems.push(`unhandled rejection: ${errorText(rejections[0])}`);
  return problems;
}

afterAll(() => {
  console.log(`adversarial proxy: ${total} hostile requests and upstreams through createProxy`);
});

describe('adversarial proxy: nothing escapes createProxy, every lease is released', () => {
  for (const [group, list] of Object.entries(cases)) {
    it(`${group} (${list.length} cases)`, async () => {
      const failures: string[] = [];
      for (const c of list) {
        const problems = await run(c);
        if (problems.length > 0) failures.push(`${c.name}: ${problems.join(' | ')}`);
      }
      expect(failures).toEqual([]);
    }, 30_000);
  }
});
