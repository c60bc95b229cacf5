import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { HealthChecker, type HealthChange, type HealthTimers, type Probe } from '../../src/health/checker.js';
import {
  InvalidOptionError,
  RoundRobin,
  UnknownIdError,
  targetId,
  type Balancer,
  type Target,
} from '../../src/index.js';

// ── helpers ─────────────────────────────────────────────────────────────────────────────────

/** Lets pending promise callbacks run (real macrotask turn; these tests use injected timers). */
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface Handle {
  readonly id: number;
  unref(): void;
}

/** Timers and a clock the test moves by hand; `advance` fires due timers in time order. */
function manualTimers() {
  let now = 0;
  let seq = 0;
  const pending = new Map<number, { at: number; fn: () => void }>();
  const delays: number[] = [];
  let unrefs = 0;
  const timers: HealthTimers = {
    setTimeout(fn, ms) {
      const id = ++seq;
      pending.set(id, { at: now + ms, fn });
      delays.push(ms);
      const handle: Handle = { id, unref: () => void unrefs++ };
      return handle;
    },
    clearTimeout(handle) {
      pending.delete((handle as Handle).id);
    },
  };
  return {
    timers,
    now: () => now,
    delays,
    pending: () => pending.size,
    unrefs: () => unrefs,
    async advance(ms: number): Promise<void> {
      const end = now + ms;
      for (;;) {
        await flush();
        let next: [number, { at: number; fn: () => void }] | undefined;
        for (const entry of pending) {
          if (entry[1].at <= end && (next === undefined || entry[1].at < next[1].at)) next = entry;
        }
        if (next === undefined) break;
        now = next[1].at;
        pending.delete(next[0]);
        next[1].fn();
      }
      now = end;
      await flush();
    },
  };
}

type Behaviour = boolean | 'throw' | 'reject' | 'hang' | 'non-boolean';

/** A probe whose answer per id the test sets; records every call and its signal. */
function scriptedProbe(initial: Record<string, Behaviour> = {}) {
  const behaviour: Record<string, Behaviour> = { ...initial };
  const calls: { id: string; signal: AbortSignal; resolve: (v: boolean) => void }[] = [];
  const probe: Probe<Target> = (target, signal) => {
    const id = targetId(target);
    const b = behaviour[id] ?? true;
    let resolve!: (v: boolean) => void;
    const hanging = new Promise<boolean>((r) => (resolve = r));
    calls.push({ id, signal, resolve });
    switch (b) {
      case 'throw':
        throw new Error(`probe of ${id} threw`);
      case 'reject':
        return Promise.reject(new Error(`probe of ${id} rejected`));
      case 'hang':
        return hanging;
      case 'non-boolean':
        return Promise.resolve({ ok: true } as unknown as boolean);
      default:
        return Promise.resolve(b);
    }
  };
  return {
    probe,
    behaviour,
    calls,
    callsOf: (id: string) => calls.filter((c) => c.id === id),
  };
}

/** Records reportHealth calls made on a real balancer. */
function spyReports<T extends Target>(lb: Balancer<T>) {
  const reports: [string, boolean][] = [];
  const original = lb.reportHealth.bind(lb);
  lb.reportHealth = (id, healthy) => {
    reports.push([id, healthy]);
    original(id, healthy);
  };
  return reports;
}

const picks = (lb: Balancer<string>, n = 30) => new Set(Array.from({ length: n }, () => lb.pick()));

// ── thresholds ──────────────────────────────────────────────────────────────────────────────

