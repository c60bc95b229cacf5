/**
 * An explicit `undefined` in an option, a target field, a pick request or an outcome behaves
 * exactly like the field left out, for every balancer class (the types allow it since
 * test/types/strict-users.check.ts; this checks the runtime agrees).
 */
import { describe, expect, it } from 'vitest';
import { HealthChecker, RetryBudget, RoundRobin, withRetry, type Balancer, type BalancerOptions } from '../../src/index.js';
import { cluster, exponential } from '../../src/sim/index.js';
import { BALANCER_CLASSES, CLASSES, type ClassName } from '../support/classes.js';

type T = { readonly id: string; readonly weight?: number | undefined; readonly backup?: boolean | undefined; readonly maxActive?: number | undefined };
type Ctor = new (targets: readonly unknown[], options?: unknown) => Balancer<T>;

/** Every class-specific option name, each set to `undefined`, plus one no balancer knows. */
const UNDEFINED_OPTIONS = Object.fromEntries(
  [
    'random', 'panicThreshold', 'onEvent', 'choices', 'decayMs', 'noHistory', 'defaultRttMs', 'penalty', 'factor', 'mode',
    'quantile', 'probe', 'probeIntervalMs', 'probeTimeoutMs', 'maxReportAgeMs', 'timers', 'loadFactor', 'compat',
    'pointsPerWeight', 'tableSize', 'noSuchOption',
  ].map((name) => [name, undefined]),
);

function twins(name: ClassName): { absent: Balancer<T>; explicit: Balancer<T>; hashed: boolean } {
  const Class = BALANCER_CLASSES[name] as unknown as Ctor;
  const hashed = CLASSES.find((c) => c.name === name)!.hashed;
  let t1 = 0;
  let t2 = 0;
  const base = (now: () => number): BalancerOptions => ({ seed: 7, now });
  const absent = new Class([{ id: 'a' }, { id: 'b', weight: 2 }, { id: 'c' }, { id: 'z', backup: true }], {
    ...base(() => (t1 += 3)),
    passive: {},
    outlier: {},
    slowStart: { windowMs: 50 },
  });
  const explicit = new Class(
    [
      { id: 'a', weight: undefined, backup: undefined, maxActive: undefined },
      { id: 'b', weight: 2, backup: undefined, maxActive: undefined },
      { id: 'c', weight: undefined },
      { id: 'z', backup: true, maxActive: undefined },
    ],
    {
      ...base(() => (t2 += 3)),
      ...UNDEFINED_OPTIONS,
      passive: { maxFails: undefined, failTimeoutMs: undefined, noSuchOption: undefined },
      outlier: { consecutiveFailures: undefined, successRate: undefined, failurePercentage: undefined, noSuchOption: undefined },
      slowStart: { windowMs: 50, aggression: undefined, minWeightPercent: undefined, noSuchOption: undefined },
    },
  );
  return { absent, explicit, hashed };
}

function run(lb: Balancer<T>, hashed: boolean, explicit: boolean): string[] {
  const out: string[] = [];
  const open: { release(outcome?: unknown): unknown }[] = [];
  for (let i = 0; i < 80; i++) {
    if (i === 30) lb.add(explicit ? { id: 'd', weight: undefined, backup: undefined, maxActive: undefined } : { id: 'd' });
    if (i === 50) {
      lb.setTargets(
        explicit
          ? [{ id: 'a', weight: undefined }, { id: 'c', maxActive: undefined }, { id: 'd', backup: undefined }, { id: 'e', weight: undefined }]
          : [{ id: 'a' }, { id: 'c' }, { id: 'd' }, { id: 'e' }],
      );
    }
    const key = hashed ? `k${i}` : undefined;
    const exclude = i % 5 === 4 ? ['a'] : undefined;
    const request = explicit ? { key, exclude } : { ...(key === undefined ? {} : { key }), ...(exclude === undefined ? {} : { exclude }) };
    try {
      const lease = lb.acquire(request);
      out.push(lease.target.id);
      open.push(lease as { release(outcome?: unknown): unknown });
    } catch (err) {
      out.push(`threw ${(err as { code?: string }).code}`);
    }
    if (i % 3 === 0 && open.length > 0) open.shift()!.release(explicit ? { ok: i % 9 !== 0, latencyMs: undefined } : { ok: i % 9 !== 0 });
    if (i % 3 === 1 && open.length > 2) open.shift()!.release(explicit ? { ok: true, latencyMs: undefined } : { ok: true });
  }
  for (const l of open) l.release();
  return out;
}

describe('explicit undefined behaves as absent', () => {
  it('covers every balancer class', () => {
    for (const name of Object.keys(BALANCER_CLASSES)) expect(CLASSES.some((c) => c.name === name)).toBe(true);
  });

  for (const name of Object.keys(BALANCER_CLASSES) as ClassName[]) {
    it(`${name}: options, targets, requests and outcomes`, () => {
      const { absent, explicit, hashed } = twins(name);
      expect(explicit.stats()).toEqual(absent.stats());
      expect(run(explicit, hashed, true)).toEqual(run(absent, hashed, false));
      expect(explicit.stats()).toEqual(absent.stats());
      expect(explicit.pick(hashed ? { key: 'x', exclude: undefined } : { key: undefined, exclude: undefined })).toEqual(
        absent.pick(hashed ? { key: 'x' } : {}),
      );
    });
  }

  it('still rejects an unknown option name with a value, and a bad value', () => {
    expect(() => new RoundRobin(['a'], { noSuchOption: 1 } as never)).toThrow(/noSuchOption/);
    expect(() => new RoundRobin(['a'], { passive: { noSuchOption: 0 } } as never)).toThrow(/noSuchOption/);
    expect(() => new RoundRobin(['a'], { seed: null } as never)).toThrow(/seed/);
  });

  it('withRetry, RetryBudget and HealthChecker take undefined options', async () => {
    const lb = new RoundRobin(['a', 'b'], { seed: 3 });
    const twin = new RoundRobin(['a', 'b'], { seed: 3 });
    const budget = new RetryBudget({ ttlMs: undefined, minRetriesPerSec: undefined, percentCanRetry: undefined, now: undefined });
    const result = await withRetry(lb, async (t) => t, {
      attempts: undefined,
      key: undefined,
      exclude: undefined,
      prefer: undefined,
      signal: undefined,
      timeoutMs: undefined,
      tryTimeoutMs: undefined,
      backoff: { baseMs: 1, maxMs: undefined, noSuchOption: undefined } as never,
      budget,
      isRetryable: undefined,
      noSuchOption: undefined,
    } as never);
    expect(result).toBe(await withRetry(twin, async (t) => t, { backoff: { baseMs: 1 }, budget: new RetryBudget() }));
    const checker = new HealthChecker(lb, async () => true, {
      intervalMs: undefined,
      timeoutMs: undefined,
      jitter: undefined,
      seed: undefined,
      timers: undefined,
      onChange: undefined,
    });
    checker.stop();
  });

  it('cluster: an override field set to undefined keeps the spec value', () => {
    const servers = cluster(2, { service: exponential(10), speed: 2 }, { 1: { speed: undefined, id: undefined } });
    expect(servers.map((s) => [s.id, s.speed])).toEqual([
      ['s01', 2],
      ['s02', 2],
    ]);
  });
});
