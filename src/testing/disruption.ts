/**
 * Disruption: how many keys change target when the membership changes. Consistent hashing
 * exists to keep this small; these helpers measure it and hold it to the minimum the change
 * itself forces.
 */
import type { Target } from '../types.js';
import { DisruptionError } from './errors.js';
import { normalQuantile } from './normal.js';
import { fixed, formatTable, idOf } from './util.js';

/**
 * Anything that routes a key to a target: a balancer (its `pick(key)` is called, which opens
 * no lease) or a plain function.
 *
 * @example
 * ```ts
 * measureDisruption(new Rendezvous(oldIds), (key) => myRouter.route(key), keys);
 * ```
 */
export type KeyRouter = { pick(key: string): Target } | ((key: string) => Target);

/**
 * A {@link KeyRouter} that also lists its targets, so the shares it should give can be worked
 * out: every loadwise balancer is one.
 */
export interface MembershipRouter {
  pick(key: string): Target;
  targets(): readonly Target[];
  /** When present, targets whose `state` is `'down'` or `'ejected'` count as gone. */
  stats?(): readonly { readonly id: string; readonly state: string }[];
}

/** Keys to route: any iterable of strings, or a count `n` for the keys `key-0` … `key-(n-1)`. */
export type Keys = Iterable<string> | number;

/** How one target's keys changed. */
export interface TargetMovement {
  readonly id: string;
  /** Keys routed to it before. */
  readonly before: number;
  /** Keys routed to it after. */
  readonly after: number;
  /** Keys that were on it before and are elsewhere after. */
  readonly movedFrom: number;
  /** Keys that are on it after and were elsewhere before. */
  readonly movedTo: number;
}

/** Keys that went from one target to another. */
export interface KeyFlow {
  readonly from: string;
  readonly to: string;
  readonly keys: number;
}

/**
 * What {@link measureDisruption} found.
 *
 * @example
 * ```ts
 * const r = measureDisruption(before, after, 10_000);
 * console.log(`${(r.fraction * 100).toFixed(1)} % moved`);
 * for (const f of r.flows) console.log(`${f.from} -> ${f.to}: ${f.keys}`);
 * ```
 */
export interface DisruptionReport {
  /** Keys routed. */
  readonly keys: number;
  /** Keys whose target changed. */
  readonly moved: number;
  /** `moved / keys`. */
  readonly fraction: number;
  /** Every id seen before or after, in order of first appearance. */
  readonly targets: readonly TargetMovement[];
  /** Every (from, to) pair with at least one key, most keys first. */
  readonly flows: readonly KeyFlow[];
}

/**
 * Routes every key through both routers and reports which keys changed target: the moved
 * fraction, a per-target breakdown (keys moved from / moved to each target) and the flows
 * between targets.
 *
 * @example
 * ```ts
 * import { ConsistentHash } from 'loadwise';
 * import { measureDisruption } from 'loadwise/testing';
 *
 * const ids = Array.from({ length: 10 }, (_, i) => `10.0.0.${i}:80`);
 * const before = new ConsistentHash(ids);
 * const after = new ConsistentHash([...ids, '10.0.0.10:80']);
 * const report = measureDisruption(before, after, 10_000);
 * report.fraction;                                        // ≈ 1/11
 * report.targets.find((t) => t.id === '10.0.0.10:80');    // movedTo ≈ 909, movedFrom 0
 * ```
 */
export function measureDisruption(before: KeyRouter, after: KeyRouter, keys: Keys): DisruptionReport {
  const routeBefore = router(before, 'before');
  const routeAfter = router(after, 'after');
  const movement = new Map<string, { before: number; after: number; movedFrom: number; movedTo: number }>();
  const entry = (id: string) => {
    let m = movement.get(id);
    if (m === undefined) movement.set(id, (m = { before: 0, after: 0, movedFrom: 0, movedTo: 0 }));
    return m;
  };
  const flows = new Map<string, { from: string; to: string; keys: number }>();
  let total = 0;
  let moved = 0;
  for (const key of keyList(keys)) {
    const a = routeBefore(key);
    const b = routeAfter(key);
    total++;
    entry(a).before++;
    entry(b).after++;
    if (a !== b) {
      moved++;
      entry(a).movedFrom++;
      entry(b).movedTo++;
      const k = `${a}\u0000${b}`;
      const f = flows.get(k);
      if (f === undefined) flows.set(k, { from: a, to: b, keys: 1 });
      else f.keys++;
    }
  }
  if (total === 0) throw new RangeError('measureDisruption: no keys');
  return {
    keys: total,
    moved,
    fraction: moved / total,
    targets: [...movement].map(([id, m]) => ({ id, ...m })),
    flows: [...flows.values()].sort((x, y) => y.keys - x.keys || cmp(x.from, y.from) || cmp(x.to, y.to)),
  };
}

