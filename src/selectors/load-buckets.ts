import type { Member } from '../core/member.js';
import type { Selector } from '../core/selector.js';
import type { Target } from '../types.js';

/**
 * Least connections for a pool of equal weights in O(1): peers sit in buckets by open leases,
 * each bucket a FIFO list (typed-array links), with a pointer to the lowest non-empty bucket. A
 * pick takes the head of the lowest bucket and moves it to that bucket's tail, so ties rotate in
 * list order; an acquire or release moves one peer to the neighbouring bucket.
 */
export class LoadBucketSelector<T extends Target> implements Selector<T> {
  readonly tracksActive = true;
  readonly tracksAvailability = true;

  private members: readonly Member<T>[] = [];
  private next = new Int32Array(0);
  private prev = new Int32Array(0);
  /** Bucket of each peer (its open leases when last seen), or -1 while out of rotation. */
  private level = new Int32Array(0);
  private head = new Int32Array(0);
  private tail = new Int32Array(0);
  private lowest = 0;
  private count = 0;
  /**
   * The latest winner, not yet moved to the back of its bucket: an `acquire` follows at once and
   * moves it to the next bucket anyway, so the rotation is only done when no acquire came.
   */
  private pending = -1;

  rebuild(members: readonly Member<T>[]): void {
    const n = members.length;
    this.members = members;
    this.next = new Int32Array(n);
    this.prev = new Int32Array(n);
    this.level = new Int32Array(n).fill(-1);
    let top = 0;
    for (const m of members) if (m.active > top) top = m.active;
    this.head = new Int32Array(top + 2).fill(-1);
    this.tail = new Int32Array(top + 2).fill(-1);
    this.lowest = 0;
    this.count = 0;
    this.pending = -1;
    for (let j = 0; j < n; j++) if (inRotation(members[j]!)) this.link(j, members[j]!.active);
    this.lowest = this.findLowest(0);
  }

  select(_key: string | undefined, _filtered: boolean, _excluded: readonly Member<T>[], excludedCount: number): number {
    if (this.pending >= 0) this.rotate();
    if (this.count === 0) return -1;
    let j = this.head[this.lowest]!;
    if (excludedCount > 0) {
      let b = this.lowest;
      while (j >= 0 && this.members[j]!.excluded) {
        j = this.next[j]!;
        while (j < 0 && ++b < this.head.length) j = this.head[b]!;
      }
      if (j < 0) return -1;
    }
    this.pending = j;
    return j;
  }

  activeChanged(pos: number): void {
    if (this.pending === pos) this.pending = -1;
    else if (this.pending >= 0) this.rotate();
    const from = this.level[pos]!;
    if (from < 0) return;
    const to = this.members[pos]!.active;
    this.unlink(pos);
    this.link(pos, to);
    if (to < this.lowest) this.lowest = to;
    else if (this.head[this.lowest]! < 0) this.lowest = this.findLowest(this.lowest);
  }

  availabilityChanged(pos: number): void {
    if (this.pending >= 0) this.rotate();
    const inside = this.level[pos]! >= 0;
    const m = this.members[pos]!;
    if (inRotation(m)) {
      if (inside) return;
      this.link(pos, m.active);
      if (m.active < this.lowest || this.count === 1) this.lowest = m.active;
    } else if (inside) {
      this.unlink(pos);
      if (this.count > 0 && this.head[this.lowest]! < 0) this.lowest = this.findLowest(this.lowest);
    }
  }

  /** Moves the pending winner to the back of its bucket, so equal loads take turns. */
  private rotate(): void {
    const j = this.pending;
    this.pending = -1;
    const b = this.level[j]!;
    if (b >= 0 && this.tail[b] !== j) {
      this.unlink(j);
      this.link(j, b);
    }
  }

  private findLowest(from: number): number {
    const head = this.head;
    for (let b = from; b < head.length; b++) if (head[b]! >= 0) return b;
    return 0;
  }

  private link(j: number, b: number): void {
    if (b >= this.head.length) this.grow(b);
    const t = this.tail[b]!;
    this.prev[j] = t;
    this.next[j] = -1;
    if (t >= 0) this.next[t] = j;
    else this.head[b] = j;
    this.tail[b] = j;
    this.level[j] = b;
    this.count++;
  }

  private unlink(j: number): void {
    const b = this.level[j]!;
    const p = this.prev[j]!;
    const q = this.next[j]!;
    if (p >= 0) this.next[p] = q;
    else this.head[b] = q;
    if (q >= 0) this.prev[q] = p;
    else this.tail[b] = p;
    this.level[j] = -1;
    this.count--;
  }

  /** More open leases than buckets: double (amortised O(1), and only ever on a new maximum). */
  private grow(b: number): void {
    const size = Math.max(b + 2, this.head.length * 2);
    const head = new Int32Array(size).fill(-1);
    const tail = new Int32Array(size).fill(-1);
    head.set(this.head);
    tail.set(this.tail);
    this.head = head;
    this.tail = tail;
  }
}

function inRotation<T extends Target>(m: Member<T>): boolean {
  return m.blocked === 0 && m.active < m.maxActive;
}
