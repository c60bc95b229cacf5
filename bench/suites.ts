/**
 * Every benchmark case: one balancer family per suite, loadwise and the npm peers that do the
 * same job, at every pool size. A case only builds its subject and returns the function to time;
 * `run.ts` decides how to time it (mitata `bench`/`group`/`summary`, or `measure` in quick mode).
 */
import { do_not_optimize } from 'mitata';
import {
  Hcl,
  LeastConnections,
  LeastTime,
  PeakEwma,
  PowerOfTwoChoices,
  Random,
  RoundRobin,
  WeightedRandom,
  WeightedRoundRobin,
  type Balancer,
  type BalancerOptions,
  type Lease,
  type Target,
} from '../src/index.js';
import { P2cBalancer, RandomBalancer, WrrPeers, aliasSampling, roundround, weightedRandom } from './peers.js';
import { SIZES, hostIds, weightedHosts, weightsOf } from './targets.js';

export type Op = 'pick' | 'acquire+release' | 'acquire+release, 64 open';

export interface Case {
  /** Unique key, also the mitata bench name: e.g. `loadwise RoundRobin.pick n=10`. */
  readonly key: string;
  readonly suite: SuiteId;
  readonly op: Op;
  /** `loadwise X`, the peer's package (and class), or `reference: …` for a baseline. */
  readonly impl: string;
  readonly loadwise: boolean;
  readonly n: number;
  /** Builds the subject for this case (outside the timed region) and returns the timed function. */
  readonly setup: () => () => void;
}

export type SelectorSuiteId = 'rr' | 'wrr' | 'random' | 'wrandom' | 'lc' | 'p2c';
/**
 * The latency-aware balancers. They read the clock twice per request (the lease's start, the
 * release's end), so each suite also times the same balancer on an injected counter clock and,
 * as a reference row, two `performance.now()` calls alone: the share of the clock is visible.
 */
export type LatencySuiteId = 'ewma' | 'least-time' | 'hcl';
export const LATENCY_SUITE_IDS: readonly LatencySuiteId[] = ['ewma', 'least-time', 'hcl'];
/** The hash family's lookup suites (bench/hash-suites.ts), one process each. */
export type HashSuiteId = 'hash-ring' | 'hash-maglev' | 'hash-jump' | 'hash-rendezvous' | 'hash-modulo' | 'hash-ip';
/**
 * The cost of the health features with every target healthy: one balancer class per suite, with
 * and without `passive`, `outlier` and `slowStart`, in the same process (see HEALTH_SUITE_IDS).
 */
export type HealthSuiteId = 'health-wrr' | 'health-lc';
export type SuiteId = SelectorSuiteId | LatencySuiteId | HashSuiteId | HealthSuiteId;
export const HEALTH_SUITE_IDS: readonly HealthSuiteId[] = ['health-wrr', 'health-lc'];
/** The bound: acquire+release with health features on costs at most this × without. */
export const HEALTH_MAX_RATIO = 1.5;
/** The hash lookup suites' ids, known without loading src/hashing (see hash-suites.ts). */
export const HASH_SUITE_IDS: readonly HashSuiteId[] = ['hash-ring', 'hash-maglev', 'hash-jump', 'hash-rendezvous', 'hash-modulo', 'hash-ip'];

export interface Suite {
  readonly id: SuiteId;
  /** The loadwise class the suite is about. */
  readonly balancer: string;
  /** Which targets it routes over, for the report. */
  readonly pool: string;
  readonly cases: readonly Case[];
}

/** Leases held open by the `64 open` variant: each call releases the oldest and acquires one. */
const OPEN = 64;

export type Make = (n: number) => Balancer<Target>;

/**
 * Builds a balancer and runs one acquire/release, so that its lazy O(n) table build happens
 * here rather than in mitata's first timed call (a slow first call makes mitata time calls one
 * at a time, which measures its timer instead of the balancer).
 */
function ready(make: Make, n: number): Balancer<Target> {
  const lb = make(n);
  lb.acquire().release('success');
  return lb;
}

