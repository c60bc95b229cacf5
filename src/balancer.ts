import { InvalidTargetError, NoTargetError, describe } from './core/errors.js';
import { OpenLease } from './core/lease.js';
import { Blocked, HEALTH_BITS, checkId, rampedWeight, type Member } from './core/member.js';
import { emit, type BalancerEvent, type EventListener } from './health/events.js';
import { passivePolicy, recordFailure, recordSelection, recordSuccess, type PassivePolicy } from './health/passive.js';
import { ejectionTime, intervalOutliers, mayEject, outlierPolicy, type OutlierPolicy } from './health/outlier.js';
import { rampFactor, slowStartPolicy, type SlowStartPolicy } from './health/slow-start.js';
import { COMMON_OPTIONS, checkOptionNames, functionOption, numberOption } from './core/options.js';
import { Registry, type WeightRule } from './core/registry.js';
import { createRandom, freshSeed, guardRandom, type RandomSource } from './core/rng.js';
import { guardClock, systemClock, type Clock } from './core/clock.js';
import type { Selector } from './core/selector.js';
import type { Balancer, BalancerOptions, Lease, PickRequest, Target, TargetStats } from './types.js';
import { InvalidOptionError } from './core/errors.js';

/** Weight of the newest sample in the latency EWMA shown by `stats()`. */
const LATENCY_ALPHA = 0.3;
/**
 * With success-rate or failure-percentage outlier detection, every this many successful
 * releases (a power of two, tested with a mask) read the clock to see whether an interval is
 * over; failed releases always do.
 */
const INTERVAL_CHECK_EVERY = 32;

interface Tier<T extends Target> {
  members: Member<T>[];
  readonly selector: Selector<T>;
}

/**
 * The shared base of every balancer: membership, leases, outcomes, exclusion, backups and
 * stats. A concrete balancer only supplies its {@link Selector} through `createSelector`.
 *
 * @typeParam T - the target type; `pick()` returns the very values passed in.
 * @example
 * ```ts
 * import { RoundRobin } from 'loadwise';
 * const lb = new RoundRobin(['a', 'b', { id: 'c', backup: true }], { seed: 1 });
 * lb.markDown('a');
 * lb.pick(); // 'b' (the backup 'c' only serves when no primary can)
 * ```
 */
export abstract class BaseBalancer<T extends Target = Target> implements Balancer<T> {
  /** The random source the algorithm draws from (seeded PRNG unless `random` was given). */
  protected readonly random: RandomSource;
  /** The clock used for latency and time-based rules. */
  protected readonly now: Clock;
  /** When true, `acquire` stamps leases with the clock so releases measure latency. */
  protected measuresLatency = false;
  /**
   * @internal A release's numbers: `[0]` latency in ms (NaN when unknown), `[1]` the clock
   * reading of the release (NaN unless a subclass took one). Passed by reference so that no
   * double crosses a call, which V8 would box (see `LeaseOwner` in core/lease.ts).
   */
  readonly releaseSample = new Float64Array(2).fill(Number.NaN);
  /**
   * A clock reading the selector took while choosing (PeakEwma decays its candidates with one),
   * or NaN: `acquire` stamps the lease with it instead of reading the clock again, and clears
   * it; `pick` clears it too, so no later lease sees a stale reading.
   */
  protected readonly pickTime = new Float64Array(1).fill(Number.NaN);

  private readonly registry: Registry<T>;
  private builtVersion = -1;
  private primary: Tier<T> | null = null;
  private backups: Tier<T> | null = null;
  /** Members out of rotation (blocked or at capacity); 0 lets selectors skip availability checks. */
  private unavailable = 0;
  /** Of those, the backups: with `unavailable` it tells whether a tier has an eligible member. */
  private unavailableBackups = 0;
  private tracksActive = false;
  private tracksLatency = false;
  private tracksAvailability = false;
  private requiresKey = false;
  /** Members excluded by the current pick (reused, never shrunk). */
  private readonly excludedBuf: Member<T>[] = [];

