import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError, PeakEwma, UnknownIdError, withRetry, type Lease } from '../../src/index.js';
import { drive, fakeClock, shareOf } from '../support/latency-driver.js';

/** Finagle's `Long.MaxValue >> 16` ns, in ms. */
const PENALTY_MS = (2 ** 47 - 1) / 1e6;

/**
 * A line-by-line port of Finagle's `PeakEwma.Metric` (finagle-core, loadbalancer/PeakEwma.scala)
 * with `Math.exp`, in ms, as the reference the balancer must follow.
 */
class FinagleMetric {
  pending = 0;
  constructor(
    private stamp: number,
    public cost: number,
    private readonly tau: number,
  ) {}

  private observe(rtt: number, t: number): void {
    const td = Math.max(t - this.stamp, 0);
    const w = Math.exp(-td / this.tau);
    if (rtt > this.cost) this.cost = rtt;
    else this.cost = this.cost * w + rtt * (1.0 - w);
    this.stamp = t;
  }

  get(t: number, penaltyMode: boolean): number {
    this.observe(0.0, t);
    if (penaltyMode && this.cost === 0.0 && this.pending !== 0) return PENALTY_MS + this.pending;
    return this.cost * (this.pending + 1);
  }

  end(rtt: number, t: number): void {
    this.pending -= 1;
    this.observe(rtt, t);
  }

  /** The estimate decayed to `t` without observing anything. */
  peek(t: number): number {
    return t > this.stamp ? this.cost * Math.exp(-(t - this.stamp) / this.tau) : this.cost;
  }
}

const close = (a: number, b: number, rel = 1e-9) => Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b), 1e-12);

