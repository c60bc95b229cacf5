import { describe, expect, it } from 'vitest';
import { ConsistentHash, JumpHash, Maglev, Rendezvous, type Balancer, type Lease } from '../../src/index.js';

describe('bounded loads: pick(key) is what acquire(key) would return (issue 14, defect 9)', () => {
  const ids = ['a', 'b', 'c', 'd'];
  const cases: [string, () => Balancer<string>][] = [
    ['ConsistentHash', () => new ConsistentHash(ids, { loadFactor: 1.25 })],
    ['ConsistentHash(ketama)', () => new ConsistentHash(ids, { loadFactor: 1.25, compat: 'ketama' })],
    ['Maglev', () => new Maglev(ids, { loadFactor: 1.25 })],
    ['Rendezvous', () => new Rendezvous(ids, { loadFactor: 1.25 })],
    ['JumpHash', () => new JumpHash(ids, { loadFactor: 1.25 })],
  ];
  for (const [name, create] of cases) {
    it(`${name}: the bound applies to pick as it does to acquire, and only while leases are open`, () => {
      const lb = create();
      const plain = create();
      const leases: Lease<string>[] = [];
      const mismatches: string[] = [];
      let diverted = 0;
      for (let i = 0; i < 300; i++) {
        const k = `hot-${i % 3}`;
        const picked = lb.pick(k);
        if (picked !== plain.pick(k)) diverted++;
        const lease = lb.acquire(k);
        if (lease.target !== picked) mismatches.push(`${k}: pick ${picked}, acquire ${lease.target}`);
        leases.push(lease);
      }
      expect(mismatches).toEqual([]);
      expect(diverted).toBeGreaterThan(0);
      for (const l of leases) l.release('success');
      // No lease open: the plain hash choice again.
      for (let i = 0; i < 3; i++) expect(lb.pick(`hot-${i}`)).toBe(plain.pick(`hot-${i}`));
    });
  }
});
