import { BaseBalancer } from '../balancer.js';
import { AliasTable, weightedAvailable } from '../core/sampling.js';
import type { Member } from '../core/member.js';
import type { RandomSource } from '../core/rng.js';
import type { Selector } from '../core/selector.js';
import type { BalancerOptions, Target } from '../types.js';

/** Options of {@link WeightedRandom}. */
export type WeightedRandomOptions = BalancerOptions;

const PROBES = 8;

class WeightedRandomSelector<T extends Target> implements Selector<T> {
  private members: readonly Member<T>[] = [];
  private readonly table = new AliasTable();

  constructor(private readonly random: RandomSource) {}

  rebuild(members: readonly Member<T>[]): void {
    this.members = members;
    const weights = new Float64Array(members.length);
    for (let i = 0; i < members.length; i++) weights[i] = members[i]!.effectiveWeight;
    this.table.build(weights, members.length);
  }

  select(_key: string | undefined, filtered: boolean): number {
    const ms = this.members;
    if (ms.length === 0) return -1;
    if (!filtered) return this.table.sample(this.random);
    for (let t = 0; t < PROBES; t++) {
      const i = this.table.sample(this.random);
      if (ms[i]!.available()) return i;
    }
    return weightedAvailable(ms, this.random);
  }
}

/**
 * Random choice with probability proportional to weight, by Walker's alias method: O(1) per
 * pick for any number of targets (one random draw, two array reads), O(n) rebuild when
 * membership or weights change.
 *
 * @example
 * ```ts
 * import { WeightedRandom } from 'loadwise';
 * const lb = new WeightedRandom([{ id: 'big', weight: 3 }, { id: 'small', weight: 1 }], { seed: 1 });
 * lb.pick(); // 'big' about 75 % of the time
 * ```
 */
export class WeightedRandom<T extends Target = Target> extends BaseBalancer<T> {
  constructor(targets: readonly T[], options?: WeightedRandomOptions) {
    super(targets, options, []);
  }

  protected createSelector(): Selector<T> {
    return new WeightedRandomSelector<T>(this.random);
  }

  /** Routes on `effectiveWeight`, so slow start ramps a returning target. */
  protected override rampsWeights(): boolean {
    return true;
  }
}
