import { describe, expect, it } from 'vitest';
import { InvalidOptionError, LeastTime, UnknownIdError, WeightedRoundRobin, type Target } from '../../src/index.js';
import { drive, fakeClock, shareOf } from '../support/latency-driver.js';

type W = { id: string; weight: number };
const w = (id: string, weight = 1): W => ({ id, weight });
const ids = (xs: readonly Target[]) => xs.map((t) => (typeof t === 'string' ? t : t.id));

/** One request to `id` (all others excluded) that took `latencyMs`. */
function serve(lb: LeastTime<W> | LeastTime<string>, id: string, latencyMs: number, ok = true): void {
  const others = ids(lb.targets()).filter((x) => x !== id);
  (lb as LeastTime<Target>).acquire({ exclude: others }).release({ ok, latencyMs });
}

describe('LeastTime: the average', () => {
  it('the first response sets it; later ones move it by (100 − factor) % (Angie, default 90)', () => {
    const lb = new LeastTime(['a', 'b'], { mode: 'angie' });
    expect(lb.averageMs('a')).toBeUndefined();
    serve(lb, 'a', 100);
    expect(lb.averageMs('a')).toBe(100);
    serve(lb, 'a', 200);
    expect(lb.averageMs('a')).toBe(110); // (100 × 90 + 200 × 10) / 100
    serve(lb, 'a', 0);
    expect(lb.averageMs('a')).toBe(99);
    const f = new LeastTime(['a'], { factor: 50, mode: 'angie' });
    serve(f, 'a', 10);
    serve(f, 'a', 30);
    expect(f.averageMs('a')).toBe(20);
    const raw = new LeastTime(['a'], { factor: 0, mode: 'angie' });
    serve(raw, 'a', 10);
    serve(raw, 'a', 30);
    expect(raw.averageMs('a')).toBe(30);
  });

  it('ignores failed responses (Angie skips NGX_PEER_FAILED), and measures on the clock when no latency is reported', () => {
    const clock = fakeClock();
    const lb = new LeastTime(['a', 'b'], { now: clock.now });
    serve(lb, 'a', 5_000, false);
    expect(lb.averageMs('a')).toBeUndefined();
    const lease = lb.acquire({ exclude: ['b'] });
    clock.advance(42);
    lease.release('success');
    expect(lb.averageMs('a')).toBe(42);
    expect(() => lb.averageMs('zz')).toThrow(UnknownIdError);
  });

  it('never stores 0: a zero-time response still leaves the load counting', () => {
    const lb = new LeastTime(['a', 'b']);
    serve(lb, 'a', 0);
    serve(lb, 'b', 0);
    expect(lb.averageMs('a')).toBeGreaterThan(0);
    const open = Array.from({ length: 10 }, () => lb.acquire());
    expect(open.filter((l) => l.target === 'a')).toHaveLength(5);
  });
});

