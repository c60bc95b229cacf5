import { domError, host, type AbortSignalLike, type RuntimeAbortSignal, type RuntimeController } from './core/runtime.js';
export type { AbortSignalLike } from './core/runtime.js';
import { targetId } from './balancer.js';
import { systemClock, type Clock } from './core/clock.js';
import { InvalidOptionError, LoadwiseError, NoTargetError } from './core/errors.js';
import { budgetOption, checkOptionNames, functionOption, intOption } from './core/options.js';
import { createRandom, freshSeed, guardRandom, type RandomSource } from './core/rng.js';
import type { RetryBudget } from './retry-budget.js';
import type { Balancer, Lease, PickRequest, Target } from './types.js';

export { RetryBudget, type RetryBudgetOptions } from './retry-budget.js';

/** The longest delay `setTimeout` honours everywhere (2^31 − 1 ms); longer ones fire at once. */
const MAX_TIMER_MS = 2_147_483_647;


/**
 * The signal handed to each attempt: the runtime's own `AbortSignal` type wherever the program
 * has one (the DOM lib or `@types/node`), so it can go straight to `fetch`, undici and friends;
 * {@link AbortSignalLike} otherwise. At run time it is always a real `AbortSignal`.
 *
 * @example
 * ```ts
 * await withRetry(lb, (target, _attempt, signal: AttemptSignal) => fetch(target.url, { signal }));
 * ```
 */
export type AttemptSignal = RuntimeAbortSignal;

/**
 * One attempt: call `target` and settle. Resolve for any answer that is not the target's fault
 * (including, say, an HTTP 404); reject for a failure of the target (a refused connection, an
 * HTTP 503): the rejection releases the lease as a failure and is what `isRetryable` judges.
 *
 * A rejection counts as a failure on the last attempt too: it carries no answer to hand on. For
 * nginx's rule on answers (a listed status moves on only while another try follows, and on the
 * last try goes to the caller as a success), resolve with the answer and judge it with
 * {@link RetryOptions.retryOnResult}, as `loadwise/fetch` does.
 *
 * @typeParam T - the balancer's target type.
 * @typeParam R - what a successful attempt resolves to.
 * @example
 * ```ts
 * const call: RetryFn<{ id: string; url: string }, Response> = async (target, attempt, signal) => {
 *   const res = await fetch(target.url, { signal, headers: { 'x-attempt': String(attempt) } });
 *   if (res.status >= 500) throw new Error(`HTTP ${res.status}`); // Envoy's retry_on: 5xx
 *   return res;
 * };
 * ```
 */
export type RetryFn<T extends Target, R> = (target: T, attempt: number, signal: AttemptSignal) => Promise<R>;

/**
 * Exponential backoff with full jitter between attempts: before retry `n` (1 for the first
 * retry) the delay is uniform in `[0, min(maxMs, baseMs × 2^(n−1)))`.
 *
 * @example
 * ```ts
 * // Envoy's defaults: 25 ms base, 250 ms cap
 * await withRetry(lb, call, { attempts: 3, backoff: { baseMs: 25, maxMs: 250 } });
 * ```
 */
export interface RetryBackoff {
  /** Upper bound of the first retry's delay, in ms; a finite number > 0. */
  readonly baseMs: number;
  /** Cap on the upper bound, in ms; ≥ `baseMs`, default `10 × baseMs` (as Envoy). */
  readonly maxMs?: number | undefined;
}

/**
 * Options of {@link withRetry}. Bad values and unknown names make the call reject with an
 * `InvalidOptionError` that names the option.
 *
 * @example
 * ```ts
 * const options: RetryOptions = {
 *   attempts: 3,
 *   timeoutMs: 2_000,
 *   backoff: { baseMs: 25 },
 *   isRetryable: (err) => !(err instanceof HttpError && err.status < 500),
 * };
 * ```
 */
