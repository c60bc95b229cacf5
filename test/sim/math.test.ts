import { describe, expect, it } from 'vitest';
import { createRandom } from '../../src/index.js';
import { EventQueue, deriveSeed, exp, ln, log10, pow } from '../../src/sim/index.js';

describe('sim/math: deterministic ln and exp', () => {
  it('match fdlibm (V8 Math.log / Math.exp) bit for bit on random and edge inputs', () => {
    const r = createRandom(7);
    const lnInputs = [1, 2, 10, 0.5, Math.E, 1e-300, 5e-324, 2.2250738585072014e-308, 1e300, Number.MAX_VALUE, 1 + 2 ** -30, 1 - 2 ** -30];
    const expInputs = [0, 1, -1, 0.5, -0.5, 1.04, -1.04, 1e-10, -1e-10, 1e-30, 709, -709, -745, 0.34657359, 0.34657360];
    for (let i = 0; i < 20_000; i++) {
      const u = r();
      lnInputs.push(u, 1 - u, u * 1000, 2 ** ((u - 0.5) * 2000), 1 + (u - 0.5) * 1e-6);
      expInputs.push((u - 0.5) * 1400, (u - 0.5) * 2, (u - 0.5) * 40, (u - 0.5) * 1e-7);
    }
    const lnMismatches = lnInputs.filter((x) => !Object.is(ln(x), Math.log(x)));
    const expMismatches = expInputs.filter((x) => !Object.is(exp(x), Math.exp(x)));
    expect(lnMismatches).toEqual([]);
    expect(expMismatches).toEqual([]);
  });

  it('handles special values like Math', () => {
    expect(ln(0)).toBe(Number.NEGATIVE_INFINITY);
    expect(ln(-0)).toBe(Number.NEGATIVE_INFINITY);
    expect(ln(-1)).toBeNaN();
    expect(ln(Number.NaN)).toBeNaN();
    expect(ln(Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
    expect(exp(Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
    expect(exp(Number.NEGATIVE_INFINITY)).toBe(0);
    expect(exp(Number.NaN)).toBeNaN();
    expect(exp(710)).toBe(Number.POSITIVE_INFINITY);
    expect(exp(-746)).toBe(0);
    expect(log10(1000)).toBeCloseTo(3, 14);
    expect(pow(2, 10)).toBeCloseTo(1024, 10);
  });

  it('derives distinct seeds per stream and index', () => {
    const seen = new Set<number>();
    for (let stream = 0; stream < 8; stream++) for (let i = 0; i < 100; i++) seen.add(deriveSeed(1, stream, i));
    expect(seen.size).toBe(800);
    expect(deriveSeed(1, 2, 3)).toBe(deriveSeed(1, 2, 3));
    expect(deriveSeed(2, 2, 3)).not.toBe(deriveSeed(1, 2, 3));
  });
});

describe('sim/heap: EventQueue', () => {
  it('pops by time, then in scheduling order', () => {
    const r = createRandom(3);
    const q = new EventQueue<number>();
    const pushed: [number, number][] = [];
    for (let i = 0; i < 5_000; i++) {
      const t = Math.floor(r() * 100); // many ties
      q.push(t, i);
      pushed.push([t, i]);
      if (r() < 0.3) {
        // interleave pops: the smallest pushed so far must come out
        pushed.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        const [time, id] = pushed.shift()!;
        expect(q.pop()).toBe(id);
        expect(q.lastTime).toBe(time);
      }
    }
    pushed.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    for (const [, id] of pushed) expect(q.pop()).toBe(id);
    expect(q.pop()).toBeUndefined();
    expect(q.size).toBe(0);
    expect(q.peekTime()).toBe(Number.POSITIVE_INFINITY);
  });

  it('rejects NaN times', () => {
    expect(() => new EventQueue<number>().push(Number.NaN, 1)).toThrow(RangeError);
  });
});
