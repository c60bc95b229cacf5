/**
 * `createProxy`: a reverse proxy as a web-standard handler, `(request, info) => Response`, the
 * shape `Deno.serve`, `Bun.serve` and Hono use. It composes the pure rules of this folder:
 * request checks, forwarded headers, hop-by-hop filtering, body holding, nginx's retry rules and
 * the status mapping.
 */
import { InvalidOptionError, LoadwiseError, NoTargetError } from '../core/errors.js';
import { checkOptionNames, intOption } from '../core/options.js';
import { RetryError } from '../retry.js';
import type { Target } from '../types.js';
import { readRequestBody, type RequestBody } from './body.js';
import type { OutcomeReason } from './events.js';
import { failureKind } from './failures.js';
import { Forwarder, type TryCount } from './forward.js';
import { StickySessions, type StickyOptions } from './sticky.js';
import { targetId } from '../balancer.js';
import { clientAddress, setForwarded, TrustedProxies } from './forwarded.js';
import { checkHeaders, removeHopByHop } from './headers.js';
import { FORWARD_OPTIONS, forwardConfig, type ForwardOptions } from './options.js';
import { proxyError } from './responses.js';
import { failureStatus } from './retry-rules.js';
import { pathAndQuery } from './url.js';
import { web, type RequestLike, type ResponseLike, type WebRequest, type WebResponse } from './web.js';

/**
 * Which peers are trusted proxies: their `X-Forwarded-*` and `Forwarded` headers are kept and
 * appended to, and `X-Forwarded-For` names the client. From any other peer those headers are
 * replaced by what this proxy saw.
 *
 * @example
 * ```ts
 * const forwarded: ForwardedOptions = { trust: ['10.0.0.0/8', '127.0.0.1'] };
 * ```
 */
export interface ForwardedOptions {
  /** Addresses and CIDR ranges, IPv4 or IPv6; default none. */
  readonly trust?: readonly string[] | undefined;
}

/**
 * Options of {@link createProxy}: those it shares with `balancedFetch`, plus the ones that
 * matter when the client is on the internet.
 *
 * @example
 * ```ts
 * const options: ProxyOptions<{ id: string; url: string }> = {
 *   balancer: new LeastConnections([{ id: 'a', url: 'http://127.0.0.1:9001' }, { id: 'b', url: 'http://127.0.0.1:9002' }]),
 *   retry: { tries: 2, on: ['error', 'timeout', 'http_502'] },
 *   tryTimeoutMs: 1_000,
 *   forwarded: { trust: ['10.0.0.0/8'] },
 * };
 * ```
 */
export interface ProxyOptions<T extends Target> extends ForwardOptions<T> {
  /** Trusted proxies in front of this one. */
  readonly forwarded?: ForwardedOptions | undefined;
  /** Send the client's `Host` upstream instead of the target's (nginx `proxy_set_header Host $host`); default `false`. */
  readonly preserveHost?: boolean | undefined;
  /** Largest header section accepted, names and values summed; larger ones get 431. Default 32 KiB (nginx's 4 × 8k). */
  readonly maxHeaderBytes?: number | undefined;
  /** Largest request body accepted; larger ones get 413 (nginx `client_max_body_size`). Default 100 MiB. */
  readonly maxBodyBytes?: number | undefined;
  /** Sticky sessions by cookie (nginx `sticky cookie`, HAProxy `cookie`) on top of the balancer. */
  readonly sticky?: StickyOptions | undefined;
}

/**
 * What the server adapter knows about the connection: the peer's address (Node:
 * `req.socket.remoteAddress`). Deno's handler info (`info.remoteAddr.hostname`) and Bun's server
 * (`server.requestIP(req)`) are understood as they are, so `Deno.serve(proxy)` and
 * `Bun.serve({ fetch: proxy })` need no glue.
 *
 * @example
 * ```ts
 * serve({ fetch: (req, env) => proxy(req, { clientAddress: env.incoming.socket.remoteAddress }) }); // @hono/node-server
 * ```
 */
export interface ConnectionInfo {
  readonly clientAddress?: string | undefined;
}

/**
 * A request handler: the shape `Deno.serve`, `Bun.serve({ fetch })` and Hono's `c.req.raw` use.
 * The second argument is a {@link ConnectionInfo}, Deno's handler info or Bun's server.
 *
 * @example
 * ```ts
 * const handler: ProxyHandler = createProxy({ balancer });
 * ```
 */
export type ProxyHandler = (request: WebRequest, info?: ConnectionInfo | object) => Promise<WebResponse>;

