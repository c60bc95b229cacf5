import type { Balancer } from '../types.js';
import type { Distribution } from './distributions.js';

/**
 * What the simulator hands a balancer as its targets: one per server, in the scenario's order.
 * Balancers return this very object from `acquire`, which is how the simulator finds the server.
 *
 * @example
 * ```ts
 * import type { SimTarget } from 'loadwise/sim';
 * const t: SimTarget = { id: 's01', index: 0 };
 * ```
 */
export interface SimTarget {
  readonly id: string;
  /** The server's `weight`, when the scenario sets one (weighted algorithms route on it). */
  readonly weight?: number | undefined;
  /** The server's position in `Scenario.servers`. */
  readonly index: number;
}

/**
 * The only options a factory must pass on to the balancer: the simulator's clock (balancers must
 * read time through it, never from the wall) and a seed derived from the run's seed.
 *
 * @example
 * ```ts
 * import { RoundRobin } from 'loadwise';
 * import type { BalancerFactory } from 'loadwise/sim';
 * const create: BalancerFactory = (targets, { now, seed }) => new RoundRobin(targets, { now, seed });
 * ```
 */
export interface SimBalancerOptions {
  readonly now: () => number;
  readonly seed: number;
}

/**
 * What the simulator knows about its servers, for reference balancers with global knowledge
 * (the join-shortest-queue oracle). Real balancers ignore it.
 *
 * @example
 * ```ts
 * import type { ClusterView } from 'loadwise/sim';
 * const load = (view: ClusterView, i: number) => view.inSystem(i) / view.workers(i);
 * ```
 */
export interface ClusterView {
  /** Number of servers. */
  readonly size: number;
  /** Requests at server `index` right now, queued plus in service, from every proxy. */
  inSystem(index: number): number;
  /** Requests waiting in server `index`'s queue. */
  queued(index: number): number;
  /** Server `index`'s concurrency. */
  workers(index: number): number;
  /** Whether server `index` is inside one of its down intervals. */
  isDown(index: number): boolean;
}

/**
 * Extra context for a factory: which proxy the balancer is, and a {@link ClusterView}.
 *
 * @example
 * ```ts
 * import type { SimContext } from 'loadwise/sim';
 * const describe = (c: SimContext) => `proxy ${c.proxy + 1} of ${c.proxies}`;
 * ```
 */
export interface SimContext {
  /** This balancer's proxy number, from 0. */
  readonly proxy: number;
  /** How many proxies (independent balancers) share the servers. */
  readonly proxies: number;
  readonly view: ClusterView;
}

/**
 * Builds one balancer instance ("proxy") over the simulated servers. Pass `options` through to
 * the balancer unchanged (add your own options next to them): the simulator owns the clock.
 *
 * @example
 * ```ts
 * import { PowerOfTwoChoices } from 'loadwise';
 * import type { BalancerFactory } from 'loadwise/sim';
 * const p2c: BalancerFactory = (targets, options) => new PowerOfTwoChoices(targets, options);
 * const p3c: BalancerFactory = (targets, options) => new PowerOfTwoChoices(targets, { ...options, choices: 3 });
 * ```
 */
export type BalancerFactory = (
  targets: readonly SimTarget[],
  options: SimBalancerOptions,
  context: SimContext,
) => Balancer<SimTarget>;

/**
 * A named algorithm to simulate. `reference` marks a yardstick (the oracle), drawn dashed.
 *
 * @example
 * ```ts
 * import { LeastConnections } from 'loadwise';
 * import type { Algorithm } from 'loadwise/sim';
 * const lc: Algorithm = { name: 'LeastConnections', create: (t, o) => new LeastConnections(t, o) };
 * ```
 */
export interface Algorithm {
  readonly name: string;
  readonly create: BalancerFactory;
  readonly reference?: boolean | undefined;
}

/**
 * From `atMs` on, the server runs at `speed` × its base speed (until the next change).
 *
 * @example
 * ```ts
 * // 10× slower from 10 s to 40 s
 * const schedule = [{ atMs: 10_000, speed: 0.1 }, { atMs: 40_000, speed: 1 }];
 * ```
 */
export interface SpeedChange {
  readonly atMs: number;
  /** Multiplier of the base speed, > 0. */
  readonly speed: number;
}

