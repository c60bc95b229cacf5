import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidWeightError, NoTargetError, type Target } from '../../src/index.js';
import { ModuloHash } from '../../src/hashing/modulo-hash.js';
import { anyString } from '../core/hash/arbitraries.js';
import { nginxHashPick } from '../support/nginx-hash-reference.js';
import { readNginxFixture, type HashCase } from '../support/nginx-fixtures.js';
import { expectDownMovesOnlyItsKeys } from '../support/hash-properties.js';

const fixture = readNginxFixture<HashCase>('nginx-hash.json');

describe('ModuloHash: parity with a real nginx (hash $key)', () => {
  it(`has recorded cases (${fixture.nginx})`, () => {
    expect(fixture.cases.filter((c) => c.fallback === undefined).length).toBeGreaterThanOrEqual(5);
    expect(fixture.cases.some((c) => c.fallback === 'round-robin')).toBe(true);
  });
  for (const c of fixture.cases) {
    it(`picks what nginx picked for every key: ${c.name} (${c.keys.length} keys)`, () => {
      const lb = new ModuloHash(c.servers);
      expect(c.keys.map((k) => lb.pick(k).id)).toEqual(c.expected);
    });
  }
});

const weights = fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 9 });
const named = (ws: readonly number[]) => ws.map((weight, i) => ({ id: `10.0.0.${i}:80`, weight }));

describe('ModuloHash: the transcribed nginx loop (rehash on ineligible peers)', () => {
  it('agrees with nginx wherever nginx is deterministic, with peers down and tried', () => {
    fc.assert(
      fc.property(weights, fc.array(fc.string({ minLength: 1 }), { minLength: 1, maxLength: 20 }), fc.array(fc.nat(), { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 3 }), (ws, keys, downs, excl) => {
        const servers = named(ws);
        const lb = new ModuloHash(servers);
        const down = new Set(downs.map((d) => d % ws.length));
        for (const d of down) lb.markDown(servers[d]!.id);
        const exclude = [...new Set(excl.map((e) => servers[e % ws.length]!.id))];
        const eligible = (i: number) => !down.has(i) && !exclude.includes(servers[i]!.id);
        for (const key of keys) {
          const ref = nginxHashPick(ws, key, eligible);
          const pick = () => lb.pick({ key, exclude }).id;
          if (ws.every((_, i) => !eligible(i))) {
            expect(pick).toThrow(NoTargetError);
          } else if (ref === 'rr') {
            // nginx: one peer, or 21 failed rounds -> round robin; ours: an eligible peer,
            // the same one every time.
            const got = pick();
            expect(servers.findIndex((s) => s.id === got)).toSatisfy(eligible);
            expect(pick()).toBe(got);
          } else {
            expect(pick()).toBe(servers[ref]!.id);
          }
        }
      }),
      { numRuns: 400 },
    );
  });

  it('rehashes with the decimal round number in front of the key (rounds 1..20)', () => {
    // Ten peers, seven down: most keys need one or more rehashes, and which live peer they
    // reach depends on every round's CRC ("1key", "2key", ...) and on the running sum.
    const ws = [1, 2, 1, 3, 1, 1, 2, 1, 1, 2];
    const servers = named(ws);
    const lb = new ModuloHash(servers);
    const live = new Set([2, 5, 9]);
    for (let i = 0; i < ws.length; i++) if (!live.has(i)) lb.markDown(servers[i]!.id);
    let rehashed = 0;
    for (let k = 0; k < 2000; k++) {
      const key = `key-${k}`;
      const ref = nginxHashPick(ws, key, (i) => live.has(i));
      if (ref === 'rr') continue;
      expect(lb.pick(key).id).toBe(servers[ref]!.id);
      if (!live.has(nginxHashPick(ws, key, () => true) as number)) rehashed++;
    }
    expect(rehashed).toBeGreaterThan(1000);
  });
});

describe('ModuloHash: properties', () => {
  it('maps any key the same in a fresh instance', () => {
    const servers = named([3, 1, 2, 5]);
    const a = new ModuloHash(servers);
    const b = new ModuloHash(servers);
    fc.assert(
      fc.property(anyString.filter((k) => k !== ''), (key) => {
        expect(a.pick(key)).toBe(b.pick(key));
        expect(servers).toContain(a.pick(key));
      }),
      { numRuns: 1000 },
    );
    for (const k of ['__proto__', 'constructor', '\ud800', 'ключ', '🔑']) expect(a.pick(k)).toBe(b.pick(k));
  });

  // The slot is v mod W with v = (crc32(key) >> 16) & 0x7fff, 15 bits. Peer i owns w_i of
  // every W consecutive values of v, so with v uniform it gets between w_i·floor(32768/W) and
  // w_i·ceil(32768/W) of the 32768 values: its probability is within w_i/32768 of w_i/W. Over K
  // keys add six binomial standard deviations.
  it('gives each peer its weight share within the derived bound', () => {
    fc.assert(
      fc.property(weights.filter((ws) => ws.length > 1), (ws) => {
        const servers = named(ws);
        const lb = new ModuloHash(servers);
        const K = 20000;
        const counts = new Map<string, number>();
        for (let i = 0; i < K; i++) {
          const id = lb.pick(`share-${i}`).id;
          counts.set(id, (counts.get(id) ?? 0) + 1);
        }
        const W = ws.reduce((a, b) => a + b, 0);
        servers.forEach((s) => {
          const p = s.weight / W;
          expect(Math.abs((counts.get(s.id) ?? 0) - K * p)).toBeLessThanOrEqual((K * s.weight) / 32768 + 6 * Math.sqrt(K * p) + 1);
        });
      }),
      { numRuns: 40 },
    );
  });

  it("moves only a down peer's keys, the same way every time, and takes them back on markUp", () => {
    fc.assert(
      fc.property(weights.filter((ws) => ws.length > 1), fc.nat(), (ws, r) => {
        const servers = named(ws);
        const keys = Array.from({ length: 400 }, (_, i) => `k${i}`);
        expectDownMovesOnlyItsKeys(() => new ModuloHash(servers), keys, servers[r % ws.length]!.id);
      }),
      { numRuns: 60 },
    );
  });
});

describe('ModuloHash: empty key and weights', () => {
  it('uses nginx smooth weighted round robin for the empty key, skipping down and excluded peers', () => {
    const lb = new ModuloHash([{ id: 'a', weight: 5 }, 'b', 'c']);
    const ids = () => Array.from({ length: 7 }, () => lb.pick('')).map((t) => (typeof t === 'string' ? t : t.id));
    expect(ids()).toEqual(['a', 'a', 'b', 'a', 'c', 'a', 'a']);
    lb.markDown('b');
    expect(Array.from({ length: 6 }, () => lb.pick({ key: '', exclude: ['a'] }))).toEqual(['c', 'c', 'c', 'c', 'c', 'c']);
  });

  it('takes integer weights only, like nginx, and a failed call changes nothing', () => {
    const lb = new ModuloHash<Target>([{ id: 'a', weight: 2 }, 'b']);
    for (const w of [1.5, 0.1, 10_001]) {
      expect(() => new ModuloHash([{ id: 'x', weight: w }])).toThrow(InvalidWeightError);
      expect(() => lb.add({ id: 'c', weight: w })).toThrow(/integer/);
      expect(() => lb.setTargets(['q', { id: 'c', weight: w }])).toThrow(InvalidWeightError);
      expect(() => lb.setWeight('a', w)).toThrow(InvalidWeightError);
    }
    expect(lb.targets()).toEqual([{ id: 'a', weight: 2 }, 'b']);
  });
});
