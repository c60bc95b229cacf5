import { InvalidWeightError } from '../core/errors.js';
import type { Member } from '../core/member.js';
import type { Target } from '../types.js';

/**
 * nginx's weighted walk over a tier in config order, as `hash $key` and `ip_hash` do it:
 * `w = hash % total_weight`, then `while (w >= peer->weight) { w -= peer->weight; peer++; }`.
 * The walk is O(n) in nginx; here it is a binary search over prefix sums, which returns the
 * same peer for every `w`.
 *
 * @internal
 * @example
 * ```ts
 * const walk = new WeightWalk();
 * walk.build(members);                       // weights 3, 1, 2 -> prefix sums 3, 4, 6
 * walk.find(hash % walk.total);              // w = 3 -> position 1
 * ```
 */
export class WeightWalk {
  /** Sum of every member's weight, down or not: nginx's `total_weight`. */
  total = 0;
  /** `prefix[i]` = weight of members 0..i; exact in a double for integer weights below 2^53. */
  private prefix = new Float64Array(0);

  build<T extends Target>(members: readonly Member<T>[]): void {
    const n = members.length;
    this.prefix = new Float64Array(n);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      sum += members[i]!.weight;
      this.prefix[i] = sum;
    }
    this.total = sum;
  }

  /** The position nginx's walk stops at for offset `w` in `[0, total)`: the first `i` with `prefix[i] > w`. */
  find(w: number): number {
    const prefix = this.prefix;
    let lo = 0;
    let hi = prefix.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (prefix[mid]! > w) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

/**
 * The largest weight the nginx-compatible balancers accept: nginx parses `weight=` as an
 * integer with no upper bound, but `hash … consistent` allocates 160 points per unit, so a
 * limit keeps a typo from allocating gigabytes.
 *
 * @internal
 * @example
 * ```ts
 * new ModuloHash([{ id: 'a:80', weight: MAX_NGINX_WEIGHT }]); // ok; one more would throw
 * ```
 */
export const MAX_NGINX_WEIGHT = 10_000;

const EXPECTED = `an integer from 1 to ${MAX_NGINX_WEIGHT} (nginx weights are integers)`;

/**
 * Throws {@link InvalidWeightError} for a weight that is a finite number > 0 but not an integer
 * in `[1, MAX_NGINX_WEIGHT]`. Anything else (non-numbers, NaN, 0, negatives, Infinity) is left to
 * the registry, which rejects it with the standard message; so is a malformed target.
 *
 * @internal
 * @example
 * ```ts
 * checkNginxWeight('a:80', 2);   // ok
 * checkNginxWeight('a:80', 1.5); // throws InvalidWeightError (ERR_INVALID_WEIGHT)
 * ```
 */
export function checkNginxWeight(id: string, weight: unknown): void {
  if (typeof weight !== 'number' || !(weight > 0) || weight === Number.POSITIVE_INFINITY) return;
  if (!Number.isInteger(weight) || weight > MAX_NGINX_WEIGHT) throw new InvalidWeightError(id, weight, EXPECTED);
}
