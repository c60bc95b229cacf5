import { BaseBalancer } from '../balancer.js';
import { randomIndex, uniformAvailable } from '../core/sampling.js';
import type { Member } from '../core/member.js';
import type { RandomSource } from '../core/rng.js';
import type { Selector } from '../core/selector.js';
import type { BalancerOptions, Target } from '../types.js';

/** Options of {@link Random}. */
export type RandomOptions = BalancerOptions;

/** Random probes before the O(n) fallback; with half the targets unavailable, 8 misses in a row happen 1 time in 256. */
const PROBES = 8;

class RandomSelector<T extends Target> implements Selector<T> {
  private members: readonly Member<T>[] = [];

  constructor(private readonly random: RandomSource) {}

  rebuild(members: readonly Member<T>[]): void {
    this.members = members;
  }

  select(_key: string | undefined, filtered: boolean): number {
    const ms = this.members;
    const n = ms.length;
    if (n === 0) return -1;
    if (!filtered) return randomIndex(this.random, n);
    for (let t = 0; t < PROBES; t++) {
      const i = randomIndex(this.random, n);
      if (ms[i]!.available()) return i;
    }
    return uniformAvailable(ms, this.random);
  }
}

/**
 * Uniform random choice among the available targets, ignoring weights. O(1) per pick; when
 * many targets are unavailable it falls back to one O(n) pass after a few missed probes.
 *
 * @example
 * ```ts
 * import { Random } from 'loadwise';
 * const lb = new Random(['a', 'b', 'c'], { seed: 42 });
 * lb.pick(); // same sequence for the same seed on every runtime
 * ```
 */
export class Random<T extends Target = Target> extends BaseBalancer<T> {
  constructor(targets: readonly T[], options?: RandomOptions) {
    super(targets, options, []);
  }

  protected createSelector(): Selector<T> {
    return new RandomSelector<T>(this.random);
  }
}
