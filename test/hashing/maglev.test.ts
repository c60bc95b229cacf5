import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectShares } from '../../src/testing/index.js';
import { InvalidOptionError, LoadwiseError, type Lease, type Target } from '../../src/index.js';
import { MAGLEV_DEFAULT_TABLE_SIZE, MAGLEV_MAX_TABLE_SIZE, Maglev, maglevPopulate, type MaglevOptions } from '../../src/hashing/maglev.js';
import { xxhash32String } from '../../src/core/hash/xxhash32.js';
import { anyString } from '../core/hash/arbitraries.js';
import { conformance } from '../conformance.js';
import { expectInvalidWeight, thrown } from '../support/errors.js';
import { differences } from '../support/sequences.js';

const key = (i: number) => `key-${i}`;

conformance({ name: 'Maglev', key, create: (targets, options) => new Maglev(targets, options) });
conformance({
  name: 'Maglev(loadFactor: 1.25)',
  key,
  create: (targets, options) => new Maglev(targets, { ...options, loadFactor: 1.25 }),
});
// A table barely larger than the pool: every fallback runs out of rehashes and walks/sweeps.
conformance({ name: 'Maglev(tableSize: 7)', key, create: (targets, options) => new Maglev(targets, { ...options, tableSize: 7 }) });

type W = { id: string; weight: number };

interface SelectorInternals {
  table: Int32Array;
  sorted: Int32Array;
  skips: Int32Array;
}

/** Exposes the lookup table and the permutation steps (tests only). */
class Probe<T extends Target> extends Maglev<T> {
  private internals() {
    const [tier] = this.tiers();
    return { members: tier!.members, s: tier!.selector as unknown as SelectorInternals };
  }
  /** The owning id of every entry. */
  owners(): string[] {
    const { members, s } = this.internals();
    const out = new Array<string>(s.table.length);
    for (let i = 0; i < out.length; i++) out[i] = members[s.table[i]!]!.id;
    return out;
  }
  /**
   * The position in `ids` of every entry's owner (-1 for an owner not in `ids`): owners() as
   * numbers, for comparing many whole tables without building 65,537 strings for each.
   */
  ownerPositions(ids: readonly string[]): Int32Array {
    const { members, s } = this.internals();
    const position = members.map((m) => ids.indexOf(m.id));
    const out = new Int32Array(s.table.length);
    for (let i = 0; i < out.length; i++) {
      const p = position[s.table[i]!];
      if (p === undefined) throw new Error(`entry ${i} has no owner`);
      out[i] = p;
    }
    return out;
  }
  /** Each id's permutation step. */
  skips(): Map<string, number> {
    const { members, s } = this.internals();
    return new Map(Array.from(s.sorted, (p, k) => [members[p]!.id, s.skips[k]!]));
  }
}

function counts(owners: readonly string[]): Map<string, number> {
  const c = new Map<string, number>();
  for (const o of owners) c.set(o, (c.get(o) ?? 0) + 1);
  return c;
}

/** Fraction of entries whose owner differs: exactly the fraction of the key space that moved. */
function moved<E>(a: ArrayLike<E>, b: ArrayLike<E>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) d++;
  return d / a.length;
}

const hostIds = (n: number, prefix = '10.0') => Array.from({ length: n }, (_, i) => `${prefix}.${i >> 8}.${i & 255}:8080`);
const keys = (n: number, prefix = 'k') => Array.from({ length: n }, (_, i) => `${prefix}:${i}`);
const idsArb = (min: number, max: number) =>
  fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), { minLength: min, maxLength: max });

function expectOptionError(fn: () => unknown, option: string): void {
  const caught = thrown(fn);
  expect(caught).toBeInstanceOf(InvalidOptionError);
  expect(LoadwiseError.is(caught)).toBe(true);
  expect((caught as InvalidOptionError).option).toBe(option);
  expect((caught as InvalidOptionError).code).toBe('ERR_INVALID_OPTION');
}

