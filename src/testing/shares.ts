/**
 * Fairness assertions: do observed pick counts match the weights?
 *
 * The statistical mode treats the `N` picks as a multinomial sample: each target's count is
 * Binomial(N, p) with p = weight / total weight. Every target gets a two-sided acceptance range
 * at the per-target level α / k (Bonferroni over the k targets that can vary, α = 1 −
 * confidence), so a fair balancer passes the whole check with probability at least
 * `confidence`. The range comes from the normal approximation with Φ⁻¹ computed exactly
 * (Wichura's AS 241), refined by a continuity correction and a Cornish–Fisher skewness term; where
 * that approximation is poor (fewer than 30 expected picks, or misses) the exact binomial tails
 * are summed instead. Both choices were checked against exact binomial tails to be
 * conservative.
 */
import { FairnessError } from './errors.js';
import { bonferroniZ } from './normal.js';
import { fixed, formatTable } from './util.js';

/**
 * Counts or weights: an array (by index), a record or a `Map` keyed by target id.
 *
 * @example
 * ```ts
 * expectShares([480, 520], [1, 1]);                           // arrays, matched by index
 * expectShares({ a: 480, b: 520 }, { a: 1, b: 1 });           // records
 * expectShares(new Map([['a', 480], ['b', 520]]), { a: 1, b: 1 }); // or Maps, keyed by id
 * ```
 */
export type Tally = readonly number[] | Readonly<Record<string, number>> | ReadonlyMap<string, number>;

/**
 * Options for {@link expectShares} and {@link checkShares}.
 *
 * @example
 * ```ts
 * expectShares(counts, weights, { confidence: 0.9999 });   // a randomized balancer
 * expectShares(counts, weights, { exact: true });          // a deterministic one, whole periods
 * expectShares(counts, weights, { exact: true, tolerance: 1 }); // ... or any number of picks
 * ```
 */
export interface ShareOptions {
  /**
   * Probability that a fair balancer passes the whole check (all targets together), in (0, 1).
   * Default 0.999999: a correct balancer fails at most once in a million runs.
   */
  readonly confidence?: number | undefined;
  /**
   * For deterministic algorithms (round robin, smooth weighted round robin): counts must equal
   * `N × weight / totalWeight` exactly, i.e. weights × the number of whole periods.
   */
  readonly exact?: boolean | undefined;
  /** Exact mode only: allowed absolute deviation per target, default 0. */
  readonly tolerance?: number | undefined;
  /** Names for the targets when `counts` and `weights` are arrays (default: the indexes). */
  readonly labels?: readonly string[] | undefined;
  /** Prefix for the failure message, e.g. the name of the case under test. */
  readonly message?: string | undefined;
}

/** How a {@link ShareRow}'s range was derived. */
export type ShareMethod = 'normal' | 'binomial' | 'exact';

/** One target's line in a {@link ShareReport}. */
export interface ShareRow {
  readonly target: string;
  readonly weight: number;
  readonly observed: number;
  /** `N × p`, with p = weight / total weight. */
  readonly expected: number;
  /** Smallest accepted count. */
  readonly lower: number;
  /** Largest accepted count. */
  readonly upper: number;
  /** Largest accepted distance from `expected` on either side. */
  readonly bound: number;
  /** `observed - expected`. */
  readonly deviation: number;
  /** `deviation` in binomial standard deviations, `sqrt(N p (1 - p))` (0 when that is 0). */
  readonly sigmas: number;
  readonly method: ShareMethod;
  readonly ok: boolean;
}

/**
 * Everything {@link checkShares} compared.
 *
 * @example
 * ```ts
 * const report = checkShares(counts, weights);
 * if (!report.ok) console.log(report.table);
 * for (const row of report.rows) console.log(row.target, row.observed, `${row.lower}..${row.upper}`);
 * ```
 */
