import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  InvalidOptionError,
  LeastConnections,
  NoTargetError,
  PowerOfTwoChoices,
  RoundRobin,
  WeightedRoundRobin,
  type Balancer,
  type BalancerEvent,
  type Lease,
} from '../../src/index.js';

/** A clock the test moves by hand. */
function fakeClock(start = 1000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms), set: (ms: number) => (t = ms) };
}

const ids = ['a', 'b', 'c'];
const fail = (lb: Balancer<string>, id: string) => {
  const lease = lb.acquire({ exclude: ids.filter((x) => x !== id) });
  expect(lease.target).toBe(id);
  lease.release('failure');
};
const picksOf = (lb: Balancer<string>, n: number) => Array.from({ length: n }, () => lb.pick());

describe('passive failure counting (nginx max_fails / fail_timeout)', () => {
  it('takes a target out after maxFails failures, until failTimeoutMs has passed', () => {
    const clock = fakeClock();
    const lb = new RoundRobin<string>(ids, { now: clock.now, seed: 1, passive: { maxFails: 2, failTimeoutMs: 1000 } });
    fail(lb, 'b');
    expect(picksOf(lb, 30)).toContain('b'); // one failure of two: still in
    fail(lb, 'b');
    expect(picksOf(lb, 30)).not.toContain('b');
    expect(lb.stats()[1]).toMatchObject({ id: 'b', state: 'down', failures: 2 });
    clock.advance(1000); // exactly failedAt + failTimeoutMs: still out (nginx: now - checked <= fail_timeout)
    expect(picksOf(lb, 30)).not.toContain('b');
    clock.advance(1); // strictly past the window: back
    expect(picksOf(lb, 30)).toContain('b');
    expect(lb.stats()[1]!.state).toBe('up');
  });

  it('after the window, one more failure takes it straight out again; a success forgets the failures', () => {
    const clock = fakeClock();
    const lb = new RoundRobin<string>(ids, { now: clock.now, seed: 1, passive: { maxFails: 2, failTimeoutMs: 1000 } });
    fail(lb, 'b');
    fail(lb, 'b');
    clock.advance(1001);
    fail(lb, 'b'); // the retry after the window fails: out for another window
    expect(picksOf(lb, 30)).not.toContain('b');
    clock.advance(1001);
    const ok = lb.acquire({ exclude: ['a', 'c'] });
    ok.release('success'); // chosen after the window, then succeeded: failures forgotten
    fail(lb, 'b');
    expect(picksOf(lb, 30)).toContain('b'); // 1 of 2 again
  });

  it('counts failures within a window only: a failure, a check after the window and a success reset the count', () => {
    const clock = fakeClock();
    const lb = new RoundRobin<string>(ids, { now: clock.now, seed: 1, passive: { maxFails: 2, failTimeoutMs: 1000 } });
    fail(lb, 'b');
    clock.advance(1500);
    lb.acquire({ exclude: ['a', 'c'] }).release('success');
    fail(lb, 'b');
    expect(picksOf(lb, 30)).toContain('b');
  });

  it('a success inside the window does not forget failures (nginx: accessed == checked)', () => {
    const clock = fakeClock();
    const lb = new RoundRobin<string>(ids, { now: clock.now, seed: 1, passive: { maxFails: 2, failTimeoutMs: 1000 } });
    fail(lb, 'b');
    clock.advance(10);
    lb.acquire({ exclude: ['a', 'c'] }).release('success');
    fail(lb, 'b');
    expect(picksOf(lb, 30)).not.toContain('b');
  });

  it('never takes out the only target (nginx rule for a single server)', () => {
    const clock = fakeClock();
    const lb = new RoundRobin<string>(['solo'], { now: clock.now, passive: true });
    for (let i = 0; i < 5; i++) lb.acquire().release('failure');
    expect(lb.pick()).toBe('solo');
  });

  it('uses nginx defaults with passive: true (1 failure, 10 s)', () => {
    const clock = fakeClock();
    const lb = new RoundRobin<string>(ids, { now: clock.now, seed: 2, passive: true });
    fail(lb, 'a');
    expect(picksOf(lb, 20)).not.toContain('a');
    clock.advance(10_000);
    expect(picksOf(lb, 20)).not.toContain('a');
    clock.advance(1);
    expect(picksOf(lb, 20)).toContain('a');
  });

  it('reports down/up events with the reason, and a throwing listener breaks nothing', () => {
    const clock = fakeClock();
    const events: BalancerEvent[] = [];
    const lb = new RoundRobin<string>(ids, {
      now: clock.now,
      seed: 1,
      passive: { maxFails: 1, failTimeoutMs: 100 },
      onEvent: (e) => {
        events.push(e);
        throw new Error('listener bug');
      },
    });
    fail(lb, 'c');
    clock.advance(101);
    lb.pick();
    lb.markDown('a');
    lb.markDown('a');
    lb.markUp('a');
    expect(events).toEqual([
      { type: 'down', id: 'c', reason: 'passive', at: 1000 },
      { type: 'up', id: 'c', reason: 'passive', at: 1101 },
      { type: 'down', id: 'a', reason: 'manual', at: 1101 },
      { type: 'up', id: 'a', reason: 'manual', at: 1101 },
    ]);
  });

  it('rejects bad options by name', () => {
    for (const [options, name] of [
      [{ passive: { maxFails: 0 } }, 'passive.maxFails'],
      [{ passive: { maxFails: 1.5 } }, 'passive.maxFails'],
      [{ passive: { failTimeoutMs: -1 } }, 'passive.failTimeoutMs'],
      [{ passive: { failTimeoutMs: Number.NaN } }, 'passive.failTimeoutMs'],
      [{ passive: { maxFail: 2 } }, 'maxFail'],
      [{ passive: 3 }, 'passive'],
      [{ panicThreshold: 101 }, 'panicThreshold'],
      [{ panicThreshold: Number.NaN }, 'panicThreshold'],
      [{ onEvent: 'log' }, 'onEvent'],
    ] as const) {
      let caught: unknown;
      try {
        new RoundRobin(ids, options as never);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(InvalidOptionError);
      expect((caught as InvalidOptionError).option).toBe(name);
    }
  });
});

describe('reportHealth and panic mode', () => {
  it('an unhealthy report takes a target out independently of markDown', () => {
    const lb = new RoundRobin<string>(ids, { seed: 1 });
    lb.reportHealth('a', false);
    expect(picksOf(lb, 20)).not.toContain('a');
    lb.markDown('a');
    lb.reportHealth('a', true);
    expect(picksOf(lb, 20)).not.toContain('a'); // still manually down
    lb.markUp('a');
    expect(picksOf(lb, 20)).toContain('a');
  });

  it('routes to every target while fewer than panicThreshold % are healthy, and back', () => {
    const events: string[] = [];
    const lb = new RoundRobin<string>(['a', 'b', 'c', 'd'], { seed: 1, panicThreshold: 50, onEvent: (e) => events.push(`${e.type}:${e.id ?? ''}`) });
    lb.reportHealth('a', false);
    lb.reportHealth('b', false); // 2 of 4 healthy = 50 %: not below the threshold
    expect(new Set(picksOf(lb, 40))).toEqual(new Set(['c', 'd']));
    lb.reportHealth('c', false); // 25 %: panic
    expect(new Set(picksOf(lb, 40))).toEqual(new Set(['a', 'b', 'c', 'd']));
    expect(lb.stats().map((s) => s.state)).toEqual(['down', 'down', 'down', 'up']);
    lb.reportHealth('a', true); // 50 %: calm
    expect(new Set(picksOf(lb, 40))).toEqual(new Set(['a', 'd']));
    expect(events).toEqual(['down:a', 'down:b', 'down:c', 'panic:', 'up:a', 'calm:']);
  });

  it('re-evaluates panic when membership changes', () => {
    const lb = new RoundRobin<string>(['a', 'b', 'c', 'd'], { seed: 1, panicThreshold: 50 });
    for (const id of ['a', 'b', 'c']) lb.reportHealth(id, false);
    expect(new Set(picksOf(lb, 40)).size).toBe(4); // panic: 1 of 4 healthy
    for (const id of ['e', 'f', 'g', 'h']) lb.add(id); // 5 of 8 healthy: calm
    expect(new Set(picksOf(lb, 80))).toEqual(new Set(['d', 'e', 'f', 'g', 'h']));
    lb.setTargets(['a', 'b', 'c', 'd']); // back to 1 of 4: panic again
    expect(new Set(picksOf(lb, 40)).size).toBe(4);
    lb.remove('a');
    lb.remove('b'); // 1 of 2 healthy = 50 %: calm
    expect(new Set(picksOf(lb, 20))).toEqual(new Set(['d']));
  });

  it('panic never overrides markDown (an operator decision, not health)', () => {
    const lb = new RoundRobin<string>(['a', 'b'], { seed: 1, panicThreshold: true });
    lb.markDown('a');
    lb.reportHealth('b', false);
    expect(picksOf(lb, 10)).toEqual(new Array(10).fill('b'));
    lb.markDown('b');
    expect(() => lb.pick()).toThrow(NoTargetError);
  });
});

describe('health model: random acquire / release / clock / markDown / markUp sequences', () => {
  type Ctor = new (targets: readonly string[], options: object) => Balancer<string>;
  const classes: [string, Ctor][] = [
    ['RoundRobin', RoundRobin],
    ['WeightedRoundRobin', WeightedRoundRobin],
    ['LeastConnections', LeastConnections],
    ['PowerOfTwoChoices', PowerOfTwoChoices],
  ];
  for (const [name, Class] of classes) {
    it(`${name}: never picks a failed or down target; counters stay consistent`, () => {
      const op = fc.oneof(
        fc.record({ kind: fc.constant('acquire' as const) }),
        fc.record({ kind: fc.constant('release' as const), index: fc.nat(), ok: fc.boolean() }),
        fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 600 }) }),
        fc.record({ kind: fc.constantFrom('down' as const, 'up' as const), target: fc.nat(3) }),
      );
      fc.assert(
        fc.property(fc.array(op, { maxLength: 150 }), fc.integer({ min: 1, max: 3 }), (ops, maxFails) => {
          const targets = ['t0', 't1', 't2', 't3'];
          let t = 0;
          const lb = new Class(targets, { now: () => t, seed: 1, passive: { maxFails, failTimeoutMs: 1000 } });
          // The model: nginx's per-peer state.
          const model = new Map(targets.map((id) => [id, { fails: 0, checked: -Infinity, accessed: -Infinity, until: 0, failed: false, down: false, active: 0 }]));
          const open: Lease<string>[] = [];
          for (const o of ops) {
            for (const p of model.values()) if (p.failed && t > p.until) p.failed = false;
            if (o.kind === 'advance') t += o.ms;
            else if (o.kind === 'down' || o.kind === 'up') {
              const id = targets[o.target]!;
              model.get(id)!.down = o.kind === 'down';
              if (o.kind === 'down') lb.markDown(id);
              else lb.markUp(id);
            } else if (o.kind === 'release') {
              if (open.length === 0) continue;
              const lease = open.splice(o.index % open.length, 1)[0]!;
              const p = model.get(lease.target)!;
              p.active--;
              if (o.ok) {
                if (p.accessed < p.checked) p.fails = 0;
              } else {
                p.fails++;
                p.accessed = p.checked = t;
                if (p.fails >= maxFails) {
                  p.failed = true;
                  p.until = t + 1000;
                }
              }
              lease.release(o.ok ? 'success' : 'failure');
            } else {
              const eligible = targets.filter((id) => !model.get(id)!.down && !model.get(id)!.failed);
              if (eligible.length === 0) {
                expect(() => lb.acquire()).toThrow(NoTargetError);
                continue;
              }
              const lease = lb.acquire();
              expect(eligible).toContain(lease.target);
              const p = model.get(lease.target)!;
              p.active++;
              if (p.fails !== 0 && t - p.checked > 1000) p.checked = t;
              open.push(lease);
            }
            for (const s of lb.stats()) {
              expect(s.active).toBe(model.get(s.id)!.active);
              expect(s.active).toBeGreaterThanOrEqual(0);
            }
          }
        }),
        { numRuns: 200 },
      );
    });
  }
});

