import {
  ConsistentHash,
  Hcl,
  JumpHash,
  LeastConnections,
  LeastTime,
  Maglev,
  PeakEwma,
  PowerOfTwoChoices,
  Rendezvous,
  RoundRobin,
} from '../index.js';
import { exponential } from './distributions.js';
import { capacityRps, cluster } from './engine.js';
import { jsqOracle } from './oracle.js';
import type { Algorithm, ScenarioDefinition } from './types.js';

/**
 * The library's balancers as simulator algorithms, with their default options.
 *
 * @example
 * ```ts
 * import { algorithms, runScenario, scenarios } from 'loadwise/sim';
 * runScenario({ ...scenarios.homogeneous, algorithms: [algorithms.roundRobin, algorithms.jsqOracle] });
 * ```
 */
export const algorithms = {
  roundRobin: { name: 'RoundRobin', create: (t, o) => new RoundRobin(t, o) } as Algorithm,
  leastConnections: { name: 'LeastConnections', create: (t, o) => new LeastConnections(t, o) } as Algorithm,
  powerOfTwoChoices: { name: 'PowerOfTwoChoices', create: (t, o) => new PowerOfTwoChoices(t, o) } as Algorithm,
  peakEwma: { name: 'PeakEwma', create: (t, o) => new PeakEwma(t, o) } as Algorithm,
  leastTime: { name: 'LeastTime', create: (t, o) => new LeastTime(t, o) } as Algorithm,
  hcl: { name: 'Hcl', create: (t, o) => new Hcl(t, o) } as Algorithm,
  consistentHash: { name: 'ConsistentHash', create: (t, o) => new ConsistentHash(t, o) } as Algorithm,
  consistentHashBounded: {
    name: 'ConsistentHash(1.25)',
    create: (t, o) => new ConsistentHash(t, { ...o, loadFactor: 1.25 }),
  } as Algorithm,
  maglev: { name: 'Maglev', create: (t, o) => new Maglev(t, o) } as Algorithm,
  maglevBounded: { name: 'Maglev(1.25)', create: (t, o) => new Maglev(t, { ...o, loadFactor: 1.25 }) } as Algorithm,
  rendezvous: { name: 'Rendezvous', create: (t, o) => new Rendezvous(t, o) } as Algorithm,
  jumpHash: { name: 'JumpHash', create: (t, o) => new JumpHash(t, o) } as Algorithm,
  jsqOracle,
} as const;

/** RoundRobin, LeastConnections, PowerOfTwoChoices, the latency-aware balancers, the JSQ oracle. */
const REQUEST_ROUTING: readonly Algorithm[] = [
  algorithms.roundRobin,
  algorithms.leastConnections,
  algorithms.powerOfTwoChoices,
  algorithms.peakEwma,
  algorithms.leastTime,
  algorithms.hcl,
  algorithms.jsqOracle,
];

const SERVERS = 20;
const WORKERS = 4;
const SERVICE = exponential(10);
const base = { workers: WORKERS, service: SERVICE };

const homogeneousServers = cluster(SERVERS, base);
const slowServers = cluster(SERVERS, base, { [SERVERS - 1]: { speed: 1 / 3 } });
const slowdownServers = cluster(SERVERS, base, {
  0: {
    speedSchedule: [
      { atMs: 10_000, speed: 0.1 },
      { atMs: 40_000, speed: 1 },
    ],
  },
});

/**
 * The named scenarios behind `npm run sim -- <name>` and the docs' figures. Every one uses 20
 * servers with 4 workers each and exponential service times of mean 10 ms (capacity 400
 * requests/s per server at full speed), Poisson arrivals, and seed 1.
 *
 * - `homogeneous`: identical servers at 80 % utilisation.
 * - `slow-server`: server s20 is 3× slower (speed 1/3); arrivals at 80 % of the total capacity.
 * - `slowdown`: s01 becomes 10× slower from 10 s to 40 s, at 80 % utilisation; reports how fast
 *   each algorithm cuts its share below 1/(2n) and gives it back a fair share afterwards.
 * - `hot-keys`: Zipf-distributed keys (10,000 keys, exponent 0.9) for the hash family, plain
 *   and with bounded loads, at 60 % utilisation.
 * - `proxies`: the `slow-server` cluster behind 10 independent proxies (each request picks one
 *   at random): every balancer only sees its own share of the traffic.
 *
 * @example
 * ```ts
 * import { formatTable, runScenario, scenarios } from 'loadwise/sim';
 * console.log(formatTable(runScenario(scenarios['slow-server'])));
 * console.log(Object.keys(scenarios)); // ['homogeneous', 'slow-server', 'slowdown', 'hot-keys', 'proxies']
 * ```
 */