describe('HealthChecker thresholds (HAProxy fall / rise)', () => {
  it('takes a target out after 3 consecutive failures and back after 2 successes (defaults)', async () => {
    const lb = new RoundRobin(['a', 'b', 'c'], { seed: 1 });
    const reports = spyReports(lb);
    const p = scriptedProbe({ b: false });
    const changes: HealthChange[] = [];
    const checker = new HealthChecker(lb, p.probe, { onChange: (c) => changes.push(c), now: () => 42 });

    await checker.checkNow();
    await checker.checkNow();
    expect(checker.state('b')).toBe('healthy'); // 2 failures of 3
    expect(picks(lb)).toContain('b');
    expect(reports).toEqual([]);

    await checker.checkNow();
    expect(checker.state('b')).toBe('unhealthy');
    expect(reports).toEqual([['b', false]]);
    expect(picks(lb)).toEqual(new Set(['a', 'c']));
    expect(lb.stats()[1]!.state).toBe('down');
    expect(changes).toEqual([{ id: 'b', target: 'b', state: 'unhealthy', previous: 'healthy', at: 42 }]);

    await checker.checkNow(); // a 4th failure: no new report
    expect(reports).toHaveLength(1);

    p.behaviour.b = true;
    await checker.checkNow();
    expect(checker.state('b')).toBe('unhealthy'); // 1 success of 2
    expect(picks(lb)).not.toContain('b');
    await checker.checkNow();
    expect(checker.state('b')).toBe('healthy');
    expect(reports).toEqual([
      ['b', false],
      ['b', true],
    ]);
    expect(picks(lb)).toContain('b');
    expect(changes.map((c) => `${c.id}:${c.previous}->${c.state}`)).toEqual(['b:healthy->unhealthy', 'b:unhealthy->healthy']);
    expect(p.callsOf('a')).toHaveLength(6);
  });

  it('counts consecutive checks only: a success between failures, or a failure between successes, resets the streak', async () => {
    const lb = new RoundRobin(['a', 'b']);
    const reports = spyReports(lb);
    const p = scriptedProbe();
    const checker = new HealthChecker(lb, p.probe, { unhealthyThreshold: 2, healthyThreshold: 2 });
    for (const ok of [false, true, false, true, false]) {
      p.behaviour.a = ok;
      await checker.checkNow('a');
    }
    expect(checker.state('a')).toBe('healthy');
    p.behaviour.a = false;
    await checker.checkNow('a'); // the 2nd failure in a row
    expect(checker.state('a')).toBe('unhealthy');
    for (const ok of [true, false, true, false, true]) {
      p.behaviour.a = ok;
      await checker.checkNow('a');
    }
    expect(checker.state('a')).toBe('unhealthy');
    p.behaviour.a = true;
    await checker.checkNow('a');
    expect(checker.state('a')).toBe('healthy');
    expect(reports).toEqual([
      ['a', false],
      ['a', true],
    ]);
    expect(p.callsOf('b')).toHaveLength(0); // checkNow(id) probes only that target
  });

  it('runs a first round on start(), then one per interval, on the injected timers', async () => {
    const t = manualTimers();
    const lb = new RoundRobin(['a', 'b']);
    const p = scriptedProbe({ a: false });
    const checker = new HealthChecker(lb, p.probe, { intervalMs: 1000, jitter: 0, timers: t.timers, now: t.now });
    checker.start();
    expect(checker.running).toBe(true);
    expect(p.calls.map((c) => c.id)).toEqual(['a', 'b']); // at once
    await t.advance(999);
    expect(p.calls).toHaveLength(2);
    await t.advance(1);
    expect(p.calls).toHaveLength(4);
    expect(checker.state('a')).toBe('healthy');
    await t.advance(1000); // 3rd failure at t = 2000
    expect(checker.state('a')).toBe('unhealthy');
    expect(picks(lb)).toEqual(new Set(['b']));
    p.behaviour.a = true;
    await t.advance(2000);
    expect(checker.state('a')).toBe('healthy');
    expect(p.callsOf('a')).toHaveLength(5);
    checker.start(); // no second schedule
    await t.advance(1000);
    expect(p.callsOf('a')).toHaveLength(6);
    checker.stop();
  });

  it('initialState "unhealthy": targets are out until checked; the very first success brings one in (Envoy)', async () => {
    const lb = new RoundRobin(['a', 'b', 'c']);
    const reports = spyReports(lb);
    const p = scriptedProbe({ b: false, c: 'hang' });
    const changes: HealthChange[] = [];
    const checker = new HealthChecker(lb, p.probe, {
      initialState: 'unhealthy',
      healthyThreshold: 3,
      timeoutMs: 50,
      onChange: (c) => changes.push(c),
    });
    expect(checker.state('a')).toBeUndefined(); // nothing seen before the first round
    const round = checker.checkNow();
    // all reported unhealthy before any probe has answered
    expect(reports).toEqual([
      ['a', false],
      ['b', false],
      ['c', false],
    ]);
    expect(() => lb.pick()).toThrow();
    p.calls.find((c) => c.id === 'c')!.resolve(true);
    await round;
    expect(checker.state('a')).toBe('healthy'); // first check passed: in at once
    expect(checker.state('c')).toBe('healthy');
    expect(checker.state('b')).toBe('unhealthy');
    expect(picks(lb as Balancer<string>)).toEqual(new Set(['a', 'c']));
    // b failed its first check: it now needs healthyThreshold (3) successes in a row
    p.behaviour.b = true;
    await checker.checkNow('b');
    await checker.checkNow('b');
    expect(checker.state('b')).toBe('unhealthy');
    await checker.checkNow('b');
    expect(checker.state('b')).toBe('healthy');
    // the initial marking is not a transition; the three recoveries are
    expect(changes.map((c) => `${c.id}:${c.state}`)).toEqual(['a:healthy', 'c:healthy', 'b:healthy']);
  });
});

