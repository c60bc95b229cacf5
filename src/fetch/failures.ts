/**
 * What a failed `fetch` says about the try: whether the request ever reached the target, and
 * whether it timed out. `fetch` reports every network failure as a bare `TypeError`; the cause
 * (Node/undici `cause.code`, Bun's `code`, Deno's message) tells a refused connection from a
 * broken one. Anything not recognised counts as sent: a POST is never replayed on a guess.
 */
import type { FailureKind } from './retry-rules.js';

/** Error codes of a connection that was never established, so no byte of the request left. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  // Bun
  'ConnectionRefused',
  'FailedToOpenSocket',
]);

/** Deno (and others) only say it in words. */
const NOT_SENT_MESSAGE = /connection refused|os error 111|tcp connect error|dns error|failed to lookup address|^bad port$/i;

/**
 * True when `error` (what `fetch` rejected with) shows that the connection was never made, so
 * the target never saw the request (nginx's `request_sent == 0`). Walks `cause` a few levels.
 *
 * @example
 * ```ts
 * try { await fetch('http://127.0.0.1:1/'); } catch (err) { neverSent(err); } // true: refused
 * ```
 */
export function neverSent(error: unknown): boolean {
  return refusedWithin(error, 0);
}

/** {@link neverSent} from `start` levels down: `cause` and `errors` share the depth limit, so a cycle ends. */
function refusedWithin(error: unknown, start: number): boolean {
  let e: unknown = error;
  for (let depth = start; depth < 5 && typeof e === 'object' && e !== null; depth++) {
    const code = readField(e, 'code');
    if (typeof code === 'string' && NOT_SENT_CODES.has(code)) return true;
    const message = readField(e, 'message');
    if (typeof message === 'string' && NOT_SENT_MESSAGE.test(message)) return true;
    // AggregateError (Node's happy eyeballs): every attempt must have been refused.
    const errors = readField(e, 'errors');
    if (Array.isArray(errors) && errors.length > 0 && errors.every((entry) => refusedWithin(entry, depth + 1))) return true;
    e = readField(e, 'cause');
  }
  return false;
}

/**
 * `timeout` when `error` is a `TimeoutError` (ours, from `tryTimeoutMs`), `error` otherwise.
 *
 * @example
 * ```ts
 * failureKind(new DOMException('late', 'TimeoutError')); // 'timeout'
 * ```
 */
export function failureKind(error: unknown): FailureKind {
  return readField(error, 'name') === 'TimeoutError' ? 'timeout' : 'error';
}

/** Reads a property of a foreign value without letting a getter's exception escape. */
function readField(value: unknown, name: string): unknown {
  if (typeof value !== 'object' || value === null) return undefined;
  try {
    return (value as Record<string, unknown>)[name];
  } catch {
    return undefined;
  }
}
