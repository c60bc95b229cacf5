import { BaseBalancer } from '../balancer.js';
import { CRC32_INIT, crc32Final, crc32Update, crc32UpdateByte, encodeUtf8, utf8Scratch } from '../core/hash/index.js';
import { SmoothWeightedSelector } from '../selectors/smooth-weighted.js';
import { NginxRehashSelector } from './nginx-rehash.js';
import { checkNginxWeight } from './weights.js';
import type { Member } from '../core/member.js';
import type { Selector } from '../core/selector.js';
import type { BalancerOptions, Target } from '../types.js';

/**
 * Options of {@link ModuloHash}: only the common ones (nginx's `hash` has no bounded loads).
 *
 * @example
 * ```ts
 * const options: ModuloHashOptions = { seed: 1 };
 * new ModuloHash(['a:80', 'b:80'], options);
 * ```
 */
export type ModuloHashOptions = BalancerOptions;

class ModuloSelector<T extends Target> extends NginxRehashSelector<T> {
  declare readonly tracksAvailability: boolean;
  private readonly rr = new SmoothWeightedSelector<T>();

  /** UTF-8 length of the current key, whose bytes stay in the shared scratch during the walk. */
  private keyLength = 0;
  /** nginx `hp->hash`: the sum of the 15-bit hashes so far. */
  private acc = 0;

  constructor() {
    super();
    this.tracksAvailability = true;
  }

  override rebuild(members: readonly Member<T>[]): void {
    super.rebuild(members);
    this.rr.rebuild(members);
  }

  override availabilityChanged(pos: number): void {
    super.availabilityChanged(pos);
    this.rr.availabilityChanged(pos);
  }

  override select(key: string | undefined, filtered: boolean, excluded: readonly Member<T>[], excludedCount: number): number {
    // nginx: `if (hp->tries > 20 || hp->rrp.peers->number < 2 || hp->key.len == 0)` -> round robin.
    // With one peer, round robin and the hash agree, so only the empty key goes there.
    if (key === '') return this.rr.select(key, filtered, excluded, excludedCount);
    return super.select(key, filtered, excluded, excludedCount);
  }

  protected first(key: string): number {
    this.keyLength = encodeUtf8(key);
    this.acc = 0;
    return this.restart();
  }

  /**
   * Round r of nginx `ngx_http_upstream_get_hash_peer`: `hash = crc32([r as decimal] key)`
   * (no prefix in round 0; nginx's `hp->rehash`), `hp->hash += (hash >> 16) & 0x7fff`,
   * `w = hp->hash % total_weight`.
   */
  protected round(r: number): number {
    let s = CRC32_INIT;
    if (r > 0) {
      if (r >= 10) s = crc32UpdateByte(s, 0x30 + Math.floor(r / 10));
      s = crc32UpdateByte(s, 0x30 + (r % 10));
    }
    s = crc32Update(s, utf8Scratch(), 0, this.keyLength);
    this.acc += (crc32Final(s) >>> 16) & 0x7fff;
    return this.acc % this.walk.total;
  }
}

/**
 * nginx `hash $key;` (without `consistent`), the scheme of Perl's Cache::Memcached: the key's
 * CRC32 picks a slot `((crc32(key) >> 16) & 0x7fff) % total_weight` and the targets own
 * consecutive slots in list order, each as many as its weight. Same key → same target, as long
 * as the target list and weights stay the same; any change of either remaps most keys (use
 * {@link ConsistentHash} when that matters).
 *
 * Reproduces nginx 1.22 exactly (checked against a real nginx: every key of the recorded
 * fixtures) when the targets are the `server` lines in config order with their weights:
 * - a target that cannot serve (down, excluded, at `maxActive`) makes nginx rehash: round r
 *   hashes the decimal r followed by the key (`crc32("1" key)`, `crc32("2" key)`, …) and adds
 *   the 15-bit result to the running sum, which picks the next slot; this class does the same;
 * - after 21 rounds nginx gives up and uses round robin; this class instead offers the remaining
 *   targets in list order after the last candidate, which keeps the choice deterministic per key;
 * - an empty key `""` uses nginx's smooth weighted round robin, pick for pick, as nginx does.
 *
 * Weights must be integers (1..10,000), as in nginx; down targets keep their slots. Cost per
 * pick: one CRC32 over the key and a binary search over the weights' prefix sums, O(log n), no
 * allocation.
 *
 * @example
 * ```ts
 * import { ModuloHash } from 'loadwise';
 * // upstream { hash $arg_user; server 10.0.0.1:80 weight=2; server 10.0.0.2:80; }
 * const lb = new ModuloHash([{ id: '10.0.0.1:80', weight: 2 }, '10.0.0.2:80']);
 * lb.pick('alice');   // the server nginx would choose for ?user=alice
 * lb.pick('');        // round robin, like nginx for an empty key
 * ```
 */
export class ModuloHash<T extends Target = Target> extends BaseBalancer<T> {
  constructor(targets: readonly T[], options?: ModuloHashOptions) {
    // Weights must be integers (1..10,000), as in nginx, in every mutation.
    super(targets, options, [], checkNginxWeight);
  }

  protected createSelector(): Selector<T> {
    return new ModuloSelector<T>();
  }
}