export interface RetryOptions<R = unknown> {
  /** Tries in all, the first included; an integer ≥ 1, default 2. Each try goes to a target not yet tried. */
  readonly attempts?: number | undefined;
  /** Routing key passed to every `acquire` (hash balancers route by it). */
  readonly key?: string | undefined;
  /**
   * Ids no attempt may go to (say, targets cooling down after a 429); the ids already tried are
   * added for each retry. Unknown ids are ignored, as in `PickRequest.exclude`.
   */
  readonly exclude?: readonly string[] | undefined;
  /**
   * An id the first attempt goes to while it is eligible (a sticky session's target): that
   * acquire excludes every other id. When the preferred target is not eligible (down, ejected, at
   * `maxActive`, excluded, or no longer a member), the first attempt goes to the balancer's own
   * choice; retries go to untried targets as always. Costs O(n) on the first acquire.
   */
  readonly prefer?: string | undefined;
  /**
   * Time limit in ms for each attempt (Envoy `per_try_timeout`); a finite number > 0 and
   * ≤ 2^31 − 1. An attempt that has not settled in time is aborted (its signal's reason is a
   * `TimeoutError`) and fails with that `TimeoutError`, which `isRetryable` judges like any other
   * failure; the call moves on at once, without waiting for `fn` to notice the abort.
   */
  readonly tryTimeoutMs?: number | undefined;
  /**
   * Judges the value of an attempt that resolved (nginx `proxy_next_upstream http_503`): return
   * `'failure'` to move on to another target and count this one as failed, `'next'` to move on
   * without counting a failure (nginx's `http_403` and `http_404`), anything else to accept it.
   * A value is only turned down when another try really follows: when none may (attempts used
   * up, the budget says no, no untried target is left, or `timeoutMs` passed during the backoff
   * delay) it is accepted after all and counts as a success of its target, as nginx hands the
   * last upstream's response to the client. Turned-down values go to `discard` and into
   * {@link RetryError.errors}.
   */
  readonly retryOnResult?: ((value: R, attempt: number) => RetryVerdict | false | null | undefined) | undefined;
  /** Disposes of a value that `retryOnResult` turned down (say, cancels a response body). */
  readonly discard?: ((value: R) => void) | undefined;
  /**
   * Keeps the lease of the accepted attempt open past the call: `hold(value, release)` returns
   * what the call resolves to, and the lease is released (with the latency measured when the
   * attempt settled) when `release(ok)` is first called — say, when a streamed response body
   * ends, so least-connections balancers count it as in flight until then. Without it the lease
   * is released as a success before the call resolves.
   */
  readonly hold?: ((value: R, release: (ok?: boolean) => void) => R) | undefined;
  /**
   * Time limit in ms for the whole call, attempts and backoff delays included; a finite number
   * > 0 and ≤ 2^31 − 1. When it passes, the attempt in flight is aborted (its signal's reason is
   * a `TimeoutError`), its lease is released as a failure, and the call rejects with a
   * {@link RetryError} coded `ERR_RETRY_TIMEOUT`.
   */
  readonly timeoutMs?: number | undefined;
  /**
   * The caller's signal. Aborting it stops at once: the attempt in flight is aborted with the
   * same reason, its lease is released as a success (a cancelled request is not the target's
   * failure, as in Envoy), no more attempts start, and the call rejects with `signal.reason`.
   */
  readonly signal?: AbortSignalLike | undefined;
  /**
   * Decides, for every failed attempt (the last one too), whether the error may be retried;
   * `attempt` is the 1-based number of the attempt that failed. Returning `false` makes the
   * call reject with that very error, not a {@link RetryError}. Default: every error is
   * retryable (a caller's abort never reaches it).
   */
  readonly isRetryable?: ((error: unknown, attempt: number) => boolean) | undefined;
  /** Delay between attempts; none by default (a retry goes to another target at once). */
  readonly backoff?: RetryBackoff | undefined;
  /**
   * A retry budget shared by many calls: the call deposits once and every retry must withdraw
   * first; when the budget says no, the call rejects with a {@link RetryError} coded
   * `ERR_RETRY_BUDGET_EXHAUSTED`. Any object with `deposit()` and `tryWithdraw()` works.
   */
  readonly budget?: Pick<RetryBudget, 'deposit' | 'tryWithdraw'> | undefined;
  /**
   * Clock for the latency reported with each release, in ms; default `performance.now()`. When a
   * reading throws, is not a finite number, or gives a negative latency (the clock went back),
   * that release reports no latency; the attempt's outcome is unaffected.
   */
  readonly now?: Clock | undefined;
  /**
   * `[0, 1)` random source for the backoff jitter; default a seeded PRNG. Values below 0 count
   * as 0 and values at or above 1 as just below 1; NaN or a non-number ends the call with an
   * `InvalidOptionError` for `random` (the lease in hand released first).
   */
  readonly random?: RandomSource | undefined;
}

