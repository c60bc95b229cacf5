/**
 * `loadwise/testing/arbitraries`: fast-check arbitraries for targets, ids and weights, for
 * property tests of balancers (yours or loadwise's). fast-check (v3 or v4) is an optional peer
 * dependency: only this entry imports it, so `loadwise` and `loadwise/testing` work without it.
 *
 * @example
 * ```ts
 * import fc from 'fast-check';
 * import { WeightedRandom } from 'loadwise';
 * import { arbitraryTargets } from 'loadwise/testing/arbitraries';
 *
 * fc.assert(
 *   fc.property(arbitraryTargets({ backup: true, maxActive: true }), (targets) => {
 *     const lb = new WeightedRandom(targets);
 *     return targets.includes(lb.pick());
 *   }),
 * );
 * ```
 * @module loadwise/testing/arbitraries
 */
import * as fc from 'fast-check';
import type { Arbitrary } from 'fast-check';

/** The object form of a target, as these arbitraries generate it. */
export interface ArbitraryTarget {
  readonly id: string;
  readonly weight?: number;
  readonly backup?: boolean;
  readonly maxActive?: number;
}

/**
 * Range of generated weights, within [`MIN_WEIGHT`, `MAX_WEIGHT`] = [1e-9, 1e9] (what loadwise
 * accepts); some
 * balancers are stricter (the nginx-compatible hash modes and `JumpHash` take integers only:
 * pass `integer: true`).
 */
export interface WeightConstraints {
  /** Smallest weight, ≥ `MIN_WEIGHT` (1e-9); default 1. */
  readonly min?: number | undefined;
  /** Largest weight, ≥ min and ≤ `MAX_WEIGHT` (1e9); default 100. */
  readonly max?: number | undefined;
  /** Integers only; default false. */
  readonly integer?: boolean | undefined;
}

/** What {@link arbitraryTarget} may generate. */
export interface TargetConstraints {
  /** Weight range; `false` leaves `weight` out (weight 1). Default: {@link WeightConstraints} defaults, and sometimes no weight. */
  readonly weight?: WeightConstraints | false | undefined;
  /** Generate some backup targets; default false. */
  readonly backup?: boolean | undefined;
  /** Generate some `maxActive` limits: `true` for 1..10, or a range; default false. */
  readonly maxActive?: boolean | { readonly min?: number; readonly max?: number } | undefined;
  /** Generate some plain string targets besides objects; default false. */
  readonly strings?: boolean | undefined;
  /** Ids to use; default {@link arbitraryTargetId}. */
  readonly id?: Arbitrary<string> | undefined;
}

/** What {@link arbitraryTargets} may generate. */
export interface TargetsConstraints extends TargetConstraints {
  /** Fewest targets, default 1. */
  readonly minLength?: number | undefined;
  /** Most targets, default 10. */
  readonly maxLength?: number | undefined;
}

/**
 * loadwise's `MIN_WEIGHT` and `MAX_WEIGHT`, repeated here because this entry imports nothing but
 * fast-check (the dist checks hold it to that); the unit tests check that the values agree.
 */
const MIN_WEIGHT = 1e-9;
const MAX_WEIGHT = 1e9;

function checkRange(what: string, min: number, max: number, positive: boolean): void {
  if (typeof min !== 'number' || typeof max !== 'number' || !Number.isFinite(min) || !Number.isFinite(max) || min > max || (positive && !(min > 0))) {
    throw new RangeError(`${what}: expected finite ${positive ? '0 < ' : ''}min ≤ max, got min ${String(min)}, max ${String(max)}`);
  }
}

/**
 * Weights: numbers in `[min, max]` (default 1..100, within [`MIN_WEIGHT`, `MAX_WEIGHT`]), integers if asked.
 *
 * @example
 * ```ts
 * import { arbitraryWeight } from 'loadwise/testing/arbitraries';
 * arbitraryWeight();                                   // doubles in [1, 100]
 * arbitraryWeight({ min: 1e-3, max: 1e6 });            // a wide range
 * arbitraryWeight({ min: 1, max: 10, integer: true }); // nginx-style integer weights
 * ```
 */
export function arbitraryWeight(constraints: WeightConstraints = {}): Arbitrary<number> {
  const { min = 1, max = 100, integer = false } = constraints;
  checkRange('arbitraryWeight', min, max, true);
  if (min < MIN_WEIGHT || max > MAX_WEIGHT) {
    throw new RangeError(`arbitraryWeight: weights must lie within [MIN_WEIGHT, MAX_WEIGHT] = [1e-9, 1e9], got min ${min}, max ${max}`);
  }
  if (integer) {
    const lo = Math.ceil(min);
    const hi = Math.floor(max);
    if (lo > hi) throw new RangeError(`arbitraryWeight: no integer in [${min}, ${max}]`);
    return fc.integer({ min: lo, max: hi });
  }
  return fc.double({ min, max, noNaN: true }).filter((w) => Number.isFinite(w) && w > 0);
}

/**
 * Target ids: non-empty strings of printable characters, up to 16 long, sometimes shaped like
 * `host:port`.
 *
 * @example
 * ```ts
 * import fc from 'fast-check';
 * import { arbitraryTargetId } from 'loadwise/testing/arbitraries';
 * fc.sample(arbitraryTargetId(), 3); // e.g. [ 'k', '10.0.3.7:8080', '#(!' ]
 * ```
 */