/** The peer's address from whatever the server passed: ours, Deno's handler info, or Bun's server. */
function peerAddress(request: RequestLike, info: unknown): string | undefined {
  if (typeof info !== 'object' || info === null) return undefined;
  try {
    const given = (info as ConnectionInfo).clientAddress;
    if (typeof given === 'string') return given;
    const deno = (info as { remoteAddr?: { hostname?: unknown } }).remoteAddr;
    if (typeof deno === 'object' && deno !== null && typeof deno.hostname === 'string') return deno.hostname;
    const bun = (info as { requestIP?: unknown }).requestIP;
    if (typeof bun === 'function') {
      const ip: unknown = (bun as (r: RequestLike) => unknown).call(info, request);
      const address = typeof ip === 'object' && ip !== null ? (ip as { address?: unknown }).address : undefined;
      if (typeof address === 'string') return address;
    }
  } catch {
    // a server object we do not understand: no address
  }
  return undefined;
}

/**
 * Default `maxHeaderBytes`: 32 KiB.
 *
 * @example
 * ```ts
 * createProxy({ balancer, maxHeaderBytes: 2 * DEFAULT_MAX_HEADER_BYTES });
 * ```
 */
export const DEFAULT_MAX_HEADER_BYTES = 32_768;
/**
 * Default `maxBodyBytes`: 100 MiB.
 *
 * @example
 * ```ts
 * createProxy({ balancer, maxBodyBytes: 4 * DEFAULT_MAX_BODY_BYTES }); // allow 400 MiB uploads
 * ```
 */
export const DEFAULT_MAX_BODY_BYTES = 104_857_600;

const PROXY_OPTIONS = [...FORWARD_OPTIONS, 'forwarded', 'preserveHost', 'maxHeaderBytes', 'maxBodyBytes', 'sticky'];

/**
 * Creates a reverse proxy handler over a balancer.
 *
 * Per request: CONNECT and TRACE get 405; a header value with CR, LF or NUL gets 400; a header
 * section over `maxHeaderBytes` gets 431, a body over `maxBodyBytes` 413. The upstream URL is
 * the chosen target's base URL plus the request's path and query, nothing else. Hop-by-hop
 * headers are removed both ways; `Host` becomes the target's; forwarded headers are set as
 * {@link ForwardedOptions} says. Each try holds a lease, released with its outcome and
 * time-to-headers latency when the response body has been delivered, the client left, or the
 * try failed. Retries follow nginx's `proxy_next_upstream` (see {@link RetryPolicy}). When no
 * response can be passed on: 503 with `Retry-After` (no eligible target), 502 (tries failed),
 * 504 (timed out) — short generic bodies; details go to `onEvent`.
 *
 * @param options - see {@link ProxyOptions}; bad values throw `InvalidOptionError` here.
 * @returns `(request, info?) => Promise<Response>`; it never rejects.
 * @example
 * ```ts
 * import { LeastConnections } from 'loadwise';
 * import { createProxy } from 'loadwise/fetch';
 *
 * const balancer = new LeastConnections([
 *   { id: 'a', url: 'http://127.0.0.1:9001' },
 *   { id: 'b', url: 'http://127.0.0.1:9002' },
 * ]);
 * const proxy = createProxy({ balancer, retry: { tries: 2, on: ['error', 'timeout', 'http_502'] }, tryTimeoutMs: 1_000 });
 * Deno.serve((req, info) => proxy(req, { clientAddress: info.remoteAddr.hostname }));
 * ```
 */
