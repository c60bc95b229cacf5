import { BaseBalancer } from '../balancer.js';
import { LoadBucketSelector } from './load-buckets.js';
import type { Member } from '../core/member.js';
import type { Selector } from '../core/selector.js';
import type { BalancerOptions, Target } from '../types.js';

/** Options of {@link LeastConnections}. */
export type LeastConnectionsOptions = BalancerOptions;

/**
 * An indexed binary min-heap of the peers in rotation, ordered by open leases per unit of weight
 * (compared by cross-multiplication, as nginx does, so equal ratios tie exactly), then by a
 * stride-scheduling pass value so that tied peers take turns in proportion to weight, then by
 * list position. Each acquire or release moves one peer: O(log n).
 */
class LoadHeapSelector<T extends Target> implements Selector<T> {
  readonly tracksActive = true;
  readonly tracksAvailability = true;

  private members: readonly Member<T>[] = [];
  private n = 0;
  private heap = new Int32Array(0);
  private size = 0;
  /** Heap slot of each peer, or -1 while out of rotation. */
  private slot = new Int32Array(0);
  private weight = new Float64Array(0);
  /** Stride-scheduling virtual time: a pick advances the winner by 1 / weight. */
  private pass = new Float64Array(0);
  /** Pass of the latest pick; returning peers catch up to it so they cannot monopolise ties. */
  private clock = 0;
  private held = new Int32Array(0);
  /** Open leases per peer, mirrored here so heap comparisons stay inside typed arrays. */
  private act = new Int32Array(0);
  /**
   * The latest winner, whose pass grew but which has not been sifted yet: an `acquire` follows
   * at once and raises its load too, so one sift then settles both changes.
   */
  private dirty = -1;

  rebuild(members: readonly Member<T>[]): void {
    const previous = new Map<Member<T>, number>();
    for (let j = 0; j < this.n; j++) previous.set(this.members[j]!, this.pass[j]!);
    const n = members.length;
    this.members = members;
    this.n = n;
    this.heap = new Int32Array(n);
    this.slot = new Int32Array(n).fill(-1);
    this.weight = new Float64Array(n);
    this.pass = new Float64Array(n);
    this.held = new Int32Array(n);
    this.act = new Int32Array(n);
    this.size = 0;
    this.dirty = -1;
    for (let j = 0; j < n; j++) {
      const m = members[j]!;
      this.weight[j] = m.effectiveWeight;
      this.act[j] = m.active;
      // Half a stride to start with spreads a heavy peer's turns instead of bunching them first.
      this.pass[j] = previous.get(m) ?? this.clock + 0.5 / m.effectiveWeight;
      if (inRotation(m)) this.insert(j);
    }
  }

  select(_key: string | undefined, _filtered: boolean, _excluded: readonly Member<T>[], excludedCount: number): number {
    this.settle();
    if (this.size === 0) return -1;
    let best = this.heap[0]!;
    if (excludedCount > 0 && this.members[best]!.excluded) {
      // Pop excluded peers off the top until an eligible one surfaces, then put them back.
      let held = 0;
      while (this.size > 0 && this.members[this.heap[0]!]!.excluded) {
        const j = this.heap[0]!;
        this.remove(j);
        this.held[held++] = j;
      }
      best = this.size > 0 ? this.heap[0]! : -1;
      for (let h = 0; h < held; h++) this.insert(this.held[h]!);
      if (best < 0) return -1;
    }
    const p = this.pass[best]!;
    this.clock = p;
    this.pass[best] = p + 1 / this.weight[best]!;
    this.dirty = best;
    return best;
  }

  activeChanged(pos: number): void {
    const active = this.members[pos]!.active;
    const grew = active > this.act[pos]!;
    this.act[pos] = active;
    if (this.dirty === pos) this.dirty = -1;
    this.settle();
    const s = this.slot[pos]!;
    if (s < 0) return;
    // After an acquire only the key went up (load, and pass if it just won): one sift down.
    if (grew) {
      this.siftDown(s);
      return;
    }
    if (this.pass[pos]! < this.clock) this.pass[pos] = this.clock;
    this.siftDown(this.siftUp(s));
  }

  availabilityChanged(pos: number): void {
    this.settle();
    const inHeap = this.slot[pos]! >= 0;
    if (inRotation(this.members[pos]!)) {
      if (!inHeap) {
        if (this.pass[pos]! < this.clock) this.pass[pos] = this.clock;
        this.insert(pos);
      }
    } else if (inHeap) {
      this.remove(pos);
    }
  }

  /** Sifts the pending winner into place. */
  private settle(): void {
    const d = this.dirty;
    if (d < 0) return;
    this.dirty = -1;
    const s = this.slot[d]!;
    if (s >= 0) this.siftDown(s);
  }

