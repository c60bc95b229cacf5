/**
 * Options of `createProxy` and `balancedFetch`, and their checking: every value is validated
 * once, up front, and a bad one throws an `InvalidOptionError` that names it.
 */
import { systemClock, type Clock } from '../core/clock.js';
import { InvalidOptionError } from '../core/errors.js';
import { budgetOption, checkOptionNames, functionOption, intOption, timerOption } from '../core/options.js';
import type { RetryBudget } from '../retry-budget.js';
import type { Balancer, Target } from '../types.js';
import type { ProxyEvent } from './events.js';
import type { KeyFunction } from './keys.js';
import { parseRetryOn, type RetryOn, type RetryRules } from './retry-rules.js';
import type { TargetUrl } from './url.js';
import { globalFetch, type UpstreamFetch } from './web.js';

/**
 * When and how often a request moves on to another target, in nginx's terms.
 *
 * @example
 * ```ts
 * const retry: RetryPolicy = { tries: 3, on: ['error', 'timeout', 'http_502', 'http_503'], budget: new RetryBudget(), timeoutMs: 5_000 };
 * ```
 */
export interface RetryPolicy {
  /** Tries in all, the first included (nginx `proxy_next_upstream_tries`); default: as many as the balancer has targets. */
  readonly tries?: number | undefined;
  /** When to move on (nginx `proxy_next_upstream`); default `['error', 'timeout']`; `[]` never moves on. */
  readonly on?: readonly RetryOn[] | undefined;
  /** A shared retry budget: each request deposits, each retry withdraws; when it says no, the request stops moving on. */
  readonly budget?: Pick<RetryBudget, 'deposit' | 'tryWithdraw'> | undefined;
  /** No new try starts this long (ms) after the request began (nginx `proxy_next_upstream_timeout`); default none. */
  readonly timeoutMs?: number | undefined;
}

/**
 * Cooldown after a 429 or 503 that carries `Retry-After`: the target is left out of rotation for
 * that long, at most `maxMs` (default 60 000).
 *
 * @example
 * ```ts
 * const cooldown: CooldownOptions = { maxMs: 30_000 };
 * ```
 */
export interface CooldownOptions {
  readonly maxMs?: number | undefined;
}

/**
 * What `createProxy` and `balancedFetch` share.
 *
 * @typeParam T - the balancer's target type; each target needs a base URL (`url` field, the
 *   string target itself, or the `url` option).
 * @example
 * ```ts
 * const options: ForwardOptions<{ id: string; url: string }> = {
 *   balancer: new LeastConnections([{ id: 'a', url: 'http://127.0.0.1:9001' }]),
 *   retry: { tries: 2 },
 *   tryTimeoutMs: 1_000,
 * };
 * ```
 */
export interface ForwardOptions<T extends Target> {
  /** Any loadwise balancer. */
  readonly balancer: Balancer<T>;
  /** A target's base URL; default its `url` field, or the string target itself. */
  readonly url?: TargetUrl<T> | undefined;
  /** Routing key for hash balancers (see `headerKey`, `cookieKey`, `queryKey`, `clientAddressKey`). */
  readonly key?: KeyFunction | undefined;
  /** Moving on to other targets; nginx's defaults when absent. */
  readonly retry?: RetryPolicy | undefined;
  /**
   * Time for one try to bring response headers (Envoy `per_try_timeout`, nginx
   * `proxy_read_timeout` for the header); past it the try is aborted and counts as `timeout`.
   */
  readonly tryTimeoutMs?: number | undefined;
  /** Time for the whole request to bring response headers, every try included; past it: 504. */
  readonly timeoutMs?: number | undefined;
  /** The upstream client; default the runtime's `fetch`. */
  readonly fetch?: UpstreamFetch | undefined;
  /**
   * Whether `fetch` decodes compressed bodies (the runtimes' `fetch` all do), so that
   * `Content-Encoding` and `Content-Length` are dropped from such responses; default `true`.
   */
  readonly fetchDecodes?: boolean | undefined;
  /** Take a target that answers 429/503 with `Retry-After` out of rotation for that long; default off. */
  readonly cooldown?: boolean | CooldownOptions | undefined;
  /**
   * Request bodies up to this many bytes are held in memory so another try can send them again
   * (nginx `client_body_buffer_size`, Envoy's retry buffer); a larger body streams through and,
   * once it started flowing, is never replayed. Default 1 MiB.
   */
  readonly replayBodyBytes?: number | undefined;
  /** Hears every try, cooldown and outcome; what it throws is ignored. */
  readonly onEvent?: ((event: ProxyEvent<T>) => void) | undefined;
  /** Clock for latencies and time limits, in ms; default `performance.now()`. */
  readonly now?: Clock | undefined;
}

