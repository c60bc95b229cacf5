/**
 * One request through the balancer: each try is a lease on a target, a `fetch` with its own
 * abort controller and time limit, and a verdict on what came back — all run by `withRetry`, the
 * library's one retry loop, with nginx's `proxy_next_upstream` rules as its predicates. The
 * accepted response keeps its lease open until its body has been delivered.
 */
import { targetId } from '../balancer.js';
import type { AbortSignalLike } from '../core/runtime.js';
import { withRetry, type RetryVerdict } from '../retry.js';
import type { Target } from '../types.js';
import { leasedBody, type RequestBody } from './body.js';
import { Cooldowns, retryAfterMs } from './cooldown.js';
import type { ProxyEvent } from './events.js';
import { failureKind, neverSent } from './failures.js';
import { responseHeaders } from './headers.js';
import type { ForwardConfig } from './options.js';
import { mayRetryFailure, statusVerdict, type TryFacts } from './retry-rules.js';
import { BaseCache, upstreamUrl } from './url.js';
import { web, type HeadersLike, type ResponseLike, type UpstreamInit } from './web.js';

/** A request as the tries send it. */
export interface Exchange {
  readonly method: string;
  /** Path and query, appended to each target's base URL. */
  readonly path: string;
  /** The upstream request headers, already filtered. */
  readonly headers: HeadersLike;
  readonly body: RequestBody;
  readonly key: string | undefined;
  /** An id the first try goes to while it is eligible (a sticky session's target). */
  readonly prefer?: string | undefined;
  /** The client's signal: aborting it aborts the try in flight. */
  readonly signal: AbortSignalLike | undefined;
  /** When the request arrived, on the configured clock. */
  readonly startedAt: number;
}

/** How many tries a request started, and the target of the last one. */
export interface TryCount<T extends Target> {
  count: number;
  target?: T | undefined;
}

/** Statuses whose responses never have a body. */
function nullBodyStatus(status: number): boolean {
  return status === 204 || status === 205 || status === 304;
}

/** The machinery shared by `createProxy` and `balancedFetch`, built once per handler. */
export class Forwarder<T extends Target> {
  private readonly bases: BaseCache<T>;
  readonly cooldowns: Cooldowns | undefined;
  private readonly copyHeaders = (h: HeadersLike): HeadersLike => new web.Headers(h);

  constructor(readonly config: ForwardConfig<T>) {
    this.bases = new BaseCache(config.url);
    this.cooldowns = config.cooldownMaxMs === undefined ? undefined : new Cooldowns(config.now, config.cooldownMaxMs);
  }

  /** Reports an event; a throwing listener is ignored. */
  emit(event: ProxyEvent<T>): void {
    const listener = this.config.onEvent;
    if (listener === undefined) return;
    try {
      listener(event);
    } catch {
      // observability must never change what the client gets
    }
  }

  /**
   * Sends `ex` through the balancer. Resolves with the response to pass on (its body holds the
   * lease until delivered); rejects with the first `acquire`'s `NoTargetError`, a `RetryError`,
   * the last try's own error when it may not move on, or the client's abort reason. `tries`
   * counts the tries started.
   */
  async send(ex: Exchange, tries: TryCount<T>): Promise<ResponseLike> {
    const c = this.config;
    const { method, path, body } = ex;
    let current: T | undefined;
    const late = (): boolean => c.moveTimeoutMs !== undefined && c.now() - ex.startedAt >= c.moveTimeoutMs;
    const facts = (sent: boolean): TryFacts => ({ method, sent, replayable: body.replayable && !body.tooLarge, late: late() });
    const exclude = this.cooldowns?.active();
    return withRetry<T, ResponseLike>(
      c.balancer,
      async (target, attempt, signal) => {
        current = target;
        tries.count = attempt;
        tries.target = target;
        const url = upstreamUrl(this.bases.get(target), path);
        const listening = c.onEvent !== undefined;
        if (listening) this.emit({ type: 'try', attempt, target, method, path });
        const t0 = listening ? c.now() : 0;
        try {
          // Our structural types stand for the runtime's own Headers and ReadableStream.
          const init = { method, headers: ex.headers, body: body.forTry(), redirect: 'manual', duplex: 'half', signal } as const;
          const res = await c.fetch(url, init as UpstreamInit);
          if (listening) this.emit({ type: 'try-end', attempt, target, latencyMs: c.now() - t0, status: res.status });
          return res;
        } catch (error) {
          if (listening) this.emit({ type: 'try-end', attempt, target, latencyMs: c.now() - t0, failure: failureKind(error), error });
          throw error;
        }
      },
      {
        attempts: c.tries ?? Math.max(1, c.balancer.size),
        ...(ex.key === undefined ? {} : { key: ex.key }),
        ...(ex.prefer === undefined ? {} : { prefer: ex.prefer }),
        ...(exclude === undefined ? {} : { exclude }),
        ...(c.tryTimeoutMs === undefined ? {} : { tryTimeoutMs: c.tryTimeoutMs }),
        ...(c.timeoutMs === undefined ? {} : { timeoutMs: Math.max(1, c.timeoutMs - (c.now() - ex.startedAt)) }),
        ...(ex.signal === undefined ? {} : { signal: ex.signal }),
        ...(c.budget === undefined ? {} : { budget: c.budget }),
        now: c.now,
        isRetryable: (error) => !body.tooLarge && mayRetryFailure(c.rules, failureKind(error), facts(!neverSent(error))),
        retryOnResult: (res): RetryVerdict | undefined => {
          if (this.cooldowns !== undefined && current !== undefined && (res.status === 429 || res.status === 503)) {
            const ms = retryAfterMs(res.headers.get('retry-after'), Date.now());
            if (ms !== undefined && ms > 0) this.emit({ type: 'cooldown', target: current, ms: this.cooldowns.add(targetId(current), ms) });
          }
          return statusVerdict(c.rules, res.status, facts(true));
        },
        discard: (res) => {
          if (res.body !== null) void res.body.cancel().catch(() => {});
        },
        hold: (res, release) => this.passOn(res, release),
      },
    );
  }

  /** The response for the client: filtered headers, and a body that releases the lease when done. */
  private passOn(res: ResponseLike, release: (ok?: boolean) => void): ResponseLike {
    const headers = responseHeaders(res.headers, this.config.fetchDecodes, this.copyHeaders);
    const init = { status: res.status, statusText: res.statusText, headers };
    if (res.body === null || nullBodyStatus(res.status)) {
      if (res.body !== null) void res.body.cancel().catch(() => {});
      release(true);
      return new web.Response(null, init);
    }
    return new web.Response(
      leasedBody(res.body, (ok) => release(ok)),
      init,
    );
  }
}