// One factory per timed shape. Inside a suite's process only one balancer class flows through
// each of these closures, so their call sites stay monomorphic, as in an application that uses
// one balancer type (see run.ts and --same-process for the other case).

function pickCase(make: Make) {
  return (n: number) => () => {
    const lb = ready(make, n);
    return (): void => do_not_optimize(lb.pick());
  };
}

function acquireCase(make: Make) {
  return (n: number) => () => {
    const lb = ready(make, n);
    return (): void => {
      const lease = lb.acquire();
      lease.release('success');
      // The lease escapes, as it does in real code that holds it across an await.
      do_not_optimize(lease);
    };
  };
}

function openCase(make: Make) {
  return (n: number) => () => {
    const lb = ready(make, n);
    const ring: Lease<Target>[] = [];
    for (let i = 0; i < OPEN; i++) ring.push(lb.acquire());
    let k = 0;
    return (): void => {
      ring[k]!.release('success');
      const lease = lb.acquire();
      ring[k] = lease;
      k = (k + 1) & (OPEN - 1);
      do_not_optimize(lease);
    };
  };
}

interface CaseSpec {
  readonly op: Op;
  readonly impl: string;
  readonly label: string;
  readonly loadwise: boolean;
  readonly setup: (n: number) => () => () => void;
}

function suite(id: SuiteId, balancer: string, pool: string, specs: readonly CaseSpec[]): Suite {
  const cases: Case[] = [];
  for (const spec of specs) {
    for (const n of SIZES) {
      cases.push({
        key: `${spec.label} n=${n}`,
        suite: id,
        op: spec.op,
        impl: spec.impl,
        loadwise: spec.loadwise,
        n,
        setup: spec.setup(n),
      });
    }
  }
  return { id, balancer, pool, cases };
}

function lw(balancer: string, op: Op, setup: (n: number) => () => () => void): CaseSpec {
  const opName = op === 'pick' ? 'pick' : op === 'acquire+release' ? 'acquire+release' : `acquire+release(${OPEN} open)`;
  return { op, impl: `loadwise ${balancer}`, label: `loadwise ${balancer}.${opName}`, loadwise: true, setup };
}

function peer(impl: string, op: Op, setup: (n: number) => () => () => void, label = `${impl} ${op}`): CaseSpec {
  return { op, impl, label, loadwise: false, setup };
}

const SEED = { seed: 1 };
/** Every health feature on, as a service would configure them; nothing ever fails in the bench. */
const HEALTH: BalancerOptions = { seed: 1, passive: true, outlier: true, slowStart: { windowMs: 30_000 } };
/** The same plus outlier detection's interval statistics (success rate, failure percentage). */
const HEALTH_STATS: BalancerOptions = {
  ...HEALTH,
  outlier: { successRate: true, failurePercentage: true },
};

const makeRr: Make = (n) => new RoundRobin(hostIds(n), SEED);
const makeWrr: Make = (n) => new WeightedRoundRobin<Target>(weightedHosts(n), SEED);
const makeRandom: Make = (n) => new Random(hostIds(n), SEED);
const makeWrandom: Make = (n) => new WeightedRandom<Target>(weightedHosts(n), SEED);
const makeLc: Make = (n) => new LeastConnections(hostIds(n), SEED);
const makeP2c: Make = (n) => new PowerOfTwoChoices(hostIds(n), SEED);
const makeWrrHealth: Make = (n) => new WeightedRoundRobin<Target>(weightedHosts(n), HEALTH);
const makeWrrHealthStats: Make = (n) => new WeightedRoundRobin<Target>(weightedHosts(n), HEALTH_STATS);
const makeLcHealth: Make = (n) => new LeastConnections(hostIds(n), HEALTH);
const makeLcHealthStats: Make = (n) => new LeastConnections(hostIds(n), HEALTH_STATS);

/**
 * A clock that costs next to nothing: a counter advancing 1 µs per read, kept in a typed array so
 * that writing it allocates no heap number. Only for separating the clock's cost from the rest.
 */
