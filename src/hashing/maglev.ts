import { BaseBalancer } from '../balancer.js';
import { InvalidOptionError } from '../core/errors.js';
import { parseTarget } from '../core/member.js';
import { encodeUtf8, utf8Scratch } from '../core/hash/utf8.js';
import { xxhash32, xxhash32String } from '../core/hash/xxhash32.js';
import { fmix32 } from '../core/hash/mix.js';
import { loadFactorOption, type HashBalancerOptions } from './options.js';
import { HashSelector } from './hash-selector.js';
import type { Member } from '../core/member.js';
import type { Selector } from '../core/selector.js';
import type { Target } from '../types.js';

/**
 * The default Maglev lookup-table size: the prime 65,537 that the Maglev paper (§5.3) and
 * Envoy use. Good for up to ~650 targets at ≤ 1 % imbalance; raise it for bigger pools.
 *
 * @example
 * ```ts
 * import { MAGLEV_DEFAULT_TABLE_SIZE } from 'loadwise';
 * MAGLEV_DEFAULT_TABLE_SIZE; // 65537
 * ```
 */
export const MAGLEV_DEFAULT_TABLE_SIZE = 65537;

/**
 * The largest accepted `tableSize`: the largest prime below 2^24 (a 64 MiB table). Far beyond
 * what any pool needs; it only stops a typo from allocating gigabytes.
 *
 * @example
 * ```ts
 * import { MAGLEV_MAX_TABLE_SIZE } from 'loadwise';
 * MAGLEV_MAX_TABLE_SIZE; // 16777213
 * ```
 */
export const MAGLEV_MAX_TABLE_SIZE = 16777213;

// Seeds of the two independent hashes of a target id (the paper's h1 → offset, h2 → skip).
// Key hashes use seed 0, so neither coincides with the key's slot.
const OFFSET_SEED = 0x2545f491;
const SKIP_SEED = 0x6c8e9cf5;
/** Rehashes of a target's skip when another target walks the same cycle close by. */
const SKIP_RETRIES = 16;
/** Rehashes of the key tried before walking the table, when the key's target is ineligible. */
const REHASH_TRIES = 8;
const GOLDEN = 0x9e3779b9 | 0;

/**
 * Options of {@link Maglev}.
 *
 * @example
 * ```ts
 * import { Maglev, type MaglevOptions } from 'loadwise';
 * const options: MaglevOptions = { tableSize: 655_373, loadFactor: 1.25 };
 * const lb = new Maglev(hosts, options);
 * ```
 */
export interface MaglevOptions extends HashBalancerOptions {
  /**
   * Lookup-table size M: a prime, at least the number of targets, at most
   * `MAGLEV_MAX_TABLE_SIZE`; default `MAGLEV_DEFAULT_TABLE_SIZE`. Each target owns
   * about M × weight / total weight entries, so shares are exact to about ± n / M; the paper
   * recommends M ≥ 100 × n (≤ 1 % imbalance). Memory is 4 bytes per entry, and a build takes
   * O(M log M).
   */
  readonly tableSize?: number | undefined;
}

/** Validates `tableSize`: a prime in [2, MAGLEV_MAX_TABLE_SIZE]. */
function tableSizeOption(value: unknown): number {
  if (value === undefined) return MAGLEV_DEFAULT_TABLE_SIZE;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 2 || value > MAGLEV_MAX_TABLE_SIZE || !isPrime(value)) {
    throw new InvalidOptionError('tableSize', value, `a prime from 2 to ${MAGLEV_MAX_TABLE_SIZE}, e.g. 65537 or 655373`);
  }
  return value;
}

