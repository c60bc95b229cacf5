import { systemClock, type Clock } from './core/clock.js';
import { checkOptionNames, functionOption, numberOption } from './core/options.js';

/** Number of time buckets in the sliding window (Finagle's `WindowedAdder` uses 10 as well). */
const BUCKETS = 10;
/** Slack for the floating-point product `percentCanRetry × deposits` (0.29 × 100 = 28.999…). */
const EPSILON = 1e-9;

/**
 * Options of {@link RetryBudget}; every one has Finagle's default.
 *
 * @example
 * ```ts
 * import { RetryBudget } from 'loadwise';
 * // retries may add at most 10 % to the traffic, plus 5 retries a second whatever the traffic
 * const budget = new RetryBudget({ percentCanRetry: 0.1, minRetriesPerSec: 5, ttlMs: 10_000 });
 * ```
 */
export interface RetryBudgetOptions {
  /**
   * How long a deposit (and a withdrawal) counts, in milliseconds; a finite number ≥ 1, default
   * 10 000. The window slides in tenths of `ttlMs`, so an entry counts for more than
   * `0.9 × ttlMs` and at most `ttlMs`.
   */
  readonly ttlMs?: number | undefined;
  /**
   * Retries always allowed, per second, whatever the traffic; a finite number ≥ 0, default 10.
   * Averaged over the window: up to `minRetriesPerSec × ttlMs / 1000` retries per window.
   */
  readonly minRetriesPerSec?: number | undefined;
  /**
   * Retries allowed per request in the window, on top of the minimum; a number from 0 to 1000,
   * default 0.2 (retries add at most 20 % to the load).
   */
  readonly percentCanRetry?: number | undefined;
  /** Monotonic clock in milliseconds, default `performance.now()`. */
  readonly now?: Clock | undefined;
}

/**
 * A retry budget with Finagle's `RetryBudget` semantics, shared by every call that should draw
 * from the same pool: each request {@link RetryBudget.deposit | deposits} `percentCanRetry`
 * of a retry, each retry {@link RetryBudget.tryWithdraw | withdraws} a whole one, and
 * `minRetriesPerSec` retries are always allowed. Deposits and withdrawals expire after `ttlMs`,
 * so when a cluster starts failing, retries are capped at a fraction of the recent traffic
 * instead of multiplying it (no retry storm).
 *
 * The window is a ring of 10 time buckets over the injected clock: O(1) per call, no timers,
 * no allocation after construction. A deposit counts for more than `0.9 × ttlMs` and at most
 * `ttlMs`. Within any one window, successful withdrawals never exceed
 * `minRetriesPerSec × ttlMs / 1000 + percentCanRetry × deposits`.
 *
 * {@link withRetry} deposits once per call and withdraws once per retry when given `budget`.
 *
 * @example
 * ```ts
 * import { RetryBudget, RoundRobin, withRetry } from 'loadwise';
 * const lb = new RoundRobin(['a:80', 'b:80', 'c:80']);
 * const budget = new RetryBudget(); // 20 % of recent requests + 10 retries/s, 10 s window
 * // every request shares the one budget
 * const res = await withRetry(lb, (target, _attempt, signal) => fetch(`http://${target}/`, { signal }), {
 *   attempts: 3,
 *   budget,
 * });
 * ```
 */
export class RetryBudget {
  /** The configured `percentCanRetry`. */
  readonly percentCanRetry: number;
  /** The configured `minRetriesPerSec`. */
  readonly minRetriesPerSec: number;
  /** The configured `ttlMs`. */
  readonly ttlMs: number;

  private readonly now: Clock;
  /** Retries always available per window: `minRetriesPerSec × ttlMs / 1000`. */
  private readonly reserve: number;
  private readonly bucketMs: number;
  /** Per bucket: deposits at `2i`, withdrawals at `2i + 1`; whole numbers, so sums stay exact. */
  private readonly counts = new Float64Array(2 * BUCKETS);
  private deposits = 0;
  private withdrawals = 0;
  /** Absolute index (`floor(now / bucketMs)`) of the newest bucket. */
  private head: number;

  /**
   * @param options - see {@link RetryBudgetOptions}; unknown names and bad values throw
   *   `InvalidOptionError` naming the option.
   */
  constructor(options?: RetryBudgetOptions) {
    checkOptionNames(options, ['ttlMs', 'minRetriesPerSec', 'percentCanRetry', 'now']);
    this.ttlMs = numberOption('ttlMs', options?.ttlMs, 10_000, 1);
    this.minRetriesPerSec = numberOption('minRetriesPerSec', options?.minRetriesPerSec, 10, 0);
    this.percentCanRetry = numberOption('percentCanRetry', options?.percentCanRetry, 0.2, 0, 1000);
    this.now = functionOption<Clock>('now', options?.now) ?? systemClock;
    this.reserve = (this.minRetriesPerSec * this.ttlMs) / 1000;
    this.bucketMs = this.ttlMs / BUCKETS;
    this.head = Math.floor(this.now() / this.bucketMs);
  }

  /**
   * Records one request (not a retry): adds `percentCanRetry` of a retry to the balance.
   *
   * @example
   * ```ts
   * budget.deposit(); // once per original request
   * ```
   */
  deposit(): void {
    const i = this.advance();
    this.counts[2 * i]!++;
    this.deposits++;
  }

  /**
   * Takes one retry from the budget if the balance allows it; returns whether the retry may go.
   *
   * @example
   * ```ts
   * if (!budget.tryWithdraw()) throw lastError; // budget spent: fail instead of retrying
   * ```
   */
  tryWithdraw(): boolean {
    const i = this.advance();
    if (this.available() < 1 - EPSILON) return false;
    this.counts[2 * i + 1]!++;
    this.withdrawals++;
    return true;
  }

  /**
   * How many retries the budget would allow right now (never negative).
   *
   * @example
   * ```ts
   * const budget = new RetryBudget({ percentCanRetry: 0.2, minRetriesPerSec: 0 });
   * for (let i = 0; i < 100; i++) budget.deposit();
   * budget.balance; // 20
   * ```
   */
  get balance(): number {
    this.advance();
    return Math.max(0, Math.floor(this.available() + EPSILON));
  }

  private available(): number {
    return this.reserve + this.percentCanRetry * this.deposits - this.withdrawals;
  }

  /** Slides the window to the clock's bucket, clearing the buckets that fell out; returns its slot. */
  private advance(): number {
    const b = Math.floor(this.now() / this.bucketMs);
    let head = this.head;
    // A clock that stands still (or, misbehaving, goes back) keeps the current bucket.
    if (b > head) {
      const counts = this.counts;
      if (b - head >= BUCKETS) {
        counts.fill(0);
        this.deposits = 0;
        this.withdrawals = 0;
      } else {
        while (head < b) {
          head++;
          const s = 2 * slot(head);
          this.deposits -= counts[s]!;
          this.withdrawals -= counts[s + 1]!;
          counts[s] = 0;
          counts[s + 1] = 0;
        }
      }
      this.head = b;
    }
    return slot(this.head);
  }
}

function slot(bucket: number): number {
  const s = bucket % BUCKETS;
  return s < 0 ? s + BUCKETS : s;
}
