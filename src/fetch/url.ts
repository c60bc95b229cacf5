/**
 * Upstream URLs. The only part of a client's request that reaches the upstream URL is its path
 * and query, appended to the chosen target's base URL: an absolute-form request target naming
 * another host, a path like `//other-host/x`, or dot segments can never point anywhere but a
 * configured target (never an open proxy).
 */
import { InvalidTargetError } from '../core/errors.js';
import type { Target } from '../types.js';
import { web } from './web.js';

/**
 * A target's base URL, split once: `http://10.0.0.1:8080/api` → origin and `/api`.
 *
 * @example
 * ```ts
 * const base: UpstreamBase = parseBase('http://10.0.0.1:8080/api'); // { origin: 'http://10.0.0.1:8080', path: '/api' }
 * ```
 */
export interface UpstreamBase {
  /** `scheme://host:port`. */
  readonly origin: string;
  /** A path prefix without a trailing slash (`''` for none). */
  readonly path: string;
}

/**
 * Checks and splits a target's base URL: `http:` or `https:`, no credentials, query or fragment.
 * Throws `InvalidTargetError` otherwise.
 *
 * @example
 * ```ts
 * parseBase('http://10.0.0.1:8080/api/'); // { origin: 'http://10.0.0.1:8080', path: '/api' }
 * ```
 */
export function parseBase(value: string): UpstreamBase {
  let url;
  try {
    url = new web.URL(value);
  } catch {
    throw new InvalidTargetError(`target url ${JSON.stringify(value)} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidTargetError(`target url ${JSON.stringify(value)} must use http: or https:`);
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new InvalidTargetError(`target url ${JSON.stringify(value)} must not carry credentials, a query or a fragment`);
  }
  const path = url.pathname.endsWith('/') ? url.pathname.slice(0, -1) : url.pathname;
  return { origin: url.origin, path };
}

/**
 * The path and query of an absolute URL as a `Request` carries it (already parsed, so dot
 * segments are resolved): everything from the first `/` after the authority, without a fragment.
 *
 * @example
 * ```ts
 * pathAndQuery('http://proxy.example//evil.example/x?y=1'); // '//evil.example/x?y=1'
 * ```
 */
export function pathAndQuery(url: string): string {
  const scheme = url.indexOf('://');
  const from = scheme < 0 ? 0 : scheme + 3;
  let end = url.indexOf('#', from);
  if (end < 0) end = url.length;
  const slash = url.indexOf('/', from);
  const query = url.indexOf('?', from);
  // `http://host?x`: the query comes before any slash, the path is empty.
  if (query >= 0 && query < end && (slash < 0 || query < slash)) return `/${url.slice(query, end)}`;
  if (slash < 0 || slash >= end) return '/';
  if (scheme < 0 && slash !== 0) return `/${url.slice(0, end)}`;
  return url.slice(slash, end);
}

/**
 * The upstream URL: the base's origin, then its path prefix, then the request's path and query.
 * Whatever the path holds, the origin comes first, so the authority is always the target's.
 *
 * @example
 * ```ts
 * upstreamUrl({ origin: 'http://10.0.0.1:8080', path: '/api' }, '/users?id=1'); // 'http://10.0.0.1:8080/api/users?id=1'
 * ```
 */
export function upstreamUrl(base: UpstreamBase, path: string): string {
  return base.origin + base.path + path;
}

/**
 * Where a target's base URL comes from: its `url` field (or the string target itself), or a function.
 *
 * @example
 * ```ts
 * const url: TargetUrl<{ id: string; host: string }> = (t) => `http://${t.host}:8080`;
 * createProxy({ balancer, url });
 * ```
 */
export type TargetUrl<T extends Target> = (target: T) => string | { toString(): string };

/** Caches each target's parsed base URL, re-parsing only when the URL text changes. */
export class BaseCache<T extends Target> {
  private readonly byObject = new WeakMap<object, { text: string; base: UpstreamBase }>();
  private readonly byString = new Map<string, UpstreamBase>();

  constructor(private readonly url: TargetUrl<T> | undefined) {}

  /** The target's base URL; throws `InvalidTargetError` when it has none or a bad one. */
  get(target: T): UpstreamBase {
    const text = this.text(target);
    if (typeof target === 'string') {
      let base = this.byString.get(text);
      if (base === undefined) {
        base = parseBase(text);
        if (this.byString.size > 10_000) this.byString.clear();
        this.byString.set(text, base);
      }
      return base;
    }
    const cached = this.byObject.get(target);
    if (cached !== undefined && cached.text === text) return cached.base;
    const base = parseBase(text);
    this.byObject.set(target, { text, base });
    return base;
  }

  private text(target: T): string {
    if (this.url !== undefined) return String(this.url(target));
    if (typeof target === 'string') return target;
    const url = (target as { url?: unknown }).url;
    if (url === undefined || url === null) {
      throw new InvalidTargetError(`target ${JSON.stringify(target.id)} has no url (give each target a url, or the url option)`);
    }
    return String(url);
  }
}
