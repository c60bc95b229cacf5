import { BaseBalancer } from '../balancer.js';
import { InvalidOptionError } from '../core/errors.js';
import { CRC32_INIT, crc32Final, crc32String, crc32Update, crc32UpdateByte, crc32UpdateUint32LE } from '../core/hash/crc32.js';
import { md5, md5String } from '../core/hash/md5.js';
import { fmix32 } from '../core/hash/mix.js';
import { encodeUtf8, utf8Scratch } from '../core/hash/utf8.js';
import { xxhash32String } from '../core/hash/xxhash32.js';
import { lowerBoundIn } from '../core/lower-bound.js';
import { intOption } from '../core/options.js';
import { SmoothWeightedSelector } from '../selectors/smooth-weighted.js';
import { HashSelector } from './hash-selector.js';
import { loadFactorOption, type HashBalancerOptions } from './options.js';
import { checkNginxWeight } from './weights.js';
import type { Member } from '../core/member.js';
import type { Selector } from '../core/selector.js';
import type { Target } from '../types.js';

/**
 * Which existing implementation a {@link ConsistentHash} ring reproduces, key for key:
 *
 * - `'nginx'`: nginx `hash $key consistent` (CRC32, 160 points per unit of weight).
 * - `'ketama'`: libketama (MD5, 4 points per digest, `floorf(pct × 40 × n)` digests per server
 *   with libketama's float32 rounding), as used by memcached clients.
 * - `'hashring'`: npm `hashring` 3.x, which is libketama except that it computes the digest
 *   count in double precision, so it differs from libketama at some server counts (7, 14, 28,
 *   49, 56, 61, … equal-weight servers).
 *
 * @example
 * ```ts
 * const compat: ConsistentHashCompat = 'ketama';
 * new ConsistentHash(['10.0.0.1:11211', '10.0.0.2:11211'], { compat });
 * ```
 */
export type ConsistentHashCompat = 'nginx' | 'ketama' | 'hashring';

/**
 * Options of {@link ConsistentHash}.
 *
 * @example
 * ```ts
 * const options: ConsistentHashOptions = { pointsPerWeight: 400, loadFactor: 1.25 };
 * new ConsistentHash(['a', 'b', 'c'], options);
 * ```
 */
export interface ConsistentHashOptions extends HashBalancerOptions {
  /** Reproduce another implementation's ring exactly; omit for the fast default ring. */
  readonly compat?: ConsistentHashCompat | undefined;
  /**
   * Default mode only: ring points per unit of weight, an integer from 1 to 1,048,576; default
   * `DEFAULT_POINTS_PER_WEIGHT`. More points balance better (a target's share deviates
   * from its weight's by about 1/√points) and cost 8 bytes each. Lowered for every target alike
   * when the ring would exceed `MAX_RING_POINTS`.
   */
  readonly pointsPerWeight?: number | undefined;
}

/**
 * Default ring points per unit of weight. A target's share of the ring is the sum of the arcs
 * in front of its points, close to a Gamma(V) variable: relative spread 1/√V. For the largest
 * of 100 equal targets to stay within 1.10 × the mean, about 3.7 standard deviations must fit
 * in 10 %, so V ≥ (3.7 / 0.10)² ≈ 1,370, plus a little for the Gamma's right skew. Measured
 * (exact ring shares) over 300 sets of 100 ids: max/mean median 1.063, 99th percentile 1.095,
 * worst 1.099 at V = 1,600; at V = 1,000 the median is 1.078 but 26 of the 300 sets exceed 1.10.
 *
 * @example
 * ```ts
 * new ConsistentHash(targets, { pointsPerWeight: DEFAULT_POINTS_PER_WEIGHT / 4 }); // smaller ring, looser balance
 * ```
 */
export const DEFAULT_POINTS_PER_WEIGHT = 1600;