/**
 * What {@link RetryOptions.retryOnResult} says of a value it turns down: `'failure'` counts the
 * attempt as a failure of its target, `'next'` moves on without blaming it.
 *
 * @example
 * ```ts
 * const retryOnResult = (res: Response): RetryVerdict | undefined =>
 *   res.status === 503 ? 'failure' : res.status === 404 ? 'next' : undefined;
 * ```
 */
export type RetryVerdict = 'failure' | 'next';

const OPTION_NAMES = [
  'attempts',
  'key',
  'exclude',
  'prefer',
  'timeoutMs',
  'tryTimeoutMs',
  'signal',
  'isRetryable',
  'retryOnResult',
  'discard',
  'hold',
  'backoff',
  'budget',
  'now',
  'random',
];

/**
 * Why {@link withRetry} gave up: `ERR_RETRIES_EXHAUSTED` (every allowed attempt failed, or no
 * untried target was left for the next one), `ERR_RETRY_BUDGET_EXHAUSTED` (the retry budget
 * refused the next retry) or `ERR_RETRY_TIMEOUT` (`timeoutMs` passed).
 *
 * @example
 * ```ts
 * if (err instanceof RetryError && err.code === 'ERR_RETRY_BUDGET_EXHAUSTED') metrics.budgetDenied++;
 * ```
 */
export type RetryErrorCode = 'ERR_RETRIES_EXHAUSTED' | 'ERR_RETRY_BUDGET_EXHAUSTED' | 'ERR_RETRY_TIMEOUT';

/**
 * {@link withRetry} gave up. Carries every attempt's error in order; `cause` is what ended the
 * run: the last attempt's error, the `NoTargetError` that left no target for the next try, or
 * the `TimeoutError` of `timeoutMs`.
 *
 * @example
 * ```ts
 * import { RetryError, withRetry } from 'loadwise';
 * try {
 *   await withRetry(lb, call, { attempts: 3 });
 * } catch (err) {
 *   if (err instanceof RetryError) {
 *     console.log(err.code, err.attempts, err.errors.map(String)); // answer 502/503/504
 *   }
 * }
 * ```
 */
export class RetryError extends LoadwiseError {
  declare readonly code: RetryErrorCode;
  /** Every attempt's error, in order (an attempt cut short by `timeoutMs` contributes its `TimeoutError`). */
  readonly errors: readonly unknown[];
  /** How many attempts ran (`errors.length`). */
  readonly attempts: number;

  /**
   * @param code - why the run ended.
   * @param message - the explanation.
   * @param errors - every attempt's error, in order.
   * @param cause - what ended the run; default the last error.
   */
  constructor(code: RetryErrorCode, message: string, errors: readonly unknown[], cause: unknown = errors[errors.length - 1]) {
    super(code, message);
    this.errors = errors;
    this.attempts = errors.length;
    // Like `new Error(message, { cause })`: an own, non-enumerable property.
    Object.defineProperty(this, 'cause', { value: cause, writable: true, configurable: true, enumerable: false });
  }
}

