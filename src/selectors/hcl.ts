import { BaseBalancer } from '../balancer.js';
import { CandidateDraw } from '../core/candidates.js';
import { SlidingQuantile } from '../core/sliding-quantile.js';
import type { Clock } from '../core/clock.js';
import { InvalidOptionError, UnknownIdError } from '../core/errors.js';
import { intOption, numberOption, timerOption, timersOption } from '../core/options.js';
import { checkId, type Member } from '../core/member.js';
import type { RandomSource } from '../core/rng.js';
import type { Selector } from '../core/selector.js';
import { ProbeFlights, ProbeSchedule } from '../core/probe-loop.js';
import type { HealthTimers } from '../core/runtime.js';
import type { ProbeSignal } from '../health/checker.js';
import type { BalancerOptions, Target } from '../types.js';

/**
 * A target's load as the target itself reports it, Prequal's probe response: its requests in
 * flight from all clients, and its estimate of the latency a new request would see.
 *
 * @example
 * ```ts
 * const report: HclLoadReport = { rif: 12, latencyMs: 8.5 };
 * lb.reportLoad('a:80', report);
 * ```
 */
export interface HclLoadReport {
  /** Requests in flight on the target, from every client; a finite number ≥ 0. */
  readonly rif: number;
  /** The target's latency estimate in ms; a finite number ≥ 0. */
  readonly latencyMs: number;
}

/**
 * Asks a target for its load (a Prequal probe). Resolve an {@link HclLoadReport}; anything else
 * (a rejection, a malformed report, or no answer within `probeTimeoutMs`) is ignored, and the
 * target is balanced on what this client sees until a probe succeeds. Honour `signal`: it is
 * aborted on time-out, when probing stops, and when the target leaves the balancer.
 *
 * @typeParam T - the balancer's target type.
 * @example
 * ```ts
 * const probe: HclProbe<{ id: string; url: string }> = async (t, signal) => {
 *   const res = await fetch(`${t.url}/load`, { signal });
 *   return (await res.json()) as HclLoadReport; // { rif, latencyMs }
 * };
 * ```
 */
export type HclProbe<T extends Target = Target> = (target: T, signal: ProbeSignal) => Promise<HclLoadReport>;

/**
 * Options of {@link Hcl}.
 *
 * @typeParam T - the balancer's target type (for the probe).
 * @example
 * ```ts
 * new Hcl(targets, { choices: 3, quantile: 0.84, probe, probeIntervalMs: 500 });
 * ```
 */
export interface HclOptions<T extends Target = Target> extends BalancerOptions {
  /** Distinct candidates compared per pick, 2 or more (capped at the number available); default 3, the r_probe of Prequal's testbed. */
  readonly choices?: number | undefined;
  /** Q_RIF: a candidate is hot when its load exceeds this quantile of recent loads; from 0 to 1, default 0.84 (Prequal's testbed Q_RIF, 2^−0.25 ≈ 0.84; the paper recommends 0.6 to 0.9). */
  readonly quantile?: number | undefined;
  /** Optional active probe; probing runs between `startProbing()` and `stopProbing()`. */
  readonly probe?: HclProbe<T> | undefined;
  /** Time between the starts of two probe rounds (every target once), in ms; default 1,000. Needs `probe`. */
  readonly probeIntervalMs?: number | undefined;
  /** How long a probe may take before its answer is ignored, in ms; default `min(1,000, probeIntervalMs)`. Needs `probe`. */
  readonly probeTimeoutMs?: number | undefined;
  /** How long a load report (probe or `reportLoad`) stays in use, in ms; default `3 × probeIntervalMs`. */
  readonly maxReportAgeMs?: number | undefined;
  /** Timer functions for probing; default the runtime's `setTimeout` / `clearTimeout`. Needs `probe`. */
  readonly timers?: HealthTimers | undefined;
}

const OPTION_NAMES = ['choices', 'quantile', 'probe', 'probeIntervalMs', 'probeTimeoutMs', 'maxReportAgeMs', 'timers'] as const;

/** Prequal's testbed issues r_probe = 3 probes per query (NSDI '24, §5). */
const DEFAULT_CHOICES = 3;
/** Prequal's testbed Q_RIF = 2^−0.25, printed as 0.84 in the paper (§5). */
const DEFAULT_QUANTILE = 0.84;
/** Recent candidate loads the Q_RIF quantile is taken over. */
const WINDOW = 64;
const DEFAULT_PROBE_INTERVAL_MS = 1_000;