export function arbitraryTargetId(): Arbitrary<string> {
  const octet = fc.integer({ min: 0, max: 255 });
  const hostPort = fc
    .tuple(octet, octet, fc.integer({ min: 1, max: 65535 }))
    .map(([a, b, port]) => `10.${a}.${b}.1:${port}`);
  return fc.oneof(fc.string({ minLength: 1, maxLength: 16 }), hostPort);
}

/**
 * Routing keys for the hash family: any string, including the empty one.
 *
 * @example
 * ```ts
 * import fc from 'fast-check';
 * import { ConsistentHash } from 'loadwise';
 * import { arbitraryKey } from 'loadwise/testing/arbitraries';
 * const lb = new ConsistentHash(['a', 'b', 'c']);
 * fc.assert(fc.property(arbitraryKey(), (key) => lb.pick(key) === lb.pick(key)));
 * ```
 */
export function arbitraryKey(): Arbitrary<string> {
  return fc.string({ maxLength: 32 });
}

function build(
  id: string,
  weight: number | undefined,
  backup: boolean,
  maxActive: number | undefined,
): ArbitraryTarget {
  const t: { id: string; weight?: number; backup?: boolean; maxActive?: number } = { id };
  if (weight !== undefined) t.weight = weight;
  if (backup) t.backup = true;
  if (maxActive !== undefined) t.maxActive = maxActive;
  return t;
}

function parts(constraints: TargetConstraints) {
  const { weight: w, backup = false, maxActive = false } = constraints;
  const weight: Arbitrary<number | undefined> =
    w === false ? fc.constant(undefined) : fc.option(arbitraryWeight(w ?? {}), { nil: undefined, freq: 4 });
  const isBackup: Arbitrary<boolean> = backup ? fc.boolean() : fc.constant(false);
  let limit: Arbitrary<number | undefined> = fc.constant(undefined);
  if (maxActive !== false) {
    const { min = 1, max = 10 } = maxActive === true ? {} : maxActive;
    checkRange('maxActive', min, max, true);
    if (!Number.isInteger(min) || !Number.isInteger(max)) throw new RangeError('maxActive: min and max must be integers');
    limit = fc.option(fc.integer({ min, max }), { nil: undefined });
  }
  return { weight, isBackup, limit };
}

/**
 * One target: an object with an id and, depending on the constraints, a weight, `backup` and
 * `maxActive`, or (with `strings: true`) sometimes a plain id string.
 *
 * @example
 * ```ts
 * import { arbitraryTarget } from 'loadwise/testing/arbitraries';
 * arbitraryTarget({ weight: { min: 1, max: 5, integer: true }, maxActive: { min: 1, max: 3 } });
 * ```
 */
export function arbitraryTarget(constraints: TargetConstraints & { readonly strings: true }): Arbitrary<ArbitraryTarget | string>;
export function arbitraryTarget(constraints?: TargetConstraints & { readonly strings?: false }): Arbitrary<ArbitraryTarget>;
export function arbitraryTarget(constraints: TargetConstraints = {}): Arbitrary<ArbitraryTarget | string> {
  const { weight, isBackup, limit } = parts(constraints);
  const id = constraints.id ?? arbitraryTargetId();
  const object = fc.tuple(id, weight, isBackup, limit).map(([i, w, b, m]) => build(i, w, b, m));
  return constraints.strings === true ? fc.oneof(object, id) : object;
}

/**
 * A target list with unique ids, ready to hand to any balancer: every weight finite and > 0,
 * and, when backups are generated, at least one primary.
 *
 * @example
 * ```ts
 * import fc from 'fast-check';
 * import { RoundRobin } from 'loadwise';
 * import { arbitraryTargets } from 'loadwise/testing/arbitraries';
 *
 * fc.assert(
 *   fc.property(arbitraryTargets({ minLength: 2, maxLength: 20, backup: true }), (targets) => {
 *     const lb = new RoundRobin(targets);
 *     lb.markDown(typeof targets[0] === 'string' ? targets[0] : targets[0].id);
 *     return lb.pick() !== targets[0];
 *   }),
 * );
 * ```
 */
export function arbitraryTargets(constraints: TargetsConstraints & { readonly strings: true }): Arbitrary<(ArbitraryTarget | string)[]>;
export function arbitraryTargets(constraints?: TargetsConstraints & { readonly strings?: false }): Arbitrary<ArbitraryTarget[]>;
export function arbitraryTargets(constraints: TargetsConstraints = {}): Arbitrary<(ArbitraryTarget | string)[]> {
  const { minLength = 1, maxLength = 10 } = constraints;
  checkRange('arbitraryTargets length', minLength, maxLength, false);
  if (!Number.isInteger(minLength) || !Number.isInteger(maxLength) || minLength < 0) {
    throw new RangeError('arbitraryTargets: minLength and maxLength must be integers ≥ 0');
  }
  const one: Arbitrary<ArbitraryTarget | string> = arbitraryTarget(constraints as TargetConstraints & { readonly strings: true });
  const key = (t: ArbitraryTarget | string) => (typeof t === 'string' ? t : t.id);
  return fc.uniqueArray(one, { minLength, maxLength, selector: key }).map((ts) => {
    if (ts.length === 0 || ts.some((t) => typeof t === 'string' || t.backup !== true)) return ts;
    const [first, ...rest] = ts as ArbitraryTarget[];
    return [build(first!.id, first!.weight, false, first!.maxActive), ...rest];
  });
}
