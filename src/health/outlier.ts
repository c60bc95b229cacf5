import { InvalidOptionError } from '../core/errors.js';
import { Blocked, type Member } from '../core/member.js';
import { groupOption, intOption, numberOption } from '../core/options.js';
import type { Target } from '../types.js';

/**
 * Outlier detection, Envoy's `outlier_detection` (envoy/config/cluster/v3/outlier_detection.proto,
 * source/common/upstream/outlier_detection_impl.cc). A target that misbehaves compared with the
 * others is ejected, out of rotation for a time that grows with every ejection.
 *
 * - **Consecutive failures** (Envoy `consecutive_5xx`): `consecutiveFailures` failed releases in a
 *   row eject the target at once, when the last of them is released.
 * - **Success rate** (`success_rate_*`, on when `successRate` is given): every `intervalMs`, over
 *   the releases of that interval and the targets with at least `requestVolume` of them (when
 *   there are at least `minimumHosts` such targets), a target whose success rate is below
 *   `mean − stdev × stdevFactor / 1000` is ejected (population standard deviation, as Envoy).
 * - **Failure percentage** (`failure_percentage_*`, on when `failurePercentage` is given): in the
 *   same pass, a target with at least `requestVolume` releases and a failure percentage
 *   ≥ `threshold` is ejected, when at least `minimumHosts` targets have that volume.
 *
 * Ejection time is `min(baseEjectionTimeMs × k, maxEjectionTimeMs)`, where `k` is Envoy's
 * multiplier: it grows by one per ejection and shrinks by one for every full `intervalMs` the
 * target stays back in rotation. At most `maxEjectionPercent` % of the targets are ejected at
 * once, but one target may always be ejected (Envoy with `always_eject_one_host: true`): an
 * ejection goes ahead when no target is ejected or when `100 × (ejected + 1) / targets ≤
 * maxEjectionPercent`, so the cap is `max(1, floor(targets × maxEjectionPercent / 100))`. This
 * also means a balancer with a single target can eject it; `panicThreshold` then still routes
 * to it, as Envoy's default panic threshold would.
 *
 * Evaluation needs no timer: consecutive failures act on release; the interval pass runs when a
 * failure is released, every 32nd release, on a pick while an ejection is pending, and on
 * `evaluateOutliers()`, whenever `intervalMs` has passed since the previous pass. It covers the
 * releases since that pass (one interval under steady traffic, more after a lull). An ejected
 * target returns as soon as its time is up (Envoy checks on its interval timer instead), and
 * goes through slow start when that is configured.
 *
 * Not modelled: Envoy's `enforcing_*` percentages (everything configured is enforced), the
 * separate gateway-failure and local-origin counters (a failure is a lease released with a
 * failed outcome), ejection-time jitter, and un-ejection by a successful active health check.
 *
 * @example
 * ```ts
 * new RoundRobin(targets, { outlier: true }); // 5 failures in a row eject for 30 s, 60 s, …
 * new LeastConnections(targets, {
 *   outlier: { consecutiveFailures: 3, successRate: { requestVolume: 20 }, failurePercentage: {} },
 * });
 * ```
 */
export interface OutlierOptions {
  /** Failures in a row that eject a target; default 5, 0 turns this check off (Envoy `consecutive_5xx`). */
  readonly consecutiveFailures?: number | undefined;
  /** Time between success-rate / failure-percentage passes in ms, > 0; default 10,000 (Envoy `interval`). */
  readonly intervalMs?: number | undefined;
  /** Ejection time of a first ejection in ms, > 0; default 30,000 (Envoy `base_ejection_time`). */
  readonly baseEjectionTimeMs?: number | undefined;
  /** Cap on the ejection time in ms, ≥ `baseEjectionTimeMs`; default 300,000 or the base if larger (Envoy `max_ejection_time`). */
  readonly maxEjectionTimeMs?: number | undefined;
  /** Most targets ejected at once, in percent, 0–100 (one may always be); default 10 (Envoy `max_ejection_percent`). */
  readonly maxEjectionPercent?: number | undefined;
  /** Success-rate ejection; `true` for Envoy's defaults. Off when absent. */
  readonly successRate?: true | SuccessRateOptions | undefined;
  /** Failure-percentage ejection; `true` for Envoy's defaults. Off when absent. */
  readonly failurePercentage?: true | FailurePercentageOptions | undefined;
}

/** Success-rate ejection settings (Envoy `success_rate_*`). */
export interface SuccessRateOptions {
  /** Targets with enough volume needed for the check to run; default 5. */
  readonly minimumHosts?: number | undefined;
  /** Releases in the interval for a target to count; default 100. */
  readonly requestVolume?: number | undefined;
  /** Standard deviations below the mean, in thousandths (1900 = 1.9); default 1900. */
  readonly stdevFactor?: number | undefined;
}

