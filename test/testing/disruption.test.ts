import { describe, expect, it } from 'vitest';
import { ConsistentHash, JumpHash, Maglev, ModuloHash, Rendezvous } from '../../src/index.js';
import { DisruptionError, expectMinimalDisruption, measureDisruption } from '../../src/testing/index.js';

const ids = (n: number) => Array.from({ length: n }, (_, i) => `10.0.${i}.1:80`);
const NEW = '10.9.9.9:80';

describe('measureDisruption', () => {
  it('ConsistentHash add: about 1/(n+1) of the keys move, all of them to the new target', () => {
    const n = 10;
    const r = measureDisruption(new ConsistentHash(ids(n)), new ConsistentHash([...ids(n), NEW]), 20_000);
    expect(r.keys).toBe(20_000);
    expect(r.fraction).toBeGreaterThan(0.7 / (n + 1));
    expect(r.fraction).toBeLessThan(1.3 / (n + 1));
    expect(r.moved).toBe(Math.round(r.fraction * r.keys));
    const added = r.targets.find((t) => t.id === NEW)!;
    expect(added).toMatchObject({ before: 0, after: r.moved, movedTo: r.moved, movedFrom: 0 });
    for (const t of r.targets.filter((x) => x.id !== NEW)) {
      expect(t.movedTo).toBe(0);
      expect(t.after).toBe(t.before - t.movedFrom);
    }
    expect(r.flows.every((f) => f.to === NEW)).toBe(true);
    expect(r.flows.reduce((s, f) => s + f.keys, 0)).toBe(r.moved);
    // flows are sorted, most keys first
    for (let i = 1; i < r.flows.length; i++) expect(r.flows[i - 1]!.keys).toBeGreaterThanOrEqual(r.flows[i]!.keys);
  });

  it('ConsistentHash remove: exactly the removed target’s keys move, spread over the others', () => {
    const all = ids(8);
    const gone = all[3]!;
    const r = measureDisruption(new ConsistentHash(all), new ConsistentHash(all.filter((x) => x !== gone)), 16_000);
    const removed = r.targets.find((t) => t.id === gone)!;
    expect(removed.after).toBe(0);
    expect(removed.movedFrom).toBe(removed.before);
    expect(r.moved).toBe(removed.before);
    expect(new Set(r.flows.map((f) => f.from))).toEqual(new Set([gone]));
    expect(new Set(r.flows.map((f) => f.to)).size).toBeGreaterThan(3);
  });

  it('ModuloHash add moves most keys', () => {
    const r = measureDisruption(new ModuloHash(ids(10)), new ModuloHash([...ids(10), NEW]), 10_000);
    expect(r.fraction).toBeGreaterThan(0.8);
  });

  it('takes functions and explicit key lists, and the same router moves nothing', () => {
    const lb = new Rendezvous(ids(5));
    const keys = ['alice', 'bob', 'carol', 'dave'];
    const r = measureDisruption(lb, (k) => lb.pick(k), keys);
    expect(r).toMatchObject({ keys: 4, moved: 0, fraction: 0, flows: [] });
    const flip = measureDisruption(
      (k) => (k.length % 2 === 0 ? 'even' : 'odd'),
      () => 'even',
      new Set(['ab', 'abc', 'abcde']),
    );
    expect(flip).toMatchObject({ keys: 3, moved: 2, flows: [{ from: 'odd', to: 'even', keys: 2 }] });
    expect(flip.targets).toEqual([
      { id: 'even', before: 1, after: 3, movedFrom: 0, movedTo: 2 },
      { id: 'odd', before: 2, after: 0, movedFrom: 2, movedTo: 0 },
    ]);
  });

  it('rejects bad arguments', () => {
    const lb = new Rendezvous(['a']);
    expect(() => measureDisruption(lb, lb, 0)).toThrow(RangeError);
    expect(() => measureDisruption(lb, lb, [])).toThrow(/no keys/);
    expect(() => measureDisruption(lb, 42 as never, 10)).toThrow(TypeError);
    expect(() => measureDisruption(lb, lb, [1 as unknown as string])).toThrow(TypeError);
  });
});

