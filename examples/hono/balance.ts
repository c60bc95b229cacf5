/**
 * `balance()`: a Hono middleware that proxies the requests of a route through any loadwise
 * balancer, on any runtime Hono runs on.
 *
 *   app.use('/api/*', balance({ balancer, retry: { tries: 2 }, stripPrefix: '/api' }));
 *
 * Everything but two options is `createProxy`'s (in your code: `from 'loadwise/fetch'`).
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { GetConnInfo } from 'hono/conninfo';
import type { Target } from '../../src/index.js';
import { createProxy, type ProxyOptions } from '../../src/fetch/index.js';

export interface BalanceOptions<T extends Target> extends ProxyOptions<T> {
  /** Removed from the front of the path before it goes upstream: `/api/users?id=1` → `/users?id=1`. */
  readonly stripPrefix?: string;
  /**
   * The client's address, for `X-Forwarded-For` and `--key client-address`: your runtime's
   * `getConnInfo` from Hono. Without it, `c.env` is used, which carries the address on Deno
   * (`Deno.serve(app.fetch)`), Bun (`Bun.serve({ fetch: app.fetch })`) and `@hono/node-server`.
   */
  readonly getConnInfo?: GetConnInfo;
}

/** The proxy as a Hono middleware; it answers every request it sees and never calls `next`. */
export function balance<T extends Target>(options: BalanceOptions<T>): MiddlewareHandler {
  const { stripPrefix, getConnInfo, ...proxyOptions } = options;
  if (stripPrefix !== undefined && !/^\/.*[^/]$/.test(stripPrefix)) throw new TypeError(`stripPrefix ${JSON.stringify(stripPrefix)}: a path like /api, without a trailing /`);
  const proxy = createProxy(proxyOptions);
  return async (c) => {
    const address = clientAddress(c, getConnInfo); // before a rewrite: Bun knows the original request only
    let request = c.req.raw;
    if (stripPrefix !== undefined) {
      const url = new URL(request.url);
      const path = url.pathname;
      if (path === stripPrefix || path.startsWith(`${stripPrefix}/`)) {
        url.pathname = path.slice(stripPrefix.length) || '/';
        request = new Request(url, request);
      }
    }
    return proxy(request, { clientAddress: address });
  };
}

/** The client's address: from `getConnInfo`, else from what the runtime's server put in `c.env`. */
function clientAddress(c: Context, getConnInfo: GetConnInfo | undefined): string | undefined {
  if (getConnInfo !== undefined) return getConnInfo(c).remote.address;
  const env = c.env as {
    incoming?: { socket?: { remoteAddress?: string } }; // @hono/node-server
    remoteAddr?: { hostname?: string }; // Deno's handler info
    requestIP?: (request: Request) => { address: string } | null; // Bun's server
  } | undefined;
  return env?.incoming?.socket?.remoteAddress ?? env?.remoteAddr?.hostname ?? env?.requestIP?.(c.req.raw)?.address;
}