describe('LeastTime: choice', () => {
  it('average × (in flight + 1) / weight: every pick is a cheapest target', () => {
    const lb = new LeastTime([w('a'), w('b'), w('c', 2)], { mode: 'angie' });
    serve(lb, 'a', 10);
    serve(lb, 'b', 30);
    serve(lb, 'c', 40);
    const avg: Record<string, number> = { a: 10, b: 30, c: 40 };
    const weight: Record<string, number> = { a: 1, b: 1, c: 2 };
    const open: Record<string, number> = { a: 0, b: 0, c: 0 };
    const cost = (id: string) => (avg[id]! * (open[id]! + 1)) / weight[id]!;
    const seq: string[] = [];
    for (let i = 0; i < 30; i++) {
      const min = Math.min(cost('a'), cost('b'), cost('c'));
      const id = lb.acquire().target.id;
      expect(cost(id)).toBe(min);
      open[id]!++;
      seq.push(id);
    }
    // a (10) first; then a (20) and c (40 / 2 = 20) tie, and smooth WRR gives c (weight 2) the turn.
    expect(seq.slice(0, 2)).toEqual(['a', 'c']);
  });

  it('with every target tied it is exactly nginx’s smooth weighted round robin', () => {
    const targets = [w('a', 5), w('b', 1), w('c', 1)];
    const lb = new LeastTime(targets, { mode: 'angie' });
    // Averages proportional to weights: every cost per weight is 10.
    serve(lb, 'a', 50);
    serve(lb, 'b', 10);
    serve(lb, 'c', 10);
    const wrr = new WeightedRoundRobin(targets);
    const got = Array.from({ length: 70 }, () => lb.pick().id).join('');
    expect(got.slice(0, 7)).toBe('aabacaa');
    expect(got).toBe(Array.from({ length: 70 }, () => wrr.pick().id).join(''));
    // Equal weights and no history: plain round robin in list order.
    const rr = new LeastTime(['x', 'y', 'z']);
    expect(Array.from({ length: 6 }, () => rr.pick()).join('')).toBe('xyzxyz');
  });

  it('tied targets take turns by weight; the others wait until they are cheapest', () => {
    const lb = new LeastTime([w('a', 2), w('b', 1), w('slow', 1)], { mode: 'angie' });
    serve(lb, 'a', 20);
    serve(lb, 'b', 10);
    serve(lb, 'slow', 50);
    const counts: Record<string, number> = { a: 0, b: 0, slow: 0 };
    for (let i = 0; i < 300; i++) counts[lb.pick().id]!++;
    expect(counts).toEqual({ a: 200, b: 100, slow: 0 });
  });

  it('targets without a response yet are costed at the mean of the known averages (Angie)', () => {
    const lb = new LeastTime(['a', 'b', 'new']);
    serve(lb, 'a', 10);
    serve(lb, 'b', 30);
    // new counts as 20: a (10) first, then new (20) against a with one lease (20): a tie.
    const l1 = lb.acquire();
    expect(l1.target).toBe('a');
    const l2 = lb.acquire();
    const l3 = lb.acquire();
    expect([l2.target, l3.target].sort()).toEqual(['a', 'new']);
  });

  it('is weighted least connections until any response comes in', () => {
    const lb = new LeastTime([w('big', 3), w('small', 1)]);
    const open = Array.from({ length: 8 }, () => lb.acquire());
    expect(open.filter((l) => l.target.id === 'big')).toHaveLength(6);
  });

  it('a target that becomes 10× slower loses its share at once', () => {
    const n = 10;
    const targets = Array.from({ length: n }, (_, i) => `s${i}`);
    const clock = fakeClock();
    const lb = new LeastTime(targets, { now: clock.now, seed: 5 });
    const picks = drive({ lb, clock, clients: 20, until: 10_000, latency: (id, at) => (id === 's0' && at >= 5_000 ? 100 : 10) });
    expect(shareOf(picks, 's0', 0, 5_000)).toBeGreaterThan(0.7 / n);
    expect(shareOf(picks, 's0', 5_100, 10_000)).toBeLessThan(0.1 / n);
  });

  it('rejects a bad factor', () => {
    for (const factor of [-1, 100, 1.5, Number.NaN, '90']) {
      let caught: unknown;
      try {
        new LeastTime(['a'], { factor: factor as number });
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(InvalidOptionError);
      expect((caught as InvalidOptionError).option).toBe('factor');
    }
  });
});

describe('LeastTime: a healed target gets its traffic back (issue 14, defect 12)', () => {
  const n = 10;
  const targets = Array.from({ length: n }, (_, i) => `s${i}`);
  // s0 is 10× slower from 5 s to 15 s, then as fast as the others again.
  const latency = (id: string, at: number) => (id === 's0' && at >= 5_000 && at < 15_000 ? 100 : 10);

  it('by default the average decays with time, so s0 is tried again and back to its share within 2.5 s', () => {
    const clock = fakeClock();
    const lb = new LeastTime(targets, { now: clock.now, seed: 5 });
    const picks = drive({ lb, clock, clients: 20, until: 30_000, latency });
    expect(shareOf(picks, 's0', 5_100, 15_000)).toBeLessThan(0.02 / n); // still cut while slow
    expect(shareOf(picks, 's0', 15_000, 17_500)).toBeGreaterThan(0.5 / n);
    expect(shareOf(picks, 's0', 17_500, 30_000)).toBeGreaterThan(0.9 / n);
  });

  it("mode 'angie' keeps Angie's behaviour: an average only moves when a response arrives, so s0 stays starved", () => {
    const clock = fakeClock();
    const lb = new LeastTime(targets, { now: clock.now, seed: 5, mode: 'angie' });
    const picks = drive({ lb, clock, clients: 20, until: 30_000, latency });
    expect(shareOf(picks, 's0', 15_000, 30_000)).toBe(0);
  });

  it('decays an idle average by exp(−Δt/τ), read and updated on the clock; Angie mode does not', () => {
    let t = 0;
    const lb = new LeastTime(['a', 'b'], { now: () => t, decayMs: 1_000 });
    const angie = new LeastTime(['a', 'b'], { now: () => t, mode: 'angie' });
    for (const x of [lb, angie]) x.acquire({ exclude: ['b'] }).release({ ok: true, latencyMs: 400 });
    t = 1_000 * Math.LN2;
    expect(lb.averageMs('a')).toBeCloseTo(200, 9);
    expect(angie.averageMs('a')).toBe(400);
    // A response moves the decayed average by (100 − factor) %: 200 × 0.9 + 100 × 0.1.
    lb.acquire({ exclude: ['b'] }).release({ ok: true, latencyMs: 100 });
    expect(lb.averageMs('a')).toBeCloseTo(190, 9);
    // Long idle periods neither overflow nor reach 0.
    t += 1e9;
    expect(lb.averageMs('a')).toBe(1e-3);
    lb.acquire({ exclude: ['b'] }).release({ ok: true, latencyMs: 50 });
    expect(lb.averageMs('a')).toBeCloseTo(1e-3 * 0.9 + 5, 9);
    // A clock that goes back decays nothing.
    t -= 5_000;
    expect(lb.averageMs('a')).toBeCloseTo(1e-3 * 0.9 + 5, 9);
  });

  it('rejects a bad mode or decayMs, and decayMs with Angie mode', () => {
    for (const [options, name] of [
      [{ mode: 'nginx' }, 'mode'],
      [{ decayMs: 0 }, 'decayMs'],
      [{ decayMs: -1 }, 'decayMs'],
      [{ decayMs: Number.POSITIVE_INFINITY }, 'decayMs'],
      [{ decayMs: '5000' }, 'decayMs'],
      [{ mode: 'angie', decayMs: 1_000 }, 'decayMs'],
    ] as const) {
      let caught: unknown;
      try {
        new LeastTime(['a'], options as never);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(InvalidOptionError);
      expect((caught as InvalidOptionError).option).toBe(name);
    }
  });
});
