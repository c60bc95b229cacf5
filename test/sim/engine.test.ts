import { describe, expect, it } from 'vitest';
import {
  ConsistentHash,
  LeastConnections,
  PeakEwma,
  PowerOfTwoChoices,
  RoundRobin,
  type Balancer,
  type Lease,
  type Outcome,
  type PickRequest,
} from '../../src/index.js';
import {
  bimodal,
  constant,
  empirical,
  exponential,
  formatTable,
  jsqOracle,
  logNormal,
  renderCdfSvg,
  runScenario,
  simulate,
  validateScenario,
  type Algorithm,
  type AlgorithmResult,
  type ArrivalSpec,
  type BalancerFactory,
  type Scenario,
  type ScenarioDefinition,
  type SimTarget,
} from '../../src/sim/index.js';

const algorithms: Algorithm[] = [
  { name: 'RoundRobin', create: (t, o) => new RoundRobin(t, o) },
  { name: 'LeastConnections', create: (t, o) => new LeastConnections(t, o) },
  { name: 'PowerOfTwoChoices', create: (t, o) => new PowerOfTwoChoices(t, o) },
  { name: 'PeakEwma', create: (t, o) => new PeakEwma(t, o) },
  { name: 'ConsistentHash(1.25)', create: (t, o) => new ConsistentHash(t, { ...o, loadFactor: 1.25 }) },
  // Targets that are copies (found by id) with a lease cap: all busy means NoTargetError.
  { name: 'capped', create: (t, o) => new LeastConnections(t.map((x) => ({ ...x, maxActive: 1 })), o) },
  jsqOracle,
];

/** Every feature at once, small enough to run in a few ms per algorithm. */
const rich: ScenarioDefinition = {
  name: 'rich',
  description: 'every feature at once',
  servers: [
    { workers: 2, service: exponential(10) },
    { workers: 2, service: logNormal(8, 0.8), errorRate: 0.05 },
    { workers: 1, service: bimodal(2, 40, 0.2), queueLimit: 3 },
    { workers: 3, service: empirical([5, 6, 7, 30]), down: [{ fromMs: 1000, toMs: 1600 }] },
    { id: 'slowish', workers: 2, service: constant(9), weight: 2, speedSchedule: [{ atMs: 800, speed: 0.2 }, { atMs: 2000, speed: 1.5 }] },
  ],
  arrivals: [
    { type: 'poisson', rps: 300 },
    { type: 'schedule', steps: [{ atMs: 0, rps: 100 }, { atMs: 1500, rps: 400 }, { atMs: 2500, rps: 0 }] },
    { type: 'bursts', everyMs: 700, size: 40, spreadMs: 5 },
    { type: 'clients', clients: 20, thinkMs: exponential(30) },
  ],
  proxies: 3,
  proxySelection: 'round-robin',
  keys: { type: 'zipf', count: 50, exponent: 1 },
  durationMs: 3000,
  warmupMs: 300,
  timelineMs: 100,
  seed: 42,
  watch: { server: 4, slowAtMs: 800, recoverAtMs: 2000 },
  algorithms,
};

function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

function expectConserved(r: AlgorithmResult): void {
  expect(r.issued, r.algorithm).toBe(r.completed + r.errors);
  expect(r.errors).toBe(r.errorsBy.failed + r.errorsBy.rejected + r.errorsBy.down + r.errorsBy.unroutable);
  expect(sum(r.servers.map((s) => s.requests))).toBe(r.issued - r.errorsBy.unroutable);
  expect(sum(r.servers.map((s) => s.completed))).toBe(r.completed);
  expect(sum(r.servers.map((s) => s.errors))).toBe(r.errors - r.errorsBy.unroutable);
  expect(Math.abs(sum(r.servers.map((s) => s.share)) - 1)).toBeLessThan(1e-12);
  expect(r.latency.count).toBe(r.completed);
  expect(r.openLeasesAtEnd).toBe(0);
}

describe('sim/engine: determinism', () => {
  it('the same seed gives byte-identical results, table and chart', () => {
    const a = runScenario(rich);
    const b = runScenario(rich);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(formatTable(b)).toBe(formatTable(a));
    expect(renderCdfSvg(b)).toBe(renderCdfSvg(a));
    expect(renderCdfSvg(b, { yScale: 'nines' })).toBe(renderCdfSvg(a, { yScale: 'nines' }));
  });

  it('another seed gives other results; every algorithm sees the same open-loop arrivals', () => {
    const openLoop: ScenarioDefinition = { ...rich, arrivals: (rich.arrivals as readonly ArrivalSpec[]).slice(0, 3) };
    const a = runScenario(openLoop);
    const c = runScenario(openLoop, { seed: 43 });
    expect(JSON.stringify(c)).not.toBe(JSON.stringify(a));
    for (const r of a.results) expect(r.issued).toBe(a.results[0]!.issued);
  });
});