/**
 * Runs `fn` against a target from `balancer`, retrying on another target when it fails: for
 * each attempt it acquires a lease (`{ key, exclude: ids tried so far }`), calls
 * `fn(target, attempt, signal)` and releases the lease with `{ ok, latencyMs }`, so health
 * tracking and latency-aware balancers see every try. Stops at the first success, a
 * non-retryable error (rethrown as is), `attempts` tries, no untried target left, a refusing
 * retry budget, `timeoutMs`, or the caller's abort.
 *
 * - Every lease is released exactly once, before the returned promise settles: with `ok: true`
 *   when `fn` resolved or the caller aborted, `ok: false` when `fn` rejected or the time limit
 *   cut it short. An interrupted `fn` is not awaited; its late result is ignored.
 * - Rejects with a {@link RetryError} when it gives up, with the `NoTargetError` (or any other
 *   error) of the first `acquire`, with the error itself when `isRetryable` says no, and with
 *   `signal.reason` on abort.
 *
 * @param balancer - any loadwise balancer.
 * @param fn - one attempt; see {@link RetryFn} for which outcomes should reject.
 * @param options - see {@link RetryOptions}.
 * @returns what the successful attempt resolved to.
 * @example
 * ```ts
 * import { RetryBudget, RoundRobin, withRetry } from 'loadwise';
 * const lb = new RoundRobin([{ id: 'a', url: 'http://10.0.0.1' }, { id: 'b', url: 'http://10.0.0.2' }]);
 * const budget = new RetryBudget();
 * const res = await withRetry(
 *   lb,
 *   async (target, _attempt, signal) => {
 *     const res = await fetch(target.url, { signal });
 *     if (res.status >= 500) throw new Error(`HTTP ${res.status} from ${target.id}`);
 *     return res;
 *   },
 *   { attempts: 2, timeoutMs: 5_000, backoff: { baseMs: 25 }, budget },
 * );
 * ```
 */
export async function withRetry<T extends Target, R>(
  balancer: Balancer<T>,
  fn: RetryFn<T, R>,
  options?: RetryOptions<R>,
): Promise<R> {
  if (typeof balancer !== 'object' || balancer === null || typeof balancer.acquire !== 'function') {
    throw new InvalidOptionError('balancer', balancer, 'a Balancer');
  }
  if (typeof fn !== 'function') throw new InvalidOptionError('fn', fn, 'a function');
  const o = parseOptions(options);
  const caller = o.signal;
  if (caller?.aborted === true) throw caller.reason;
  return new Run(balancer, fn, o).start();
}

interface Parsed<R> {
  readonly attempts: number;
  readonly key: string | undefined;
  readonly exclude: readonly string[];
  readonly prefer: string | undefined;
  readonly timeoutMs: number | undefined;
  readonly tryTimeoutMs: number | undefined;
  readonly retryOnResult: ((value: R, attempt: number) => RetryVerdict | false | null | undefined) | undefined;
  readonly discard: ((value: R) => void) | undefined;
  readonly hold: ((value: R, release: (ok?: boolean) => void) => R) | undefined;
  readonly signal: AbortSignalLike | undefined;
  readonly isRetryable: ((error: unknown, attempt: number) => boolean) | undefined;
  readonly baseMs: number;
  readonly maxMs: number;
  readonly budget: { deposit(): void; tryWithdraw(): boolean } | undefined;
  readonly now: Clock;
  readonly random: RandomSource | undefined;
}

