import { describe, expect, it } from 'vitest';
import { InvalidOptionError, createRandom } from '../../src/index.js';
import {
  bimodal,
  constant,
  empirical,
  exponential,
  logNormal,
  meanOf,
  sampler,
  validateDistribution,
  type Distribution,
} from '../../src/sim/index.js';

const N = 200_000;

/** Variance of a distribution, analytically. */
function varianceOf(d: Distribution): number {
  switch (d.type) {
    case 'constant':
      return 0;
    case 'exponential':
      return d.mean * d.mean;
    case 'lognormal':
      return d.mean * d.mean * (Math.exp(d.sigma * d.sigma) - 1);
    case 'bimodal': {
      const p = d.slowFraction;
      const m = meanOf(d);
      const second = (1 - p) * (varianceOf(d.fast) + meanOf(d.fast) ** 2) + p * (varianceOf(d.slow) + meanOf(d.slow) ** 2);
      return second - m * m;
    }
    case 'empirical': {
      const m = meanOf(d);
      return d.samples.reduce((s, x) => s + (x - m) ** 2, 0) / d.samples.length;
    }
  }
}

describe('sim/distributions', () => {
  const cases: [string, Distribution][] = [
    ['constant', constant(7)],
    ['exponential', exponential(10)],
    ['log-normal', logNormal(10, 1)],
    ['bimodal', bimodal(2, exponential(50), 0.1)],
    ['empirical', empirical([1, 2, 3, 5, 8, 13, 120])],
  ];
  for (const [name, d] of cases) {
    it(`${name}: the sample mean is within 5 standard errors of the analytic mean`, () => {
      const draw = sampler(d, createRandom(11));
      let sum = 0;
      let min = Number.POSITIVE_INFINITY;
      for (let i = 0; i < N; i++) {
        const x = draw();
        sum += x;
        if (x < min) min = x;
      }
      const se = Math.sqrt(varianceOf(d) / N);
      expect(Math.abs(sum / N - meanOf(d))).toBeLessThanOrEqual(5 * se + 1e-12);
      expect(min).toBeGreaterThanOrEqual(0);
    });
  }

  it('log-normal: the median is mean × exp(-σ²/2)', () => {
    const draw = sampler(logNormal(10, 1), createRandom(5));
    const xs = Float64Array.from({ length: 100_001 }, draw).sort();
    expect(xs[50_000]! / (10 * Math.exp(-0.5))).toBeCloseTo(1, 1);
  });

  it('empirical: draws only the given samples, and copies them', () => {
    const samples = [4, 9];
    const d = empirical(samples);
    samples[0] = 100;
    const draw = sampler(d, createRandom(1));
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) seen.add(draw());
    expect([...seen].sort((a, b) => a - b)).toEqual([4, 9]);
  });

  it('is deterministic for a seed', () => {
    const a = sampler(logNormal(10, 1.2), createRandom(99));
    const b = sampler(logNormal(10, 1.2), createRandom(99));
    for (let i = 0; i < 1000; i++) expect(a()).toBe(b());
  });

  it('rejects bad parameters by name', () => {
    expect(() => validateDistribution(exponential(-1), 'service')).toThrow(/service\.mean/);
    expect(() => validateDistribution(logNormal(0, 1), 'service')).toThrow(InvalidOptionError);
    expect(() => validateDistribution(bimodal(1, 2, 1.5), 'x')).toThrow(/x\.slowFraction/);
    expect(() => validateDistribution(empirical([]), 'x')).toThrow(/x\.samples/);
    expect(() => validateDistribution(empirical([1, Number.NaN]), 'x')).toThrow(/x\.samples\[1\]/);
    expect(() => validateDistribution({ type: 'pareto' } as unknown as Distribution, 'x')).toThrow(/x\.type/);
  });
});