class HclSelector<T extends Target> implements Selector<T> {
  private members: readonly Member<T>[] = [];
  private weight = new Float64Array(0);
  /** Latest load report per member: RIF, our own in-flight count then, latency, time (NaN: none). */
  private repRif = new Float64Array(0);
  private repOwn = new Float64Array(0);
  private repLatency = new Float64Array(0);
  private repAt = new Float64Array(0);
  private hasReports = false;
  /** Position of each member by id, for `reportLoad`. */
  byId = new Map<string, number>();
  private readonly draw = new CandidateDraw();
  private readonly window: SlidingQuantile;
  /** Per candidate of a pick; sized at rebuild to min(choices, members), not to `choices` (which may be huge). */
  private loads = new Float64Array(0);
  private latencies = new Float64Array(0);
  /** 1 where the candidate is hot (its load exceeds the Q_RIF quantile), per pick. */
  private hot = new Uint8Array(0);

  constructor(
    private readonly random: RandomSource,
    private readonly now: Clock,
    private readonly choices: number,
    private readonly quantile: number,
    private readonly maxAgeMs: number,
  ) {
    this.window = new SlidingQuantile(WINDOW, quantile);
  }

  rebuild(members: readonly Member<T>[]): void {
    const previous = new Map<Member<T>, number>();
    for (let j = 0; j < this.members.length; j++) previous.set(this.members[j]!, j);
    const n = members.length;
    const weight = new Float64Array(n);
    const rif = new Float64Array(n);
    const own = new Float64Array(n);
    const latency = new Float64Array(n);
    const at = new Float64Array(n).fill(Number.NaN);
    const byId = new Map<string, number>();
    let any = false;
    for (let j = 0; j < n; j++) {
      const m = members[j]!;
      weight[j] = m.effectiveWeight;
      byId.set(m.id, j);
      const k = previous.get(m);
      if (k === undefined || this.repAt[k] !== this.repAt[k]) continue;
      rif[j] = this.repRif[k]!;
      own[j] = this.repOwn[k]!;
      latency[j] = this.repLatency[k]!;
      at[j] = this.repAt[k]!;
      any = true;
    }
    this.members = members;
    this.weight = weight;
    this.repRif = rif;
    this.repOwn = own;
    this.repLatency = latency;
    this.repAt = at;
    this.hasReports = any;
    this.byId = byId;
    this.draw.rebuild(members, this.choices);
    const slots = Math.min(this.choices, n);
    if (this.loads.length < slots) {
      this.loads = new Float64Array(slots);
      this.latencies = new Float64Array(slots);
      this.hot = new Uint8Array(slots);
    }
  }

  select(_key: string | undefined, filtered: boolean): number {
    const ms = this.members;
    const got = this.draw.draw(this.random, ms, filtered, this.choices);
    if (got === 0) return -1;
    const out = this.draw.out;
    if (got === 1) return out[0]!;
    const now = this.hasReports ? this.now() : Number.NaN;
    const loads = this.loads;
    const latencies = this.latencies;
    for (let k = 0; k < got; k++) {
      const i = out[k]!;
      const m = ms[i]!;
      let rif = m.active;
      let latency = m.latencyMs;
      const at = this.repAt[i]!;
      if (at === at && now - at <= this.maxAgeMs) {
        // The target's own count, moved by what this client started or finished since.
        const others = this.repRif[i]! - this.repOwn[i]!;
        if (others > 0) rif += others;
        latency = this.repLatency[i]!;
      }
      const load = rif / this.weight[i]!;
      loads[k] = load;
      // No latency known yet: try it first among the cold candidates.
      latencies[k] = latency === latency ? latency : 0;
    }
    this.window.pushAll(loads, got);
    const hotness = this.hot;
    this.window.markAbove(loads, got, hotness);
    // Hot-cold lexicographic: any cold candidate beats every hot one; among cold ones the
    // lowest latency (then load) wins, among hot ones the lowest load (then latency); the
    // first drawn wins an exact tie.
    let best = 0;
    let bestHot = hotness[0] === 1;
    for (let k = 1; k < got; k++) {
      const hot = hotness[k] === 1;
      if (hot !== bestHot) {
        if (!hot) {
          best = k;
          bestHot = false;
        }
        continue;
      }
      const better = hot
        ? loads[k]! < loads[best]! || (loads[k] === loads[best] && latencies[k]! < latencies[best]!)
        : latencies[k]! < latencies[best]! || (latencies[k] === latencies[best] && loads[k]! < loads[best]!);
      if (better) best = k;
    }
    return out[best]!;
  }

  report(pos: number, rif: number, latencyMs: number, at: number): void {
    this.repRif[pos] = rif;
    this.repOwn[pos] = this.members[pos]!.active;
    this.repLatency[pos] = latencyMs;
    this.repAt[pos] = at;
    this.hasReports = true;
  }

