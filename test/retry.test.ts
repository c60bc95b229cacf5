import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ConsistentHash,
  InvalidOptionError,
  LoadwiseError,
  NoTargetError,
  RoundRobin,
  targetId,
  type Balancer,
  type Lease,
  type Outcome,
  type PickRequest,
  type Target,
} from '../src/index.js';
import { RetryBudget, RetryError, withRetry, type AttemptSignal, type RetryFn, type RetryOptions } from '../src/retry.js';

// ── helpers ──────────────────────────────────────────────────────────────────────────────────

/** A manual clock. */
function fakeClock(start = 0): { now: () => number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

interface Release {
  readonly id: string;
  readonly outcome: Outcome | undefined;
  readonly counted: boolean;
}

/** Wraps a balancer to record every acquire request and every release call. */
function spy<T extends Target>(inner: Balancer<T>): {
  balancer: Balancer<T>;
  requests: PickRequest[];
  releases: Release[];
  leases: number;
} {
  const log = { requests: [] as PickRequest[], releases: [] as Release[], leases: 0 };
  const balancer = Object.create(inner) as Balancer<T>;
  balancer.acquire = (input?: string | PickRequest): Lease<T> => {
    const req = input as PickRequest;
    log.requests.push({ ...req, exclude: [...(req.exclude ?? [])] });
    const lease = inner.acquire(input);
    log.leases++;
    return {
      target: lease.target,
      release(outcome?: Outcome): boolean {
        const counted = lease.release(outcome);
        log.releases.push({ id: targetId(lease.target), outcome, counted });
        return counted;
      },
    };
  };
  return Object.assign(log, { balancer });
}

/** An fn whose behaviour depends on the target: resolve with the id, or reject with an error naming it. */
function byTarget(failing: ReadonlySet<string>, calls: { id: string; attempt: number }[] = []): RetryFn<string, string> {
  return async (target, attempt) => {
    calls.push({ id: target, attempt });
    if (failing.has(target)) throw new Error(`boom ${target}`);
    return `ok ${target}`;
  };
}

/** Resolves when the given signal aborts, rejecting with its reason (like fetch). */
function hang(signal: AttemptSignal): Promise<never> {
  return new Promise((_, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

const statsOf = (lb: Balancer): Record<string, { active: number; failures: number; picks: number }> =>
  Object.fromEntries(lb.stats().map((s) => [s.id, { active: s.active, failures: s.failures, picks: s.picks }]));

afterEach(() => {
  vi.useRealTimers();
});

// ── withRetry ────────────────────────────────────────────────────────────────────────────────

describe('withRetry', () => {
  it('returns the first success, releasing one lease as a success with the injected clock latency', async () => {
    const clock = fakeClock(1000);
    const s = spy(new RoundRobin(['a', 'b', 'c'], { seed: 1 }));
    const result = await withRetry(
      s.balancer,
      async (target, attempt) => {
        clock.advance(7.5);
        return { target, attempt };
      },
      { now: clock.now },
    );
    expect(result.attempt).toBe(1);
    expect(s.releases).toEqual([{ id: result.target, outcome: { ok: true, latencyMs: 7.5 }, counted: true }]);
    expect(s.requests).toEqual([{ exclude: [] }]);
    const st = s.balancer.stats().find((x) => x.id === result.target)!;
    expect(st).toMatchObject({ active: 0, failures: 0, picks: 1, latencyMs: 7.5 });
  });

  it('retries on a target not yet tried, releasing every lease exactly once with its outcome', async () => {
    const lb = new RoundRobin(['a', 'b', 'c', 'd'], { seed: 3 });
    const s = spy(lb);
    const calls: { id: string; attempt: number }[] = [];
    // Whatever the round-robin start, the first two targets tried fail.
    const failing = new Set<string>();
    const fn: RetryFn<string, string> = async (target, attempt) => {
      calls.push({ id: target, attempt });
      if (attempt <= 2) {
        failing.add(target);
        throw new Error(`boom ${target}`);
      }
      return `ok ${target}`;
    };
    const got = await withRetry(s.balancer, fn, { attempts: 4 });
    expect(calls.map((c) => c.attempt)).toEqual([1, 2, 3]);
    expect(new Set(calls.map((c) => c.id)).size).toBe(3);
    expect(got).toBe(`ok ${calls[2]!.id}`);
    // each acquire excludes the ids tried so far
    expect(s.requests.map((r) => r.exclude)).toEqual([[], [calls[0]!.id], [calls[0]!.id, calls[1]!.id]]);
    expect(s.leases).toBe(3);
    expect(s.releases.map((r) => [r.id, (r.outcome as { ok: boolean }).ok, r.counted])).toEqual([
      [calls[0]!.id, false, true],
      [calls[1]!.id, false, true],
      [calls[2]!.id, true, true],
    ]);
    const st = statsOf(lb);
    for (const id of ['a', 'b', 'c', 'd']) {
      expect(st[id]!.active).toBe(0);
      expect(st[id]!.failures).toBe(failing.has(id) ? 1 : 0);
    }
  });

  it('routes every attempt by `key` on a hash balancer, the retry to the next target for that key', async () => {
    const lb = new ConsistentHash(['a', 'b', 'c', 'd', 'e'], { seed: 1 });
    const s = spy(lb);
    const home = lb.pick('user-42');
    const calls: string[] = [];
    const got = await withRetry(
      s.balancer,
      async (target) => {
        calls.push(target);
        if (target === home) throw new Error('down');
        return target;
      },
      { key: 'user-42' },
    );
    expect(calls[0]).toBe(home);
    expect(got).not.toBe(home);
    expect(got).toBe(lb.pick({ key: 'user-42', exclude: [home] }));
    expect(s.requests).toEqual([
      { key: 'user-42', exclude: [] },
      { key: 'user-42', exclude: [home] },
    ]);
  });

  it('makes 2 tries in all by default, then rejects with a RetryError carrying every error in order', async () => {
    const lb = new RoundRobin(['a', 'b', 'c'], { seed: 1 });
    const calls: { id: string; attempt: number }[] = [];
    const err = await rejection(withRetry(lb, byTarget(new Set(['a', 'b', 'c']), calls)));
    expect(calls).toHaveLength(2);
    expect(err).toBeInstanceOf(RetryError);
    expect(err).toBeInstanceOf(LoadwiseError);
    expect(LoadwiseError.is(err)).toBe(true);
    const e = err as RetryError;
    expect(e.name).toBe('RetryError');
    expect(e.code).toBe('ERR_RETRIES_EXHAUSTED');
    expect(e.attempts).toBe(2);
    expect(e.errors.map((x) => (x as Error).message)).toEqual(calls.map((c) => `boom ${c.id}`));
    expect(e.cause).toBe(e.errors[1]);
    expect(Object.keys(e)).not.toContain('cause'); // non-enumerable, like Error's own
    expect(e.message).toContain('all 2 attempts failed');
    expect(e.message).toContain(`boom ${calls[1]!.id}`);
    expect(Object.values(statsOf(lb)).every((x) => x.active === 0)).toBe(true);
  });

  it('stops after `attempts` tries', async () => {
    const lb = new RoundRobin(['a', 'b', 'c', 'd', 'e'], { seed: 2 });
    const calls: { id: string; attempt: number }[] = [];
    const e = (await rejection(withRetry(lb, byTarget(new Set(['a', 'b', 'c', 'd', 'e']), calls), { attempts: 3 }))) as RetryError;
    expect(calls.map((c) => c.attempt)).toEqual([1, 2, 3]);
    expect(e.attempts).toBe(3);
    expect(e.errors).toHaveLength(3);
    const failures = lb.stats().reduce((n, x) => n + x.failures, 0);
    expect(failures).toBe(3);

    const once = await rejection(withRetry(lb, byTarget(new Set(['a', 'b', 'c', 'd', 'e'])), { attempts: 1 }));
    expect((once as RetryError).attempts).toBe(1);
  });

  it('stops, without looping, when every target has been tried', async () => {
    const lb = new RoundRobin(['a', 'b'], { seed: 1 });
    const calls: { id: string; attempt: number }[] = [];
    const e = (await rejection(withRetry(lb, byTarget(new Set(['a', 'b']), calls), { attempts: 5 }))) as RetryError;
    expect(calls).toHaveLength(2);
    expect(e.code).toBe('ERR_RETRIES_EXHAUSTED');
    expect(e.attempts).toBe(2);
    expect(e.errors).toHaveLength(2);
    expect(e.cause).toBeInstanceOf(NoTargetError);
    expect(e.message).toContain('no untried target');
  });

  it('also stops when the untried targets are down', async () => {
    const lb = new RoundRobin(['a', 'b', 'c'], { seed: 1 });
    const first = lb.pick();
    for (const id of ['a', 'b', 'c']) if (id !== first) lb.markDown(id);
    const e = (await rejection(withRetry(lb, byTarget(new Set(['a', 'b', 'c'])), { attempts: 3 }))) as RetryError;
    expect(e.attempts).toBe(1);
    expect((e.cause as NoTargetError).code).toBe('ERR_NO_TARGET');
  });

  it('rethrows the first acquire error as is (no attempt was made)', async () => {
    const fn = vi.fn(async () => 'x');
    const empty = await rejection(withRetry(new RoundRobin<string>([]), fn));
    expect(empty).toBeInstanceOf(NoTargetError);
    const full = new RoundRobin([{ id: 'a', maxActive: 1 }]);
    const held = full.acquire();
    const capacity = await rejection(withRetry(full, fn));
    expect((capacity as NoTargetError).code).toBe('ERR_TARGETS_AT_CAPACITY');
    held.release();
    const hash = await rejection(withRetry(new ConsistentHash(['a']), fn)); // hash balancers need a key
    expect((hash as InvalidOptionError).option).toBe('key');
    expect(fn).not.toHaveBeenCalled();
  });

  it('rejects with the error itself when isRetryable says no, and passes it the attempt number', async () => {
    const lb = new RoundRobin(['a', 'b', 'c'], { seed: 1 });
    const seen: [string, number][] = [];
    const fatal = new Error('400 bad request');
    let n = 0;
    const err = await rejection(
      withRetry(
        lb,
        async () => {
          n++;
          throw n === 1 ? new Error('503') : fatal;
        },
        {
          attempts: 3,
          isRetryable: (e, attempt) => {
            seen.push([(e as Error).message, attempt]);
            return e !== fatal;
          },
        },
      ),
    );
    expect(err).toBe(fatal);
    expect(n).toBe(2);
    expect(seen).toEqual([
      ['503', 1],
      ['400 bad request', 2],
    ]);
    expect(Object.values(statsOf(lb)).every((x) => x.active === 0)).toBe(true);
  });

  it('treats a synchronous throw from fn as a failed attempt', async () => {
    const lb = new RoundRobin(['a', 'b'], { seed: 1 });
    let n = 0;
    const got = await withRetry(lb, ((target: string) => {
      if (n++ === 0) throw new Error('sync');
      return Promise.resolve(target);
    }) as RetryFn<string, string>);
    expect(n).toBe(2);
    expect(lb.stats().reduce((k, x) => k + x.failures, 0)).toBe(1);
    expect(got).toBeTypeOf('string');
  });

  it('feeds passive health: a failed attempt takes its target out, a cancelled one does not', async () => {
    const clock = fakeClock();
    const lb = new RoundRobin(['a', 'b', 'c'], { seed: 1, now: clock.now, passive: { maxFails: 1, failTimeoutMs: 10_000 } });
    const calls: { id: string; attempt: number }[] = [];
    for (let i = 0; i < 6; i++) await withRetry(lb, byTarget(new Set(['a']), calls), { now: clock.now });
    expect(calls.filter((c) => c.id === 'a')).toHaveLength(1); // out after its one failure
    expect(lb.stats().find((s) => s.id === 'a')!.state).toBe('down');

    const caller = new AbortController();
    const p = withRetry(lb, (_t, _a, signal) => hang(signal), { signal: caller.signal, now: clock.now });
    await Promise.resolve();
    caller.abort();
    await rejection(p);
    expect(lb.stats().filter((s) => s.state === 'up')).toHaveLength(2);
  });

  it('gives each attempt its own signal', async () => {
    const lb = new RoundRobin(['a', 'b'], { seed: 1 });
    const signals: AttemptSignal[] = [];
    await rejection(
      withRetry(lb, async (_t, _a, signal) => {
        signals.push(signal);
        throw new Error('x');
      }),
    );
    expect(signals).toHaveLength(2);
    expect(signals[0]).not.toBe(signals[1]);
    expect(signals.every((s) => !s.aborted)).toBe(true);
  });

  describe('caller abort', () => {
    it('stops at once mid-attempt: aborts the attempt signal, releases the lease as a success, rejects with the reason', async () => {
      const lb = new RoundRobin(['a', 'b', 'c'], { seed: 1 });
      const s = spy(lb);
      const caller = new AbortController();
      const reason = new Error('client went away');
      let attemptSignal: AttemptSignal | undefined;
      const fn = vi.fn(async (_t: string, _a: number, signal: AttemptSignal) => {
        attemptSignal = signal;
        return hang(signal);
      });
      const p = withRetry(s.balancer, fn, { signal: caller.signal, attempts: 3 });
      await Promise.resolve();
      expect(fn).toHaveBeenCalledTimes(1);
      caller.abort(reason);
      expect(await rejection(p)).toBe(reason);
      expect(attemptSignal!.aborted).toBe(true);
      expect(attemptSignal!.reason).toBe(reason);
      expect(fn).toHaveBeenCalledTimes(1); // no retry after a cancel
      expect(s.releases).toHaveLength(1);
      expect((s.releases[0]!.outcome as { ok: boolean }).ok).toBe(true);
      expect(Object.values(statsOf(lb)).every((x) => x.active === 0 && x.failures === 0)).toBe(true);
    });

    it('does not wait for an fn that ignores its signal', async () => {
      const lb = new RoundRobin(['a'], { seed: 1 });
      const caller = new AbortController();
      const p = withRetry(lb, () => new Promise<never>(() => {}), { signal: caller.signal });
      await Promise.resolve();
      caller.abort();
      const err = await rejection(p);
      expect((err as Error).name).toBe('AbortError');
      expect(lb.stats()[0]!.active).toBe(0);
    });

    it('ignores a late settlement of an interrupted attempt', async () => {
      const lb = new RoundRobin(['a', 'b'], { seed: 1 });
      const caller = new AbortController();
      let fail!: (e: Error) => void;
      const p = withRetry(lb, () => new Promise<never>((_, reject) => (fail = reject)), { signal: caller.signal });
      await Promise.resolve();
      caller.abort('stop');
      expect(await rejection(p)).toBe('stop');
      fail(new Error('late'));
      await new Promise((r) => setTimeout(r, 0));
      expect(lb.stats().every((x) => x.failures === 0 && x.active === 0)).toBe(true);
    });

    it('rejects with the reason before acquiring anything when already aborted', async () => {
      const lb = new RoundRobin(['a'], { seed: 1 });
      const budget = new RetryBudget({ now: () => 0 });
      const fn = vi.fn(async () => 'x');
      expect(await rejection(withRetry(lb, fn, { signal: AbortSignal.abort('early'), budget }))).toBe('early');
      expect(fn).not.toHaveBeenCalled();
      expect(lb.stats()[0]!.picks).toBe(0);
    });

    it('stops a backoff delay and clears its timer', async () => {
      vi.useFakeTimers();
      const lb = new RoundRobin(['a', 'b'], { seed: 1 });
      const caller = new AbortController();
      const fn = vi.fn(async () => {
        throw new Error('x');
      });
      const p = withRetry(lb, fn, { signal: caller.signal, backoff: { baseMs: 1000 }, random: () => 0.5 });
      const settled = rejection(p);
      await vi.advanceTimersByTimeAsync(100);
      expect(fn).toHaveBeenCalledTimes(1);
      expect(vi.getTimerCount()).toBe(1);
      caller.abort('bye');
      expect(await settled).toBe('bye');
      expect(vi.getTimerCount()).toBe(0);
      expect(fn).toHaveBeenCalledTimes(1);
    });

    it('is honoured when isRetryable aborts synchronously', async () => {
      const lb = new RoundRobin(['a', 'b', 'c'], { seed: 1 });
      const caller = new AbortController();
      const fn = vi.fn(async () => {
        throw new Error('x');
      });
      const err = await rejection(
        withRetry(lb, fn, {
          signal: caller.signal,
          attempts: 3,
          isRetryable: () => {
            caller.abort('from predicate');
            return true;
          },
        }),
      );
      expect(err).toBe('from predicate');
      expect(fn).toHaveBeenCalledTimes(1);
    });

    it('removes its abort listener when done', async () => {
      const lb = new RoundRobin(['a'], { seed: 1 });
      const caller = new AbortController();
      const removed = vi.spyOn(caller.signal, 'removeEventListener');
      await withRetry(lb, async () => 1, { signal: caller.signal });
      expect(removed).toHaveBeenCalledTimes(1);
    });
  });

  describe('timeoutMs', () => {
    it('aborts the attempt in flight, releases it as a failure and rejects with ERR_RETRY_TIMEOUT', async () => {
      vi.useFakeTimers();
      const lb = new RoundRobin(['a', 'b', 'c'], { seed: 1 });
      const signals: AttemptSignal[] = [];
      const fn = vi.fn((_t: string, _a: number, signal: AttemptSignal) => {
        signals.push(signal);
        return hang(signal);
      });
      const settled = rejection(withRetry(lb, fn, { timeoutMs: 500, attempts: 3 }));
      await vi.advanceTimersByTimeAsync(499);
      expect(signals[0]!.aborted).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      const e = (await settled) as RetryError;
      expect(e).toBeInstanceOf(RetryError);
      expect(e.code).toBe('ERR_RETRY_TIMEOUT');
      expect(e.message).toContain('500 ms');
      expect(e.attempts).toBe(1);
      expect((e.errors[0] as Error).name).toBe('TimeoutError');
      expect(e.cause).toBe(e.errors[0]);
      expect(signals[0]!.reason).toBe(e.errors[0]);
      expect(fn).toHaveBeenCalledTimes(1); // out of time: no retry
      expect(lb.stats().reduce((n, x) => n + x.failures, 0)).toBe(1);
      expect(lb.stats().every((x) => x.active === 0)).toBe(true);
      expect(vi.getTimerCount()).toBe(0);
    });

    it('is one limit across attempts and backoff delays', async () => {
      vi.useFakeTimers();
      const lb = new RoundRobin(['a', 'b', 'c', 'd', 'e'], { seed: 1 });
      const starts: number[] = [];
      const fn = vi.fn(async () => {
        starts.push(Date.now());
        await new Promise((r) => setTimeout(r, 40));
        throw new Error('slow failure');
      });
      const t0 = Date.now();
      const settled = rejection(withRetry(lb, fn, { timeoutMs: 100, attempts: 5, backoff: { baseMs: 10, maxMs: 10 }, random: () => 0.5 }));
      await vi.advanceTimersByTimeAsync(100);
      const e = (await settled) as RetryError;
      // attempt 1: 0–40, delay 5, attempt 2: 45–85, delay 5, attempt 3: 90 → cut short at 100
      expect(starts.map((t) => t - t0)).toEqual([0, 45, 90]);
      expect(e.code).toBe('ERR_RETRY_TIMEOUT');
      expect(e.attempts).toBe(3);
      expect(e.errors.map((x) => (x as Error).message.slice(0, 12))).toEqual(['slow failure', 'slow failure', 'withRetry: t']);
      expect(lb.stats().reduce((n, x) => n + x.failures, 0)).toBe(3);
      expect(lb.stats().every((x) => x.active === 0)).toBe(true);
    });

    it('rejects with ERR_RETRY_TIMEOUT during a backoff delay, with only the attempts’ errors', async () => {
      vi.useFakeTimers();
      const lb = new RoundRobin(['a', 'b'], { seed: 1 });
      const settled = rejection(
        withRetry(
          lb,
          async () => {
            throw new Error('x');
          },
          { timeoutMs: 50, backoff: { baseMs: 1000 }, random: () => 0.9 },
        ),
      );
      await vi.advanceTimersByTimeAsync(50);
      const e = (await settled) as RetryError;
      expect(e.code).toBe('ERR_RETRY_TIMEOUT');
      expect(e.errors).toHaveLength(1);
      expect((e.cause as Error).name).toBe('TimeoutError');
      expect(vi.getTimerCount()).toBe(0);
    });

    it('clears its timer after a success', async () => {
      vi.useFakeTimers();
      const lb = new RoundRobin(['a'], { seed: 1 });
      await withRetry(lb, async () => 1, { timeoutMs: 1000 });
      expect(vi.getTimerCount()).toBe(0);
    });
  });

  describe('backoff', () => {
    it('waits a full-jitter exponential delay before each retry', async () => {
      vi.useFakeTimers();
      const lb = new RoundRobin(['a', 'b', 'c', 'd'], { seed: 1 });
      const starts: number[] = [];
      const draws = [0.5, 0.5, 0.75];
      const fn = vi.fn(async () => {
        starts.push(Date.now());
        throw new Error('x');
      });
      const t0 = Date.now();
      const settled = rejection(
        withRetry(lb, fn, { attempts: 4, backoff: { baseMs: 100, maxMs: 300 }, random: () => draws.shift()! }),
      );
      await vi.advanceTimersByTimeAsync(49);
      expect(fn).toHaveBeenCalledTimes(1);
      await vi.advanceTimersByTimeAsync(1);
      expect(fn).toHaveBeenCalledTimes(2); // 0.5 × 100
      await vi.advanceTimersByTimeAsync(100);
      expect(fn).toHaveBeenCalledTimes(3); // 0.5 × 200
      await vi.advanceTimersByTimeAsync(224);
      expect(fn).toHaveBeenCalledTimes(3);
      await vi.advanceTimersByTimeAsync(1);
      expect(fn).toHaveBeenCalledTimes(4); // 0.75 × min(300, 400)
      expect(starts.map((t) => t - t0)).toEqual([0, 50, 150, 375]);
      expect(((await settled) as RetryError).attempts).toBe(4);
    });

    it('defaults maxMs to 10 × baseMs and does not delay after the last attempt', async () => {
      vi.useFakeTimers();
      const targets = Array.from({ length: 8 }, (_, i) => `t${i}`);
      const lb = new RoundRobin(targets, { seed: 1 });
      const starts: number[] = [];
      const t0 = Date.now();
      const settled = rejection(
        withRetry(
          lb,
          async () => {
            starts.push(Date.now() - t0);
            throw new Error('x');
          },
          { attempts: 7, backoff: { baseMs: 10 }, random: () => 0.5 },
        ),
      );
      await vi.advanceTimersByTimeAsync(10_000);
      await settled;
      // upper bounds 10, 20, 40, 80, 100, 100 → delays 5, 10, 20, 40, 50, 50
      expect(starts).toEqual([0, 5, 15, 35, 75, 125, 175]);
      expect(vi.getTimerCount()).toBe(0);
    });
  });

  describe('budget', () => {
    it('deposits once per call and withdraws once per retry', async () => {
      const lb = new RoundRobin(['a', 'b', 'c'], { seed: 1 });
      const budget = { deposit: vi.fn(), tryWithdraw: vi.fn(() => true) };
      await rejection(withRetry(lb, byTarget(new Set(['a', 'b', 'c'])), { attempts: 3, budget }));
      expect(budget.deposit).toHaveBeenCalledTimes(1);
      expect(budget.tryWithdraw).toHaveBeenCalledTimes(2);
      await withRetry(lb, async () => 1, { budget });
      expect(budget.deposit).toHaveBeenCalledTimes(2);
      expect(budget.tryWithdraw).toHaveBeenCalledTimes(2);
    });

    it('rejects with ERR_RETRY_BUDGET_EXHAUSTED, carrying the errors, when the budget says no', async () => {
      const lb = new RoundRobin(['a', 'b', 'c'], { seed: 1 });
      const budget = new RetryBudget({ minRetriesPerSec: 0, now: () => 0 });
      const calls: { id: string; attempt: number }[] = [];
      const e = (await rejection(withRetry(lb, byTarget(new Set(['a', 'b', 'c']), calls), { attempts: 3, budget }))) as RetryError;
      expect(e).toBeInstanceOf(RetryError);
      expect(e.code).toBe('ERR_RETRY_BUDGET_EXHAUSTED');
      expect(calls).toHaveLength(1);
      expect(e.errors).toHaveLength(1);
      expect(e.cause).toBe(e.errors[0]);
      expect(e.message).toContain('retry budget');
    });

    it('caps retries at 20 % of requests across many calls sharing one budget (no retry storm)', async () => {
      const clock = fakeClock();
      const lb = new RoundRobin(['a', 'b', 'c'], { seed: 1 });
      const budget = new RetryBudget({ percentCanRetry: 0.2, minRetriesPerSec: 0, now: clock.now });
      let calls = 0;
      const codes: Record<string, number> = {};
      for (let i = 0; i < 100; i++) {
        const e = (await rejection(
          withRetry(
            lb,
            async () => {
              calls++;
              throw new Error('cluster down');
            },
            { attempts: 3, budget },
          ),
        )) as RetryError;
        codes[e.code] = (codes[e.code] ?? 0) + 1;
      }
      // 100 requests × 0.2: exactly 20 retries, however they were spread
      expect(calls - 100).toBe(20);
      // the balance never reaches 2, so no call got both its retries: the budget ended every one
      expect(codes).toEqual({ ERR_RETRY_BUDGET_EXHAUSTED: 100 });
      expect(lb.stats().every((x) => x.active === 0)).toBe(true);
    });
  });

  describe('options', () => {
    const lb = new RoundRobin(['a'], { seed: 1 });
    const fn = async (): Promise<number> => 1;
    const bad: [string, unknown][] = [
      ['attempts', { attempts: 0 }],
      ['attempts', { attempts: 1.5 }],
      ['attempts', { attempts: Number.NaN }],
      ['attempts', { attempts: '2' }],
      ['key', { key: 7 }],
      ['timeoutMs', { timeoutMs: 0 }],
      ['timeoutMs', { timeoutMs: -5 }],
      ['timeoutMs', { timeoutMs: Number.NaN }],
      ['timeoutMs', { timeoutMs: Number.POSITIVE_INFINITY }],
      ['timeoutMs', { timeoutMs: 2 ** 31 }],
      ['signal', { signal: {} }],
      ['signal', { signal: null }],
      ['isRetryable', { isRetryable: true }],
      ['backoff', { backoff: 25 }],
      ['backoff.baseMs', { backoff: {} }],
      ['backoff.baseMs', { backoff: { baseMs: -1 } }],
      ['backoff.maxMs', { backoff: { baseMs: 100, maxMs: 50 } }],
      ['backoff.maxMs', { backoff: { baseMs: 100, maxMs: Number.NaN } }],
      ['backoff.jitter', { backoff: { baseMs: 100, jitter: true } }],
      ['budget', { budget: {} }],
      ['budget', { budget: 0.2 }],
      ['now', { now: 5 }],
      ['random', { random: 'x' }],
      ['retries', { retries: 3 }],
      ['options', 'fast'],
    ];
    for (const [name, options] of bad) {
      it(`rejects ${JSON.stringify(options)} naming ${name}`, async () => {
        const err = await rejection(withRetry(lb, fn, options as RetryOptions));
        expect(err).toBeInstanceOf(InvalidOptionError);
        expect((err as InvalidOptionError).option).toBe(name);
        expect((err as InvalidOptionError).message).toContain(name);
      });
    }

    it('rejects a missing balancer or fn, naming them', async () => {
      expect(((await rejection(withRetry(null as never, fn))) as InvalidOptionError).option).toBe('balancer');
      expect(((await rejection(withRetry(lb, 'f' as never))) as InvalidOptionError).option).toBe('fn');
    });

    it('touches neither the balancer nor the budget when an option is bad', async () => {
      const budget = { deposit: vi.fn(), tryWithdraw: vi.fn(() => true) };
      await rejection(withRetry(lb, fn, { budget, attempts: 0 }));
      expect(budget.deposit).not.toHaveBeenCalled();
      expect(lb.stats()[0]!.picks).toBe(0);
    });
  });

  it('passes the runtime AbortSignal type to fn (type-level: straight into fetch)', () => {
    const call: RetryFn<{ id: string; url: string }, Response> = (target, _attempt, signal) => fetch(target.url, { signal });
    expect(typeof call).toBe('function');
  });

  it('keeps every invariant over random failure patterns (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
        fc.integer(),
        async (n, attempts, fails, seed) => {
          const ids = ['a', 'b', 'c', 'd', 'e', 'f'].slice(0, n);
          const failing = new Set(ids.filter((_, i) => fails[i]));
          const lb = new RoundRobin(ids, { seed });
          const s = spy(lb);
          const calls: { id: string; attempt: number }[] = [];
          let result: unknown;
          let error: unknown;
          try {
            result = await withRetry(s.balancer, byTarget(failing, calls), { attempts });
          } catch (err) {
            error = err;
          }
          // at most `attempts` tries, each on a distinct target, numbered 1..k
          expect(calls.length).toBeLessThanOrEqual(Math.min(attempts, n));
          expect(new Set(calls.map((c) => c.id)).size).toBe(calls.length);
          expect(calls.map((c) => c.attempt)).toEqual(calls.map((_, i) => i + 1));
          // every lease released exactly once, failures where the target failed
          expect(s.leases).toBe(calls.length);
          expect(s.releases.map((r) => r.id)).toEqual(calls.map((c) => c.id));
          expect(s.releases.every((r) => r.counted)).toBe(true);
          expect(s.releases.map((r) => (r.outcome as { ok: boolean }).ok)).toEqual(calls.map((c) => !failing.has(c.id)));
          for (const st of lb.stats()) {
            expect(st.active).toBe(0);
            expect(st.failures).toBe(calls.some((c) => c.id === st.id) && failing.has(st.id) ? 1 : 0);
          }
          const last = calls[calls.length - 1]!;
          if (!failing.has(last.id)) {
            expect(result).toBe(`ok ${last.id}`);
            expect(calls.slice(0, -1).every((c) => failing.has(c.id))).toBe(true);
          } else {
            // gave up only when out of attempts or out of targets
            expect(calls.length === attempts || calls.length === n).toBe(true);
            const e = error as RetryError;
            expect(e.code).toBe('ERR_RETRIES_EXHAUSTED');
            expect(e.errors.map((x) => (x as Error).message)).toEqual(calls.map((c) => `boom ${c.id}`));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

// ── RetryBudget ──────────────────────────────────────────────────────────────────────────────

describe('RetryBudget', () => {
  it('allows percentCanRetry of the requests: 20 retries after 100 requests', () => {
    const budget = new RetryBudget({ percentCanRetry: 0.2, minRetriesPerSec: 0, now: () => 0 });
    expect(budget.balance).toBe(0);
    expect(budget.tryWithdraw()).toBe(false);
    for (let i = 0; i < 100; i++) budget.deposit();
    expect(budget.balance).toBe(20);
    let allowed = 0;
    while (budget.tryWithdraw()) allowed++;
    expect(allowed).toBe(20);
    expect(budget.balance).toBe(0);
  });

  it('counts whole retries despite floating-point products (0.29 × 100 = 29)', () => {
    const budget = new RetryBudget({ percentCanRetry: 0.29, minRetriesPerSec: 0, now: () => 0 });
    for (let i = 0; i < 100; i++) budget.deposit();
    expect(budget.balance).toBe(29);
    let allowed = 0;
    while (budget.tryWithdraw()) allowed++;
    expect(allowed).toBe(29);
  });

  it('always allows minRetriesPerSec × ttl, replenished as withdrawals expire', () => {
    const clock = fakeClock();
    const budget = new RetryBudget({ minRetriesPerSec: 10, ttlMs: 1000, percentCanRetry: 0, now: clock.now });
    expect(budget.balance).toBe(10);
    let allowed = 0;
    while (budget.tryWithdraw()) allowed++;
    expect(allowed).toBe(10);
    clock.advance(999);
    expect(budget.tryWithdraw()).toBe(false);
    clock.advance(1);
    expect(budget.balance).toBe(10);
  });

  it('has Finagle defaults: 20 %, 10 retries/s, 10 s', () => {
    const budget = new RetryBudget({ now: () => 0 });
    expect([budget.percentCanRetry, budget.minRetriesPerSec, budget.ttlMs]).toEqual([0.2, 10, 10_000]);
    expect(budget.balance).toBe(100);
    for (let i = 0; i < 50; i++) budget.deposit();
    expect(budget.balance).toBe(110);
  });

  it('expires deposits after ttl, sliding in tenths of it', () => {
    const clock = fakeClock();
    const budget = new RetryBudget({ percentCanRetry: 1, minRetriesPerSec: 0, ttlMs: 10_000, now: clock.now });
    budget.deposit(); // t = 0, bucket [0, 1000)
    clock.advance(999);
    budget.deposit(); // t = 999, same bucket
    clock.advance(1);
    budget.deposit(); // t = 1000, next bucket
    expect(budget.balance).toBe(3);
    clock.advance(8999); // t = 9999
    expect(budget.balance).toBe(3);
    clock.advance(1); // t = 10 000: the first bucket (t = 0 and t = 999) expires
    expect(budget.balance).toBe(1);
    clock.advance(1000); // t = 11 000
    expect(budget.balance).toBe(0);
    expect(budget.tryWithdraw()).toBe(false);
  });

  it('expires everything after a long idle period', () => {
    const clock = fakeClock(123_456);
    const budget = new RetryBudget({ percentCanRetry: 0.5, minRetriesPerSec: 0, now: clock.now });
    for (let i = 0; i < 10; i++) budget.deposit();
    expect(budget.tryWithdraw()).toBe(true);
    clock.advance(1e9);
    expect(budget.balance).toBe(0);
    for (let i = 0; i < 2; i++) budget.deposit();
    expect(budget.balance).toBe(1);
  });

  it('expires withdrawals too, so a later deposit can leave the balance in debt (shown as 0)', () => {
    const clock = fakeClock();
    const budget = new RetryBudget({ percentCanRetry: 1, minRetriesPerSec: 0, ttlMs: 1000, now: clock.now });
    budget.deposit(); // t = 0
    clock.advance(500);
    expect(budget.tryWithdraw()).toBe(true); // t = 500
    clock.advance(500); // t = 1000: the deposit expired, the withdrawal has not
    expect(budget.balance).toBe(0);
    budget.deposit();
    expect(budget.tryWithdraw()).toBe(false); // 1 deposit − 1 withdrawal
    clock.advance(500); // t = 1500: the withdrawal expired
    expect(budget.tryWithdraw()).toBe(true);
  });

  it('matches a naive model of the bucketed window over random operations (property)', () => {
    const op = fc.oneof(
      fc.constant({ kind: 'deposit' as const }),
      fc.constant({ kind: 'withdraw' as const }),
      fc.constant({ kind: 'balance' as const }),
      fc.record({ kind: fc.constant('advance' as const), ms: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 3000 })) }),
    );
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 300 }),
        fc.constantFrom(0, 0.1, 0.2, 0.29, 1, 2.5),
        fc.constantFrom(0, 0.5, 1, 10),
        fc.constantFrom(1000, 2500),
        fc.integer({ min: -5000, max: 5000 }),
        (ops, percentCanRetry, minRetriesPerSec, ttlMs, start) => {
          const clock = fakeClock(start);
          const budget = new RetryBudget({ percentCanRetry, minRetriesPerSec, ttlMs, now: clock.now });
          const width = ttlMs / 10;
          const bucket = (t: number): number => Math.floor(t / width);
          const events: { b: number; d: number; w: number }[] = [];
          const live = (): { d: number; w: number } => {
            const head = bucket(clock.now());
            let d = 0;
            let w = 0;
            for (const e of events) if (head - e.b < 10) (d += e.d), (w += e.w);
            return { d, w };
          };
          const available = (): number => {
            const { d, w } = live();
            return (minRetriesPerSec * ttlMs) / 1000 + percentCanRetry * d - w;
          };
          let withdrawn = 0;
          let deposited = 0;
          for (const o of ops) {
            if (o.kind === 'advance') clock.advance(o.ms);
            else if (o.kind === 'deposit') {
              budget.deposit();
              deposited++;
              events.push({ b: bucket(clock.now()), d: 1, w: 0 });
            } else if (o.kind === 'withdraw') {
              const expected = available() >= 1 - 1e-9;
              expect(budget.tryWithdraw()).toBe(expected);
              if (expected) {
                withdrawn++;
                events.push({ b: bucket(clock.now()), d: 0, w: 1 });
              }
            } else {
              expect(budget.balance).toBe(Math.max(0, Math.floor(available() + 1e-9)));
            }
          }
          // before anything can expire, the cap is exact: reserve + percentCanRetry × requests
          if (clock.now() - start < 0.9 * ttlMs) {
            expect(withdrawn).toBeLessThanOrEqual(Math.floor((minRetriesPerSec * ttlMs) / 1000 + percentCanRetry * deposited + 1e-9));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('rejects bad options, naming them', () => {
    const bad: [string, unknown][] = [
      ['percentCanRetry', { percentCanRetry: -0.1 }],
      ['percentCanRetry', { percentCanRetry: 1001 }],
      ['percentCanRetry', { percentCanRetry: Number.NaN }],
      ['minRetriesPerSec', { minRetriesPerSec: -1 }],
      ['minRetriesPerSec', { minRetriesPerSec: Number.POSITIVE_INFINITY }],
      ['ttlMs', { ttlMs: 0 }],
      ['ttlMs', { ttlMs: Number.NaN }],
      ['now', { now: 0 }],
      ['ttl', { ttl: 1000 }],
      ['options', 5],
    ];
    for (const [name, options] of bad) {
      let caught: unknown;
      try {
        new RetryBudget(options as never);
      } catch (err) {
        caught = err;
      }
      expect(caught, JSON.stringify(options)).toBeInstanceOf(InvalidOptionError);
      expect((caught as InvalidOptionError).option).toBe(name);
    }
  });
});

// ── what the HTTP layer needs: exclusions, per-try time limits, nginx's result rule, held leases ──

describe('withRetry: exclude, tryTimeoutMs, retryOnResult, discard and hold', () => {
  const seq = (): RoundRobin<string> => new RoundRobin(['a', 'b', 'c'], { seed: 1 });

  it('never tries an excluded id, and adds each tried id after them', async () => {
    const s = spy(seq());
    const calls: { id: string; attempt: number }[] = [];
    await expect(rejection(withRetry(s.balancer, byTarget(new Set(['a', 'b', 'c']), calls), { attempts: 3, exclude: ['b'] }))).resolves.toBeInstanceOf(
      RetryError,
    );
    expect(calls.map((c) => c.id).sort()).toEqual(['a', 'c']);
    expect(s.requests[0]!.exclude).toEqual(['b']);
    expect(s.requests[1]!.exclude).toEqual(['b', calls[0]!.id]);
    await expect(withRetry(seq(), byTarget(new Set()), { exclude: ['a', 'b', 'c'] })).rejects.toBeInstanceOf(NoTargetError);
    await expect(withRetry(seq(), byTarget(new Set()), { exclude: ['a', 1 as unknown as string] })).rejects.toThrow(/exclude\[1\]/);
  });

  it('cuts an attempt at tryTimeoutMs with a TimeoutError, releases it as a failure and moves on at once', async () => {
    vi.useFakeTimers();
    const lb = seq();
    const s = spy(lb);
    const signals: AttemptSignal[] = [];
    const p = withRetry(
      s.balancer,
      (target, _attempt, signal) => {
        signals.push(signal);
        // The first target freezes and ignores its signal; the second answers after 10 ms.
        return signals.length === 1 ? new Promise<string>(() => {}) : new Promise((r) => setTimeout(() => r(target), 10));
      },
      { attempts: 2, tryTimeoutMs: 100 },
    );
    await vi.advanceTimersByTimeAsync(100);
    expect(signals[0]!.aborted).toBe(true);
    expect((signals[0]!.reason as Error).name).toBe('TimeoutError');
    expect(s.releases[0]).toMatchObject({ outcome: { ok: false } });
    await vi.advanceTimersByTimeAsync(10);
    await expect(p).resolves.toBe(s.releases[1]!.id);
    expect(s.releases.map((r) => (r.outcome as { ok: boolean }).ok)).toEqual([false, true]);
  });

  it('a TimeoutError of the last attempt ends the run with RetryError carrying it', async () => {
    vi.useFakeTimers();
    const p = rejection(withRetry(seq(), () => new Promise<string>(() => {}), { attempts: 2, tryTimeoutMs: 50 }));
    await vi.advanceTimersByTimeAsync(100);
    const err = (await p) as RetryError;
    expect(err.code).toBe('ERR_RETRIES_EXHAUSTED');
    expect(err.errors.map((e) => (e as Error).name)).toEqual(['TimeoutError', 'TimeoutError']);
  });

  it('turns a value down only while another try follows; the last one is accepted as a success (nginx)', async () => {
    const lb = seq();
    const s = spy(lb);
    const discarded: string[] = [];
    const got = await withRetry(s.balancer, async (target) => `503 from ${target}`, {
      attempts: 2,
      retryOnResult: (v) => (v.startsWith('503') ? 'failure' : undefined),
      discard: (v) => void discarded.push(v),
    });
    expect(s.releases.map((r) => [r.id, (r.outcome as { ok: boolean }).ok])).toEqual([
      [s.releases[0]!.id, false],
      [s.releases[1]!.id, true],
    ]);
    expect(got).toBe(`503 from ${s.releases[1]!.id}`);
    expect(discarded).toEqual([`503 from ${s.releases[0]!.id}`]);
    expect(lb.stats().reduce((n, t) => n + t.failures, 0)).toBe(1);
  });

  it("accepts the turned-down value when no untried target is left or the budget refuses; 'next' blames nobody", async () => {
    const one = new RoundRobin(['only']);
    await expect(withRetry(one, async () => 'busy', { attempts: 5, retryOnResult: () => 'failure' })).resolves.toBe('busy');
    expect(one.stats()[0]).toMatchObject({ failures: 0, active: 0 });
    const budget = { deposit: () => {}, tryWithdraw: () => false };
    const lb = seq();
    await expect(withRetry(lb, async (t) => t, { attempts: 3, budget, retryOnResult: () => 'failure' })).resolves.toBeTypeOf('string');
    expect(lb.stats().reduce((n, t) => n + t.failures, 0)).toBe(0);
    const next = seq();
    const v = await withRetry(next, async (t) => t, { attempts: 3, retryOnResult: () => 'next' });
    expect(next.stats().map((t) => t.failures)).toEqual([0, 0, 0]);
    expect(next.stats().reduce((n, t) => n + t.picks, 0)).toBe(3);
    expect(typeof v).toBe('string');
  });

  it('holds the accepted lease open until release is called, with the latency measured at settle', async () => {
    const clock = fakeClock();
    const lb = seq();
    const s = spy(lb);
    let later: ((ok?: boolean) => void) | undefined;
    const got = await withRetry(
      s.balancer,
      async (t) => {
        clock.advance(7);
        return t;
      },
      { now: clock.now, hold: (v, release) => ((later = release), `held ${v}`) },
    );
    expect(got).toMatch(/^held /);
    expect(lb.stats().reduce((n, t) => n + t.active, 0)).toBe(1);
    clock.advance(1000);
    later!(false);
    later!(true);
    expect(s.releases.map((r) => [r.outcome, r.counted])).toEqual([
      [{ ok: false, latencyMs: 7 }, true],
      [{ ok: true, latencyMs: 7 }, false],
    ]);
    expect(lb.stats().reduce((n, t) => n + t.active, 0)).toBe(0);
  });

  it('gives a value that arrives after its attempt timed out to discard', async () => {
    vi.useFakeTimers();
    const discarded: string[] = [];
    const p = withRetry(seq(), (t) => new Promise<string>((r) => setTimeout(() => r(`late ${t}`), 200)), {
      attempts: 1,
      tryTimeoutMs: 100,
      discard: (v) => void discarded.push(v),
    });
    const err = rejection(p);
    await vi.advanceTimersByTimeAsync(300);
    expect(await err).toBeInstanceOf(RetryError);
    expect(discarded).toHaveLength(1);
  });
});

describe('withRetry: prefer', () => {
  it('sends the first attempt to the preferred id while it is eligible, retries elsewhere, and falls back when it is not', async () => {
    const lb = new RoundRobin(['a', 'b', 'c'], { seed: 3 });
    const firsts: string[] = [];
    for (let i = 0; i < 6; i++) firsts.push(await withRetry(lb, async (t) => t, { prefer: 'b' }));
    expect(firsts).toEqual(['b', 'b', 'b', 'b', 'b', 'b']);
    const calls: { id: string; attempt: number }[] = [];
    await withRetry(lb, byTarget(new Set(['b']), calls), { prefer: 'b', attempts: 2 });
    expect(calls[0]!.id).toBe('b');
    expect(calls[1]!.id).not.toBe('b');
    lb.markDown('b');
    const fallback = await withRetry(lb, async (t) => t, { prefer: 'b' });
    expect(['a', 'c']).toContain(fallback);
    expect(await withRetry(lb, async (t) => t, { prefer: 'gone' })).not.toBe('gone');
    await expect(withRetry(lb, async (t) => t, { prefer: 1 as unknown as string })).rejects.toThrow(/prefer/);
    expect(lb.stats().reduce((n, s) => n + s.active, 0)).toBe(0);
  });
});

describe('withRetry: whatever throws, every lease is released exactly once (issue 14, defect 6)', () => {
  /** A clock that throws on the given reads (1-based) and counts up otherwise. */
  function brokenClock(...bad: number[]): () => number {
    let reads = 0;
    return () => {
      reads++;
      if (bad.includes(reads)) throw new Error(`clock read ${reads}`);
      return reads * 10;
    };
  }

  for (const bad of [[1], [2], [1, 2], [1, 2, 3, 4, 5, 6]]) {
    it(`reports a success as a success when the clock throws on read ${bad.join(', ')}`, async () => {
      const lb = new RoundRobin(['a', 'b'], { seed: 1 });
      const s = spy(lb);
      await expect(withRetry(s.balancer, async (t) => `ok ${t}`, { now: brokenClock(...bad) })).resolves.toMatch(/^ok /);
      expect(s.releases).toHaveLength(1);
      expect(s.releases[0]!.outcome).toEqual({ ok: true }); // no latency: the clock gave none
      expect(lb.stats().map((x) => x.active)).toEqual([0, 0]);
    });

    it(`retries a failure as a failure when the clock throws on read ${bad.join(', ')}`, async () => {
      const lb = new RoundRobin(['a', 'b'], { seed: 1 });
      const s = spy(lb);
      await expect(withRetry(s.balancer, byTarget(new Set(['a', 'b'])), { now: brokenClock(...bad) })).rejects.toBeInstanceOf(RetryError);
      expect(s.releases.map((r) => r.counted)).toEqual([true, true]);
      expect(s.releases.every((r) => typeof r.outcome === 'object' && r.outcome.ok === false)).toBe(true);
      expect(lb.stats().map((x) => x.active)).toEqual([0, 0]);
    });
  }

  it('a clock that goes back reports no latency rather than a negative one', async () => {
    let t = 100;
    const lb = new RoundRobin(['a'], { seed: 1 });
    const s = spy(lb);
    await withRetry(s.balancer, async () => {
      t = 40;
      return 'ok';
    }, { now: () => t });
    expect(s.releases[0]!.outcome).toEqual({ ok: true });
  });

  it('releases a turned-down value\'s lease when the budget or the backoff jitter throws', async () => {
    const boom = new Error('budget');
    const budgets = [
      { deposit() {}, tryWithdraw(): boolean { throw boom; } },
    ];
    for (const budget of budgets) {
      const lb = new RoundRobin(['a', 'b'], { seed: 1 });
      await expect(withRetry(lb, async () => 503, { retryOnResult: () => 'failure', budget })).rejects.toBe(boom);
      expect(lb.stats().map((x) => x.active)).toEqual([0, 0]);
    }
    const lb = new RoundRobin(['a', 'b'], { seed: 1 });
    const err = await withRetry(lb, async () => 503, { retryOnResult: () => 'failure', backoff: { baseMs: 1 }, random: () => Number.NaN }).catch((e: unknown) => e);
    expect((err as InvalidOptionError).code).toBe('ERR_INVALID_OPTION');
    expect((err as InvalidOptionError).option).toBe('random');
    expect(lb.stats().map((x) => x.active)).toEqual([0, 0]);
  });

  it('releases the lease when the target\'s id cannot be read any more', async () => {
    const target = { id: 'a' };
    const lb = new RoundRobin([target, { id: 'b' }], { seed: 1 });
    const inner = lb.acquire.bind(lb);
    // A balancer whose acquire hands out a target with a broken id (a user's wrapper, say).
    const wrapped = Object.assign(Object.create(lb) as typeof lb, {
      acquire: (input?: string | PickRequest) => {
        const lease = inner(input);
        return { target: { get id(): string { throw new Error('id'); } }, release: (o?: Outcome) => lease.release(o) };
      },
    });
    await expect(withRetry(wrapped as unknown as Balancer<Target>, async () => 'ok')).rejects.toThrow('id');
    expect(lb.stats().map((x) => x.active)).toEqual([0, 0]);
  });
});

describe('withRetry over RoundRobin: retries do not skew the rotation', () => {
  it('gives every target the same share of first tries although one of them always fails', async () => {
    for (const ids of [['a', 'dead'], ['a', 'dead', 'c'], ['a', 'b', 'dead', 'd']]) {
      const lb = new RoundRobin<string>(ids, { seed: 7 });
      const firsts: Record<string, number> = {};
      for (let i = 0; i < 12 * ids.length; i++) {
        const calls: { id: string; attempt: number }[] = [];
        await withRetry(lb, byTarget(new Set(['dead']), calls), { attempts: 2 });
        firsts[calls[0]!.id] = (firsts[calls[0]!.id] ?? 0) + 1;
      }
      // Before: with two targets the dead one took every first try (each retry moved the rotation on).
      expect(firsts).toEqual(Object.fromEntries(ids.map((id) => [id, 12])));
    }
  });
});