  private before(a: number, b: number): boolean {
    const la = this.act[a]! * this.weight[b]!;
    const lb = this.act[b]! * this.weight[a]!;
    if (la !== lb) return la < lb;
    const pa = this.pass[a]!;
    const pb = this.pass[b]!;
    return pa < pb || (pa === pb && a < b);
  }

  private insert(j: number): void {
    const s = this.size++;
    this.heap[s] = j;
    this.slot[j] = s;
    this.siftUp(s);
  }

  private remove(j: number): void {
    const s = this.slot[j]!;
    const last = --this.size;
    this.slot[j] = -1;
    if (s !== last) {
      const moved = this.heap[last]!;
      this.heap[s] = moved;
      this.slot[moved] = s;
      this.siftDown(this.siftUp(s));
    }
  }

  private siftUp(s: number): number {
    const heap = this.heap;
    const j = heap[s]!;
    while (s > 0) {
      const parent = (s - 1) >> 1;
      const p = heap[parent]!;
      if (!this.before(j, p)) break;
      heap[s] = p;
      this.slot[p] = s;
      s = parent;
    }
    heap[s] = j;
    this.slot[j] = s;
    return s;
  }

  private siftDown(s: number): void {
    const heap = this.heap;
    const end = this.size;
    const j = heap[s]!;
    for (;;) {
      let child = 2 * s + 1;
      if (child >= end) break;
      const right = child + 1;
      if (right < end && this.before(heap[right]!, heap[child]!)) child = right;
      const c = heap[child]!;
      if (!this.before(c, j)) break;
      heap[s] = c;
      this.slot[c] = s;
      s = child;
    }
    heap[s] = j;
    this.slot[j] = s;
  }
}

/**
 * Equal weights (the common case) use O(1) load buckets; unequal weights need the exact
 * cross-multiplied ratio order and use the heap. Chosen again at every rebuild.
 */
class LeastConnectionsSelector<T extends Target> implements Selector<T> {
  readonly tracksActive = true;
  readonly tracksAvailability = true;
  private readonly buckets = new LoadBucketSelector<T>();
  private readonly heap = new LoadHeapSelector<T>();
  private uniform = true;

  rebuild(members: readonly Member<T>[]): void {
    let uniform = true;
    for (let i = 1; i < members.length; i++) if (members[i]!.effectiveWeight !== members[0]!.effectiveWeight) uniform = false;
    this.uniform = uniform;
    if (uniform) this.buckets.rebuild(members);
    else this.heap.rebuild(members);
  }

  select(key: string | undefined, filtered: boolean, excluded: readonly Member<T>[], excludedCount: number): number {
    return this.uniform
      ? this.buckets.select(key, filtered, excluded, excludedCount)
      : this.heap.select(key, filtered, excluded, excludedCount);
  }

  activeChanged(pos: number): void {
    if (this.uniform) this.buckets.activeChanged(pos);
    else this.heap.activeChanged(pos);
  }

  availabilityChanged(pos: number): void {
    if (this.uniform) this.buckets.availabilityChanged(pos);
    else this.heap.availabilityChanged(pos);
  }
}

function inRotation<T extends Target>(m: Member<T>): boolean {
  return m.blocked === 0 && m.active < m.maxActive;
}

/**
 * Least connections (nginx `least_conn`): the target with the fewest open leases per unit of
 * weight, compared exactly as nginx does (`active_a × weight_b < active_b × weight_a`), so it
 * never picks a target busier (per weight) than another eligible one.
 *
 * - Equal weights: O(1) per pick, acquire and release (buckets by open leases); tied targets
 *   take turns, the one that has waited longest at that load first, which with idle targets is
 *   plain round robin in list order.
 * - Unequal weights: O(log n) (an indexed heap); tied targets take turns in proportion to
 *   weight (stride scheduling).
 *
 * nginx breaks ties with its smooth weighted round robin over the tied peers, an O(n) pass per
 * pick; the orders here give tied targets the same long-run shares and the same
 * never-more-loaded guarantee without the O(n) pass.
 *
 * @example
 * ```ts
 * import { LeastConnections } from 'loadwise';
 * const lb = new LeastConnections(['a', 'b']);
 * const first = lb.acquire();  // 'a'
 * const second = lb.acquire(); // 'b': 'a' is busy
 * first.release('success');
 * lb.acquire().target;         // 'a' again: it has 0 open leases, 'b' has 1
 * ```
 */
export class LeastConnections<T extends Target = Target> extends BaseBalancer<T> {
  constructor(targets: readonly T[], options?: LeastConnectionsOptions) {
    super(targets, options, []);
  }

  protected createSelector(): Selector<T> {
    return new LeastConnectionsSelector<T>();
  }

  /** Routes on `effectiveWeight`, so slow start ramps a returning target. */
  protected override rampsWeights(): boolean {
    return true;
  }
}