describe('listeners that change membership during a lazily applied transition (issue 14, defect 7)', () => {
  // A passive window lapses lazily, in the due-time scan of the next pick; its 'up' event goes
  // to the listener, which may call any public method. The scan must still reach every member.
  // Each action returns the id it takes out itself, if any.
  const reentrant: [string, (lb: RoundRobin<string>) => string | undefined][] = [
    ['remove', (lb) => void lb.remove('a')],
    ['setTargets', (lb) => void lb.setTargets(['b', 'c', 'd', 'e'])],
    ['remove and add again', (lb) => {
      lb.remove('a');
      lb.add('a');
      return undefined;
    }],
    ['markDown', (lb) => void lb.markDown('a')],
    ['acquire and release', (lb) => {
      const lease = lb.acquire({ exclude: ['a'] });
      lease.release('failure');
      return lease.target;
    }],
  ];
  for (const [name, act] of reentrant) {
    it(`brings every member back when the listener calls ${name}`, () => {
      const clock = fakeClock(0);
      let lb!: RoundRobin<string>;
      let own: string | undefined;
      let once = true;
      lb = new RoundRobin<string>(['a', 'b', 'c', 'd', 'e'], {
        now: clock.now,
        seed: 1,
        passive: { maxFails: 1, failTimeoutMs: 100 },
        onEvent: (e) => {
          if (e.type === 'up' && e.id === 'a' && once) {
            once = false;
            own = act(lb);
          }
        },
      });
      for (const id of ['a', 'b', 'c']) {
        const lease = lb.acquire({ exclude: ['a', 'b', 'c', 'd', 'e'].filter((x) => x !== id) });
        lease.release('failure');
      }
      clock.set(101);
      lb.pick(); // the scan: a, b and c are due
      const down = lb.stats().filter((s) => s.state === 'down' && s.id !== 'a' && s.id !== own).map((s) => s.id);
      expect(down).toEqual([]);
    });
  }
});

