import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  LeastConnections,
  PowerOfTwoChoices,
  Random,
  RoundRobin,
  WeightedRandom,
  createRandom,
  type Balancer,
  type Lease,
} from '../../src/index.js';

type T = { id: string; weight: number };
const named = (ws: readonly number[]): T[] => ws.map((weight, i) => ({ id: `s${i}`, weight }));
const index = (t: T) => Number(t.id.slice(1));
const weightsArb = fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 1, maxLength: 12 });

describe('RoundRobin', () => {
  it('serves every target exactly k times in n*k picks, in list order from its start', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 5 }), fc.integer(), (n, k, seed) => {
        const lb = new RoundRobin(named(new Array<number>(n).fill(1)), { seed });
        const seq = Array.from({ length: n * k }, () => index(lb.pick()));
        for (let i = 1; i < seq.length; i++) expect(seq[i]).toBe((seq[i - 1]! + 1) % n);
        const counts = new Array<number>(n).fill(0);
        for (const i of seq) counts[i]!++;
        expect(counts).toEqual(new Array<number>(n).fill(k));
      }),
    );
  });

  it('starts at a seed-dependent offset, so instances do not all hit target 0 first', () => {
    const firsts = new Set<string>();
    for (let seed = 0; seed < 50; seed++) firsts.add(new RoundRobin(named([1, 1, 1, 1, 1]), { seed }).pick().id);
    // P(all 50 seeds start on <= 3 of 5 targets) is negligible for a uniform start (< 1e-8).
    expect(firsts.size).toBe(5);
  });

  it('skips unavailable targets without disturbing the rotation of the rest', () => {
    const lb = new RoundRobin(named([1, 1, 1, 1]), { seed: 0 });
    lb.markDown('s1');
    const seq = Array.from({ length: 9 }, () => index(lb.pick()));
    const counts = [0, 0, 0, 0];
    for (const i of seq) counts[i]!++;
    expect(counts).toEqual([3, 0, 3, 3]);
  });
});

/**
 * Shares of N seeded draws. Each count is Binomial(N, p); we allow 6 standard deviations,
 * sqrt(N p (1 - p)) * 6, which a fair sampler exceeds with probability < 2e-9 per target, so
 * across every run and target here a false failure has odds below one in a million.
 */
function expectBinomialShares(counts: readonly number[], probs: readonly number[], n: number): void {
  for (let i = 0; i < counts.length; i++) {
    const p = probs[i]!;
    const sd = Math.sqrt(n * p * (1 - p));
    expect(Math.abs(counts[i]! - n * p)).toBeLessThanOrEqual(6 * sd + 1e-9);
  }
}

describe('Random and WeightedRandom', () => {
  it('Random: uniform shares within the binomial bound', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.integer(), (n, seed) => {
        const lb = new Random(named(new Array<number>(n).fill(1)), { seed });
        const N = 20_000;
        const counts = new Array<number>(n).fill(0);
        for (let i = 0; i < N; i++) counts[index(lb.pick())]!++;
        expectBinomialShares(counts, new Array<number>(n).fill(1 / n), N);
      }),
      // A fixed fast-check seed: a statistical bound is a probability, and CI must not flake.
      { numRuns: 30, seed: 0x10ad },
    );
  });

  it('WeightedRandom: shares proportional to weight within the binomial bound', () => {
    fc.assert(
      fc.property(weightsArb, fc.integer(), (ws, seed) => {
        const lb = new WeightedRandom(named(ws), { seed });
        const N = 20_000;
        const total = ws.reduce((a, b) => a + b, 0);
        const counts = new Array<number>(ws.length).fill(0);
        for (let i = 0; i < N; i++) counts[index(lb.pick())]!++;
        expectBinomialShares(counts, ws.map((w) => w / total), N);
      }),
      { numRuns: 30, seed: 0x10ad },
    );
  });

  it('WeightedRandom: shares among the available targets when some are down', () => {
    const ws = [5, 1, 3, 1];
    const lb = new WeightedRandom(named(ws), { seed: 11 });
    lb.markDown('s0');
    const N = 20_000;
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < N; i++) counts[index(lb.pick())]!++;
    expectBinomialShares(counts, [0, 0.2, 0.6, 0.2], N);
  });
});

/** Drives random acquire/release sequences and checks a rule on every acquire. */
function loadSequence(
  lb: Balancer<T>,
  ops: readonly { release: boolean; index: number }[],
  onAcquire: (before: Map<string, number>, lease: Lease<T>) => void,
): void {
  const open: Lease<T>[] = [];
  for (const op of ops) {
    if (op.release && open.length > 0) {
      open.splice(op.index % open.length, 1)[0]!.release('success');
      continue;
    }
    const before = new Map(lb.stats().map((s) => [s.id, s.active]));
    const lease = lb.acquire();
    onAcquire(before, lease);
    open.push(lease);
  }
}
const opsArb = fc.array(fc.record({ release: fc.boolean(), index: fc.nat() }), { maxLength: 200 });

