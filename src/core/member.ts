import { InvalidIdError, InvalidTargetError, InvalidWeightError, describe } from './errors.js';
import type { Target } from '../types.js';

/** Reasons a member is out of rotation, as bits of {@link Member.blocked}. */
export const Blocked = {
  /** `markDown` (nginx `down`). */
  Manual: 1,
  /** Passive failure counting: `maxFails` failures, out for `failTimeoutMs` (nginx `max_fails`). */
  Failed: 2,
  /** Outlier detection ejected it (Envoy). */
  Ejected: 4,
  /** An active health check reported it unhealthy (`reportHealth`). */
  Unhealthy: 8,
} as const;

/** The health bits, which panic mode ignores; `Manual` is the operator's word and always holds. */
export const HEALTH_BITS = Blocked.Failed | Blocked.Ejected | Blocked.Unhealthy;

/**
 * The registry's record of one target: its configuration and every piece of runtime state the
 * balancers and health features share. One object per membership: removing a target detaches
 * its record, and adding the id again creates a new one, so a late `release` on an old lease
 * only ever touches a detached record.
 */
export class Member<T extends Target = Target> {
  // Field order is declaration order in the object, so the fields every acquire and release
  // touches come first and share cache lines: at n = 10,000 the members outgrow the CPU caches.
  target: T;
  readonly id: string;
  weight: number;
  /** Open-lease limit; `Infinity` when unlimited. */
  maxActive: number;
  /** Position in its tier's member list (primaries or backups); maintained by the balancer. */
  pos = -1;
  backup: boolean;
  /** Bit set of {@link Blocked} reasons in force; 0 means in rotation. */
  blocked = 0;
  active = 0;
  picks = 0;
  /** False once removed from the balancer. */
  attached = true;
  /** Set for the duration of one pick when the request excludes this id. */
  excluded = false;
  /** Passive failure counting, as nginx keeps it per peer: failures, and when last checked / failed. */
  fails = 0;
  /** Outlier detection (Envoy): failures in a row since the last success or ejection. */
  streak = 0;
  /** Outlier detection: releases and failed releases in the current evaluation interval. */
  intervalRequests = 0;
  intervalFailures = 0;
  failures = 0;

  /** Health bits as reported, before panic mode (which clears them from `blocked`) applies. */
  health = 0;
  checkedAt = Number.NEGATIVE_INFINITY;
  accessedAt = Number.NEGATIVE_INFINITY;
  /** When the `Failed` bit lapses. */
  failedUntil = 0;

  /** EWMA of reported latencies in ms; NaN until the first report. */
  latencyMs = Number.NaN;

  /**
   * The weight the weighted selectors use: `weight × rampFactor`. Equal to `weight` except while
   * slow start ramps the target up. The balancer keeps it in step with `weight`.
   */
  effectiveWeight: number;
  /** Slow start: the share of `weight` in force, in (0, 1]; 1 when not ramping. */
  rampFactor = 1;
  /** Slow start: when the current ramp began; NaN when not ramping. */
  rampFrom = Number.NaN;

  /** Outlier detection: Envoy's ejection-time multiplier (`ejectTimeBackoff`) as of `returnedAt`. */
  ejectBackoff = 0;
  /** When the `Ejected` bit lapses. */
  ejectedUntil = 0;
  /** When the target last returned from an ejection; NaN if it never did. */
  returnedAt = Number.NaN;

  constructor(target: T, id: string, weight: number, backup: boolean, maxActive: number) {
    this.target = target;
    this.id = id;
    this.weight = weight;
    this.effectiveWeight = weight;
    this.backup = backup;
    this.maxActive = maxActive;
  }

  /** Usable by a pick right now: not blocked, not excluded, below its lease limit. */
  available(): boolean {
    return this.blocked === 0 && !this.excluded && this.active < this.maxActive;
  }
}

/** The validated fields of a {@link Target}. */
export interface TargetSpec {
  readonly id: string;
  readonly weight: number;
  readonly backup: boolean;
  readonly maxActive: number;
}