/**
 * A period in which the server is down: requests in service and in its queue fail when it goes
 * down, and requests routed to it fail at once until it comes back.
 *
 * @example
 * ```ts
 * const down = [{ fromMs: 5_000, toMs: 8_000 }];
 * ```
 */
export interface DownInterval {
  readonly fromMs: number;
  readonly toMs: number;
}

/**
 * One simulated server: `workers` requests in service at once, the rest waiting in a FIFO queue.
 * A request's service time is a draw from `service` divided by the current speed; a speed change
 * also stretches or shrinks the work left on requests already in service.
 *
 * @example
 * ```ts
 * import { exponential, type ServerSpec } from 'loadwise/sim';
 * const slow: ServerSpec = { workers: 4, service: exponential(10), speed: 1 / 3 };
 * const flaky: ServerSpec = { workers: 4, service: exponential(10), errorRate: 0.01, queueLimit: 64 };
 * ```
 */
export interface ServerSpec {
  /** Default `s01`, `s02`, … by position. */
  readonly id?: string | undefined;
  /** Handed to the balancers as the target's weight. */
  readonly weight?: number | undefined;
  /** Concurrency, an integer >= 1; default 1. */
  readonly workers?: number | undefined;
  /** Longest queue; a request arriving to a full queue fails at once. Default unlimited. */
  readonly queueLimit?: number | undefined;
  /** Service time at speed 1, in ms. */
  readonly service: Distribution;
  /** Base speed factor, > 0; 0.5 means every request takes twice as long. Default 1. */
  readonly speed?: number | undefined;
  /** Changes of speed over time, applied on top of `speed`. */
  readonly speedSchedule?: readonly SpeedChange[] | undefined;
  /** Probability that a served request fails (released with `ok: false`); default 0. */
  readonly errorRate?: number | undefined;
  readonly down?: readonly DownInterval[] | undefined;
}

/**
 * A source of requests. Open-loop sources (`poisson`, `schedule`, `bursts`) send whatever the
 * servers do; closed-loop `clients` each wait for their response, then think, then send again.
 * Several sources add up. Rates are per second of simulated time; times are ms.
 *
 * @example
 * ```ts
 * import { exponential, type ArrivalSpec } from 'loadwise/sim';
 * const steady: ArrivalSpec = { type: 'poisson', rps: 5000 };
 * const ramp: ArrivalSpec = { type: 'schedule', steps: [{ atMs: 0, rps: 1000 }, { atMs: 5000, rps: 4000 }] };
 * const spikes: ArrivalSpec = { type: 'bursts', everyMs: 1000, size: 200, spreadMs: 10 };
 * const users: ArrivalSpec = { type: 'clients', clients: 100, thinkMs: exponential(50) };
 * ```
 */
export type ArrivalSpec =
  | {
      readonly type: 'poisson';
      readonly rps: number;
      /** Default 0. */
      readonly fromMs?: number | undefined;
      /** Default: the scenario's end. */
      readonly toMs?: number | undefined;
    }
  | {
      /** A Poisson process whose rate is piecewise constant: `rps` from each `atMs` on (0 before the first). */
      readonly type: 'schedule';
      readonly steps: readonly { readonly atMs: number; readonly rps: number }[];
    }
  | {
      /** `size` requests every `everyMs`, evenly spread over `spreadMs` (default 0: all at once). */
      readonly type: 'bursts';
      readonly everyMs: number;
      readonly size: number;
      /** First burst, default `everyMs`. */
      readonly startMs?: number | undefined;
      readonly spreadMs?: number | undefined;
    }
  | {
      /** `clients` closed-loop clients: send, wait for the response (or error), think, repeat. */
      readonly type: 'clients';
      readonly clients: number;
      readonly thinkMs: Distribution;
    };

/**
 * Routing keys for the hash family: each request carries `key-<rank>`, with ranks drawn from a
 * Zipf law (rank k has probability ∝ 1/k^exponent: hot keys) or uniformly.
 *
 * @example
 * ```ts
 * import type { KeySpec } from 'loadwise/sim';
 * const hot: KeySpec = { type: 'zipf', count: 10_000, exponent: 1 };
 * ```
 */
export type KeySpec =
  | { readonly type: 'zipf'; readonly count: number; readonly exponent: number }
  | { readonly type: 'uniform'; readonly count: number };

