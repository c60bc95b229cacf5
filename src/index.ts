/**
 * `loadwise`: embeddable, dependency-free load-balancing algorithms for Node, Deno and Bun. Every
 * balancer (round robin, smooth weighted round robin, random, least connections, power of two
 * choices, peak EWMA, least time, HCL, and the consistent-hash family: ring, Maglev, rendezvous,
 * jump, IP and modulo hashing) implements the same {@link Balancer} interface: `pick()` chooses a
 * target, `acquire()` opens a {@link Lease} that the load-aware algorithms count until it is
 * released. Passive failure counting, outlier ejection, slow start, an active
 * {@link HealthChecker} and {@link withRetry} build on it. Randomness and time are injectable, so
 * tests run deterministically; the simulator and test helpers live in `loadwise/sim` and
 * `loadwise/testing`.
 *
 * @example
 * ```ts
 * import { LeastConnections } from 'loadwise';
 *
 * const lb = new LeastConnections([
 *   { id: 'api-1:8080', url: 'http://10.0.0.1:8080' },
 *   { id: 'api-2:8080', url: 'http://10.0.0.2:8080', weight: 2 },
 * ]);
 *
 * const lease = lb.acquire(); // the least-loaded target, counted in flight
 * const res = await fetch(lease.target.url + '/v1/users');
 * lease.release(res.ok ? 'success' : 'failure');
 * ```
 *
 * @module loadwise
 */
export { targetId } from './balancer.js';
export { RoundRobin, type RoundRobinOptions } from './selectors/round-robin.js';
export { WeightedRoundRobin, type WeightedRoundRobinOptions } from './selectors/weighted-round-robin.js';
export { Random, type RandomOptions } from './selectors/random.js';
export { WeightedRandom, type WeightedRandomOptions } from './selectors/weighted-random.js';
export { LeastConnections, type LeastConnectionsOptions } from './selectors/least-connections.js';
export { PowerOfTwoChoices, type PowerOfTwoChoicesOptions } from './selectors/power-of-two-choices.js';
export {
  LoadwiseError,
  NoTargetError,
  InvalidWeightError,
  InvalidIdError,
  InvalidTargetError,
  DuplicateIdError,
  UnknownIdError,
  InvalidOptionError,
  InvalidOutcomeError,
  type LoadwiseErrorCode,
} from './core/errors.js';
export { createRandom, type RandomSource } from './core/rng.js';
export { MIN_WEIGHT, MAX_WEIGHT } from './core/member.js';
export type { Clock } from './core/clock.js';
export type {
  Balancer,
  BalancerOptions,
  Lease,
  Outcome,
  PickRequest,
  Target,
  TargetState,
  TargetStats,
} from './types.js';
export { Rendezvous, type RendezvousOptions } from './hashing/rendezvous.js';
export {
  ConsistentHash,
  DEFAULT_POINTS_PER_WEIGHT,
  MAX_RING_POINTS,
  type ConsistentHashOptions,
  type ConsistentHashCompat,
} from './hashing/consistent-hash.js';
export { ModuloHash, type ModuloHashOptions } from './hashing/modulo-hash.js';
export { IpHash, ipKey, type IpHashOptions } from './hashing/ip-hash.js';
export { Maglev, MAGLEV_DEFAULT_TABLE_SIZE, MAGLEV_MAX_TABLE_SIZE, type MaglevOptions } from './hashing/maglev.js';
export { JumpHash, jumpConsistentHash, JUMP_HASH_MAX_WEIGHT, type JumpHashOptions } from './hashing/jump-hash.js';
export type { HashBalancerOptions } from './hashing/options.js';
export type { BalancerEvent, EventListener } from './health/events.js';
export type { PassiveOptions } from './health/passive.js';
export type { OutlierOptions, SuccessRateOptions, FailurePercentageOptions } from './health/outlier.js';
export type { SlowStartOptions } from './health/slow-start.js';
export {
  withRetry,
  RetryError,
  RetryBudget,
  type RetryOptions,
  type RetryBackoff,
  type RetryFn,
  type RetryErrorCode,
  type RetryVerdict,
  type RetryBudgetOptions,
  type AbortSignalLike,
  type AttemptSignal,
} from './retry.js';
export {
  HealthChecker,
  type HealthCheckerOptions,
  type HealthChange,
  type HealthState,
  type HealthTimers,
  type Probe,
  type ProbeSignal,
  type ProbeSignalLike,
} from './health/checker.js';
export type { RuntimeAbortSignal } from './core/runtime.js';
export { PeakEwma, type PeakEwmaOptions, type PeakEwmaNoHistory } from './selectors/peak-ewma.js';
export { LeastTime, type LeastTimeMode, type LeastTimeOptions } from './selectors/least-time.js';
export { Hcl, type HclOptions, type HclProbe, type HclLoadReport, type HclSignals } from './selectors/hcl.js';