describe('Maglev: options', () => {
  it('takes a prime tableSize from 2 to MAGLEV_MAX_TABLE_SIZE, default 65,537', () => {
    expect(new Maglev(['a']).tableSize).toBe(65537);
    expect(MAGLEV_DEFAULT_TABLE_SIZE).toBe(65537);
    for (const size of [2, 3, 7, 1009, 131071, 655373]) expect(new Maglev(['a', 'b'], { tableSize: size }).tableSize).toBe(size);
    for (const bad of [0, 1, 4, 9, 65536, 65537.5, -7, Number.NaN, Number.POSITIVE_INFINITY, '65537', null, MAGLEV_MAX_TABLE_SIZE + 2, 2147483647]) {
      expectOptionError(() => new Maglev(['a'], { tableSize: bad as number }), 'tableSize');
    }
    expectOptionError(() => new Maglev(['a'], { loadFactor: 1 }), 'loadFactor');
    expectOptionError(() => new Maglev(['a'], { tablesize: 7 } as unknown as MaglevOptions), 'tablesize');
  }, 30_000);

  it('needs a table at least as large as the pool, and says so without changing anything', () => {
    expectOptionError(() => new Maglev(['a', 'b', 'c'], { tableSize: 2 }), 'tableSize');
    const lb = new Maglev<string>(['a', 'b'], { tableSize: 2 });
    const before = lb.pick('x');
    expectOptionError(() => lb.add('c'), 'tableSize');
    expectOptionError(() => lb.setTargets(['a', 'b', 'c']), 'tableSize');
    expect(lb.targets()).toEqual(['a', 'b']);
    expect(lb.pick('x')).toBe(before);
    lb.setTargets(['c', 'a']);
    expect(lb.targets()).toEqual(['c', 'a']);
  }, 30_000);
});

