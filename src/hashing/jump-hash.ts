import { BaseBalancer } from '../balancer.js';
import { InvalidWeightError } from '../core/errors.js';
import { encodeUtf8, utf8Scratch } from '../core/hash/utf8.js';
import { xxhash32 } from '../core/hash/xxhash32.js';
import { fmix32 } from '../core/hash/mix.js';
import { loadFactorOption, type HashBalancerOptions } from './options.js';
import { HashSelector } from './hash-selector.js';
import type { Member } from '../core/member.js';
import type { Selector } from '../core/selector.js';
import type { Target } from '../types.js';

// The LCG multiplier 2862933555777941757 = 0x27bb2ee6_87b0b0fd, as two 32-bit halves and the
// low half as two 16-bit limbs (for the exact high word of the 32 × 32-bit product).
const MUL_HI = 0x27bb2ee6;
const MUL_LO = 0x87b0b0fd;
const MUL_LO_0 = MUL_LO & 0xffff;
const MUL_LO_1 = MUL_LO >>> 16;
const TWO_POW_31 = 2147483648;

/**
 * Jump consistent hash (Lamping & Veach, "A Fast, Minimal Memory, Consistent Hash Algorithm",
 * 2014), bit-exact with the paper's reference
 * `int32_t JumpConsistentHash(uint64_t key, int32_t num_buckets)`, for the 64-bit key
 * `keyHi · 2^32 + keyLo`. No BigInt: the 64-bit LCG step runs on two 32-bit halves (the high
 * word of the low product from 16-bit limbs, exact in doubles), and the jump itself uses the
 * same double arithmetic as the C code, so results match on every runtime.
 *
 * Allocates nothing. O(ln buckets) steps.
 *
 * @param keyHi - high 32 bits of the key (taken modulo 2^32).
 * @param keyLo - low 32 bits of the key (taken modulo 2^32).
 * @param buckets - the number of buckets, 1 to 2^31 − 1.
 * @returns the bucket in [0, buckets); -1 when `buckets` < 1, like the reference.
 * @example
 * ```ts
 * import { jumpConsistentHash } from 'loadwise';
 * jumpConsistentHash(0, 1, 19);           // 17 (key 1, the reference's vectors)
 * jumpConsistentHash(0, 0xdeadbeef, 17);  // 16
 * jumpConsistentHash(0x0ddc0ffe, 0xebadf00d, 16); // 15
 * ```
 */
export function jumpConsistentHash(keyHi: number, keyLo: number, buckets: number): number {
  let hi = keyHi >>> 0;
  let lo = keyLo >>> 0;
  let b = -1;
  let j = 0;
  while (j < buckets) {
    b = j;
    // key = key × 2862933555777941757 + 1 (mod 2^64). lo × MUL_LO needs all 64 bits: its low
    // word comes from 16-bit limb products (each < 2^32, so every sum below is exact), its high
    // word likewise; the cross terms only reach the high word, where Math.imul's low 32 bits
    // are all that survive the modulus.
    const l0 = lo & 0xffff;
    const l1 = lo >>> 16;
    const p00 = l0 * MUL_LO_0;
    const p01 = l0 * MUL_LO_1;
    const p10 = l1 * MUL_LO_0;
    const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
    const carry = l1 * MUL_LO_1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16);
    let nlo = ((p00 & 0xffff) | (mid << 16)) >>> 0;
    let nhi = (carry + Math.imul(hi, MUL_LO) + Math.imul(lo, MUL_HI)) >>> 0;
    nlo = (nlo + 1) >>> 0;
    if (nlo === 0) nhi = (nhi + 1) >>> 0;
    hi = nhi;
    lo = nlo;
    // j = (b + 1) × (double(1 << 31) / double((key >> 33) + 1)), in the reference's order.
    j = Math.floor((b + 1) * (TWO_POW_31 / ((hi >>> 1) + 1)));
  }
  return b;
}

/**
 * The largest weight {@link JumpHash} accepts: each unit of weight is one bucket, so a target
 * of weight w takes w buckets (and w times the keys of a weight-1 target).
 *
 * @example
 * ```ts
 * import { JUMP_HASH_MAX_WEIGHT } from 'loadwise';
 * JUMP_HASH_MAX_WEIGHT; // 1000
 * ```
 */
export const JUMP_HASH_MAX_WEIGHT = 1000;

/** Fallback candidates tried by rehashing the key before the ordered sweep. */
const REHASH_TRIES = 8;
const GOLDEN = 0x9e3779b9 | 0;

/**
 * Options of {@link JumpHash}: the common options and `loadFactor` (bounded loads).
 *
 * @example
 * ```ts
 * import { JumpHash, type JumpHashOptions } from 'loadwise';
 * const options: JumpHashOptions = { loadFactor: 1.5 };
 * const lb = new JumpHash(['shard-0', 'shard-1'], options);
 * ```
 */
export type JumpHashOptions = HashBalancerOptions;

const EXPECTED_WEIGHT = `an integer from 1 to ${JUMP_HASH_MAX_WEIGHT} (JumpHash gives each unit of weight one bucket)`;

