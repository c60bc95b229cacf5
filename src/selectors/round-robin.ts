import { BaseBalancer } from '../balancer.js';
import { randomIndex } from '../core/sampling.js';
import type { Member } from '../core/member.js';
import type { RandomSource } from '../core/rng.js';
import type { Selector } from '../core/selector.js';
import type { BalancerOptions, Target } from '../types.js';

/** Options of {@link RoundRobin}. */
export type RoundRobinOptions = BalancerOptions;

class RoundRobinSelector<T extends Target> implements Selector<T> {
  private members: readonly Member<T>[] = [];
  private next = -1;

  constructor(private readonly random: RandomSource) {}

  rebuild(members: readonly Member<T>[]): void {
    this.members = members;
    const n = members.length;
    // A random first position, as Envoy and gRPC do, so that many instances started together do
    // not all send their first request to the first target.
    if (this.next < 0) this.next = n > 0 ? randomIndex(this.random, n) : -1;
    else if (this.next >= n) this.next = 0;
  }

  select(_key: string | undefined, filtered: boolean, _excluded: readonly Member<T>[], excludedCount: number): number {
    const ms = this.members;
    const n = ms.length;
    if (n === 0) return -1;
    let i = this.next;
    if (i < 0 || i >= n) i = 0;
    if (filtered) {
      let tries = n;
      while (!ms[i]!.available()) {
        if (--tries === 0) return -1;
        i = i + 1 === n ? 0 : i + 1;
      }
    }
    // A pick that excludes ids (a retry skipping the targets it tried) leaves the rotation where it
    // was: otherwise every retry moves it on once more, and with a dead target the next request's
    // first try lands on that same target again (2 targets: every first try; n: 1 in n − 1).
    if (excludedCount === 0) this.next = i + 1 === n ? 0 : i + 1;
    return i;
  }
}

/**
 * Plain round robin: each target in turn, ignoring weights. The starting position is random
 * (deterministic under `seed`); unavailable targets are skipped. O(1) per pick when every
 * target is available, O(k) when k consecutive targets must be skipped.
 *
 * @example
 * ```ts
 * import { RoundRobin } from 'loadwise';
 * const lb = new RoundRobin(['a', 'b', 'c'], { seed: 1 });
 * lb.pick(); lb.pick(); lb.pick(); // each of a, b, c once, in list order from a random start
 * ```
 */
export class RoundRobin<T extends Target = Target> extends BaseBalancer<T> {
  constructor(targets: readonly T[], options?: RoundRobinOptions) {
    super(targets, options, []);
  }

  protected createSelector(): Selector<T> {
    return new RoundRobinSelector<T>(this.random);
  }
}