export function createProxy<T extends Target>(options: ProxyOptions<T>): ProxyHandler {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('options', options, 'an object with a balancer');
  checkOptionNames(options, PROXY_OPTIONS);
  const forwarder = new Forwarder(forwardConfig(options));
  const config = forwarder.config;
  const forwarded = options.forwarded;
  checkOptionNames(forwarded, ['trust'], 'forwarded');
  // Absent means none; `null` is refused like any other value that is not a list.
  const trust = new TrustedProxies(forwarded?.trust);
  const preserveHost = options.preserveHost;
  if (preserveHost !== undefined && typeof preserveHost !== 'boolean') throw new InvalidOptionError('preserveHost', preserveHost, 'a boolean');
  const maxHeaderBytes = intOption('maxHeaderBytes', options.maxHeaderBytes, DEFAULT_MAX_HEADER_BYTES, 1);
  const maxBodyBytes = intOption('maxBodyBytes', options.maxBodyBytes, DEFAULT_MAX_BODY_BYTES, 0);
  const now = config.now;
  const sticky = options.sticky === undefined ? undefined : new StickySessions(options.sticky, config.balancer);

  async function handle(request: RequestLike, info: unknown): Promise<ResponseLike> {
    const startedAt = now();
    const tries: TryCount<T> = { count: 0 };
    // Never throws: a clock that throws once the response is here must not drop the response,
    // whose body holds the try's lease until it is read.
    const elapsed = (): number => {
      try {
        return now() - startedAt;
      } catch {
        return Number.NaN;
      }
    };
    const done = (status: number, reason: OutcomeReason, error?: unknown): void => {
      if (config.onEvent === undefined) return;
      const event = { type: 'done' as const, status, reason, tries: tries.count, durationMs: elapsed() };
      forwarder.emit(error === undefined ? event : { ...event, error });
    };
    const refuse = (status: number, retryAfterS?: number): ResponseLike => {
      done(status, 'rejected');
      return proxyError(status, request, retryAfterS);
    };

    const method = request.method;
    if (method === 'CONNECT' || method === 'TRACE') return refuse(405);
    const problem = checkHeaders(request.headers, maxHeaderBytes);
    if (problem !== 'ok') return refuse(problem === 'too-large' ? 431 : 400);
    const length = request.headers.get('content-length');
    if (length !== null && !(Number(length) <= maxBodyBytes)) return refuse(/^\s*\d+\s*$/.test(length) ? 413 : 400);

    let key: string | undefined;
    const peer = peerAddress(request, info);
    try {
      if (config.key !== undefined) {
        const client = clientAddress(peer, request.headers.get('x-forwarded-for'), trust);
        const k: unknown = config.key(request, { clientAddress: client });
        key = typeof k === 'string' ? k : '';
      }
    } catch (error) {
      done(500, 'internal', error);
      return proxyError(500, request);
    }

    const headers = new web.Headers(request.headers);
    removeHopByHop(headers);
    const host = request.headers.get('host') ?? '';
    if (preserveHost !== true) headers.delete('host');
    // `fetch` frames the body itself; `Expect: 100-continue` was answered by the server in front.
    headers.delete('content-length');
    headers.delete('expect');
    const https = request.url.startsWith('https:');
    setForwarded(headers, { peer, trusted: trust.has(peer), proto: https ? 'https' : 'http', host });

    let body: RequestBody | 'too-large';
    try {
      body = await readRequestBody(request.body, config.replayBodyBytes, maxBodyBytes);
    } catch (error) {
      // The client's body broke off (it went away, or sent a malformed one).
      const aborted = request.signal?.aborted === true;
      done(aborted ? 499 : 400, aborted ? 'client-abort' : 'rejected', error);
      return proxyError(aborted ? 499 : 400, request);
    }
    if (body === 'too-large') return refuse(413);

    try {
      const token = sticky?.token(request);
      const prefer = sticky === undefined ? undefined : await sticky.pinned(token);
      const res = await forwarder.send(
        { method, path: pathAndQuery(request.url), headers, body, key, prefer, signal: request.signal, startedAt },
        tries,
      );
      if (sticky !== undefined && tries.target !== undefined) {
        try {
          await sticky.mark(res.headers, targetId(tries.target), token, https);
        } catch (error) {
          // No cookie this time (no Web Crypto?); the response, and its lease, go on.
          forwarder.emit({ type: 'done', status: res.status, reason: 'internal', tries: tries.count, durationMs: elapsed(), error });
        }
      }
      done(res.status, 'response');
      return res;
    } catch (error) {
      body.dispose();
      if (request.signal?.aborted === true) {
        done(499, 'client-abort', error);
        return proxyError(499, request);
      }
      if (body.tooLarge) return refuse(413);
      if (error instanceof NoTargetError && tries.count === 0) {
        done(503, 'no-target', error);
        return proxyError(503, request, forwarder.cooldowns?.soonestS() ?? 1);
      }
      if (error instanceof RetryError || !LoadwiseError.is(error)) {
        const kind = error instanceof RetryError ? (error.code === 'ERR_RETRY_TIMEOUT' ? 'timeout' : failureKind(error.errors[error.errors.length - 1])) : failureKind(error);
        const status = failureStatus(kind);
        done(status, kind === 'timeout' ? 'timeout' : 'failed', error);
        return proxyError(status, request);
      }
      // InvalidTargetError (a target without a usable URL), a hash balancer without a key, …
      done(500, 'internal', error);
      return proxyError(500, request);
    }
  }

  // Nothing escapes the handler: a request object whose fields throw or are not what a runtime
  // hands over (an adapter's bug), or a clock that throws before any lease is taken, gets a 500
  // instead of a rejection, which servers turn into a dropped connection or an unhandled error.
  // Every lease is taken and released inside `handle`, so none is open here.
  async function guarded(request: RequestLike, info: unknown): Promise<ResponseLike> {
    try {
      return await handle(request, info);
    } catch (error) {
      forwarder.emit({ type: 'done', status: 500, reason: 'internal', tries: 0, durationMs: 0, error });
      return proxyError(500, undefined);
    }
  }

  return guarded as unknown as ProxyHandler;
}