/** Checks an id; throws {@link InvalidIdError} unless it is a non-empty string. */
export function checkId(id: unknown): string {
  if (typeof id !== 'string' || id.length === 0) throw new InvalidIdError(id);
  return id;
}

/**
 * The smallest weight a target may have: 10⁻⁹.
 *
 * Together with {@link MAX_WEIGHT} it keeps every computation on weights finite: any two weights
 * are within a ratio of 10¹⁸, so products such as `rounds × weight` in a Maglev build (at most
 * 2^24 × 10⁹) and quotients such as `inFlight / weight` stay far from overflow and from
 * subnormal numbers, and no table build can run away.
 *
 * @example
 * ```ts
 * import { MIN_WEIGHT, WeightedRandom } from 'loadwise';
 * new WeightedRandom([{ id: 'canary', weight: MIN_WEIGHT }, 'main']); // ok; 1e-10 would throw
 * ```
 */
export const MIN_WEIGHT = 1e-9;

/**
 * The largest weight a target may have: 10⁹. Sums of weights then stay finite for any number of
 * targets, and a sum of integer weights stays exact (below 2^53) for up to 9 million targets;
 * nginx's smooth weighted round robin keeps its `step × weight` arithmetic exact as well.
 *
 * @example
 * ```ts
 * import { MAX_WEIGHT, Maglev } from 'loadwise';
 * new Maglev([{ id: 'a', weight: MAX_WEIGHT }, 'b']); // ok; 1.7e308 would throw ERR_INVALID_WEIGHT
 * ```
 */
export const MAX_WEIGHT = 1e9;

/**
 * A weight scaled by a slow-start factor in (0, 1], kept at least {@link MIN_WEIGHT} so that the
 * weights the selectors see obey the same bounds as configured ones (a tiny `minWeightPercent`
 * cannot make one 0).
 */
export function rampedWeight(weight: number, factor: number): number {
  const w = weight * factor;
  return w >= MIN_WEIGHT ? w : MIN_WEIGHT;
}

/**
 * Checks a weight; throws {@link InvalidWeightError} unless it is a number from
 * {@link MIN_WEIGHT} to {@link MAX_WEIGHT}.
 */
export function checkWeight(id: string, weight: unknown): number {
  if (typeof weight !== 'number' || !(weight >= MIN_WEIGHT && weight <= MAX_WEIGHT)) {
    throw new InvalidWeightError(id, weight);
  }
  return weight;
}

/** Reads and validates a user-supplied target without changing anything. */
export function parseTarget(target: unknown): TargetSpec {
  if (typeof target === 'string') {
    return { id: checkId(target), weight: 1, backup: false, maxActive: Number.POSITIVE_INFINITY };
  }
  if (typeof target !== 'object' || target === null || Array.isArray(target)) {
    throw new InvalidTargetError(`invalid target ${describe(target)}: expected an id string or an object with an id`);
  }
  const t = target as { id?: unknown; weight?: unknown; backup?: unknown; maxActive?: unknown };
  const id = checkId(t.id);
  const weight = t.weight === undefined ? 1 : checkWeight(id, t.weight);
  if (t.backup !== undefined && typeof t.backup !== 'boolean') {
    throw new InvalidTargetError(`invalid backup ${describe(t.backup)} for target ${JSON.stringify(id)}: expected a boolean`);
  }
  let maxActive = Number.POSITIVE_INFINITY;
  if (t.maxActive !== undefined) {
    if (typeof t.maxActive !== 'number' || !Number.isInteger(t.maxActive) || t.maxActive < 1) {
      throw new InvalidTargetError(
        `invalid maxActive ${describe(t.maxActive)} for target ${JSON.stringify(id)}: expected an integer >= 1`,
      );
    }
    maxActive = t.maxActive;
  }
  return { id, weight, backup: t.backup === true, maxActive };
}
