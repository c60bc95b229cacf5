/**
 * Defects the adversarial catalogue found beyond issue 14's list, each pinned by a direct test
 * (the catalogue case that found it is named in the title).
 */
import { describe, expect, it } from 'vitest';
import {
  Hcl,
  HealthChecker,
  LoadwiseError,
  RoundRobin,
  WeightedRoundRobin,
  targetId,
  type HealthTimers,
  type Target,
} from '../../src/index.js';
import { flippingArray, mutatingArray, revoked, unprintable } from './hostile.js';

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    return LoadwiseError.is(err) ? err.code : `not coded: ${String(err)}`;
  }
  return 'no error';
}

async function rejectionCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return LoadwiseError.is(err) ? err.code : `not coded: ${String(err)}`;
  }
  return 'no error';
}

/** Timers that never fire on their own; `fire()` runs what is due, in order. */
function manualTimers(): HealthTimers & { delays: number[]; fire(): void } {
  const queue: { id: number; fn: () => void }[] = [];
  let next = 1;
  const delays: number[] = [];
  return {
    delays,
    setTimeout: (fn, ms) => {
      delays.push(ms);
      queue.push({ id: next, fn });
      return next++;
    },
    clearTimeout: (h) => {
      const i = queue.findIndex((t) => t.id === h);
      if (i >= 0) queue.splice(i, 1);
    },
    fire: () => {
      for (const t of queue.splice(0)) t.fn();
    },
  };
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
};

describe('defects found by the adversarial catalogue', () => {
  it('setTargets reads each element once: a getter cannot hand the checks one target and the member another (ctor.targets / setTargets: array whose [0] flips)', () => {
    for (const make of [
      () => flippingArray([{ id: 'a' }, 'b'], 0, { id: 'a' }, { id: 'q' }),
      () => mutatingArray([{ id: 'a' }, 'b'], 1, 'b', 0, { id: 'zz' }),
    ]) {
      const lb = new WeightedRoundRobin(make() as Target[]);
      const ids = lb.targets().map((t) => targetId(t));
      expect(ids).toEqual(lb.stats().map((s) => s.id));
      const lb2 = new RoundRobin<Target>(['x']);
      lb2.setTargets(make() as Target[]);
      expect(lb2.targets().map((t) => targetId(t))).toEqual(lb2.stats().map((s) => s.id));
    }
  });

  it('an id that is a revoked proxy is rejected with ERR_INVALID_ID, not the TypeError of describing it (target { id: revoked proxy })', () => {
    expect(codeOf(() => new RoundRobin([{ id: revoked() }]))).toBe('ERR_INVALID_ID');
    expect(codeOf(() => new RoundRobin<Target>(['a']).add({ id: revoked() }))).toBe('ERR_INVALID_ID');
  });

  it('targetId rejects a value that is not a target with a coded error (HealthChecker: targets() returns hostile ids)', () => {
    for (const bad of [null, undefined, 5, true]) expect(codeOf(() => targetId(bad as never))).toBe('ERR_INVALID_TARGET');
    expect(codeOf(() => targetId({ id: 7 } as never))).toBe('ERR_INVALID_ID');
  });

  it('HealthChecker.checkNow rejects with a coded error when the balancer hands it no array (targets() returns null)', async () => {
    const balancer = { targets: () => null, reportHealth: () => undefined } as never;
    const hc = new HealthChecker(balancer, async () => true, { timers: manualTimers(), seed: 1 });
    expect(await rejectionCode(hc.checkNow())).toMatch(/^ERR_/);
  });

  it('Hcl.reportLoad, Hcl.signals and HealthChecker.checkNow never call a hostile id\'s toString (id unprintable)', async () => {
    const lb = new Hcl(['a', 'b']);
    expect(codeOf(() => lb.reportLoad(unprintable() as never, { rif: 1, latencyMs: 1 }))).toMatch(/^ERR_/);
    expect(codeOf(() => lb.signals(unprintable() as never))).toMatch(/^ERR_/);
    const hc = new HealthChecker(lb, async () => true, { timers: manualTimers(), seed: 1 });
    expect(await rejectionCode(hc.checkNow(unprintable() as never))).toMatch(/^ERR_/);
  });

  it('HealthChecker jitter never schedules a NaN delay, whatever the random source returns (random: NaN, jitter 1)', async () => {
    for (const random of [() => Number.NaN, () => undefined as unknown as number, () => -3, () => 9]) {
      const timers = manualTimers();
      const hc = new HealthChecker(new RoundRobin(['a']), async () => true, { timers, jitter: 1, random, intervalMs: 1_000 });
      hc.start();
      await settle();
      timers.fire();
      await settle();
      hc.stop();
      expect(timers.delays.filter((d) => !(d >= 0 && d <= 2_000))).toEqual([]);
    }
  });

  it('a HealthChecker random source that throws does not throw out of a timer callback (random: throws after 5 calls)', async () => {
    let n = 0;
    const random = (): number => {
      if (++n > 1) throw new Error('random broke');
      return 0.5;
    };
    const timers = manualTimers();
    const hc = new HealthChecker(new RoundRobin(['a']), async () => true, { timers, jitter: 1, random });
    hc.start();
    await settle();
    expect(() => timers.fire()).not.toThrow();
    hc.stop();
  });

  it('Hcl sizes its per-pick buffers by the candidates there are, not by the choices option (choices: 1e9 took seconds and gigabytes)', () => {
    const before = process.memoryUsage().arrayBuffers;
    const lb = new Hcl(['a', 'b', 'c'], { choices: 2 ** 31, seed: 1 });
    for (let i = 0; i < 10; i++) expect(['a', 'b', 'c']).toContain(lb.pick());
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 2 ** 20);
  });

  it('a throwing clearTimeout of the user\'s timers leaves no probe unfinished and no unhandled rejection (timers: clearTimeout throws)', async () => {
    const inner = manualTimers();
    const timers: HealthTimers = {
      setTimeout: inner.setTimeout,
      clearTimeout: () => {
        throw new Error('clearTimeout broke');
      },
    };
    const rejections: unknown[] = [];
    const onRejection = (r: unknown): void => void rejections.push(r);
    process.on('unhandledRejection', onRejection);
    try {
      const hc = new HealthChecker(new RoundRobin(['a', 'b']), async () => true, { timers, seed: 1 });
      let settled = false;
      void hc.checkNow().then(() => (settled = true));
      await settle();
      expect(settled).toBe(true);
    } finally {
      process.off('unhandledRejection', onRejection);
    }
    expect(rejections).toEqual([]);
  });
});