/**
 * Options for {@link expectMinimalDisruption}.
 *
 * @example
 * ```ts
 * // Maglev trades a little extra movement for its lookup table
 * expectMinimalDisruption(before, after, 20_000, { collateral: 0.01, slack: 0.5 });
 * ```
 */
export interface DisruptionOptions {
  /**
   * Probability that a minimally disruptive balancer passes despite the sampling noise of a
   * finite key set, default 0.999999.
   */
  readonly confidence?: number | undefined;
  /**
   * Relative allowance on top of the minimum, default 0.25: up to 1.25 × the minimum fraction
   * may move. It absorbs how far the balancer's real shares sit from the weights (a hash ring
   * with v points per target is off by about 1/√v).
   */
  readonly slack?: number | undefined;
  /**
   * Fraction of all keys allowed to move between targets that did not need to change, default
   * 0 (exact for hash rings, rendezvous and jump hash; Maglev needs a little).
   */
  readonly collateral?: number | undefined;
  /** Prefix for the failure message. */
  readonly message?: string | undefined;
}

/** The limits {@link expectMinimalDisruption} derived for a change. */
export interface DisruptionBound {
  /**
   * The least fraction of keys any balancer must move to go from the old shares to the new:
   * the total variation distance ½ Σ |before − after|; 1/(n+1) for adding one of n equal
   * targets, 1/n for removing one.
   */
  readonly minimum: number;
  /** The most keys allowed to move. */
  readonly maxMoved: number;
  /** Most keys allowed to move between targets that did not need to change. */
  readonly maxCollateral: number;
  /** One-sided critical value used for the sampling allowance. */
  readonly z: number;
  /** Each target's share before and after, by id. */
  readonly shares: readonly { readonly id: string; readonly before: number; readonly after: number }[];
}

/** {@link measureDisruption}'s report plus the bound it was held to and the collateral moves. */
export interface MinimalDisruptionReport extends DisruptionReport {
  readonly bound: DisruptionBound;
  /** Keys that moved between targets that did not need to change (from one that gained, or to one that lost). */
  readonly collateral: number;
}

/**
 * Asserts that going from `before` to `after` moved no more keys than the membership change
 * forces. The minimum is derived from the two balancers' target lists: with shares
 * proportional to weight (backups and targets marked down count 0), any balancer must move at
 * least the total variation distance between the old and new shares — `1/(n+1)` of the keys
 * when one of `n` equal targets is added, `1/n` when one is removed. The check allows that
 * fraction times `1 + slack`, plus a binomial sampling allowance `z·√(K·m·(1−m))` for `K` keys,
 * and it requires that keys move only from targets that lost share to targets that gained it
 * (up to `collateral`). Throws a {@link DisruptionError} listing the flows otherwise.
 *
 * @example
 * ```ts
 * import { ConsistentHash, ModuloHash } from 'loadwise';
 * import { expectMinimalDisruption } from 'loadwise/testing';
 *
 * const ids = Array.from({ length: 10 }, (_, i) => `s${i}`);
 * expectMinimalDisruption(new ConsistentHash(ids), new ConsistentHash(ids.slice(1)), 20_000); // passes
 * expectMinimalDisruption(new ModuloHash(ids), new ModuloHash(ids.slice(1)), 20_000);         // throws: ~90 % moved
 * ```
 */