/**
 * The default mode's ring never holds more points than this (32 MiB of tables): past it, points
 * per weight shrink for every target alike, which first happens at about 2,600 unit-weight
 * targets with the default 1,600 points per weight.
 *
 * @example
 * ```ts
 * // 10,000 unit-weight targets get MAX_RING_POINTS / 10,000 ≈ 419 points each, not 1,600
 * const perTarget = Math.min(DEFAULT_POINTS_PER_WEIGHT, MAX_RING_POINTS / 10_000);
 * ```
 */
export const MAX_RING_POINTS = 1 << 22;

const MODE_DEFAULT = 0;
const MODE_NGINX = 1;
const MODE_KETAMA = 2;
const MODE_HASHRING = 3;

/** Seed for target-id hashes in the default mode, distinct from the key hash's seed 0. */
const ID_SEED = 0x2545f491;
/** Mixed into the point index before it meets the id hash. */
const INDEX_SALT = 0x9e3779b9;
/** nginx: `npoints = peer->weight * 160`. */
const NGINX_POINTS_PER_WEIGHT = 160;
/** libketama: 40 digests per server at an equal share (4 points each). */
const KETAMA_DIGESTS = 40;

class RingSelector<T extends Target> extends HashSelector<T> {
  declare readonly tracksAvailability: boolean;
  private readonly mode: number;
  private readonly pointsPerWeight: number;
  /** nginx mode: the round robin nginx falls back to for an empty key. */
  private readonly rr: SmoothWeightedSelector<T> | null;

  /** Point hashes, ascending, in `[0, count)`. */
  private points = new Uint32Array(0);
  /** `owners[i]`: member position owning point i. */
  private owners = new Int32Array(0);
  private count = 0;
  /** The members and point counts the ring was built for, for incremental updates. */
  private ringMembers: readonly Member<T>[] = [];
  private ringCounts: Int32Array = new Int32Array(0);
  /** `buckets[k]`: first point >= k << shift; narrows each lookup to a handful of points. */
  private buckets = new Uint32Array(2);
  private shift = 31;

  /** Walk state: the current point, points stepped, distinct members offered, completion scan. */
  private cursor = 0;
  private walked = 0;
  private offered = 0;
  private scan = 0;

  constructor(loadFactor: number, mode: number, pointsPerWeight: number) {
    super(loadFactor);
    this.mode = mode;
    this.pointsPerWeight = pointsPerWeight;
    this.rr = mode === MODE_NGINX ? new SmoothWeightedSelector<T>() : null;
    this.tracksAvailability = loadFactor > 0 || this.rr !== null;
  }

  override rebuild(members: readonly Member<T>[]): void {
    super.rebuild(members);
    this.rr?.rebuild(members);
  }

  override availabilityChanged(pos: number): void {
    super.availabilityChanged(pos);
    this.rr?.availabilityChanged(pos);
  }

  override select(key: string | undefined, filtered: boolean, excluded: readonly Member<T>[], excludedCount: number): number {
    // nginx: `if (... || hp->key.len == 0) return hp->get_rr_peer(pc, &hp->rrp);`
    if (this.rr !== null && key === '') return this.rr.select(key, filtered, excluded, excludedCount);
    return super.select(key, filtered, excluded, excludedCount);
  }

  protected build(members: readonly Member<T>[]): void {
    const counts = pointCounts(members, this.mode, this.pointsPerWeight);
    if (!(this.mode === MODE_DEFAULT && this.update(members, counts))) this.fill(members, counts);
    this.ringMembers = members;
    this.ringCounts = counts;

    const count = this.count;
    const points = this.points;
    const bits = Math.min(16, Math.max(1, 31 - Math.clz32(count)));
    const size = 1 << bits;
    const shift = 32 - bits;
    const buckets = new Uint32Array(size + 1);
    let b = 0;
    for (let j = 0; j < count; j++) {
      const top = points[j]! >>> shift;
      while (b <= top) buckets[b++] = j;
    }
    while (b <= size) buckets[b++] = count;
    this.buckets = buckets;
    this.shift = shift;
  }