export interface ShareReport {
  readonly ok: boolean;
  /** Total picks, N. */
  readonly total: number;
  /** `'statistical'` or `'exact'`. */
  readonly mode: 'statistical' | 'exact';
  /** The confidence the statistical bounds were built for (statistical mode). */
  readonly confidence: number;
  /** Targets whose count can vary (0 < p < 1): the Bonferroni divisor. */
  readonly tests: number;
  /** The two-sided critical value `Φ⁻¹(1 − α / 2k)` (statistical mode; 0 in exact mode). */
  readonly z: number;
  readonly rows: readonly ShareRow[];
  /** The human-readable table the failure message shows. */
  readonly table: string;
}

/** Below this many expected picks (or misses) the exact binomial tails replace the normal approximation. */
const NORMAL_MIN_EXPECTED = 30;
const DEFAULT_CONFIDENCE = 0.999999;

/**
 * Compares observed counts with weights and returns the full {@link ShareReport} without
 * throwing; see {@link expectShares} for the method.
 *
 * @example
 * ```ts
 * import { checkShares } from 'loadwise/testing';
 * const report = checkShares({ a: 5021, b: 4979 }, { a: 1, b: 1 });
 * report.ok;            // true
 * report.rows[0].upper; // largest count of 'a' a fair balancer produces at this confidence
 * ```
 */
export function checkShares(counts: Tally, weights: Tally, options: ShareOptions = {}): ShareReport {
  const { confidence = DEFAULT_CONFIDENCE, exact = false, tolerance = 0 } = options;
  if (typeof confidence !== 'number' || !(confidence > 0 && confidence < 1)) {
    throw new RangeError(`expectShares: confidence must be a number in (0, 1), got ${String(confidence)}`);
  }
  if (typeof tolerance !== 'number' || !(tolerance >= 0) || !Number.isFinite(tolerance)) {
    throw new RangeError(`expectShares: tolerance must be a finite number ≥ 0, got ${String(tolerance)}`);
  }
  const entries = align(counts, weights, options.labels);
  let total = 0;
  let weightSum = 0;
  for (const e of entries) {
    total += e.observed;
    weightSum += e.weight;
  }
  if (!(weightSum > 0) || !Number.isFinite(weightSum)) {
    throw new RangeError('expectShares: the weights must include at least one > 0, and sum to a finite number');
  }
  if (total === 0) throw new RangeError('expectShares: no picks were counted (all counts are 0)');

  const probs = entries.map((e) => e.weight / weightSum);
  const tests = probs.filter((p) => p > 0 && p < 1).length;
  const z = exact || tests === 0 ? 0 : bonferroniZ(confidence, tests);
  const tailBudget = (1 - confidence) / (2 * Math.max(tests, 1));

  const rows: ShareRow[] = entries.map((e, i) => {
    const p = probs[i]!;
    const expected = total * p;
    const sd = Math.sqrt(total * p * (1 - p));
    let lower: number;
    let upper: number;
    let method: ShareMethod;
    if (exact) {
      method = 'exact';
      lower = Math.max(0, expected - tolerance);
      upper = expected + tolerance;
    } else if (p === 0 || p === 1) {
      method = 'binomial';
      lower = upper = p === 0 ? 0 : total;
    } else if (Math.min(expected, total - expected) < NORMAL_MIN_EXPECTED) {
      method = 'binomial';
      [lower, upper] = binomialRange(total, p, tailBudget);
    } else {
      method = 'normal';
      [lower, upper] = normalRange(total, p, z);
    }
    const slack = exact ? 1e-9 * Math.max(1, expected) : 0;
    const ok = e.observed >= lower - slack && e.observed <= upper + slack;
    const deviation = e.observed - expected;
    return {
      target: e.target,
      weight: e.weight,
      observed: e.observed,
      expected,
      lower,
      upper,
      bound: Math.max(upper - expected, expected - lower),
      deviation,
      sigmas: sd > 0 ? deviation / sd : 0,
      method,
      ok,
    };
  });
  const ok = rows.every((r) => r.ok);
  const table = formatTable(
    ['', 'target', 'weight', 'observed', 'expected', 'allowed', 'deviation', 'bound'],
    rows.map((r) => [
      r.ok ? '' : '✗',
      r.target,
      fixed(r.weight),
      String(r.observed),
      fixed(r.expected, 1),
      exact ? `${fixed(r.lower, 1)}..${fixed(r.upper, 1)}` : `${r.lower}..${r.upper}`,
      `${r.deviation >= 0 ? '+' : ''}${fixed(r.deviation, 1)}${exact || r.sigmas === 0 ? '' : ` (${r.sigmas >= 0 ? '+' : ''}${r.sigmas.toFixed(1)}σ)`}`,
      `±${fixed(r.bound, 1)}${r.method === 'binomial' && !exact ? ' (binomial)' : ''}`,
    ]),
  );
  return { ok, total, mode: exact ? 'exact' : 'statistical', confidence, tests, z, rows, table };
}