// ── failing probes ──────────────────────────────────────────────────────────────────────────

describe('HealthChecker failed checks', () => {
  it('counts a probe that throws, rejects or resolves anything but true as a failure, with the error in onChange', async () => {
    const lb = new RoundRobin(['throws', 'rejects', 'false', 'odd', 'ok']);
    const p = scriptedProbe({ throws: 'throw', rejects: 'reject', false: false, odd: 'non-boolean' });
    const changes: HealthChange[] = [];
    const checker = new HealthChecker(lb, p.probe, { unhealthyThreshold: 1, onChange: (c) => changes.push(c) });
    await expect(checker.checkNow()).resolves.toBeUndefined();
    expect(['throws', 'rejects', 'false', 'odd', 'ok'].map((id) => checker.state(id))).toEqual([
      'unhealthy',
      'unhealthy',
      'unhealthy',
      'unhealthy',
      'healthy',
    ]);
    const byId = new Map(changes.map((c) => [c.id, c]));
    expect((byId.get('throws')!.error as Error).message).toBe('probe of throws threw');
    expect((byId.get('rejects')!.error as Error).message).toBe('probe of rejects rejected');
    expect('error' in byId.get('false')!).toBe(false);
    expect(picks(lb as Balancer<string>)).toEqual(new Set(['ok']));
  });

  it('times a probe out: its signal is aborted with a TimeoutError and the check fails', async () => {
    const t = manualTimers();
    const lb = new RoundRobin(['slow', 'fast']);
    const p = scriptedProbe({ slow: 'hang' });
    const changes: HealthChange[] = [];
    const checker = new HealthChecker(lb, p.probe, {
      timeoutMs: 100,
      unhealthyThreshold: 1,
      timers: t.timers,
      now: t.now,
      onChange: (c) => changes.push(c),
    });
    let settled = false;
    const round = checker.checkNow().then(() => (settled = true));
    const call = p.callsOf('slow')[0]!;
    await t.advance(99);
    expect(call.signal.aborted).toBe(false);
    expect(settled).toBe(false);
    await t.advance(1);
    await round;
    expect(call.signal.aborted).toBe(true);
    expect((call.signal.reason as Error).name).toBe('TimeoutError');
    expect(checker.state('slow')).toBe('unhealthy');
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ id: 'slow', state: 'unhealthy', at: 100 });
    expect((changes[0]!.error as Error).name).toBe('TimeoutError');
    // a late answer after the time-out changes nothing
    call.resolve(true);
    await flush();
    expect(checker.state('slow')).toBe('unhealthy');
    expect(t.pending()).toBe(0); // the fast probe's time-out timer was cleared
  });

  it('a late success after a time-out does not count; a success resets the failure streak', async () => {
    const t = manualTimers();
    const lb = new RoundRobin(['a']);
    const p = scriptedProbe({ a: 'hang' });
    const checker = new HealthChecker(lb, p.probe, { timeoutMs: 10, healthyThreshold: 1, unhealthyThreshold: 2, timers: t.timers });
    const round = checker.checkNow();
    await t.advance(10);
    await round;
    p.calls[0]!.resolve(true); // too late
    await flush();
    p.behaviour.a = true;
    await checker.checkNow(); // a success resets the failure streak
    p.behaviour.a = 'hang';
    const r2 = checker.checkNow();
    await t.advance(10);
    await r2;
    expect(checker.state('a')).toBe('healthy'); // failures: 1, not 2
    expect(t.pending()).toBe(0);
  });
});

