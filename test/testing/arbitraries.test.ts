import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as lw from '../../src/index.js';
import type { Balancer, Target } from '../../src/index.js';
import {
  arbitraryKey,
  arbitraryTarget,
  arbitraryTargetId,
  arbitraryTargets,
  arbitraryWeight,
  type ArbitraryTarget,
} from '../../src/testing/arbitraries.js';
import { runConformance } from '../../src/testing/index.js';

type Ctor = new (targets: readonly Target[], options?: { seed?: number }) => Balancer<Target>;
const all = (lw as unknown as Record<string, unknown>);
const BALANCERS = ['RoundRobin', 'WeightedRoundRobin', 'Random', 'WeightedRandom', 'LeastConnections', 'PowerOfTwoChoices', 'Rendezvous', 'ConsistentHash', 'Maglev', 'PeakEwma', 'LeastTime', 'Hcl'].filter(
  (name) => typeof all[name] === 'function',
);
const INTEGER_ONLY = ['JumpHash', 'ModuloHash', 'IpHash'];
const id = (t: ArbitraryTarget | string) => (typeof t === 'string' ? t : t.id);
const params = { numRuns: 60, seed: 0x7e57 };

describe('arbitraryWeight', () => {
  it('generates finite weights > 0 within the range', () => {
    fc.assert(fc.property(arbitraryWeight(), (w) => Number.isFinite(w) && w >= 1 && w <= 100), params);
    fc.assert(fc.property(arbitraryWeight({ min: 1e-6, max: 1e-3 }), (w) => w >= 1e-6 && w <= 1e-3), params);
    fc.assert(fc.property(arbitraryWeight({ min: 0.5, max: 7.5, integer: true }), (w) => Number.isInteger(w) && w >= 1 && w <= 7), params);
  });

  it('rejects ranges that would allow invalid weights', () => {
    expect(() => arbitraryWeight({ min: 0 })).toThrow(RangeError);
    expect(() => arbitraryWeight({ min: -1 })).toThrow(RangeError);
    expect(() => arbitraryWeight({ max: Number.POSITIVE_INFINITY })).toThrow(RangeError);
    expect(() => arbitraryWeight({ min: 5, max: 2 })).toThrow(RangeError);
    expect(() => arbitraryWeight({ min: 1.2, max: 1.8, integer: true })).toThrow(/no integer/);
    // Outside what loadwise accepts (issue 14, defect 1).
    expect(() => arbitraryWeight({ min: 1e-10 })).toThrow(/MIN_WEIGHT, MAX_WEIGHT/);
    expect(() => arbitraryWeight({ max: 1e10 })).toThrow(/MIN_WEIGHT, MAX_WEIGHT/);
    fc.assert(fc.property(arbitraryWeight({ min: lw.MIN_WEIGHT, max: lw.MAX_WEIGHT }), (w) => w >= lw.MIN_WEIGHT && w <= lw.MAX_WEIGHT), params);
    expect(() => arbitraryWeight({ min: lw.MIN_WEIGHT * (1 - 2 ** -53) })).toThrow(RangeError);
    expect(() => arbitraryWeight({ max: lw.MAX_WEIGHT * (1 + 2 ** -52) })).toThrow(RangeError);
  });
});

