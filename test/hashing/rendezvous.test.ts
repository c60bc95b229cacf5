import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Rendezvous, createRandom, type Lease } from '../../src/index.js';
import { differences } from '../support/sequences.js';

type T = { id: string; weight: number };
const hosts = (n: number, weight = (_i: number) => 1): T[] => Array.from({ length: n }, (_, i) => ({ id: `host-${i}`, weight: weight(i) }));
const keys = (count: number, salt = '') => Array.from({ length: count }, (_, i) => `key-${salt}${i}`);

describe('Rendezvous', () => {
  it('maps keys the same way in a fresh instance and whatever the insertion order', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 20 }), fc.array(fc.string(), { maxLength: 50 }), (ids, ks) => {
        const a = new Rendezvous(ids);
        const b = new Rendezvous([...ids].reverse());
        for (const k of ks) expect(b.pick(k)).toBe(a.pick(k));
      }),
    );
  });

  it('accepts keys of any content, including prototype names and lone surrogates', () => {
    const lb = new Rendezvous(['a', 'b', 'c']);
    for (const k of ['', '__proto__', 'constructor', '\ud800', '😀', 'ключ']) expect(['a', 'b', 'c']).toContain(lb.pick(k));
  });

  it('removing a target moves only the keys it owned; adding one takes keys only for itself', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 30 }), fc.nat(), (n, r) => {
        const lb = new Rendezvous(hosts(n));
        const ks = keys(2000, `${n}:`);
        const before = ks.map((k) => lb.pick(k).id);
        const gone = `host-${r % n}`;
        lb.remove(gone);
        const removed = ks.map((k) => lb.pick(k).id);
        const kept = (ids: readonly string[]) => ids.filter((_, i) => before[i] !== gone);
        expect(differences(kept(removed), kept(before))).toEqual([]);
        lb.add({ id: gone, weight: 1 });
        expect(differences(ks.map((k) => lb.pick(k).id), before)).toEqual([]);
      }),
      { numRuns: 40 },
    );
  });

  it('gives each target a share proportional to its weight (logarithmic method)', () => {
    // Each key independently lands on target i with probability w_i / W, so a count is
    // Binomial(K, p_i); 6 standard deviations bound it with false-failure odds below 2e-9 each.
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 2, maxLength: 8 }), (ws) => {
        const lb = new Rendezvous(hosts(ws.length, (i) => ws[i]!));
        const K = 20_000;
        const W = ws.reduce((a, b) => a + b, 0);
        const counts = new Array<number>(ws.length).fill(0);
        for (const k of keys(K, ws.join(','))) counts[Number(lb.pick(k).id.slice(5))]!++;
        ws.forEach((w, i) => {
          const p = w / W;
          expect(Math.abs(counts[i]! - K * p)).toBeLessThanOrEqual(6 * Math.sqrt(K * p * (1 - p)));
        });
      }),
      { numRuns: 20, seed: 0x10ad },
    );
  });

  it('sends a down target’s keys to their next choice, deterministically, and nothing else moves', () => {
    const lb = new Rendezvous(hosts(10));
    const ks = keys(3000);
    const before = ks.map((k) => lb.pick(k).id);
    const ranked = ks.map((k) => lb.pickN(k, 2).map((t) => t.id));
    lb.markDown('host-3');
    const pickAll = () => ks.map((k) => lb.pick(k).id);
    expect(differences(pickAll(), before.map((id, i) => (id === 'host-3' ? ranked[i]![1]! : id)))).toEqual([]);
    lb.markUp('host-3');
    expect(differences(pickAll(), before)).toEqual([]);
  });

  it('pickN returns distinct available targets in preference order, the first being pick(key)', () => {
    const lb = new Rendezvous(hosts(6));
    for (const k of keys(200)) {
      const top = lb.pickN(k, 3);
      expect(top).toHaveLength(3);
      expect(new Set(top).size).toBe(3);
      expect(top[0]).toBe(lb.pick(k));
    }
    lb.markDown('host-0');
    for (const k of keys(50)) expect(lb.pickN(k, 6).map((t) => t.id)).not.toContain('host-0');
    expect(lb.pickN('k', 10)).toHaveLength(5);
  });

  it('bounded loads: no target ever exceeds ceil(c × (open + 1) × w / W); keys with room never move', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 2, maxLength: 8 }),
        fc.double({ min: 1.05, max: 2, noNaN: true }),
        fc.array(fc.record({ release: fc.boolean(), key: fc.nat(40), index: fc.nat() }), { maxLength: 300 }),
        (ws, c, ops) => {
          const targets = hosts(ws.length, (i) => ws[i]!);
          const W = ws.reduce((a, b) => a + b, 0);
          const lb = new Rendezvous(targets, { loadFactor: c });
          const plain = new Rendezvous(targets);
          const open: Lease<T>[] = [];
          for (const op of ops) {
            if (op.release && open.length > 0) {
              open.splice(op.index % open.length, 1)[0]!.release('success');
              continue;
            }
            const before = new Map(lb.stats().map((s) => [s.id, s.active]));
            const total = open.length;
            const key = `k${op.key}`;
            const lease = lb.acquire(key);
            const cap = (t: T) => Math.ceil((c * (total + 1) * t.weight) / W);
            expect(before.get(lease.target.id)! + 1).toBeLessThanOrEqual(cap(lease.target));
            const home = plain.pick(key);
            if (before.get(home.id)! < cap(home)) expect(lease.target).toBe(home);
            open.push(lease);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('bounded loads keep max/mean <= loadFactor under Zipf(1.0) keys, where plain hashing does not', () => {
    // 20 targets, 10,000 leases held open, keys with P(rank r) ∝ 1/r over 1,000 keys. The top
    // key alone carries 1/H(1000) ≈ 13 % of the traffic, 2.7 × a target's fair 5 %, so without
    // bounds max/mean must exceed 2; with c = 1.25 a target stops taking leases at
    // ceil(1.25 × (open + 1) / 20), so max/mean <= 1.25 (+1 lease of rounding).
    const run = (loadFactor?: number) => {
      const lb = new Rendezvous(hosts(20), loadFactor === undefined ? {} : { loadFactor });
      const random = createRandom(99);
      const cdf: number[] = [];
      let sum = 0;
      for (let r = 1; r <= 1000; r++) cdf.push((sum += 1 / r));
      for (let i = 0; i < 10_000; i++) {
        const u = random() * sum;
        let r = 0;
        while (cdf[r]! < u) r++;
        lb.acquire(`item-${r}`);
      }
      const active = lb.stats().map((s) => s.active);
      return Math.max(...active) / (10_000 / 20);
    };
    expect(run()).toBeGreaterThan(2);
    expect(run(1.25)).toBeLessThanOrEqual(1.25 + 20 / 10_000);
  });
});