/** Rejects a weight that is valid in general (finite, > 0) but not a whole number of buckets. */
function checkBucketWeight(id: string, weight: number): void {
  if (!Number.isInteger(weight) || weight > JUMP_HASH_MAX_WEIGHT) throw new InvalidWeightError(id, weight, EXPECTED_WEIGHT);
}

class JumpSelector<T extends Target> extends HashSelector<T> {
  // ---- MementoHash state: survives rebuilds, keyed by member id ----
  /** Size of the jump range (the b-array): working buckets plus remembered removed ones. */
  private bArraySize = 0;
  /** The most recently removed bucket; `bArraySize` when none is remembered. */
  private lastRemoved = 0;
  private removedCount = 0;
  /** For a removed bucket: the working-set size right after its removal; -1 for a working one. */
  private replacer = new Int32Array(0);
  /** For a removed bucket: the bucket removed before it (the restore stack). */
  private prevRemoved = new Int32Array(0);
  /** Each member's buckets, in the order it got them (removals take the last). */
  private readonly bucketsOf = new Map<string, number[]>();
  /** Member ids at the previous build, in list order. */
  private order: string[] = [];

  // ---- derived at each build ----
  /** Bucket → member position; -1 for removed buckets. */
  private owner = new Int32Array(0);

  // ---- state of the current walk ----
  private hi = 0;
  private lo = 0;
  private tries = 0;
  private swept = 0;
  private offered = 0;

  /**
   * Applies a membership change as MementoHash bucket operations, so that bucket identity stays
   * with the member: removed members (in their previous list order), then weight decreases,
   * then additions and weight increases (in the new list order). A removal of the last bucket
   * shrinks the jump range, as plain jump hash does; any other removal is remembered with its
   * replacer; an addition restores the most recently removed bucket, or appends one.
   */
  protected build(members: readonly Member<T>[]): void {
    const present = new Set<string>();
    for (const m of members) present.add(m.id);
    for (const id of this.order) {
      if (present.has(id)) continue;
      const bs = this.bucketsOf.get(id)!;
      while (bs.length > 0) this.removeBucket(bs.pop()!);
      this.bucketsOf.delete(id);
    }
    for (const m of members) {
      const bs = this.bucketsOf.get(m.id);
      if (bs === undefined) continue;
      const want = bucketCount(m.weight);
      while (bs.length > want) this.removeBucket(bs.pop()!);
    }
    for (const m of members) {
      let bs = this.bucketsOf.get(m.id);
      if (bs === undefined) {
        bs = [];
        this.bucketsOf.set(m.id, bs);
      }
      const want = bucketCount(m.weight);
      while (bs.length < want) bs.push(this.addBucket());
    }
    const order: string[] = new Array<string>(members.length);
    const owner = new Int32Array(this.bArraySize).fill(-1);
    for (let i = 0; i < members.length; i++) {
      const id = members[i]!.id;
      order[i] = id;
      for (const b of this.bucketsOf.get(id)!) owner[b] = i;
    }
    this.order = order;
    this.owner = owner;
  }

  private addBucket(): number {
    const b = this.lastRemoved;
    if (b === this.bArraySize) {
      if (b >= this.replacer.length) this.grow(b + 1);
      this.replacer[b] = -1;
      this.bArraySize = b + 1;
      this.lastRemoved = b + 1;
      return b;
    }
    this.lastRemoved = this.prevRemoved[b]!;
    this.replacer[b] = -1;
    this.removedCount--;
    return b;
  }

  private removeBucket(b: number): void {
    if (this.lastRemoved === this.bArraySize && b === this.bArraySize - 1) {
      this.bArraySize = b;
      this.lastRemoved = b;
      return;
    }
    this.replacer[b] = this.bArraySize - this.removedCount - 1;
    this.prevRemoved[b] = this.lastRemoved;
    this.lastRemoved = b;
    this.removedCount++;
  }

  private grow(min: number): void {
    let size = Math.max(16, this.replacer.length * 2);
    while (size < min) size *= 2;
    const r = new Int32Array(size).fill(-1);
    r.set(this.replacer);
    const p = new Int32Array(size);
    p.set(this.prevRemoved);
    this.replacer = r;
    this.prevRemoved = p;
  }

  /**
   * MementoHash lookup: jump over the b-array, and while the bucket is a removed one, rehash
   * the key into [0, replacer) (the working-set size when it was removed), following the
   * replacement chain of buckets removed earlier. A removal therefore moves only the removed
   * bucket's keys, and they spread evenly over the working buckets.
   */
  private bucket(hi: number, lo: number): number {
    const replacer = this.replacer;
    let b = jumpConsistentHash(hi, lo, this.bArraySize);
    let r = replacer[b]!;
    if (r < 0) return b;
    const k = fmix32(hi ^ Math.imul(lo, GOLDEN));
    while (r >= 0) {
      const h = fmix32(k ^ Math.imul(b + 1, 0x85ebca6b));
      // h mod r in int32 arithmetic (a double remainder is a libm call): r < 2^31.
      b = ((((h >>> 1) % r) * 2) + (h & 1)) % r;
      let t = replacer[b]!;
      while (t >= r) {
        b = t;
        t = replacer[b]!;
      }
      r = t;
    }
    return b;
  }

