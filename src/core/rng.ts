import { InvalidOptionError } from './errors.js';

/**
 * A source of uniform random numbers in [0, 1), like `Math.random`. Balancers accept one as the
 * `random` option so tests and simulations can be fully deterministic.
 */
export type RandomSource = () => number;

/** The largest double below 1. */
const BELOW_ONE = 1 - 2 ** -53;

/**
 * Wraps a user's random source so that no value it returns can index out of bounds: a number
 * below 0 (−∞ included) counts as 0, one at or above 1 (+∞ included) as the largest double
 * below 1 (so `() => 1` picks the last candidate, as `1 − ε` would), and NaN or a non-number
 * throws an {@link InvalidOptionError} for `random` before anything is chosen. Values in
 * [0, 1) pass through untouched.
 *
 * @internal
 * @example
 * ```ts
 * const random = guardRandom(() => -0.1);
 * random(); // 0
 * ```
 */
export function guardRandom(random: RandomSource): RandomSource {
  return () => {
    const x: unknown = random();
    if (typeof x === 'number') {
      if (x >= 0 && x < 1) return x;
      if (x < 0) return 0;
      if (x >= 1) return BELOW_ONE;
    }
    throw new InvalidOptionError('random', x, 'a function returning numbers in [0, 1)');
  };
}

const TWO_POW_32 = 4294967296;

/**
 * Creates a fast seeded PRNG (sfc32: 128-bit state, passes PractRand to 2^40 bytes, 32-bit
 * output) that returns numbers in [0, 1). The same seed gives the same sequence on every
 * runtime, because it only uses 32-bit integer arithmetic.
 *
 * @param seed - any finite number; it is folded into 32 bits.
 * @example
 * ```ts
 * import { createRandom } from 'loadwise';
 * const random = createRandom(42);
 * random(); // the same value on Node, Deno and Bun
 * ```
 */
export function createRandom(seed: number): RandomSource {
  // SplitMix32 spreads a small seed over the 128-bit state so that seeds 1 and 2 do not start
  // with correlated outputs.
  let s = (seed >>> 0) ^ Math.trunc(seed / TWO_POW_32);
  const next = (): number => {
    s = (s + 0x9e3779b9) | 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = next();
  let b = next();
  let c = next();
  let d = 1;
  const random = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / TWO_POW_32;
  };
  // Discard the first outputs: sfc32 needs a few rounds to mix a fresh state.
  for (let i = 0; i < 12; i++) random();
  return random;
}

/** A seed for instances that were given none, so that independent balancers do not move in lockstep. */
export function freshSeed(): number {
  return (Math.random() * TWO_POW_32) >>> 0;
}