/** Failure-percentage ejection settings (Envoy `failure_percentage_*`). */
export interface FailurePercentageOptions {
  /** Failure percentage at or above which a target is ejected, 0–100; default 85. */
  readonly threshold?: number | undefined;
  /** Targets with enough volume needed for the check to run; default 5. */
  readonly minimumHosts?: number | undefined;
  /** Releases in the interval for a target to count; default 50. */
  readonly requestVolume?: number | undefined;
}

interface SuccessRatePolicy {
  readonly minimumHosts: number;
  readonly requestVolume: number;
  readonly stdevFactor: number;
}

interface FailurePercentagePolicy {
  readonly threshold: number;
  readonly minimumHosts: number;
  readonly requestVolume: number;
}

/** Validated outlier-detection settings. */
export interface OutlierPolicy {
  readonly consecutiveFailures: number;
  readonly intervalMs: number;
  readonly baseEjectionTimeMs: number;
  readonly maxEjectionTimeMs: number;
  readonly maxEjectionPercent: number;
  readonly successRate: SuccessRatePolicy | null;
  readonly failurePercentage: FailurePercentagePolicy | null;
  /** Whether releases are counted per interval (success rate or failure percentage is on). */
  readonly counts: boolean;
}

const OUTLIER_KEYS = [
  'consecutiveFailures',
  'intervalMs',
  'baseEjectionTimeMs',
  'maxEjectionTimeMs',
  'maxEjectionPercent',
  'successRate',
  'failurePercentage',
] as const;

export function outlierPolicy(value: unknown): OutlierPolicy | null {
  const v = groupOption('outlier', value, OUTLIER_KEYS, 'true or { consecutiveFailures?, intervalMs?, baseEjectionTimeMs?, … }');
  if (v === undefined) return null;
  const baseEjectionTimeMs = positive('outlier.baseEjectionTimeMs', v.baseEjectionTimeMs, 30_000);
  // Envoy: an unset max_ejection_time is the default or the base time, whichever is larger.
  const maxEjectionTimeMs = numberOption('outlier.maxEjectionTimeMs', v.maxEjectionTimeMs, Math.max(300_000, baseEjectionTimeMs), 0);
  if (maxEjectionTimeMs < baseEjectionTimeMs) {
    // Envoy refuses this too: "max_ejection_time cannot be smaller than base_ejection_time".
    throw new InvalidOptionError('outlier.maxEjectionTimeMs', maxEjectionTimeMs, `a number >= outlier.baseEjectionTimeMs (${baseEjectionTimeMs})`);
  }
  const sr = groupOption('outlier.successRate', v.successRate, ['minimumHosts', 'requestVolume', 'stdevFactor'], 'true or { minimumHosts?, requestVolume?, stdevFactor? }');
  const fp = groupOption('outlier.failurePercentage', v.failurePercentage, ['threshold', 'minimumHosts', 'requestVolume'], 'true or { threshold?, minimumHosts?, requestVolume? }');
  const successRate =
    sr === undefined
      ? null
      : {
          minimumHosts: intOption('outlier.successRate.minimumHosts', sr.minimumHosts, 5, 0),
          requestVolume: intOption('outlier.successRate.requestVolume', sr.requestVolume, 100, 0),
          stdevFactor: numberOption('outlier.successRate.stdevFactor', sr.stdevFactor, 1900, 0),
        };
  const failurePercentage =
    fp === undefined
      ? null
      : {
          threshold: numberOption('outlier.failurePercentage.threshold', fp.threshold, 85, 0, 100),
          minimumHosts: intOption('outlier.failurePercentage.minimumHosts', fp.minimumHosts, 5, 0),
          requestVolume: intOption('outlier.failurePercentage.requestVolume', fp.requestVolume, 50, 0),
        };
  return {
    consecutiveFailures: intOption('outlier.consecutiveFailures', v.consecutiveFailures, 5, 0),
    intervalMs: positive('outlier.intervalMs', v.intervalMs, 10_000),
    baseEjectionTimeMs,
    maxEjectionTimeMs,
    maxEjectionPercent: numberOption('outlier.maxEjectionPercent', v.maxEjectionPercent, 10, 0, 100),
    successRate,
    failurePercentage,
    counts: successRate !== null || failurePercentage !== null,
  };
}

function positive(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0) || value === Number.POSITIVE_INFINITY) {
    throw new InvalidOptionError(name, value, 'a finite number > 0');
  }
  return value;
}

