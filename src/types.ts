import type { BalancerEvent } from './health/events.js';
import type { OutlierOptions } from './health/outlier.js';
import type { PassiveOptions } from './health/passive.js';
import type { SlowStartOptions } from './health/slow-start.js';

/**
 * A backend a balancer can route to: either a plain id string (weight 1), or an object with an
 * `id` and optional `weight`, `backup` and `maxActive`. Balancers return the very value you
 * passed in, so extra fields (a URL, a connection pool) ride along.
 *
 * @example
 * ```ts
 * import { WeightedRoundRobin, type Target } from 'loadwise';
 * const targets = [
 *   { id: '10.0.0.1:8080', weight: 3, url: 'http://10.0.0.1:8080' },
 *   { id: '10.0.0.2:8080', weight: 1, url: 'http://10.0.0.2:8080', maxActive: 100 },
 * ] satisfies Target[];
 * const lb = new WeightedRoundRobin(targets);
 * lb.pick().url;
 * ```
 */
export type Target =
  | string
  | {
      /** Unique, stable id; what hashing, `exclude` and stats use. */
      readonly id: string;
      /** A number from `MIN_WEIGHT` (1e-9) to `MAX_WEIGHT` (1e9), default 1. */
      readonly weight?: number | undefined;
      /** Used only while no primary target is eligible (nginx `backup`). */
      readonly backup?: boolean | undefined;
      /** Skip this target while it holds this many open leases (nginx `max_conns`); an integer ≥ 1. */
      readonly maxActive?: number | undefined;
    };

/**
 * What `pick` and `acquire` accept besides a bare key string.
 *
 * @example
 * ```ts
 * const first = lb.acquire();
 * // the retry goes anywhere but the target that just failed
 * const second = lb.acquire({ exclude: [idOf(first.target)] });
 * ```
 */
export interface PickRequest {
  /** Routing key for the hash family; ignored by the other balancers. */
  readonly key?: string | undefined;
  /** Ids to skip for this one pick, e.g. targets already tried by a retry. Unknown ids are ignored. */
  readonly exclude?: readonly string[] | undefined;
}

/**
 * How a request went, reported through {@link Lease.release}. `'success'` and `'failure'` are
 * shorthands for `{ ok: true }` and `{ ok: false }`; `latencyMs` feeds the latency estimate.
 *
 * @example
 * ```ts
 * lease.release({ ok: res.status < 500, latencyMs: 12.5 });
 * ```
 */
export type Outcome = 'success' | 'failure' | { readonly ok: boolean; readonly latencyMs?: number | undefined };

/**
 * One open request on a target: returned by `acquire`, closed by `release`. While open it
 * counts in the target's `active` (in flight) total, which least-connections and power of two
 * choices route on.
 *
 * @example
 * ```ts
 * const lease = lb.acquire();
 * try {
 *   const res = await fetch(lease.target.url);
 *   lease.release(res.ok ? 'success' : 'failure');
 * } catch (err) {
 *   lease.release('failure');
 *   throw err;
 * }
 * ```
 */
export interface Lease<T extends Target = Target> {
  /** The picked target: the same value that was passed to the balancer. */
  readonly target: T;
  /**
   * Closes the lease. Idempotent: the first call counts and returns `true`; later calls change
   * nothing and return `false`. Releasing after the target was removed (or removed and added
   * again) is safe and touches no live counter.
   */
  release(outcome?: Outcome): boolean;
}

/** A target's health state as reported by {@link Balancer.stats}. */
export type TargetState = 'up' | 'down' | 'ejected' | 'slow-start' | 'backup';

/**
 * A snapshot of one target's runtime state.
 *
 * @example
 * ```ts
 * for (const s of lb.stats()) console.log(s.id, s.state, s.active, s.picks);
 * ```
 */
export interface TargetStats {
  readonly id: string;
  /** The configured weight. */
  readonly weight: number;
  /**
   * The weight the algorithm currently uses: lower than `weight` while slow start ramps the
   * target up (`state` is then `'slow-start'`), equal otherwise.
   */
  readonly effectiveWeight: number;
  /** Open leases. */
  readonly active: number;
  /** Times this target was returned by `pick` or `acquire`. */
  readonly picks: number;
  /** Leases released with a failed outcome. */
  readonly failures: number;
  readonly state: TargetState;
  /** Exponentially weighted moving average of reported latencies, where any were reported. */
  readonly latencyMs?: number;
}

/**
 * The one interface every loadwise balancer implements, whatever its algorithm.
 *
 * @example
 * ```ts
 * import { LeastConnections, type Balancer } from 'loadwise';
 * const lb: Balancer = new LeastConnections(['a:80', 'b:80', 'c:80']);
 * const lease = lb.acquire();
 * // ... forward the request to lease.target ...
 * lease.release('success');
 * ```
 */
