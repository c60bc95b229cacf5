import { describe, expect, it } from 'vitest';
import { Hcl, InvalidOptionError, UnknownIdError, type HclLoadReport, type HealthTimers, type Lease, type Target } from '../../src/index.js';
import { drive, fakeClock, shareOf, type FakeClock } from '../support/latency-driver.js';

const ids = (xs: readonly Target[]) => xs.map((t) => (typeof t === 'string' ? t : t.id));

/** One request to `id` alone (every other target excluded): open, or released after `latencyMs`. */
function only<T extends Target>(lb: Hcl<T>, id: string): Lease<T> {
  return lb.acquire({ exclude: ids(lb.targets()).filter((x) => x !== id) });
}
function serve<T extends Target>(lb: Hcl<T>, id: string, latencyMs: number): void {
  only(lb, id).release({ ok: true, latencyMs });
}

/** Timers driven by the fake clock; `advance` runs what falls due and lets promises settle. */
function fakeTimers(clock: FakeClock) {
  const queue: { at: number; fn: () => void; id: number }[] = [];
  let next = 1;
  const timers: HealthTimers = {
    setTimeout: (fn, ms) => {
      const id = next++;
      queue.push({ at: clock.now() + ms, fn, id });
      return id;
    },
    clearTimeout: (handle) => {
      const i = queue.findIndex((q) => q.id === handle);
      if (i >= 0) queue.splice(i, 1);
    },
  };
  const flush = () => new Promise<void>((resolve) => setTimeout(resolve, 0));
  return {
    timers,
    pending: () => queue.length,
    flush,
    async advance(ms: number) {
      const end = clock.now() + ms;
      for (;;) {
        queue.sort((a, b) => a.at - b.at || a.id - b.id);
        const q = queue[0];
        if (q === undefined || q.at > end) break;
        queue.shift();
        clock.set(q.at);
        q.fn();
        await flush();
      }
      clock.set(end);
      await flush();
    },
  };
}

describe('Hcl: the hot-cold lexicographic rule', () => {
  it('picks the lowest-latency cold candidate; a hot one only when every candidate is hot, by fewest in flight', () => {
    const clock = fakeClock();
    const lb = new Hcl(['a', 'b', 'c', 'd'], { now: clock.now, choices: 4, seed: 1 });
    serve(lb, 'a', 5);
    serve(lb, 'b', 10);
    serve(lb, 'c', 20);
    serve(lb, 'd', 40);
    // Nothing in flight: nothing is hot, the fastest wins (and the history fills with zeros).
    for (let i = 0; i < 20; i++) expect(lb.pick()).toBe('a');
    // a holds 10 requests: above the 0.84 quantile of the loads seen (all 0), so hot.
    const held: Lease<string>[] = [];
    for (let i = 0; i < 10; i++) held.push(only(lb, 'a'));
    expect(lb.pick()).toBe('b');
    expect(lb.signals('a')).toMatchObject({ rif: 10, load: 10, latencyMs: 5, hot: true, reported: false });
    expect(lb.signals('b')).toMatchObject({ rif: 0, hot: false });
    // Everyone busy beyond the quantile of the mostly idle history: all hot, fewest in flight wins.
    for (const [id, k] of [['b', 3], ['c', 2], ['d', 1]] as const) for (let i = 0; i < k; i++) held.push(only(lb, id));
    expect(lb.pick()).toBe('d');
    // Once the history holds these loads (16 picks fill its 64 slots), only loads above its
    // 84th percentile are hot: none is, and the fastest wins again.
    for (let i = 0; i < 20; i++) lb.pick();
    expect(lb.signals('a').hot).toBe(false);
    expect(lb.pick()).toBe('a');
    for (const l of held) l.release({ ok: true, latencyMs: 1 });
  });

  it('a target without any latency is tried first among the cold ones', () => {
    const lb = new Hcl(['a', 'b', 'new'], { choices: 3, seed: 2 });
    serve(lb, 'a', 5);
    serve(lb, 'b', 10);
    expect(lb.signals('new').latencyMs).toBeUndefined();
    expect(lb.pick()).toBe('new');
  });

  it('divides in-flight counts by weight', () => {
    const clock = fakeClock();
    const lb = new Hcl([{ id: 'big', weight: 4 }, { id: 'small', weight: 1 }], { now: clock.now, seed: 3 });
    serve(lb, 'big', 10);
    serve(lb, 'small', 10);
    const open = Array.from({ length: 4 }, () => only(lb, 'big'));
    expect(lb.signals('big')).toMatchObject({ rif: 4, load: 1 });
    open.push(only(lb, 'small'));
    expect(lb.signals('small')).toMatchObject({ rif: 1, load: 1 });
    for (const l of open) l.release('success');
  });

  it('the quantile is a parameter: quantile 0 makes every load above the minimum hot', () => {
    const lb = new Hcl(['a', 'b', 'c'], { choices: 3, quantile: 0, seed: 4 });
    serve(lb, 'a', 1);
    serve(lb, 'b', 50);
    serve(lb, 'c', 100);
    const hold = only(lb, 'a');
    // a: load 1 > min 0, hot; b and c cold: b is faster.
    expect(lb.pick()).toBe('b');
    hold.release('success');
  });
});

