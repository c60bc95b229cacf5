import { BaseBalancer } from '../balancer.js';
import { intOption } from '../core/options.js';
import { AliasTable, randomIndex } from '../core/sampling.js';
import type { Member } from '../core/member.js';
import type { RandomSource } from '../core/rng.js';
import type { Selector } from '../core/selector.js';
import type { BalancerOptions, Target } from '../types.js';

/**
 * Options of {@link PowerOfTwoChoices}.
 *
 * @example
 * ```ts
 * new PowerOfTwoChoices(targets, { choices: 3 });
 * ```
 */
export interface PowerOfTwoChoicesOptions extends BalancerOptions {
  /** How many distinct candidates to compare, 2 or more (capped at the number available); default 2. */
  readonly choices?: number | undefined;
}

/** Draw attempts per wanted candidate before falling back to an exact O(n) draw. */
const ATTEMPTS_PER_CHOICE = 4;

class PowerOfChoicesSelector<T extends Target> implements Selector<T> {
  private members: readonly Member<T>[] = [];
  private readonly table = new AliasTable();
  /** `seen[i] === stamp` marks index i as already drawn in the current pick. */
  private seen = new Uint32Array(0);
  private stamp = 0;
  private scratch = new Int32Array(0);

  constructor(
    private readonly random: RandomSource,
    private readonly choices: number,
  ) {}

  rebuild(members: readonly Member<T>[]): void {
    this.members = members;
    const n = members.length;
    const weights = new Float64Array(n);
    for (let i = 0; i < n; i++) weights[i] = members[i]!.effectiveWeight;
    this.table.build(weights, n);
    this.seen = new Uint32Array(n);
    this.scratch = new Int32Array(n);
    this.stamp = 0;
  }

  select(_key: string | undefined, filtered: boolean): number {
    const ms = this.members;
    const n = ms.length;
    if (n <= 1) return n === 1 && (!filtered || ms[0]!.available()) ? 0 : -1;
    const want = this.choices < n ? this.choices : n;
    if (++this.stamp === 0xffffffff) {
      this.seen.fill(0);
      this.stamp = 1;
    }
    const stamp = this.stamp;
    const seen = this.seen;
    let best = -1;
    let got = 0;
    // Candidates are drawn in proportion to weight and without replacement: two draws of the
    // same target would compare it with itself (Envoy issue #11004) and waste the choice.
    for (let attempts = want * ATTEMPTS_PER_CHOICE; attempts > 0 && got < want; attempts--) {
      const i = this.table.sample(this.random);
      if (seen[i] === stamp) continue;
      seen[i] = stamp;
      if (filtered && !ms[i]!.available()) continue;
      got++;
      if (best < 0 || lessLoaded(ms[i]!, ms[best]!)) best = i;
    }
    if (got === want) return best;
    return this.completeDraw(want - got, best, filtered);
  }

  /**
   * Exact fallback when rejection sampling stalls (a dominant weight, many unavailable
   * targets): keeps the candidates drawn so far and adds `missing` more, uniformly from the
   * available targets not drawn yet, by a partial Fisher-Yates shuffle. O(n), and rare by
   * construction.
   */
  private completeDraw(missing: number, best: number, filtered: boolean): number {
    const ms = this.members;
    const pool = this.scratch;
    const seen = this.seen;
    const stamp = this.stamp;
    let count = 0;
    for (let i = 0; i < ms.length; i++) {
      if (seen[i] !== stamp && (!filtered || ms[i]!.available())) pool[count++] = i;
    }
    const k = missing < count ? missing : count;
    for (let j = 0; j < k; j++) {
      const r = j + randomIndex(this.random, count - j);
      const i = pool[r]!;
      pool[r] = pool[j]!;
      pool[j] = i;
      if (best < 0 || lessLoaded(ms[i]!, ms[best]!)) best = i;
    }
    return best;
  }
}

/** Fewer open leases per unit of (effective) weight; cross-multiplied so equal ratios compare equal exactly. */
function lessLoaded<T extends Target>(a: Member<T>, b: Member<T>): boolean {
  return a.active * b.effectiveWeight < b.active * a.effectiveWeight;
}

/**
 * Power of two choices (Envoy `LEAST_REQUEST`, Mitzenmacher's "power of two random choices"):
 * draw `choices` distinct candidates in proportion to weight and send the request to the one
 * with the fewest open leases per unit of weight; on a tie the first drawn wins. O(choices) per
 * pick for any number of targets. Needs `acquire`/`release` to see load; with `pick` alone it
 * behaves as weighted random.
 *
 * @example
 * ```ts
 * import { PowerOfTwoChoices } from 'loadwise';
 * const lb = new PowerOfTwoChoices(['a', 'b', 'c', 'd']);
 * const lease = lb.acquire();
 * // ... the request runs ...
 * lease.release('success');
 * ```
 */
export class PowerOfTwoChoices<T extends Target = Target> extends BaseBalancer<T> {
  private readonly choices: number;

  constructor(targets: readonly T[], options?: PowerOfTwoChoicesOptions) {
    super(targets, options, ['choices']);
    this.choices = intOption('choices', options?.choices, 2, 2);
  }

  protected createSelector(): Selector<T> {
    return new PowerOfChoicesSelector<T>(this.random, this.choices);
  }

  /** Routes on `effectiveWeight`, so slow start ramps a returning target. */
  protected override rampsWeights(): boolean {
    return true;
  }
}
