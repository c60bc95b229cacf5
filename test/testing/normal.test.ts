import { describe, expect, it } from 'vitest';
import { bonferroniZ, normalQuantile } from '../../src/testing/index.js';

/** Standard normal CDF by Simpson's rule on the density, independent of the implementation. */
function cdf(z: number): number {
  const n = 20_000;
  const a = Math.min(0, z);
  const b = Math.max(0, z);
  const h = (b - a) / n;
  const f = (x: number) => Math.exp((-x * x) / 2) / Math.sqrt(2 * Math.PI);
  let s = f(a) + f(b);
  for (let i = 1; i < n; i++) s += f(a + i * h) * (i % 2 === 0 ? 2 : 4);
  const area = (s * h) / 3;
  return z >= 0 ? 0.5 + area : 0.5 - area;
}

describe('normalQuantile (Wichura AS 241)', () => {
  it('matches published quantiles', () => {
    const known: [number, number][] = [
      [0.5, 0],
      [0.841344746068543, 1],
      [0.9, 1.2815515655446004],
      [0.95, 1.6448536269514722],
      [0.975, 1.959963984540054],
      [0.99, 2.3263478740408408],
      [0.995, 2.5758293035489004],
      [0.999, 3.090232306167813],
      [0.9999, 3.719016485455709],
      [1 - 1e-6, 4.753424308817091],
    ];
    for (const [p, z] of known) {
      expect(normalQuantile(p)).toBeCloseTo(z, 6);
      expect(normalQuantile(1 - p)).toBeCloseTo(-z, 6);
    }
    // The brief's figures, to the digits usually quoted.
    expect(normalQuantile(0.975).toFixed(6)).toBe('1.959964');
    expect(normalQuantile(0.999).toFixed(6)).toBe('3.090232');
  });

  it('keeps full precision in the far tails', () => {
    // One-sided tail probabilities 1e-6, 5e-7 (two-sided 1e-6), 1e-9, 1e-12, 1e-20, 1e-100, 1e-300.
    expect(-normalQuantile(1e-6)).toBeCloseTo(4.753424308822899, 12);
    expect(-normalQuantile(5e-7)).toBeCloseTo(4.891638475698590, 12);
    expect(-normalQuantile(1e-9)).toBeCloseTo(5.997807015007687, 12);
    expect(-normalQuantile(1e-12)).toBeCloseTo(7.034483825301132, 11);
    expect(-normalQuantile(1e-20)).toBeCloseTo(9.262340089798408, 11);
    expect(-normalQuantile(1e-100)).toBeCloseTo(21.27345356096532, 10);
    expect(-normalQuantile(1e-300)).toBeCloseTo(37.0470962993612, 9);
  });

  it('inverts the normal CDF across the range (against numerical integration)', () => {
    for (const p of [0.001, 0.01, 0.05, 0.0749, 0.075, 0.0751, 0.2, 0.4, 0.5, 0.6, 0.8, 0.925, 0.95, 0.99, 0.999]) {
      expect(cdf(normalQuantile(p))).toBeCloseTo(p, 10);
    }
  });

  it('is monotonic and odd', () => {
    let prev = Number.NEGATIVE_INFINITY;
    for (let i = 1; i < 2000; i++) {
      const p = i / 2000;
      const z = normalQuantile(p);
      expect(z).toBeGreaterThan(prev);
      expect(z + normalQuantile(1 - p)).toBeCloseTo(0, 12);
      prev = z;
    }
  });

  it('handles the ends and rejects non-probabilities', () => {
    expect(normalQuantile(0)).toBe(Number.NEGATIVE_INFINITY);
    expect(normalQuantile(1)).toBe(Number.POSITIVE_INFINITY);
    for (const bad of [-0.1, 1.1, Number.NaN, '0.5']) expect(() => normalQuantile(bad as number)).toThrow(RangeError);
  });
});

describe('bonferroniZ', () => {
  it('splits α over k tests and both tails', () => {
    expect(bonferroniZ(0.95, 1)).toBeCloseTo(1.959963984540054, 12);
    expect(bonferroniZ(0.95, 5)).toBeCloseTo(-normalQuantile(0.005), 12);
    expect(bonferroniZ(0.999999, 1)).toBeCloseTo(4.891638475698590, 9);
    expect(bonferroniZ(0.999999, 10)).toBeCloseTo(-normalQuantile(5e-8), 9); // 1 - 0.999999 is not exactly 1e-6
  });

  it('rejects bad arguments', () => {
    for (const c of [0, 1, -1, Number.NaN]) expect(() => bonferroniZ(c, 1)).toThrow(RangeError);
    for (const k of [0, 1.5, -1]) expect(() => bonferroniZ(0.99, k)).toThrow(RangeError);
  });
});