// ── scheduling ──────────────────────────────────────────────────────────────────────────────

describe('HealthChecker scheduling', () => {
  it('never overlaps probes of one target: a probe spanning 3 intervals is called once', async () => {
    const t = manualTimers();
    const lb = new RoundRobin(['slow', 'fast']);
    const p = scriptedProbe({ slow: 'hang' });
    const checker = new HealthChecker(lb, p.probe, { intervalMs: 100, timeoutMs: 1000, jitter: 0, timers: t.timers });
    checker.start();
    await t.advance(350); // rounds at 0, 100, 200, 300
    expect(p.callsOf('slow')).toHaveLength(1);
    expect(p.callsOf('fast')).toHaveLength(4);
    // checkNow joins the running probe instead of starting another
    let joined = false;
    const wait = checker.checkNow('slow').then(() => (joined = true));
    await flush();
    expect(p.callsOf('slow')).toHaveLength(1);
    expect(joined).toBe(false);
    p.callsOf('slow')[0]!.resolve(true);
    await wait;
    expect(joined).toBe(true);
    await t.advance(50); // round at 400
    expect(p.callsOf('slow')).toHaveLength(2);
    checker.stop();
  });

  it('draws the interval within intervalMs × (1 ± jitter), reproducibly for a seed', async () => {
    const run = async (options: { seed?: number; random?: () => number }) => {
      const t = manualTimers();
      const checker = new HealthChecker(new RoundRobin(['a']), async () => true, {
        intervalMs: 1000,
        timeoutMs: 1,
        jitter: 0.2,
        timers: t.timers,
        ...options,
      });
      checker.start();
      await t.advance(50_000);
      checker.stop();
      return t.delays.filter((d) => d !== 1); // drop probe time-outs
    };
    const a = await run({ seed: 7 });
    expect(a.length).toBeGreaterThan(35);
    for (const d of a) {
      expect(d).toBeGreaterThanOrEqual(800);
      expect(d).toBeLessThanOrEqual(1200);
    }
    expect(Math.min(...a)).toBeLessThan(900); // actually spread
    expect(Math.max(...a)).toBeGreaterThan(1100);
    expect(await run({ seed: 7 })).toEqual(a);
    expect(await run({ seed: 8 })).not.toEqual(a);
    expect(new Set(await run({ random: () => 0 }))).toEqual(new Set([800]));
    expect(new Set(await run({ random: () => 0.5 }))).toEqual(new Set([1000]));
  });

  it('stop() aborts probes in flight, ignores their results, clears every timer; it is idempotent and start() resumes', async () => {
    const t = manualTimers();
    const lb = new RoundRobin(['a', 'b']);
    const reports = spyReports(lb);
    const p = scriptedProbe({ a: 'hang', b: 'hang' });
    const checker = new HealthChecker(lb, p.probe, { intervalMs: 100, timeoutMs: 50, unhealthyThreshold: 1, timers: t.timers });
    checker.start();
    const waiting = checker.checkNow(); // joins both running probes
    expect(t.pending()).toBe(3); // next round + two time-outs
    expect(t.unrefs()).toBe(3); // every timer unref'ed
    checker.stop();
    expect(checker.running).toBe(false);
    expect(t.pending()).toBe(0);
    await expect(waiting).resolves.toBeUndefined(); // stop settles waiters
    for (const c of p.calls) {
      expect(c.signal.aborted).toBe(true);
      expect((c.signal.reason as Error).name).toBe('AbortError');
    }
    await t.advance(1000);
    expect(p.calls).toHaveLength(2);
    expect(reports).toEqual([]); // neither a failure nor a time-out was counted
    expect(checker.state('a')).toBe('healthy');
    checker.stop(); // idempotent
    expect(t.pending()).toBe(0);

    p.behaviour.a = false;
    p.behaviour.b = true;
    checker.start(); // probes anew at once, although the cancelled probes never settled
    expect(p.calls).toHaveLength(4);
    await t.advance(1);
    expect(checker.state('a')).toBe('unhealthy');
    checker.stop();
    expect(t.pending()).toBe(0);
  });

  it('with the default (global) timers: nothing is left pending after stop()', async () => {
    vi.useFakeTimers();
    try {
      const p = scriptedProbe({ a: 'hang' });
      const checker = new HealthChecker(new RoundRobin(['a', 'b']), p.probe, {
        intervalMs: 100,
        timeoutMs: 30,
        jitter: 0,
        unhealthyThreshold: 1,
      });
      checker.start();
      expect(vi.getTimerCount()).toBe(3);
      await vi.advanceTimersByTimeAsync(30);
      expect(checker.state('a')).toBe('unhealthy');
      expect(p.callsOf('a')[0]!.signal.aborted).toBe(true);
      await vi.advanceTimersByTimeAsync(260); // rounds at 100 and 200
      expect(p.callsOf('b')).toHaveLength(3);
      checker.stop();
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('unrefs numeric timer handles with Deno.unrefTimer where it exists', () => {
    const g = globalThis as { Deno?: unknown };
    const unrefTimer = vi.fn();
    g.Deno = { unrefTimer };
    try {
      let n = 0;
      const timers: HealthTimers = { setTimeout: () => ++n, clearTimeout: () => {} };
      const checker = new HealthChecker(new RoundRobin(['a']), () => new Promise<boolean>(() => {}), { timers });
      checker.start();
      expect(unrefTimer.mock.calls).toEqual([[1], [2]]); // the probe's time-out, then the next round
      checker.stop();
    } finally {
      delete g.Deno;
    }
  });
});

// ── membership ──────────────────────────────────────────────────────────────────────────────

describe('HealthChecker membership', () => {
  afterEach(() => vi.restoreAllMocks());

  it('probes targets added later, forgets removed ones and starts re-added ones afresh', async () => {
    const t = manualTimers();
    const lb = new RoundRobin<string>(['a', 'b'], { seed: 3 });
    const p = scriptedProbe({ b: false });
    const checker = new HealthChecker(lb, p.probe, { intervalMs: 100, jitter: 0, unhealthyThreshold: 1, timers: t.timers });
    checker.start();
    await t.advance(1);
    expect(checker.state('b')).toBe('unhealthy');
    lb.add('c');
    expect(checker.state('c')).toBeUndefined(); // not seen until the next round
    await t.advance(99);
    expect(p.callsOf('c')).toHaveLength(1);
    expect(checker.state('c')).toBe('healthy');

    lb.remove('b');
    await t.advance(100);
    expect(checker.state('b')).toBeUndefined();
    lb.add('b'); // a fresh target for the balancer, and for the checker
    p.behaviour.b = true;
    await checker.checkNow();
    expect(checker.state('b')).toBe('healthy');
    expect(picks(lb)).toEqual(new Set(['a', 'b', 'c']));
    await expect(checker.checkNow('zz')).rejects.toBeInstanceOf(UnknownIdError);
    checker.stop();
  });

  it('aborts the probe of a removed target and never reports on it', async () => {
    const t = manualTimers();
    const lb = new RoundRobin<string>(['a', 'b']);
    const reports = spyReports(lb);
    const p = scriptedProbe({ b: 'hang' });
    const checker = new HealthChecker(lb, p.probe, { intervalMs: 100, timeoutMs: 1000, jitter: 0, unhealthyThreshold: 1, timers: t.timers });
    checker.start();
    lb.remove('b');
    await t.advance(100);
    const call = p.callsOf('b')[0]!;
    expect(call.signal.aborted).toBe(true);
    expect((call.signal.reason as Error).name).toBe('AbortError');
    call.resolve(false);
    await t.advance(2000);
    expect(reports).toEqual([]);
    expect(checker.state('b')).toBeUndefined();
    checker.stop();
    expect(t.pending()).toBe(0);
  });

  it('works with any Balancer, forgets a target the balancer no longer knows, and swallows listener errors', async () => {
    // A hand-written balancer: only the interface, no BaseBalancer.
    let members: string[] = ['x', 'y'];
    const reported: [string, boolean][] = [];
    const custom: Balancer<string> = {
      pick: () => members[0]!,
      acquire: () => ({ target: members[0]!, release: () => true }),
      add: (id) => void members.push(id),
      remove: (id) => members.length !== (members = members.filter((m) => m !== id)).length,
      setTargets: (ts) => void (members = [...ts]),
      setWeight: () => {},
      markDown: () => {},
      markUp: () => {},
      reportHealth(id, healthy) {
        if (!members.includes(id)) throw new UnknownIdError(id);
        reported.push([id, healthy]);
      },
      targets: () => members,
      get size() {
        return members.length;
      },
      stats: () => [],
    };
    const p = scriptedProbe({ x: false, y: 'hang' });
    let calls = 0;
    const checker = new HealthChecker(custom, p.probe, {
      unhealthyThreshold: 1,
      timeoutMs: 10_000,
      onChange: () => {
        calls++;
        throw new Error('listener bug');
      },
    });
    await checker.checkNow('x');
    expect(reported).toEqual([['x', false]]);
    expect(calls).toBe(1); // thrown error swallowed
    // y leaves between the round and its result: the checker forgets it and reports nothing
    const round = checker.checkNow('y');
    members = ['x'];
    p.callsOf('y')[0]!.resolve(false);
    await round;
    expect(checker.state('y')).toBeUndefined();
    expect(reported).toEqual([['x', false]]);
    expect(calls).toBe(1);
    checker.stop();
  });
});

// ── options ─────────────────────────────────────────────────────────────────────────────────

describe('HealthChecker options', () => {
  const lb = new RoundRobin(['a']);
  const probe = async () => true;

  it.each([
    [{ intervalMs: 0 }, 'intervalMs', '0'],
    [{ intervalMs: -5 }, 'intervalMs', '-5'],
    [{ intervalMs: Number.NaN }, 'intervalMs', 'NaN'],
    [{ intervalMs: 2 ** 31 }, 'intervalMs', String(2 ** 31)],
    [{ intervalMs: '100' }, 'intervalMs', '"100"'],
    [{ timeoutMs: 0 }, 'timeoutMs', '0'],
    [{ timeoutMs: Number.POSITIVE_INFINITY }, 'timeoutMs', 'Infinity'],
    [{ jitter: -0.1 }, 'jitter', '-0.1'],
    [{ jitter: 1.5 }, 'jitter', '1.5'],
    [{ jitter: Number.NaN }, 'jitter', 'NaN'],
    [{ healthyThreshold: 0 }, 'healthyThreshold', '0'],
    [{ healthyThreshold: 1.5 }, 'healthyThreshold', '1.5'],
    [{ unhealthyThreshold: 0 }, 'unhealthyThreshold', '0'],
    [{ unhealthyThreshold: Number.NaN }, 'unhealthyThreshold', 'NaN'],
    [{ initialState: 'up' }, 'initialState', '"up"'],
    [{ seed: Number.NaN }, 'seed', 'NaN'],
    [{ random: 0.5 }, 'random', '0.5'],
    [{ now: 'x' }, 'now', '"x"'],
    [{ timers: {} }, 'timers', 'an object'],
    [{ timers: { setTimeout: () => 1 } }, 'timers', 'an object'],
    [{ onChange: true }, 'onChange', 'true'],
    [{ intervalMS: 100 }, 'intervalMS', '100'],
  ])('rejects %o naming the option and the value', (options, option, shown) => {
    let error: unknown;
    try {
      new HealthChecker(lb, probe, options as never);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).option).toBe(option);
    expect((error as InvalidOptionError).code).toBe('ERR_INVALID_OPTION');
    expect((error as Error).message).toContain(`invalid option ${option}: ${shown}`);
  });

  it('rejects a missing probe or a non-balancer, and options that are not an object', () => {
    expect(() => new HealthChecker(lb, undefined as never)).toThrow(/invalid option probe: undefined/);
    expect(() => new HealthChecker({} as never, probe)).toThrow(/invalid option balancer: an object/);
    expect(() => new HealthChecker(lb, probe, 5 as never)).toThrow(/invalid option options: 5/);
  });

  it('accepts the edges: jitter 0 and 1, thresholds 1, a timeout longer than the interval', () => {
    expect(() => new HealthChecker(lb, probe, { jitter: 0, healthyThreshold: 1, unhealthyThreshold: 1 })).not.toThrow();
    expect(() => new HealthChecker(lb, probe, { jitter: 1, intervalMs: 10, timeoutMs: 1000 })).not.toThrow();
  });

  it('defaults the time-out to min(1,000, intervalMs)', async () => {
    const t = manualTimers();
    const checker = new HealthChecker(new RoundRobin(['a']), () => new Promise<boolean>(() => {}), { intervalMs: 300, timers: t.timers });
    void checker.checkNow();
    expect(t.delays).toEqual([300]);
    checker.stop();
    const t2 = manualTimers();
    const c2 = new HealthChecker(new RoundRobin(['a']), () => new Promise<boolean>(() => {}), { timers: t2.timers });
    void c2.checkNow();
    expect(t2.delays).toEqual([1000]);
    c2.stop();
  });
});

// ── real HTTP servers ───────────────────────────────────────────────────────────────────────

describe('HealthChecker against real HTTP servers on 127.0.0.1', () => {
  interface Backend {
    readonly id: string;
    readonly port: number;
    server: Server;
    sockets: Set<Socket>;
  }
  const backends: Backend[] = [];

  const serve = (port: number): Promise<{ server: Server; sockets: Set<Socket>; port: number }> =>
    new Promise((resolve, reject) => {
      const sockets = new Set<Socket>();
      const server = createServer((req, res) => {
        res.writeHead(req.url === '/health' ? 200 : 404, { 'content-type': 'text/plain' });
        res.end(`ok ${port}`);
      });
      server.on('connection', (s) => {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve({ server, sockets, port: (server.address() as AddressInfo).port }));
    });

  const kill = (b: Backend): Promise<void> =>
    new Promise((resolve) => {
      b.server.close(() => resolve());
      for (const s of b.sockets) s.destroy();
    });

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) {
      const { server, sockets, port } = await serve(0);
      backends.push({ id: `127.0.0.1:${port}`, port, server, sockets });
    }
  });

  afterAll(async () => {
    await Promise.all(backends.filter((b) => b.server.listening).map(kill));
  });

  it('reports a killed backend unhealthy after unhealthyThreshold checks, routes around it, and restores it when it is back', async () => {
    const lb = new RoundRobin<Backend>(backends, { seed: 1 });
    const changes: HealthChange<Backend>[] = [];
    const checker = new HealthChecker<Backend>(
      lb,
      async (b, signal) => {
        const res = await fetch(`http://127.0.0.1:${b.port}/health`, { signal });
        await res.arrayBuffer(); // frees the connection for reuse
        return res.ok;
      },
      { intervalMs: 20, timeoutMs: 500, unhealthyThreshold: 2, healthyThreshold: 2, onChange: (c) => changes.push(c) },
    );
    const call = async () => {
      const lease = lb.acquire();
      try {
        const res = await fetch(`http://127.0.0.1:${lease.target.port}/`);
        await res.text();
        lease.release('success');
        return lease.target.id;
      } catch (err) {
        lease.release('failure');
        throw err;
      }
    };

    await checker.checkNow();
    expect(backends.map((b) => checker.state(b.id))).toEqual(['healthy', 'healthy', 'healthy']);

    const victim = backends[1]!;
    await kill(victim);
    await checker.checkNow(); // 1 failure of 2
    expect(checker.state(victim.id)).toBe('healthy');
    await checker.checkNow();
    expect(checker.state(victim.id)).toBe('unhealthy');
    expect(changes.map((c) => [c.id, c.state])).toEqual([[victim.id, 'unhealthy']]);
    expect(changes[0]!.error).toBeInstanceOf(Error); // fetch failed: connection refused

    const served = new Set<string>();
    for (let i = 0; i < 30; i++) served.add(await call()); // every request succeeds
    expect(served).toEqual(new Set([backends[0]!.id, backends[2]!.id]));

    // back on the same port; the running checker (real, unref'ed timers) restores it
    const restarted = await serve(victim.port);
    victim.server = restarted.server;
    victim.sockets = restarted.sockets;
    checker.start();
    const deadline = Date.now() + 1500;
    while (checker.state(victim.id) !== 'healthy' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    checker.stop();
    expect(checker.state(victim.id)).toBe('healthy');
    expect(changes.map((c) => [c.id, c.state])).toEqual([
      [victim.id, 'unhealthy'],
      [victim.id, 'healthy'],
    ]);
    const after = new Set<string>();
    for (let i = 0; i < 30; i++) after.add(await call());
    expect(after).toEqual(new Set(backends.map((b) => b.id)));
  }, 5000);
});