describe('sim/engine: conservation', () => {
  const result = runScenario(rich);

  it('every request completes or errors exactly once; shares add up to 1; no lease stays open', () => {
    for (const r of result.results) expectConserved(r);
  });

  it('exercises every error cause', () => {
    const all = (k: keyof AlgorithmResult['errorsBy']): number => sum(result.results.map((r) => r.errorsBy[k]));
    expect(all('failed')).toBeGreaterThan(0);
    expect(all('rejected')).toBeGreaterThan(0);
    expect(all('down')).toBeGreaterThan(0);
    expect(result.results.find((r) => r.algorithm === 'capped')!.errorsBy.unroutable).toBeGreaterThan(0);
  });

  it('each lease is released exactly once, with the simulated latency', () => {
    let acquired = 0;
    let released = 0;
    let doubles = 0;
    const latencies: number[] = [];
    const counting =
      (inner: BalancerFactory): BalancerFactory =>
      (targets, options, context) => {
        const b = inner(targets, options, context);
        const wrapped: Balancer<SimTarget> = Object.create(b) as Balancer<SimTarget>;
        wrapped.acquire = (input?: string | PickRequest): Lease<SimTarget> => {
          const lease = b.acquire(input);
          acquired++;
          let times = 0;
          return {
            target: lease.target,
            release(outcome?: Outcome): boolean {
              if (++times > 1) doubles++;
              released++;
              if (typeof outcome === 'object' && outcome.ok && outcome.latencyMs !== undefined) latencies.push(outcome.latencyMs);
              return lease.release(outcome);
            },
          };
        };
        return wrapped;
      };
    const r = simulate({ ...rich, warmupMs: 0 }, { name: 'P2C', create: counting((t, o) => new PowerOfTwoChoices(t, o)) });
    expectConserved(r);
    expect(acquired).toBe(r.issued - r.errorsBy.unroutable);
    expect(released).toBe(acquired);
    expect(doubles).toBe(0);
    // Successful releases carry exactly the latencies the result reports.
    expect(latencies.length).toBe(r.completed);
    expect(sum(latencies) / latencies.length).toBeCloseTo(r.latency.mean, 9);
    expect(Math.max(...latencies)).toBe(r.latency.max);
  });

  it('the timeline counts every routed request by arrival bucket', () => {
    for (const r of result.results) {
      const total = sum(r.timeline!.counts.map((row) => sum(row)));
      expect(total).toBeGreaterThanOrEqual(r.issued - r.errorsBy.unroutable);
      expect(r.timeline!.counts.length).toBe(30);
      expect(r.reaction).toBeDefined();
    }
  });
});

/** One server, requests at the given times, nothing else. */
function single(server: Scenario['servers'][number], times: readonly number[], durationMs: number): Scenario {
  return {
    name: 'single',
    servers: [server],
    arrivals: times.map((t) => ({ type: 'bursts' as const, everyMs: 1e9, size: 1, startMs: t })),
    durationMs,
  };
}

const rr: Algorithm = { name: 'RoundRobin', create: (t, o) => new RoundRobin(t, o) };