describe('Maglev: lookup table', () => {
  it('fills every entry, and equal weights own floor(M/n) or ceil(M/n) entries each', () => {
    fc.assert(
      fc.property(idsArb(1, 60), fc.constantFrom(61, 251, 1009, 65537), (ids, tableSize) => {
        const owners = new Probe(ids, { tableSize }).owners();
        expect(owners).toHaveLength(tableSize);
        const c = counts(owners);
        expect(c.size).toBe(ids.length);
        for (const id of ids) {
          // Every round gives every target one entry; only the last, partial round differs.
          expect(c.get(id)).toBeGreaterThanOrEqual(Math.floor(tableSize / ids.length));
          expect(c.get(id)).toBeLessThanOrEqual(Math.ceil(tableSize / ids.length));
        }
      }),
      { numRuns: 60 },
    );
  }, 30_000);

  it('at 100 targets and the default size: max/mean share <= 1.01, and keys follow the entries', () => {
    const ids = hostIds(100);
    const lb = new Probe(ids);
    const owners = lb.owners();
    const c = counts(owners);
    const mean = MAGLEV_DEFAULT_TABLE_SIZE / 100;
    const max = Math.max(...c.values());
    expect(max / mean).toBeLessThanOrEqual(1.01); // 656 / 655.37 = 1.001
    expect(Math.min(...c.values()) / mean).toBeGreaterThanOrEqual(0.99);
    // 400k keys: target i expects K·c_i/M ≈ 4,000 keys, σ ≈ 63; 6σ covers all 100 targets with
    // room to spare (P(|Z| > 6) ≈ 2e-9 each), so this checks xxHash32 mod M spreads keys evenly.
    const K = 400_000;
    const got = new Map<string, number>();
    for (const k of keys(K)) {
      const id = lb.pick(k);
      got.set(id, (got.get(id) ?? 0) + 1);
    }
    for (const id of ids) {
      const expected = (K * c.get(id)!) / MAGLEV_DEFAULT_TABLE_SIZE;
      expect(Math.abs(got.get(id)! - expected)).toBeLessThanOrEqual(6 * Math.sqrt(expected));
    }
  }, 30_000);

  it('removing one of 100 targets moves <= 1.6 % of keys on average (1.0 % is the minimum)', () => {
    // The removed target's own ~1 % must move. Maglev's greedy fill then cascades: entries the
    // removed target claimed stay free longer, so other targets' permutation walks claim them
    // and leave their own later claims free, and so on. The cascade grows with n/M (paper §5.3,
    // and tables of 131,071 / 655,373 entries measure 1.37 % / 1.14 % here). Measured over
    // several pools of 100 at M = 65,537: mean 1.56–1.58 %, single worst removal 1.61–1.67 %.
    const ids = hostIds(100);
    const before = new Probe(ids).ownerPositions(ids);
    let sum = 0;
    let worst = 0;
    const stillOwning: string[] = [];
    for (let r = 0; r < ids.length; r++) {
      const after = new Probe(ids.filter((_, i) => i !== r)).ownerPositions(ids);
      const f = moved(before, after);
      if (after.includes(r)) stillOwning.push(ids[r]!);
      sum += f;
      worst = Math.max(worst, f);
    }
    expect(stillOwning).toEqual([]);
    expect(sum / ids.length).toBeLessThanOrEqual(0.016);
    expect(worst).toBeLessThanOrEqual(0.0175);
  }, 30_000);

  it('the same fraction of real keys moves as of table entries', () => {
    const ids = hostIds(100);
    const a = new Maglev(ids);
    const b = new Maglev(ids.filter((id) => id !== ids[37]));
    const ks = keys(200_000, 'user');
    let changed = 0;
    for (const k of ks) if (a.pick(k) !== b.pick(k)) changed++;
    const exact = moved(new Probe(ids).owners(), new Probe(ids.filter((id) => id !== ids[37])).owners());
    // Binomial(200k, ~0.016): σ ≈ 56 keys = 0.028 %; 6σ = 0.17 %.
    expect(Math.abs(changed / ks.length - exact)).toBeLessThanOrEqual(0.0017);
  }, 30_000);

  it('adding one target to n moves about 1/(n+1) of keys: at least its share, at most 1.5/(n+1)', () => {
    // Lower bound: the new target's entries (>= floor(M/(n+1))) all changed owner. Upper bound:
    // the same cascade as on removal, growing with n/M; at M = 65,537 and n <= 60 it measured
    // median 1.28, p99 1.33, max 1.33 × optimal over 600 random pools, so 1.5 × has margin.
    // Exception: a newcomer that repeats an existing target's skip within M/8 steps of it and
    // sorts first keeps the skip, so the other one rehashes and its whole permutation changes
    // (probability ≈ n/(8M) per add): measured 2.1–5.6 × optimal over 40 forced collisions,
    // bounded here by 8 ×.
    fc.assert(
      fc.property(idsArb(3, 61), (ids) => {
        const n = ids.length - 1;
        const a = new Probe(ids.slice(0, n));
        const b = new Probe(ids);
        const before = a.owners();
        const after = b.owners();
        const f = moved(before, after);
        const skipsAfter = b.skips();
        const displaced = [...a.skips()].some(([id, s]) => skipsAfter.get(id) !== s);
        expect(f).toBeGreaterThanOrEqual(Math.floor(MAGLEV_DEFAULT_TABLE_SIZE / (n + 1)) / MAGLEV_DEFAULT_TABLE_SIZE);
        expect(f).toBeLessThanOrEqual((displaced ? 8 : 1.5) / (n + 1));
      }),
      { numRuns: 40 },
    );
  }, 30_000);

  it('rehashes the skip of the later of two targets that would walk one cycle close together', () => {
    // Mirrors maglev.ts: skip = xxHash32(id, SKIP_SEED) mod (M - 1) + 1, offset with OFFSET_SEED.
    const M = MAGLEV_DEFAULT_TABLE_SIZE;
    const skipOf = (id: string) => (xxhash32String(id, 0x6c8e9cf5) % (M - 1)) + 1;
    const offsetOf = (id: string) => xxhash32String(id, 0x2545f491) % M;
    const steps = (a: string, b: string) => {
      // brute force: how many skips from a's offset to b's, the shorter way round
      const s = skipOf(a);
      let x = offsetOf(a);
      for (let d = 0; d < M; d++, x = (x + s) % M) if (x === offsetOf(b)) return Math.min(d, M - d);
      throw new Error('unreachable');
    };
    const anchor = 'a-anchor';
    let close: string | undefined;
    let far: string | undefined;
    for (let i = 0; close === undefined || far === undefined; i++) {
      const id = `b-${i}`;
      if (skipOf(id) !== skipOf(anchor)) continue;
      if (steps(anchor, id) < M / 8) close ??= id;
      else far ??= id;
    }
    const closePair = new Probe([close, anchor]).skips();
    expect(closePair.get(anchor)).toBe(skipOf(anchor)); // earlier in id order: keeps its skip
    expect(closePair.get(close)).not.toBe(skipOf(anchor));
    expect(new Probe([anchor, close]).skips()).toEqual(closePair);
    const farPair = new Probe([anchor, far]).skips();
    expect(farPair.get(far)).toBe(skipOf(anchor));
  }, 30_000);

  it('honours weights: entries within 1 + n·w/W of M·w/W (derived from the round structure)', () => {
    // In round r a target of weight w has claimed floor(r·w/wmax) + 1 entries (Envoy's scheme),
    // the last round possibly partial. So c_i = x·w_i + θ_i with θ_i in [-1, 1] for a common x;
    // summing, M = x·W + Σθ, hence c_i - M·w_i/W = θ_i - (w_i/W)·Σθ, at most 1 + n·w_i/W.
    const weighted = fc
      .tuple(idsArb(1, 30), fc.array(fc.oneof(fc.integer({ min: 1, max: 10 }), fc.double({ min: 0.05, max: 20, noNaN: true })), { minLength: 30, maxLength: 30 }))
      .map(([ids, ws]) => ids.map((id, i) => ({ id, weight: ws[i]! })));
    fc.assert(
      fc.property(weighted, fc.constantFrom(1009, 65537), (targets, tableSize) => {
        const c = counts(new Probe(targets, { tableSize }).owners());
        const W = targets.reduce((s, t) => s + t.weight, 0);
        const n = targets.length;
        for (const t of targets) {
          const ideal = (tableSize * t.weight) / W;
          expect(Math.abs((c.get(t.id) ?? 0) - ideal)).toBeLessThanOrEqual(1 + (n * t.weight) / W + 1e-6);
        }
      }),
      { numRuns: 60 },
    );
  }, 30_000);

  it('fills the same table with the round loop and the heap schedule (used for skewed weights)', () => {
    const prime = fc.constantFrom(2, 3, 7, 61, 251, 1009);
    const input = prime.chain((M) =>
      fc.integer({ min: 1, max: Math.min(M, 40) }).chain((n) =>
        fc.record({
          M: fc.constant(M),
          offset: fc.array(fc.nat({ max: M - 1 }), { minLength: n, maxLength: n }),
          skip: fc.array(fc.integer({ min: 1, max: Math.max(1, M - 1) }), { minLength: n, maxLength: n }),
          weight: fc.array(
            fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.double({ min: 1e-3, max: 1e6, noNaN: true }), fc.constant(1)),
            { minLength: n, maxLength: n },
          ),
        }),
      ),
    );
    fc.assert(
      fc.property(input, ({ M, offset, skip, weight }) => {
        const args = [M, Int32Array.from(offset), Int32Array.from(skip), Float64Array.from(weight), offset.map((_, k) => k)] as const;
        const rounds = maglevPopulate(...args, 'rounds');
        expect(differences(maglevPopulate(...args, 'heap'), rounds)).toEqual([]);
        expect(differences(maglevPopulate(...args), rounds)).toEqual([]);
        expect(rounds.includes(-1)).toBe(false);
      }),
      { numRuns: 300 },
    );
  }, 30_000);

  it('gives a weight-3 target three times the keys of a weight-1 target', () => {
    const lb = new Maglev<W>([{ id: 'a', weight: 3 }, { id: 'b', weight: 1 }, { id: 'c', weight: 2 }]);
    const got = { a: 0, b: 0, c: 0 };
    const K = 120_000;
    for (const k of keys(K)) got[lb.pick(k).id as 'a' | 'b' | 'c']++;
    // Binomial per target (σ = 173, 129, 163 keys); confidence 1 − 10⁻⁸ with Bonferroni over
    // the three gives z ≈ 5.9, i.e. each count within about 6σ of its expectation.
    expectShares(got, { a: 3, b: 1, c: 2 }, { confidence: 1 - 1e-8 });
  }, 30_000);
});

