import { BaseBalancer } from '../balancer.js';
import { xxhash32String } from '../core/hash/xxhash32.js';
import { mix32 } from '../core/hash/mix.js';
import { loadFactorOption, type HashBalancerOptions } from './options.js';
import { HashSelector } from './hash-selector.js';
import type { Member } from '../core/member.js';
import type { Selector } from '../core/selector.js';
import type { Target } from '../types.js';

/** Seed for member-id hashes, distinct from the key hash's seed 0. */
const MEMBER_SEED = 0x5bd1e995;
const TWO_POW_32 = 4294967296;

/** Options of {@link Rendezvous}. */
export type RendezvousOptions = HashBalancerOptions;

class RendezvousSelector<T extends Target> extends HashSelector<T> {
  private memberHash = new Uint32Array(0);
  private weight = new Float64Array(0);
  private uniform = true;
  private scores = new Float64Array(0);

  protected build(members: readonly Member<T>[]): void {
    const n = members.length;
    this.memberHash = new Uint32Array(n);
    this.weight = new Float64Array(n);
    this.scores = new Float64Array(n);
    this.uniform = true;
    for (let i = 0; i < n; i++) {
      const m = members[i]!;
      this.memberHash[i] = xxhash32String(m.id, MEMBER_SEED);
      this.weight[i] = m.weight;
      if (m.weight !== members[0]!.weight) this.uniform = false;
    }
  }

  /** Scores every member for `key`; returns the best. O(n): rendezvous hashing has no index. */
  protected first(key: string): number {
    const kh = xxhash32String(key);
    const n = this.memberHash.length;
    const scores = this.scores;
    let best = -1;
    let bestScore = -1;
    for (let i = 0; i < n; i++) {
      const h = mix32(kh, this.memberHash[i]!);
      // Logarithmic method (Schindelhauer & Schomaker): -w / ln(u) with u uniform in (0, 1)
      // makes member i win with probability exactly w_i / Σw. Equal weights keep the same
      // order with the raw hash, so the logarithm is skipped.
      const s = this.uniform ? h : -this.weight[i]! / Math.log((h + 0.5) / TWO_POW_32);
      scores[i] = s;
      if (s > bestScore || (s === bestScore && i < best)) {
        best = i;
        bestScore = s;
      }
    }
    this.offer(best);
    return best;
  }

  /** The highest score not offered yet; only walked when preferred members are ineligible. */
  protected next(): number {
    const scores = this.scores;
    let best = -1;
    let bestScore = -1;
    for (let i = 0; i < scores.length; i++) {
      if (this.seen[i] === this.stamp) continue;
      const s = scores[i]!;
      if (s > bestScore) {
        best = i;
        bestScore = s;
      }
    }
    if (best >= 0) this.offer(best);
    return best;
  }

  /** Up to `count` distinct available members in descending score order, appended to `out`. */
  ranked(key: string, count: number, out: T[]): void {
    const ms = this.members;
    if (ms.length === 0) return;
    if (++this.stamp === 0xffffffff) {
      this.seen.fill(0);
      this.stamp = 1;
    }
    let c = this.first(key);
    while (c >= 0 && out.length < count) {
      if (ms[c]!.available()) out.push(ms[c]!.target);
      c = this.next();
    }
  }
}

/**
 * Rendezvous (highest random weight) hashing: every target scores the key and the highest score
 * wins. Shares are exactly proportional to weight (logarithmic method), any insertion order
 * gives the same mapping, and removing a target moves only the keys it owned. O(n) per pick,
 * which is the price of needing no table; prefer {@link Maglev} or {@link ConsistentHash} above
 * a few hundred targets. {@link Rendezvous.pickN} gives a key's replica set.
 *
 * @example
 * ```ts
 * import { Rendezvous } from 'loadwise';
 * const lb = new Rendezvous(['cache-1', 'cache-2', 'cache-3']);
 * lb.pick('user:42');        // the same cache for user:42 every time
 * lb.pickN('user:42', 2);    // primary and replica, in preference order
 * ```
 */
export class Rendezvous<T extends Target = Target> extends BaseBalancer<T> {
  private readonly loadFactor: number;

  constructor(targets: readonly T[], options?: RendezvousOptions) {
    super(targets, options, ['loadFactor']);
    this.loadFactor = loadFactorOption(options?.loadFactor);
  }

  /**
   * The key's `count` most preferred targets that can serve now (not down, below `maxActive`),
   * best first: for replication or hedged requests. Backups fill in only when primaries run
   * out. Allocates the result array.
   */
  pickN(key: string, count: number): T[] {
    const out: T[] = [];
    if (typeof key !== 'string') return out;
    for (const tier of this.tiers()) {
      if (out.length >= count) break;
      (tier.selector as RendezvousSelector<T>).ranked(key, count, out);
    }
    return out;
  }

  protected createSelector(): Selector<T> {
    return new RendezvousSelector<T>(this.loadFactor);
  }
}