/**
 * Asserts that observed pick counts match the weights, and throws a {@link FairnessError}
 * listing every target (observed, expected, allowed range, deviation) when they do not.
 *
 * - Statistical mode (default), for randomized balancers: each count must lie in its binomial
 *   acceptance range at the Bonferroni-corrected level, so a fair balancer passes with
 *   probability ≥ `confidence` (default 0.999999) and a real bias fails as soon as `N` is large
 *   enough to show it. Seed your balancer so a run is reproducible.
 * - Exact mode (`{ exact: true }`), for deterministic algorithms: every count must equal
 *   `N × weight / totalWeight`, i.e. weights × the number of whole periods (± `tolerance`).
 *
 * `counts` and `weights` are both arrays (matched by index) or both keyed by target id (record or
 * `Map`); a counted target missing from `weights` has weight 0 and so must not be picked.
 * Returns the {@link ShareReport} when the check passes.
 *
 * @example
 * ```ts
 * import { WeightedRandom } from 'loadwise';
 * import { expectShares } from 'loadwise/testing';
 *
 * const weights = { a: 5, b: 3, c: 2 };
 * const lb = new WeightedRandom(Object.entries(weights).map(([id, weight]) => ({ id, weight })), { seed: 1 });
 * const counts: Record<string, number> = {};
 * for (let i = 0; i < 100_000; i++) {
 *   const id = lb.pick().id;
 *   counts[id] = (counts[id] ?? 0) + 1;
 * }
 * expectShares(counts, weights); // throws a FairnessError on a biased balancer
 * ```
 * @example
 * ```ts
 * // smooth weighted round robin is exact over whole periods (5 + 1 + 1 = 7 picks each)
 * expectShares([5 * 100, 100, 100], [5, 1, 1], { exact: true });
 * ```
 */
export function expectShares(counts: Tally, weights: Tally, options: ShareOptions = {}): ShareReport {
  const report = checkShares(counts, weights, options);
  if (report.ok) return report;
  const bad = report.rows.filter((r) => !r.ok).map((r) => r.target);
  const prefix = options.message === undefined ? '' : `${options.message}: `;
  let how: string;
  if (report.mode === 'exact') {
    const wholePeriods = report.rows.every((r) => Math.abs(r.expected - Math.round(r.expected)) <= 1e-9 * Math.max(1, r.expected));
    how =
      `exact mode, tolerance ${fixed(options.tolerance ?? 0)}; N = ${report.total} picks` +
      (wholePeriods
        ? ''
        : ` is not a whole number of periods (the expected counts are fractional): count whole periods, or pass tolerance: 1`);
  } else {
    how =
      `${fixed(report.confidence * 100)} % confidence, Bonferroni over ${report.tests} target${report.tests === 1 ? '' : 's'}, ` +
      `z = ${report.z.toFixed(3)}; N = ${report.total} picks`;
  }
  throw new FairnessError(
    `${prefix}pick counts do not match the weights for ${bad.map((t) => JSON.stringify(t)).join(', ')} (${how}):\n${report.table}`,
    report,
  );
}

// ---- bounds --------------------------------------------------------------------------------

/**
 * Acceptance range from the normal approximation with a continuity correction (±0.5) and the
 * one-term Cornish–Fisher skewness correction `(z² − 1) γ / 6`, γ = (1 − 2p) / σ: the binomial
 * tail on the side of the rarer outcome is heavier than the normal one.
 */
