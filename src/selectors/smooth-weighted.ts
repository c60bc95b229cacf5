import type { Member } from '../core/member.js';
import type { Selector } from '../core/selector.js';
import type { Target } from '../types.js';

/** Fold the step counter into the offsets before `step × weight` can lose integer precision. */
const RENORMALIZE_AT = 2 ** 26;
const ROTATION = 0;
const HEAP = 1;

/**
 * nginx's smooth weighted round robin (`ngx_http_upstream_get_peer`), computed exactly but
 * without nginx's O(n) loop.
 *
 * nginx keeps a current weight `cw` per peer; each pick adds every eligible peer's weight to its
 * `cw`, takes the peer with the largest `cw` (the first in list order on ties) and subtracts the
 * total eligible weight from it. Peers that are skipped (down, at `max_conns`, already tried)
 * get no increment that round.
 *
 * Here `cw[j] = step × w[j] + off[j]`: the per-round increment is implicit in `step`, so a pick
 * only touches the winner. Peers of equal weight rank by `off` alone, so a pick compares one
 * candidate per distinct weight (a "class") and updates one class:
 *
 * - Rotation mode (the steady state): a class's peers take turns in list order, and their
 *   offsets take just two values, `lo` for the peers already served this round and `hi` for the
 *   rest; a pick advances a pointer. O(1) per class.
 * - Heap mode: once a peer of the class is skipped (down, full, excluded) or the total changes in
 *   the middle of the class's round, offsets stop following that pattern; the class then keeps
 *   a max-heap of offsets, O(log n) per pick, until the next membership or weight change.
 *
 * A peer out of rotation leaves its class and records the step; when it returns, its offset is
 * lowered by the increments it missed, which is exactly nginx's "no increment while skipped".
 * Cost per pick: O(K) with K distinct weights while undisturbed, O(K + log n) otherwise.
 */
export class SmoothWeightedSelector<T extends Target> implements Selector<T> {
  readonly tracksAvailability = true;

  private members: readonly Member<T>[] = [];
  private n = 0;
  private step = 0;
  /** Sum of the weights of the peers in rotation. */
  private total = 0;
  private weight = new Float64Array(0);
  /** Offsets of peers in heap-mode classes and of parked peers. */
  private off = new Float64Array(0);
  private parkedAt = new Float64Array(0);
  /** Index of each peer in `seg`, or -1 while out of rotation. */
  private slot = new Int32Array(0);
  private classOf = new Int32Array(0);
  /** Every class's peers in one array: class k occupies [start[k], start[k] + size[k]). */
  private seg = new Int32Array(0);
  private classes = 0;
  private classWeight = new Float64Array(0);
  private start = new Int32Array(0);
  private size = new Int32Array(0);
  private mode = new Uint8Array(0);
  /** Rotation mode: next peer's index within the class, the two offsets, and the round's total. */
  private head = new Int32Array(0);
  private lo = new Float64Array(0);
  private hi = new Float64Array(0);
  private roundTotal = new Float64Array(0);
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
    this.total = 0;
    this.weight = new Float64Array(n);
    this.off = new Float64Array(n);
    this.parkedAt = new Float64Array(n);
    this.slot = new Int32Array(n).fill(-1);
    this.classOf = new Int32Array(n);
    this.seg = new Int32Array(n);
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
    const K = counts.length;
    this.classes = K;
    this.classWeight = Float64Array.from(weights);
    this.start = new Int32Array(K);
    this.size = new Int32Array(K);
    this.mode = new Uint8Array(K).fill(HEAP);
    this.head = new Int32Array(K);
    this.lo = new Float64Array(K);
    this.hi = new Float64Array(K);
    this.roundTotal = new Float64Array(K);
    for (let k = 1; k < K; k++) this.start[k] = this.start[k - 1]! + counts[k - 1]!;
    // Peers enter in list order, so each class segment is in list order too.
    for (let j = 0; j < n; j++) {
      if (!inRotation(members[j]!)) continue;
      const k = this.classOf[j]!;
      const s = this.start[k]! + this.size[k]!++;
      this.seg[s] = j;
      this.slot[j] = s;
      this.total += this.weight[j]!;
    }
    for (let k = 0; k < K; k++) this.settleClass(k);
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
    const total = this.total;
    if (total > 0) {
      const step = ++this.step;
      let bestClass = -1;
      let bestValue = 0;
      for (let k = 0; k < this.classes; k++) {
        if (this.size[k] === 0) continue;
        let top: number;
        let value: number;
        if (this.mode[k] === ROTATION) {
          top = this.seg[this.start[k]! + this.head[k]!]!;
          value = step * this.classWeight[k]! + this.hi[k]!;
        } else {
          top = this.seg[this.start[k]!]!;
          value = step * this.classWeight[k]! + this.off[top]!;
        }
        if (bestClass < 0 || value > bestValue || (value === bestValue && top < best)) {
          best = top;
          bestClass = k;
          bestValue = value;
        }
      }
      const k = bestClass;
      if (this.mode[k] === ROTATION && this.head[k] !== 0 && this.roundTotal[k] !== total) this.toHeap(k);
      if (this.mode[k] === ROTATION) {
        if (this.head[k] === 0) {
          this.roundTotal[k] = total;
          this.lo[k] = this.hi[k]! - total;
        }
        if (++this.head[k]! === this.size[k]) {
          this.head[k] = 0;
          this.hi[k] = this.lo[k]!;
        }
      } else {
        this.off[best] = this.off[best]! - total;
        this.siftDown(this.slot[best]!, k);
      }
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
    const s = this.slot[j]!;
    if (s < 0) return this.parkedAt[j]! * this.weight[j]! + this.off[j]!;
    return this.step * this.weight[j]! + this.offsetOf(j);
  }

