import { BaseBalancer } from '../balancer.js';
import type { Member } from '../core/member.js';
import type { Selector } from '../core/selector.js';
import type { BalancerOptions, Target } from '../types.js';

/** Options of {@link WeightedRoundRobin}. */
export type WeightedRoundRobinOptions = BalancerOptions;

/** Fold the step counter into the offsets before `step × weight` can lose integer precision. */
const RENORMALIZE_AT = 2 ** 26;

/**
 * nginx's smooth weighted round robin, computed exactly but without nginx's O(n) loop.
 *
 * nginx keeps a current weight `cw` per peer; each pick adds every eligible peer's weight to its
 * `cw`, takes the peer with the largest `cw` (the first in list order on ties) and subtracts the
 * total eligible weight from it. Peers that are skipped (down, at `max_conns`, already tried)
 * get no increment that round.
 *
 * Here `cw[j] = step × w[j] + off[j]`: the per-round increment is implicit in `step`, so a pick
 * only touches the winner. Peers of equal weight rank by `off` alone, so each distinct weight
 * keeps a max-heap of its peers, and a pick compares the K heap tops (K = number of distinct
 * weights) and sifts one heap. A peer out of rotation leaves its heap and records the step;
 * when it returns its offset is lowered by the increments it missed, which is exactly nginx's
 * "no increment while skipped". Cost per pick: O(K + log n); per availability change: O(log n).
 */
class SmoothWeightedSelector<T extends Target> implements Selector<T> {
  readonly tracksAvailability = true;

  private members: readonly Member<T>[] = [];
  private n = 0;
  private step = 0;
  /** Sum of the weights of the peers in rotation. */
  private total = 0;
  private weight = new Float64Array(0);
  private off = new Float64Array(0);
  private parkedAt = new Float64Array(0);
  /** Heap slot of each peer in `heap`, or -1 while out of rotation. */
  private slot = new Int32Array(0);
  private classOf = new Int32Array(0);
  /** One array holding every class's heap: class k occupies [start[k], start[k] + size[k]). */
  private heap = new Int32Array(0);
  private classWeight = new Float64Array(0);
  private start = new Int32Array(0);
  private size = new Int32Array(0);
  private classes = 0;
  /** Scratch list of peers excluded for the current pick. */
  private held = new Int32Array(0);

  rebuild(members: readonly Member<T>[]): void {
    // Keep each retained peer's current weight, so a membership change does not restart the
    // rotation; new peers start at 0 as in nginx.
    const previous = new Map<Member<T>, number>();
    for (let j = 0; j < this.n; j++) previous.set(this.members[j]!, this.currentWeight(j));

    const n = members.length;
    this.members = members;
    this.n = n;
    this.step = 0;
    this.weight = new Float64Array(n);
    this.off = new Float64Array(n);
    this.parkedAt = new Float64Array(n);
    this.slot = new Int32Array(n).fill(-1);
    this.classOf = new Int32Array(n);
    this.heap = new Int32Array(n);
    this.held = new Int32Array(n);

    const classByWeight = new Map<number, number>();
    const counts: number[] = [];
    const weights: number[] = [];
    for (let j = 0; j < n; j++) {
      const m = members[j]!;
      this.weight[j] = m.weight;
      this.off[j] = previous.get(m) ?? 0;
      let k = classByWeight.get(m.weight);
      if (k === undefined) {
        k = counts.length;
        classByWeight.set(m.weight, k);
        counts.push(0);
        weights.push(m.weight);
      }
      this.classOf[j] = k;
      counts[k]!++;
    }
    const classes = counts.length;
    this.classes = classes;
    this.classWeight = Float64Array.from(weights);
    this.start = new Int32Array(classes);
    this.size = new Int32Array(classes);
    for (let k = 1; k < classes; k++) this.start[k] = this.start[k - 1]! + counts[k - 1]!;
    this.total = 0;
    for (let j = 0; j < n; j++) if (inRotation(members[j]!)) this.insert(j);
  }

  select(_key: string | undefined, _filtered: boolean, excluded: readonly Member<T>[], excludedCount: number): number {
    // Peers excluded for this pick sit out one round, like nginx's tried peers.
    let held = 0;
    for (let e = 0; e < excludedCount; e++) {
      const m = excluded[e]!;
      const j = m.pos;
      if (this.members[j] === m && this.slot[j]! >= 0) {
        this.park(j);
        this.held[held++] = j;
      }
    }
    let best = -1;
    if (this.total > 0) {
      const step = ++this.step;
      const heap = this.heap;
      const off = this.off;
      let bestValue = 0;
      for (let k = 0; k < this.classes; k++) {
        if (this.size[k] === 0) continue;
        const top = heap[this.start[k]!]!;
        const value = step * this.classWeight[k]! + off[top]!;
        if (best < 0 || value > bestValue || (value === bestValue && top < best)) {
          best = top;
          bestValue = value;
        }
      }
      off[best] = off[best]! - this.total;
      this.siftDown(this.slot[best]!, this.classOf[best]!);
      if (step >= RENORMALIZE_AT) this.renormalize();
    }
    for (let h = 0; h < held; h++) this.unpark(this.held[h]!);
    return best;
  }