/**
 * Everything about a simulated workload except the algorithm.
 *
 * @example
 * ```ts
 * import { cluster, exponential, type Scenario } from 'loadwise/sim';
 * const scenario: Scenario = {
 *   name: 'small',
 *   servers: cluster(4, { workers: 2, service: exponential(10) }),
 *   arrivals: { type: 'poisson', rps: 600 },
 *   durationMs: 10_000,
 *   warmupMs: 1_000,
 * };
 * ```
 */
export interface Scenario {
  readonly name: string;
  readonly description?: string | undefined;
  readonly servers: readonly ServerSpec[];
  readonly arrivals: ArrivalSpec | readonly ArrivalSpec[];
  /** Arrivals stop here; the run then drains every request in the system. */
  readonly durationMs: number;
  /** Requests arriving before this are served but left out of every statistic. Default 0. */
  readonly warmupMs?: number | undefined;
  /** Independent balancer instances sharing the servers (N proxies, one cluster). Default 1. */
  readonly proxies?: number | undefined;
  /** How a request picks its proxy. Default `'random'` (uniform). */
  readonly proxySelection?: 'random' | 'round-robin' | undefined;
  readonly keys?: KeySpec | undefined;
  /** Default 1. */
  readonly seed?: number | undefined;
  /** When set, record requests routed to each server per bucket of this many ms. */
  readonly timelineMs?: number | undefined;
}

/**
 * The server and the slowdown a scenario wants measured: how long an algorithm takes to cut the
 * server's share below `1 / (2n)` after `slowAtMs`, and to give it a fair share again after
 * `recoverAtMs`.
 *
 * @example
 * ```ts
 * import type { Watch } from 'loadwise/sim';
 * const watch: Watch = { server: 0, slowAtMs: 10_000, recoverAtMs: 40_000 };
 * ```
 */
export interface Watch {
  readonly server: number;
  readonly slowAtMs: number;
  readonly recoverAtMs: number;
  /** Window over which the share counts as cut, default 100 ms (rounded to whole timeline buckets). */
  readonly cutWindowMs?: number | undefined;
  /** Window over which the share counts as fair again, default 1000 ms (longer: less noise). */
  readonly fairWindowMs?: number | undefined;
}

/**
 * A scenario plus the algorithms to compare on it.
 *
 * @example
 * ```ts
 * import { RoundRobin } from 'loadwise';
 * import { jsqOracle, scenarios, type ScenarioDefinition } from 'loadwise/sim';
 * const mine: ScenarioDefinition = {
 *   ...scenarios['slow-server'],
 *   algorithms: [{ name: 'RoundRobin', create: (t, o) => new RoundRobin(t, o) }, jsqOracle],
 * };
 * ```
 */
export interface ScenarioDefinition extends Scenario {
  readonly algorithms: readonly Algorithm[];
  readonly watch?: Watch | undefined;
  /** What to look for in the results, printed under the table. */
  readonly notes?: readonly string[] | undefined;
}

/**
 * Latency statistics in ms (nearest-rank percentiles).
 *
 * @example
 * ```ts
 * const { p50, p99, p999 } = result.latency;
 * ```
 */