  private readonly passive: PassivePolicy | null;
  private readonly outlier: OutlierPolicy | null;
  /** Null also when the algorithm ignores weights (see `rampsWeights`). */
  private readonly slowStart: SlowStartPolicy | null;
  /** Targets ramping up (an upper bound; each refresh recounts). */
  private ramping = 0;
  /** Successful releases counted for the outlier interval check. */
  private releases = 0;
  /** When the current outlier interval (success rate, failure percentage) began. */
  private intervalStart = Number.NEGATIVE_INFINITY;
  /** Percent of healthy targets below which health is ignored (Envoy panic); 0 = off. */
  private readonly panicThreshold: number;
  private panic = false;
  private readonly onEvent: EventListener | undefined;
  /**
   * Earliest time something time-based is due: a passive failure window lapses, an ejection
   * ends, or slow-start weights need a refresh. Infinity when nothing is pending, and then a
   * pick never reads the clock.
   */
  private nextDue = Number.POSITIVE_INFINITY;
  /** Clock reading of the latest due-time scan, so that one instant is scanned once. */
  private scannedAt = Number.NaN;

  /**
   * @param targets - the initial targets, in order (may be empty).
   * @param options - common options plus the subclass's own.
   * @param optionNames - the subclass's own option names, for typo detection.
   */
  protected constructor(
    targets: readonly T[],
    options: BalancerOptions | undefined,
    optionNames: readonly string[],
    weightRule?: WeightRule,
  ) {
    checkOptionNames(options, [...COMMON_OPTIONS, ...optionNames]);
    const random = functionOption<RandomSource>('random', options?.random);
    const seed = options?.seed;
    if (seed !== undefined) numberOption('seed', seed, 0, -Number.MAX_VALUE);
    this.random = random === undefined ? createRandom(seed ?? freshSeed()) : guardRandom(random);
    const now = functionOption<Clock>('now', options?.now);
    this.now = now === undefined ? systemClock : guardClock(now);
    this.passive = passivePolicy(options?.passive);
    this.outlier = outlierPolicy(options?.outlier);
    const slowStart = slowStartPolicy(options?.slowStart);
    this.slowStart = this.rampsWeights() ? slowStart : null;
    const panic = options?.panicThreshold;
    this.panicThreshold = panic === undefined ? 0 : panic === true ? 50 : numberOption('panicThreshold', panic, 50, 0, 100);
    this.onEvent = functionOption<EventListener>('onEvent', options?.onEvent);
    this.registry = new Registry(targets, weightRule);
    if (this.outlier?.counts === true) this.intervalStart = this.now();
  }

  /**
   * Whether the algorithm routes on `Member.effectiveWeight`, so that slow start can ramp it.
   * False by default: unweighted algorithms have nothing to ramp, and the hash family keeps the
   * configured weights since changing one would remap keys.
   */
  protected rampsWeights(): boolean {
    return false;
  }

  /**
   * The current tiers' selectors and members, rebuilt first if membership changed; for
   * algorithm-specific queries beyond `pick` (such as rendezvous `pickN`).
   */
  protected tiers(): readonly { readonly members: readonly Member<T>[]; readonly selector: Selector<T> }[] {
    if (this.builtVersion !== this.registry.version) this.rebuild();
    return this.backups === null ? [this.primary!] : [this.primary!, this.backups];
  }

  /** Creates the algorithm's selector for one tier; called lazily, once per tier. */
  protected abstract createSelector(): Selector<T>;

  get size(): number {
    return this.registry.members.length;
  }

  pick(input?: string | PickRequest): T {
    const m = this.choose(input);
    this.pickTime[0] = Number.NaN;
    return m.target;
  }

  acquire(input?: string | PickRequest): Lease<T> {
    const m = this.choose(input);
    m.active++;
    if (m.active === m.maxActive && m.blocked === 0) {
      this.unavailable++;
      if (m.backup) this.unavailableBackups++;
      if (this.tracksAvailability) this.tierOf(m).selector.availabilityChanged!(m.pos);
    }
    if (this.tracksActive) this.tierOf(m).selector.activeChanged!(m.pos);
    let startedAt = Number.NaN;
    if (this.measuresLatency) {
      const slot = this.pickTime;
      startedAt = slot[0]!;
      if (startedAt === startedAt) slot[0] = Number.NaN;
      else startedAt = this.now();
    }
    return new OpenLease(this, m, startedAt);
  }