  availabilityChanged(pos: number): void {
    const inHeap = this.slot[pos]! >= 0;
    if (inRotation(this.members[pos]!)) {
      if (!inHeap) this.unpark(pos);
    } else if (inHeap) {
      this.park(pos);
    }
  }

  /** nginx's `current_weight` of peer j. */
  private currentWeight(j: number): number {
    const at = this.slot[j]! >= 0 ? this.step : this.parkedAt[j]!;
    return at * this.weight[j]! + this.off[j]!;
  }

  private park(j: number): void {
    this.parkedAt[j] = this.step;
    this.remove(j);
  }

  private unpark(j: number): void {
    // No increments while out of rotation: cw stays where it was when the peer left.
    this.off[j] = this.off[j]! - (this.step - this.parkedAt[j]!) * this.weight[j]!;
    this.insert(j);
  }

  private renormalize(): void {
    const step = this.step;
    for (let j = 0; j < this.n; j++) {
      this.off[j] = this.off[j]! + step * this.weight[j]!;
      this.parkedAt[j] = this.parkedAt[j]! - step;
    }
    this.step = 0;
  }

  private insert(j: number): void {
    const k = this.classOf[j]!;
    const s = this.start[k]! + this.size[k]!++;
    this.heap[s] = j;
    this.slot[j] = s;
    this.total += this.weight[j]!;
    this.siftUp(s, k);
  }

  private remove(j: number): void {
    const k = this.classOf[j]!;
    const s = this.slot[j]!;
    const last = this.start[k]! + --this.size[k]!;
    this.slot[j] = -1;
    this.total -= this.weight[j]!;
    if (s !== last) {
      const moved = this.heap[last]!;
      this.heap[s] = moved;
      this.slot[moved] = s;
      this.siftUp(s, k);
      this.siftDown(this.slot[moved]!, k);
    }
  }

  /** Heap order: larger offset first, then lower position (nginx's first-in-list tie rule). */
  private before(a: number, b: number): boolean {
    const oa = this.off[a]!;
    const ob = this.off[b]!;
    return oa > ob || (oa === ob && a < b);
  }

  private siftUp(s: number, k: number): void {
    const heap = this.heap;
    const base = this.start[k]!;
    const j = heap[s]!;
    while (s > base) {
      const parent = base + ((s - base - 1) >> 1);
      const p = heap[parent]!;
      if (!this.before(j, p)) break;
      heap[s] = p;
      this.slot[p] = s;
      s = parent;
    }
    heap[s] = j;
    this.slot[j] = s;
  }

  private siftDown(s: number, k: number): void {
    const heap = this.heap;
    const base = this.start[k]!;
    const end = base + this.size[k]!;
    const j = heap[s]!;
    for (;;) {
      let child = base + 2 * (s - base) + 1;
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

function inRotation<T extends Target>(m: Member<T>): boolean {
  return m.blocked === 0 && m.active < m.maxActive;
}

/**
 * nginx's smooth weighted round robin, pick for pick: for weights 5, 1, 1 the sequence is
 * `a a b a c a a`, interleaved rather than bunched, and every target gets exactly its weight's
 * share of each period (the sum of the weights). Unavailable targets sit out the rounds they
 * miss exactly as nginx skips down, failed or tried peers. Cost: O(K + log n) per pick where K
 * is the number of distinct weights; for a pool of equal weights that is O(log n).
 *
 * Unlike Envoy and gRPC, the rotation does not start at a random position: the point of this
 * class is to reproduce nginx, which always starts from the list's first heaviest target.
 *
 * @example
 * ```ts
 * import { WeightedRoundRobin } from 'loadwise';
 * const lb = new WeightedRoundRobin([
 *   { id: 'a', weight: 5 }, { id: 'b', weight: 1 }, { id: 'c', weight: 1 },
 * ]);
 * Array.from({ length: 7 }, () => lb.pick().id).join(' '); // 'a a b a c a a'
 * ```
 */
export class WeightedRoundRobin<T extends Target = Target> extends BaseBalancer<T> {
  constructor(targets: readonly T[], options?: WeightedRoundRobinOptions) {
    super(targets, options, []);
  }

  protected createSelector(): Selector<T> {
    return new SmoothWeightedSelector<T>();
  }
}
