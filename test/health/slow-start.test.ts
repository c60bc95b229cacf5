import { describe, expect, it } from 'vitest';
import {
  ConsistentHash,
  InvalidOptionError,
  LeastConnections,
  Maglev,
  PowerOfTwoChoices,
  Random,
  RoundRobin,
  WeightedRandom,
  WeightedRoundRobin,
  type Balancer,
  type BalancerOptions,
  type Lease,
  type Target,
  type TargetStats,
} from '../../src/index.js';

/** A clock the test moves by hand. */
function fakeClock(start = 1000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

type W = { id: string; weight: number };
const w = (id: string, weight: number): W => ({ id, weight });
const statOf = (lb: Balancer<W>, id: string): TargetStats => lb.stats().find((s) => s.id === id)!;

/** Envoy's formula: weight × max(min%, (t / window)^(1 / aggression)). */
const envoy = (weight: number, t: number, window: number, aggression = 1, minPercent = 10) =>
  t >= window ? weight : weight * Math.max(minPercent / 100, (t / window) ** (1 / aggression));

function counts(ids: readonly string[], n: number, next: () => string): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(ids.map((id) => [id, 0]));
  for (let i = 0; i < n; i++) out[next()]!++;
  return out;
}

describe('slow start: effective weight follows Envoy’s formula', () => {
  it('a target added after construction starts at minWeightPercent, ramps linearly (aggression 1) and ends at its weight', () => {
    const clock = fakeClock();
    const lb = new WeightedRoundRobin<W>([w('a', 4), w('b', 4)], { now: clock.now, slowStart: { windowMs: 10_000 } });
    expect(lb.stats().map((s) => s.state)).toEqual(['up', 'up']); // initial targets do not ramp
    lb.add(w('c', 4));
    expect(statOf(lb, 'c')).toMatchObject({ state: 'slow-start', weight: 4, effectiveWeight: 0.4 }); // t = 0: 10 %
    clock.advance(500); // 5 %: below the floor
    expect(statOf(lb, 'c').effectiveWeight).toBeCloseTo(0.4, 12);
    clock.advance(2000); // t = 2.5 s: 25 %
    expect(statOf(lb, 'c').effectiveWeight).toBeCloseTo(envoy(4, 2500, 10_000), 12);
    clock.advance(2500); // mid-window
    expect(statOf(lb, 'c').effectiveWeight).toBeCloseTo(2, 12);
    clock.advance(4999);
    expect(statOf(lb, 'c')).toMatchObject({ state: 'slow-start' });
    expect(statOf(lb, 'c').effectiveWeight).toBeCloseTo(envoy(4, 9999, 10_000), 12);
    clock.advance(1); // t = window: done
    expect(statOf(lb, 'c')).toMatchObject({ state: 'up', weight: 4, effectiveWeight: 4 });
  });

  it('aggression and minWeightPercent', () => {
    const clock = fakeClock();
    const lb = new WeightedRandom<W>([w('a', 1)], { now: clock.now, slowStart: { windowMs: 1000, aggression: 2, minWeightPercent: 30 } });
    lb.add(w('b', 10));
    expect(statOf(lb, 'b').effectiveWeight).toBeCloseTo(3, 12); // 30 % floor
    clock.advance(64); // sqrt(0.064) = 0.253 < 0.3
    expect(statOf(lb, 'b').effectiveWeight).toBeCloseTo(3, 12);
    clock.advance(186); // t = 250: sqrt(0.25) = 0.5
    expect(statOf(lb, 'b').effectiveWeight).toBeCloseTo(5, 12);
    clock.advance(560); // t = 810: 0.9
    expect(statOf(lb, 'b').effectiveWeight).toBeCloseTo(9, 12);
    for (const [t, a, min] of [
      [100, 0.5, 10],
      [300, 3, 1],
      [700, 1.5, 50],
    ] as const) {
      const c = fakeClock();
      const x = new WeightedRandom<W>([w('a', 1)], { now: c.now, slowStart: { windowMs: 1000, aggression: a, minWeightPercent: min } });
      x.add(w('b', 7));
      c.advance(t);
      expect(statOf(x, 'b').effectiveWeight).toBeCloseTo(envoy(7, t, 1000, a, min), 12);
    }
  });

  it('refreshes at most every windowMs / 20 between picks: a staircase', () => {
    const clock = fakeClock();
    const lb = new WeightedRoundRobin<W>([w('a', 1)], { now: clock.now, slowStart: { windowMs: 1000, minWeightPercent: 1 } });
    lb.add(w('b', 100));
    expect(statOf(lb, 'b').effectiveWeight).toBeCloseTo(1, 12);
    clock.advance(40); // formula says 4, but the next refresh is due at 50
    lb.pick();
    expect(statOf(lb, 'b').effectiveWeight).toBeCloseTo(1, 12);
    clock.advance(10);
    expect(statOf(lb, 'b').effectiveWeight).toBeCloseTo(5, 12);
    clock.advance(49);
    expect(statOf(lb, 'b').effectiveWeight).toBeCloseTo(5, 12);
    clock.advance(1);
    expect(statOf(lb, 'b').effectiveWeight).toBeCloseTo(10, 12);
  });

  it('setWeight and setTargets during a ramp scale the new weight; setTargets ramps new ids only', () => {
    const clock = fakeClock();
    const lb = new WeightedRoundRobin<W>([w('a', 1)], { now: clock.now, slowStart: { windowMs: 1000 } });
    lb.add(w('b', 2));
    clock.advance(500);
    expect(statOf(lb, 'b').effectiveWeight).toBeCloseTo(1, 12);
    lb.setWeight('b', 6);
    expect(statOf(lb, 'b').effectiveWeight).toBeCloseTo(3, 12);
    lb.setTargets([w('a', 2), w('b', 8), w('c', 10)]);
    expect(lb.stats().map((s) => [s.id, s.state, s.effectiveWeight])).toEqual([
      ['a', 'up', 2],
      ['b', 'slow-start', 4],
      ['c', 'slow-start', 1],
    ]);
  });

  it('weights that routing ignores do not ramp: RoundRobin, Random and the hash family keep their weights', () => {
    const makers: [string, (o: BalancerOptions) => Balancer<W>][] = [
      ['RoundRobin', (o) => new RoundRobin<W>([w('a', 1)], o)],
      ['Random', (o) => new Random<W>([w('a', 1)], o)],
      ['ConsistentHash', (o) => new ConsistentHash<W>([w('a', 1)], o)],
      ['Maglev', (o) => new Maglev<W>([w('a', 1)], o)],
    ];
    for (const [name, make] of makers) {
      const lb = make({ slowStart: { windowMs: 1000 } });
      lb.add(w('b', 3));
      expect(statOf(lb, 'b'), name).toMatchObject({ state: 'up', weight: 3, effectiveWeight: 3 });
    }
  });
});

