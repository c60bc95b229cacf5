/**
 * `loadwise/sim`: a deterministic discrete-event simulator for comparing load-balancing
 * algorithms on your own workload before you deploy one.
 *
 * The simulator drives real balancers through their own `acquire` / `lease.release({ ok,
 * latencyMs })`, with the simulated clock injected as their `now`: no timers, no wall clock, the
 * same output for the same seed on Node, Deno and Bun. Servers have workers and a FIFO queue,
 * service-time distributions, speed factors that change over time, error rates and down
 * intervals; arrivals are open-loop (Poisson, bursts, a rate schedule) or closed-loop clients;
 * several proxies can share one cluster. Results come as data, as a text table and as an SVG
 * latency CDF; a join-shortest-queue oracle gives the reference line.
 *
 * @example
 * ```ts
 * import { PeakEwma, RoundRobin } from 'loadwise';
 * import { cluster, exponential, formatTable, jsqOracle, renderCdfSvg, runScenario } from 'loadwise/sim';
 *
 * const servers = cluster(10, { workers: 4, service: exponential(10) }, { 9: { speed: 0.25 } });
 * const result = runScenario({
 *   name: 'mine',
 *   servers,
 *   arrivals: { type: 'poisson', rps: 2500 },
 *   durationMs: 30_000,
 *   warmupMs: 3_000,
 *   algorithms: [
 *     { name: 'RoundRobin', create: (targets, options) => new RoundRobin(targets, options) },
 *     { name: 'PeakEwma', create: (targets, options) => new PeakEwma(targets, options) },
 *     jsqOracle,
 *   ],
 * });
 * console.log(formatTable(result));
 * const svg = renderCdfSvg(result); // write it wherever you like
 * ```
 *
 * @module loadwise/sim
 */
export { simulate, validateScenario, capacityRps, cluster, offeredUtilisation, type SimulateOptions } from './engine.js';
export { runScenario, type RunOptions } from './run.js';
export {
  constant,
  exponential,
  logNormal,
  bimodal,
  empirical,
  meanOf,
  sampler,
  validateDistribution,
  type Distribution,
} from './distributions.js';
export { JoinShortestQueue, jsqOracle, type JoinShortestQueueOptions } from './oracle.js';
export { formatTable, type TableOptions } from './table.js';
export { renderCdfSvg, type SvgOptions } from './svg.js';
export { measureReaction, shareSeries } from './timeline.js';
export { quantile, summarize, cdfPoints, CDF_PROBABILITIES } from './stats.js';
export { EventQueue } from './heap.js';
export { ln, exp, log10, pow, deriveSeed } from './math.js';
export { scenarios, algorithms } from './scenarios.js';
export type {
  Algorithm,
  AlgorithmResult,
  ArrivalSpec,
  BalancerFactory,
  ClusterView,
  DownInterval,
  ErrorCounts,
  KeySpec,
  LatencySummary,
  Reaction,
  Scenario,
  ScenarioDefinition,
  ScenarioResult,
  ServerResult,
  ServerSpec,
  SimBalancerOptions,
  SimContext,
  SimTarget,
  SpeedChange,
  Timeline,
  Watch,
} from './types.js';
