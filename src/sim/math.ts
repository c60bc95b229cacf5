/**
 * Deterministic elementary functions for the simulator.
 *
 * ECMAScript leaves `Math.log`, `Math.exp` and `Math.pow` "implementation-approximated", and the
 * engines do differ in the last bit now and then (V8 ships fdlibm ports, JavaScriptCore calls the
 * platform's libm). One differing bit in a service time moves every later event, so the
 * simulator uses these ports of fdlibm's `e_log.c` and `e_exp.c` instead: they use only IEEE 754
 * `+ - * /` and bit manipulation, which every engine performs exactly alike. Accuracy is fdlibm's
 * (< 1 ulp); on V8 the results are bit-identical to `Math.log` / `Math.exp`.
 *
 * @module
 */

const view = new DataView(new ArrayBuffer(8));

function hi(x: number): number {
  view.setFloat64(0, x);
  return view.getInt32(0);
}

function lo(x: number): number {
  view.setFloat64(0, x);
  return view.getUint32(4);
}

function withHi(x: number, high: number): number {
  view.setFloat64(0, x);
  view.setInt32(0, high);
  return view.getFloat64(0);
}

const LN2_HI = 6.93147180369123816490e-1;
const LN2_LO = 1.90821492927058770002e-10;
const TWO54 = 1.8014398509481984e16;
const LG1 = 6.666666666666735130e-1;
const LG2 = 3.999999999940941908e-1;
const LG3 = 2.857142874366239149e-1;
const LG4 = 2.222219843214978396e-1;
const LG5 = 1.818357216161805012e-1;
const LG6 = 1.531383769920937332e-1;
const LG7 = 1.479819860511658591e-1;

/**
 * Natural logarithm, bit-identical on every engine (fdlibm `__ieee754_log`).
 *
 * @example
 * ```ts
 * import { ln } from 'loadwise/sim';
 * ln(Math.E); // 1
 * ```
 */
export function ln(x: number): number {
  let hx = hi(x);
  const lx = lo(x);
  let k = 0;
  if (hx < 0x00100000) {
    // x < 2^-1022: zero, negative, or subnormal
    if (((hx & 0x7fffffff) | lx) === 0) return Number.NEGATIVE_INFINITY;
    if (hx < 0) return Number.NaN;
    k -= 54;
    x *= TWO54;
    hx = hi(x);
  }
  if (hx >= 0x7ff00000) return x + x;
  k += (hx >> 20) - 1023;
  hx &= 0x000fffff;
  const i0 = (hx + 0x95f64) & 0x100000;
  x = withHi(x, hx | (i0 ^ 0x3ff00000)); // normalise x or x/2
  k += i0 >> 20;
  const f = x - 1.0;
  if ((0x000fffff & (2 + hx)) < 3) {
    // |f| < 2^-20
    if (f === 0) {
      if (k === 0) return 0;
      return k * LN2_HI + k * LN2_LO;
    }
    const r = f * f * (0.5 - 0.33333333333333333 * f);
    if (k === 0) return f - r;
    return k * LN2_HI - (r - k * LN2_LO - f);
  }
  const s = f / (2.0 + f);
  const dk = k;
  const z = s * s;
  let i = hx - 0x6147a;
  const w = z * z;
  const j = 0x6b851 - hx;
  const t1 = w * (LG2 + w * (LG4 + w * LG6));
  const t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
  i |= j;
  const r = t2 + t1;
  if (i > 0) {
    const hfsq = 0.5 * f * f;
    if (k === 0) return f - (hfsq - s * (hfsq + r));
    return dk * LN2_HI - (hfsq - (s * (hfsq + r) + dk * LN2_LO) - f);
  }
  if (k === 0) return f - s * (f - r);
  return dk * LN2_HI - (s * (f - r) - dk * LN2_LO - f);
}

