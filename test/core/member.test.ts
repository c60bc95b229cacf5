import { describe, expect, it } from 'vitest';
import { LoadwiseError, MAX_WEIGHT, MIN_WEIGHT } from '../../src/index.js';
import { checkWeight, rampedWeight } from '../../src/core/member.js';
import { CLASSES, request } from '../support/classes.js';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return LoadwiseError.is(err) ? err.code : `raw ${String(err)}`;
  }
  return undefined;
}

describe('weights: bounds (issue 14, defect 1)', () => {
  it('accepts numbers from MIN_WEIGHT = 1e-9 to MAX_WEIGHT = 1e9, and says so when rejecting', () => {
    expect(MIN_WEIGHT).toBe(1e-9);
    expect(MAX_WEIGHT).toBe(1e9);
    for (const w of [MIN_WEIGHT, 1e-3, 1, 2.5, 1e6, MAX_WEIGHT]) expect(checkWeight('a', w)).toBe(w);
    for (const w of [0, -0, -1, 5e-324, 1e-10, MIN_WEIGHT * (1 - 2 ** -53), MAX_WEIGHT * (1 + 2 ** -52), 1e10, 1.7e308, Number.MAX_VALUE, Infinity, -Infinity, NaN, '1', null, undefined, 1n]) {
      expect(() => checkWeight('a', w)).toThrow(/expected a finite number > 0, from MIN_WEIGHT = 1e-9 to MAX_WEIGHT = 1e9/);
    }
  });

  it('every class rejects an out-of-range weight with ERR_INVALID_WEIGHT and leaves itself as it was', () => {
    for (const c of CLASSES) {
      for (const w of [1.7e308, 1e10, 5e-324, 1e-10]) {
        expect(code(() => c.create(['a', { id: 'b', weight: w }])), c.name).toBe('ERR_INVALID_WEIGHT');
        const lb = c.create<string | { id: string; weight?: number }>(['a', 'b'], { seed: 1 });
        const before = lb.pick(request(c, 1)) as string;
        expect(code(() => lb.add({ id: 'c', weight: w })), c.name).toBe('ERR_INVALID_WEIGHT');
        expect(code(() => lb.setWeight('a', w)), c.name).toBe('ERR_INVALID_WEIGHT');
        expect(code(() => lb.setTargets(['a', { id: 'c', weight: w }])), c.name).toBe('ERR_INVALID_WEIGHT');
        expect(lb.targets(), c.name).toEqual(['a', 'b']);
        expect(lb.stats().map((s) => s.weight), c.name).toEqual([1, 1]);
        const again = c.create<string>(['a', 'b'], { seed: 1 });
        expect(again.pick(request(c, 1)), c.name).toBe(before);
      }
    }
  });

  it('every class builds and picks with MIN_WEIGHT next to MAX_WEIGHT (or its own integer maximum)', () => {
    for (const c of CLASSES) {
      if (c.integerWeights) continue;
      const lb = c.create([{ id: 'tiny', weight: MIN_WEIGHT }, { id: 'huge', weight: MAX_WEIGHT }, { id: 'one' }], { seed: 1 });
      const seen = new Set<string>();
      for (let i = 0; i < 50; i++) {
        const lease = lb.acquire(request(c, i));
        seen.add(lease.target.id);
        lease.release({ ok: true, latencyMs: 5 });
      }
      expect([...seen].every((id) => ['tiny', 'huge', 'one'].includes(id)), c.name).toBe(true);
      for (const s of lb.stats()) expect(Number.isFinite(s.effectiveWeight), c.name).toBe(true);
    }
  });

  it('slow start never takes an effective weight below MIN_WEIGHT', () => {
    expect(rampedWeight(2, 0.5)).toBe(1);
    expect(rampedWeight(MIN_WEIGHT, 0.1)).toBe(MIN_WEIGHT);
    expect(rampedWeight(1, 1e-320)).toBe(MIN_WEIGHT);
  });
});