  /** Builds the ring from scratch: every member's points, one radix sort. */
  private fill(members: readonly Member<T>[], counts: Int32Array): void {
    const n = members.length;
    let total = 0;
    for (let i = 0; i < n; i++) total += counts[i]!;
    const points = new Uint32Array(total);
    const owners = new Int32Array(total);
    for (let i = 0, k = 0; i < n; i++) {
      const c = counts[i]!;
      this.fillMember(members[i]!.id, c, points, k);
      owners.fill(i, k, k + c);
      k += c;
    }
    // Stable: equal hashes stay in config order (member position, then point index).
    sortPoints(points, owners, total);
    let count = total;
    if (this.mode === MODE_NGINX) count = dedupe(points, owners, total);
    else if (this.mode === MODE_DEFAULT) orderTiesById(points, owners, total, members);
    this.points = points;
    this.owners = owners;
    this.count = count;
  }

  private fillMember(id: string, count: number, out: Uint32Array, at: number): void {
    if (this.mode === MODE_DEFAULT) fillDefault(id, count, out, at);
    else if (this.mode === MODE_NGINX) fillNginx(id, count, out, at);
    else fillKetama(id, count, out, at);
  }

  /**
   * Default mode: a member's points depend only on its id and point count, so after a small
   * membership change the new ring is the old one without the leaving members' points, merged
   * with the arriving members' sorted points: O(points) sequential work instead of a full sort.
   * Returns false (nothing changed) when too much changed for that to pay.
   */
  private update(members: readonly Member<T>[], counts: Int32Array): boolean {
    const previous = this.ringMembers;
    const oldCounts = this.ringCounts;
    const oldCount = this.count;
    if (oldCount === 0) return false;
    const n = members.length;
    const position = new Map<Member<T>, number>();
    for (let i = 0; i < n; i++) position.set(members[i]!, i);
    // Old position -> new position, or -1 when the member left or its point count changed.
    const remap = new Int32Array(previous.length);
    const kept = new Uint8Array(n);
    let removed = 0;
    for (let p = 0; p < previous.length; p++) {
      const q = position.get(previous[p]!);
      if (q !== undefined && counts[q] === oldCounts[p]) {
        remap[p] = q;
        kept[q] = 1;
      } else {
        remap[p] = -1;
        removed += oldCounts[p]!;
      }
    }
    let added = 0;
    for (let q = 0; q < n; q++) if (kept[q] === 0) added += counts[q]!;
    if (2 * (removed + added) > oldCount) return false;

    const addPoints = new Uint32Array(added);
    const addOwners = new Int32Array(added);
    for (let q = 0, k = 0; q < n; q++) {
      if (kept[q] === 1) continue;
      const c = counts[q]!;
      fillDefault(members[q]!.id, c, addPoints, k);
      addOwners.fill(q, k, k + c);
      k += c;
    }
    sortPoints(addPoints, addOwners, added);
    orderTiesById(addPoints, addOwners, added, members);

    const oldPoints = this.points;
    const oldOwners = this.owners;
    const total = oldCount - removed + added;
    const points = new Uint32Array(total);
    const owners = new Int32Array(total);
    let i = 0;
    let j = 0;
    for (let k = 0; k < total; k++) {
      let o = -1;
      while (i < oldCount && (o = remap[oldOwners[i]!]!) < 0) i++;
      // Take the old point unless the arriving one is smaller, or equal with a smaller id.
      if (
        j >= added ||
        (i < oldCount && (oldPoints[i]! < addPoints[j]! || (oldPoints[i] === addPoints[j] && members[o]!.id < members[addOwners[j]!]!.id)))
      ) {
        points[k] = oldPoints[i]!;
        owners[k] = o;
        i++;
      } else {
        points[k] = addPoints[j]!;
        owners[k] = addOwners[j]!;
        j++;
      }
    }
    this.points = points;
    this.owners = owners;
    this.count = total;
    return true;
  }