describe('Hcl: load reports and probes', () => {
  it('reportLoad: the reported RIF, moved by this client’s own leases since, and its latency, until maxReportAgeMs', () => {
    const clock = fakeClock();
    const lb = new Hcl(['a', 'b'], { now: clock.now, maxReportAgeMs: 500, seed: 5 });
    serve(lb, 'a', 30);
    const mine = only(lb, 'a');
    lb.reportLoad('a', { rif: 50, latencyMs: 7 }); // 50 including this client's 1
    expect(lb.signals('a')).toMatchObject({ rif: 50, latencyMs: 7, reported: true });
    const second = only(lb, 'a');
    expect(lb.signals('a').rif).toBe(51);
    mine.release('success');
    second.release('success');
    expect(lb.signals('a').rif).toBe(49);
    clock.advance(501);
    expect(lb.signals('a')).toMatchObject({ rif: 0, reported: false });
    expect(lb.signals('a').latencyMs).toBeGreaterThan(0);
    // A report below this client's own count never makes the RIF smaller than what it holds.
    const held = [only(lb, 'b'), only(lb, 'b')];
    lb.reportLoad('b', { rif: 0, latencyMs: 1 });
    expect(lb.signals('b').rif).toBe(2);
    for (const l of held) l.release('success');
    expect(() => lb.reportLoad('zz', { rif: 1, latencyMs: 1 })).toThrow(UnknownIdError);
    for (const bad of [{ rif: -1, latencyMs: 1 }, { rif: 1, latencyMs: Number.NaN }, { rif: 1 }, null]) {
      expect(() => lb.reportLoad('a', bad as HclLoadReport)).toThrow(InvalidOptionError);
    }
  });

  it('probes every target on an interval, off the pick path; answers feed the rule', async () => {
    const clock = fakeClock();
    const t = fakeTimers(clock);
    const calls: string[] = [];
    const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    const load: Record<string, HclLoadReport> = Object.fromEntries(names.map((id) => [id, { rif: 0, latencyMs: 20 }]));
    load.a = { rif: 40, latencyMs: 1 };
    load.b = { rif: 0, latencyMs: 9 };
    load.c = { rif: 0, latencyMs: 3 };
    const lb = new Hcl(names, {
      now: clock.now,
      timers: t.timers,
      choices: 7,
      probeIntervalMs: 1_000,
      probe: async (target) => {
        calls.push(target);
        return load[target]!;
      },
    });
    expect(lb.probing).toBe(false);
    lb.startProbing();
    expect(lb.probing).toBe(true);
    lb.startProbing(); // idempotent
    await t.flush();
    expect([...calls].sort()).toEqual(names);
    expect(lb.signals('a')).toMatchObject({ rif: 40, latencyMs: 1, reported: true });
    // a is the fastest but its 40 requests in flight are above the 84th percentile (1 in 7 loads).
    for (let i = 0; i < 5; i++) expect(lb.pick()).toBe('c');
    expect(lb.signals('a').hot).toBe(true);
    load.c = { rif: 40, latencyMs: 3 };
    await t.advance(1_000);
    expect(calls).toHaveLength(14);
    expect(lb.signals('c').rif).toBe(40);
    expect(lb.pick()).toBe('b');
    lb.stopProbing();
    expect(lb.probing).toBe(false);
    expect(t.pending()).toBe(0);
    await t.advance(5_000);
    expect(calls).toHaveLength(14);
    // Reports age out (default 3 × probeIntervalMs) once probing stops.
    expect(lb.signals('a').reported).toBe(false);
  });

  it('ignores failed, malformed and late probes, aborts on time-out, stop and removal', async () => {
    const clock = fakeClock();
    const t = fakeTimers(clock);
    const signals: Record<string, AbortSignal> = {};
    const lb = new Hcl<string>(['hang', 'bad', 'throws', 'ok'], {
      now: clock.now,
      timers: t.timers,
      probeIntervalMs: 1_000,
      probeTimeoutMs: 5_000, // longer than the interval: a slow target skips rounds
      probe: (target, signal) => {
        signals[target] = signal as AbortSignal;
        if (target === 'hang') return new Promise(() => {});
        if (target === 'bad') return Promise.resolve({ rif: 'many' } as unknown as HclLoadReport);
        if (target === 'throws') throw new Error('no');
        return Promise.resolve({ rif: 3, latencyMs: 2 });
      },
    });
    const now = lb.probeNow();
    await t.advance(5_000); // the hanging probe times out
    await now;
    expect(lb.signals('ok')).toMatchObject({ rif: 3, reported: true });
    for (const id of ['bad', 'throws']) expect(lb.signals(id).reported).toBe(false);
    // probeNow resolved only once the hanging probe timed out.
    expect(signals.hang!.aborted).toBe(true);
    expect((signals.hang!.reason as Error).name).toBe('TimeoutError');
    expect(lb.signals('hang').reported).toBe(false);
    lb.startProbing();
    await t.flush();
    const inFlight = signals.hang!;
    expect(inFlight.aborted).toBe(false);
    lb.remove('hang');
    await t.advance(1_000); // the next round drops the removed target's probe
    expect(inFlight.aborted).toBe(true);
    expect((inFlight.reason as Error).name).toBe('AbortError');
    lb.add('hang');
    await t.flush();
    await t.advance(1_000);
    const again = signals.hang!;
    lb.stopProbing();
    expect(again.aborted).toBe(true);
    expect(t.pending()).toBe(0);
  });

  it('rejects bad options, and probing without a probe', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ choices: 1 }, 'choices'],
      [{ quantile: 1.5 }, 'quantile'],
      [{ quantile: -0.1 }, 'quantile'],
      [{ probe: 'yes' }, 'probe'],
      [{ probeIntervalMs: 100 }, 'probeIntervalMs'],
      [{ probe: async () => ({ rif: 0, latencyMs: 0 }), probeIntervalMs: 0 }, 'probeIntervalMs'],
      [{ probe: async () => ({ rif: 0, latencyMs: 0 }), probeTimeoutMs: -1 }, 'probeTimeoutMs'],
      [{ probe: async () => ({ rif: 0, latencyMs: 0 }), timers: {} }, 'timers'],
      [{ maxReportAgeMs: 0 }, 'maxReportAgeMs'],
    ];
    for (const [options, name] of cases) {
      let caught: unknown;
      try {
        new Hcl(['a'], options as never);
      } catch (err) {
        caught = err;
      }
      expect(caught, name).toBeInstanceOf(InvalidOptionError);
      expect((caught as InvalidOptionError).option).toBe(name);
    }
    const lb = new Hcl(['a']);
    expect(() => lb.startProbing()).toThrow(InvalidOptionError);
    await expect(lb.probeNow()).rejects.toBeInstanceOf(InvalidOptionError);
    expect(() => lb.signals('zz')).toThrow(UnknownIdError);
  });
});