describe('sim/engine: servers', () => {
  it('a speed change stretches the work left on a request in service', () => {
    // 10 ms of work from t = 0; at t = 5 the server drops to half speed: 5 ms of work left takes 10 ms.
    const r = simulate(single({ service: constant(10), speedSchedule: [{ atMs: 5, speed: 0.5 }] }, [0], 1), rr);
    expect(r.latency.max).toBe(15);
  });

  it('queues FIFO behind busy workers and reports queueing time', () => {
    const r = simulate(single({ workers: 1, service: constant(10) }, [0, 0, 0], 1), rr);
    expect(r.completed).toBe(3);
    expect(r.cdf.at(-1)![1]).toBe(30);
    expect(r.queueing.max).toBe(20);
    expect(r.queueing.mean).toBe(10);
    expect(r.servers[0]!.maxInFlight).toBe(3);
    expect(r.servers[0]!.utilisation).toBe(1);
  });

  it('rejects requests beyond the queue limit', () => {
    const r = simulate(single({ workers: 1, queueLimit: 1, service: constant(10) }, [0, 0, 0, 0], 1), rr);
    expect(r.completed).toBe(2);
    expect(r.errorsBy.rejected).toBe(2);
  });

  it('going down fails what is in service and queued; arrivals fail until it is back up', () => {
    const r = simulate(single({ workers: 1, service: constant(10), down: [{ fromMs: 5, toMs: 20 }] }, [0, 1, 10, 25], 30), rr);
    expect(r.errorsBy.down).toBe(3);
    expect(r.completed).toBe(1);
    expect(r.latency.max).toBe(10);
  });

  it('fails served requests at the error rate, and the balancer hears about it', () => {
    let balancer: Balancer<SimTarget> | undefined;
    const r = simulate(single({ workers: 1, service: constant(1), errorRate: 1 }, [0, 1, 2], 5), {
      name: 'rr',
      create: (t, o) => (balancer = new RoundRobin(t, o)),
    });
    expect(r.errorsBy.failed).toBe(3);
    expect(balancer!.stats()[0]!.failures).toBe(3);
  });

  it('rejects invalid scenarios by field name', () => {
    const ok: Scenario = single({ service: constant(1) }, [0], 1);
    expect(() => validateScenario({ ...ok, durationMs: 0 })).toThrow(/durationMs/);
    expect(() => validateScenario({ ...ok, servers: [{ service: constant(1), workers: 0 }] })).toThrow(/servers\[0\]\.workers/);
    expect(() => validateScenario({ ...ok, servers: [{ service: constant(1), speed: 0 }] })).toThrow(/servers\[0\]\.speed/);
    expect(() => validateScenario({ ...ok, servers: [{ service: constant(1), id: 'x' }, { service: constant(1), id: 'x' }] })).toThrow(/servers\[1\]\.id/);
    expect(() => validateScenario({ ...ok, arrivals: { type: 'poisson', rps: -1 } })).toThrow(/arrivals\.rps/);
    expect(() => validateScenario({ ...ok, keys: { type: 'zipf', count: 0, exponent: 1 } })).toThrow(/keys\.count/);
  });
});

describe('sim/engine: queueing theory', () => {
  it('M/M/1 at ρ = 0.5: mean response time 1/(μ - λ) = 20 ms, within 4 standard errors over replications', () => {
    // One exponential server (mean 10 ms), Poisson arrivals at 50/s. Response times in M/M/1 are
    // exponential with mean 1/(μ - λ); successive ones are correlated, so the standard error
    // comes from independent replications rather than from the raw sample count.
    const means: number[] = [];
    const medians: number[] = [];
    let utilisation = 0;
    const K = 10;
    for (let k = 0; k < K; k++) {
      const r = simulate(
        { name: 'mm1', servers: [{ service: exponential(10) }], arrivals: { type: 'poisson', rps: 50 }, durationMs: 200_000, warmupMs: 1_000 },
        rr,
        { seed: 1000 + k },
      );
      means.push(r.latency.mean);
      medians.push(r.latency.p50);
      utilisation += r.servers[0]!.utilisation / K;
    }
    const mean = sum(means) / K;
    const sd = Math.sqrt(sum(means.map((m) => (m - mean) ** 2)) / (K - 1));
    const se = sd / Math.sqrt(K);
    expect(se).toBeLessThan(0.5); // the tolerance itself is tight: ~1 % of the mean per se
    expect(Math.abs(mean - 20)).toBeLessThan(4 * se);
    // Median of an exponential with mean 20: 20 ln 2.
    expect(Math.abs(sum(medians) / K - 20 * Math.LN2)).toBeLessThan(0.5);
    expect(Math.abs(utilisation - 0.5)).toBeLessThan(0.01);
  });

  it("closed loop: Little's law N = X (R + Z)", () => {
    const N = 40;
    const Z = 50;
    const r = simulate(
      {
        name: 'closed',
        servers: [
          { workers: 2, service: exponential(10) },
          { workers: 2, service: exponential(10) },
        ],
        arrivals: { type: 'clients', clients: N, thinkMs: exponential(Z) },
        durationMs: 60_000,
        warmupMs: 2_000,
      },
      { name: 'LeastConnections', create: (t, o) => new LeastConnections(t, o) },
    );
    const throughputPerMs = r.completed / (60_000 - 2_000);
    expect(Math.abs(throughputPerMs * (r.latency.mean + Z) - N) / N).toBeLessThan(0.03);
  });
});
