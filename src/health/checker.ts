import type { AbortSignalLike, HealthTimers, RuntimeAbortSignal } from '../core/runtime.js';
import { targetId } from '../balancer.js';
import { systemClock, type Clock } from '../core/clock.js';
import { InvalidOptionError, LoadwiseError, UnknownIdError } from '../core/errors.js';
import { checkOptionNames, functionOption, intOption, numberOption, timerOption, timersOption } from '../core/options.js';
import { ProbeFlights, ProbeSchedule, type ProbeEnd } from '../core/probe-loop.js';
import { createRandom, freshSeed, type RandomSource } from '../core/rng.js';
import { checkId } from '../core/member.js';
import type { Balancer, Target } from '../types.js';

export type { HealthTimers } from '../core/runtime.js';

/**
 * What an active health check concluded about a target.
 *
 * @example
 * ```ts
 * const s: HealthState | undefined = checker.state('10.0.0.1:8080');
 * if (s === 'unhealthy') console.warn('10.0.0.1:8080 is out of rotation');
 * ```
 */
export type HealthState = 'healthy' | 'unhealthy';

/**
 * The part of an `AbortSignal` a probe can rely on. Any real `AbortSignal` (Node, Deno, Bun,
 * browsers) fits; it is only the fallback type of {@link ProbeSignal} for programs compiled
 * without the DOM lib or `@types/node`.
 *
 * @example
 * ```ts
 * const probe = async (target: string, signal: ProbeSignalLike) => {
 *   signal.addEventListener('abort', () => socket.destroy(), { once: true });
 *   return ping(target);
 * };
 * ```
 */
export type ProbeSignalLike = AbortSignalLike;

/**
 * The signal handed to each probe: the runtime's own `AbortSignal` type wherever the program has
 * one (the DOM lib or `@types/node`), so it can go straight to `fetch`; {@link ProbeSignalLike}
 * otherwise. At run time it is always a real `AbortSignal`. It is aborted when the probe times
 * out (reason: a `TimeoutError`), when the checker stops, and when the target leaves the balancer
 * (reason: an `AbortError`).
 *
 * @example
 * ```ts
 * const probe: Probe<Backend> = (b, signal: ProbeSignal) =>
 *   fetch(`${b.url}/health`, { signal }).then((res) => res.ok);
 * ```
 */
export type ProbeSignal = RuntimeAbortSignal;

/**
 * An active health check for one target. Resolve `true` for healthy; anything else (`false`, a
 * non-boolean, a rejection, a throw, or not settling within `timeoutMs`) is a failed check.
 * Honour `signal`: it fires when the check is no longer wanted.
 *
 * @typeParam T - the balancer's target type.
 * @example
 * ```ts
 * const probe: Probe<{ id: string; url: string }> = async (target, signal) => {
 *   const res = await fetch(`${target.url}/healthz`, { signal });
 *   return res.status === 200;
 * };
 * ```
 */
export type Probe<T extends Target = Target> = (target: T, signal: ProbeSignal) => Promise<boolean>;

/**
 * A health transition, passed to the `onChange` option: a target crossed the
 * `unhealthyThreshold` (to `'unhealthy'`) or the `healthyThreshold` (to `'healthy'`).
 *
 * @typeParam T - the balancer's target type.
 * @example
 * ```ts
 * new HealthChecker(lb, probe, {
 *   onChange: (c: HealthChange) => log.warn(`${c.id}: ${c.previous} → ${c.state}`, c.error),
 * });
 * ```
 */
export interface HealthChange<T extends Target = Target> {
  readonly id: string;
  /** The target value, as the balancer holds it. */
  readonly target: T;
  readonly state: HealthState;
  readonly previous: HealthState;
  /** The checker clock's time of the transition, in ms. */
  readonly at: number;
  /**
   * On a transition to `'unhealthy'`: what the last failed probe threw or rejected with (a
   * `TimeoutError` when it timed out). Absent when the probe resolved `false`.
   */
  readonly error?: unknown;
}

/**
 * Options of {@link HealthChecker}. Every one is optional; bad values throw
 * `InvalidOptionError` naming the option and the value.
 *
 * @typeParam T - the balancer's target type.
 * @example
 * ```ts
 * const options: HealthCheckerOptions<string> = {
 *   intervalMs: 2_000,       // HAProxy `inter`
 *   timeoutMs: 500,          // HAProxy `timeout check`
 *   jitter: 0.2,             // each round 1,600–2,400 ms after the last
 *   healthyThreshold: 2,     // HAProxy `rise`
 *   unhealthyThreshold: 3,   // HAProxy `fall`
 *   initialState: 'unhealthy',
 * };
 * ```
 */
