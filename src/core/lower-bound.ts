/**
 * Index of the first element of the sorted `values[lo..hi)` that is >= `x`, or `hi` when every
 * element in the range is smaller: the ring lookup of consistent hashing, which first narrows
 * the range with a bucket index.
 *
 * @example
 * ```ts
 * const points = Uint32Array.of(10, 20, 30, 40);
 * lowerBoundIn(points, 1, 3, 25); // 2
 * lowerBoundIn(points, 1, 3, 35); // 3 (hi: nothing in the window is >= 35)
 * ```
 */
export function lowerBoundIn(values: Uint32Array, lo: number, hi: number, x: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
