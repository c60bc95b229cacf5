/**
 * Index of the first element of the sorted `values[0..length)` that is >= `x`, or `length`
 * when every element is smaller. Branch-light binary search over a typed array: the ring
 * lookup of consistent hashing.
 */
export function lowerBound(values: Uint32Array, length: number, x: number): number {
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