export interface HealthCheckerOptions<T extends Target = Target> {
  /** Time between the starts of two rounds of probes, in ms; default 5,000. */
  readonly intervalMs?: number | undefined;
  /**
   * How long a probe may take before it counts as failed and its signal is aborted, in ms;
   * default `min(1,000, intervalMs)`. It may exceed `intervalMs`: a target whose probe is
   * still running simply skips the rounds that come meanwhile.
   */
  readonly timeoutMs?: number | undefined;
  /**
   * Spread of the interval, as a fraction from 0 to 1 (default 0.1): each round starts
   * `intervalMs × (1 ± jitter)` after the previous one, uniformly, so that many checkers
   * started together drift apart (HAProxy `spread-checks`) while the mean rate stays
   * `1 / intervalMs`.
   */
  readonly jitter?: number | undefined;
  /** Consecutive successful checks that bring an unhealthy target back (HAProxy `rise`); default 2. */
  readonly healthyThreshold?: number | undefined;
  /** Consecutive failed checks that take a healthy target out (HAProxy `fall`); default 3. */
  readonly unhealthyThreshold?: number | undefined;
  /**
   * The state a target has when the checker first sees it; default `'healthy'` (HAProxy: a
   * server starts up and needs `fall` failures to go down). With `'unhealthy'` (Envoy's
   * behaviour), a target is reported unhealthy as soon as it is seen (on `start()`, `checkNow()`
   * or the first round after it was added) and its first probe is made right away; if that very
   * first check succeeds the target is healthy at once (Envoy's startup rule), otherwise it needs
   * `healthyThreshold` consecutive successes like any unhealthy target.
   */
  readonly initialState?: HealthState | undefined;
  /** Seed for the built-in PRNG that draws the jitter. */
  readonly seed?: number | undefined;
  /** A `[0, 1)` random source for the jitter instead of the built-in PRNG (overrides `seed`). */
  readonly random?: (() => number) | undefined;
  /** Clock in ms for the `at` of {@link HealthChange}; default `performance.now()`. */
  readonly now?: (() => number) | undefined;
  /** Timer functions; default the runtime's `setTimeout` / `clearTimeout`, looked up at call time. */
  readonly timers?: HealthTimers | undefined;
  /** Called on every transition; a listener that throws is ignored. */
  readonly onChange?: ((change: HealthChange<T>) => void) | undefined;
}

const OPTION_NAMES = [
  'intervalMs',
  'timeoutMs',
  'jitter',
  'healthyThreshold',
  'unhealthyThreshold',
  'initialState',
  'seed',
  'random',
  'now',
  'timers',
  'onChange',
] as const;

/** A probe's end that counts: an answer, or a failure (threw, rejected, timed out). */
type Check = Exclude<ProbeEnd<boolean>, { readonly kind: 'cancelled' }>;

/** What the checker knows about one target. */
interface Entry<T extends Target> {
  readonly id: string;
  target: T;
  state: HealthState;
  /** Consecutive successful / failed checks. */
  successes: number;
  failures: number;
  /** Whether any check has completed (for Envoy's first-check rule). */
  checked: boolean;
  /** The sync generation in which the target was last seen in the balancer. */
  seen: number;
}

/**
 * Active health checks: probes every target of a balancer on an interval and takes targets out
 * of rotation (`balancer.reportHealth(id, false)`) after `unhealthyThreshold` consecutive failed
 * checks, and back in after `healthyThreshold` consecutive successes (HAProxy `fall` / `rise`).
 *
 * - Works with any {@link Balancer}; follows its membership: each round reads
 *   `balancer.targets()`, so targets added later are probed and the state of removed ones is
 *   forgotten (their probes in flight are aborted and ignored).
 * - All targets are probed concurrently, once per round; rounds start `intervalMs` (± jitter)
 *   apart. A target whose probe is still running when a round comes skips that round: probes
 *   of one target never overlap.
 * - A probe that throws, rejects, resolves anything but `true`, or takes longer than
 *   `timeoutMs` is a failed check; on time-out its signal is aborted.
 * - Timers are unref'ed (Node, Bun; `Deno.unrefTimer` on Deno): a running checker never keeps
 *   the process alive.
 * - `reportHealth` is called only on transitions; if it throws `UnknownIdError` (the target left
 *   the balancer since the last round) the checker forgets that target, and other errors it
 *   throws are ignored. `stop()` leaves the balancer as it is:
 *   targets reported unhealthy stay out until the checker runs again or you report them
 *   healthy yourself.
 *
 * @typeParam T - the balancer's target type.
 * @example
 * ```ts
 * import { HealthChecker, RoundRobin } from 'loadwise';
 *
 * const backends = [
 *   { id: 'a', url: 'http://10.0.0.1:8080' },
 *   { id: 'b', url: 'http://10.0.0.2:8080' },
 * ];
 * const lb = new RoundRobin(backends);
 * const checker = new HealthChecker(
 *   lb,
 *   async (b, signal) => (await fetch(`${b.url}/health`, { signal })).ok,
 *   { intervalMs: 2_000, timeoutMs: 500, unhealthyThreshold: 3, healthyThreshold: 2 },
 * );
 * checker.start();
 * // ... later, on shutdown:
 * checker.stop();
 * ```
 */
