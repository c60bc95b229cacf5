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
 * Wraps a user's clock so that a reading that throws, or that is not a finite number once
 * converted to a number (as `Number(x)` would: `'5'` reads as 5), counts as the previous good
 * reading (0 before the first): time stands still for that reading. A broken
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
  // `[0]` the last good reading, `[1]` the current one. Numbers stay in a typed array and the
  // try/catch in a function of its own that returns nothing: a double stored in a closure, or
  // returned from a call V8 does not inline (one with a try/catch, deep in a pick), is boxed,
  // which would allocate on every reading.
  const slots = new Float64Array(2);
  return () => {
    readInto(now, slots);
    return slots[1]!;
  };
}

/** `slots[1]` = a finite reading of `now`, or else `slots[0]`, the previous good one. */
function readInto(now: Clock, slots: Float64Array): void {
  try {
    slots[1] = now(); // a non-number converts here: '5' reads as 5, undefined as NaN
  } catch {
    slots[1] = Number.NaN;
  }
  const t = slots[1]!;
  if (t - t === 0) slots[0] = t;
  else slots[1] = slots[0]!;
}