export interface Balancer<T extends Target = Target> {
  /**
   * Chooses a target without opening a lease. Throws {@link loadwise!NoTargetError} when none is
   * eligible; a pick that throws (that error, a bad input, or whatever a getter of `exclude`
   * throws) changes nothing, not even the random stream. A pick that returns a target advances
   * the state of the tier it chose from (primaries or backups) and draws from the random source.
   */
  pick(input?: string | PickRequest): T;
  /** Chooses a target and opens a lease on it (counted as in flight until released). */
  acquire(input?: string | PickRequest): Lease<T>;
  /** Adds a target; throws `DuplicateIdError` if its id is taken. */
  add(target: T): void;
  /** Removes a target by id; returns whether it was there. Its open leases become inert. */
  remove(id: string): boolean;
  /** Replaces the membership; ids that stay keep their runtime state (in flight, counters). */
  setTargets(targets: readonly T[]): void;
  /** Changes a target's weight. */
  setWeight(id: string, weight: number): void;
  /** Takes a target out of rotation until {@link Balancer.markUp} (nginx `down`). */
  markDown(id: string): void;
  /** Puts a target marked down back into rotation. */
  markUp(id: string): void;
  /** Reports an active health-check result: unhealthy targets leave rotation until healthy again. */
  reportHealth(id: string, healthy: boolean): void;
  /** The current targets, in order. */
  targets(): readonly T[];
  /** Number of targets. */
  readonly size: number;
  /** A snapshot of every target's runtime state, in order. */
  stats(): readonly TargetStats[];
}

/**
 * Options every balancer accepts.
 *
 * @example
 * ```ts
 * new RoundRobin(targets, { seed: 7 });                 // reproducible start offset
 * new PowerOfTwoChoices(targets, { random: Math.random }); // bring your own randomness
 * ```
 */
export interface BalancerOptions {
  /** Seed for the built-in PRNG; the same seed gives the same picks on every runtime. */
  readonly seed?: number | undefined;
  /**
   * A `[0, 1)` random source to use instead of the built-in PRNG (overrides `seed`). A value
   * below 0 counts as 0 and one at or above 1 as just below 1; NaN or a non-number makes the
   * pick throw `InvalidOptionError` (`ERR_INVALID_OPTION`, option `random`) and changes nothing.
   */
  readonly random?: (() => number) | undefined;
  /**
   * Monotonic clock in milliseconds, default `performance.now()`. A reading that throws or is
   * not a finite number (converted as `Number(x)` would) counts as the previous good one (time
   * stands still); a latency measured as negative (the clock went back) is dropped, never
   * recorded.
   */
  readonly now?: (() => number) | undefined;
  /**
   * Passive failure counting (nginx `max_fails` / `fail_timeout`): `true` for nginx's defaults
   * (1 failure, 10 s), or `{ maxFails, failTimeoutMs }`. Failures are leases released with a
   * failed outcome. A balancer with a single target never takes it out (nginx's rule).
   */
  readonly passive?: boolean | PassiveOptions | undefined;
  /**
   * Outlier detection (Envoy `outlier_detection`): `true` for Envoy's defaults (5 failures in a
   * row eject a target for 30 s, longer on every ejection, at most 10 % of the targets out at
   * once but always one allowed), or an {@link OutlierOptions} object, which also turns on
   * success-rate and failure-percentage ejection. Ejected targets show as `ejected` in
   * `stats()` and are reported as `eject` / `return` events with reason `outlier`.
   */
  readonly outlier?: boolean | OutlierOptions | undefined;
  /**
   * Slow start (Envoy `slow_start_config`): targets added after construction, or back in
   * rotation after being down, failed, ejected or unhealthy, ramp their effective weight up over
   * `windowMs`; see {@link SlowStartOptions}. Only weighted balancers (`WeightedRoundRobin`,
   * `WeightedRandom`, `LeastConnections`, `PowerOfTwoChoices`, `PeakEwma`, `LeastTime`, `Hcl`) route
   * on it; elsewhere it has no effect.
   */
  readonly slowStart?: SlowStartOptions | undefined;
  /**
   * Envoy's panic threshold, in percent (`true` = 50): when fewer targets than this are healthy,
   * route to all of them regardless of health. Decided again at every health transition,
   * `markDown`/`markUp`, `add`, `remove` and `setTargets` (Envoy recomputes it whenever a host
   * set changes). Off by default.
   */
  readonly panicThreshold?: number | true | undefined;
  /** Called on every health transition; a listener that throws is ignored. */
  readonly onEvent?: ((event: BalancerEvent) => void) | undefined;
}