  protected first(key: string): number {
    const mode = this.mode;
    const h = mode === MODE_DEFAULT ? xxhash32String(key) : mode === MODE_NGINX ? crc32String(key) : md5String(key)[0]!;
    this.walked = 0;
    this.scan = 0;
    if (this.count === 0) {
      this.cursor = 0;
      this.offered = 0;
      return this.next();
    }
    // nginx: the first point >= hash, `point[i % number]`; ketama: the same, wrapping to 0.
    const b = h >>> this.shift;
    let i = lowerBoundIn(this.points, this.buckets[b]!, this.buckets[b + 1]!, h);
    if (i === this.count) i = 0;
    this.cursor = i;
    this.offered = 1;
    const owner = this.owners[i]!;
    this.offer(owner);
    return owner;
  }

  /**
   * The owner of the next point clockwise that has not been offered yet (nginx's `hp->hash++`),
   * then, once the ring has been walked all the way round, any member without points (ketama
   * can give a tiny weight none) in position order.
   */
  protected next(): number {
    const n = this.members.length;
    if (this.offered >= n) return -1;
    const count = this.count;
    const owners = this.owners;
    let c = this.cursor;
    while (this.walked < count - 1) {
      c = c + 1 === count ? 0 : c + 1;
      this.walked++;
      const owner = owners[c]!;
      if (this.offer(owner)) {
        this.cursor = c;
        this.offered++;
        return owner;
      }
    }
    this.cursor = c;
    while (this.scan < n) {
      const p = this.scan++;
      if (this.offer(p)) {
        this.offered++;
        return p;
      }
    }
    return -1;
  }
}

/** Points per member for the mode. */
function pointCounts<T extends Target>(members: readonly Member<T>[], mode: number, pointsPerWeight: number): Int32Array {
  const n = members.length;
  const counts = new Int32Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) total += members[i]!.weight;
  if (mode === MODE_DEFAULT) {
    const v = Math.min(pointsPerWeight, MAX_RING_POINTS / total);
    for (let i = 0; i < n; i++) counts[i] = Math.max(1, Math.round(v * members[i]!.weight));
  } else if (mode === MODE_NGINX) {
    for (let i = 0; i < n; i++) counts[i] = NGINX_POINTS_PER_WEIGHT * members[i]!.weight;
  } else if (mode === MODE_KETAMA) {
    // libketama: float pct = (float)memory / (float)totalmemory;
    //            unsigned int ks = floorf(pct * 40.0 * (float)numservers);
    // pct * 40.0 is a double product, so is the multiplication by (float)n; floorf() then takes
    // a float argument, which rounds the double product to float first.
    const totalF = Math.fround(total);
    const nF = Math.fround(n);
    for (let i = 0; i < n; i++) {
      const pct = Math.fround(Math.fround(members[i]!.weight) / totalF);
      counts[i] = 4 * Math.floor(Math.fround(pct * KETAMA_DIGESTS * nF));
    }
  } else {
    // hashring: Math.floor(server.weight / total * vnodes * servers.length), all in doubles.
    for (let i = 0; i < n; i++) counts[i] = 4 * Math.floor((members[i]!.weight / total) * KETAMA_DIGESTS * n);
  }
  return counts;
}

/** Default mode: point i of a target is a mix of its id hash and i; no string is built. */
function fillDefault(id: string, count: number, out: Uint32Array, at: number): void {
  const h = xxhash32String(id, ID_SEED);
  for (let i = 0; i < count; i++) out[at + i] = fmix32(h ^ fmix32(i ^ INDEX_SALT));
}

/**
 * nginx `ngx_http_upstream_update_chash`: the server string splits into host and port (a
 * `unix:` prefix, case-insensitive, makes the rest the host with no port; otherwise the port is
 * the run of digits after the last ':', and without such a run the whole string is the host);
 * `base = crc32(host, "\0", port)`; point j = `crc32(base state, prev_hash as 4 LE bytes)`, chained
 * from prev_hash 0.
 */