  /** @internal Called by a lease when it closes (its reported latency in `releaseSample[0]`); not part of the public API. */
  settle(m: Member<T>, ok: boolean, lease: OpenLease<T>): void {
    m.active--;
    if (!ok) m.failures++;
    const sample = this.releaseSample;
    let latencyMs = sample[0]!;
    if (latencyMs !== latencyMs) {
      const startedAt = lease.startedAt;
      if (startedAt === startedAt) {
        // A clock that went back measures no latency: the sample is dropped, not recorded < 0.
        const measured = this.now() - startedAt;
        if (measured >= 0) latencyMs = sample[0] = measured;
      }
    }
    if (latencyMs === latencyMs) {
      m.latencyMs = m.latencyMs === m.latencyMs ? m.latencyMs + LATENCY_ALPHA * (latencyMs - m.latencyMs) : latencyMs;
    }
    // A detached member (removed, or removed and re-added as a new record) touches nothing live.
    if (!m.attached) return;
    if (this.builtVersion === this.registry.version) {
      if (m.active === m.maxActive - 1 && m.blocked === 0) {
        this.unavailable--;
        if (m.backup) this.unavailableBackups--;
        if (this.tracksAvailability) this.tierOf(m).selector.availabilityChanged!(m.pos);
      }
      if (this.tracksActive) this.tierOf(m).selector.activeChanged!(m.pos);
      if (this.tracksLatency) this.tierOf(m).selector.released!(m.pos, ok, sample);
    }
    if (this.passive !== null) {
      if (!ok) this.passiveFailure(m, this.passive);
      else if (m.fails !== 0) recordSuccess(m);
      // A listener of the 'down' event may have removed the target.
      if (!m.attached) return;
    }
    const od = this.outlier;
    if (od !== null) {
      if (!ok) {
        this.outlierFailure(m, od);
      } else {
        if (m.streak !== 0) m.streak = 0;
        if (od.counts) {
          m.intervalRequests++;
          if ((++this.releases & (INTERVAL_CHECK_EVERY - 1)) === 0) this.intervalCheck(this.now(), od);
        }
      }
    }
  }

  /**
   * A failed release under outlier detection: counts it for the interval, and ejects the target
   * on its `consecutiveFailures`-th failure in a row. As in Envoy (`++consecutive_5xx_ ==
   * threshold`, then `onConsecutiveErrorWorker`), the streak restarts after an ejection attempt,
   * even one the cap refused, and failures arriving while the target is already ejected leave the
   * streak alone until it returns (when it restarts).
   */
  private outlierFailure(m: Member<T>, od: OutlierPolicy): void {
    if (od.consecutiveFailures > 0 && ++m.streak === od.consecutiveFailures && (m.health & Blocked.Ejected) === 0) {
      m.streak = 0;
      this.eject(m, od, this.now(), this.countEjected());
    }
    if (od.counts) {
      m.intervalRequests++;
      m.intervalFailures++;
      this.intervalCheck(this.now(), od);
    }
  }

  private countEjected(): number {
    let ejected = 0;
    for (const x of this.registry.members) if ((x.health & Blocked.Ejected) !== 0) ejected++;
    return ejected;
  }

  /** Ejects the member unless it already is or the cap forbids; `ejected` = how many are out now. */
  private eject(m: Member<T>, od: OutlierPolicy, now: number, ejected: number): boolean {
    if ((m.health & Blocked.Ejected) !== 0 || !m.attached) return false;
    if (!mayEject(ejected, this.registry.members.length, od.maxEjectionPercent)) return false;
    m.ejectedUntil = now + ejectionTime(m, od, now);
    if (m.ejectedUntil < this.nextDue) this.nextDue = m.ejectedUntil;
    this.setHealth(m, Blocked.Ejected, true, 'outlier', now);
    return true;
  }

  /** Runs the outlier interval pass when `intervalMs` has passed since the previous one. */
  private intervalCheck(now: number, od: OutlierPolicy): void {
    if (now - this.intervalStart >= od.intervalMs) this.runInterval(now, od);
  }

  /** Success-rate and failure-percentage ejection over the counts since the previous pass. */
  private runInterval(now: number, od: OutlierPolicy): void {
    this.intervalStart = now;
    const outliers = intervalOutliers(this.registry.members, od);
    // Counted again for each: a listener of the previous ejection may have changed membership.
    for (const m of outliers) if (m.attached) this.eject(m, od, now, this.countEjected());
  }