describe('slow start: the weighted balancers route on the effective weight', () => {
  it('WeightedRoundRobin: exact shares 2 : 2 : 1 mid-window (weights 2, 2, 2 ramping the third)', () => {
    const clock = fakeClock();
    const lb = new WeightedRoundRobin<W>([w('a', 2), w('b', 2)], { now: clock.now, slowStart: { windowMs: 1000 } });
    lb.add(w('c', 2));
    clock.advance(500);
    expect(statOf(lb, 'c').effectiveWeight).toBe(1);
    expect(counts(['a', 'b', 'c'], 500, () => lb.pick().id)).toEqual({ a: 200, b: 200, c: 100 });
    clock.advance(500); // ramp over: equal shares
    expect(counts(['a', 'b', 'c'], 600, () => lb.pick().id)).toEqual({ a: 200, b: 200, c: 200 });
  });

  it('WeightedRoundRobin: at t = 0 the newcomer gets minWeightPercent of its share', () => {
    const clock = fakeClock();
    const lb = new WeightedRoundRobin<W>([w('a', 1)], { now: clock.now, slowStart: { windowMs: 1000 } });
    lb.add(w('b', 1));
    // effective weights 1 and 0.1: b gets 1 pick in 11
    expect(counts(['a', 'b'], 1100, () => lb.pick().id)).toEqual({ a: 1000, b: 100 });
  });

  it('WeightedRandom: shares follow effective weights at t = 0, mid-window and after', () => {
    const clock = fakeClock();
    const lb = new WeightedRandom<W>([w('a', 3), w('b', 3)], { now: clock.now, seed: 7, slowStart: { windowMs: 1000 } });
    lb.add(w('c', 3));
    const N = 60_000;
    for (const [advance, cWeight] of [
      [0, 0.3],
      [500, 1.5],
      [500, 3],
    ] as const) {
      clock.advance(advance);
      const c = counts(['a', 'b', 'c'], N, () => lb.pick().id);
      const expected = cWeight / (6 + cWeight);
      // 5 standard deviations of a binomial share
      const tolerance = 5 * Math.sqrt((expected * (1 - expected)) / N);
      expect(Math.abs(c.c! / N - expected)).toBeLessThan(tolerance);
    }
  });

  it('LeastConnections: open leases per unit of effective weight', () => {
    const clock = fakeClock();
    const lb = new LeastConnections<W>([w('a', 1), w('b', 1)], { now: clock.now, slowStart: { windowMs: 1000 } });
    lb.add(w('c', 1));
    clock.advance(500); // c at 0.5
    const held: Lease<W>[] = [];
    for (let i = 0; i < 50; i++) held.push(lb.acquire());
    expect(counts(['a', 'b', 'c'], 50, () => held.pop()!.target.id)).toEqual({ a: 20, b: 20, c: 10 });
  });

  it('PowerOfTwoChoices: candidates drawn and compared by effective weight', () => {
    const clock = fakeClock();
    const lb = new PowerOfTwoChoices<W>([w('a', 1), w('b', 1), w('c', 1)], { now: clock.now, seed: 3, slowStart: { windowMs: 1000 } });
    lb.add(w('d', 1));
    clock.advance(250); // d at 0.25
    // Hold leases open: the ratio active / effectiveWeight keeps d at about a quarter of the others.
    const held: Lease<W>[] = [];
    for (let i = 0; i < 1300; i++) held.push(lb.acquire());
    const c = counts(['a', 'b', 'c', 'd'], held.length, () => held.pop()!.target.id);
    expect(c.d! / c.a!).toBeGreaterThan(0.2);
    expect(c.d! / c.a!).toBeLessThan(0.3);
    // Picks alone (no load) are weighted draws: d about 0.25 / 3.25.
    const p = counts(['a', 'b', 'c', 'd'], 40_000, () => lb.pick().id);
    expect(p.d! / 40_000).toBeGreaterThan(0.04);
    expect(p.d! / 40_000).toBeLessThan(0.12);
  });
});