describe('expectMinimalDisruption', () => {
  // Consistent hashing (every mode), rendezvous and jump hash: one test each.
  const makers: [string, (t: string[]) => ConsistentHash | Rendezvous | JumpHash | Maglev][] = [
    ['ConsistentHash', (t) => new ConsistentHash(t)],
    ["ConsistentHash(compat: 'nginx')", (t) => new ConsistentHash(t, { compat: 'nginx' })],
    ["ConsistentHash(compat: 'ketama')", (t) => new ConsistentHash(t, { compat: 'ketama' })],
    ['Rendezvous', (t) => new Rendezvous(t)],
    ['JumpHash', (t) => new JumpHash(t)],
  ];
  for (const [name, make] of makers) {
    it(`passes ${name} for adding or removing one of n`, () => {
      for (const n of [2, 5, 20, 50]) {
        const base = ids(n);
        const add = expectMinimalDisruption(make(base), make([...base, NEW]), 20_000, { message: `${name} add to ${n}` });
        expect(add.bound.minimum).toBeCloseTo(1 / (n + 1), 12);
        expect(add.collateral).toBe(0);
        // jump hash can only drop the last bucket; the others may lose any target
        const removed = name === 'JumpHash' ? base.slice(0, -1) : base.filter((_, i) => i !== n >> 1);
        const rem = expectMinimalDisruption(make(base), make(removed), 20_000, { message: `${name} remove from ${n}` });
        expect(rem.bound.minimum).toBeCloseTo(1 / n, 12);
      }
    });
  }

  it('passes Maglev given a small collateral allowance, which it needs', () => {
    const base = ids(100);
    const before = new Maglev(base);
    const after = new Maglev(base.filter((_, i) => i !== 50));
    expect(() => expectMinimalDisruption(before, after, 20_000)).toThrow(DisruptionError);
    const r = expectMinimalDisruption(before, after, 20_000, { collateral: 0.01, slack: 0.6 });
    expect(r.collateral).toBeGreaterThan(0);
  });

  it('derives the minimum from weights, backups and targets marked down', () => {
    const before = new ConsistentHash([{ id: 'a', weight: 3 }, { id: 'b', weight: 1 }, { id: 'c', weight: 1, backup: true }]);
    const after = new ConsistentHash([{ id: 'a', weight: 3 }, { id: 'b', weight: 1 }, { id: 'c', weight: 1, backup: true }, { id: 'd', weight: 4 }]);
    const r = expectMinimalDisruption(before, after, 20_000);
    expect(r.bound.minimum).toBeCloseTo(0.5, 12); // d takes 4 of 8
    expect(r.bound.shares.find((s) => s.id === 'c')).toEqual({ id: 'c', before: 0, after: 0 });

    const down = new ConsistentHash(ids(4));
    down.markDown(ids(4)[0]!);
    const m = expectMinimalDisruption(new ConsistentHash(ids(4)), down, 20_000);
    expect(m.bound.minimum).toBeCloseTo(0.25, 12);
  });

  it('fails ModuloHash with a message giving the moved fraction, the minimum and the flows', () => {
    let caught: unknown;
    try {
      expectMinimalDisruption(new ModuloHash(ids(10)), new ModuloHash(ids(9)), 20_000, { message: 'ModuloHash' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(DisruptionError);
    const e = caught as DisruptionError;
    expect(e.code).toBe('ERR_DISRUPTION');
    expect(e.message).toMatch(/^ModuloHash: disruption above the minimum:\n- \d+ of 20000 keys moved \(\d+(\.\d+)? %\), more than the \d+(\.\d)? allowed: the change forces at least 10 %/);
    expect(e.message).toMatch(/- \d+ keys \([\d.]+ %\) moved between targets that did not need to change/);
    expect(e.message).toMatch(/flows:\n\s+from\s+to\s+keys\s+needed/);
    expect(e.report.fraction).toBeGreaterThan(0.8);
    expect(e.bound.minimum).toBeCloseTo(0.1, 12);
    expect(e.actual).toBe(e.report.moved);
    expect(e.expected).toBe(e.bound.maxMoved);
  });

  it('fails a balancer that reshuffles keys between surviving targets even when few move', () => {
    const base = new Rendezvous(['a', 'b', 'c', 'd']);
    // same membership, yet the keys of a go to b: every move is collateral
    const after = { pick: (k: string) => { const t = base.pick(k); return t === 'a' ? 'b' : t; }, targets: () => ['a', 'b', 'c', 'd'] };
    expect(() => expectMinimalDisruption(base, after, 10_000, { slack: 5 })).toThrow(/moved between targets that did not need to change/);
  });

  it('rejects bad options', () => {
    const lb = new Rendezvous(['a', 'b']);
    expect(() => expectMinimalDisruption(lb, lb, 10, { confidence: 2 })).toThrow(RangeError);
    expect(() => expectMinimalDisruption(lb, lb, 10, { slack: -1 })).toThrow(RangeError);
    expect(() => expectMinimalDisruption(lb, lb, 10, { collateral: 2 })).toThrow(RangeError);
    expect(() => expectMinimalDisruption(lb, { pick: () => 'a' } as never, 10)).toThrow(/targets\(\)/);
  });
});