  /**
   * Runs outlier detection's periodic pass now: puts back the targets whose ejection time is
   * up, and (with `successRate` or `failurePercentage`) evaluates the releases counted since the
   * previous pass and ejects the outliers, whether or not `intervalMs` has passed. Evaluation
   * otherwise happens lazily, on releases and picks, without timers; call this from your own
   * timer to evaluate on a fixed schedule in spite of idle periods. Does nothing without the
   * `outlier` option.
   */
  evaluateOutliers(): void {
    const od = this.outlier;
    if (od === null) return;
    const now = this.now();
    this.catchUp(now);
    if (od.counts) this.runInterval(now, od);
  }

  private passiveFailure(m: Member<T>, policy: PassivePolicy): void {
    // nginx keeps no failure count for an upstream with a single server (`peers->single`: its
    // free_peer returns first): there is no one else to send the request to. So a lone target's
    // failures go to stats().failures only, and never start or extend a window.
    if (this.registry.members.length <= 1) return;
    const now = this.now();
    if (this.builtVersion === this.registry.version) {
      this.tierOf(m).selector.failureRecorded?.(m.pos, policy.maxFails);
    }
    if (recordFailure(m, policy, now)) {
      if (m.failedUntil < this.nextDue) this.nextDue = m.failedUntil;
      this.setHealth(m, Blocked.Failed, true, 'passive', now);
    }
  }

  add(target: T): void {
    const m = this.registry.add(target);
    if (this.slowStart !== null) this.startRamp(m, Number.NaN);
    this.membershipChanged();
  }

  remove(id: string): boolean {
    const removed = this.registry.remove(id) !== undefined;
    if (removed) this.membershipChanged();
    return removed;
  }

  setTargets(targets: readonly T[]): void {
    const before = this.slowStart !== null ? new Set(this.registry.members) : null;
    this.registry.setTargets(targets);
    for (const m of this.registry.members) {
      m.effectiveWeight = rampedWeight(m.weight, m.rampFactor);
      if (before !== null && !before.has(m)) this.startRamp(m, Number.NaN);
    }
    this.membershipChanged();
  }

  /**
   * After `add`, `remove` and `setTargets`: a target left alone is back in rotation if passive
   * counting had taken it out (the single-target rule, as nginx's `peers->single`), with its
   * count cleared; and, as in Envoy, which recomputes panic on every host-set change, the panic
   * decision is taken again for the new healthy share.
   */
  private membershipChanged(): void {
    const ms = this.registry.members;
    if (ms.length === 1 && this.passive !== null) {
      const m = ms[0]!;
      m.fails = 0;
      if ((m.health & Blocked.Failed) !== 0) this.setHealth(m, Blocked.Failed, false, 'passive', Number.NaN);
    }
    this.updatePanic(Number.NaN);
  }

  setWeight(id: string, weight: number): void {
    this.registry.setWeight(id, weight);
    const m = this.registry.get(id);
    m.effectiveWeight = rampedWeight(m.weight, m.rampFactor);
  }

  markDown(id: string): void {
    const m = this.registry.get(id);
    if ((m.blocked & Blocked.Manual) !== 0) return;
    this.setBlocked(m, Blocked.Manual, true);
    this.event('down', m.id, 'manual', Number.NaN);
    this.updatePanic(Number.NaN);
  }

  markUp(id: string): void {
    const m = this.registry.get(id);
    if ((m.blocked & Blocked.Manual) === 0) return;
    this.setBlocked(m, Blocked.Manual, false);
    if (m.health === 0 && this.slowStart !== null) this.startRamp(m, Number.NaN);
    this.event('up', m.id, 'manual', Number.NaN);
    this.updatePanic(Number.NaN);
  }

  /**
   * Reports the result of an active health check: an unhealthy target leaves rotation until it
   * is reported healthy again (independently of `markDown`, which stays the operator's call).
   * {@link loadwise!HealthChecker} calls this; call it yourself to feed checks from elsewhere.
   */
  reportHealth(id: string, healthy: boolean): void {
    this.setHealth(this.registry.get(id), Blocked.Unhealthy, !healthy, 'health-check', Number.NaN);
  }