describe('listeners and the due-time scan: no events for targets already gone (issue 14, defect 7)', () => {
  it('a target dropped by the listener during the scan reports no transition afterwards', () => {
    const clock = fakeClock(0);
    const events: string[] = [];
    let lb!: RoundRobin<string>;
    lb = new RoundRobin<string>(['a', 'b', 'c'], {
      now: clock.now,
      seed: 1,
      passive: { maxFails: 1, failTimeoutMs: 100 },
      onEvent: (e) => {
        events.push(`${e.type}:${e.id ?? ''}`);
        if (e.type === 'up' && e.id === 'a') lb.setTargets(['a', 'c']);
      },
    });
    for (const id of ['a', 'b']) lb.acquire({ exclude: ['a', 'b', 'c'].filter((x) => x !== id) }).release('failure');
    clock.set(101);
    lb.pick();
    expect(events).toEqual(['down:a', 'down:b', 'up:a']);
    expect(lb.stats().map((s) => s.state)).toEqual(['up', 'up']);
  });
});

describe('the single-target rule (issue 14, defect 8)', () => {
  it('a target left alone while out for failures is back at once, and failures released while alone do not extend its window', () => {
    const clock = fakeClock(0);
    const events: string[] = [];
    const lb = new RoundRobin<string>(['a', 'b'], {
      now: clock.now,
      seed: 1,
      passive: { maxFails: 1, failTimeoutMs: 1000 },
      onEvent: (e) => events.push(`${e.type}:${e.id ?? ''}:${e.reason}`),
    });
    const inFlight = lb.acquire({ exclude: ['b'] });
    lb.acquire({ exclude: ['b'] }).release('failure'); // a is out until 1000
    expect(() => lb.pick({ exclude: ['b'] })).toThrow(NoTargetError);
    clock.set(10);
    lb.remove('b'); // a is alone now
    expect(lb.pick()).toBe('a');
    clock.set(500);
    inFlight.release('failure'); // counted, but it does not take the lone target out again
    expect(lb.pick()).toBe('a');
    expect(lb.stats()[0]).toMatchObject({ id: 'a', state: 'up', failures: 2 });
    clock.set(1200);
    expect(lb.pick()).toBe('a');
    expect(events).toEqual(['down:a:passive', 'up:a:passive']);
  });

  it('failures while alone do not count toward maxFails once others join (nginx keeps no count for a single server)', () => {
    const clock = fakeClock(0);
    const lb = new RoundRobin<string>(['a'], { now: clock.now, seed: 1, passive: { maxFails: 2, failTimeoutMs: 1000 } });
    for (let i = 0; i < 3; i++) lb.acquire().release('failure');
    expect(lb.pick()).toBe('a');
    lb.add('b');
    lb.acquire({ exclude: ['b'] }).release('failure'); // the first failure that counts
    expect(lb.stats()[0]!.state).toBe('up');
    lb.acquire({ exclude: ['b'] }).release('failure');
    expect(lb.stats()[0]!.state).toBe('down');
  });
});