describe('Maglev: determinism', () => {
  it('maps the same keys to the same ids (golden values; the mapping must not depend on the runtime)', () => {
    const ids = ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80', '10.0.0.4:80', '10.0.0.5:80'];
    const lb = new Maglev(ids.map((id, i) => ({ id, weight: i === 4 ? 2 : 1 })));
    const ks = ['', 'a', 'user:42', 'session-8f2c', 'ключ', '🔑', '__proto__', ...keys(41, 'key').map((k) => k.replace(':', '-'))];
    const mapping = () => ks.map((k) => ids.indexOf(lb.pick(k).id)).join('');
    expect(mapping()).toBe(GOLDEN.up);
    lb.markDown(ids[4]!);
    expect(mapping()).toBe(GOLDEN.fallback);
  }, 30_000);

  it('is independent of insertion order (table, picks and fallbacks)', () => {
    const arb = idsArb(3, 40).chain((ids) =>
      fc.tuple(
        fc.constant(ids.map((id, i) => ({ id, weight: 1 + ((i * 7) % 5) }))),
        fc.shuffledSubarray(ids.map((_, i) => i), { minLength: ids.length, maxLength: ids.length }),
        fc.nat({ max: ids.length - 1 }),
      ),
    );
    fc.assert(
      fc.property(arb, ([targets, perm, down]) => {
        const shuffled = perm.map((i) => targets[i]!);
        const a = new Probe(targets);
        const b = new Probe(shuffled);
        expect(differences(b.owners(), a.owners())).toEqual([]);
        a.markDown(targets[down]!.id);
        b.markDown(targets[down]!.id);
        const exclude = [targets[targets.length - 1]!.id];
        const picks = (lb: Maglev<W>) => keys(200).map((k) => `${lb.pick(k).id}/${lb.pick({ key: k, exclude }).id}`);
        expect(picks(b)).toEqual(picks(a));
      }),
      { numRuns: 40 },
    );
  }, 30_000);

  it('routes any key content: empty, non-ASCII, lone surrogates (as U+FFFD), __proto__, constructor', () => {
    const ids = hostIds(7);
    const a = new Maglev(ids);
    const b = new Maglev([...ids].reverse());
    for (const k of ['', '__proto__', 'constructor', 'toString', 'hasOwnProperty', '\u0000', '\ud800', '\udfff\ud800']) {
      expect(ids).toContain(a.pick(k));
      expect(b.pick(k)).toBe(a.pick(k));
    }
    // Lone surrogates hash as U+FFFD, like TextEncoder.
    expect(a.pick('x\ud800y')).toBe(a.pick('x\ufffdy'));
    fc.assert(
      fc.property(anyString, (k) => {
        const t = a.pick(k);
        expect(ids).toContain(t);
        expect(a.pick({ key: k })).toBe(t);
        expect(b.pick(k)).toBe(t);
      }),
      { numRuns: 500 },
    );
  }, 30_000);
});