  protected first(key: string): number {
    const length = encodeUtf8(key);
    const bytes = utf8Scratch();
    const hi = xxhash32(bytes, 0, length, 0);
    const lo = xxhash32(bytes, 0, length, 1);
    this.hi = hi | 0; // int32 fields stay unboxed; every use reads them modulo 2^32
    this.lo = lo | 0;
    this.tries = 0;
    this.swept = 0;
    this.offered = 1;
    const c = this.owner[this.bucket(hi, lo)]!;
    this.offer(c);
    return c;
  }

  /**
   * The key's next distinct candidate when the earlier ones are ineligible: the members of up
   * to {@link REHASH_TRIES} rehashed keys (spread like the keys themselves, by weight), then
   * every remaining member in list order from a key-derived start. Deterministic per key.
   */
  protected next(): number {
    const n = this.members.length;
    if (this.offered >= n) return -1;
    while (this.tries < REHASH_TRIES) {
      this.tries++;
      const salt = Math.imul(this.tries, GOLDEN);
      const c = this.owner[this.bucket(fmix32(this.hi + salt), fmix32(this.lo ^ salt))]!;
      if (this.offer(c)) {
        this.offered++;
        return c;
      }
    }
    const start = (this.hi >>> 0) % n;
    while (this.swept < n) {
      let c = start + this.swept++;
      if (c >= n) c -= n;
      if (this.offer(c)) {
        this.offered++;
        return c;
      }
    }
    return -1;
  }
}

/** Buckets for a weight; the balancer only admits integers 1..JUMP_HASH_MAX_WEIGHT. */
function bucketCount(weight: number): number {
  return Math.min(JUMP_HASH_MAX_WEIGHT, Math.max(1, Math.round(weight)));
}

/**
 * Jump consistent hash (Lamping & Veach 2014) with MementoHash removals (Coluzzi et al., 2023):
 * no table at all, O(ln n) per pick, and optimal disruption.
 *
 * - Buckets follow the target order, as jump hash requires: for a fresh balancer with weight-1
 *   targets, key k goes to `targets[jumpConsistentHash(xxh32(k, 0), xxh32(k, 1), n)]`, where
 *   the 64-bit jump key is xxHash32 of the key's UTF-8 bytes with seed 0 (high word) and
 *   seed 1 (low word).
 * - Weights must be integers from 1 to `JUMP_HASH_MAX_WEIGHT`: a target of weight w owns
 *   w buckets (consecutive ones in a fresh balancer) and w times the keys. Anything else throws
 *   an {@link InvalidWeightError} naming the target.
 * - Adding a target appends a bucket (or restores the most recently removed one, as
 *   MementoHash does), moving ≈ 1/(n+1) of keys, all to the new target. Removing any target,
 *   first, middle or last, moves only its own keys (MementoHash's replacement set; removing
 *   the last bucket simply shrinks the range). Weight changes add or remove that target's
 *   buckets the same way.
 * - The mapping therefore depends on the history of membership changes, not only on the
 *   current list: each `add`/`remove`/`setTargets`/`setWeight` is applied as it happens, so
 *   the same sequence of calls gives the same mapping in any process; reordering ids with
 *   `setTargets` keeps every id's buckets.
 * - A down, excluded or full target's keys go to the targets of rehashed keys, then to the
 *   others in list order: deterministic per key.
 * - `loadFactor` adds bounded loads, as for the other hash balancers
 *   (see {@link HashBalancerOptions.loadFactor}).
 *
 * @example
 * ```ts
 * import { JumpHash, type Target } from 'loadwise';
 * const lb = new JumpHash<Target>(['shard-0', 'shard-1', 'shard-2', { id: 'shard-3', weight: 2 }]);
 * lb.pick('user:42');      // the same shard every time
 * lb.remove('shard-1');    // only shard-1's keys move
 * lb.add('shard-4');       // restores shard-1's bucket: exactly shard-1's old keys go to shard-4
 * ```
 */
export class JumpHash<T extends Target = Target> extends BaseBalancer<T> {
  private readonly loadFactor: number;

  constructor(targets: readonly T[], options?: JumpHashOptions) {
    super(targets, options, ['loadFactor'], checkBucketWeight);
    this.loadFactor = loadFactorOption(options?.loadFactor);
    this.tiers(); // assign the initial buckets now: later changes are applied on top, in order
  }

  override add(target: T): void {
    super.add(target);
    this.tiers(); // apply the bucket change now, so the mapping follows the call sequence
  }

  override remove(id: string): boolean {
    const removed = super.remove(id);
    if (removed) this.tiers();
    return removed;
  }

  override setTargets(targets: readonly T[]): void {
    super.setTargets(targets);
    this.tiers();
  }

  override setWeight(id: string, weight: number): void {
    super.setWeight(id, weight);
    this.tiers();
  }

  protected createSelector(): Selector<T> {
    return new JumpSelector<T>(this.loadFactor);
  }
}