export const scenarios: Readonly<Record<'homogeneous' | 'slow-server' | 'slowdown' | 'hot-keys' | 'proxies', ScenarioDefinition>> = {
  homogeneous: {
    name: 'homogeneous',
    description: '20 identical servers at 80 % utilisation',
    servers: homogeneousServers,
    arrivals: { type: 'poisson', rps: 0.8 * capacityRps(homogeneousServers) },
    durationMs: 20_000,
    warmupMs: 2_000,
    seed: 1,
    algorithms: REQUEST_ROUTING,
    notes: [
      'Identical servers: RoundRobin is fair but blind to the random queues that form; choosing by load (LeastConnections, P2C) keeps every queue short.',
    ],
  },
  'slow-server': {
    name: 'slow-server',
    description: 'one of 20 servers 3x slower, 80 % utilisation',
    servers: slowServers,
    arrivals: { type: 'poisson', rps: 0.8 * capacityRps(slowServers) },
    durationMs: 20_000,
    warmupMs: 2_000,
    seed: 1,
    algorithms: REQUEST_ROUTING,
    notes: [
      'RoundRobin sends s20 1/20 of the traffic, 2.3x what it can serve: its queue grows without bound (backlog column), so RoundRobin\'s p99 grows with the length of the run.',
      'Algorithms that see load or latency steer around s20.',
    ],
  },
  slowdown: {
    name: 'slowdown',
    description: 's01 becomes 10x slower from 10 s to 40 s, 80 % utilisation',
    servers: slowdownServers,
    arrivals: { type: 'poisson', rps: 0.8 * capacityRps(slowdownServers) },
    durationMs: 75_000,
    warmupMs: 2_000,
    seed: 1,
    timelineMs: 50,
    watch: { server: 0, slowAtMs: 10_000, recoverAtMs: 40_000 },
    algorithms: REQUEST_ROUTING,
    notes: ['RoundRobin never cuts s01: its queue grows for the 30 s of the slowdown, and drains after the recovery.'],
  },
  'hot-keys': {
    name: 'hot-keys',
    description: 'Zipf-distributed keys (10,000 keys, exponent 0.9) over 20 servers at 60 % utilisation',
    servers: homogeneousServers,
    arrivals: { type: 'poisson', rps: 0.6 * capacityRps(homogeneousServers) },
    keys: { type: 'zipf', count: 10_000, exponent: 0.9 },
    durationMs: 20_000,
    warmupMs: 2_000,
    seed: 1,
    algorithms: [
      algorithms.consistentHash,
      algorithms.consistentHashBounded,
      algorithms.maglev,
      algorithms.maglevBounded,
      algorithms.rendezvous,
      algorithms.jumpHash,
      algorithms.powerOfTwoChoices,
      algorithms.jsqOracle,
    ],
    notes: [
      'The hottest key alone carries ~6 % of the traffic (a server\'s fair share is 5 %): plain hashing overloads whichever server owns it.',
      'Bounded loads (loadFactor 1.25) spill the excess to the next candidate, keeping most keys on their server.',
      'PowerOfTwoChoices and the oracle ignore keys: the balance they reach is the price-free bound without affinity.',
    ],
  },
  proxies: {
    name: 'proxies',
    description: 'the slow-server cluster behind 10 independent proxies',
    servers: slowServers,
    arrivals: { type: 'poisson', rps: 0.8 * capacityRps(slowServers) },
    proxies: 10,
    durationMs: 20_000,
    warmupMs: 2_000,
    seed: 1,
    algorithms: REQUEST_ROUTING,
    notes: [
      'Each proxy sees a tenth of the traffic, so its in-flight counts are a tenth of the truth; latency estimates do not shrink that way.',
    ],
  },
};
