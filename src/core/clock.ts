/**
 * A monotonic clock in milliseconds, like `performance.now`. Balancers accept one as the `now`
 * option so that time-based behaviour (latency, failure windows, slow start) is testable.
 */
export type Clock = () => number;

interface PerformanceLike {
  now(): number;
}

const perf = (globalThis as { performance?: PerformanceLike }).performance;

/** `performance.now()` where the runtime has it (Node 16+, Deno, Bun, browsers), else `Date.now()`. */
export const systemClock: Clock =
  perf !== undefined && typeof perf.now === 'function' ? () => perf.now() : () => Date.now();

/**
 * Wraps a user's clock so that a reading that throws, or that is not a finite number, counts as
 * the previous good reading (0 before the first): time stands still for that reading. A broken
 * reading can then delay time-based transitions but never leaves a half-done change behind (a
 * lease counted but not returned, a failure window ending at NaN). Good readings pass through
 * untouched, also when they go backwards; the users of the clock guard against that themselves
 * (a latency measured as negative is dropped).
 *
 * @internal
 * @example
 * ```ts
 * const now = guardClock(() => Number.NaN);
 * now(); // 0
 * ```
 */
export function guardClock(now: Clock): Clock {
  let last = 0;
  return () => {
    let t: unknown;
    try {
      t = now();
    } catch {
      return last;
    }
    if (typeof t === 'number' && t - t === 0) {
      last = t;
      return t;
    }
    return last;
  };
}
