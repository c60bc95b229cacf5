import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SlidingQuantile } from '../../src/core/sliding-quantile.js';

/** Type-7 quantile of the last `size` values, computed from scratch. */
function reference(values: readonly number[], size: number, q: number): number {
  const w = values.slice(-size).sort((a, b) => a - b);
  if (w.length === 0) return Number.NaN;
  const pos = q * (w.length - 1);
  const lo = Math.floor(pos);
  return lo + 1 < w.length ? w[lo]! + (pos - lo) * (w[lo + 1]! - w[lo]!) : w[lo]!;
}

describe('SlidingQuantile (the Q_RIF window of Hcl)', () => {
  it('matches a from-scratch sort of the last `size` values after every push', () => {
    // Small integers give many equal values (the common case for in-flight counts).
    const value = fc.oneof(fc.integer({ min: 0, max: 6 }), fc.double({ min: 0, max: 100, noNaN: true }));
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.array(value, { maxLength: 120 }), (size, values) => {
        const w = new SlidingQuantile(size);
        expect(w.quantile(0.5)).toBeNaN();
        const seen: number[] = [];
        for (const v of values) {
          w.push(v);
          seen.push(v);
          for (const q of [0, 0.16, 0.5, 0.84, 1]) expect(w.quantile(q)).toBe(reference(seen, size, q));
        }
      }),
      { numRuns: 400 },
    );
  });

  it('interpolates between ranks: the 0.84 quantile of 0, 0, 0, 10 is 5.2', () => {
    const w = new SlidingQuantile(64);
    for (const v of [10, 0, 0, 0]) w.push(v);
    expect(w.quantile(0.84)).toBeCloseTo(5.2, 12);
  });

  it('pushAll equals pushing one by one, and markAbove flags exactly the values above the quantile', () => {
    const value = fc.oneof(fc.integer({ min: 0, max: 6 }), fc.double({ min: 0, max: 100, noNaN: true }));
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.array(fc.array(value, { minLength: 1, maxLength: 4 }), { maxLength: 40 }), (size, q, batches) => {
        const one = new SlidingQuantile(size, q);
        const all = new SlidingQuantile(size, q);
        const above = new Uint8Array(4);
        // Nothing exceeds the quantile of an empty window.
        all.markAbove(Float64Array.of(1, 2), 2, above);
        expect([above[0], above[1]]).toEqual([0, 0]);
        for (const batch of batches) {
          for (const v of batch) one.push(v);
          const values = Float64Array.from(batch);
          all.pushAll(values, batch.length);
          const t = one.quantile(q);
          expect(all.quantile(q)).toBe(t);
          all.markAbove(values, batch.length, above);
          for (let k = 0; k < batch.length; k++) expect(above[k]).toBe(batch[k]! > t ? 1 : 0);
        }
      }),
      { numRuns: 300 },
    );
  });
});