function fillNginx(id: string, count: number, out: Uint32Array, at: number): void {
  const len = encodeUtf8(id);
  const b = utf8Scratch();
  let hostStart = 0;
  let hostEnd = len;
  let portStart = len;
  if (
    len >= 5 &&
    (b[0]! | 0x20) === 0x75 && // u
    (b[1]! | 0x20) === 0x6e && // n
    (b[2]! | 0x20) === 0x69 && // i
    (b[3]! | 0x20) === 0x78 && // x
    b[4] === 0x3a // :
  ) {
    hostStart = 5;
  } else {
    for (let j = 0; j < len; j++) {
      const c = b[len - j - 1]!;
      if (c === 0x3a) {
        hostEnd = len - j - 1;
        portStart = len - j;
        break;
      }
      if (c < 0x30 || c > 0x39) break;
    }
  }
  let base = crc32Update(CRC32_INIT, b, hostStart, hostEnd);
  base = crc32UpdateByte(base, 0);
  base = crc32Update(base, b, portStart, len);
  let prev = 0;
  for (let j = 0; j < count; j++) {
    prev = crc32Final(crc32UpdateUint32LE(base, prev));
    out[at + j] = prev;
  }
}

/** Scratch for ketama digests. */
const WORDS = new Uint32Array(4);

/** libketama / hashring: MD5 of `"<id>-<k>"`, each digest's four little-endian words are points. */
function fillKetama(id: string, count: number, out: Uint32Array, at: number): void {
  const len = encodeUtf8(id);
  const buf = new Uint8Array(len + 12);
  buf.set(utf8Scratch().subarray(0, len));
  buf[len] = 0x2d; // '-'
  for (let k = 0, j = at; k < count >>> 2; k++) {
    let end = len + 1;
    // decimal digits of k
    let digits = 1;
    for (let p = 10; p <= k; p *= 10) digits++;
    for (let d = digits - 1, v = k; d >= 0; d--, v = Math.floor(v / 10)) buf[end + d] = 0x30 + (v % 10);
    end += digits;
    md5(buf, 0, end, WORDS, 0);
    out[j++] = WORDS[0]!;
    out[j++] = WORDS[1]!;
    out[j++] = WORDS[2]!;
    out[j++] = WORDS[3]!;
  }
}

/**
 * Stable sort of `keys[0..n)` carrying `vals` along (stability gives equal hashes their
 * config-order tie rule). Point hashes are uniform, so one counting pass and one scatter by the
 * top bits (about one bucket per point) leave buckets of a few points, each finished by
 * insertion sort: two sequential passes and one scatter, where a 3-pass radix sort made three
 * cache-missing scatters. A bucket that is unexpectedly large is sorted by index instead, so
 * no input can make this quadratic.
 *
 * @internal Exported for tests only.
 * @example
 * ```ts
 * const keys = Uint32Array.of(30, 10, 20, 10);
 * const vals = Int32Array.of(0, 1, 2, 3);
 * sortPoints(keys, vals, 4); // keys 10 10 20 30, vals 1 3 2 0 (stable)
 * ```
 */
export function sortPoints(keys: Uint32Array, vals: Int32Array, n: number): void {
  if (n < 2) return;
  // About two points per bucket; 2^20 buckets (4 MiB of counters) at most.
  const bits = Math.min(20, Math.max(1, 30 - Math.clz32(n)));
  const shift = 32 - bits;
  const size = 1 << bits;
  const start = new Int32Array(size + 1);
  for (let i = 0; i < n; i++) start[(keys[i]! >>> shift) + 1]!++;
  for (let b = 0; b < size; b++) start[b + 1]! += start[b]!;
  const cursor = start.slice(0, size);
  const tk = new Uint32Array(n);
  const tv = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = keys[i]!;
    const j = cursor[k >>> shift]!++;
    tk[j] = k;
    tv[j] = vals[i]!;
  }
  for (let b = 0; b < size; b++) {
    const lo = start[b]!;
    const hi = start[b + 1]!;
    if (hi - lo > 256) {
      sortRange(tk, tv, lo, hi);
      continue;
    }
    for (let a = lo + 1; a < hi; a++) {
      const k = tk[a]!;
      if (tk[a - 1]! <= k) continue;
      const v = tv[a]!;
      let c = a - 1;
      while (c >= lo && tk[c]! > k) {
        tk[c + 1] = tk[c]!;
        tv[c + 1] = tv[c]!;
        c--;
      }
      tk[c + 1] = k;
      tv[c + 1] = v;
    }
  }
  keys.set(tk);
  vals.set(tv);
}

