import { HashSelector } from './hash-selector.js';
import { WeightWalk } from './weights.js';
import type { Member } from '../core/member.js';
import type { Target } from '../types.js';

/** nginx: `if (++tries > 20) return get_rr_peer(...)` in `hash` and `ip_hash`: 21 rounds at most. */
const MAX_ROUNDS = 21;

/**
 * The candidate walk nginx's `hash $key` and `ip_hash` share: each round hashes again (how is
 * the subclass's `round`), maps the hash onto the weighted list of targets ({@link WeightWalk}),
 * and offers that target unless it was offered already (a repeat still counts as a try, as in
 * nginx). After nginx's 21 rounds, where nginx turns to round robin, the remaining targets are
 * offered in list order after the last candidate, so the fallback stays the same for the same
 * key.
 */
export abstract class NginxRehashSelector<T extends Target> extends HashSelector<T> {
  protected readonly walk = new WeightWalk();
  /** Rounds done for the current key. */
  private rounds = 0;
  private offered = 0;
  private last = 0;
  private scanned = 0;

  constructor() {
    super(0);
  }

  protected build(members: readonly Member<T>[]): void {
    this.walk.build(members);
  }

  /**
   * Hashes round `r` (0 for the first) of the current key and returns the point on the weighted
   * walk, in [0, walk.total).
   */
  protected abstract round(r: number): number;

  /** Starts the walk for a new key (after the subclass has taken in the key). */
  protected restart(): number {
    this.rounds = 0;
    this.offered = 0;
    this.last = 0;
    this.scanned = 0;
    return this.next();
  }

  protected next(): number {
    const n = this.members.length;
    if (this.offered >= n) return -1;
    while (this.rounds < MAX_ROUNDS) {
      const p = this.walk.find(this.round(this.rounds++));
      this.last = p;
      if (this.offer(p)) {
        this.offered++;
        return p;
      }
    }
    while (this.scanned < n) {
      let p = this.last + 1 + this.scanned++;
      if (p >= n) p -= n;
      if (this.offer(p)) {
        this.offered++;
        return p;
      }
    }
    return -1;
  }
}