describe('arbitraryTargets', () => {
  it('generates unique non-empty ids, valid weights, and at least one primary', () => {
    fc.assert(
      fc.property(arbitraryTargets({ backup: true, maxActive: true, maxLength: 15 }), (ts) => {
        expect(ts.length).toBeGreaterThanOrEqual(1);
        expect(new Set(ts.map(id)).size).toBe(ts.length);
        for (const t of ts) {
          expect(t.id.length).toBeGreaterThan(0);
          if (t.weight !== undefined) expect(Number.isFinite(t.weight) && t.weight >= 1 && t.weight <= 100).toBe(true);
          if (t.maxActive !== undefined) expect(Number.isInteger(t.maxActive) && t.maxActive >= 1 && t.maxActive <= 10).toBe(true);
        }
        expect(ts.some((t) => t.backup !== true)).toBe(true);
      }),
      params,
    );
  });

  it('honours the length range, string targets, and turning fields off', () => {
    fc.assert(
      fc.property(arbitraryTargets({ minLength: 3, maxLength: 4, strings: true, weight: false }), (ts) => {
        expect(ts.length).toBeGreaterThanOrEqual(3);
        expect(ts.length).toBeLessThanOrEqual(4);
        for (const t of ts) if (typeof t !== 'string') expect(Object.keys(t)).toEqual(['id']);
      }),
      params,
    );
    const sample = fc.sample(arbitraryTargets({ strings: true, maxLength: 30, minLength: 30 }), { numRuns: 5, seed: 1 }).flat();
    expect(sample.some((t) => typeof t === 'string')).toBe(true);
    expect(sample.some((t) => typeof t !== 'string')).toBe(true);
    expect(fc.sample(arbitraryTargets({ minLength: 0, maxLength: 0 }), 3)).toEqual([[], [], []]);
    expect(() => arbitraryTargets({ minLength: 5, maxLength: 2 })).toThrow(RangeError);
    expect(() => arbitraryTargets({ maxActive: { min: 0, max: 3 } })).toThrow(RangeError);
  });

  it('uses a custom id arbitrary', () => {
    const ts = fc.sample(arbitraryTargets({ id: fc.constantFrom('x', 'y', 'z'), minLength: 3, maxLength: 3 }), 10);
    for (const t of ts) expect(t.map(id).sort()).toEqual(['x', 'y', 'z']);
  });

  it('is deterministic for a fast-check seed', () => {
    const a = fc.sample(arbitraryTargets(), { numRuns: 5, seed: 42 });
    const b = fc.sample(arbitraryTargets(), { numRuns: 5, seed: 42 });
    expect(a).toEqual(b);
  });
});

describe('generated targets are accepted by the balancers', () => {
  for (const name of BALANCERS) {
    it(name, () => {
      const C = all[name] as Ctor;
      fc.assert(
        fc.property(arbitraryTargets({ backup: true, maxActive: true, strings: true, maxLength: 12 }), arbitraryKey(), (ts, key) => {
          const lb = new C(ts, { seed: 1 });
          expect(lb.size).toBe(ts.length);
          expect(ts).toContain(lb.pick(key));
          const lease = lb.acquire({ key });
          expect(ts).toContain(lease.target);
          expect(lease.release('success')).toBe(true);
        }),
        params,
      );
    });
  }
  for (const name of INTEGER_ONLY) {
    it(`${name} (integer weights)`, () => {
      const C = all[name] as Ctor;
      const weight = { min: 1, max: 20, integer: true };
      fc.assert(
        fc.property(arbitraryTargets({ weight, backup: true, maxLength: 12 }), fc.ipV4(), (ts, key) => {
          const lb = new C(ts, { seed: 1 });
          expect(ts).toContain(lb.pick(key));
        }),
        params,
      );
    });
  }

  it('single generated targets work with add()', () => {
    const lb = new lw.RoundRobin<Target>([]);
    fc.assert(
      fc.property(arbitraryTarget({ maxActive: { min: 2, max: 2 } }), (t) => {
        if (lb.targets().some((x) => lw.targetId(x) === t.id)) return;
        lb.add(t);
        expect(lb.stats().at(-1)!.id).toBe(t.id);
      }),
      params,
    );
  });

  it('arbitraryTargetId ids pass the conformance of a balancer built from them', () => {
    const ids = fc.sample(fc.uniqueArray(arbitraryTargetId(), { minLength: 3, maxLength: 3 }), { numRuns: 1, seed: 9 })[0]!;
    const lb = new lw.ConsistentHash(ids);
    expect(lb.targets()).toEqual(ids);
    expect(runConformance((targets, { seed }) => new lw.ConsistentHash(targets, { seed }), { only: ['members'], key: (i) => ids[i % 3]! })[0]!.ok).toBe(true);
  });
});