export interface LatencySummary {
  readonly count: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

/**
 * One server's figures for one algorithm (requests arriving after the warm-up).
 *
 * @example
 * ```ts
 * for (const s of result.servers) console.log(s.id, (100 * s.share).toFixed(1) + ' %');
 * ```
 */
export interface ServerResult {
  readonly id: string;
  /** Fraction of the routed requests sent here; the shares add up to 1. */
  readonly share: number;
  readonly requests: number;
  readonly completed: number;
  readonly errors: number;
  /** Most requests at this server at once (queued + in service), over the whole run. */
  readonly maxInFlight: number;
  /** Requests at this server when arrivals stopped: a queue that grew without bound shows here. */
  readonly backlogAtEnd: number;
  /** Busy worker time / (workers × run length). */
  readonly utilisation: number;
}

/**
 * Errors by cause.
 *
 * @example
 * ```ts
 * const { failed, rejected, down, unroutable } = result.errorsBy;
 * ```
 */
export interface ErrorCounts {
  /** Served, but failed (`errorRate`). */
  readonly failed: number;
  /** The server's queue was full. */
  readonly rejected: number;
  /** The server was down. */
  readonly down: number;
  /** The balancer had no target (`NoTargetError`). */
  readonly unroutable: number;
}

/**
 * The reaction of an algorithm to a {@link Watch}ed slowdown, in ms of simulated time (`null`:
 * never happened). Shares are measured over sliding windows that start on timeline buckets.
 *
 * @example
 * ```ts
 * if (r.cutMs !== null) console.log(`share below 1/2n after ${r.cutMs} ms`);
 * ```
 */
export interface Reaction {
  readonly server: number;
  /** Window for the cut, in ms. */
  readonly cutWindowMs: number;
  /** Window for the return to a fair share, in ms. */
  readonly fairWindowMs: number;
  /** 1 / (2n). */
  readonly cutThreshold: number;
  /** From the slowdown to the end of the first window in which the share is below 1/(2n). */
  readonly cutMs: number | null;
  /** Same, but the share then stays below 1/(2n) in every window until the recovery. */
  readonly cutSustainedMs: number | null;
  /** The share at or above which it counts as fair again: 0.8 / n. */
  readonly fairThreshold: number;
  /** From the recovery to the end of the first window with a fair share. */
  readonly fairMs: number | null;
  /** Same, but fair in every later window until arrivals stop. */
  readonly fairSustainedMs: number | null;
  /** The server's share over the whole slow period. */
  readonly slowShare: number;
}

/**
 * Requests routed to each server per time bucket (by arrival time, warm-up included).
 *
 * @example
 * ```ts
 * const shareOfFirst = timeline.counts.map((row) => row[0]! / row.reduce((a, b) => a + b, 0));
 * ```
 */
export interface Timeline {
  readonly bucketMs: number;
  /** `counts[bucket][server]`. */
  readonly counts: readonly (readonly number[])[];
}

/**
 * The outcome of simulating one algorithm on one scenario. Counts cover requests arriving after
 * the warm-up; every one of them either completed or errored (`issued === completed + errors`).
 *
 * @example
 * ```ts
 * import { simulate, scenarios, jsqOracle } from 'loadwise/sim';
 * const r = simulate(scenarios.homogeneous, jsqOracle);
 * console.log(r.latency.p99, r.servers.map((s) => s.share));
 * ```
 */
export interface AlgorithmResult {
  readonly algorithm: string;
  readonly reference: boolean;
  readonly issued: number;
  readonly completed: number;
  readonly errors: number;
  readonly errorsBy: ErrorCounts;
  /** Response times of completed requests (queueing + service), in ms. */
  readonly latency: LatencySummary;
  /** Time spent waiting in a server's queue, over every request that reached a worker. */
  readonly queueing: { readonly mean: number; readonly p99: number; readonly max: number };
  readonly servers: readonly ServerResult[];
  /** Requests in the system when arrivals stopped (sum over servers). */
  readonly backlogAtEnd: number;
  /** From the end of arrivals to the last response. */
  readonly drainMs: number;
  /** Leases still open in the balancers after the drain (by their `stats()`); always 0. */
  readonly openLeasesAtEnd: number;
  /** Latency CDF, `[probability, ms]` pairs, for charts. */
  readonly cdf: readonly (readonly [number, number])[];
  readonly timeline?: Timeline;
  readonly reaction?: Reaction;
  /**
   * With keys: the fraction of requests that went to their key's usual server (the one that got
   * most of that key's requests); 1 for perfect affinity.
   */
  readonly affinity?: number;
  /** Events the engine processed. */
  readonly events: number;
}

/**
 * The outcome of a whole {@link ScenarioDefinition}: one result per algorithm, in order.
 *
 * @example
 * ```ts
 * import { runScenario, scenarios, formatTable } from 'loadwise/sim';
 * console.log(formatTable(runScenario(scenarios['slow-server'])));
 * ```
 */
export interface ScenarioResult {
  readonly scenario: string;
  readonly description: string;
  readonly seed: number;
  readonly servers: number;
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly proxies: number;
  /** Mean offered load over total capacity (open-loop sources at base speeds), or null for closed loops. */
  readonly utilisation: number | null;
  readonly notes: readonly string[];
  readonly results: readonly AlgorithmResult[];
}