/** What every option became after checking. */
export interface ForwardConfig<T extends Target> {
  readonly balancer: Balancer<T>;
  readonly url: TargetUrl<T> | undefined;
  readonly key: KeyFunction | undefined;
  readonly tries: number | undefined;
  readonly rules: RetryRules;
  readonly budget: Pick<RetryBudget, 'deposit' | 'tryWithdraw'> | undefined;
  readonly moveTimeoutMs: number | undefined;
  readonly tryTimeoutMs: number | undefined;
  readonly timeoutMs: number | undefined;
  readonly fetch: UpstreamFetch;
  readonly fetchDecodes: boolean;
  readonly cooldownMaxMs: number | undefined;
  readonly replayBodyBytes: number;
  readonly onEvent: ((event: ProxyEvent<T>) => void) | undefined;
  readonly now: Clock;
}

/** Option names `createProxy` and `balancedFetch` share. */
export const FORWARD_OPTIONS = [
  'balancer',
  'url',
  'key',
  'retry',
  'tryTimeoutMs',
  'timeoutMs',
  'fetch',
  'fetchDecodes',
  'cooldown',
  'replayBodyBytes',
  'onEvent',
  'now',
];

/**
 * Default for `replayBodyBytes`: 1 MiB (Envoy's default per-request buffer limit).
 *
 * @example
 * ```ts
 * createProxy({ balancer, replayBodyBytes: 8 * DEFAULT_REPLAY_BODY_BYTES }); // replay bodies up to 8 MiB
 * ```
 */
export const DEFAULT_REPLAY_BODY_BYTES = 1_048_576;

/** Checks the shared options (names already checked by the caller). */
export function forwardConfig<T extends Target>(o: ForwardOptions<T>): ForwardConfig<T> {
  const balancer = o.balancer;
  if (typeof balancer !== 'object' || balancer === null || typeof balancer.acquire !== 'function') {
    throw new InvalidOptionError('balancer', balancer, 'a loadwise Balancer');
  }
  const retry = o.retry;
  checkOptionNames(retry, ['tries', 'on', 'budget', 'timeoutMs'], 'retry');
  const budget = budgetOption('retry.budget', retry?.budget);
  let cooldownMaxMs: number | undefined;
  const cooldown = o.cooldown;
  if (cooldown === true) cooldownMaxMs = 60_000;
  else if (cooldown !== undefined && cooldown !== false) {
    checkOptionNames(cooldown, ['maxMs'], 'cooldown');
    cooldownMaxMs = timerOption('cooldown.maxMs', (cooldown as CooldownOptions).maxMs, 60_000);
  }
  const fetchDecodes = o.fetchDecodes;
  if (fetchDecodes !== undefined && typeof fetchDecodes !== 'boolean') throw new InvalidOptionError('fetchDecodes', fetchDecodes, 'a boolean');
  return {
    balancer,
    url: functionOption<TargetUrl<T>>('url', o.url),
    key: functionOption<KeyFunction>('key', o.key),
    tries: retry?.tries === undefined ? undefined : intOption('retry.tries', retry.tries, 1, 1),
    rules: parseRetryOn(retry?.on),
    budget,
    moveTimeoutMs: retry?.timeoutMs === undefined ? undefined : timerOption('retry.timeoutMs', retry.timeoutMs, 1),
    tryTimeoutMs: o.tryTimeoutMs === undefined ? undefined : timerOption('tryTimeoutMs', o.tryTimeoutMs, 1),
    timeoutMs: o.timeoutMs === undefined ? undefined : timerOption('timeoutMs', o.timeoutMs, 1),
    fetch: functionOption<UpstreamFetch>('fetch', o.fetch) ?? globalFetch,
    fetchDecodes: fetchDecodes ?? true,
    cooldownMaxMs,
    replayBodyBytes: intOption('replayBodyBytes', o.replayBodyBytes, DEFAULT_REPLAY_BODY_BYTES, 0),
    onEvent: functionOption<(event: ProxyEvent<T>) => void>('onEvent', o.onEvent),
    now: functionOption<Clock>('now', o.now) ?? systemClock,
  };
}
