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
