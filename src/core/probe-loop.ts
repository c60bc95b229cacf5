/**
 * The periodic-probe machinery that `HealthChecker` (health checks) and `Hcl` (load probes)
 * share: a schedule of rounds on unref'ed timers, and probes "in flight" per target with a
 * time-out, an `AbortSignal` and exactly one end each. What an answer means stays with them.
 */
import { MAX_TIMER_MS, domError, host, unrefTimer, type HealthTimers, type RuntimeAbortSignal, type RuntimeController } from './runtime.js';
import type { RandomSource } from './rng.js';

/** What a {@link ProbeSchedule} runs, and how often. */
export interface ScheduleSpec {
  readonly timers: HealthTimers;
  /** Time between the starts of two rounds, in ms. */
  readonly intervalMs: number;
  /**
   * Spread of the interval, `fraction` from 0 to 1: each delay is `intervalMs × (1 ± fraction)`,
   * uniformly, drawn from `random`; none when absent. With a fraction of 0 `random` is not
   * called, so a seeded sequence is not consumed.
   */
  readonly jitter?: { readonly fraction: number; readonly random: RandomSource };
  /** One round; it may stop the schedule. */
  readonly round: () => void;
}

/**
 * Runs a round on `start()`, then one every interval until `stop()`. Its timers are unref'ed:
 * a running schedule never keeps a host program alive.
 */
export class ProbeSchedule {
  private isRunning = false;
  private handle: unknown = undefined;
  private hasHandle = false;

  constructor(private readonly spec: ScheduleSpec) {}

  /** Between `start()` and `stop()`. */
  get running(): boolean {
    return this.isRunning;
  }

  /** Runs a round now and schedules the next; does nothing if already running. */
  start(): void {
    if (this.isRunning) return;
    this.isRunning = true;
    this.tick();
  }

  /** Clears the pending timer; idempotent. Probes in flight are the caller's to cancel. */
  stop(): void {
    this.isRunning = false;
    if (!this.hasHandle) return;
    this.hasHandle = false;
    const handle = this.handle;
    this.handle = undefined;
    try {
      this.spec.timers.clearTimeout(handle);
    } catch {
      // the user's timers: the schedule is stopped all the same
    }
  }

  private tick(): void {
    this.hasHandle = false;
    this.handle = undefined;
    if (!this.isRunning) return;
    try {
      this.spec.round();
    } catch {
      // A round runs from a timer: a throw (say a balancer's targets()) must neither end the
      // schedule nor surface as an uncaught error of the host.
    }
    // The round may have stopped the schedule, or stopped and restarted it (which scheduled).
    if (this.isRunning && !this.hasHandle) this.schedule();
  }

  private schedule(): void {
    const { jitter, intervalMs } = this.spec;
    const spread = jitter === undefined || jitter.fraction === 0 ? 0 : jitter.fraction * (2 * unit(jitter.random) - 1);
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, intervalMs * (1 + spread)));
    const handle = this.spec.timers.setTimeout(() => this.tick(), delay);
    unrefTimer(handle);
    this.handle = handle;
    this.hasHandle = true;
  }
}

/**
 * How one probe ended: its answer (whatever it resolved to); a failure (it threw or rejected
 * with `error`, or timed out: `error` is then the `TimeoutError` its signal was aborted with);
 * or cancelled (stop, removal), which should count neither way.
 */
export type ProbeEnd<V> =
  | { readonly kind: 'answer'; readonly value: V }
  | { readonly kind: 'failure'; readonly error: unknown }
  | { readonly kind: 'cancelled' };

const CANCELLED: ProbeEnd<never> = { kind: 'cancelled' };

/** What {@link ProbeFlights} needs to probe a key and hand back the result. */
export interface FlightSpec<K, V> {
  readonly timers: HealthTimers;
  /** How long a probe may take before it fails with a `TimeoutError` and its signal is aborted. */
  readonly timeoutMs: number;
  /** Starts the probe of `key`; a synchronous throw is a failure like a rejection. */
  readonly probe: (key: K, signal: RuntimeAbortSignal) => Promise<V>;
  /** The probe's name in its time-out message, e.g. `health check of "a"`. */
  readonly name: (key: K) => string;
  /** Takes in one probe's end, a microtask after it; a throw rejects that probe's promise. */
  readonly onEnd: (key: K, end: ProbeEnd<V>) => void;
}