  /** The load and latency a pick at `now` would use for the member at `pos`. */
  signals(pos: number, now: number): { rif: number; load: number; latencyMs: number | undefined; reported: boolean } {
    const m = this.members[pos]!;
    let rif = m.active;
    let latency = m.latencyMs;
    const at = this.repAt[pos]!;
    const reported = at === at && now - at <= this.maxAgeMs;
    if (reported) {
      const others = this.repRif[pos]! - this.repOwn[pos]!;
      if (others > 0) rif += others;
      latency = this.repLatency[pos]!;
    }
    return { rif, load: rif / this.weight[pos]!, latencyMs: latency === latency ? latency : undefined, reported };
  }

  threshold(): number {
    return this.window.quantile(this.quantile);
  }
}

/**
 * What {@link Hcl.signals} reports for one target.
 *
 * @example
 * ```ts
 * const s: HclSignals = lb.signals('a:80');
 * if (s.hot) console.log(`a:80 is hot: ${s.rif} in flight`);
 * ```
 */
export interface HclSignals {
  /** Requests in flight: a fresh load report's count adjusted by this client's own changes since, else this client's own. */
  readonly rif: number;
  /** `rif / effectiveWeight`, what the hot-cold rule compares. */
  readonly load: number;
  /** The latency estimate in ms: a fresh report's, else the EWMA of this client's releases; undefined when neither exists. */
  readonly latencyMs: number | undefined;
  /** Whether a load report (probe or `reportLoad`) younger than `maxReportAgeMs` is in use. */
  readonly reported: boolean;
  /** Whether `load` is above the current Q_RIF quantile of recent loads. */
  readonly hot: boolean;
}

/** Probing, present when the `probe` option is. */
interface Prober<T extends Target> {
  readonly schedule: ProbeSchedule;
  /** Keyed by member: a target removed and added again is a new member. */
  readonly flights: ProbeFlights<Member<T>, HclLoadReport>;
}

/**
 * Prequal's hot-cold lexicographic rule (HCL; Wydrowski, Kleinberg, Rumble and Archer, "Load is
 * not what you should balance: Introducing Prequal", NSDI 2024). Each pick samples `choices`
 * distinct targets in proportion to weight and classifies each as **hot** when its requests in
 * flight (RIF, per unit of weight) exceed the Q_RIF quantile of recently sampled values, else
 * **cold**; the request goes to the cold candidate with the lowest latency estimate or, when
 * every candidate is hot, to the one with the fewest requests in flight.
 *
 * Signals:
 * - **RIF** is this client's own count of open leases, unless a fresh load report says more:
 *   then it is the target's reported count (every client's requests), moved by the leases this
 *   client opened or closed since the report.
 * - **Latency** is the EWMA of this client's release latencies (the one `stats()` shows), or a
 *   fresh report's estimate. A target with neither is tried first among the cold ones.
 * - **Reports** come from the optional `probe`, run for every target once per
 *   `probeIntervalMs` between {@link Hcl.startProbing} and {@link Hcl.stopProbing}, entirely off
 *   the pick path, or from {@link Hcl.reportLoad} (load piggybacked on responses, as Prequal
 *   servers also do). Reports older than `maxReportAgeMs` are ignored. Without reports, a
 *   target's latency only changes when it serves requests, so one that slowed down and
 *   recovered wins traffic back slowly (when the other candidates are hot); with reports it
 *   does as soon as they say it is fast.
 *
 * Parameters, from the paper (NSDI '24, §4 and §5): hot means RIF strictly *exceeds* the
 * Q_RIF quantile of the client's estimate of the RIF distribution; `quantile` defaults to 0.84,
 * the testbed's Q_RIF = 2^−0.25 ≈ 0.84 as the paper prints it (it recommends Q_RIF in
 * [0.6, 0.9] and reports that even 0, RIF-only control, is effective); `choices` defaults to
 * 3, the testbed's r_probe of 3 probes per query (the paper finds it insensitive down to one
 * probe per query). The paper's probe pool (at most 16 probes, aged out after 1 s, each reused
 * at most b_reuse times with δ = 1, one removal per query alternating the oldest and the worst)
 * exists because its probes are remote calls; in process the balancer knows every target's
 * local signals for free, so each pick samples fresh candidates instead of reusing old probe
 * answers. A Prequal server answers a probe with the median of its recent latencies at (or
 * near) its current RIF: that is what a `probe` or `reportLoad` should send as `latencyMs`.
 * Not from the paper: the window of the last 64 sampled loads the quantile is taken over
 * (linear interpolation between ranks, so with every load equal nothing is hot), and weights,
 * which Prequal does not have; here they weight the sampling and divide RIF.
 *
 * Cost per pick: O(choices · log 64) to keep the quantile window sorted (plus a move of the
 * window values lying between the newest and the oldest load); no allocation besides the lease. Latency is measured on the injected clock unless releases report it.
 *
 * @typeParam T - the target type; `pick()` returns the very values passed in.
 * @example
 * ```ts
 * import { Hcl } from 'loadwise';
 * const lb = new Hcl(backends, {
 *   probe: async (b, signal) => (await fetch(`${b.url}/load`, { signal })).json(),
 *   probeIntervalMs: 500,
 * });
 * lb.startProbing();
 * const lease = lb.acquire();
 * // ... the request runs ...
 * lease.release('success'); // latency measured on the balancer's clock
 * lb.stopProbing();
 * ```
 */