  private offsetOf(j: number): number {
    const k = this.classOf[j]!;
    if (this.mode[k] === HEAP) return this.off[j]!;
    return this.slot[j]! - this.start[k]! < this.head[k]! ? this.lo[k]! : this.hi[k]!;
  }

  /**
   * Chooses a class's mode from its offsets (in `off`): rotation when they are one value, or a
   * lower value on a list-order prefix and a higher one on the rest; otherwise a heap.
   */
  private settleClass(k: number): void {
    const base = this.start[k]!;
    const size = this.size[k]!;
    if (size === 0) {
      this.mode[k] = ROTATION;
      this.head[k] = 0;
      this.hi[k] = 0;
      return;
    }
    const first = this.off[this.seg[base]!]!;
    let split = size;
    for (let i = 1; i < size; i++) {
      if (this.off[this.seg[base + i]!]! !== first) {
        split = i;
        break;
      }
    }
    const second = split < size ? this.off[this.seg[base + split]!]! : first;
    let twoLevel = split === size || first < second;
    for (let i = split; twoLevel && i < size; i++) if (this.off[this.seg[base + i]!]! !== second) twoLevel = false;
    if (twoLevel) {
      this.mode[k] = ROTATION;
      this.head[k] = split === size ? 0 : split;
      this.hi[k] = second;
      this.lo[k] = first;
      this.roundTotal[k] = second - first;
    } else {
      this.mode[k] = HEAP;
      for (let i = (size >> 1) - 1; i >= 0; i--) this.siftDown(base + i, k);
    }
  }

  /** Writes a rotation-mode class's offsets out per peer and heapifies it. */
  private toHeap(k: number): void {
    const base = this.start[k]!;
    const size = this.size[k]!;
    for (let i = 0; i < size; i++) this.off[this.seg[base + i]!] = i < this.head[k]! ? this.lo[k]! : this.hi[k]!;
    this.mode[k] = HEAP;
    for (let i = (size >> 1) - 1; i >= 0; i--) this.siftDown(base + i, k);
  }

  private park(j: number): void {
    const k = this.classOf[j]!;
    if (this.mode[k] === ROTATION) this.toHeap(k);
    this.parkedAt[j] = this.step;
    this.remove(j, k);
  }

  private unpark(j: number): void {
    // No increments while out of rotation: cw stays where it was when the peer left.
    this.off[j] = this.off[j]! - (this.step - this.parkedAt[j]!) * this.weight[j]!;
    const k = this.classOf[j]!;
    if (this.size[k] === 0) {
      // A lone peer is trivially a rotation.
      this.mode[k] = ROTATION;
      this.head[k] = 0;
      this.hi[k] = this.off[j]!;
    } else if (this.mode[k] === ROTATION) {
      this.toHeap(k);
    }
    this.insert(j, k);
  }

  private renormalize(): void {
    const step = this.step;
    for (let j = 0; j < this.n; j++) {
      this.off[j] = this.off[j]! + step * this.weight[j]!;
      this.parkedAt[j] = this.parkedAt[j]! - step;
    }
    for (let k = 0; k < this.classes; k++) {
      this.lo[k] = this.lo[k]! + step * this.classWeight[k]!;
      this.hi[k] = this.hi[k]! + step * this.classWeight[k]!;
    }
    this.step = 0;
  }

  private insert(j: number, k: number): void {
    const s = this.start[k]! + this.size[k]!++;
    this.seg[s] = j;
    this.slot[j] = s;
    this.total += this.weight[j]!;
    if (this.mode[k] === HEAP) this.siftUp(s, k);
  }

  private remove(j: number, k: number): void {
    const s = this.slot[j]!;
    const last = this.start[k]! + --this.size[k]!;
    this.slot[j] = -1;
    this.total -= this.weight[j]!;
    if (s !== last) {
      const moved = this.seg[last]!;
      this.seg[s] = moved;
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
    const seg = this.seg;
    const base = this.start[k]!;
    const j = seg[s]!;
    while (s > base) {
      const parent = base + ((s - base - 1) >> 1);
      const p = seg[parent]!;
      if (!this.before(j, p)) break;
      seg[s] = p;
      this.slot[p] = s;
      s = parent;
    }
    seg[s] = j;
    this.slot[j] = s;
  }

  private siftDown(s: number, k: number): void {
    const seg = this.seg;
    const base = this.start[k]!;
    const end = base + this.size[k]!;
    const j = seg[s]!;
    for (;;) {
      let child = base + 2 * (s - base) + 1;
      if (child >= end) break;
      const right = child + 1;
      if (right < end && this.before(seg[right]!, seg[child]!)) child = right;
      const c = seg[child]!;
      if (!this.before(c, j)) break;
      seg[s] = c;
      this.slot[c] = s;
      s = child;
    }
    seg[s] = j;
    this.slot[j] = s;
  }
}

function inRotation<T extends Target>(m: Member<T>): boolean {
  return m.blocked === 0 && m.active < m.maxActive;
}
