import { BaseBalancer } from '../balancer.js';
import { SmoothWeightedSelector } from './smooth-weighted.js';
import type { Selector } from '../core/selector.js';
import type { BalancerOptions, Target } from '../types.js';

/** Options of {@link WeightedRoundRobin}. */
export type WeightedRoundRobinOptions = BalancerOptions;

/**
 * nginx's smooth weighted round robin, pick for pick: for weights 5, 1, 1 the sequence is
 * `a a b a c a a`, interleaved rather than bunched, and every target gets exactly its weight's
 * share of each period (the sum of the weights). Unavailable targets sit out the rounds they
 * miss exactly as nginx skips down, failed or tried peers. Cost per pick: O(1) in the steady
 * state (the first period, Σ weights ≤ 65,536 picks, is recorded and then replayed); O(K) with
 * K distinct weights once a target has been skipped or after a membership change that kept the
 * rotation's position; O(log n) for a weight class in which a target was skipped, until the
 * next membership or weight change.
 *
 * Unlike Envoy and gRPC, the rotation does not start at a random position: the point of this
 * class is to reproduce nginx, which always starts from the list's first heaviest target.
 *
 * @example
 * ```ts
 * import { WeightedRoundRobin } from 'loadwise';
 * const lb = new WeightedRoundRobin([
 *   { id: 'a', weight: 5 }, { id: 'b', weight: 1 }, { id: 'c', weight: 1 },
 * ]);
 * Array.from({ length: 7 }, () => lb.pick().id).join(' '); // 'a a b a c a a'
 * ```
 */
export class WeightedRoundRobin<T extends Target = Target> extends BaseBalancer<T> {
  constructor(targets: readonly T[], options?: WeightedRoundRobinOptions) {
    super(targets, options, []);
  }

  protected createSelector(): Selector<T> {
    return new SmoothWeightedSelector<T>();
  }

  /** Routes on `effectiveWeight`, so slow start ramps a returning target. */
  protected override rampsWeights(): boolean {
    return true;
  }
}