function isPrime(n: number): boolean {
  if (n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}

function capacityError(tableSize: number, targets: number): InvalidOptionError {
  return new InvalidOptionError(
    'tableSize',
    tableSize,
    `a prime >= the number of targets (${targets}); for <= 1 % imbalance use a prime >= 100 × targets`,
  );
}

/**
 * `h mod m` for an unsigned 32-bit `h` and 0 < m < 2^30, in int32 arithmetic: `h % m` on a
 * value ≥ 2^31 is a floating-point remainder (a libm call in V8), several times slower.
 */
function mod(h: number, m: number): number {
  return ((((h >>> 1) % m) << 1) + (h & 1)) % m;
}

/**
 * Steps between offsets `a` and `b` along the cycle a, a + s, a + 2s, … (mod the prime M),
 * whichever direction is shorter: `d = (b - a) · s⁻¹ mod M`, with s⁻¹ = s^(M-2) (Fermat).
 * Products stay below 2^48, exact in doubles. Build time only, and only on a skip collision.
 */
function cycleDistance(a: number, b: number, s: number, M: number): number {
  let inverse = 1;
  let base = s % M;
  for (let e = M - 2; e > 0; e = Math.floor(e / 2)) {
    if (e % 2 === 1) inverse = (inverse * base) % M;
    base = (base * base) % M;
  }
  const d = ((((b - a) % M) + M) % M * inverse) % M;
  return Math.min(d, M - d);
}

/** Orders ids by UTF-16 code units: the same order on every runtime, whatever the locale. */
function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Fills a Maglev lookup table of size `M` (Eisenbud et al. 2016, listing 1, weighted as in
 * Envoy's `MaglevTable`). Target k (in the caller's order, which is the turn order) walks the
 * permutation `offset[k] + j·skip[k] mod M` and claims its next free entry on each of its turns.
 * In round r (from 1) target k takes a turn while r × weight[k] ≥ claimed[k] × max weight, so
 * the heaviest targets take one every round and a target of a third of that weight every
 * third round. Every target takes a turn in round 1, so with n ≤ M each owns an entry.
 *
 * Two schedules give the identical table: a plain round loop, O(n) per round, for weights of
 * similar size; and a min-heap of (next due round, k), O(log n) per entry, which `auto` picks
 * when a few heavy targets would make most rounds skip most targets (a 1,000× weight among
 * 1,000 targets: ~160 ms as rounds, ~5 ms as a heap).
 *
 * @internal
 * @param M - table size, a prime.
 * @param offset - each target's first entry, in [0, M).
 * @param skip - each target's step, in [1, M).
 * @param weight - each target's weight, > 0.
 * @param owner - the value stored for each target's entries.
 * @param schedule - `auto` (default), or force `rounds` / `heap` (tests compare them).
 * @returns the table: the owner value of every entry (-1 only when there are no targets).
 * @example
 * ```ts
 * const table = maglevPopulate(7, Int32Array.of(3, 0), Int32Array.of(2, 5), Float64Array.of(1, 1), [0, 1]);
 * ```
 */
export function maglevPopulate(
  M: number,
  offset: Int32Array,
  skip: Int32Array,
  weight: Float64Array,
  owner: ArrayLike<number>,
  schedule: 'auto' | 'rounds' | 'heap' = 'auto',
): Int32Array {
  const n = offset.length;
  const table = new Int32Array(M).fill(-1);
  if (n === 0) return table;
  let maxWeight = 0;
  let total = 0;
  for (let k = 0; k < n; k++) {
    const w = weight[k]!;
    total += w;
    if (w > maxWeight) maxWeight = w;
  }
  const next = Int32Array.from(offset);
  const claimed = new Float64Array(n);
  // Rounds cost ≈ M × maxWeight / mean weight target visits; the heap ≈ M × log2(n) steps.
  const heap = schedule === 'heap' || (schedule === 'auto' && (maxWeight * n) / total > 8 + 2 * Math.log2(n));
  if (!heap) {
    // The heaviest target takes a turn every round (it has claimed round − 1 entries, and
    // round × w ≥ (round − 1) × w in floating point too, rounding being monotonic), so each
    // round fills at least one entry and M rounds fill the table. The bound on `round` makes
    // termination independent of that argument; `fillRest` is then never needed.
    let filled = 0;
    for (let round = 1; filled < M && round <= M; round++) {
      for (let k = 0; k < n && filled < M; k++) {
        if (round * weight[k]! < claimed[k]! * maxWeight) continue;
        claimed[k] = claimed[k]! + 1;
        claim(table, M, next, skip, k, owner[k]!);
        filled++;
      }
    }
    fillRest(table, M, next, skip, owner, filled);
    return table;
  }
  // Keys round·n + k, popped in (round, k) order: exactly the round loop's turn order. Rounds
  // never exceed M (each fills an entry), so a due round is capped at M + 1 and every key stays
  // below (M + 2)·n < 2^53, an exact double.
  const keys = new Float64Array(n);
  for (let k = 0; k < n; k++) keys[k] = n + k; // round 1, ascending: already a heap
  for (let filled = 0; filled < M; filled++) {
    const top = keys[0]!;
    const k = top % n;
    const round = (top - k) / n;
    const c = claimed[k]! + 1;
    claimed[k] = c;
    claim(table, M, next, skip, k, owner[k]!);
    // The next round r > round with r × weight ≥ c × maxWeight, by the same comparison the
    // round loop makes (the division only gives the starting guess).
    const need = c * maxWeight;
    const w = weight[k]!;
    // The guess is clamped into [round + 1, M + 1] first (a NaN or infinite quotient included),
    // so each correcting loop moves r monotonically within that range: both terminate.
    let r = Math.ceil(need / w);
    if (!(r > round)) r = round + 1;
    if (r > M + 1) r = M + 1;
    while (r <= M && r * w < need) r++;
    while (r - 1 > round && (r - 1) * w >= need) r--;
    siftDown(keys, r * n + k);
  }
  return table;
}

/**
 * Gives any entry still free after `filled` claims to the targets in turn. Unreachable with
 * finite weights (see the round loop); it only makes a complete table a structural guarantee.
 */
function fillRest(table: Int32Array, M: number, next: Int32Array, skip: Int32Array, owner: ArrayLike<number>, filled: number): void {
  for (let k = 0; filled < M; k = k + 1 === next.length ? 0 : k + 1, filled++) claim(table, M, next, skip, k, owner[k]!);
}

/**
 * Target k claims the next free entry of its permutation. With M prime and a skip in [1, M),
 * the permutation visits every entry, so the walk ends within M steps while one is free.
 */
function claim(table: Int32Array, M: number, next: Int32Array, skip: Int32Array, k: number, owner: number): void {
  const s = skip[k]!;
  let c = next[k]!;
  // Conditional subtraction instead of `% M`: c < M and s ≤ M - 1, so c + s < 2M.
  while (table[c] !== -1) {
    c += s;
    if (c >= M) c -= M;
  }
  table[c] = owner;
  c += s;
  if (c >= M) c -= M;
  next[k] = c;
}

/** Replaces the minimum of the binary min-heap `heap` by `key` and restores the heap order. */
function siftDown(heap: Float64Array, key: number): void {
  const size = heap.length;
  let i = 0;
  for (;;) {
    let c = 2 * i + 1;
    if (c >= size) break;
    if (c + 1 < size && heap[c + 1]! < heap[c]!) c++;
    if (heap[c]! >= key) break;
    heap[i] = heap[c]!;
    i = c;
  }
  heap[i] = key;
}

class MaglevSelector<T extends Target> extends HashSelector<T> {
  private readonly size: number;
  /** Entry → member position; every entry is filled once there is a member. @internal */
  table: Int32Array = new Int32Array(0);
  /** Member positions sorted by id: the build order and the last-resort sweep order. @internal */
  sorted = new Int32Array(0);
  /** Each target's permutation step, in {@link MaglevSelector.sorted} order. @internal */
  skips = new Int32Array(0);
  private walkLimit = 0;

  // State of the current walk (one pick); fields rather than a closure, so picks allocate nothing.
  private hash = 0;
  private slot = 0;
  private tries = 0;
  private walked = 0;
  private swept = 0;
  private offered = 0;

  constructor(loadFactor: number, size: number) {
    super(loadFactor);
    this.size = size;
  }

  /**
   * Populates the table (see {@link maglevPopulate}) with the targets taking turns in id order,
   * which makes the table independent of the order the targets were given in. Each target's
   * permutation is offset + j·skip mod M (M prime, so it visits every entry), from two
   * independent xxHash32s of its id.
   */
  protected build(members: readonly Member<T>[]): void {
    const n = members.length;
    const M = this.size;
    this.walkLimit = Math.min(M - 1, 16 * n + 64);
    if (n === 0) {
      this.table = new Int32Array(0);
      this.sorted = new Int32Array(0);
      this.skips = new Int32Array(0);
      return;
    }
    const order: number[] = new Array<number>(n);
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((a, b) => compareIds(members[a]!.id, members[b]!.id));
    this.sorted = Int32Array.from(order);

    const offset = new Int32Array(n);
    const skip = new Int32Array(n);
    const weight = new Float64Array(n);
    // Two targets with the same skip walk the same cycle of entries; when their offsets are
    // close on it (within ~4·M/n steps, about how far a permutation gets during the fill) they
    // keep colliding, and every later membership change moves ~1.6-2.1× the optimal share of
    // keys instead of ~1.3× (measured at n = 60). So the later target in id order rehashes its
    // skip when it starts within M/8 steps of an earlier one with the same skip (a fixed
    // window: one that shrank with n would flip pairs on unrelated membership changes).
    // Opposite skips, s and M - s, measured harmless. Rehashing is kept rare on purpose (about
    // n/(8M) per added target) since it replaces that target's whole permutation.
    const firstWithSkip = new Map<number, number>();
    const window = Math.ceil(M / 8);
    for (let k = 0; k < n; k++) {
      const m = members[order[k]!]!;
      const length = encodeUtf8(m.id);
      const bytes = utf8Scratch();
      const o = xxhash32(bytes, 0, length, OFFSET_SEED) % M;
      offset[k] = o;
      let s = (xxhash32(bytes, 0, length, SKIP_SEED) % (M - 1)) + 1;
      for (let retry = 1; retry <= SKIP_RETRIES; retry++) {
        const j = firstWithSkip.get(s);
        if (j === undefined || cycleDistance(offset[j]!, o, s, M) >= window) break;
        s = (xxhash32(bytes, 0, length, SKIP_SEED + retry) % (M - 1)) + 1;
      }
      if (!firstWithSkip.has(s)) firstWithSkip.set(s, k);
      skip[k] = s;
      weight[k] = m.weight;
    }
    const table = maglevPopulate(M, offset, skip, weight, this.sorted);
    this.table = table;
    this.skips = skip;
  }

  /** O(1): the owner of entry hash(key) mod M. */
  protected first(key: string): number {
    const h = xxhash32String(key);
    const slot = mod(h, this.size);
    const c = this.table[slot]!;
    this.hash = h | 0; // int32 fields stay unboxed; only the low 32 bits are ever used
    this.slot = slot;
    this.tries = 0;
    this.walked = 0;
    this.swept = 0;
    this.offered = 1;
    this.offer(c);
    return c;
  }

  /**
   * The key's next distinct candidate, only asked for when the earlier ones are ineligible:
   * first the owners of up to {@link REHASH_TRIES} rehashed entries (so a down target's keys
   * spread over the others in proportion to their weights), then the owners of the entries
   * after the key's own, then, as a last resort, every remaining member in id order. All of it
   * depends only on the key and the table, so fallbacks are deterministic; no table is rebuilt.
   */
  protected next(): number {
    const n = this.members.length;
    if (this.offered >= n) return -1;
    const table = this.table;
    const M = this.size;
    while (this.tries < REHASH_TRIES) {
      this.tries++;
      const c = table[mod(fmix32((this.hash + Math.imul(this.tries, GOLDEN)) | 0), M)]!;
      if (this.offer(c)) {
        this.offered++;
        return c;
      }
    }
    while (this.walked < this.walkLimit) {
      this.walked++;
      let s = this.slot + this.walked;
      if (s >= M) s -= M;
      const c = table[s]!;
      if (this.offer(c)) {
        this.offered++;
        return c;
      }
    }
    const sorted = this.sorted;
    while (this.swept < n) {
      const c = sorted[this.swept++]!;
      if (this.offer(c)) {
        this.offered++;
        return c;
      }
    }
    return -1;
  }
}

/**
 * Maglev consistent hashing (Eisenbud et al., "Maglev: A Fast and Reliable Software Network
 * Load Balancer", NSDI 2016), weighted as in Envoy: a prime-sized lookup table (default 65,537
 * entries) in which every target owns a share of entries proportional to its weight; a key goes
 * to the owner of entry xxHash32(key) mod M, one hash and one array read per pick.
 *
 * - Balance: at 100 equal targets and the default size, every target owns 655 or 656 entries
 *   (max/mean ≤ 1.001).
 * - Disruption: removing one of 100 targets re-homes about 1.6 % of keys (1 % is the minimum:
 *   the removed target's own). Maglev trades some churn for its near-perfect balance; the
 *   excess shrinks as the table grows (≈ 1.4 % at 131,071 entries, ≈ 1.15 % at 655,373).
 *   Rarely (≈ n / (8M) per change) a change also re-seeds one other target's permutation
 *   (two targets with the same step close together on one cycle, see the build), and moves
 *   2–4× as much.
 * - Any insertion order gives the same table (targets are placed in id order).
 * - A down, excluded or full target's keys go to the owners of rehashed entries, then of the
 *   following entries: deterministic per key, and no table rebuild per pick.
 * - Membership and weight changes rebuild the table lazily before the next pick, in
 *   O(M log M): a few milliseconds at the default size, even for 1,000 targets.
 * - `loadFactor` adds bounded loads (see {@link HashBalancerOptions.loadFactor}).
 *
 * `tableSize` must be a prime at least the number of targets; `add`/`setTargets` beyond that
 * throw an {@link InvalidOptionError} naming `tableSize`.
 *
 * @example
 * ```ts
 * import { Maglev } from 'loadwise';
 * const lb = new Maglev([{ id: '10.0.0.1:80', weight: 2 }, '10.0.0.2:80', '10.0.0.3:80']);
 * lb.pick('session-8f2c');          // same target for this session every time
 * lb.markDown('10.0.0.1:80');       // only that target's keys move
 * const big = new Maglev(hosts, { tableSize: 655_373, loadFactor: 1.25 });
 * ```
 */
export class Maglev<T extends Target = Target> extends BaseBalancer<T> {
  private readonly loadFactor: number;
  /** The lookup-table size M. */
  readonly tableSize: number;

  constructor(targets: readonly T[], options?: MaglevOptions) {
    super(targets, options, ['loadFactor', 'tableSize']);
    this.loadFactor = loadFactorOption(options?.loadFactor);
    this.tableSize = tableSizeOption(options?.tableSize);
    if (this.size > this.tableSize) throw capacityError(this.tableSize, this.size);
  }

  override add(target: T): void {
    if (this.size >= this.tableSize) {
      parseTarget(target); // a malformed target reports that first
      throw capacityError(this.tableSize, this.size + 1);
    }
    super.add(target);
  }

  override setTargets(targets: readonly T[]): void {
    if (Array.isArray(targets) && targets.length > this.tableSize) {
      for (const t of targets) parseTarget(t);
      throw capacityError(this.tableSize, targets.length);
    }
    super.setTargets(targets);
  }

  protected createSelector(): Selector<T> {
    return new MaglevSelector<T>(this.loadFactor, this.tableSize);
  }
}