describe('PeakEwma: the estimate', () => {
  it('starts at the default RTT (30 ms, Linkerd), which decays like any estimate (tower)', () => {
    const clock = fakeClock(1000);
    const lb = new PeakEwma(['a', 'b'], { now: clock.now, decayMs: 1000 });
    expect(lb.rttEstimate('a')).toBe(30);
    clock.advance(100);
    const e = lb.rttEstimate('a');
    expect(e).toBeGreaterThan(27);
    expect(e).toBeLessThan(30);
    expect(e).toBeCloseTo(30 * Math.exp(-0.1), 12);
    expect(new PeakEwma(['a'], { now: clock.now, defaultRttMs: 5 }).rttEstimate('a')).toBe(5);
  });

  it('jumps to any new peak at once', () => {
    const clock = fakeClock();
    const lb = new PeakEwma(['a'], { now: clock.now });
    const lease = lb.acquire();
    clock.advance(250); // measured on the injected clock
    lease.release('success');
    expect(lb.rttEstimate('a')).toBe(250);
    lb.acquire().release({ ok: true, latencyMs: 900 }); // reported latency wins over the clock
    expect(lb.rttEstimate('a')).toBe(900);
    lb.acquire().release({ ok: false, latencyMs: 1500 }); // failures count too, as in Finagle
    expect(lb.rttEstimate('a')).toBe(1500);
  });

  it('halves in τ·ln 2 without samples', () => {
    for (const tau of [1_000, 10_000]) {
      const clock = fakeClock();
      const lb = new PeakEwma(['a'], { now: clock.now, decayMs: tau });
      lb.acquire().release({ ok: true, latencyMs: 400 });
      clock.advance(tau * Math.LN2);
      expect(lb.rttEstimate('a')).toBeCloseTo(200, 9);
      clock.advance(tau * Math.LN2);
      expect(lb.rttEstimate('a')).toBeCloseTo(100, 9);
      clock.advance(tau);
      expect(lb.rttEstimate('a')).toBeCloseTo(100 / Math.E, 9);
    }
  });

  it('moves toward a lower sample with weight 1 − exp(−Δt/τ), Δt since the last update', () => {
    const clock = fakeClock();
    const tau = 10_000;
    const lb = new PeakEwma(['a'], { now: clock.now, decayMs: tau });
    lb.acquire().release({ ok: true, latencyMs: 100 }); // peak at t = 0
    clock.advance(2_000);
    const lease = lb.acquire(); // a lone target is returned without a cost read (Finagle)
    clock.advance(20);
    lease.release('success'); // rtt 20 at t = 2,020
    const w = Math.exp(-2_020 / tau);
    expect(lb.rttEstimate('a')).toBeCloseTo(100 * w + 20 * (1 - w), 10);
    // An update right after the previous one barely moves it (Δt = 0: w = 1).
    const before = lb.rttEstimate('a');
    lb.acquire().release({ ok: true, latencyMs: 0 });
    expect(lb.rttEstimate('a')).toBe(before);
  });

  it('follows Finagle’s Metric exactly, decay on read included (model check)', () => {
    type Op = { kind: 'advance'; ms: number } | { kind: 'acquire' } | { kind: 'release'; index: number; rtt: number };
    const op = fc.oneof(
      fc.record({ kind: fc.constant('advance' as const), ms: fc.double({ min: 0, max: 5_000, noNaN: true }) }),
      fc.record({ kind: fc.constant('acquire' as const) }),
      fc.record({ kind: fc.constant('release' as const), index: fc.nat(), rtt: fc.double({ min: 0, max: 2_000, noNaN: true }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), fc.integer({ min: 100, max: 20_000 }), fc.boolean(), fc.integer(), (ops: Op[], tau, penalty, seed) => {
        const clock = fakeClock(5);
        const lb = new PeakEwma(['a', 'b'], {
          now: clock.now,
          decayMs: tau,
          seed,
          ...(penalty ? { noHistory: 'penalty' as const } : {}),
        });
        const initial = penalty ? 0 : 30;
        const ref = { a: new FinagleMetric(5, initial, tau), b: new FinagleMetric(5, initial, tau) };
        lb.pick(); // builds the tables (stamps at t = 5) and decays both, as the model does
        ref.a.get(5, penalty);
        ref.b.get(5, penalty);
        const open: { lease: Lease<string>; id: 'a' | 'b' }[] = [];
        for (const o of ops) {
          const t = clock.now();
          if (o.kind === 'advance') clock.advance(o.ms);
          else if (o.kind === 'acquire') {
            const la = ref.a.get(t, penalty);
            const lb_ = ref.b.get(t, penalty);
            const lease = lb.acquire();
            const id = lease.target as 'a' | 'b';
            // Both are compared; the cheaper wins (either may win an exact tie).
            if (la !== lb_) expect(id).toBe(la < lb_ ? 'a' : 'b');
            ref[id].pending++;
            open.push({ lease, id });
          } else if (open.length > 0) {
            const [entry] = open.splice(o.index % open.length, 1);
            entry!.lease.release({ ok: true, latencyMs: o.rtt });
            ref[entry!.id].end(o.rtt, t);
          }
          const now = clock.now();
          for (const id of ['a', 'b'] as const) {
            if (!close(lb.rttEstimate(id), ref[id].peek(now))) {
              throw new Error(`${id}: balancer ${lb.rttEstimate(id)}, Finagle ${ref[id].peek(now)}`);
            }
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('PeakEwma: cost and choice', () => {
  it('cost = estimate × (in flight + 1) / weight', () => {
    const clock = fakeClock();
    const lb = new PeakEwma([{ id: 'a', weight: 1 }, { id: 'b', weight: 4 }], { now: clock.now });
    expect(lb.cost('a')).toBe(30);
    expect(lb.cost('b')).toBe(30 / 4);
    const leases = [lb.acquire({ exclude: ['b'] }), lb.acquire({ exclude: ['b'] }), lb.acquire({ exclude: ['a'] })];
    expect(lb.cost('a')).toBe(30 * 3);
    expect(lb.cost('b')).toBe((30 * 2) / 4);
    for (const l of leases) l.release({ ok: true, latencyMs: 10 });
    expect(lb.cost('a')).toBeCloseTo(30, 9); // 10 < 30 and Δt = 0: the estimate stays
  });

  it('sends each request to the cheaper of two distinct candidates', () => {
    const clock = fakeClock();
    // Penalty mode starts estimates at 0, so the first samples set them exactly (peaks).
    const lb = new PeakEwma(['fast', 'slow'], { now: clock.now, seed: 3, noHistory: 'penalty' });
    lb.acquire({ exclude: ['slow'] }).release({ ok: true, latencyMs: 10 });
    lb.acquire({ exclude: ['fast'] }).release({ ok: true, latencyMs: 40 });
    // fast costs 10 × (k + 1) with k open leases: it takes requests until that reaches 40.
    const open = Array.from({ length: 4 }, () => lb.acquire());
    expect(open.map((l) => l.target)).toEqual(['fast', 'fast', 'fast', open[3]!.target]); // 40 vs 40: a tie
    const more = Array.from({ length: 20 }, () => lb.acquire());
    const fast = [...open, ...more].filter((l) => l.target === 'fast').length;
    // Balanced costs: 10 × (f + 1) ≈ 40 × (s + 1) with f + s = 24 gives f ≈ 20.
    expect(fast).toBeGreaterThanOrEqual(19);
    expect(fast).toBeLessThanOrEqual(21);
  });

  it('never compares a target with itself: the costliest of n is never picked', () => {
    for (const weights of [[1, 1, 1, 1, 1], [1, 5, 2, 9, 1]]) {
      const clock = fakeClock();
      const ids = weights.map((w, i) => ({ id: `t${i}`, weight: w }));
      const lb = new PeakEwma(ids, { now: clock.now, seed: 11 });
      // t3 answered in 5 s; the others in 10 ms.
      for (const t of ids) {
        const others = ids.filter((x) => x !== t).map((x) => x.id);
        lb.acquire({ exclude: others }).release({ ok: true, latencyMs: t.id === 't3' ? 5_000 : 10 });
      }
      for (let i = 0; i < 5_000; i++) expect(lb.pick().id).not.toBe('t3');
      // Also with a filtered draw (exclusions), the rare O(n) path.
      for (let i = 0; i < 500; i++) expect(lb.pick({ exclude: ['t0', 't1'] }).id).not.toBe('t3');
    }
  });

  it('Finagle’s two draws for equal weights: a uniform first index, the second from the other n − 1', () => {
    const clock = fakeClock();
    const draws = [0.5, 0.5, 0.0, 0.0, 0.99, 0.99, 0.0, 0.99];
    let k = 0;
    const lb = new PeakEwma(['a', 'b', 'c', 'd'], { now: clock.now, random: () => draws[k++]! });
    // Every target costs 30, so the second draw wins the tie (Finagle's `a.load < b.load ? a : b`).
    expect(lb.pick()).toBe('b'); // a = ⌊0.5 × 4⌋ = 2, b = ⌊0.5 × 3⌋ = 1 (below the hole at 2)
    expect(lb.pick()).toBe('b'); // a = 0, b = 0 → at or above the hole: 1
    expect(lb.pick()).toBe('c'); // a = 3, b = ⌊0.99 × 3⌋ = 2
    expect(lb.pick()).toBe('d'); // a = 0, b = 2 → 3
    expect(k).toBe(8);
  });

  it('weights divide the cost', () => {
    const clock = fakeClock();
    const lb = new PeakEwma([{ id: 'big', weight: 3 }, { id: 'small', weight: 1 }], { now: clock.now, seed: 1 });
    const open = Array.from({ length: 40 }, () => lb.acquire());
    const big = open.filter((l) => l.target.id === 'big').length;
    expect(big).toBeGreaterThanOrEqual(29);
    expect(big).toBeLessThanOrEqual(31);
  });

  it("noHistory 'penalty' (Finagle): idle and new costs 0, in flight without an answer costs the penalty", () => {
    const clock = fakeClock();
    const lb = new PeakEwma(['a', 'b'], { now: clock.now, noHistory: 'penalty', seed: 2 });
    expect(lb.rttEstimate('a')).toBe(0);
    expect(lb.cost('a')).toBe(0);
    const l1 = lb.acquire();
    const first = l1.target;
    const other = first === 'a' ? 'b' : 'a';
    expect(lb.cost(first)).toBe(PENALTY_MS + 1);
    // The unprobed target now wins: it costs 0.
    const l2 = lb.acquire();
    expect(l2.target).toBe(other);
    clock.advance(12);
    l1.release('success');
    expect(lb.rttEstimate(first)).toBe(12);
    expect(lb.cost(first)).toBe(12);
    // other: still no answer, one in flight: the penalty, so first wins every comparison.
    expect(lb.cost(other)).toBe(PENALTY_MS + 1);
    for (let i = 0; i < 5; i++) expect(lb.pick()).toBe(first);
    l2.release('success');
  });

  it('a target that becomes 10× slower loses its share within τ/10 and regains a fair share within 3τ', () => {
    const tau = 2_000;
    const n = 10;
    const ids = Array.from({ length: n }, (_, i) => `s${i}`);
    const clock = fakeClock();
    const lb = new PeakEwma(ids, { now: clock.now, decayMs: tau, seed: 5 });
    const slowFrom = 5_000;
    const slowTo = 15_000;
    const picks = drive({
      lb,
      clock,
      clients: 20,
      until: slowTo + 3 * tau,
      latency: (id, at) => (id === 's0' && at >= slowFrom && at < slowTo ? 100 : 10),
    });
    const fair = 1 / n;
    expect(shareOf(picks, 's0', 0, slowFrom)).toBeGreaterThan(0.7 * fair);
    // Below 1/(2n) within τ/10 of the slowdown, and it stays there.
    expect(shareOf(picks, 's0', slowFrom + tau / 20, slowFrom + tau / 10)).toBeLessThan(fair / 2);
    expect(shareOf(picks, 's0', slowFrom + tau / 10, slowTo)).toBeLessThan(fair / 10);
    // Back to a fair share within 3τ of the recovery.
    expect(shareOf(picks, 's0', slowTo + 2.5 * tau, slowTo + 3 * tau)).toBeGreaterThan(0.7 * fair);
  });
});

describe('PeakEwma: clock and lifecycle', () => {
  it('reads the clock once per pick and once per release', () => {
    let reads = 0;
    let t = 0;
    const now = () => {
      reads++;
      return t;
    };
    const lb = new PeakEwma(['a', 'b', 'c'], { now, seed: 1 });
    lb.acquire().release('success'); // warms up (the first pick builds the tables)
    reads = 0;
    for (let i = 0; i < 10; i++) {
      const lease = lb.acquire();
      t += 3;
      lease.release('success');
    }
    expect(reads).toBe(20);
  });

  it('a plain pick leaves no clock reading behind for a later lease', () => {
    const clock = fakeClock();
    const lb = new PeakEwma(['a', 'b'], { now: clock.now, seed: 1 });
    lb.pick();
    clock.advance(1_000);
    const lease = lb.acquire({ exclude: ['b'] });
    clock.advance(7);
    lease.release('success');
    expect(lb.stats()[0]!.latencyMs).toBe(7); // not 1,007: the pick's reading was dropped
  });

  it('kept ids keep their estimate across setTargets, new ones start at the default', () => {
    const clock = fakeClock();
    const lb = new PeakEwma<string>(['a', 'b'], { now: clock.now });
    lb.acquire({ exclude: ['b'] }).release({ ok: true, latencyMs: 500 });
    lb.setTargets(['c', 'a']);
    expect(lb.rttEstimate('a')).toBe(500);
    expect(lb.rttEstimate('c')).toBe(30);
    expect(() => lb.rttEstimate('b')).toThrow(UnknownIdError);
    expect(() => lb.cost('b')).toThrow(UnknownIdError);
    lb.setWeight('a', 2);
    expect(lb.rttEstimate('a')).toBe(500);
    expect(lb.cost('a')).toBe(250);
  });

  it('works with withRetry: a failing target is excluded and its failure feeds the estimate', async () => {
    const clock = fakeClock();
    const lb = new PeakEwma(['a', 'b', 'c'], { now: clock.now, seed: 4 });
    const tried: string[] = [];
    const result = await withRetry(
      lb,
      async (t) => {
        tried.push(t);
        clock.advance(50);
        if (tried.length === 1) throw new Error('boom');
        return t;
      },
      { now: clock.now },
    );
    expect(tried).toHaveLength(2);
    expect(tried[1]).not.toBe(tried[0]);
    expect(result).toBe(tried[1]);
    expect(lb.rttEstimate(tried[0]!)).toBeCloseTo(50 * Math.exp(-50 / 10_000), 9); // a 50 ms peak, 50 ms ago
    for (const s of lb.stats()) expect(s.active).toBe(0);
  });

  it('slow start ramps a returning target’s effective weight, which divides its cost', () => {
    const clock = fakeClock();
    const lb = new PeakEwma<string>(['a', 'b'], { now: clock.now, slowStart: { windowMs: 1_000, minWeightPercent: 10 } });
    lb.add('c');
    expect(lb.stats()[2]!.state).toBe('slow-start');
    expect(lb.cost('c')).toBeCloseTo(300, 9); // 30 / 0.1
    clock.advance(1_000);
    lb.pick();
    expect(lb.cost('c')).toBeCloseTo(30 * Math.exp(-1_000 / 10_000), 9);
  });

  it('rejects bad options by name', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ decayMs: 0 }, 'decayMs'],
      [{ decayMs: Number.POSITIVE_INFINITY }, 'decayMs'],
      [{ decayMs: '10' }, 'decayMs'],
      [{ choices: 1 }, 'choices'],
      [{ noHistory: 'zero' }, 'noHistory'],
      [{ defaultRttMs: -1 }, 'defaultRttMs'],
      [{ defaultRttMs: 5, noHistory: 'penalty' }, 'defaultRttMs'],
      [{ penalty: 1e9 }, 'penalty'],
      [{ penalty: 0, noHistory: 'penalty' }, 'penalty'],
      [{ now: 5 }, 'now'],
    ];
    for (const [options, name] of cases) {
      let caught: unknown;
      try {
        new PeakEwma(['a'], options as never);
      } catch (err) {
        caught = err;
      }
      expect(caught, name).toBeInstanceOf(InvalidOptionError);
      expect((caught as InvalidOptionError).option).toBe(name);
    }
    expect(() => new PeakEwma(['a'], 'fast' as never)).toThrow(InvalidOptionError);
    expect(new PeakEwma(['a'], { noHistory: 'penalty', penalty: 1e6 }).pick()).toBe('a');
  });
});
