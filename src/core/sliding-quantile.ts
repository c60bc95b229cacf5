/**
 * The last `size` values in arrival order plus the same values sorted, so that a quantile is
 * O(1) to read. Adding a value replaces the oldest in place: only the values strictly between
 * the two move, so a window of mostly equal loads (the common case) costs O(log size).
 */
export class SlidingQuantile {
  private readonly ring: Float64Array;
  private readonly sorted: Float64Array;
  private head = 0;
  private count = 0;

  constructor(private readonly size: number) {
    this.ring = new Float64Array(size);
    this.sorted = new Float64Array(size);
  }

  /** Adds `v` (not NaN), replacing the oldest value once `size` are held. */
  push(v: number): void {
    const sorted = this.sorted;
    const n = this.count;
    if (n < this.size) {
      const k = this.upperBound(v, n);
      for (let p = n; p > k; p--) sorted[p] = sorted[p - 1]!;
      sorted[k] = v;
      this.count = n + 1;
    } else {
      const old = this.ring[this.head]!;
      if (v > old) {
        // Drop the last copy of old, slide the values in (old, v) down, put v before its equals.
        let i = this.upperBound(old, n) - 1;
        const k = this.lowerBound(v, n);
        for (; i < k - 1; i++) sorted[i] = sorted[i + 1]!;
        sorted[k - 1] = v;
      } else if (v < old) {
        // Drop the first copy of old, slide the values in (v, old) up, put v after its equals.
        let i = this.lowerBound(old, n);
        const k = this.upperBound(v, n);
        for (; i > k; i--) sorted[i] = sorted[i - 1]!;
        sorted[k] = v;
      }
    }
    this.ring[this.head] = v;
    this.head = this.head + 1 === this.size ? 0 : this.head + 1;
  }

  /** The q-quantile with linear interpolation between closest ranks (R's type 7); NaN when empty. */
  quantile(q: number): number {
    const n = this.count;
    if (n === 0) return Number.NaN;
    const pos = q * (n - 1);
    const lo = Math.floor(pos);
    const a = this.sorted[lo]!;
    return lo + 1 < n ? a + (pos - lo) * (this.sorted[lo + 1]! - a) : a;
  }

  /** The first index in [0, n) whose value is >= v (n if none). */
  private lowerBound(v: number, n: number): number {
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.sorted[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The first index in [0, n) whose value is > v (n if none). */
  private upperBound(v: number, n: number): number {
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.sorted[mid]! <= v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