function counterClock(): () => number {
  const t = new Float64Array(1);
  return () => (t[0]! += 0.001);
}

const makePeakEwma: Make = (n) => new PeakEwma(hostIds(n), SEED);
const makePeakEwmaCounter: Make = (n) => new PeakEwma(hostIds(n), { seed: 1, now: counterClock() });
const makeLeastTime: Make = (n) => new LeastTime(hostIds(n), SEED);
const makeLeastTimeCounter: Make = (n) => new LeastTime(hostIds(n), { seed: 1, now: counterClock() });
const makeHcl: Make = (n) => new Hcl(hostIds(n), SEED);
const makeHclCounter: Make = (n) => new Hcl(hostIds(n), { seed: 1, now: counterClock() });

/** The clock alone: the two reads every latency-aware acquire+release makes. */
const clockReference = peer('reference: 2 × performance.now()', 'acquire+release', () => () => (): void => {
  do_not_optimize(performance.now());
  do_not_optimize(performance.now());
});

function latencySuite(id: LatencySuiteId, balancer: string, make: Make, makeCounter: Make): Suite {
  return suite(id, balancer, 'n plain ids (weight 1)', [
    lw(balancer, 'pick', pickCase(make)),
    lw(balancer, 'acquire+release', acquireCase(make)),
    { ...lw(`${balancer}, counter clock`, 'acquire+release', acquireCase(makeCounter)), label: `loadwise ${balancer} acquire+release (counter clock)` },
    clockReference,
    lw(balancer, 'acquire+release, 64 open', openCase(make)),
  ]);
}

/** Impl labels of the health suites: the plain balancer, then the two health configurations. */
export const HEALTH_VARIANTS = ['', ' + passive, outlier, slowStart', ' + passive, outlier (with successRate, failurePercentage), slowStart'] as const;

function healthSuite(id: HealthSuiteId, balancer: string, pool: string, makes: readonly [Make, Make, Make]): Suite {
  return suite(
    id,
    `${balancer}+health`,
    pool,
    makes.map((make, i) => {
      const spec = lw(`${balancer}${HEALTH_VARIANTS[i]}`, 'acquire+release', acquireCase(make));
      return { ...spec, label: `${spec.label.replace('.acquire+release', '')} acquire+release` };
    }),
  );
}