function normalRange(n: number, p: number, z: number): [number, number] {
  const mean = n * p;
  const sd = Math.sqrt(n * p * (1 - p));
  const skew = ((z * z - 1) * ((1 - 2 * p) / sd)) / 6;
  const hi = mean + sd * (z + skew) + 0.5;
  const lo = mean - sd * (z - skew) - 0.5;
  return [Math.max(0, Math.ceil(lo)), Math.min(n, Math.floor(hi))];
}

/**
 * Exact binomial acceptance range: the largest `lower` with P(X < lower) ≤ a and the smallest
 * `upper` with P(X > upper) ≤ a. Used when n·p (or n·(1 − p)) is small, so the sum is short.
 */
function binomialRange(n: number, p: number, a: number): [number, number] {
  if (p > 0.5) {
    const [l, u] = binomialRange(n, 1 - p, a);
    return [n - u, n - l];
  }
  const mean = n * p;
  const ratio = p / (1 - p);
  const pmf: number[] = [Math.exp(n * Math.log1p(-p))];
  for (let x = 0; x < n; x++) {
    const next = (pmf[x]! * (n - x) * ratio) / (x + 1);
    if (x + 1 > mean && next < 1e-300) break;
    pmf.push(next);
  }
  let lower = 0;
  for (let x = 0, below = 0; x < pmf.length; x++) {
    if (below + pmf[x]! > a) break;
    below += pmf[x]!;
    lower = x + 1;
  }
  let upper = pmf.length - 1;
  for (let x = pmf.length - 1, above = 0; x > 0; x--) {
    if (above + pmf[x]! > a) break;
    above += pmf[x]!;
    upper = x - 1;
  }
  return [lower, Math.max(lower, upper)];
}

// ---- input ---------------------------------------------------------------------------------

interface Entry {
  target: string;
  observed: number;
  weight: number;
}

function isKeyed(t: Tally): t is Readonly<Record<string, number>> | ReadonlyMap<string, number> {
  return !Array.isArray(t);
}

function toMap(t: Readonly<Record<string, number>> | ReadonlyMap<string, number>, what: string): Map<string, number> {
  if (t instanceof Map) return new Map(t);
  if (typeof t !== 'object' || t === null) throw new TypeError(`expectShares: ${what} must be an array, a record or a Map`);
  return new Map(Object.entries(t));
}

function align(counts: Tally, weights: Tally, labels: readonly string[] | undefined): Entry[] {
  let entries: Entry[];
  if (Array.isArray(counts) && Array.isArray(weights)) {
    const c = counts as readonly number[];
    const w = weights as readonly number[];
    if (c.length !== w.length) {
      throw new RangeError(`expectShares: ${c.length} counts for ${w.length} weights; they are matched by index`);
    }
    if (labels !== undefined && labels.length !== w.length) {
      throw new RangeError(`expectShares: ${labels.length} labels for ${w.length} weights`);
    }
    entries = w.map((weight, i) => ({ target: labels?.[i] ?? String(i), observed: c[i]!, weight }));
  } else if (isKeyed(counts) && isKeyed(weights)) {
    const c = toMap(counts, 'counts');
    const w = toMap(weights, 'weights');
    entries = [...w].map(([target, weight]) => ({ target, observed: c.get(target) ?? 0, weight }));
    for (const [target, observed] of c) if (!w.has(target)) entries.push({ target, observed, weight: 0 });
  } else {
    throw new TypeError('expectShares: counts and weights must both be arrays (matched by index) or both be keyed by target id');
  }
  if (entries.length === 0) throw new RangeError('expectShares: no targets');
  for (const e of entries) {
    if (typeof e.weight !== 'number' || !Number.isFinite(e.weight) || e.weight < 0) {
      throw new RangeError(`expectShares: weight of ${JSON.stringify(e.target)} must be a finite number ≥ 0, got ${String(e.weight)}`);
    }
    if (typeof e.observed !== 'number' || !Number.isSafeInteger(e.observed) || e.observed < 0) {
      throw new RangeError(`expectShares: count of ${JSON.stringify(e.target)} must be an integer ≥ 0, got ${String(e.observed)}`);
    }
  }
  return entries;
}