/** Stable sort of `keys[lo..hi)` with `vals`, by sorting indices: the rare large-bucket path. */
function sortRange(keys: Uint32Array, vals: Int32Array, lo: number, hi: number): void {
  const order = Array.from({ length: hi - lo }, (_, i) => lo + i);
  order.sort((x, y) => keys[x]! - keys[y]! || x - y);
  const k = order.map((i) => keys[i]!);
  const v = order.map((i) => vals[i]!);
  for (let i = 0; i < k.length; i++) {
    keys[lo + i] = k[i]!;
    vals[lo + i] = v[i]!;
  }
}

/**
 * nginx drops points whose hash equals the previous one after sorting, keeping the first:
 * `if (point[i].hash != point[j].hash) point[++i] = point[j];`. Which equal point is first
 * depends on the C library's qsort: glibc's is a merge sort, stable in practice, so the point of
 * the server listed first survives; that is the rule here (musl's or BSD's unstable sorts may
 * keep another). Returns the new count.
 */
function dedupe(points: Uint32Array, owners: Int32Array, count: number): number {
  if (count === 0) return 0;
  let i = 0;
  for (let j = 1; j < count; j++) {
    if (points[i] !== points[j]) {
      i++;
      points[i] = points[j]!;
      owners[i] = owners[j]!;
    }
  }
  return i + 1;
}

/**
 * Default mode: equal hashes of different targets are ordered by id, not by config order, so
 * the ring does not depend on insertion order even then.
 */
function orderTiesById<T extends Target>(points: Uint32Array, owners: Int32Array, count: number, members: readonly Member<T>[]): void {
  for (let i = 1; i < count; i++) {
    if (points[i] !== points[i - 1]) continue;
    const s = i - 1;
    let e = i + 1;
    while (e < count && points[e] === points[s]) e++;
    for (let a = s + 1; a < e; a++) {
      const o = owners[a]!;
      const id = members[o]!.id;
      let b = a - 1;
      while (b >= s && members[owners[b]!]!.id > id) {
        owners[b + 1] = owners[b]!;
        b--;
      }
      owners[b + 1] = o;
    }
    i = e;
  }
}

function compatOption(value: unknown): number {
  switch (value) {
    case undefined:
      return MODE_DEFAULT;
    case 'nginx':
      return MODE_NGINX;
    case 'ketama':
      return MODE_KETAMA;
    case 'hashring':
      return MODE_HASHRING;
    default:
      throw new InvalidOptionError('compat', value, "'nginx', 'ketama' or 'hashring'");
  }
}