  targets(): readonly T[] {
    const ms = this.registry.members;
    const out = new Array<T>(ms.length);
    for (let i = 0; i < ms.length; i++) out[i] = ms[i]!.target;
    return out;
  }

  stats(): readonly TargetStats[] {
    // Bring lazily evaluated state up to date: lapsed failures and ejections, ramp weights.
    if (this.nextDue !== Number.POSITIVE_INFINITY) this.catchUp(this.now());
    const ms = this.registry.members;
    const out: TargetStats[] = [];
    for (const m of ms) {
      const s: {
        -readonly [K in keyof TargetStats]: TargetStats[K];
      } = {
        id: m.id,
        weight: m.weight,
        effectiveWeight: m.effectiveWeight,
        active: m.active,
        picks: m.picks,
        failures: m.failures,
        state:
          (m.blocked & Blocked.Manual) !== 0 || (m.health & (Blocked.Failed | Blocked.Unhealthy)) !== 0
            ? 'down'
            : (m.health & Blocked.Ejected) !== 0
              ? 'ejected'
              : m.rampFrom === m.rampFrom
                ? 'slow-start'
                : m.backup
                  ? 'backup'
                  : 'up',
      };
      if (m.latencyMs === m.latencyMs) s.latencyMs = m.latencyMs;
      out.push(s);
    }
    return out;
  }

  private choose(input: string | PickRequest | undefined): Member<T> {
    // Read and check the input first: a getter that throws, or a bad value, finds nothing changed.
    let key: string | undefined;
    let exclude: readonly string[] | undefined;
    if (typeof input === 'string') {
      key = input;
    } else if (input !== undefined) {
      if (typeof input !== 'object' || input === null) throw badInput(input);
      key = input.key;
      exclude = input.exclude;
      checkRequest(key, exclude);
    }
    this.prepare(key);
    const marked = exclude !== undefined ? this.mark(exclude) : 0;
    let m: Member<T>;
    if (marked === 0) {
      m = this.select(key, 0);
    } else {
      // The marks come off on every way out: a result, NoTargetError, or whatever a user's
      // random source or clock throws.
      try {
        m = this.select(key, marked);
      } finally {
        this.unmark(marked);
      }
    }
    if (m.fails !== 0 && this.passive !== null) recordSelection(m, this.passive, this.now());
    m.picks++;
    return m;
  }

  /**
   * What every pick does before choosing: apply what is due (only while something time-based is
   * pending, a failure window, an ejection or a ramp, does a pick read the clock), rebuild the
   * tables if membership changed, and insist on a key where the algorithm routes by one.
   */
  private prepare(key: string | undefined): void {
    if (this.nextDue !== Number.POSITIVE_INFINITY) this.due();
    if (this.builtVersion !== this.registry.version) this.rebuild();
    if (key === undefined && this.requiresKey) {
      throw new InvalidOptionError('key', key, 'a string: hash balancers route by key, e.g. pick(key) or pick({ key })');
    }
  }