describe('slow start: targets returning to rotation ramp again', () => {
  const opts = (clock: ReturnType<typeof fakeClock>, extra: Partial<BalancerOptions> = {}): BalancerOptions => ({
    now: clock.now,
    seed: 1,
    slowStart: { windowMs: 1000 },
    ...extra,
  });

  it('after markDown / markUp, but not while still unhealthy', () => {
    const clock = fakeClock();
    const lb = new WeightedRoundRobin<W>([w('a', 1), w('b', 1), w('c', 1)], opts(clock));
    lb.markDown('b');
    clock.advance(5000);
    lb.reportHealth('b', false);
    lb.markUp('b');
    expect(statOf(lb, 'b').state).toBe('down'); // unhealthy still
    clock.advance(100);
    lb.reportHealth('b', true);
    expect(statOf(lb, 'b')).toMatchObject({ state: 'slow-start', effectiveWeight: 0.1 });
    clock.advance(1000);
    expect(statOf(lb, 'b')).toMatchObject({ state: 'up', effectiveWeight: 1 });
    lb.markDown('c');
    lb.markUp('c');
    expect(statOf(lb, 'c')).toMatchObject({ state: 'slow-start', effectiveWeight: 0.1 });
  });

  it('after a passive failure window', () => {
    const clock = fakeClock();
    const lb = new WeightedRoundRobin<W>([w('a', 1), w('b', 1)], opts(clock, { passive: { maxFails: 1, failTimeoutMs: 100 } }));
    lb.acquire({ exclude: ['a'] }).release('failure');
    expect(statOf(lb, 'b').state).toBe('down');
    clock.advance(101);
    expect(statOf(lb, 'b')).toMatchObject({ state: 'slow-start', effectiveWeight: 0.1 });
  });

  it('after an outlier ejection (gradual return), with picks following the ramp', () => {
    const clock = fakeClock();
    const events: string[] = [];
    const lb = new WeightedRoundRobin<W>(
      ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'].map((id) => w(id, 1)),
      opts(clock, { outlier: { consecutiveFailures: 2 }, onEvent: (e) => events.push(`${e.type}:${e.id}@${e.at}`) }),
    );
    const others = lb.targets().map((t) => t.id).filter((id) => id !== 'j');
    lb.acquire({ exclude: others }).release('failure');
    lb.acquire({ exclude: others }).release('failure');
    expect(statOf(lb, 'j').state).toBe('ejected');
    clock.advance(30_000);
    const picks = counts(lb.targets().map((t) => t.id), 910, () => lb.pick().id);
    expect(events).toEqual(['eject:j@1000', 'return:j@31000']);
    expect(statOf(lb, 'j')).toMatchObject({ state: 'slow-start', effectiveWeight: 0.1 });
    expect(picks.j).toBe(10); // 0.1 of 9.1 total weight
    clock.advance(500);
    const later = counts(lb.targets().map((t) => t.id), 950, () => lb.pick().id);
    expect(later.j).toBe(50);
    clock.advance(500);
    expect(statOf(lb, 'j')).toMatchObject({ state: 'up', effectiveWeight: 1 });
  });
});

