/**
 * What the HTTP layer reports through `onEvent`, for logs and metrics: each try as it starts and
 * ends, cooldowns, and each request's outcome. The details the client never sees (upstream
 * errors, which target failed) are here.
 */
import type { Target } from '../types.js';

/**
 * How a request ended, as far as its client is concerned:
 * - `response`: an upstream response was passed on (any status);
 * - `no-target`: no target was eligible (503 with `Retry-After`);
 * - `failed`: every try failed to connect or broke (502);
 * - `timeout`: the last try or the whole request ran out of time (504);
 * - `rejected`: the proxy refused the request itself (400, 405, 413, 431);
 * - `client-abort`: the client went away first;
 * - `internal`: a bug or misconfiguration (a target without a URL, a throwing key function): 500.
 *
 * @example
 * ```ts
 * const onEvent = (e: ProxyEvent<Target>) => {
 *   if (e.type === 'done' && (e.reason satisfies OutcomeReason) === 'no-target') alert('no backend left');
 * };
 * ```
 */
export type OutcomeReason = 'response' | 'no-target' | 'failed' | 'timeout' | 'rejected' | 'client-abort' | 'internal';

/**
 * One event of the HTTP layer.
 *
 * @typeParam T - the balancer's target type.
 * @example
 * ```ts
 * const onEvent = (e: ProxyEvent<{ id: string; url: string }>) => {
 *   if (e.type === 'try-end' && e.failure !== undefined) log.warn({ target: e.target.id, failure: e.failure, error: e.error });
 *   if (e.type === 'done') metrics.observe(e.status, e.durationMs);
 * };
 * ```
 */
export type ProxyEvent<T extends Target> =
  | {
      readonly type: 'try';
      /** 1 for the first try. */
      readonly attempt: number;
      readonly target: T;
      readonly method: string;
      /** The request's path and query, as sent upstream after the target's base path. */
      readonly path: string;
    }
  | {
      readonly type: 'try-end';
      readonly attempt: number;
      readonly target: T;
      /** From the start of the try to its response headers or failure. */
      readonly latencyMs: number;
      /** The upstream status, when a response came. */
      readonly status?: number;
      /** Why no response came: a connection error or the try's time limit. */
      readonly failure?: 'error' | 'timeout';
      /** What `fetch` rejected with. */
      readonly error?: unknown;
    }
  | { readonly type: 'cooldown'; readonly target: T; readonly ms: number }
  | {
      readonly type: 'done';
      /** The status sent to the client (499 when it went away). */
      readonly status: number;
      readonly reason: OutcomeReason;
      /** Tries started. */
      readonly tries: number;
      /** From the request's arrival to the response headers. */
      readonly durationMs: number;
      /** The error behind a `failed`, `timeout` or `internal` outcome. */
      readonly error?: unknown;
    };
