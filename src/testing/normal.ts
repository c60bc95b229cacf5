/**
 * The standard normal quantile function (inverse CDF), for the z values behind the statistical
 * bounds in `loadwise/testing`. Wichura's algorithm AS 241 (PPND16, Applied Statistics 37(3),
 * 1988): rational approximations on three ranges, accurate to about 1e-16 relative, the same
 * method as R's `qnorm` and Python's `statistics.NormalDist.inv_cdf`.
 */

// Central range, |p - 0.5| <= 0.425.
const A = [
  3.387132872796366608, 133.14166789178437745, 1971.5909503065514427, 13731.693765509461125,
  45921.953931549871457, 67265.770927008700853, 33430.575583588128105, 2509.0809287301226727,
] as const;
const B = [
  1, 42.313330701600911252, 687.1870074920579083, 5394.1960214247511077, 21213.794301586595867,
  39307.89580009271061, 28729.085735721942674, 5226.495278852854561,
] as const;
// Intermediate tails, sqrt(-log(min(p, 1 - p))) <= 5.
const C = [
  1.42343711074968357734, 4.6303378461565452959, 5.7694972214606914055, 3.64784832476320460504,
  1.27045825245236838258, 0.24178072517745061177, 0.0227238449892691845833, 7.7454501427834140764e-4,
] as const;
const D = [
  1, 2.05319162663775882187, 1.6763848301838038494, 0.68976733498510000455, 0.14810397642748007459,
  0.0151986665636164571966, 5.475938084995344946e-4, 1.05075007164441684324e-9,
] as const;
// Far tails.
const E = [
  6.6579046435011037772, 5.4637849111641143699, 1.7848265399172913358, 0.29656057182850489123,
  0.026532189526576123093, 0.0012426609473880784386, 2.71155556874348757815e-5, 2.01033439929228813265e-7,
] as const;
const F = [
  1, 0.59983220655588793769, 0.13692988092273580531, 0.0148753612908506148525, 7.868691311456132591e-4,
  1.8463183175100546818e-5, 1.4215117583164458887e-7, 2.04426310338993978564e-15,
] as const;

type Coefficients = readonly [number, number, number, number, number, number, number, number];

function poly(c: Coefficients, x: number): number {
  return ((((((c[7] * x + c[6]) * x + c[5]) * x + c[4]) * x + c[3]) * x + c[2]) * x + c[1]) * x + c[0];
}

/**
 * The standard normal quantile: the `z` with `P(Z ≤ z) = p` for `Z ~ N(0, 1)`. Returns
 * `-Infinity` for 0 and `Infinity` for 1; throws a `RangeError` outside `[0, 1]`.
 *
 * For an upper tail probability `q` too small to write as `1 - q` in floating point (say 1e-20),
 * use `-normalQuantile(q)`, which keeps full precision.
 *
 * @example
 * ```ts
 * import { normalQuantile } from 'loadwise/testing';
 * normalQuantile(0.975);   // 1.959963984540054 (two-sided 95 %)
 * -normalQuantile(1e-6);   // 4.753424308822899 (one-sided, one in a million)
 * ```
 */
export function normalQuantile(p: number): number {
  if (typeof p !== 'number' || Number.isNaN(p) || p < 0 || p > 1) {
    throw new RangeError(`normalQuantile: p must be a probability in [0, 1], got ${String(p)}`);
  }
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (q * poly(A, r)) / poly(B, r);
  }
  let r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p));
  let z: number;
  if (r <= 5) {
    r -= 1.6;
    z = poly(C, r) / poly(D, r);
  } else {
    r -= 5;
    z = poly(E, r) / poly(F, r);
  }
  return q < 0 ? -z : z;
}

/**
 * The two-sided critical value for `k` simultaneous tests at overall confidence `confidence`,
 * Bonferroni-corrected: each test gets `α / k` with `α = 1 - confidence`, split between both
 * tails, so `z = Φ⁻¹(1 - α / (2k))`. With it, a fair process passes all `k` checks together with
 * probability at least `confidence` (under the normal approximation).
 *
 * @example
 * ```ts
 * import { bonferroniZ } from 'loadwise/testing';
 * bonferroniZ(0.95, 1);       // 1.959963984540054
 * bonferroniZ(0.999999, 10);  // 5.326723886...
 * ```
 */
export function bonferroniZ(confidence: number, k: number): number {
  if (typeof confidence !== 'number' || !(confidence > 0 && confidence < 1)) {
    throw new RangeError(`confidence must be a number in (0, 1), got ${String(confidence)}`);
  }
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`the number of tests must be an integer ≥ 1, got ${String(k)}`);
  return -normalQuantile((1 - confidence) / (2 * k));
}
