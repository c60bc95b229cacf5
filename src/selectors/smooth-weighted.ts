import type { Member } from '../core/member.js';
import type { Selector } from '../core/selector.js';
import type { Target } from '../types.js';

/**
 * Fold the step counter into the offsets before `step × weight` can lose integer precision:
 * with weights up to MAX_WEIGHT = 10⁹ < 2^30, step × weight stays below 2^22 × 2^30 = 2^52.
 */
const RENORMALIZE_AT = 2 ** 22;
const ROTATION = 0;
const HEAP = 1;
/** Longest period (sum of weights) worth precomputing as a schedule. */
const MAX_PERIOD = 1 << 16;
/** Engine snapshots every this many steps of the recorded period, to resume from any position. */
const CHECKPOINT = 64;

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
 *
 * Schedule: from nginx's starting state (every `cw` zero, every peer available) the sequence is
 * periodic with period W = Σ weights, because each peer is picked exactly `w` times per period
 * and every `cw` returns to zero. So the first period is recorded as the engine plays it (with
 * a snapshot every 64 steps) and then replayed: O(1) per pick. The first skip resumes the engine
 * from the nearest snapshot, at most 64 steps back, and it carries on from there.
 * Cost per pick: O(1) in the steady state from a fresh start (integer weights, W ≤ 65,536),
 * O(K) with K distinct weights while undisturbed, O(K + log n) otherwise.
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

  /**
   * nginx's effective weights after passive failures: a failure lowers a peer's to
   * `ew - weight / max_fails` and every round it is considered regrows it by one. While any peer
   * is below its weight ("degraded"), picks run nginx's own O(n) loop on explicit current
   * weights; once all have regrown, the engine is rebuilt from those current weights.
   */
  private degraded = false;
  private cw = new Float64Array(0);
  private ew = new Float64Array(0);
  /** Peers whose effective weight is below their weight. */
  private deficit = 0;

  /** The recorded period (see the class comment), or null. */
  private sched: Int32Array | null = null;
  private period = 0;
  /** Position in the period: the next pick while replaying, the next step while recording. */
  private schedPos = 0;
  private recording = false;
  private replaying = false;
  private cpHead = new Int32Array(0);
  private cpHi = new Float64Array(0);
  private cpLo = new Float64Array(0);
  private cpRound = new Float64Array(0);

  rebuild(members: readonly Member<T>[]): void {
    if (this.replaying) this.leaveReplay();
    // Keep each retained peer's current weight, so a membership change does not restart the
    // rotation; new peers start at 0 as in nginx.
    const previous = new Map<Member<T>, number>();
    for (let j = 0; j < this.n; j++) previous.set(this.members[j]!, this.degraded ? this.cw[j]! : this.currentWeight(j));
    // Like an nginx reload, a rebuild restores full effective weights.
    this.degraded = false;
    this.deficit = 0;

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
      const w = m.effectiveWeight;
      this.weight[j] = w;
      this.off[j] = previous.get(m) ?? 0;
      let k = classByWeight.get(w);
      if (k === undefined) {
        k = counts.length;
        classByWeight.set(w, k);
        counts.push(0);
        weights.push(w);
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
    this.startSchedule();
  }

  select(_key: string | undefined, _filtered: boolean, excluded: readonly Member<T>[], excludedCount: number): number {
    if (this.degraded) return this.nginxRound();
    if (this.replaying) {
      if (excludedCount === 0 || !this.excludesOwn(excluded, excludedCount)) {
        const j = this.sched![this.schedPos]!;
        this.schedPos = this.schedPos + 1 === this.period ? 0 : this.schedPos + 1;
        return j;
      }
      this.leaveReplay();
    }
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
      if (this.recording && this.schedPos % CHECKPOINT === 0) this.checkpoint(this.schedPos / CHECKPOINT);
      best = this.advance();
      if (this.recording) {
        this.sched![this.schedPos++] = best;
        if (this.schedPos === this.period) this.finishRecording();
      }
    }
    for (let h = 0; h < held; h++) this.unpark(this.held[h]!);
    return best;
  }

  /** One round of nginx's loop over the peers in rotation; returns the winner. */
  private advance(): number {
    const total = this.total;
    let best = -1;
    const step = ++this.step;
    let bestClass = -1;
    let bestValue = 0;
    // Locals, so the loop reads each table once per class rather than reloading `this.x`.
    const size = this.size;
    const mode = this.mode;
    const seg = this.seg;
    const start = this.start;
    const head = this.head;
    const hi = this.hi;
    const off = this.off;
    const classWeight = this.classWeight;
    for (let k = 0, K = this.classes; k < K; k++) {
      if (size[k] === 0) continue;
      let top: number;
      let value: number;
      if (mode[k] === ROTATION) {
        top = seg[start[k]! + head[k]!]!;
        value = step * classWeight[k]! + hi[k]!;
      } else {
        top = seg[start[k]!]!;
        value = step * classWeight[k]! + off[top]!;
      }
      if (bestClass < 0 || value > bestValue || (value === bestValue && top < best)) {
        best = top;
        bestClass = k;
        bestValue = value;
      }
    }
    const k = bestClass;
    if (mode[k] === ROTATION && head[k] !== 0 && this.roundTotal[k] !== total) this.toHeap(k);
    if (mode[k] === ROTATION) {
      if (head[k] === 0) {
        this.roundTotal[k] = total;
        this.lo[k] = hi[k]! - total;
      }
      if (++head[k]! === size[k]) {
        head[k] = 0;
        hi[k] = this.lo[k]!;
      }
    } else {
      off[best] = off[best]! - total;
      this.siftDown(this.slot[best]!, k);
    }
    if (step >= RENORMALIZE_AT) this.renormalize();
    return best;
  }

  /** Records a period when the engine is in nginx's starting state with every peer available. */
  private startSchedule(): void {
    this.sched = null;
    this.recording = false;
    this.replaying = false;
    let all = 0;
    for (let j = 0; j < this.n; j++) all += this.weight[j]!;
    const W = this.total;
    if (W === 0 || W !== all || W > MAX_PERIOD || !Number.isInteger(W)) return;
    for (let k = 0; k < this.classes; k++) {
      if (!Number.isInteger(this.classWeight[k]!) || this.mode[k] !== ROTATION || this.head[k] !== 0 || this.hi[k] !== 0) return;
    }
    const K = this.classes;
    const checkpoints = Math.ceil(W / CHECKPOINT);
    this.sched = new Int32Array(W);
    this.period = W;
    this.schedPos = 0;
    this.cpHead = new Int32Array(checkpoints * K);
    this.cpHi = new Float64Array(checkpoints * K);
    this.cpLo = new Float64Array(checkpoints * K);
    this.cpRound = new Float64Array(checkpoints * K);
    this.recording = true;
  }

  /** Saves the per-class rotation state as current weights (offsets at step 0). */
  private checkpoint(c: number): void {
    const K = this.classes;
    const step = this.step;
    for (let k = 0; k < K; k++) {
      const i = c * K + k;
      this.cpHead[i] = this.head[k]!;
      this.cpHi[i] = this.hi[k]! + step * this.classWeight[k]!;
      this.cpLo[i] = this.lo[k]! + step * this.classWeight[k]!;
      this.cpRound[i] = this.roundTotal[k]!;
    }
  }

  private finishRecording(): void {
    this.recording = false;
    const step = this.step;
    for (let k = 0; k < this.classes; k++) {
      if (this.mode[k] !== ROTATION || this.head[k] !== 0 || this.hi[k]! + step * this.classWeight[k]! !== 0) {
        this.sched = null;
        return;
      }
    }
    // Back at the starting state: every current weight is zero again.
    this.step = 0;
    for (let k = 0; k < this.classes; k++) this.hi[k] = 0;
    this.schedPos = 0;
    this.replaying = true;
  }

  /** Puts the engine where the replay stands: the nearest snapshot, then the remaining steps. */
  private leaveReplay(): void {
    const p = this.schedPos;
    const c = Math.floor(p / CHECKPOINT);
    const K = this.classes;
    this.step = 0;
    for (let k = 0; k < K; k++) {
      const i = c * K + k;
      this.head[k] = this.cpHead[i]!;
      this.hi[k] = this.cpHi[i]!;
      this.lo[k] = this.cpLo[i]!;
      this.roundTotal[k] = this.cpRound[i]!;
    }
    this.replaying = false;
    this.sched = null;
    for (let s = c * CHECKPOINT; s < p; s++) this.advance();
  }

  /** Whether any excluded member belongs to this tier and is in rotation. */
  private excludesOwn(excluded: readonly Member<T>[], count: number): boolean {
    for (let e = 0; e < count; e++) {
      const m = excluded[e]!;
      if (this.members[m.pos] === m && this.slot[m.pos]! >= 0) return true;
    }
    return false;
  }

  failureRecorded(pos: number, maxFails: number): void {
    const w = this.weight[pos]!;
    const cut = Math.floor(w / maxFails); // nginx: integer `peer->weight / peer->max_fails`
    if (cut === 0) return;
    if (!this.degraded) this.degrade();
    const before = this.ew[pos]!;
    const after = before - cut > 0 ? before - cut : 0;
    this.ew[pos] = after;
    if (before >= w && after < w) this.deficit++;
  }

  /** Switches to nginx's explicit loop, starting from the engine's current weights. */
  private degrade(): void {
    if (this.replaying) this.leaveReplay();
    this.recording = false;
    const n = this.n;
    this.cw = new Float64Array(n);
    for (let j = 0; j < n; j++) this.cw[j] = this.currentWeight(j);
    this.ew = Float64Array.from(this.weight);
    this.deficit = 0;
    this.degraded = true;
  }

  /** One pass of ngx_http_upstream_get_peer over explicit current and effective weights: O(n). */
  private nginxRound(): number {
    const ms = this.members;
    const cw = this.cw;
    const ew = this.ew;
    const weight = this.weight;
    let best = -1;
    let total = 0;
    for (let j = 0; j < this.n; j++) {
      const m = ms[j]!;
      if (m.blocked !== 0 || m.active >= m.maxActive || m.excluded) continue;
      const e = ew[j]!;
      cw[j] = cw[j]! + e;
      total += e;
      if (e < weight[j]!) {
        ew[j] = e + 1 < weight[j]! ? e + 1 : weight[j]!;
        if (ew[j] === weight[j]) this.deficit--;
      }
      if (best < 0 || cw[j]! > cw[best]!) best = j;
    }
    if (best < 0) return -1;
    cw[best] = cw[best]! - total;
    // Every effective weight has regrown: back to the fast engine, from these current weights.
    if (this.deficit === 0) this.rebuild(this.members);
    return best;
  }

  availabilityChanged(pos: number): void {
    if (this.degraded) return; // the explicit loop reads availability itself
    if (this.replaying) this.leaveReplay();
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
    this.recording = false;
    const k = this.classOf[j]!;
    if (this.mode[k] === ROTATION) this.toHeap(k);
    this.parkedAt[j] = this.step;
    this.remove(j, k);
  }

  private unpark(j: number): void {
    this.recording = false;
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