function parseOptions<R>(options: RetryOptions<R> | undefined): Parsed<R> {
  checkOptionNames(options, OPTION_NAMES);
  const attempts = intOption('attempts', options?.attempts, 2, 1);
  const key = options?.key;
  if (key !== undefined && typeof key !== 'string') throw new InvalidOptionError('key', key, 'a string');
  const exclude = excludeOption(options?.exclude);
  const prefer = options?.prefer;
  if (prefer !== undefined && typeof prefer !== 'string') throw new InvalidOptionError('prefer', prefer, 'a target id');
  const timeoutMs = options?.timeoutMs;
  if (timeoutMs !== undefined) timerMs('timeoutMs', timeoutMs);
  const tryTimeoutMs = options?.tryTimeoutMs;
  if (tryTimeoutMs !== undefined) timerMs('tryTimeoutMs', tryTimeoutMs);
  const signal = options?.signal;
  if (
    signal !== undefined &&
    (typeof signal !== 'object' ||
      signal === null ||
      typeof signal.aborted !== 'boolean' ||
      typeof signal.addEventListener !== 'function' ||
      typeof signal.removeEventListener !== 'function')
  ) {
    throw new InvalidOptionError('signal', signal, 'an AbortSignal');
  }
  const isRetryable = functionOption<(error: unknown, attempt: number) => boolean>('isRetryable', options?.isRetryable);
  let baseMs = 0;
  let maxMs = 0;
  const backoff = options?.backoff;
  if (backoff !== undefined) {
    if (typeof backoff !== 'object' || backoff === null || Array.isArray(backoff)) {
      throw new InvalidOptionError('backoff', backoff, 'an object { baseMs, maxMs? }');
    }
    for (const name of Object.keys(backoff)) {
      if (name !== 'baseMs' && name !== 'maxMs' && (backoff as unknown as Record<string, unknown>)[name] !== undefined) {
        throw new InvalidOptionError(`backoff.${name}`, (backoff as unknown as Record<string, unknown>)[name], 'a known option: baseMs, maxMs');
      }
    }
    baseMs = timerMs('backoff.baseMs', backoff.baseMs);
    maxMs = backoff.maxMs === undefined ? Math.min(10 * baseMs, MAX_TIMER_MS) : timerMs('backoff.maxMs', backoff.maxMs);
    if (maxMs < baseMs) throw new InvalidOptionError('backoff.maxMs', maxMs, `a number >= backoff.baseMs (${baseMs})`);
  }
  const random = functionOption<RandomSource>('random', options?.random);
  const budget = budgetOption('budget', options?.budget);
  return {
    attempts,
    key,
    exclude,
    prefer,
    timeoutMs,
    tryTimeoutMs,
    retryOnResult: functionOption<(value: R, attempt: number) => RetryVerdict | undefined>('retryOnResult', options?.retryOnResult),
    discard: functionOption<(value: R) => void>('discard', options?.discard),
    hold: functionOption<(value: R, release: (ok?: boolean) => void) => R>('hold', options?.hold),
    signal,
    isRetryable,
    baseMs,
    maxMs,
    budget,
    now: functionOption<Clock>('now', options?.now) ?? systemClock,
    random: random === undefined ? undefined : guardRandom(random),
  };
}

/** A copy of the `exclude` option, checked to hold strings only (a later change by the caller cannot reach the run). */
function excludeOption(value: unknown): readonly string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new InvalidOptionError('exclude', value, 'an array of ids');
  const ids: string[] = [];
  for (let i = 0; i < value.length; i++) {
    const id: unknown = value[i];
    if (typeof id !== 'string') throw new InvalidOptionError(`exclude[${i}]`, id, 'a string id');
    ids.push(id);
  }
  return ids;
}

/** A delay for `setTimeout`: finite, > 0, at most 2^31 − 1 ms. */
function timerMs(name: string, value: unknown): number {
  if (typeof value !== 'number' || !(value > 0) || value > MAX_TIMER_MS) {
    throw new InvalidOptionError(name, value, `a number > 0 and <= ${MAX_TIMER_MS}`);
  }
  return value;
}

// ── running ─────────────────────────────────────────────────────────────────────────────────


let defaultRandom: RandomSource | undefined;

/** Marks a wait cut short by the caller's abort or the time limit. */
const INTERRUPTED = Symbol('interrupted');

/** Why a run was halted (`RUNNING`: it was not). */
const RUNNING: number = 0;
const ABORTED: number = 1;
const TIMED_OUT: number = 2;