const O_THRESHOLD = 7.09782712893383973096e2;
const U_THRESHOLD = -7.45133219101941108420e2;
const INV_LN2 = 1.44269504088896338700;
const TWOM1000 = 9.33263618503218878990e-302;
const P1 = 1.66666666666666019037e-1;
const P2 = -2.77777777770155933842e-3;
const P3 = 6.61375632143793436117e-5;
const P4 = -1.65339022054652515390e-6;
const P5 = 4.13813679705723846039e-8;

/**
 * `e^x`, bit-identical on every engine (fdlibm `__ieee754_exp`).
 *
 * @example
 * ```ts
 * import { exp } from 'loadwise/sim';
 * exp(0); // 1
 * ```
 */
export function exp(x: number): number {
  let hx = hi(x);
  const negative = hx < 0;
  hx &= 0x7fffffff;
  if (hx >= 0x40862e42) {
    // |x| >= 709.78...
    if (hx >= 0x7ff00000) {
      if (((hx & 0xfffff) | lo(x)) !== 0) return x + x; // NaN
      return negative ? 0 : x; // exp(±Infinity)
    }
    if (x > O_THRESHOLD) return Number.POSITIVE_INFINITY;
    if (x < U_THRESHOLD) return 0;
  }
  if (x === 1) return Math.E; // correctly rounded, as V8 does; the reduction is 1 ulp off here
  let k = 0;
  let hiPart = 0;
  let loPart = 0;
  if (hx > 0x3fd62e42) {
    // |x| > 0.5 ln2: reduce
    if (hx < 0x3ff0a2b2) {
      // and |x| < 1.5 ln2
      hiPart = negative ? x + LN2_HI : x - LN2_HI;
      loPart = negative ? -LN2_LO : LN2_LO;
      k = negative ? -1 : 1;
    } else {
      k = Math.trunc(INV_LN2 * x + (negative ? -0.5 : 0.5));
      hiPart = x - k * LN2_HI; // exact
      loPart = k * LN2_LO;
    }
    x = hiPart - loPart;
  } else if (hx < 0x3e300000) {
    // |x| < 2^-28
    return 1 + x;
  }
  const t = x * x;
  const c = x - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
  if (k === 0) return 1 - ((x * c) / (c - 2.0) - x);
  const y = 1 - (loPart - (x * c) / (2.0 - c) - hiPart);
  if (k >= -1021) return withHi(y, hi(y) + (k << 20));
  return withHi(y, hi(y) + ((k + 1000) << 20)) * TWOM1000;
}

const LN10 = ln(10);

/**
 * Base-10 logarithm built on {@link ln}, for chart axes that must come out the same everywhere.
 *
 * @example
 * ```ts
 * import { log10 } from 'loadwise/sim';
 * log10(1000); // 3 (to within an ulp)
 * ```
 */
export function log10(x: number): number {
  return ln(x) / LN10;
}

/**
 * `base^exponent` for `base > 0`, as `exp(exponent × ln(base))`: deterministic, within a few ulps.
 *
 * @example
 * ```ts
 * import { pow } from 'loadwise/sim';
 * pow(2, 10); // 1024 (to within a few ulps)
 * ```
 */
export function pow(base: number, exponent: number): number {
  return exp(exponent * ln(base));
}

/**
 * Derives an independent 32-bit seed for one random stream (arrivals, a server's service times,
 * a proxy's balancer) from the run's seed, a stream number and an index, so that adding a
 * server or an algorithm leaves the other streams alone.
 *
 * @example
 * ```ts
 * import { deriveSeed } from 'loadwise/sim';
 * import { createRandom } from 'loadwise';
 * const serviceRandom = createRandom(deriveSeed(42, 2, 0)); // server 0's service-time stream
 * ```
 */
export function deriveSeed(seed: number, stream: number, index: number): number {
  let h = ((seed >>> 0) ^ Math.trunc(seed / 4294967296)) | 0;
  h = Math.imul(h ^ Math.imul(stream + 1, 0x9e3779b9), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h ^ Math.imul(index + 1, 0xc2b2ae35), 0x27d4eb2f);
  h ^= h >>> 16;
  h = Math.imul(h, 0x165667b1);
  h ^= h >>> 15;
  return h >>> 0;
}
