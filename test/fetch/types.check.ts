/**
 * Compile-time checks (run by `npm run typecheck`): the handler fits what Deno.serve, Bun.serve
 * and Hono expect — `(Request) => Promise<Response>` with the program's own Request and Response
 * types — and undici's fetch fits the `fetch` option without casts.
 */
import { Agent, fetch as undiciFetch, type RequestInit as UndiciInit } from 'undici';
import { LeastConnections } from '../../src/index.js';
import { balancedFetch, createProxy, headerKey } from '../../src/fetch/index.js';

const lb = new LeastConnections([{ id: 'a', url: 'http://127.0.0.1:9001' }]);
const agent = new Agent();
const proxy = createProxy({
  balancer: lb,
  key: headerKey('x-user'),
  // undici 7 ships its own Headers and stream types, nominally other than the global ones (@types/node): one cast.
  fetch: (url, init) => undiciFetch(url, { ...init, dispatcher: agent } as unknown as UndiciInit),
  onEvent: (e) => (e.type === 'try' ? e.target.url : undefined),
});
export const asServeHandler: (request: Request) => Promise<Response> = proxy;
export const withInfo: Promise<Response> = proxy(new Request('http://x/'), { clientAddress: '127.0.0.1' });
export const keyFromRequest = createProxy({ balancer: lb, key: (request: Request) => request.headers.get('x') ?? undefined });
const api = balancedFetch(lb, { tryTimeoutMs: 100 });
export const fromClient: Promise<Response> = api('/v1', { method: 'POST', body: 'x', headers: { a: 'b' } });
// Node's global fetch takes the init as it is.
export const viaGlobalFetch = createProxy({ balancer: lb, fetch: (url, init) => fetch(url, init) });