describe('Maglev: ineligible targets', () => {
  it('markDown moves only that target’s keys, deterministically, and markUp brings them back', () => {
    fc.assert(
      fc.property(idsArb(2, 30), fc.nat(), (ids, which) => {
        const down = ids[which % ids.length]!;
        const a = new Maglev(ids, { tableSize: 1009 });
        const ks = keys(600);
        const before = ks.map((k) => a.pick(k));
        a.markDown(down);
        const during = ks.map((k) => a.pick(k));
        const other = new Maglev([...ids].reverse(), { tableSize: 1009 });
        other.markDown(down);
        const excluding = new Maglev(ids, { tableSize: 1009 });
        // Unchanged unless it was the down target's; never the down target; the same in a fresh
        // instance with another insertion order; and `exclude` is the same fallback for one pick.
        expect(during).toEqual(before.map((t, i) => (t === down ? during[i] : t)));
        expect(during).not.toContain(down);
        expect(ks.map((k) => other.pick(k))).toEqual(during);
        expect(ks.map((k) => excluding.pick({ key: k, exclude: [down] }))).toEqual(during);
        a.markUp(down);
        expect(ks.map((k) => a.pick(k))).toEqual(before);
      }),
      { numRuns: 40 },
    );
  }, 30_000);

  it('spreads a down target’s keys over the others roughly by weight, not onto one neighbour', () => {
    const ids = hostIds(100);
    const lb = new Maglev(ids);
    lb.markDown(ids[0]!);
    const fresh = new Maglev(ids);
    const receivers = new Map<string, number>();
    let total = 0;
    for (const k of keys(300_000)) {
      if (fresh.pick(k) !== ids[0]) continue;
      const to = lb.pick(k);
      receivers.set(to, (receivers.get(to) ?? 0) + 1);
      total++;
    }
    // ≈ 3,000 orphaned keys over 99 targets, ≈ 30 each via rehashing; a walk-only fallback would
    // give each orphaned entry's ~4.6 keys to one neighbour, still many receivers but lumpier.
    expect(receivers.size).toBeGreaterThanOrEqual(90);
    expect(Math.max(...receivers.values())).toBeLessThanOrEqual(total / 99 + 6 * Math.sqrt(total / 99) + 10);
  }, 30_000);

  it('finds the last target standing, even one that owns no entry', () => {
    // Every target claims an entry in round 1, so 'tiny' owns exactly one of 65,537; the rehash
    // tries and the bounded walk (16·n + 64 entries) miss it for most keys, and only the
    // final sweep in id order reaches it.
    const lb = new Probe<W>([{ id: 'big', weight: 1 }, { id: 'tiny', weight: 1e-9 }, { id: 'mid', weight: 1 }]);
    expect(lb.owners().filter((o) => o === 'tiny')).toHaveLength(1);
    lb.markDown('big');
    lb.markDown('mid');
    for (const k of keys(200)) expect(lb.pick(k).id).toBe('tiny');
    const many = hostIds(300);
    const lb2 = new Maglev(many, { tableSize: 307 });
    for (const id of many.slice(1)) lb2.markDown(id);
    for (const k of keys(20)) expect(lb2.pick(k)).toBe(many[0]);
  }, 30_000);
});