export const SUITES: readonly Suite[] = [
  suite('rr', 'RoundRobin', 'n plain ids (weight 1)', [
    lw('RoundRobin', 'pick', pickCase(makeRr)),
    peer('roundround', 'pick', (n) => () => {
      const next = roundround(hostIds(n));
      return (): void => do_not_optimize(next());
    }),
    lw('RoundRobin', 'acquire+release', acquireCase(makeRr)),
  ]),
  suite('wrr', 'WeightedRoundRobin', 'n targets, weights cycling 1..5', [
    lw('WeightedRoundRobin', 'pick', pickCase(makeWrr)),
    peer('weighted-round-robin', 'pick', (n) => () => {
      const peers = new WrrPeers();
      for (const t of weightedHosts(n)) peers.add({ id: t.id, weight: t.weight });
      return (): void => do_not_optimize(peers.get());
    }),
    lw('WeightedRoundRobin', 'acquire+release', acquireCase(makeWrr)),
  ]),
  suite('random', 'Random', 'n plain ids (weight 1)', [
    lw('Random', 'pick', pickCase(makeRandom)),
    peer('load-balancers RandomBalancer', 'pick', (n) => () => {
      const ids = hostIds(n);
      const b = new RandomBalancer(n);
      return (): void => do_not_optimize(ids[b.pick()]);
    }),
    lw('Random', 'acquire+release', acquireCase(makeRandom)),
  ]),
  suite('wrandom', 'WeightedRandom', 'n targets, weights cycling 1..5', [
    lw('WeightedRandom', 'pick', pickCase(makeWrandom)),
    peer('@keystonehq/alias-sampling', 'pick', (n) => () => {
      const sampler = aliasSampling(weightsOf(n), weightedHosts(n));
      return (): void => do_not_optimize(sampler.next());
    }),
    peer('weighted-random', 'pick', (n) => () => {
      const targets = weightedHosts(n);
      const weights = weightsOf(n);
      return (): void => do_not_optimize(targets[weightedRandom(weights)]);
    }),
    lw('WeightedRandom', 'acquire+release', acquireCase(makeWrandom)),
  ]),
  suite('lc', 'LeastConnections', 'n plain ids (weight 1)', [
    lw('LeastConnections', 'pick', pickCase(makeLc)),
    lw('LeastConnections', 'acquire+release', acquireCase(makeLc)),
    lw('LeastConnections', 'acquire+release, 64 open', openCase(makeLc)),
  ]),
  suite('p2c', 'PowerOfTwoChoices', 'n plain ids (weight 1)', [
    lw('PowerOfTwoChoices', 'pick', pickCase(makeP2c)),
    peer('load-balancers P2cBalancer', 'pick', (n) => () => {
      const ids = hostIds(n);
      const b = new P2cBalancer(n);
      return (): void => do_not_optimize(ids[b.pick()]);
    }),
    lw('PowerOfTwoChoices', 'acquire+release', acquireCase(makeP2c)),
    // Its pick() also counts the pick on the chosen bin (never decremented): the closest it has
    // to acquire, so it is shown next to acquire+release too.
    peer(
      'load-balancers P2cBalancer',
      'acquire+release',
      (n) => () => {
        const ids = hostIds(n);
        const b = new P2cBalancer(n);
        return (): void => do_not_optimize(ids[b.pick()]);
      },
      'load-balancers P2cBalancer pick (as acquire+release)',
    ),
    lw('PowerOfTwoChoices', 'acquire+release, 64 open', openCase(makeP2c)),
  ]),
  latencySuite('ewma', 'PeakEwma', makePeakEwma, makePeakEwmaCounter),
  latencySuite('least-time', 'LeastTime', makeLeastTime, makeLeastTimeCounter),
  latencySuite('hcl', 'Hcl', makeHcl, makeHclCounter),
  healthSuite('health-wrr', 'WeightedRoundRobin', 'n targets, weights cycling 1..5, all healthy', [makeWrr, makeWrrHealth, makeWrrHealthStats]),
  healthSuite('health-lc', 'LeastConnections', 'n plain ids (weight 1), all healthy', [makeLc, makeLcHealth, makeLcHealthStats]),
];

export const SUITE_IDS: readonly SuiteId[] = SUITES.map((s) => s.id);

/** The text a filter argument is matched against: suite, operation, then the case name. */
export function describeCase(c: Case): string {
  return `${c.suite} ${c.op} ${c.key}`;
}

/** The balancers of the allocation check, and the text a filter is matched against there. */
/**
 * Every balancer the allocation check (alloc.ts) measures, by the name its table shows: each
 * suite's balancer, the health suites with every feature on (interval statistics included),
 * and the latency-aware balancers again on an allocation-free clock, which separates the
 * runtime clock's allocation from theirs.
 */
export const ALLOC_MAKERS: ReadonlyArray<readonly [string, Make]> = [
  ['RoundRobin', makeRr],
  ['WeightedRoundRobin', makeWrr],
  ['Random', makeRandom],
  ['WeightedRandom', makeWrandom],
  ['LeastConnections', makeLc],
  ['PowerOfTwoChoices', makeP2c],
  ['PeakEwma', makePeakEwma],
  ['LeastTime', makeLeastTime],
  ['Hcl', makeHcl],
  ['WeightedRoundRobin+health', makeWrrHealthStats],
  ['LeastConnections+health', makeLcHealthStats],
  ['PeakEwma (counter clock)', makePeakEwmaCounter],
  ['LeastTime (counter clock)', makeLeastTimeCounter],
  ['Hcl (counter clock)', makeHclCounter],
];
export const ALLOC_BALANCERS = ALLOC_MAKERS.map(([name]) => name);
export function describeAlloc(balancer: string, op: 'pick' | 'acquire+release'): string {
  return `alloc ${balancer} ${op}`;
}
