import { describe, expect, it } from 'vitest';
import { Random, RoundRobin, WeightedRandom, WeightedRoundRobin, createRandom } from '../../src/index.js';
import { FairnessError, LoadwiseAssertionError, checkShares, expectShares } from '../../src/testing/index.js';

/** Counts of `n` draws from the distribution `weights`, with a seeded PRNG. */
function multinomial(weights: readonly number[], n: number, seed: number): number[] {
  const rnd = createRandom(seed);
  const total = weights.reduce((a, b) => a + b, 0);
  const counts = new Array<number>(weights.length).fill(0);
  for (let i = 0; i < n; i++) {
    let r = rnd() * total;
    let j = 0;
    while (j < weights.length - 1 && (r -= weights[j]!) >= 0) j++;
    counts[j]!++;
  }
  return counts;
}

function countIds(pick: () => { id: string } | string, n: number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const t = pick();
    const id = typeof t === 'string' ? t : t.id;
    counts[id] = (counts[id] ?? 0) + 1;
  }
  return counts;
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('nothing was thrown');
}

/** Exact P(X < lower) + P(X > upper) for X ~ Binomial(n, p), summed in log space. */
function binomialOutside(n: number, p: number, lower: number, upper: number): number {
  let logPmf = n * Math.log1p(-p);
  const logRatio = Math.log(p) - Math.log1p(-p);
  let outside = 0;
  for (let x = 0; x <= n; x++) {
    if (x < lower || x > upper) outside += Math.exp(logPmf);
    logPmf += Math.log((n - x) / (x + 1)) + logRatio;
  }
  return outside;
}