describe('panic and membership changes (issue 14, defect 10)', () => {
  it('add, remove and setTargets take the panic decision again at once, as Envoy does on every host-set change', () => {
    const events: string[] = [];
    const lb = new RoundRobin<string>(['a', 'b', 'c', 'd'], { seed: 1, panicThreshold: 50, onEvent: (e) => events.push(e.type) });
    lb.reportHealth('a', false);
    lb.reportHealth('b', false); // 2 of 4 healthy: 50 %, calm
    expect(new Set(picksOf(lb, 20))).toEqual(new Set(['c', 'd']));
    lb.remove('d'); // 1 of 3: panic, with no health transition
    expect(events.slice(2)).toEqual(['panic']);
    expect(new Set(picksOf(lb, 20))).toEqual(new Set(['a', 'b', 'c']));
    lb.add('e'); // 2 of 4: calm
    expect(events.slice(3)).toEqual(['calm']);
    expect(new Set(picksOf(lb, 20))).toEqual(new Set(['c', 'e']));
    lb.setTargets(['a', 'b', 'c']); // 1 of 3: panic
    lb.setTargets(['a', 'b', 'c', 'x', 'y']); // 3 of 5: calm
    expect(events.slice(4)).toEqual(['panic', 'calm']);
  });

  it('docs/health.md describes that behaviour', async () => {
    const { readFileSync } = await import('node:fs');
    const doc = readFileSync(new URL('../../docs/health.md', import.meta.url), 'utf8').replace(/\s+/g, ' ');
    expect(doc.includes('do not trigger a decision')).toBe(false);
    expect(doc.includes('`add`, `remove` and `setTargets` take the decision again')).toBe(true);
  });
});
