/**
 * When a proxied request moves on to another target: nginx's `proxy_next_upstream` rules, as
 * `ngx_http_upstream_next` and `ngx_http_upstream_test_next` apply them (nginx 1.22), in pure
 * functions. What differs from nginx is said where it happens.
 */
import { InvalidOptionError } from '../core/errors.js';
import type { RetryVerdict } from '../retry.js';

/**
 * A case in which a request may move on, in nginx's `proxy_next_upstream` words. `error`: the
 * connection failed or broke before a response header came; `timeout`: no response header within
 * `tryTimeoutMs`; `http_NNN`: the target answered with that status; `non_idempotent`: also move
 * POST, LOCK and PATCH requests that were already sent.
 *
 * @example
 * ```ts
 * const on: RetryOn[] = ['error', 'timeout', 'http_502', 'http_503'];
 * ```
 */
export type RetryOn =
  | 'error'
  | 'timeout'
  | 'http_500'
  | 'http_502'
  | 'http_503'
  | 'http_504'
  | 'http_403'
  | 'http_404'
  | 'http_429'
  | 'non_idempotent';

const ERROR = 1;
const TIMEOUT = 2;
const NON_IDEMPOTENT = 4;
/** Bits for the statuses, from bit 3 on, in this order. */
const STATUSES = [500, 502, 503, 504, 403, 404, 429] as const;

/**
 * The cases of a `retry.on` list, parsed once.
 *
 * @example
 * ```ts
 * const rules: RetryRules = parseRetryOn(['error', 'http_502']);
 * ```
 */
export interface RetryRules {
  /** Bit set of the listed cases. */
  readonly mask: number;
}

/**
 * nginx's default: `proxy_next_upstream error timeout`.
 *
 * @example
 * ```ts
 * createProxy({ balancer, retry: { on: [...DEFAULT_RETRY_ON, 'http_503'] } });
 * ```
 */
export const DEFAULT_RETRY_ON: readonly RetryOn[] = ['error', 'timeout'];

/**
 * Parses a `retry.on` list (nginx's `off` is the empty list). Unknown words throw an
 * `InvalidOptionError` naming the entry.
 *
 * @example
 * ```ts
 * const rules = parseRetryOn(['error', 'timeout', 'http_503']);
 * ```
 */
export function parseRetryOn(on: readonly RetryOn[] | undefined): RetryRules {
  // Only an absent list is the default: `null` (perhaps meant as nginx's `off`) is refused.
  const list = on === undefined ? DEFAULT_RETRY_ON : on;
  if (!Array.isArray(list)) throw new InvalidOptionError('retry.on', list, "an array such as ['error', 'timeout', 'http_502']");
  let mask = 0;
  for (let i = 0; i < list.length; i++) {
    const word: unknown = list[i];
    const bit = word === 'error' ? ERROR : word === 'timeout' ? TIMEOUT : word === 'non_idempotent' ? NON_IDEMPOTENT : statusBit(word);
    if (bit === 0) {
      throw new InvalidOptionError(
        `retry.on[${i}]`,
        word,
        'one of error, timeout, http_500, http_502, http_503, http_504, http_403, http_404, http_429, non_idempotent',
      );
    }
    mask |= bit;
  }
  return { mask };
}

function statusBit(word: unknown): number {
  if (typeof word !== 'string' || !word.startsWith('http_')) return 0;
  const i = STATUSES.indexOf(Number(word.slice(5)) as (typeof STATUSES)[number]);
  return i < 0 || `http_${STATUSES[i]}` !== word ? 0 : 8 << i;
}

/**
 * nginx's non-idempotent methods (`NGX_HTTP_POST | NGX_HTTP_LOCK | NGX_HTTP_PATCH`).
 *
 * @example
 * ```ts
 * isNonIdempotent('POST'); // true
 * isNonIdempotent('PUT');  // false: nginx replays PUT and DELETE
 * ```
 */
export function isNonIdempotent(method: string): boolean {
  return method === 'POST' || method === 'PATCH' || method === 'LOCK';
}

/**
 * Why a try failed without a response: the connection (`error`) or the time limit (`timeout`).
 *
 * @example
 * ```ts
 * const kind: FailureKind = failureKind(error); // 'timeout' or 'error'
 * ```
 */
