/**
 * The last `size` values in arrival order plus the same values sorted, so that a quantile is
 * O(1) to read. Adding a value replaces the oldest in place: only the values strictly between
 * the two move, so a window of mostly equal loads (the common case) costs O(log size).
 */
export class SlidingQuantile {
  private readonly ring: Float64Array;
  private readonly sorted: Float64Array;
  /** Scratch for `push`. */
  private readonly one = new Float64Array(1);
  private head = 0;
  private count = 0;

  /**
   * @param size - how many recent values the window holds.
   * @param q - the quantile {@link SlidingQuantile.markAbove} compares with, from 0 to 1.
   */
  constructor(
    private readonly size: number,
    private readonly q = 0.5,
  ) {
    this.ring = new Float64Array(size);
    this.sorted = new Float64Array(size);
  }

  /** Adds `v` (not NaN), replacing the oldest value once `size` are held. */
  push(v: number): void {
    this.one[0] = v;
    this.pushAll(this.one, 1);
  }

  /**
   * Adds `values[0..count)` (none NaN) in order. The values come in an array, not as
   * arguments, because V8 boxes a double passed to a call it does not inline: the hot path
   * allocates nothing.
   */
  pushAll(values: Float64Array, count: number): void {
    const sorted = this.sorted;
    const ring = this.ring;
    const size = this.size;
    for (let j = 0; j < count; j++) {
      const v = values[j]!;
      const n = this.count;
      if (n < size) {
        const k = upperBound(sorted, v, n);
        for (let p = n; p > k; p--) sorted[p] = sorted[p - 1]!;
        sorted[k] = v;
        this.count = n + 1;
      } else {
        const old = ring[this.head]!;
        if (v > old) {
          // Drop the last copy of old, slide the values in (old, v) down, put v before its equals.
          let i = upperBound(sorted, old, n) - 1;
          const k = lowerBound(sorted, v, n);
          for (; i < k - 1; i++) sorted[i] = sorted[i + 1]!;
          sorted[k - 1] = v;
        } else if (v < old) {
          // Drop the first copy of old, slide the values in (v, old) up, put v after its equals.
          let i = lowerBound(sorted, old, n);
          const k = upperBound(sorted, v, n);
          for (; i > k; i--) sorted[i] = sorted[i - 1]!;
          sorted[k] = v;
        }
      }
      ring[this.head] = v;
      this.head = this.head + 1 === size ? 0 : this.head + 1;
    }
  }

  /** The q-quantile with linear interpolation between closest ranks (R's type 7); NaN when empty. */
  quantile(q: number): number {
    return quantileOf(this.sorted, this.count, q);
  }

  /**
   * Sets `above[k]` to 1 when `values[k]` exceeds the window's q-quantile (the `q` given at
   * construction), else 0, for k in [0, count); nothing exceeds the quantile of an empty
   * window. Arrays in and out, so the hot path passes no double through a call.
   */
  markAbove(values: Float64Array, count: number, above: Uint8Array): void {
    const threshold = quantileOf(this.sorted, this.count, this.q);
    for (let k = 0; k < count; k++) above[k] = values[k]! > threshold ? 1 : 0;
  }
}

/** The q-quantile of `sorted[0..n)`, linear between closest ranks (R's type 7); NaN when n = 0. */
function quantileOf(sorted: Float64Array, n: number, q: number): number {
  if (n === 0) return Number.NaN;
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const a = sorted[lo]!;
  return lo + 1 < n ? a + (pos - lo) * (sorted[lo + 1]! - a) : a;
}

/**
 * The first index in `sorted[0..n)` whose value is ≥ v. Not `core/lower-bound.ts`: that one
 * searches the hash ring's Uint32Array, and sharing one function between the two array types
 * would make the ring lookup's element loads polymorphic.
 */
function lowerBound(sorted: Float64Array, v: number, n: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The first index in `sorted[0..n)` whose value is > v. */
function upperBound(sorted: Float64Array, v: number, n: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