describe('slow start options', () => {
  it('rejects bad options by name', () => {
    for (const [options, name] of [
      [{ slowStart: true }, 'slowStart'],
      [{ slowStart: 1000 }, 'slowStart'],
      [{ slowStart: {} }, 'slowStart.windowMs'],
      [{ slowStart: { windowMs: 0 } }, 'slowStart.windowMs'],
      [{ slowStart: { windowMs: -1 } }, 'slowStart.windowMs'],
      [{ slowStart: { windowMs: Number.NaN } }, 'slowStart.windowMs'],
      [{ slowStart: { windowMs: Number.POSITIVE_INFINITY } }, 'slowStart.windowMs'],
      [{ slowStart: { windowMs: 1000, aggression: 0 } }, 'slowStart.aggression'],
      [{ slowStart: { windowMs: 1000, aggression: Number.NaN } }, 'slowStart.aggression'],
      [{ slowStart: { windowMs: 1000, minWeightPercent: 0 } }, 'slowStart.minWeightPercent'],
      [{ slowStart: { windowMs: 1000, minWeightPercent: 101 } }, 'slowStart.minWeightPercent'],
      [{ slowStart: { windowMs: 1000, window: 5 } }, 'slowStart.window'],
    ] as const) {
      for (const make of [(o: never) => new WeightedRoundRobin<Target>(['a'], o), (o: never) => new RoundRobin<Target>(['a'], o)]) {
        let caught: unknown;
        try {
          make(options as never);
        } catch (err) {
          caught = err;
        }
        expect(caught, JSON.stringify(options)).toBeInstanceOf(InvalidOptionError);
        expect((caught as InvalidOptionError).option).toBe(name);
      }
    }
  });
});