describe('expectShares, statistical mode', () => {
  it('passes seeded WeightedRandom and Random samples', () => {
    const weights = { a: 5, b: 3, c: 2 };
    for (let seed = 1; seed <= 10; seed++) {
      const lb = new WeightedRandom(Object.entries(weights).map(([id, weight]) => ({ id, weight })), { seed });
      const report = expectShares(countIds(() => lb.pick(), 50_000), weights);
      expect(report.ok).toBe(true);
      expect(report.rows.map((r) => r.method)).toEqual(['normal', 'normal', 'normal']);
    }
    const ids = Array.from({ length: 10 }, (_, i) => `s${i}`);
    const uniform = Object.fromEntries(ids.map((id) => [id, 1]));
    for (let seed = 1; seed <= 10; seed++) {
      const lb = new Random(ids, { seed });
      expectShares(countIds(() => lb.pick(), 20_000), uniform);
    }
  });

  it('fails a biased sample with a message naming target, observed, expected and the bound', () => {
    // A sampler that gives s0 2 % extra share over 10 targets: obvious at N = 200,000.
    const counts = multinomial([1.2, 1, 1, 1, 1, 1, 1, 1, 1, 0.98], 200_000, 3);
    const err = thrown(() => expectShares(counts, new Array<number>(10).fill(1), { message: 'MyBalancer' }));
    expect(err).toBeInstanceOf(FairnessError);
    expect(err).toBeInstanceOf(LoadwiseAssertionError);
    const e = err as FairnessError;
    expect(e.code).toBe('ERR_FAIRNESS');
    expect(e.message).toMatch(/^MyBalancer: pick counts do not match the weights for "0" \(99\.9999 % confidence, Bonferroni over 10 targets, z = 5\.327; N = 200000 picks\):\n/);
    expect(e.message).toMatch(/target\s+weight\s+observed\s+expected\s+allowed\s+deviation\s+bound/);
    const row = e.report.rows[0]!;
    expect(row.ok).toBe(false);
    expect(e.message).toContain(`✗  0       1       ${row.observed}`);
    expect(e.message).toContain(`${row.lower}..${row.upper}`);
    expect(row.sigmas).toBeGreaterThan(20);
    expect(e.report.rows.slice(1, 9).every((r) => r.ok)).toBe(true);
    expect(e.actual).toMatchObject({ 0: row.observed });
    expect(e.expected).toMatchObject({ 0: row.expected });
  });

  it('fails when the weights are wrong, and passes the same counts against the right ones', () => {
    const lb = new WeightedRandom([{ id: 'a', weight: 2 }, { id: 'b', weight: 1 }], { seed: 5 });
    const counts = countIds(() => lb.pick(), 30_000);
    expect(() => expectShares(counts, { a: 1, b: 1 })).toThrow(FairnessError);
    expect(() => expectShares(counts, { a: 2, b: 1 })).not.toThrow();
  });

  it('holds its confidence: a fair sampler fails no more than 1 − confidence of the time', () => {
    // 4,000 fair samples at confidence 0.9: Bonferroni makes the real rate a little lower.
    let failures = 0;
    const runs = 4000;
    for (let seed = 0; seed < runs; seed++) {
      if (!checkShares(multinomial([4, 3, 2, 1], 400, seed), [4, 3, 2, 1], { confidence: 0.9 }).ok) failures++;
    }
    const rate = failures / runs;
    expect(rate).toBeLessThan(0.1);
    expect(rate).toBeGreaterThan(0.05); // and is not uselessly loose
  });

  it('has exactly computed ranges that are conservative against exact binomial tails', () => {
    const confidence = 0.999;
    for (const n of [20, 100, 1000, 10_000, 100_000]) {
      for (const p of [0.0005, 0.003, 0.01, 0.05, 0.2, 0.5, 0.8, 0.99]) {
        // Two targets: k = 2, so each gets a two-sided budget of α / 2.
        const report = checkShares([0, n], [p, 1 - p], { confidence });
        const row = report.rows[0]!;
        const outside = binomialOutside(n, p, row.lower, row.upper);
        expect(outside, `n=${n} p=${p} [${row.lower}, ${row.upper}] ${row.method}`).toBeLessThanOrEqual((1 - confidence) / 2);
        // ... and not absurdly wide: widening by one more count on each side would spend little of the budget.
        expect(row.lower).toBeLessThanOrEqual(Math.floor(n * p));
        expect(row.upper).toBeGreaterThanOrEqual(Math.ceil(n * p));
      }
    }
  });

  it('uses exact binomial tails for small expected counts', () => {
    const report = checkShares({ rare: 2, common: 998 }, { rare: 1, common: 999 });
    expect(report.ok).toBe(true);
    expect(report.rows.map((r) => r.method)).toEqual(['binomial', 'binomial']);
    expect(report.rows[0]!.lower).toBe(0);
    // Binomial(1000, 0.001) exceeds 8 with probability ~1e-6: the bound sits there, not at 1 + 5σ ≈ 6.
    const upper = report.rows[0]!.upper;
    expect(upper).toBeGreaterThanOrEqual(8);
    expect(binomialOutside(1000, 0.001, 0, upper)).toBeLessThanOrEqual((1 - 0.999999) / 4);
    expect(() => expectShares({ rare: upper + 1, common: 999 - upper }, { rare: 1, common: 999 })).toThrow(FairnessError);
  });

  it('treats a counted target that has no weight as weight 0, and weight-0 targets as never picked', () => {
    const err = thrown(() => expectShares(new Map([['a', 500], ['b', 499], ['ghost', 1]]), new Map([['a', 1], ['b', 1]])));
    expect(err).toBeInstanceOf(FairnessError);
    expect((err as FairnessError).message).toContain('"ghost"');
    expect(expectShares({ a: 500, b: 500 }, { a: 1, b: 1, c: 0 }).rows[2]).toMatchObject({ target: 'c', lower: 0, upper: 0, ok: true });
    expect(expectShares({ a: 10 }, { a: 3 }).tests).toBe(0);
  });

  it('accepts arrays with labels, records and Maps', () => {
    expect(expectShares([50, 50], [1, 1], { labels: ['x', 'y'] }).rows.map((r) => r.target)).toEqual(['x', 'y']);
    expect(expectShares([50, 50], [1, 1]).rows.map((r) => r.target)).toEqual(['0', '1']);
    expect(expectShares({ b: 30, a: 70 }, new Map([['a', 7], ['b', 3]])).rows.map((r) => r.target)).toEqual(['a', 'b']);
  });

  it('rejects malformed input with RangeError or TypeError, not a FairnessError', () => {
    expect(() => expectShares([1, 2], [1, 1, 1])).toThrow(RangeError);
    expect(() => expectShares([1, 2], { a: 1 })).toThrow(TypeError);
    expect(() => expectShares([0, 0], [1, 1])).toThrow(/no picks/);
    expect(() => expectShares([1, 2], [0, 0])).toThrow(RangeError);
    expect(() => expectShares([1, 2], [1, Number.NaN])).toThrow(/weight of "1"/);
    expect(() => expectShares([1, -2], [1, 1])).toThrow(/count of "1"/);
    expect(() => expectShares([1.5, 2], [1, 1])).toThrow(RangeError);
    expect(() => expectShares([1, 2], [1, 1], { confidence: 1 })).toThrow(/confidence/);
    expect(() => expectShares([1, 2], [1, 1], { labels: ['a'] })).toThrow(/labels/);
    expect(() => expectShares([1, 2], [1, 1], { exact: true, tolerance: -1 })).toThrow(/tolerance/);
  });
});

