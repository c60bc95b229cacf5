import type { LatencySummary } from './types.js';

/**
 * The nearest-rank `p` quantile of ascending `sorted` values: the smallest value with at least
 * a fraction `p` of the values at or below it. 0 for no values.
 *
 * @example
 * ```ts
 * import { quantile } from 'loadwise/sim';
 * quantile(Float64Array.of(1, 2, 3, 4), 0.5); // 2
 * quantile(Float64Array.of(1, 2, 3, 4), 0.99); // 4
 * ```
 */
export function quantile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const rank = Math.ceil(p * n);
  return sorted[rank < 1 ? 0 : rank > n ? n - 1 : rank - 1]!;
}

/**
 * Count, mean, p50, p90, p99, p99.9 and max of ascending `sorted` latencies.
 *
 * @example
 * ```ts
 * import { summarize } from 'loadwise/sim';
 * summarize(Float64Array.of(1, 2, 3, 10)).mean; // 4
 * ```
 */
export function summarize(sorted: ArrayLike<number>): LatencySummary {
  const n = sorted.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i]!;
  return {
    count: n,
    mean: n > 0 ? sum / n : 0,
    p50: quantile(sorted, 0.5),
    p90: quantile(sorted, 0.9),
    p99: quantile(sorted, 0.99),
    p999: quantile(sorted, 0.999),
    max: n > 0 ? sorted[n - 1]! : 0,
  };
}

/**
 * Probabilities at which results sample the latency CDF: 0.1 %, 0.5 %, every percent, then
 * 99.5 %, 99.9 %, 99.95 %, 99.99 % and 100 % (the maximum).
 *
 * @example
 * ```ts
 * import { CDF_PROBABILITIES } from 'loadwise/sim';
 * CDF_PROBABILITIES.length; // 106
 * ```
 */
export const CDF_PROBABILITIES: readonly number[] = (() => {
  const ps: number[] = [0.001, 0.005];
  for (let i = 1; i < 100; i++) ps.push(i / 100);
  ps.push(0.995, 0.999, 0.9995, 0.9999, 1);
  return ps;
})();

/**
 * The latency CDF of ascending `sorted` values as `[probability, ms]` pairs at
 * {@link CDF_PROBABILITIES}; empty for no values.
 *
 * @example
 * ```ts
 * import { cdfPoints } from 'loadwise/sim';
 * cdfPoints(Float64Array.of(1, 2, 3)).at(-1); // [1, 3]
 * ```
 */
export function cdfPoints(sorted: ArrayLike<number>): [number, number][] {
  if (sorted.length === 0) return [];
  return CDF_PROBABILITIES.map((p) => [p, quantile(sorted, p)]);
}