  /**
   * For queries that list several targets (Rendezvous `pickN`): checks `count` and the input
   * exactly as `pick` does (the same errors, before anything changes), prepares as a pick does,
   * marks the exclusions, and lets `fill` append up to `count` targets from each tier in turn,
   * primaries first, until there are `count`. Marks are cleared on every way out; no lease is
   * opened and no pick is counted.
   */
  protected rank(
    input: string | PickRequest | undefined,
    count: number,
    fill: (selector: Selector<T>, key: string | undefined, count: number, out: T[]) => void,
  ): T[] {
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) throw new InvalidOptionError('count', count, 'an integer >= 0');
    let key: string | undefined;
    let exclude: readonly string[] | undefined;
    if (typeof input === 'string') {
      key = input;
    } else if (input !== undefined) {
      if (typeof input !== 'object' || input === null) throw badInput(input);
      key = input.key;
      exclude = input.exclude;
      checkRequest(key, exclude);
    }
    this.prepare(key);
    const out: T[] = [];
    const marked = exclude !== undefined ? this.mark(exclude) : 0;
    try {
      if (count > 0) fill(this.primary!.selector, key, count, out);
      if (out.length < count && this.backups !== null) fill(this.backups.selector, key, count, out);
    } finally {
      this.unmark(marked);
    }
    return out;
  }

  /**
   * Asks the primaries' selector, then the backups', for a member. A tier is asked only when it
   * has an eligible member, so a pick that finds none (everything excluded, down or full)
   * throws `NoTargetError` having advanced no selector's state (random stream, cursor, current
   * weights), and a pick served by the backups leaves the primaries' state as it was.
   */
  private select(key: string | undefined, marked: number): Member<T> {
    const filtered = marked > 0 || this.unavailable > 0;
    let tier = this.primary!;
    let i = -1;
    // Unfiltered, every member is eligible; `eligible` (never called then) stays off the hot path.
    if (filtered ? this.eligible(tier, false, marked) : tier.members.length > 0) {
      i = tier.selector.select(key, filtered, this.excludedBuf, marked);
    }
    if (i < 0 && this.backups !== null && (filtered ? this.eligible(this.backups, true, marked) : this.backups.members.length > 0)) {
      tier = this.backups;
      i = tier.selector.select(key, filtered, this.excludedBuf, marked);
    }
    if (i < 0) throw this.noTargetError();
    return tier.members[i]!;
  }

  /** Whether the tier has a member that is not blocked, not full and not excluded: O(marked). */
  private eligible(tier: Tier<T>, backup: boolean, marked: number): boolean {
    const n = tier.members.length;
    if (n === 0) return false;
    let out = backup ? this.unavailableBackups : this.unavailable - this.unavailableBackups;
    const excluded = this.excludedBuf;
    for (let e = 0; e < marked; e++) {
      const m = excluded[e]!;
      if (m.backup === backup && m.blocked === 0 && m.active < m.maxActive) out++;
    }
    return out < n;
  }

  /**
   * Sets the per-pick exclusion flag on the members named in `ids` and lists them in
   * `excludedBuf[0..count)`; returns the count of distinct members marked. Reading `ids` may
   * throw (a getter, a Proxy): then the marks set so far are cleared before the error goes on.
   */
  private mark(ids: readonly string[]): number {
    let n = 0;
    const byId = this.registry.byId;
    const buf = this.excludedBuf;
    try {
      const length = ids.length;
      for (let i = 0; i < length; i++) {
        const id = ids[i];
        const m = typeof id === 'string' ? byId.get(id) : undefined;
        if (m !== undefined && !m.excluded) {
          m.excluded = true;
          buf[n++] = m;
        }
      }
    } catch (err) {
      this.unmark(n);
      throw err;
    }
    return n;
  }

  /** Clears the marks of `excludedBuf[0..count)`, the members `mark` flagged. */
  private unmark(count: number): void {
    const buf = this.excludedBuf;
    for (let e = 0; e < count; e++) buf[e]!.excluded = false;
  }

  private rebuild(): void {
    const primaries: Member<T>[] = [];
    const backups: Member<T>[] = [];
    let unavailable = 0;
    let unavailableBackups = 0;
    for (const m of this.registry.members) {
      m.effectiveWeight = m.rampFactor === 1 ? m.weight : rampedWeight(m.weight, m.rampFactor);
      const tier = m.backup ? backups : primaries;
      m.pos = tier.length;
      tier.push(m);
      if (m.blocked !== 0 || m.active >= m.maxActive) {
        unavailable++;
        if (m.backup) unavailableBackups++;
      }
    }
    if (this.primary === null) {
      const selector = this.createSelector();
      this.primary = { members: primaries, selector };
      this.tracksActive = selector.tracksActive === true;
      this.tracksLatency = selector.tracksLatency === true;
      this.tracksAvailability = selector.tracksAvailability === true;
      this.requiresKey = selector.requiresKey === true;
    } else {
      this.primary.members = primaries;
    }
    if (backups.length > 0 && this.backups === null) this.backups = { members: backups, selector: this.createSelector() };
    else if (this.backups !== null) this.backups.members = backups;
    this.unavailable = unavailable;
    this.unavailableBackups = unavailableBackups;
    this.primary.selector.rebuild(primaries);
    this.backups?.selector.rebuild(backups);
    if (this.backups !== null && backups.length === 0) this.backups = null;
    this.builtVersion = this.registry.version;
  }

  private tierOf(m: Member<T>): Tier<T> {
    return m.backup ? this.backups! : this.primary!;
  }

  private setBlocked(m: Member<T>, bit: number, on: boolean): void {
    const before = m.blocked !== 0 || m.active >= m.maxActive;
    m.blocked = on ? m.blocked | bit : m.blocked & ~bit;
    const after = m.blocked !== 0 || m.active >= m.maxActive;
    if (before === after || this.builtVersion !== this.registry.version) return;
    this.unavailable += after ? 1 : -1;
    if (m.backup) this.unavailableBackups += after ? 1 : -1;
    if (this.tracksAvailability) this.tierOf(m).selector.availabilityChanged!(m.pos);
  }

  /** Sets or clears a health bit, applies it unless in panic, and reports the transition. */
  private setHealth(m: Member<T>, bit: number, on: boolean, reason: BalancerEvent['reason'], at: number): void {
    const was = (m.health & bit) !== 0;
    if (was === on) return;
    m.health = on ? m.health | bit : m.health & ~bit;
    if (!this.panic) this.setBlocked(m, bit, on);
    // Back to healthy and not marked down: ramp up again (Envoy's slow start on recovery).
    if (!on && m.health === 0 && (m.blocked & Blocked.Manual) === 0 && this.slowStart !== null) this.startRamp(m, at);
    const type = bit === Blocked.Ejected ? (on ? 'eject' : 'return') : on ? 'down' : 'up';
    this.event(type, m.id, reason, at);
    this.updatePanic(at);
  }

  /** A pick found something due: catch up, and run an outlier interval pass if one is over. */
  private due(): void {
    const now = this.now();
    this.catchUp(now);
    const od = this.outlier;
    if (od !== null && od.counts) this.intervalCheck(now, od);
  }

  /**
   * Applies what is due by `now`: passive failure windows that have lapsed (strictly passed, as in
   * nginx, where `now - checked <= fail_timeout` still skips), ejections whose time is up (at
   * that very time, as Envoy's `ejection time <= now - ejected at`), and slow-start weights.
   * Sets `nextDue` to the next such time. Scans each clock reading once: nothing scheduled at
   * `now` is ever due at `now` itself.
   */
  private catchUp(now: number): void {
    if (now < this.nextDue || now === this.scannedAt) return;
    this.scannedAt = now;
    // Whatever the scan's own transitions schedule (a ramp, via an event listener a failure)
    // lowers nextDue from here; the scan's findings are merged in at the end.
    this.nextDue = Number.POSITIVE_INFINITY;
    let next = Number.POSITIVE_INFINITY;
    // Listeners of the transitions below may change membership: the loop runs over the array
    // it started with (never changed in place, see Registry.members) and skips what they removed.
    for (const m of this.registry.members) {
      if (!m.attached) continue;
      if ((m.health & Blocked.Failed) !== 0) {
        if (m.failedUntil < now) this.setHealth(m, Blocked.Failed, false, 'passive', now);
        else if (m.failedUntil < next) next = m.failedUntil;
      }
      if ((m.health & Blocked.Ejected) !== 0 && m.attached) {
        if (m.ejectedUntil <= now) {
          // Envoy's unejectHost: the failure streak restarts.
          m.streak = 0;
          m.returnedAt = now;
          this.setHealth(m, Blocked.Ejected, false, 'outlier', now);
        } else if (m.ejectedUntil < next) next = m.ejectedUntil;
      }
    }
    if (this.ramping > 0 && this.slowStart !== null) {
      const r = this.refreshRamps(now, this.slowStart);
      if (r < next) next = r;
    }
    if (next < this.nextDue) this.nextDue = next;
  }

  /** Starts (or restarts) the member's slow-start ramp at `at` (NaN: read the clock). */
  private startRamp(m: Member<T>, at: number): void {
    const p = this.slowStart!;
    const now = at === at ? at : this.now();
    m.rampFrom = now;
    m.rampFactor = rampFactor(0, p);
    m.effectiveWeight = rampedWeight(m.weight, m.rampFactor);
    this.ramping++;
    // The selectors' tables hold weights: rebuild them before the next pick.
    this.registry.version++;
    const refresh = now + p.refreshMs;
    if (refresh < this.nextDue) this.nextDue = refresh;
  }

  /**
   * Recomputes the effective weight of every ramping member from the exact time, ends the
   * ramps that are over, and has the selectors rebuild. Returns when to refresh next: after
   * `refreshMs`, or when a ramp ends if that is sooner.
   */
  private refreshRamps(now: number, p: SlowStartPolicy): number {
    let ramping = 0;
    let next = Number.POSITIVE_INFINITY;
    let changed = false;
    for (const m of this.registry.members) {
      if (m.rampFrom !== m.rampFrom) continue;
      const elapsed = now - m.rampFrom;
      let factor = 1;
      if (elapsed >= p.windowMs) {
        m.rampFrom = Number.NaN;
      } else {
        factor = rampFactor(elapsed, p);
        ramping++;
        const end = m.rampFrom + p.windowMs;
        if (end < next) next = end;
      }
      if (factor !== m.rampFactor) {
        m.rampFactor = factor;
        m.effectiveWeight = rampedWeight(m.weight, factor);
        changed = true;
      }
    }
    this.ramping = ramping;
    if (changed) this.registry.version++;
    if (ramping === 0) return Number.POSITIVE_INFINITY;
    return now + p.refreshMs < next ? now + p.refreshMs : next;
  }

  /**
   * Envoy's panic mode: when fewer than `panicThreshold` % of the targets are healthy, health is
   * ignored and traffic spreads over all of them, rather than crushing the few that are left.
   */
  private updatePanic(at: number): void {
    if (this.panicThreshold === 0) return;
    const ms = this.registry.members;
    let healthy = 0;
    for (const m of ms) if (m.health === 0 && (m.blocked & Blocked.Manual) === 0) healthy++;
    const panic = ms.length > 0 && healthy * 100 < this.panicThreshold * ms.length;
    if (panic === this.panic) return;
    this.panic = panic;
    for (const m of ms) m.blocked = (m.blocked & ~HEALTH_BITS) | (panic ? 0 : m.health);
    // Many members change at once: rebuild the tables rather than notify one by one.
    this.registry.version++;
    this.event(panic ? 'panic' : 'calm', undefined, 'threshold', at);
  }

  private event(type: BalancerEvent['type'], id: string | undefined, reason: BalancerEvent['reason'], at: number): void {
    if (this.onEvent === undefined) return;
    const time = at === at ? at : this.now();
    emit(this.onEvent, id === undefined ? { type, reason, at: time } : { type, id, reason, at: time });
  }

  /** Explains why nothing was picked; runs only on the failure path, while exclusions are marked. */
  private noTargetError(): NoTargetError {
    const ms = this.registry.members;
    if (ms.length === 0) return new NoTargetError('no targets: the balancer is empty', 0);
    let down = 0;
    let excluded = 0;
    let full = 0;
    for (const m of ms) {
      if (m.blocked !== 0) down++;
      else if (m.excluded) excluded++;
      else if (m.active >= m.maxActive) full++;
    }
    // Capacity gets its own code: the caller should shed load, not report an outage.
    return new NoTargetError(
      `no eligible target among ${ms.length}: ${down} down, ${excluded} excluded, ${full} at maxActive`,
      ms.length,
      full > 0 ? 'ERR_TARGETS_AT_CAPACITY' : 'ERR_NO_TARGET',
    );
  }
}

function badInput(input: unknown): InvalidOptionError {
  return new InvalidOptionError('input', input, 'a key string or { key?, exclude? }');
}

/** The checks of a `{ key, exclude }` request, shared by `pick`, `acquire` and `rank`. */
function checkRequest(key: unknown, exclude: unknown): void {
  if (key !== undefined && typeof key !== 'string') throw new InvalidOptionError('key', key, 'a string');
  if (exclude !== undefined && !Array.isArray(exclude)) throw new InvalidOptionError('exclude', exclude, 'an array of ids');
}

/** Returns the id of a target value (a string is its own id); throws a coded error for a value that is no target. */
export function targetId(target: Target): string {
  if (typeof target === 'string') return target;
  if (typeof target !== 'object' || target === null) {
    throw new InvalidTargetError(`invalid target ${describe(target)}: expected an id string or an object with an id`);
  }
  return checkId(target.id);
}
