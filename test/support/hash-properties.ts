import { expect } from 'vitest';
import type { Balancer } from '../../src/index.js';

type IdTarget = { readonly id: string };

/**
 * The fallback contract every hash balancer keeps for an unavailable target: marking `down`
 * moves only the keys it had (none of them stays on it), a fresh balancer with `down` marked
 * gives the same mapping (the walk is deterministic), excluding `down` for one pick walks the
 * same way as marking it down, and `markUp` restores the original mapping. `make` builds a
 * fresh balancer over the same targets each time it is called.
 */
export function expectDownMovesOnlyItsKeys(make: () => Balancer<IdTarget>, keys: readonly string[], down: string): void {
  const ids = (lb: Balancer<IdTarget>): string[] => keys.map((k) => lb.pick(k).id);
  const lb = make();
  const before = ids(lb);
  lb.markDown(down);
  const after = ids(lb);
  const wrong = keys.flatMap((k, i) => ((before[i] === down ? after[i] === down : after[i] !== before[i]) ? [`${k}: ${before[i]} -> ${after[i]}`] : []));
  expect(wrong).toEqual([]);
  const twin = make();
  twin.markDown(down);
  expect(ids(twin)).toEqual(after);
  const other = make();
  expect(keys.map((k) => other.pick({ key: k, exclude: [down] }).id)).toEqual(after);
  lb.markUp(down);
  expect(ids(lb)).toEqual(before);
}
