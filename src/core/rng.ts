/**
 * A source of uniform random numbers in [0, 1), like `Math.random`. Balancers accept one as the
 * `random` option so tests and simulations can be fully deterministic.
 */
export type RandomSource = () => number;

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