interface Flight<V> {
  readonly controller: RuntimeController;
  /** Resolves once `onEnd` has run. */
  readonly done: Promise<void>;
  /** Ends the flight with `end`; the first call wins, so a late answer is ignored. */
  readonly finish: (end: ProbeEnd<V>) => void;
}

/** The probes in flight, at most one per key. */
export class ProbeFlights<K, V> {
  private readonly flights = new Map<K, Flight<V>>();

  constructor(private readonly spec: FlightSpec<K, V>) {}

  /**
   * Probes `key`, unless its probe is still running: then that one is joined, so probes of one
   * key never overlap. Resolves once `onEnd` has taken the end in.
   */
  probe(key: K): Promise<void> {
    return this.flights.get(key)?.done ?? this.launch(key);
  }

  /** Probes (or joins) every key; resolves once all of those ends are taken in. */
  probeAll(keys: Iterable<K>): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const key of keys) waits.push(this.probe(key));
    return Promise.all(waits).then(() => undefined);
  }

  /** Ends `key`'s probe, if one runs, as cancelled and aborts its signal with an `AbortError`. */
  cancel(key: K, why: string): void {
    const flight = this.flights.get(key);
    if (flight === undefined) return;
    flight.finish(CANCELLED);
    flight.controller.abort(domError(why, 'AbortError'));
  }

  /** {@link cancel} for every running probe (or those whose key passes `which`). */
  cancelAll(why: string, which?: (key: K) => boolean): void {
    // Deleting the entry being visited is safe in a Map iteration.
    for (const key of this.flights.keys()) if (which === undefined || which(key)) this.cancel(key, why);
  }

  private launch(key: K): Promise<void> {
    const { timers, timeoutMs, onEnd } = this.spec;
    const controller = new host.AbortController();
    let settle!: (end: ProbeEnd<V>) => void;
    const ended = new Promise<ProbeEnd<V>>((resolve) => (settle = resolve));
    let finished = false;
    let timer: unknown;
    let hasTimer = false;
    const finish = (end: ProbeEnd<V>): void => {
      if (finished) return;
      finished = true;
      if (hasTimer) {
        hasTimer = false;
        try {
          timers.clearTimeout(timer);
        } catch {
          // the user's timers: the probe must end all the same, or its key is never probed again
        }
      }
      // Forgotten at once, so that a round started right after (start after stop) probes anew.
      if (this.flights.get(key) === flight) this.flights.delete(key);
      settle(end);
    };
    const flight: Flight<V> = { controller, finish, done: ended.then((end) => onEnd(key, end)) };
    // Registered before the probe runs: a probe that asks for a probe of its key joins itself.
    this.flights.set(key, flight);

    timer = timers.setTimeout(() => {
      hasTimer = false;
      const reason = domError(`${this.spec.name(key)} timed out after ${timeoutMs} ms`, 'TimeoutError');
      finish({ kind: 'failure', error: reason });
      controller.abort(reason);
    }, timeoutMs);
    hasTimer = true;
    unrefTimer(timer);

    let call: Promise<V>;
    try {
      call = Promise.resolve(this.spec.probe(key, controller.signal));
    } catch (err) {
      call = Promise.reject(err);
    }
    // Also handles (and so silences) a late rejection after a time-out or a cancel.
    call.then(
      (value) => finish({ kind: 'answer', value }),
      (error: unknown) => finish({ kind: 'failure', error }),
    );
    return flight.done;
  }
}

/**
 * A draw for the jitter, in [0, 1): it runs in a timer callback, where a throw would surface as
 * an uncaught exception and NaN would schedule the next round at once, so a random source that
 * throws or returns NaN or a non-number means no jitter (0.5), and values outside [0, 1) are
 * clamped.
 */
function unit(random: RandomSource): number {
  let x: unknown;
  try {
    x = random();
  } catch {
    return 0.5;
  }
  if (typeof x !== 'number' || x !== x) return 0.5;
  return x < 0 ? 0 : x >= 1 ? 1 - 2 ** -53 : x;
}
