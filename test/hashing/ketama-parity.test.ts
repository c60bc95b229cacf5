/**
 * ConsistentHash's ketama modes against npm `hashring` 3.2 (devDependency), key for key.
 *
 * - compat 'hashring' must equal `new HashRing(servers)` for every key, at every server count
 *   and weight mix: same MD5 points ("<server>-<i>", four little-endian words per digest), same
 *   digest count (Math.floor(weight / total × 40 × n) in doubles), same lookup (first point >=
 *   the key's first MD5 word, wrapping), same tie order (stable sort, config order).
 * - compat 'ketama' is libketama, whose digest count is floorf(pct × 40.0 × (float)n) with
 *   pct = (float)w / (float)total. The two counts agree for most configurations, where the
 *   modes must give identical picks; where they differ (7, 14, 28, 49, 56, 61, … equal servers)
 *   libketama's counts are checked against values computed by libketama's expression compiled
 *   with gcc (x86-64), by giving hashring those counts as per-server vnodes.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { ConsistentHash } from '../../src/hashing/consistent-hash.js';

interface HashRingInstance {
  get(key: string): string;
}
type HashRingCtor = new (servers: unknown, algorithm?: string, options?: Record<string, unknown>) => HashRingInstance;
const HashRing = createRequire(import.meta.url)('hashring') as HashRingCtor;

/** Keys of many shapes: counters, random ASCII, non-ASCII, long. */
function keySet(count: number): string[] {
  const out: string[] = [];
  let s = 7;
  const rnd = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
  for (let i = 0; i < count; i++) {
    switch (i % 5) {
      case 0:
        out.push(`key-${i}`);
        break;
      case 1:
        out.push(`user:${rnd().toString(36)}`);
        break;
      case 2:
        out.push(`ключ-${i}-键-🔑`);
        break;
      case 3:
        out.push(`/assets/${rnd().toString(16)}/${'x'.repeat(i % 97)}.png`);
        break;
      default:
        out.push(String.fromCharCode(33 + (rnd() % 90), 33 + (rnd() % 90), 33 + (rnd() % 90)));
    }
  }
  return out;
}
const KEYS = keySet(5000);
const serverIds = (n: number) => Array.from({ length: n }, (_, i) => `10.0.${i >> 8}.${i & 255}:11211`);

/** hashring's digest count per server (connection-parse weight parsing aside). */
const hashringDigests = (ws: readonly number[]) => {
  const total = ws.reduce((a, b) => a + b, 0);
  return ws.map((w) => Math.floor((w / total) * 40 * ws.length));
};
/** libketama's digest count, emulated in float32 (see ketama.c, ketama_create_continuum). */
const ketamaDigests = (ws: readonly number[]) => {
  const total = Math.fround(ws.reduce((a, b) => a + b, 0));
  return ws.map((w) => Math.floor(Math.fround(Math.fround(Math.fround(w) / total) * 40 * Math.fround(ws.length))));
};

function parity(ids: readonly string[], weights: readonly number[] | undefined, compat: 'hashring' | 'ketama', ring: HashRingInstance): number {
  const lb = new ConsistentHash(ids.map((id, i) => ({ id, weight: weights?.[i] ?? 1 })), { compat });
  let same = 0;
  for (const k of KEYS) if (lb.pick(k).id === ring.get(k)) same++;
  return same;
}

const EQUAL_COUNTS = [1, 2, 3, 4, 5, 7, 8, 10, 14, 16, 25, 32, 50, 61, 64, 100, 128];
const WEIGHT_MIXES: number[][] = [
  [1, 2, 3, 4, 5],
  [3, 1, 1],
  [10, 1],
  [7, 3, 9, 1, 4, 2, 8, 5],
  [0.5, 1.5, 2.25, 1],
  [100, 200, 300],
  Array.from({ length: 25 }, (_, i) => 1 + ((i * 7) % 20)),
];

describe("ConsistentHash(compat: 'hashring'): identical to npm hashring", () => {
  for (const n of EQUAL_COUNTS) {
    it(`${n} equal servers: ${KEYS.length} keys, 100 % identical`, () => {
      const ids = serverIds(n);
      expect(parity(ids, undefined, 'hashring', new HashRing(ids))).toBe(KEYS.length);
    });
  }
  for (const ws of WEIGHT_MIXES) {
    it(`weights ${ws.join(',')}: 100 % identical`, () => {
      const ids = serverIds(ws.length);
      const servers = Object.fromEntries(ids.map((id, i) => [id, ws[i]]));
      expect(parity(ids, ws, 'hashring', new HashRing(servers))).toBe(KEYS.length);
    });
  }
});

describe("ConsistentHash(compat: 'ketama'): libketama", () => {
  it("pins libketama's float32 digest counts (values from libketama's expression built with gcc)", () => {
    expect(ketamaDigests(Array(61).fill(1))[0]).toBe(39);
    expect(ketamaDigests(Array(7).fill(1))[0]).toBe(40);
    expect(ketamaDigests([3, 1, 1, 7, 2])).toEqual([42, 14, 14, 100, 28]);
    // ... where hashring's double-precision counts differ:
    expect(hashringDigests(Array(61).fill(1))[0]).toBe(40);
    expect(hashringDigests(Array(7).fill(1))[0]).toBe(39);
  });

  const configs: [string, number[]][] = [
    ...EQUAL_COUNTS.map((n): [string, number[]] => [`${n} equal servers`, Array<number>(n).fill(1)]),
    ...WEIGHT_MIXES.map((ws): [string, number[]] => [`weights ${ws.join(',')}`, ws]),
  ];
  for (const [name, ws] of configs) {
    const lib = ketamaDigests(ws);
    const agree = hashringDigests(ws).every((d, i) => d === lib[i]);
    it(`${name}: 100 % identical to hashring${agree ? '' : ' given libketama’s digest counts'}`, () => {
      const ids = serverIds(ws.length);
      // Where the counts agree, plain hashring is libketama; elsewhere hashring is told
      // libketama's counts per server (any vnodes value other than its default is used as is).
      const ring = agree
        ? new HashRing(Object.fromEntries(ids.map((id, i) => [id, ws[i]])))
        : new HashRing(Object.fromEntries(ids.map((id, i) => [id, { weight: ws[i], vnodes: lib[i] }])), 'md5', { 'vnode count': 1e9 });
      expect(parity(ids, ws, 'ketama', ring)).toBe(KEYS.length);
    });
  }

  it('differs from hashring exactly where the digest counts differ (e.g. 7 equal servers)', () => {
    const ids = serverIds(7);
    const ring = new HashRing(ids);
    expect(parity(ids, undefined, 'hashring', ring)).toBe(KEYS.length);
    expect(parity(ids, undefined, 'ketama', ring)).toBeLessThan(KEYS.length);
  });
});
