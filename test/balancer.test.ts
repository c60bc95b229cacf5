/**
 * The shared base (src/balancer.ts): what every class inherits. Twins built alike must go on
 * behaving alike after one of them saw a call that failed.
 */
import { describe, expect, it } from 'vitest';
import { LoadwiseError, NoTargetError, type Target } from '../src/index.js';
import { CLASSES, request, script, type ClassCase } from './support/classes.js';

const TARGETS = [{ id: 'a', weight: 1 }, { id: 'b', weight: 2 }, { id: 'c', weight: 3 }, { id: 'd', weight: 1 }];

function twins(c: ClassCase, targets: readonly Target[] = TARGETS) {
  // A fixed clock: the latency-aware classes read it on picks and releases.
  const options = { seed: 7, now: () => 1000 };
  return [c.create(targets, options), c.create(targets, options)] as const;
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('a failed pick leaves no exclusion marks behind (issue 14, defect 3)', () => {
  /** ['a', <throws>]: the getter of the second element throws. */
  function throwingExclude(): string[] {
    const ids = ['a', 'b'];
    Object.defineProperty(ids, 1, {
      get() {
        throw new Error('boom');
      },
    });
    return ids;
  }

  /** Reads as ['a', 'c'] the first time and as ['x', 'y'] afterwards. */
  function shiftingExclude(): string[] {
    let reads = 0;
    return new Proxy(['a', 'c'], {
      get(target, p, receiver) {
        if (p === '0' || p === '1') return reads++ < 2 ? Reflect.get(target, p, receiver) : p === '0' ? 'x' : 'y';
        return Reflect.get(target, p, receiver) as unknown;
      },
    });
  }

  it("propagates the getter's error and behaves afterwards as a twin that never saw the call", () => {
    for (const c of CLASSES) {
      const [lb, twin] = twins(c);
      for (const call of [() => lb.pick(request(c, 1, throwingExclude())), () => lb.acquire(request(c, 2, throwingExclude()))]) {
        expect((thrown(call) as Error).message, c.name).toBe('boom');
      }
      expect(script(c, lb), c.name).toEqual(script(c, twin));
    }
  });

  it('clears exactly the marks it set, even when the array reads differently the second time', () => {
    for (const c of CLASSES) {
      const [lb, twin] = twins(c);
      const got = lb.pick(request(c, 1, shiftingExclude()));
      const want = twin.pick(request(c, 1, ['a', 'c']));
      expect(got, c.name).toBe(want);
      expect(script(c, lb), c.name).toEqual(script(c, twin));
    }
  });
});

describe('NoTargetError advances nothing (issue 14, defect 4)', () => {
  // The rule: a pick that throws changes nothing, not even the random stream; a pick that
  // returns a target changes the state (cursor, current weights, tie-break turns) of the tier it
  // picked from only, and draws from the random stream, which both tiers share.
  it('pick/acquire({ exclude: every id }) throw ERR_NO_TARGET and the balancer goes on like its twin', () => {
    for (const c of CLASSES) {
      const [lb, twin] = twins(c);
      // Also after some traffic, so that cursors and streams are mid-way.
      expect(script(c, lb, 10, 500)).toEqual(script(c, twin, 10, 500));
      for (let i = 0; i < 3; i++) {
        for (const call of [() => lb.pick(request(c, i, ['a', 'b', 'c', 'd'])), () => lb.acquire(request(c, i, ['d', 'c', 'b', 'a', 'a']))]) {
          const err = thrown(call);
          expect(err, c.name).toBeInstanceOf(NoTargetError);
          expect((err as LoadwiseError).code, c.name).toBe('ERR_NO_TARGET');
        }
      }
      expect(lb.stats(), c.name).toEqual(twin.stats());
      expect(script(c, lb), c.name).toEqual(script(c, twin));
    }
  });

  it('also when the excluded and the unavailable (down, full) together leave nothing', () => {
    for (const c of CLASSES) {
      const targets = [{ id: 'a' }, { id: 'b', maxActive: 1 }, { id: 'c' }, { id: 'd' }];
      const [lb, twin] = twins(c, targets);
      for (const x of [lb, twin]) x.markDown('c');
      const held = [lb, twin].map((x) => x.acquire(request(c, 0, ['a', 'c', 'd'])));
      expect(held.map((l) => l.target)).toEqual([targets[1], targets[1]]);
      expect(thrown(() => lb.pick(request(c, 1, ['a', 'd']))), c.name).toBeInstanceOf(NoTargetError);
      expect((thrown(() => lb.acquire(request(c, 2, ['d', 'a']))) as LoadwiseError).code, c.name).toBe('ERR_TARGETS_AT_CAPACITY');
      for (const l of held) l.release('success');
      expect(script(c, lb), c.name).toEqual(script(c, twin));
    }
  });

  it('a pick served by the backups leaves the primaries where they were (but for the shared random stream)', () => {
    for (const c of CLASSES) {
      const targets = [...TARGETS, { id: 'z', backup: true }, { id: 'y', backup: true }];
      // Both tiers draw from the one random source, so it is constant here: what must not move
      // is the primaries' own state (cursor, current weights, tie-break turns, estimates).
      const options = { random: () => 0.3, now: () => 1000 };
      const [lb, twin] = [c.create(targets, options), c.create(targets, options)];
      expect(['z', 'y']).toContain(lb.pick(request(c, 3, ['a', 'b', 'c', 'd'])).id);
      // Both now route among the primaries exactly alike.
      expect(script(c, lb), c.name).toEqual(script(c, twin));
    }
  });
});

describe('a clock that goes backwards (issue 14, defect 5)', () => {
  it('never records a negative latency: the sample is dropped, the estimates stay as they were', () => {
    for (const c of CLASSES) {
      let t = 1000;
      const lb = c.create(['a'], { now: () => t });
      const good = lb.acquire(request(c, 0));
      t += 20;
      good.release('success');
      const before = lb.stats()[0]!.latencyMs;
      const back = lb.acquire(request(c, 1));
      t -= 500; // a wall clock stepped back
      back.release('success');
      const after = lb.stats()[0]!.latencyMs;
      if (after !== undefined) expect(after, c.name).toBeGreaterThanOrEqual(0);
      if (before !== undefined) expect(after, c.name).toBeGreaterThanOrEqual(Math.min(before, 20));
    }
  });

  it('LeastTime and Hcl route on no negative latency either', async () => {
    const { LeastTime, Hcl } = await import('../src/index.js');
    let t = 1000;
    const lt = new LeastTime(['a', 'b'], { now: () => t });
    const hcl = new Hcl(['a', 'b'], { now: () => t });
    for (const lb of [lt, hcl]) {
      const l1 = lb.acquire({ exclude: ['b'] });
      t += 10;
      l1.release('success');
      const l2 = lb.acquire({ exclude: ['b'] });
      t -= 300;
      l2.release('success');
    }
    expect(lt.averageMs('a')).toBe(10);
    expect(hcl.signals('a').latencyMs).toBe(10);
  });
});

describe('a clock that throws or returns nonsense', () => {
  it('counts as standing still: no call fails, and no lease stays counted', () => {
    const readings: unknown[] = [Number.NaN, Number.POSITIVE_INFINITY, '5', undefined, -1e308];
    for (const c of CLASSES) {
      let i = 0;
      const lb = c.create(['a', 'b', 'c'], {
        passive: { maxFails: 1, failTimeoutMs: 10 },
        outlier: { consecutiveFailures: 2, successRate: { minimumHosts: 1, requestVolume: 1 } },
        now: () => {
          i++;
          if (i % 3 === 0) throw new Error('clock');
          return i % 3 === 1 ? i * 7 : (readings[i % readings.length] as number);
        },
      });
      for (let k = 0; k < 40; k++) {
        let lease;
        try {
          lease = lb.acquire(request(c, k));
        } catch (err) {
          expect((err as LoadwiseError).code, c.name).toBe('ERR_NO_TARGET');
          continue;
        }
        lease.release(k % 4 === 0 ? 'failure' : 'success');
      }
      expect(lb.stats().map((s) => s.active), c.name).toEqual([0, 0, 0]);
      for (const s of lb.stats()) if (s.latencyMs !== undefined) expect(s.latencyMs >= 0 && s.latencyMs < Infinity, c.name).toBe(true);
    }
  });
});