describe('expectShares, exact mode', () => {
  it('passes smooth weighted round robin over whole periods', () => {
    const weights = { a: 5, b: 1, c: 1 };
    const lb = new WeightedRoundRobin(Object.entries(weights).map(([id, weight]) => ({ id, weight })));
    const report = expectShares(countIds(() => lb.pick(), 7 * 100), weights, { exact: true });
    expect(report.mode).toBe('exact');
    expect(report.rows.map((r) => [r.observed, r.expected, r.method])).toEqual([
      [500, 500, 'exact'],
      [100, 100, 'exact'],
      [100, 100, 'exact'],
    ]);
  });

  it('passes round robin over k rounds and any number of picks within tolerance 1', () => {
    const ids = ['p', 'q', 'r', 's'];
    const lb = new RoundRobin(ids, { seed: 3 });
    expectShares(countIds(() => lb.pick(), 4 * 25), { p: 1, q: 1, r: 1, s: 1 }, { exact: true });
    expectShares(countIds(() => lb.pick(), 4 * 25 + 3), { p: 1, q: 1, r: 1, s: 1 }, { exact: true, tolerance: 1 });
  });

  it('smooth weighted round robin stays within 1 of the proportional count after every pick', () => {
    const rnd = createRandom(11);
    for (let trial = 0; trial < 30; trial++) {
      const weights = Array.from({ length: 2 + Math.floor(rnd() * 6) }, () => 1 + Math.floor(rnd() * 9));
      const ids = weights.map((_, i) => `t${i}`);
      const lb = new WeightedRoundRobin(ids.map((id, i) => ({ id, weight: weights[i]! })));
      const counts = new Array<number>(weights.length).fill(0);
      for (let n = 1; n <= 200; n++) {
        counts[Number(lb.pick().id.slice(1))]!++;
        expectShares(counts, weights, { exact: true, tolerance: 1, message: `weights ${weights.join(',')} after ${n} picks` });
      }
    }
  });

  it('fails an off-by-one count and says when N is not a whole number of periods', () => {
    const err = thrown(() => expectShares([501, 99, 100], [5, 1, 1], { exact: true })) as FairnessError;
    expect(err).toBeInstanceOf(FairnessError);
    expect(err.message).toMatch(/for "0", "1" \(exact mode, tolerance 0; N = 700 picks\)/);
    expect(err.message).toMatch(/✗\s+0\s+5\s+501\s+500\s+500\.\.500\s+\+1/);

    const partial = thrown(() => expectShares([3, 1, 1], [5, 1, 1], { exact: true })) as FairnessError;
    expect(partial.message).toContain('is not a whole number of periods');
    expect(partial.message).toContain('tolerance: 1');
  });

  it('fails a randomized balancer, which is not exact', () => {
    const lb = new WeightedRandom([{ id: 'a', weight: 1 }, { id: 'b', weight: 1 }], { seed: 2 });
    expect(() => expectShares(countIds(() => lb.pick(), 1000), { a: 1, b: 1 }, { exact: true })).toThrow(FairnessError);
  });
});