/**
 * Envoy's `DetectorImpl::ejectHost` check with `always_eject_one_host`: `ejected_percent =
 * 100 × (ejected + 1) / hosts`, eject when `ejected_percent <= max_ejection_percent` or when no
 * host is ejected. Equivalent to `ejected + 1 <= max(1, floor(hosts × percent / 100))`.
 */
export function mayEject(ejected: number, hosts: number, maxPercent: number): boolean {
  return ejected === 0 || (100 * (ejected + 1)) / hosts <= maxPercent;
}

/**
 * The largest number of targets that may be ejected at once among `hosts`:
 * `max(1, floor(hosts × percent / 100))` (0 for an empty balancer), as {@link mayEject} allows.
 */
export function ejectionCap(hosts: number, maxPercent: number): number {
  if (hosts === 0) return 0;
  let k = 1;
  while (k < hosts && mayEject(k, hosts, maxPercent)) k++;
  return k;
}

/**
 * Updates the member's ejection multiplier for an ejection at `now` and returns the ejection
 * time. Envoy (`ejectHost`, `onIntervalTimer`): the multiplier `ejectTimeBackoff` goes up by one
 * per ejection while `multiplier × base < max + base`, and down by one at every interval tick at
 * which the host has been back for at least an interval. Envoy's ticks fall every interval from
 * the return (which happens on a tick), so by `now` that is `floor((now − returned) / interval)`
 * decrements, applied here lazily at the next ejection. The time is `min(base × multiplier, max)`.
 */
export function ejectionTime<T extends Target>(m: Member<T>, policy: OutlierPolicy, now: number): number {
  let k = m.ejectBackoff;
  if (k > 0 && m.returnedAt === m.returnedAt) {
    const decay = Math.floor((now - m.returnedAt) / policy.intervalMs);
    k = decay >= k ? 0 : k - decay;
  }
  const base = policy.baseEjectionTimeMs;
  const max = policy.maxEjectionTimeMs;
  if (k * base < max + base) k++;
  m.ejectBackoff = k;
  const t = base * k;
  return t < max ? t : max;
}

/**
 * One interval pass of Envoy's `processSuccessRateEjections` over the counts gathered since the
 * previous pass: returns the members to eject, success-rate outliers first, then failure-
 * percentage ones (a member may appear in both), and resets every member's counts for the next
 * interval. Members already ejected are skipped, as are members with no releases (Envoy has no
 * success rate for a host without requests).
 */
export function intervalOutliers<T extends Target>(members: readonly Member<T>[], policy: OutlierPolicy): Member<T>[] {
  const sr = policy.successRate;
  const fp = policy.failurePercentage;
  const out: Member<T>[] = [];
  const n = members.length;
  const srMin = sr === null ? Number.POSITIVE_INFINITY : sr.minimumHosts;
  const fpMin = fp === null ? Number.POSITIVE_INFINITY : fp.minimumHosts;
  // Envoy exits early when the cluster is smaller than both minimums.
  if (n >= srMin || n >= fpMin) {
    const srHosts: Member<T>[] = [];
    const srRates: number[] = [];
    const fpHosts: Member<T>[] = [];
    const fpRates: number[] = [];
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const m = members[i]!;
      const total = m.intervalRequests;
      if ((m.health & Blocked.Ejected) !== 0 || total === 0) continue;
      const rate = ((total - m.intervalFailures) * 100) / total;
      if (sr !== null && total >= sr.requestVolume) {
        srHosts.push(m);
        srRates.push(rate);
        sum += rate;
      }
      if (fp !== null && total >= fp.requestVolume) {
        fpHosts.push(m);
        fpRates.push(rate);
      }
    }
    if (sr !== null && srHosts.length > 0 && srHosts.length >= sr.minimumHosts) {
      const mean = sum / srHosts.length;
      let variance = 0;
      for (const r of srRates) variance += (r - mean) * (r - mean);
      variance /= srHosts.length;
      const threshold = mean - (sr.stdevFactor / 1000) * Math.sqrt(variance);
      for (let i = 0; i < srHosts.length; i++) if (srRates[i]! < threshold) out.push(srHosts[i]!);
    }
    if (fp !== null && fpHosts.length > 0 && fpHosts.length >= fp.minimumHosts) {
      for (let i = 0; i < fpHosts.length; i++) if (100 - fpRates[i]! >= fp.threshold) out.push(fpHosts[i]!);
    }
  }
  for (let i = 0; i < n; i++) {
    const m = members[i]!;
    m.intervalRequests = 0;
    m.intervalFailures = 0;
  }
  return out;
}