export class HealthChecker<T extends Target = Target> {
  private readonly balancer: Balancer<T>;
  private readonly rise: number;
  private readonly fall: number;
  private readonly initialState: HealthState;
  private readonly now: Clock;
  private readonly onChange: ((change: HealthChange<T>) => void) | undefined;
  private readonly schedule: ProbeSchedule;
  /** Keyed by entry, not id: a target removed and added again is a new entry with new probes. */
  private readonly flights: ProbeFlights<Entry<T>, boolean>;

  private readonly entries = new Map<string, Entry<T>>();
  private generation = 0;

  /**
   * @param balancer - any {@link Balancer}; the checker calls `targets()` and `reportHealth()`.
   * @param probe - the check; see {@link Probe}.
   * @param options - see {@link HealthCheckerOptions}.
   * @throws InvalidOptionError for a bad balancer, probe or option.
   * @example
   * ```ts
   * const checker = new HealthChecker(lb, (target, signal) => ping(target, signal), { intervalMs: 1_000 });
   * ```
   */
  constructor(balancer: Balancer<T>, probe: Probe<T>, options?: HealthCheckerOptions<T>) {
    if (
      typeof balancer !== 'object' ||
      balancer === null ||
      typeof balancer.targets !== 'function' ||
      typeof balancer.reportHealth !== 'function'
    ) {
      throw new InvalidOptionError('balancer', balancer, 'a Balancer with targets() and reportHealth()');
    }
    if (typeof probe !== 'function') throw new InvalidOptionError('probe', probe, 'a function (target, signal) => Promise<boolean>');
    checkOptionNames(options, OPTION_NAMES);
    const o = options ?? {};
    this.balancer = balancer;
    const intervalMs = timerOption('intervalMs', o.intervalMs, 5_000);
    const timeoutMs = timerOption('timeoutMs', o.timeoutMs, Math.min(1_000, intervalMs));
    const jitter = numberOption('jitter', o.jitter, 0.1, 0, 1);
    this.rise = intOption('healthyThreshold', o.healthyThreshold, 2, 1);
    this.fall = intOption('unhealthyThreshold', o.unhealthyThreshold, 3, 1);
    const initial = o.initialState ?? 'healthy';
    if (initial !== 'healthy' && initial !== 'unhealthy') {
      throw new InvalidOptionError('initialState', initial, "'healthy' or 'unhealthy'");
    }
    this.initialState = initial;
    const seed = numberOption('seed', o.seed, 0, -Number.MAX_VALUE);
    const random = functionOption<RandomSource>('random', o.random) ?? createRandom(o.seed === undefined ? freshSeed() : seed);
    this.now = functionOption<Clock>('now', o.now) ?? systemClock;
    const timers = timersOption(o.timers);
    this.onChange = functionOption<(change: HealthChange<T>) => void>('onChange', o.onChange);
    this.schedule = new ProbeSchedule({ timers, intervalMs, jitter: { fraction: jitter, random }, round: () => this.round() });
    this.flights = new ProbeFlights<Entry<T>, boolean>({
      timers,
      timeoutMs,
      probe: (e, signal) => probe(e.target, signal),
      name: (e) => `health check of ${JSON.stringify(e.id)}`,
      onEnd: (e, end) => {
        if (end.kind === 'cancelled' || this.entries.get(e.id) !== e) return;
        try {
          this.record(e, end);
        } catch {
          // only a user clock can throw here; a scheduled probe must not end in an unhandled rejection
        }
      },
    });
  }

  /** Whether the checker is started (between `start()` and `stop()`). */
  get running(): boolean {
    return this.schedule.running;
  }

  /**
   * Starts checking: a first round of probes right away, then one every `intervalMs` (± jitter).
   * Does nothing if already started.
   *
   * @example
   * ```ts
   * checker.start();
   * ```
   */
  start(): void {
    this.schedule.start();
  }

  /**
   * Stops checking: clears the timer, aborts the probes in flight and ignores their results.
   * Idempotent. What the checker learned is kept, and the balancer is left as it is; `start()`
   * resumes from there.
   *
   * @example
   * ```ts
   * onShutdown(() => checker.stop()); // your server's shutdown hook
   * ```
   */
  stop(): void {
    this.schedule.stop();
    this.flights.cancelAll('HealthChecker stopped');
  }