describe('Maglev: bounded loads', () => {
  type Op = { kind: 'acquire'; key: number } | { kind: 'release'; index: number } | { kind: 'down'; index: number };
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    { weight: 6, arbitrary: fc.nat({ max: 30 }).map((k) => ({ kind: 'acquire' as const, key: k })) },
    { weight: 3, arbitrary: fc.nat().map((i) => ({ kind: 'release' as const, index: i })) },
    { weight: 1, arbitrary: fc.nat().map((i) => ({ kind: 'down' as const, index: i })) },
  );

  it('never lets a target exceed ceil(loadFactor × (inFlight + 1) × w / W); keys with room never move', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 10 }),
        fc.constantFrom(1.1, 1.25, 1.5, 2),
        fc.array(opArb, { maxLength: 300 }),
        (weights, loadFactor, ops) => {
          const targets = weights.map((weight, i) => ({ id: `t${i}`, weight }));
          const lb = new Maglev<W>(targets, { loadFactor, tableSize: 1009 });
          const plain = new Maglev<W>(targets, { tableSize: 1009 });
          const active = new Map<string, number>(targets.map((t) => [t.id, 0]));
          const down = new Set<string>();
          const open: Lease<W>[] = [];
          for (const op of ops) {
            if (op.kind === 'release') {
              if (open.length === 0) continue;
              const [l] = open.splice(op.index % open.length, 1);
              l!.release('success');
              active.set(l!.target.id, active.get(l!.target.id)! - 1);
              continue;
            }
            if (op.kind === 'down') {
              const id = targets[op.index % targets.length]!.id;
              if (down.size + 1 < targets.length && !down.has(id)) {
                lb.markDown(id);
                plain.markDown(id);
                down.add(id);
              }
              continue;
            }
            const k = `k${op.key}`;
            const inFlight = open.length;
            const W = targets.filter((t) => !down.has(t.id)).reduce((s, t) => s + t.weight, 0);
            const cap = (t: W) => Math.ceil((loadFactor * (inFlight + 1) * t.weight) / W);
            const preferred = plain.pick(k);
            const preferredHasRoom = active.get(preferred.id)! < cap(preferred);
            const lease = lb.acquire(k);
            const t = lease.target;
            open.push(lease);
            const now = active.get(t.id)! + 1;
            active.set(t.id, now);
            expect(down.has(t.id)).toBe(false);
            expect(now).toBeLessThanOrEqual(cap(t));
            if (preferredHasRoom) expect(t.id).toBe(preferred.id);
          }
          for (const s of lb.stats()) expect(s.active).toBe(active.get(s.id));
        },
      ),
      { numRuns: 120 },
    );
  }, 30_000);

  it('keeps max/mean open leases <= loadFactor under Zipf(1.0) keys', () => {
    // 10 targets, 2,000 leases held open, keys drawn from Zipf(1.0) over 1,000 keys: the hottest
    // key alone wants ~13 % of all requests, so unbounded Maglev would pile it on one target.
    const n = 10;
    const loadFactor = 1.25;
    const lb = new Maglev(hostIds(n), { loadFactor });
    const plain = new Maglev(hostIds(n));
    const N = 1000;
    const cdf: number[] = [];
    let h = 0;
    for (let i = 1; i <= N; i++) cdf.push((h += 1 / i));
    let seed = 7;
    const draw = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      const u = (seed / 2 ** 32) * h;
      let lo = 0;
      let hi = N - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cdf[mid]! < u) lo = mid + 1;
        else hi = mid;
      }
      return `zipf:${lo}`;
    };
    const bounded = new Map<string, number>();
    const unbounded = new Map<string, number>();
    const L = 2000;
    for (let i = 0; i < L; i++) {
      const k = draw();
      const id = lb.acquire(k).target;
      bounded.set(id, (bounded.get(id) ?? 0) + 1);
      const p = plain.pick(k);
      unbounded.set(p, (unbounded.get(p) ?? 0) + 1);
    }
    const mean = L / n;
    expect(Math.max(...unbounded.values()) / mean).toBeGreaterThan(loadFactor); // the skew is real
    // The last lease's cap is ceil(1.25 × 2000 / 10) = 250 = 1.25 × mean exactly.
    expect(Math.max(...bounded.values()) / mean).toBeLessThanOrEqual(loadFactor);
  }, 30_000);
});

