import type { Member } from '../core/member.js';
import type { Selector } from '../core/selector.js';
import type { Target } from '../types.js';

/**
 * The shared half of every hash balancer: it walks a key's candidates in the algorithm's
 * preference order and takes the first that may serve, so an ineligible target (down, at
 * `maxActive`, excluded) hands its keys to the same next target every time, and the bounded-load
 * rule (Mirrokni, Thorup, Zadimoghaddam 2018) is one extra test in the same walk.
 *
 * An algorithm supplies `build` (tables, on membership change), `first` (the key's preferred
 * member) and `next` (the following distinct member, -1 when every member has been offered).
 */
export abstract class HashSelector<T extends Target> implements Selector<T> {
  readonly requiresKey = true;
  readonly tracksActive: boolean;
  readonly tracksAvailability: boolean;
  protected members: readonly Member<T>[] = [];
  /** 0 disables bounded loads. */
  private readonly loadFactor: number;
  /** Weight of the members in rotation (not down, below maxActive): the bounded-load denominator. */
  private totalWeight = 0;
  private inRotation = new Uint8Array(0);
  private totalActive = 0;
  private lastActive = new Int32Array(0);
  /** `seen[pos] === stamp` marks members already offered in the current walk. */
  protected seen = new Uint32Array(0);
  protected stamp = 0;

  constructor(loadFactor: number) {
    this.loadFactor = loadFactor;
    this.tracksActive = loadFactor > 0;
    this.tracksAvailability = loadFactor > 0;
  }

  rebuild(members: readonly Member<T>[]): void {
    this.members = members;
    const n = members.length;
    this.seen = new Uint32Array(n);
    this.stamp = 0;
    this.lastActive = new Int32Array(n);
    let w = 0;
    let active = 0;
    this.inRotation = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const m = members[i]!;
      if (inRotation(m)) {
        w += m.weight;
        this.inRotation[i] = 1;
      }
      active += m.active;
      this.lastActive[i] = m.active;
    }
    this.totalWeight = w;
    this.totalActive = active;
    this.build(members);
  }

  select(key: string | undefined, filtered: boolean, _excluded: readonly Member<T>[], _excludedCount: number): number {
    const ms = this.members;
    if (ms.length === 0) return -1;
    if (++this.stamp === 0xffffffff) {
      this.seen.fill(0);
      this.stamp = 1;
    }
    const bounded = this.loadFactor > 0;
    let fallback = -1;
    let c = this.first(key!);
    while (c >= 0) {
      const m = ms[c]!;
      if (!filtered || m.available()) {
        if (!bounded || this.hasRoom(m)) return c;
        // Only reachable when exclusions shrink the pool below the bound's guarantee.
        if (fallback < 0) fallback = c;
      }
      c = this.next();
    }
    return fallback;
  }

  availabilityChanged(pos: number): void {
    const m = this.members[pos]!;
    const now = inRotation(m) ? 1 : 0;
    if (now !== this.inRotation[pos]) {
      this.inRotation[pos] = now;
      this.totalWeight += now === 1 ? m.weight : -m.weight;
    }
  }

  activeChanged(pos: number): void {
    const now = this.members[pos]!.active;
    this.totalActive += now - this.lastActive[pos]!;
    this.lastActive[pos] = now;
  }

  /** Whether `m` may take one more lease under the bound (always, without `loadFactor`). */
  protected roomFor(m: Member<T>): boolean {
    return this.loadFactor === 0 || this.hasRoom(m);
  }

  /**
   * Bounded loads: a member may take one more lease while it holds fewer than
   * ceil(loadFactor × (open leases + 1) × weight / weight in rotation). Some member in rotation
   * always has room, because their capacities sum to at least loadFactor × (leases + 1) > leases.
   */
  private hasRoom(m: Member<T>): boolean {
    const cap = Math.ceil((this.loadFactor * (this.totalActive + 1) * m.weight) / this.totalWeight);
    return m.active < cap;
  }

  /** Builds the algorithm's tables for `members` (the tier, in order). */
  protected abstract build(members: readonly Member<T>[]): void;
  /** Starts a walk for `key`: the preferred member's position. */
  protected abstract first(key: string): number;
  /** The next distinct member in the current walk's preference order, or -1 when exhausted. */
  protected abstract next(): number;

  /** Marks `pos` offered in this walk; false if it already was. */
  protected offer(pos: number): boolean {
    if (this.seen[pos] === this.stamp) return false;
    this.seen[pos] = this.stamp;
    return true;
  }
}

function inRotation<T extends Target>(m: Member<T>): boolean {
  return m.blocked === 0 && m.active < m.maxActive;
}