describe('Rendezvous.pickN and loadFactor agree with pick (issue 14, defect 9)', () => {
  it('with open leases, pickN(key, 1)[0] is pick(key) and acquire(key): the bound applies to all three', () => {
    const lb = new Rendezvous<T>(hosts(3), { loadFactor: 1.25 });
    // Few keys, many leases each: their targets fill up and keys overflow to their next choice.
    const ks = keys(200, 'b').map((_, i) => `hot-${i % 4}`);
    const plain = new Rendezvous<T>(hosts(3));
    const leases: Lease<T>[] = [];
    const mismatches: string[] = [];
    let diverted = 0;
    for (const k of ks) {
      const picked = lb.pick(k).id;
      if (picked !== plain.pick(k).id) diverted++;
      const first = lb.pickN(k, 1)[0]!.id;
      const all = lb.pickN(k, 3).map((t) => t.id);
      const lease = lb.acquire(k);
      leases.push(lease);
      if (picked !== first || picked !== lease.target.id || all[0] !== picked || new Set(all).size !== 3) mismatches.push(`${k}: pick ${picked}, pickN ${all.join(' ')}, acquire ${lease.target.id}`);
    }
    expect(mismatches).toEqual([]);
    // The bound really diverted keys: their plain choice was full at the time.
    expect(diverted).toBeGreaterThan(20);
    for (const l of leases) l.release('success');
    expect(ks.every((k) => plain.pick(k).id === lb.pick(k).id)).toBe(true);
  });

  it('lists the targets with room first, in preference order, and full ones after them', () => {
    const lb = new Rendezvous<T>(hosts(4), { loadFactor: 1.5 });
    const order = lb.pickN('k', 4).map((t) => t.id);
    const held: Lease<T>[] = [];
    // Fill the key's favourite up to its bound.
    while (lb.pick('k').id === order[0]) held.push(lb.acquire('k'));
    expect(lb.pickN('k', 4).map((t) => t.id)).toEqual([...order.slice(1), order[0]]);
    expect(lb.pickN('k', 1)[0]!.id).toBe(lb.pick('k').id);
    for (const l of held) l.release('success');
  });
});

describe('Rendezvous.pickN validates like pick (issue 14, defect 11)', () => {
  const code = (fn: () => unknown): string | undefined => {
    try {
      fn();
    } catch (err) {
      return (err as { code?: string; option?: string }).code + ':' + (err as { option?: string }).option;
    }
    return undefined;
  };

  it('rejects a missing or non-string key with the code and option pick uses', () => {
    const lb = new Rendezvous(['a', 'b', 'c']);
    for (const bad of [5, undefined, null, {}, { key: 5 }, { exclude: 'a' }, true]) {
      const want = code(() => lb.pick(bad as never));
      expect(want).toMatch(/^ERR_INVALID_OPTION:/);
      expect(code(() => lb.pickN(bad as never, 2)), String(bad)).toBe(want);
    }
  });

  it('rejects a count that is not an integer >= 0', () => {
    const lb = new Rendezvous(['a', 'b', 'c']);
    for (const bad of ['2', Number.NaN, -1, 1.5, Number.POSITIVE_INFINITY, undefined, null, 2n]) {
      expect(code(() => lb.pickN('k', bad as never)), String(bad)).toBe('ERR_INVALID_OPTION:count');
    }
    expect(lb.pickN('k', 0)).toEqual([]);
    expect(lb.pickN('k', 99)).toHaveLength(3);
  });

  it('takes { key, exclude } as pick does, and leaves no marks', () => {
    const lb = new Rendezvous(['a', 'b', 'c', 'd']);
    const all = lb.pickN('k', 4);
    expect(lb.pickN({ key: 'k', exclude: [all[0]!] }, 4)).toEqual(all.slice(1));
    expect(lb.pickN({ key: 'k', exclude: [...all] }, 4)).toEqual([]);
    expect(lb.pickN('k', 4)).toEqual(all);
  });
});