// Recorded from this implementation (xxHash32 seed 0 for keys; id hashes with the seeds in
// maglev.ts): the index of the chosen target per key. A change here changes where users' keys
// go: only on purpose, with a changelog note.
const GOLDEN = {
  up: '134334043414103333414334324443040341444043434141',
  fallback: '131332003311103333113333321223000331102023030111',
};

describe('Maglev: weight bounds and termination', () => {
  const huge = [1.7e308, Number.MAX_VALUE, 1e10, 1e9 * (1 + 2 ** -52)];
  const tiny = [5e-324, Number.MIN_VALUE, 1e-10, 1e-300];

  const expectWeightError = (fn: () => unknown): void => expectInvalidWeight(fn, /1e-9 to MAX_WEIGHT = 1e9/);

  it('rejects a weight above MAX_WEIGHT or below MIN_WEIGHT in every mutation, so a pick never hangs (issue 14, defect 1)', () => {
    for (const w of [...huge, ...tiny]) {
      expectWeightError(() => new Maglev(['a', 'b', { id: 'c', weight: w }]));
      const lb = new Maglev<Target>(['a', 'b']);
      const before = lb.pick('k');
      expectWeightError(() => lb.add({ id: 'c', weight: w }));
      expectWeightError(() => lb.setWeight('a', w));
      expectWeightError(() => lb.setTargets(['a', { id: 'c', weight: w }]));
      expect(lb.targets()).toEqual(['a', 'b']);
      expect(lb.pick('k')).toBe(before);
    }
  });

  it('builds at both ends of the range: MAX_WEIGHT next to MIN_WEIGHT', () => {
    const lb = new Probe<W>([{ id: 'a', weight: 1 }, { id: 'b', weight: 1e-9 }, { id: 'c', weight: 1e9 }]);
    const c = counts(lb.owners());
    // Round 1 gives every target an entry; 'a' and 'b' then wait 10⁹ and 10¹⁸ rounds for the next.
    expect(c.get('a')).toBe(1);
    expect(c.get('b')).toBe(1);
    expect(c.get('c')).toBe(65535);
    expect(lb.pick('k').id).toBe('c');
  });

  it('maglevPopulate terminates for any weights, even ones no balancer accepts', () => {
    const cases = [
      [1, 1, 1.7e308],
      [1.7e308, 1.7e308, 1],
      [5e-324, 1],
      [5e-324, 1.7e308],
      [Number.POSITIVE_INFINITY, 1],
      [1, Number.NaN, 2],
    ];
    for (const weights of cases) {
      const n = weights.length;
      for (const schedule of ['auto', 'rounds', 'heap'] as const) {
        const table = maglevPopulate(61, Int32Array.from({ length: n }, (_, k) => (7 * k) % 61), Int32Array.from({ length: n }, (_, k) => k + 1), Float64Array.from(weights), Array.from({ length: n }, (_, k) => k), schedule);
        expect(table.every((o) => o >= 0 && o < n)).toBe(true);
      }
    }
  });
});