  /**
   * Probes every target (or just `id`) now, outside the schedule, and resolves once those checks
   * are recorded. A target whose probe is already running is not probed twice: its running
   * probe is awaited instead. Works whether or not the checker is started; does not move the
   * schedule. Rejects with `UnknownIdError` if `id` is not in the balancer.
   *
   * @param id - one target's id; all targets when omitted.
   * @example
   * ```ts
   * await checker.checkNow();          // e.g. before accepting traffic
   * await checker.checkNow('b:8080');  // after an operator fixed b
   * checker.state('b:8080');           // 'healthy' or 'unhealthy'
   * ```
   */
  checkNow(id?: string): Promise<void> {
    try {
      this.sync();
      if (id !== undefined) {
        const e = this.entries.get(id);
        if (e === undefined) throw new UnknownIdError(checkId(id));
        return this.flights.probe(e);
      }
      return this.flights.probeAll(this.entries.values());
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * What the checker concluded about a target: `'healthy'`, `'unhealthy'`, or `undefined` for an
   * id it does not track (not in the balancer, or not seen yet: the checker learns the membership
   * on `start()`, on `checkNow()` and at each round).
   *
   * @example
   * ```ts
   * if (checker.state('a') === 'unhealthy') console.warn('a is failing its health checks');
   * ```
   */
  state(id: string): HealthState | undefined {
    return this.entries.get(id)?.state;
  }

  // ── scheduling ────────────────────────────────────────────────────────────────────────────

  /** One scheduled round; a target whose probe still runs skips it (`probe` joins, no overlap). */
  private round(): void {
    this.sync();
    for (const e of this.entries.values()) void this.flights.probe(e);
  }

  /** Reads the balancer's membership: tracks new targets, forgets removed ones. */
  private sync(): void {
    const targets: unknown = this.balancer.targets();
    if (!Array.isArray(targets)) throw new InvalidOptionError('balancer', targets, 'a Balancer whose targets() returns an array');
    const gen = ++this.generation;
    for (const target of targets) {
      const id = targetId(target);
      const e = this.entries.get(id);
      if (e !== undefined) {
        e.seen = gen;
        e.target = target;
        continue;
      }
      this.entries.set(id, {
        id,
        target,
        state: this.initialState,
        successes: 0,
        failures: 0,
        checked: false,
        seen: gen,
      });
      if (this.initialState === 'unhealthy') this.report(id, false);
    }
    for (const [id, e] of this.entries) {
      if (e.seen === gen) continue;
      this.entries.delete(id);
      this.flights.cancel(e, 'target removed from the balancer');
    }
  }

  // ── recording ─────────────────────────────────────────────────────────────────────────────

  /** Counts one check and reports a transition when a threshold is crossed. */
  private record(e: Entry<T>, check: Check): void {
    const first = !e.checked;
    e.checked = true;
    if (check.kind === 'answer' && check.value === true) {
      e.successes++;
      e.failures = 0;
      // Envoy: a target that starts unhealthy comes in on its very first successful check.
      if (e.state === 'unhealthy' && (e.successes >= this.rise || first)) this.transition(e, 'healthy', check);
    } else {
      e.failures++;
      e.successes = 0;
      if (e.state === 'healthy' && e.failures >= this.fall) this.transition(e, 'unhealthy', check);
    }
  }

  private transition(e: Entry<T>, state: HealthState, check: Check): void {
    const previous = e.state;
    e.state = state;
    if (!this.report(e.id, state === 'healthy')) {
      // The target left the balancer since the last round: forget it.
      if (this.entries.get(e.id) === e) this.entries.delete(e.id);
      return;
    }
    const listener = this.onChange;
    if (listener === undefined) return;
    const change: { -readonly [K in keyof HealthChange<T>]: HealthChange<T>[K] } = {
      id: e.id,
      target: e.target,
      state,
      previous,
      at: this.now(),
    };
    if (check.kind === 'failure') change.error = check.error;
    try {
      listener(change);
    } catch {
      // deliberately ignored: a broken logging hook must not break health checking
    }
  }

  /**
   * Tells the balancer; returns false if it no longer holds the id. Other errors from a custom
   * balancer are swallowed: they must not surface as unhandled rejections from a timer.
   */
  private report(id: string, healthy: boolean): boolean {
    try {
      this.balancer.reportHealth(id, healthy);
    } catch (err) {
      if (LoadwiseError.is(err) && err.code === 'ERR_UNKNOWN_ID') return false;
    }
    return true;
  }
}