/**
 * Consistent hashing on a ring (Karger et al.): every target owns points on a 32-bit circle, a
 * key goes to the owner of the first point at or after the key's hash, so adding or removing a
 * target only moves the keys on the arcs it gains or loses, about 1/n of them. A target that
 * cannot serve (down, excluded, at `maxActive`, or full under `loadFactor`) hands each of its
 * keys to the owner of the next point clockwise that can, the same one every time.
 *
 * **Modes.**
 * - Default: xxHash32 key hash, `DEFAULT_POINTS_PER_WEIGHT` points per unit of weight
 *   (option `pointsPerWeight`), placed by mixing a hash of the id with the point index. With 100
 *   equal targets the busiest owns at most 1.10 × the mean share (measured over 300 id sets:
 *   median 1.063, worst 1.099; at 1,000 targets about 1.13). The mapping depends only on ids and weights, never
 *   on insertion order. Weights may be fractional: a target gets `round(pointsPerWeight × weight)`
 *   points, at least 1, so keep weights ≥ 1 / pointsPerWeight for proportional shares.
 * - `compat: 'nginx'`: the same key → server choice as nginx `hash $key consistent` when the
 *   target ids are the `server` strings (`"10.0.0.1:8080"`, `"unix:/tmp/s.sock"`) and the
 *   weights are nginx's. Keys hash with CRC32; each server gets `160 × weight` points, chained
 *   CRC32s of `host "\0" port` and the previous point; a key takes the first point `>=` its hash,
 *   wrapping to the first point; equal points are deduplicated keeping the first server in
 *   config order (glibc's qsort behaviour). Weights must be integers (1..10,000), as in nginx.
 *   An empty key `""` uses nginx's smooth weighted round robin, pick for pick, as nginx does.
 *   When the owner cannot serve, nginx walks on point by point, like this class, but gives up
 *   after 20 points and falls back to round robin; this class keeps walking, so its fallback is
 *   the same as nginx's whenever nginx's is deterministic.
 * - `compat: 'ketama'`: libketama's continuum (and so memcached clients built on it): MD5 of
 *   `"<id>-<k>"` for `k < floorf(share × 40 × n)` computed with libketama's float32 rounding,
 *   four little-endian words per digest as points, the key's first MD5 word as its hash.
 * - `compat: 'hashring'`: npm `hashring` 3.x (default options) key for key: libketama except
 *   that the digest count is `Math.floor(weight / total × 40 × n)` in doubles, which differs
 *   from libketama's at some server counts (7, 14, 28, 49, 56, 61, … equal weights) and
 *   weight mixes.
 *
 * **Cost.** A pick hashes the key, reads a bucket index (the top 16 bits of the hash at most)
 * and binary-searches the few points in that bucket: O(1) expected, no allocation. A
 * membership or weight change rebuilds the ring lazily, at the next pick, in O(points): the
 * default mode merges the arriving targets' points into the old ring and drops the leaving
 * ones' (about 15 ms for one change at 1,000 targets); the compat modes, whose point counts or
 * deduplication depend on the whole server list, rebuild with a bucket sort. About 8 bytes per
 * point (default: 1,600 × total weight points, at most `MAX_RING_POINTS`).
 *
 * **Bounded loads.** With `loadFactor` (e.g. 1.25) and `acquire`/`release`, no target holds more
 * than `ceil(loadFactor × (open leases + 1) × weight / total weight)` leases; a key whose owner
 * is full walks clockwise to the next owner with room (Mirrokni, Thorup, Zadimoghaddam).
 *
 * @example
 * ```ts
 * import { ConsistentHash } from 'loadwise';
 *
 * const ring = new ConsistentHash(['cache-1', 'cache-2', { id: 'cache-3', weight: 2 }]);
 * ring.pick('user:42');                 // the same cache every time
 *
 * // key for key what nginx does for `hash $request_uri consistent;`
 * const nginx = new ConsistentHash(
 *   [{ id: '10.0.0.1:8080', weight: 2 }, '10.0.0.2:8080'],
 *   { compat: 'nginx' },
 * );
 * nginx.pick('/img/logo.png');
 *
 * // the continuum of libketama-based memcached clients
 * const memcached = new ConsistentHash(['10.0.0.1:11211', '10.0.0.2:11211'], { compat: 'ketama' });
 * ```
 */
export class ConsistentHash<T extends Target = Target> extends BaseBalancer<T> {
  private readonly mode: number;
  private readonly loadFactor: number;
  private readonly pointsPerWeight: number;

  constructor(targets: readonly T[], options?: ConsistentHashOptions) {
    // In nginx mode weights must be integers (1..10,000), as in nginx, in every mutation.
    super(targets, options, ['compat', 'pointsPerWeight', 'loadFactor'], options?.compat === 'nginx' ? checkNginxWeight : undefined);
    this.mode = compatOption(options?.compat);
    this.loadFactor = loadFactorOption(options?.loadFactor);
    const ppw = options?.pointsPerWeight;
    if (this.mode !== MODE_DEFAULT && ppw !== undefined) {
      throw new InvalidOptionError('pointsPerWeight', ppw, `to be omitted with compat: '${String(options?.compat)}', whose point counts are fixed`);
    }
    this.pointsPerWeight = intOption('pointsPerWeight', ppw, DEFAULT_POINTS_PER_WEIGHT, 1, 1 << 20);
  }

  protected createSelector(): Selector<T> {
    return new RingSelector<T>(this.loadFactor, this.mode, this.pointsPerWeight);
  }
}