describe('Hcl: a target that becomes 10× slower', () => {
  const n = 10;
  const targets = Array.from({ length: n }, (_, i) => `s${i}`);
  const latency = (id: string, at: number) => (id === 's0' && at >= 5_000 && at < 10_000 ? 100 : 10);

  it('loses its share at once', () => {
    const clock = fakeClock();
    const lb = new Hcl(targets, { now: clock.now, seed: 6 });
    const picks = drive({ lb, clock, clients: 20, until: 10_000, latency });
    expect(shareOf(picks, 's0', 0, 5_000)).toBeGreaterThan(0.5 / n);
    expect(shareOf(picks, 's0', 5_200, 10_000)).toBeLessThan(0.1 / n);
  });

  it('with load reports (probes) it regains traffic as soon as the reports say it is fast again', () => {
    const clock = fakeClock();
    const lb = new Hcl(targets, { now: clock.now, seed: 6, maxReportAgeMs: 300 });
    let nextReport = 0;
    const picks = drive({
      lb,
      clock,
      clients: 20,
      until: 13_000,
      latency: (id, at) => {
        if (at >= nextReport) {
          nextReport = at + 100;
          // A probe round: every target's RIF (this client is the only one) and current latency.
          for (const s of lb.stats()) lb.reportLoad(s.id, { rif: s.active, latencyMs: latency(s.id, at) });
        }
        return latency(id, at);
      },
    });
    expect(shareOf(picks, 's0', 5_200, 10_000)).toBeLessThan(0.1 / n);
    expect(shareOf(picks, 's0', 10_500, 13_000)).toBeGreaterThan(0.5 / n);
  });
});
