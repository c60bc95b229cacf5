/**
 * `loadwise/fetch`: loadwise in front of real traffic, with web standards only (`fetch`,
 * `Request`, `Response`, `Headers`, streams, timers), so it runs unchanged on Node, Deno, Bun
 * and edge runtimes.
 *
 * - {@link createProxy}: a reverse proxy handler, `(request, info?) => Promise<Response>`, with
 *   nginx's `proxy_next_upstream` retry rules, per-try time limits, streaming both ways, forwarded
 *   headers and the security rules of a proxy that faces the internet.
 * - {@link balancedFetch}: a `fetch` for service clients whose relative URLs go to a target the
 *   balancer chose, with the same rules.
 * - The decisions as pure functions (`removeHopByHop`, `setForwarded`, `statusVerdict`, …) for
 *   adapters and tests.
 *
 * @example
 * ```ts
 * import { LeastConnections } from 'loadwise';
 * import { createProxy, balancedFetch } from 'loadwise/fetch';
 *
 * const lb = new LeastConnections([{ id: 'a', url: 'http://10.0.0.1:8080' }, { id: 'b', url: 'http://10.0.0.2:8080' }]);
 * const proxy = createProxy({ balancer: lb, retry: { tries: 2, on: ['error', 'timeout', 'http_502'] }, tryTimeoutMs: 1000 });
 * Deno.serve(proxy); // Bun.serve({ fetch: proxy }); app.all('*', (c) => proxy(c.req.raw))
 * const api = balancedFetch(lb);
 * await api('/v1/users');
 * ```
 *
 * @module loadwise/fetch
 */
export {
  createProxy,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_HEADER_BYTES,
  type ConnectionInfo,
  type ForwardedOptions,
  type ProxyHandler,
  type ProxyOptions,
} from './proxy.js';
export { balancedFetch, type BalancedFetch, type BalancedFetchOptions, type WebRequestInit } from './client.js';
export { DEFAULT_REPLAY_BODY_BYTES, type CooldownOptions, type ForwardOptions, type RetryPolicy } from './options.js';
export type { OutcomeReason, ProxyEvent } from './events.js';
export { clientAddressKey, cookieKey, headerKey, queryKey, type KeyFunction, type KeyInfo } from './keys.js';
export {
  DEFAULT_RETRY_ON,
  failureStatus,
  isNonIdempotent,
  mayRetryFailure,
  parseRetryOn,
  statusVerdict,
  type FailureKind,
  type RetryOn,
  type RetryRules,
  type TryFacts,
} from './retry-rules.js';
export { checkHeaders, HOP_BY_HOP_HEADERS, removeHopByHop, hasForbiddenCharacter, type HeaderProblem } from './headers.js';
export { clientAddress, setForwarded, forwardedElement, TrustedProxies, type ForwardedFacts } from './forwarded.js';
export { neverSent, failureKind } from './failures.js';
export { retryAfterMs } from './cooldown.js';
export type { StickyOptions } from './sticky.js';
export { parseBase, pathAndQuery, upstreamUrl, type TargetUrl, type UpstreamBase } from './url.js';
export type {
  ByteStreamLike,
  HeadersLike,
  ReadResultLike,
  RequestLike,
  ResponseLike,
  StreamReaderLike,
  UpstreamFetch,
  UpstreamInit,
  WebRequest,
  WebResponse,
} from './web.js';