type Settled<R> = { readonly ok: true; readonly value: R } | { readonly ok: false; readonly error: unknown };

/** Why no further attempt follows a failed or turned-down one. */
const EXHAUSTED = 1;
const BUDGET = 2;
const NO_TARGET = 3;
const STOPPED = 4;

/** The next attempt's lease, or why there is none (`error`: the `NoTargetError` for `NO_TARGET`). */
type Next<T extends Target> = { readonly lease: Lease<T> } | { readonly why: number; readonly error?: unknown };

/** The state of one `withRetry` call. */
class Run<T extends Target, R> {
  /** The ids to exclude from the next `acquire`: the `exclude` option, then every id tried. */
  private readonly tried: string[];
  private readonly errors: unknown[] = [];
  private stop: number = RUNNING;
  private stopReason: unknown;
  /** Settles the wait in progress (an attempt or a backoff delay) as interrupted. */
  private interrupt: (() => void) | null = null;
  private controller: RuntimeController | null = null;

  constructor(
    private readonly balancer: Balancer<T>,
    private readonly fn: RetryFn<T, R>,
    private readonly o: Parsed<R>,
  ) {
    this.tried = o.exclude.slice();
  }

  async start(): Promise<R> {
    const { signal, timeoutMs } = this.o;
    const onAbort = (): void => this.halt(ABORTED, signal!.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const deadline =
      timeoutMs === undefined ? undefined : host.setTimeout(() => this.halt(TIMED_OUT, timeoutReason(timeoutMs)), timeoutMs);
    try {
      return await this.loop();
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (deadline !== undefined) host.clearTimeout(deadline);
    }
  }

  private async loop(): Promise<R> {
    const { budget, now } = this.o;
    const errors = this.errors;
    budget?.deposit();
    // The first acquire's error (say, NoTargetError) is the call's error as it is.
    let lease = this.preferred() ?? this.balancer.acquire(this.request());
    for (let attempt = 1; ; attempt++) {
      let id: string;
      try {
        id = targetId(lease.target);
      } catch (err) {
        // Nothing was sent: not the target's failure.
        release(lease, true, Number.NaN);
        throw err;
      }
      this.tried.push(id);
      // A clock that throws or gives nonsense costs the latency figure, never the attempt.
      const startedAt = read(now);
      const settled = await this.attempt(lease.target, attempt);
      const latencyMs = read(now) - startedAt;
      if (settled === INTERRUPTED) {
        // The caller's cancel is not the target's failure (Envoy does not count it either);
        // running out of time on it is.
        const aborted = this.stop === ABORTED;
        release(lease, aborted, latencyMs);
        if (!aborted) errors.push(this.stopReason);
        throw this.stopError();
      }
      if (settled.ok) {
        const value = settled.value;
        let verdict: RetryVerdict | false | null | undefined;
        try {
          verdict = this.o.retryOnResult?.(value, attempt);
        } catch (err) {
          release(lease, true, latencyMs);
          throw err;
        }
        if (verdict !== 'failure' && verdict !== 'next') return this.accept(lease, value, latencyMs);
        // Turned down, but only if another try really follows (nginx hands the last answer on).
        let next: Next<T>;
        try {
          next = await this.next(attempt);
        } catch (err) {
          // The budget or the backoff's random source threw: the run ends here.
          release(lease, true, latencyMs);
          this.discard(value);
          throw err;
        }
        if (!('lease' in next)) {
          if (next.why !== STOPPED) return this.accept(lease, value, latencyMs);
          release(lease, true, latencyMs);
          this.discard(value);
          throw this.stopError();
        }
        release(lease, verdict === 'next', latencyMs);
        this.discard(value);
        errors.push(value);
        lease = next.lease;
        continue;
      }
      release(lease, false, latencyMs);
      const error = settled.error;
      errors.push(error);
      if (this.stop !== RUNNING) throw this.stopError();
      if (this.o.isRetryable !== undefined && !this.o.isRetryable(error, attempt)) throw error;
      const next = await this.next(attempt);
      if ('lease' in next) {
        lease = next.lease;
        continue;
      }
      switch (next.why) {
        case EXHAUSTED:
          throw new RetryError('ERR_RETRIES_EXHAUSTED', `all ${plural(attempt, 'attempt')} failed; last error: ${text(error)}`, errors);
        case BUDGET:
          throw new RetryError(
            'ERR_RETRY_BUDGET_EXHAUSTED',
            `retry budget exhausted after ${plural(attempt, 'attempt')}; last error: ${text(error)}`,
            errors,
          );
        case NO_TARGET:
          throw new RetryError(
            'ERR_RETRIES_EXHAUSTED',
            `${plural(errors.length, 'attempt')} failed and no untried target is left (${text(next.error)}); last error: ${text(error)}`,
            errors,
            next.error,
          );
        default:
          throw this.stopError();
      }
    }
  }

  /**
   * The lease for the attempt after `attempt`, or why none follows: the run was halted (also
   * during the backoff delay), the attempts are used up, the budget refuses, or no untried
   * target is left.
   */
  private async next(attempt: number): Promise<Next<T>> {
    if (this.stop !== RUNNING) return { why: STOPPED };
    if (attempt >= this.o.attempts) return { why: EXHAUSTED };
    const budget = this.o.budget;
    if (budget !== undefined && !budget.tryWithdraw()) return { why: BUDGET };
    if (this.o.baseMs > 0 && (await this.sleep(this.delay(attempt))) === INTERRUPTED) return { why: STOPPED };
    if (this.stop !== RUNNING) return { why: STOPPED };
    try {
      return { lease: this.balancer.acquire(this.request()) };
    } catch (error) {
      return { why: NO_TARGET, error };
    }
  }

  /** Hands the accepted value on, releasing its lease now or, with `hold`, when the holder says. */
  private accept(lease: Lease<T>, value: R, latencyMs: number): R {
    const hold = this.o.hold;
    if (hold === undefined) {
      release(lease, true, latencyMs);
      return value;
    }
    try {
      return hold(value, (ok = true) => void release(lease, ok !== false, latencyMs));
    } catch (err) {
      release(lease, true, latencyMs);
      throw err;
    }
  }

  /** Gives a turned-down value to `discard`; what that throws is ignored (the run moves on). */
  private discard(value: R): void {
    try {
      this.o.discard?.(value);
    } catch {
      // a failing clean-up must not change which target answers
    }
  }

  /** A lease on the `prefer` target if it is an eligible member, else `undefined`. */
  private preferred(): Lease<T> | undefined {
    const prefer = this.o.prefer;
    if (prefer === undefined || this.tried.includes(prefer)) return undefined;
    const exclude = this.tried.slice();
    let member = false;
    for (const target of this.balancer.targets()) {
      const id = targetId(target);
      if (id === prefer) member = true;
      else exclude.push(id);
    }
    if (!member) return undefined;
    const key = this.o.key;
    try {
      return this.balancer.acquire(key === undefined ? { exclude } : { key, exclude });
    } catch (err) {
      if (err instanceof NoTargetError) return undefined;
      throw err;
    }
  }

  private request(): PickRequest {
    const key = this.o.key;
    return key === undefined ? { exclude: this.tried } : { key, exclude: this.tried };
  }

  /**
   * Runs one attempt; settles with its result, with a `TimeoutError` failure when `tryTimeoutMs`
   * passes first, or with `INTERRUPTED` as soon as the run is halted.
   */
  private attempt(target: T, attempt: number): Promise<Settled<R> | typeof INTERRUPTED> {
    const controller = new host.AbortController();
    this.controller = controller;
    const tryTimeoutMs = this.o.tryTimeoutMs;
    let timer: unknown;
    return new Promise<Settled<R> | typeof INTERRUPTED>((resolve) => {
      let settled = false;
      const settle = (result: Settled<R> | typeof INTERRUPTED): boolean => {
        if (settled) return false;
        settled = true;
        resolve(result);
        return true;
      };
      this.interrupt = () => void settle(INTERRUPTED);
      if (tryTimeoutMs !== undefined) {
        timer = host.setTimeout(() => {
          const reason = domError(`withRetry: attempt ${attempt} exceeded its time limit of ${tryTimeoutMs} ms`, 'TimeoutError');
          // Settle first: the abort may make `fn` reject synchronously with another error.
          settle({ ok: false, error: reason });
          controller.abort(reason);
        }, tryTimeoutMs);
      }
      let p: Promise<R>;
      try {
        p = Promise.resolve(this.fn(target, attempt, controller.signal));
      } catch (err) {
        p = Promise.reject(err);
      }
      // Also handles (and so silences) a late rejection after an interruption; a late value
      // nobody will use goes to `discard` (a response body must not hold its connection).
      p.then(
        (value) => {
          if (!settle({ ok: true, value })) this.discard(value);
        },
        (error: unknown) => void settle({ ok: false, error }),
      );
    }).finally(() => {
      if (timer !== undefined) host.clearTimeout(timer);
      this.interrupt = null;
      this.controller = null;
    });
  }

  /** Waits `ms`; settles with `INTERRUPTED` as soon as the run is halted. */
  private sleep(ms: number): Promise<typeof INTERRUPTED | undefined> {
    return new Promise<typeof INTERRUPTED | undefined>((resolve) => {
      const handle = host.setTimeout(() => resolve(undefined), ms);
      this.interrupt = () => {
        host.clearTimeout(handle);
        resolve(INTERRUPTED);
      };
    }).finally(() => {
      this.interrupt = null;
    });
  }

  /** Full jitter: uniform in [0, min(maxMs, baseMs × 2^(retry − 1))). */
  private delay(retry: number): number {
    const { baseMs, maxMs } = this.o;
    const random = this.o.random ?? (defaultRandom ??= createRandom(freshSeed()));
    return random() * Math.min(maxMs, baseMs * 2 ** Math.min(retry - 1, 1023));
  }

  /** Stops the run: settles the current wait first, then aborts the attempt in flight. */
  private halt(stop: number, reason: unknown): void {
    if (this.stop !== RUNNING) return;
    this.stop = stop;
    this.stopReason = reason;
    this.interrupt?.();
    this.controller?.abort(reason);
  }

  private stopError(): unknown {
    if (this.stop === ABORTED) return this.stopReason;
    const errors = this.errors;
    return new RetryError(
      'ERR_RETRY_TIMEOUT',
      `time limit of ${this.o.timeoutMs} ms exceeded after ${plural(errors.length, 'attempt')}`,
      errors,
      this.stopReason,
    );
  }
}

/** A clock reading, or NaN when the clock throws or returns something other than a finite number. */
function read(now: Clock): number {
  let t: unknown;
  try {
    t = now();
  } catch {
    return Number.NaN;
  }
  return typeof t === 'number' && t - t === 0 ? t : Number.NaN;
}

/** Releases with the measured latency, leaving it out if a user clock produced nonsense. */
function release(lease: Lease<Target>, ok: boolean, latencyMs: number): void {
  lease.release(latencyMs >= 0 && latencyMs < Number.POSITIVE_INFINITY ? { ok, latencyMs } : { ok });
}

/** What `AbortSignal.timeout` aborts with: a `DOMException` named `TimeoutError` where the runtime has one. */
function timeoutReason(ms: number): unknown {
  return domError(`withRetry: time limit of ${ms} ms exceeded`, 'TimeoutError');
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** A short description of an error for a message; never throws. */
function text(error: unknown): string {
  try {
    if (error instanceof Error) return `${error.name}: ${error.message}`;
    return String(error);
  } catch {
    return 'an unprintable value';
  }
}