export type FailureKind = 'error' | 'timeout';

/**
 * What the proxy knows of a request when a try of it failed or was answered.
 *
 * @example
 * ```ts
 * const facts: TryFacts = { method: 'GET', sent: true, replayable: true, late: false };
 * statusVerdict(parseRetryOn(['http_503']), 503, facts); // 'failure'
 * ```
 */
export interface TryFacts {
  readonly method: string;
  /** Whether the request reached the target (false only for a refused or unresolvable connection). */
  readonly sent: boolean;
  /** Whether its body can be sent again: no body, one held in memory whole, or a streamed one not yet read. */
  readonly replayable: boolean;
  /** Whether the time allowed for moving on (`retry.timeoutMs`, nginx `proxy_next_upstream_timeout`) is over. */
  readonly late: boolean;
}

/**
 * The part every case shares (`ngx_http_upstream_next`): a request that was sent moves on only
 * if it is idempotent or `non_idempotent` is listed; a body that streamed upstream without being
 * held is never sent twice (`request_body_no_buffering`); nothing moves once time is over.
 */
function mayMove(rules: RetryRules, facts: TryFacts): boolean {
  if (facts.late || !facts.replayable) return false;
  if (!facts.sent) return true;
  return !isNonIdempotent(facts.method) || (rules.mask & NON_IDEMPOTENT) !== 0;
}

/**
 * Whether a try that failed without a response (`kind`) may move on to another target. The
 * failed try always counts as a failure of its target (nginx: `error` and `timeout` are
 * always unsuccessful attempts, listed or not).
 *
 * @example
 * ```ts
 * const rules = parseRetryOn(['error', 'timeout']);
 * mayRetryFailure(rules, 'error', { method: 'POST', sent: false, replayable: true, late: false }); // true: refused, never sent
 * mayRetryFailure(rules, 'timeout', { method: 'POST', sent: true, replayable: true, late: false }); // false
 * ```
 */
export function mayRetryFailure(rules: RetryRules, kind: FailureKind, facts: TryFacts): boolean {
  const bit = kind === 'timeout' ? TIMEOUT : ERROR;
  return (rules.mask & bit) !== 0 && mayMove(rules, facts);
}

/**
 * What a response status means for moving on: `'failure'` (listed; move on and count the target
 * as failed), `'next'` (a listed 403 or 404: move on without blaming the target, nginx's
 * `NGX_PEER_NEXT`), or `undefined` (hand it to the client). The response was received, so the
 * request counts as sent. The caller moves on only if another try really follows; otherwise the
 * response goes to the client and counts as a success, as nginx does on its last try.
 *
 * A non-idempotent request answered with a listed status stays where it is (it was sent) and the
 * target's own answer goes to the client, as nginx 1.22 does: `ngx_http_upstream_test_next` adds
 * the non-idempotent flag before it checks the list (test/fetch/nginx-parity.test.ts).
 *
 * @example
 * ```ts
 * const rules = parseRetryOn(['error', 'timeout', 'http_503', 'http_404']);
 * statusVerdict(rules, 503, { method: 'GET', sent: true, replayable: true, late: false }); // 'failure'
 * statusVerdict(rules, 404, { method: 'GET', sent: true, replayable: true, late: false }); // 'next'
 * ```
 */
export function statusVerdict(rules: RetryRules, status: number, facts: TryFacts): RetryVerdict | undefined {
  const i = STATUSES.indexOf(status as (typeof STATUSES)[number]);
  if (i < 0 || (rules.mask & (8 << i)) === 0 || !mayMove(rules, facts)) return undefined;
  return status === 403 || status === 404 ? 'next' : 'failure';
}

/**
 * The status a proxy answers when its tries ended without a response to pass on (nginx's
 * mapping in `ngx_http_upstream_next`): 504 when the last try timed out, 502 otherwise.
 *
 * @example
 * ```ts
 * failureStatus('timeout'); // 504
 * ```
 */
export function failureStatus(kind: FailureKind): 502 | 504 {
  return kind === 'timeout' ? 504 : 502;
}
