/**
 * Ready-made routing keys for the hash balancers (`ConsistentHash`, `Maglev`, `IpHash`, …):
 * a header, a cookie, a query parameter, or the client's address.
 */
import { ipKey } from '../hashing/ip-hash.js';
import { web, type RequestLike } from './web.js';

/**
 * What a key function is told besides the request: the client's address as the proxy believes it
 * (the peer's, or from `X-Forwarded-For` only when the peer is a trusted proxy).
 *
 * @example
 * ```ts
 * const key = (_request: Request, info: KeyInfo) => info.clientAddress;
 * ```
 */
export interface KeyInfo {
  readonly clientAddress?: string | undefined;
}

/**
 * A routing key taken from a request; `undefined` when the request has none (the proxy then
 * routes by the empty key, which nginx's hash modes spread by round robin).
 *
 * @example
 * ```ts
 * const byTenant: KeyFunction = (request) => request.headers.get('x-tenant') ?? undefined;
 * ```
 */
export type KeyFunction = {
  // A method's parameters are compared bivariantly, so `(request: Request) => …` fits too.
  bivariant(request: RequestLike, info: KeyInfo): string | undefined;
}['bivariant'];

/**
 * Keys by a request header (nginx `hash $http_x_user`).
 *
 * @example
 * ```ts
 * createProxy({ balancer: new ConsistentHash(targets), key: headerKey('x-user') });
 * ```
 */
export function headerKey(name: string): KeyFunction {
  return (request) => request.headers.get(name) ?? undefined;
}

/**
 * Keys by a cookie's value (nginx `hash $cookie_session`).
 *
 * @example
 * ```ts
 * createProxy({ balancer: new Maglev(targets), key: cookieKey('session') });
 * ```
 */
export function cookieKey(name: string): KeyFunction {
  const prefix = `${name}=`;
  return (request) => {
    const header = request.headers.get('cookie');
    if (header === null) return undefined;
    for (const part of header.split(';')) {
      const item = part.trim();
      if (item.startsWith(prefix)) return item.slice(prefix.length);
    }
    return undefined;
  };
}

/**
 * Keys by a query parameter (nginx `hash $arg_user`), decoded as `URLSearchParams` would.
 *
 * @example
 * ```ts
 * createProxy({ balancer: new Rendezvous(targets), key: queryKey('user') });
 * ```
 */
export function queryKey(name: string): KeyFunction {
  return (request) => {
    const url = request.url;
    // The fragment first: a `?` inside it (`/x#f?user=1`, kept in `Request.url`) starts no query.
    const hash = url.indexOf('#');
    const end = hash < 0 ? url.length : hash;
    const q = url.indexOf('?');
    if (q < 0 || q > end) return undefined;
    // From the `?` on, which the constructor strips: a second one (`??user=1`) is part of a name.
    return new web.URLSearchParams(url.slice(q, end)).get(name) ?? undefined;
  };
}

/**
 * Keys by the client's address as nginx's `ip_hash` sees it (IPv4-mapped IPv6 as plain IPv4; see
 * {@link loadwise!ipKey}). Never reads `X-Forwarded-For` itself: the proxy's `info.clientAddress`
 * honours it only from trusted proxies.
 *
 * @example
 * ```ts
 * createProxy({ balancer: new IpHash(targets), key: clientAddressKey() });
 * ```
 */
export function clientAddressKey(): KeyFunction {
  return (_request, info) => (info.clientAddress === undefined ? undefined : ipKey(info.clientAddress));
}
