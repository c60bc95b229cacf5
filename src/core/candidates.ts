import { AliasTable, randomIndex } from './sampling.js';
import type { Member } from './member.js';
import type { RandomSource } from './rng.js';
import type { Target } from '../types.js';

/** Draw attempts per wanted candidate before falling back to an exact O(n) draw. */
const ATTEMPTS_PER_CHOICE = 4;

/**
 * Draws up to `want` distinct available members, each in proportion to its effective weight,
 * for the power-of-d-choices family (`PeakEwma`, `Hcl`). Candidates are drawn without
 * replacement: comparing a target with itself wastes the choice (Envoy issue #11004; Finagle's
 * P2C draws its second index from the other `n - 1`).
 *
 * O(want) per draw through an alias table and a stamp array; when rejection sampling stalls (a
 * dominant weight, many unavailable members) the remaining candidates come from an O(n) partial
 * Fisher-Yates shuffle of the available members not drawn yet, uniformly. Nothing is allocated
 * outside `rebuild`.
 */
export class CandidateDraw {
  /** The drawn member indices, `out[0..count)` after {@link CandidateDraw.draw}. */
  out = new Int32Array(0);
  private readonly table = new AliasTable();
  /** `seen[i] === stamp` marks index i as already drawn in the current draw. */
  private seen = new Uint32Array(0);
  private stamp = 0;
  private scratch = new Int32Array(0);

  /** Rebuilds for `members` (weights are read from `effectiveWeight`); `want` bounds a draw. */
  rebuild<T extends Target>(members: readonly Member<T>[], want: number): void {
    const n = members.length;
    const weights = new Float64Array(n);
    for (let i = 0; i < n; i++) weights[i] = members[i]!.effectiveWeight;
    this.table.build(weights, n);
    this.seen = new Uint32Array(n);
    this.scratch = new Int32Array(n);
    this.out = new Int32Array(want < n ? want : n);
    this.stamp = 0;
  }

  /**
   * Draws `min(want, n)` distinct candidates into `out` and returns how many it found: fewer
   * only when fewer members are available (0 when none is). `filtered` false means every member
   * is available, so availability is not checked.
   */
  draw<T extends Target>(random: RandomSource, members: readonly Member<T>[], filtered: boolean, want: number): number {
    const n = members.length;
    const out = this.out;
    if (n <= 1) {
      if (n === 1 && (!filtered || members[0]!.available())) {
        out[0] = 0;
        return 1;
      }
      return 0;
    }
    const k = want < n ? want : n;
    if (++this.stamp === 0xffffffff) {
      this.seen.fill(0);
      this.stamp = 1;
    }
    const stamp = this.stamp;
    const seen = this.seen;
    let got = 0;
    for (let attempts = k * ATTEMPTS_PER_CHOICE; attempts > 0 && got < k; attempts--) {
      const i = this.table.sample(random);
      if (seen[i] === stamp) continue;
      seen[i] = stamp;
      if (filtered && !members[i]!.available()) continue;
      out[got++] = i;
    }
    return got === k ? got : this.complete(random, members, filtered, got, k);
  }

  /** Adds uniformly drawn available members not drawn yet until `k` (or all available) are out. */
  private complete<T extends Target>(random: RandomSource, members: readonly Member<T>[], filtered: boolean, got: number, k: number): number {
    const pool = this.scratch;
    const seen = this.seen;
    const stamp = this.stamp;
    let count = 0;
    for (let i = 0; i < members.length; i++) {
      if (seen[i] !== stamp && (!filtered || members[i]!.available())) pool[count++] = i;
    }
    const missing = k - got < count ? k - got : count;
    for (let j = 0; j < missing; j++) {
      const r = j + randomIndex(random, count - j);
      const i = pool[r]!;
      pool[r] = pool[j]!;
      pool[j] = i;
      this.out[got++] = i;
    }
    return got;
  }
}
