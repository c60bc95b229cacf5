import { BaseBalancer } from '../balancer.js';
import { xxhash32String } from '../core/hash/xxhash32.js';
import { mix32 } from '../core/hash/mix.js';
import { loadFactorOption, type HashBalancerOptions } from './options.js';
import { HashSelector } from './hash-selector.js';
import type { Member } from '../core/member.js';
import type { Selector } from '../core/selector.js';
import type { PickRequest, Target } from '../types.js';

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

  /**
   * Appends available members to `out` until it holds `count`: first those with room under the
   * bound, in descending score order, then (with `loadFactor`, when those run out) the full ones
   * in the same order; so the first is what `select` returns for the key.
   */
  ranked(key: string, count: number, out: T[]): void {
    const ms = this.members;
    if (ms.length === 0) return;
    if (++this.stamp === 0xffffffff) {
      this.seen.fill(0);
      this.stamp = 1;
    }
    let full: number[] | undefined;
    let c = this.first(key);
    while (c >= 0 && out.length < count) {
      const m = ms[c]!;
      if (m.available()) {
        if (this.roomFor(m)) out.push(m.target);
        else (full ??= []).push(c);
      }
      c = this.next();
    }
    if (full !== undefined) for (let i = 0; i < full.length && out.length < count; i++) out.push(ms[full[i]!]!.target);
  }
}

/** `rank`'s filler for Rendezvous tiers: a module function, so `pickN` creates no closure. */
function rankInto<T extends Target>(selector: Selector<T>, key: string | undefined, count: number, out: T[]): void {
  (selector as RendezvousSelector<T>).ranked(key!, count, out);
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
   * The key's `count` most preferred targets that can serve now (not down, below `maxActive`,
   * not excluded), best first: for replication or hedged requests. Backups fill in only when
   * primaries run out. With `loadFactor`, targets with room under the bound come first and full
   * ones after them, so `pickN(key, 1)[0]` is always what `pick(key)` (and `acquire(key)`)
   * would return. Takes a key or `{ key, exclude }` and validates it as `pick` does; `count`
   * is an integer ≥ 0. Opens no lease, counts no pick, and allocates the result array.
   *
   * @throws InvalidOptionError (`ERR_INVALID_OPTION`) for a missing or non-string key, a
   *   malformed request, or a `count` that is not an integer ≥ 0; nothing changes then.
   * @example
   * ```ts
   * lb.pickN('user:42', 2);                                // primary and replica
   * lb.pickN({ key: 'user:42', exclude: ['cache-1'] }, 2); // the next two after a failed try
   * ```
   */
  pickN(input: string | PickRequest, count: number): T[] {
    return this.rank(input, count, rankInto);
  }

  protected createSelector(): Selector<T> {
    return new RendezvousSelector<T>(this.loadFactor);
  }
}