export class Hcl<T extends Target = Target> extends BaseBalancer<T> {
  private readonly choices: number;
  private readonly quantile: number;
  private readonly maxAgeMs: number;
  private readonly prober: Prober<T> | undefined;

  /**
   * @param targets - the initial targets, in order (may be empty).
   * @param options - see {@link HclOptions}.
   * @throws InvalidOptionError for a bad option.
   * @example
   * ```ts
   * const lb = new Hcl(['a:80', 'b:80', 'c:80', 'd:80'], { quantile: 0.84, choices: 3 });
   * ```
   */
  constructor(targets: readonly T[], options?: HclOptions<T>) {
    super(targets, options, OPTION_NAMES);
    this.measuresLatency = true;
    const o = options ?? {};
    this.choices = intOption('choices', o.choices, DEFAULT_CHOICES, 2);
    this.quantile = numberOption('quantile', o.quantile, DEFAULT_QUANTILE, 0, 1);
    const probe = o.probe;
    if (probe !== undefined && typeof probe !== 'function') {
      throw new InvalidOptionError('probe', probe, 'a function (target, signal) => Promise<{ rif, latencyMs }>');
    }
    if (probe === undefined) {
      for (const name of ['probeIntervalMs', 'probeTimeoutMs', 'timers'] as const) {
        if (o[name] !== undefined) throw new InvalidOptionError(name, o[name], 'no value without the probe option');
      }
    }
    const intervalMs = timerOption('probeIntervalMs', o.probeIntervalMs, DEFAULT_PROBE_INTERVAL_MS);
    const timeoutMs = timerOption('probeTimeoutMs', o.probeTimeoutMs, Math.min(1_000, intervalMs));
    const age = o.maxReportAgeMs;
    if (age !== undefined && (typeof age !== 'number' || !(age > 0))) {
      throw new InvalidOptionError('maxReportAgeMs', age, 'a number > 0 (Infinity: reports never expire)');
    }
    this.maxAgeMs = age ?? 3 * intervalMs;
    const timers = timersOption(o.timers);
    this.prober = probe === undefined ? undefined : this.createProber(probe, timers, intervalMs, timeoutMs);
  }

  protected createSelector(): Selector<T> {
    return new HclSelector<T>(this.random, this.now, this.choices, this.quantile, this.maxAgeMs);
  }

  /** Routes on `effectiveWeight`, so slow start ramps a returning target. */
  protected override rampsWeights(): boolean {
    return true;
  }

  /**
   * Records a target's load as it reports it (in a response header, from your own probe): it
   * is used for `maxReportAgeMs`. `rif` counts every client's requests, this one's included.
   *
   * @throws UnknownIdError when the id is not in the balancer; InvalidOptionError for a bad report.
   * @example
   * ```ts
   * const res = await fetch(url);
   * lb.reportLoad(id, { rif: Number(res.headers.get('x-rif')), latencyMs: Number(res.headers.get('x-latency-ms')) });
   * ```
   */
  reportLoad(id: string, report: HclLoadReport): void {
    const [selector, pos] = this.locate(id);
    const r = checkReport(report);
    if (r === undefined) throw new InvalidOptionError('report', report, '{ rif, latencyMs }, finite numbers >= 0');
    selector.report(pos, r.rif, r.latencyMs, this.now());
  }

  /**
   * The signals the hot-cold rule sees for a target right now; changes nothing. `hot` compares
   * with the quantile of the loads sampled so far (nothing is hot before the first pick).
   *
   * @throws UnknownIdError when the id is not in the balancer.
   * @example
   * ```ts
   * lb.signals('a:80'); // { rif: 3, load: 3, latencyMs: 12, reported: false, hot: false }
   * ```
   */
  signals(id: string): HclSignals {
    const [selector, pos] = this.locate(id);
    const s = selector.signals(pos, this.now());
    const threshold = selector.threshold();
    return {
      rif: s.rif,
      load: s.load,
      latencyMs: s.latencyMs,
      reported: s.reported,
      hot: s.load > threshold,
    };
  }

