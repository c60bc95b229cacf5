import type { Member } from './member.js';
import type { RandomSource } from './rng.js';
import type { Target } from '../types.js';

/** A uniform index in [0, n) from one draw; clamped because `r * n` can round up to `n`. */
export function randomIndex(random: RandomSource, n: number): number {
  const i = Math.floor(random() * n);
  return i < n ? i : n - 1;
}

/**
 * Walker/Vose alias table: O(n) build, O(1) weighted sampling from a single uniform draw
 * (the integer part picks a column, the fraction decides between the column and its alias).
 */
export class AliasTable {
  private prob = new Float64Array(0);
  private alias = new Int32Array(0);
  private n = 0;

  /** Rebuilds the table for `weights[0..n)` (each > 0). */
  build(weights: ArrayLike<number>, n: number): void {
    if (this.prob.length < n) {
      this.prob = new Float64Array(n);
      this.alias = new Int32Array(n);
    }
    this.n = n;
    if (n === 0) return;
    let total = 0;
    for (let i = 0; i < n; i++) total += weights[i]!;
    const scaled = new Float64Array(n);
    const small = new Int32Array(n);
    const large = new Int32Array(n);
    let ns = 0;
    let nl = 0;
    for (let i = 0; i < n; i++) {
      const p = (weights[i]! * n) / total;
      scaled[i] = p;
      if (p < 1) small[ns++] = i;
      else large[nl++] = i;
    }
    const prob = this.prob;
    const alias = this.alias;
    while (ns > 0 && nl > 0) {
      const s = small[--ns]!;
      const l = large[nl - 1]!;
      prob[s] = scaled[s]!;
      alias[s] = l;
      const rest = scaled[l]! + scaled[s]! - 1;
      scaled[l] = rest;
      if (rest < 1) {
        nl--;
        small[ns++] = l;
      }
    }
    // Whatever is left is 1 up to rounding error.
    while (nl > 0) {
      const l = large[--nl]!;
      prob[l] = 1;
      alias[l] = l;
    }
    while (ns > 0) {
      const s = small[--ns]!;
      prob[s] = 1;
      alias[s] = s;
    }
  }

  /** An index drawn with probability proportional to its weight. */
  sample(random: RandomSource): number {
    const n = this.n;
    const x = random() * n;
    let i = Math.floor(x);
    if (i >= n) i = n - 1;
    return x - i < this.prob[i]! ? i : this.alias[i]!;
  }
}

/** The slow path when random probing keeps hitting unavailable members: uniform over the available ones. */
export function uniformAvailable<T extends Target>(members: readonly Member<T>[], random: RandomSource): number {
  let count = 0;
  for (let i = 0; i < members.length; i++) if (members[i]!.available()) count++;
  if (count === 0) return -1;
  let k = randomIndex(random, count);
  for (let i = 0; i < members.length; i++) {
    if (members[i]!.available() && k-- === 0) return i;
  }
  return -1;
}

/** The slow path for weighted draws: proportional to effective weight over the available members. */
export function weightedAvailable<T extends Target>(members: readonly Member<T>[], random: RandomSource): number {
  let total = 0;
  let last = -1;
  for (let i = 0; i < members.length; i++) {
    const m = members[i]!;
    if (m.available()) {
      total += m.effectiveWeight;
      last = i;
    }
  }
  if (last < 0) return -1;
  let r = random() * total;
  for (let i = 0; i < last; i++) {
    const m = members[i]!;
    if (m.available()) {
      r -= m.effectiveWeight;
      if (r < 0) return i;
    }
  }
  return last;
}