describe('LeastConnections', () => {
  it('never picks a target with more active/weight than another eligible one', () => {
    fc.assert(
      fc.property(weightsArb, opsArb, (ws, ops) => {
        const targets = named(ws);
        const lb = new LeastConnections(targets);
        loadSequence(lb, ops, (before, lease) => {
          const mine = before.get(lease.target.id)! / lease.target.weight;
          for (const t of targets) expect(mine).toBeLessThanOrEqual(before.get(t.id)! / t.weight);
        });
      }),
      { numRuns: 200 },
    );
  });

  it('equal weights (bucket queue): least loaded among eligible under down/up, exclusions and releases', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 }),
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant('acquire' as const), exclude: fc.subarray(['s0', 's1', 's2', 's3']) }),
            fc.record({ op: fc.constant('release' as const), index: fc.nat() }),
            fc.record({ op: fc.constantFrom('down' as const, 'up' as const), target: fc.nat(9) }),
          ),
          { maxLength: 250 },
        ),
        (n, ops) => {
          const targets = named(new Array<number>(n).fill(2));
          const lb = new LeastConnections(targets);
          const open: Lease<T>[] = [];
          const down = new Set<string>();
          for (const o of ops) {
            if (o.op === 'release') {
              if (open.length > 0) open.splice(o.index % open.length, 1)[0]!.release('success');
            } else if (o.op === 'acquire') {
              const before = new Map(lb.stats().map((s) => [s.id, s.active]));
              const eligible = targets.filter((t) => !down.has(t.id) && !o.exclude.includes(t.id));
              if (eligible.length === 0) {
                expect(() => lb.acquire({ exclude: o.exclude })).toThrow();
                continue;
              }
              const lease = lb.acquire({ exclude: o.exclude });
              expect(eligible).toContain(lease.target);
              for (const t of eligible) expect(before.get(lease.target.id)!).toBeLessThanOrEqual(before.get(t.id)!);
              open.push(lease);
            } else {
              const id = `s${o.target % n}`;
              if (o.op === 'down') {
                lb.markDown(id);
                down.add(id);
              } else {
                lb.markUp(id);
                down.delete(id);
              }
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('takes turns among tied targets in proportion to weight', () => {
    fc.assert(
      fc.property(weightsArb, (ws) => {
        const lb = new LeastConnections(named(ws));
        const total = ws.reduce((a, b) => a + b, 0);
        const N = total * 20;
        const counts = new Array<number>(ws.length).fill(0);
        for (let i = 0; i < N; i++) {
          const lease = lb.acquire();
          counts[index(lease.target)]!++;
          lease.release('success');
        }
        // Stride scheduling keeps each target within one turn of its exact share (plus float
        // rounding of the 1/weight strides): allow 2.
        for (let j = 0; j < ws.length; j++) expect(Math.abs(counts[j]! - (N * ws[j]!) / total)).toBeLessThanOrEqual(2);
      }),
    );
  });

  it('equal weights and no load: plain round robin in list order', () => {
    const lb = new LeastConnections(named([1, 1, 1]));
    expect(Array.from({ length: 6 }, () => lb.pick().id)).toEqual(['s0', 's1', 's2', 's0', 's1', 's2']);
  });
});

describe('PowerOfTwoChoices', () => {
  it('never picks the busier of its two distinct candidates', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 12 }), opsArb, fc.integer(), (n, ops, seed) => {
        const base = createRandom(seed);
        const draws: number[] = [];
        const random = () => {
          const r = base();
          draws.push(r);
          return r;
        };
        const targets = named(new Array<number>(n).fill(1));
        const lb = new PowerOfTwoChoices(targets, { random });
        loadSequence(lb, ops, (before, lease) => {
          // Equal weights make the alias table uniform: a draw r names index floor(r * n).
          const picks = draws.map((r) => Math.min(n - 1, Math.floor(r * n)));
          const first = picks[0]!;
          // Rejection sampling gets 2 * 4 draws; if all of them repeat the first candidate, the
          // fallback takes the second uniformly from the others (in list order) with one more draw.
          let second = picks.slice(0, 8).find((i) => i !== first);
          if (second === undefined) {
            expect(draws).toHaveLength(9);
            const others = targets.map((_, i) => i).filter((i) => i !== first);
            second = others[Math.min(others.length - 1, Math.floor(draws[8]! * others.length))];
          }
          expect(second).toBeDefined();
          const load = (i: number) => before.get(`s${i}`)!;
          const winner = load(second!) < load(first) ? second : first;
          expect(lease.target.id).toBe(`s${winner}`);
          draws.length = 0;
        });
      }),
      { numRuns: 150 },
    );
  });

  it('draws two distinct candidates even when one weight dominates (envoy#11004)', () => {
    const lb = new PowerOfTwoChoices([{ id: 'heavy', weight: 1e6 }, { id: 'light', weight: 1 }], { seed: 3 });
    const a = lb.acquire();
    expect(a.target.id).toBe('heavy');
    // Sampling with replacement would compare 'heavy' with itself almost every time.
    for (let i = 0; i < 50; i++) {
      const l = lb.acquire();
      expect(l.target.id).toBe('light');
      l.release('success');
    }
  });

  it('with choices = n it is exact least-loaded', () => {
    fc.assert(
      fc.property(weightsArb, opsArb, fc.integer(), (ws, ops, seed) => {
        const targets = named(ws);
        const lb = new PowerOfTwoChoices(targets, { seed, choices: Math.max(2, ws.length) });
        loadSequence(lb, ops, (before, lease) => {
          const mine = before.get(lease.target.id)! / lease.target.weight;
          for (const t of targets) expect(mine).toBeLessThanOrEqual(before.get(t.id)! / t.weight);
        });
      }),
      { numRuns: 100 },
    );
  });
});
