/**
 * `balancedFetch`: `balancer.pick()` in a service client, done right. A `fetch`-compatible
 * function whose relative URLs resolve against the chosen target's base URL, with the proxy's
 * retry, time-limit, lease and outcome rules.
 */
import { InvalidOptionError } from '../core/errors.js';
import { checkOptionNames } from '../core/options.js';
import type { Balancer, Target } from '../types.js';
import { readRequestBody } from './body.js';
import { Forwarder } from './forward.js';
import { FORWARD_OPTIONS, forwardConfig, type ForwardOptions } from './options.js';
import { pathAndQuery } from './url.js';
import { web, type RequestLike, type ResponseLike, type WebRequest, type WebResponse } from './web.js';

/**
 * Options of {@link balancedFetch}: those of `createProxy` that concern the upstream side.
 *
 * @example
 * ```ts
 * const options: BalancedFetchOptions<{ id: string; url: string }> = { retry: { tries: 3 }, tryTimeoutMs: 500 };
 * ```
 */
export type BalancedFetchOptions<T extends Target> = Omit<ForwardOptions<T>, 'balancer'>;

/**
 * A `fetch` whose first argument is a path relative to the target (`'/v1/users?id=1'`) or a
 * `Request` (only its path and query are used).
 *
 * @example
 * ```ts
 * const api: BalancedFetch = balancedFetch(lb);
 * const res = await api('/v1/users', { method: 'POST', body: JSON.stringify({ name: 'ada' }) });
 * ```
 */
export type BalancedFetch = (input: string | WebRequest, init?: WebRequestInit) => Promise<WebResponse>;

/**
 * The runtime's own `RequestInit` type where the program has one; a plain object otherwise.
 *
 * @example
 * ```ts
 * const init: WebRequestInit = { method: 'POST', body: JSON.stringify({ name: 'ada' }) };
 * await api('/v1/users', init);
 * ```
 */
export type WebRequestInit = typeof globalThis extends { fetch: (input: never, init?: infer I) => unknown } ? I : Record<string, unknown>;

/** The origin a relative path is first resolved against, only to normalise it; never contacted. */
const PLACEHOLDER = 'http://loadwise.invalid';

/**
 * Returns a `fetch`-compatible function that sends each request to a target chosen by
 * `balancer`: the path resolves against the target's base URL, each try holds a lease released
 * with its outcome and latency when the response body has been read (or cancelled), and failed
 * tries move on by nginx's rules (`retry.on`, default `['error', 'timeout']`; POST only when it
 * never reached the target).
 *
 * Resolves with the response (any status; on the last try, even a status listed in `retry.on`).
 * Rejects with `NoTargetError` when no target is eligible, `RetryError` when the tries failed or
 * `timeoutMs` passed, the signal's reason when aborted, and `InvalidOptionError` for an absolute
 * URL (a client of this kind only talks to its targets).
 *
 * @param balancer - any loadwise balancer whose targets have base URLs.
 * @param options - see {@link BalancedFetchOptions}.
 * @example
 * ```ts
 * import { PeakEwma } from 'loadwise';
 * import { balancedFetch } from 'loadwise/fetch';
 *
 * const lb = new PeakEwma([{ id: 'a', url: 'http://10.0.0.1:8080' }, { id: 'b', url: 'http://10.0.0.2:8080' }]);
 * const api = balancedFetch(lb, { retry: { tries: 2 }, tryTimeoutMs: 1_000 });
 * const users = await (await api('/v1/users')).json();
 * ```
 */
export function balancedFetch<T extends Target>(balancer: Balancer<T>, options?: BalancedFetchOptions<T>): BalancedFetch {
  checkOptionNames(options, FORWARD_OPTIONS.filter((name) => name !== 'balancer'));
  const forwarder = new Forwarder(forwardConfig({ ...options, balancer }));
  const config = forwarder.config;

  async function call(input: string | RequestLike, init?: unknown): Promise<ResponseLike> {
    const startedAt = config.now();
    let request: RequestLike;
    if (typeof input === 'string') {
      if (/^[a-z][a-z0-9+.-]*:|^\/\//i.test(input)) {
        throw new InvalidOptionError('input', input, "a path relative to the target, such as '/v1/users'");
      }
      request = new web.Request(PLACEHOLDER + (input.startsWith('/') ? '' : '/') + input, init);
    } else if (typeof input === 'object' && input !== null && typeof input.url === 'string') {
      request = init === undefined ? input : new web.Request(input as unknown as string, init);
    } else {
      throw new InvalidOptionError('input', input, 'a relative path or a Request');
    }
    let key: string | undefined;
    if (config.key !== undefined) {
      const k: unknown = config.key(request, {});
      key = typeof k === 'string' ? k : '';
    }
    const body = await readRequestBody(request.body, config.replayBodyBytes, Number.MAX_SAFE_INTEGER);
    if (body === 'too-large') throw new InvalidOptionError('body', 'too large', 'a body under 2^53 bytes');
    try {
      return await forwarder.send(
        {
          method: request.method,
          path: pathAndQuery(request.url),
          headers: new web.Headers(request.headers),
          body,
          key,
          signal: request.signal,
          startedAt,
        },
        { count: 0 },
      );
    } catch (error) {
      body.dispose();
      throw error;
    }
  }

  return call as unknown as BalancedFetch;
}