  /**
   * Whether probing is on (between `startProbing()` and `stopProbing()`).
   *
   * @example
   * ```ts
   * if (!lb.probing) lb.startProbing();
   * ```
   */
  get probing(): boolean {
    return this.prober?.schedule.running ?? false;
  }

  /**
   * Starts probing: a round right away, then one every `probeIntervalMs`. Each round probes
   * every target whose previous probe has finished. Timers are unref'ed, so probing never keeps
   * a process alive. Does nothing if already started.
   *
   * @throws InvalidOptionError when the balancer was built without a `probe`.
   * @example
   * ```ts
   * lb.startProbing();
   * ```
   */
  startProbing(): void {
    if (this.prober === undefined) throw new InvalidOptionError('probe', undefined, 'a probe function, to start probing');
    this.prober.schedule.start();
  }

  /**
   * Stops probing: clears the timer and aborts the probes in flight (their answers are
   * ignored). Reports already received stay in use until they age out. Idempotent.
   *
   * @example
   * ```ts
   * onShutdown(() => lb.stopProbing()); // your server's shutdown hook
   * ```
   */
  stopProbing(): void {
    if (this.prober === undefined) return;
    this.prober.schedule.stop();
    this.prober.flights.cancelAll('probing stopped');
  }

  /**
   * Probes every target now, outside the schedule, and resolves once the answers are recorded
   * (a target whose probe is already running is awaited, not probed twice). Works whether or
   * not probing is started.
   *
   * @throws InvalidOptionError (as a rejection) when the balancer was built without a `probe`.
   * @example
   * ```ts
   * await lb.probeNow(); // fresh loads before the first request
   * ```
   */
  probeNow(): Promise<void> {
    if (this.prober === undefined) {
      return Promise.reject(new InvalidOptionError('probe', undefined, 'a probe function, to probe'));
    }
    return this.prober.flights.probeAll(this.allMembers(this.prober));
  }

  private createProber(probe: HclProbe<T>, timers: HealthTimers, intervalMs: number, timeoutMs: number): Prober<T> {
    const flights = new ProbeFlights<Member<T>, HclLoadReport>({
      timers,
      timeoutMs,
      probe: (m, signal) => probe(m.target, signal),
      name: (m) => `load probe of ${JSON.stringify(m.id)}`,
      // A failed, timed-out, cancelled or malformed answer is ignored: the target is balanced
      // on this client's own signals until a probe succeeds.
      onEnd: (m, end) => {
        if (end.kind !== 'answer' || !m.attached) return;
        const r = checkReport(end.value);
        if (r !== undefined) this.recordReport(m, r);
      },
    });
    const prober: Prober<T> = {
      flights,
      schedule: new ProbeSchedule({
        timers,
        intervalMs,
        round: () => {
          // `probe` joins a running probe: a slow target skips rounds instead of overlapping.
          for (const m of this.allMembers(prober)) void flights.probe(m);
        },
      }),
    };
    return prober;
  }

  private allMembers(prober: Prober<T>): Member<T>[] {
    const out: Member<T>[] = [];
    for (const tier of this.tiers()) for (const m of tier.members) out.push(m);
    // Targets that left the balancer: their probes are of no use any more.
    prober.flights.cancelAll('target removed from the balancer', (m) => !m.attached);
    return out;
  }

  private recordReport(m: Member<T>, r: HclLoadReport): void {
    for (const tier of this.tiers()) {
      if (tier.members[m.pos] === m) {
        (tier.selector as HclSelector<T>).report(m.pos, r.rif, r.latencyMs, this.now());
        return;
      }
    }
  }

  private locate(id: string): [HclSelector<T>, number] {
    for (const tier of this.tiers()) {
      const selector = tier.selector as HclSelector<T>;
      const pos = selector.byId.get(id);
      if (pos !== undefined) return [selector, pos];
    }
    throw new UnknownIdError(checkId(id));
  }
}

function checkReport(value: unknown): HclLoadReport | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { rif, latencyMs } = value as { rif?: unknown; latencyMs?: unknown };
  if (typeof rif !== 'number' || !(rif >= 0) || rif === Number.POSITIVE_INFINITY) return undefined;
  if (typeof latencyMs !== 'number' || !(latencyMs >= 0) || latencyMs === Number.POSITIVE_INFINITY) return undefined;
  return { rif, latencyMs };
}