export function expectMinimalDisruption(
  before: MembershipRouter,
  after: MembershipRouter,
  keys: Keys,
  options: DisruptionOptions = {},
): MinimalDisruptionReport {
  const { confidence = 0.999999, slack = 0.25, collateral = 0 } = options;
  if (typeof confidence !== 'number' || !(confidence > 0 && confidence < 1)) {
    throw new RangeError(`expectMinimalDisruption: confidence must be a number in (0, 1), got ${String(confidence)}`);
  }
  if (typeof slack !== 'number' || !(slack >= 0) || !Number.isFinite(slack)) {
    throw new RangeError(`expectMinimalDisruption: slack must be a finite number ≥ 0, got ${String(slack)}`);
  }
  if (typeof collateral !== 'number' || !(collateral >= 0 && collateral <= 1)) {
    throw new RangeError(`expectMinimalDisruption: collateral must be a fraction in [0, 1], got ${String(collateral)}`);
  }
  const sharesBefore = sharesOf(before, 'before');
  const sharesAfter = sharesOf(after, 'after');
  const ids = [...new Set([...sharesBefore.keys(), ...sharesAfter.keys()])];
  const shares = ids.map((id) => ({ id, before: sharesBefore.get(id) ?? 0, after: sharesAfter.get(id) ?? 0 }));
  let minimum = 0;
  for (const s of shares) minimum += Math.abs(s.before - s.after);
  minimum = Math.min(1, minimum / 2);

  const report = measureDisruption(before, after, keys);
  const k = report.keys;
  const z = -normalQuantile(1 - confidence);
  const maxMoved = Math.min(k, k * minimum * (1 + slack) + z * Math.sqrt(k * minimum * (1 - minimum)) + 0.5);
  const maxCollateral = k * collateral;
  const eps = 1e-12;
  const byId = new Map(shares.map((s) => [s.id, s]));
  const lost = (id: string) => {
    const s = byId.get(id);
    return s !== undefined && s.before > s.after + eps;
  };
  const gained = (id: string) => {
    const s = byId.get(id);
    // An id the target lists do not mention (a router returned a foreign value) never "needed" keys.
    return s !== undefined && s.after > s.before + eps;
  };
  let collateralMoves = 0;
  for (const f of report.flows) if (!(lost(f.from) && gained(f.to))) collateralMoves += f.keys;

  const bound: DisruptionBound = { minimum, maxMoved, maxCollateral, z, shares };
  const result: MinimalDisruptionReport = { ...report, bound, collateral: collateralMoves };
  const problems: string[] = [];
  if (report.moved > maxMoved) {
    problems.push(
      `${report.moved} of ${k} keys moved (${pct(report.fraction)}), more than the ${fixed(maxMoved, 1)} allowed: ` +
        `the change forces at least ${pct(minimum)}, allowed ${pct(minimum)} × ${fixed(1 + slack)} + sampling (z = ${z.toFixed(3)})`,
    );
  }
  if (collateralMoves > maxCollateral) {
    problems.push(
      `${collateralMoves} keys (${pct(collateralMoves / k)}) moved between targets that did not need to change ` +
        `(from a target that gained share or to one that lost it); allowed ${fixed(maxCollateral, 1)}`,
    );
  }
  if (problems.length === 0) return result;
  const prefix = options.message === undefined ? '' : `${options.message}: `;
  const flowTable = formatTable(
    ['from', 'to', 'keys', 'needed'],
    report.flows.slice(0, 20).map((f) => [f.from, f.to, String(f.keys), lost(f.from) && gained(f.to) ? 'yes' : 'no']),
  );
  const more = report.flows.length > 20 ? `\n  ... and ${report.flows.length - 20} more flows` : '';
  throw new DisruptionError(`${prefix}disruption above the minimum:\n- ${problems.join('\n- ')}\nflows:\n${flowTable}${more}`, result, bound);
}

function pct(x: number): string {
  return `${fixed(x * 100, 2)} %`;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function router(r: KeyRouter, which: string): (key: string) => string {
  if (typeof r === 'function') return (key) => idOf(r(key));
  if (typeof r === 'object' && r !== null && typeof r.pick === 'function') return (key) => idOf(r.pick(key));
  throw new TypeError(`measureDisruption: ${which} must be a balancer (with pick) or a function from key to target`);
}

function* keyList(keys: Keys): Iterable<string> {
  if (typeof keys === 'number') {
    if (!Number.isSafeInteger(keys) || keys < 1) throw new RangeError(`measureDisruption: key count must be an integer ≥ 1, got ${keys}`);
    for (let i = 0; i < keys; i++) yield `key-${i}`;
    return;
  }
  for (const key of keys) {
    if (typeof key !== 'string') throw new TypeError(`measureDisruption: keys must be strings, got ${typeof key}`);
    yield key;
  }
}

function sharesOf(r: MembershipRouter, which: string): Map<string, number> {
  if (typeof r !== 'object' || r === null || typeof r.targets !== 'function' || typeof r.pick !== 'function') {
    throw new TypeError(`expectMinimalDisruption: ${which} must be a balancer with pick() and targets()`);
  }
  const gone = new Set<string>();
  if (typeof r.stats === 'function') {
    for (const s of r.stats()) if (s.state === 'down' || s.state === 'ejected') gone.add(s.id);
  }
  const weights = new Map<string, number>();
  let total = 0;
  for (const t of r.targets()) {
    const id = idOf(t);
    let w: number;
    if (gone.has(id)) w = 0;
    else if (typeof t === 'string') w = 1;
    else w = t.backup === true ? 0 : (t.weight ?? 1);
    weights.set(id, w);
    total += w;
  }
  if (!(total > 0)) throw new RangeError(`expectMinimalDisruption: ${which} has no target that can take keys`);
  for (const [id, w] of weights) weights.set(id, w / total);
  return weights;
}
