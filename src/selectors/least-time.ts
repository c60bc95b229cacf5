import { BaseBalancer } from '../balancer.js';
import { InvalidOptionError, UnknownIdError } from '../core/errors.js';
import { intOption } from '../core/options.js';
import type { OpenLease } from '../core/lease.js';
import type { Member } from '../core/member.js';
import type { Selector } from '../core/selector.js';
import type { BalancerOptions, Target } from '../types.js';

/**
 * Options of {@link LeastTime}.
 *
 * @example
 * ```ts
 * new LeastTime(targets, { factor: 80 }); // new responses weigh 20 % in the average
 * ```
 */
export interface LeastTimeOptions extends BalancerOptions {
  /**
   * The weight of the previous average, in percent, when a response updates it:
   * `average = (average × factor + latency × (100 − factor)) / 100`. An integer from 0 (no
   * smoothing: the latest response only) to 99; default 90, as Angie's `least_time ...
   * factor=` and `response_time_factor`.
   */
  readonly factor?: number | undefined;
  /**
   * `'decay'` (default): between responses an average decays toward 0 with time, by
   * `exp(−Δt / decayMs)`, as Finagle's peak EWMA decays an idle target's estimate; so a target
   * that was slow is tried again after a while, and a healed one wins its traffic back.
   * `'angie'`: Angie's `least_time` exactly; an average only changes when a response arrives,
   * so a target avoided for being slow is avoided until load elsewhere makes it the cheapest.
   */
  readonly mode?: LeastTimeMode | undefined;
  /**
   * τ of the `'decay'` mode in ms: an average untouched for τ · ln 2 has halved; a finite number
   * > 0, default 5,000. Not allowed with `mode: 'angie'`.
   */
  readonly decayMs?: number | undefined;
}

/**
 * How {@link LeastTime} treats an average that no response has refreshed for a while: `'decay'`
 * lets it decay toward 0 with time (the default), `'angie'` keeps it (Angie's exact behaviour).
 *
 * @example
 * ```ts
 * new LeastTime(targets, { mode: 'angie' }); // nginx Plus / Angie parity
 * ```
 */
export type LeastTimeMode = 'decay' | 'angie';

const OPTION_NAMES = ['factor', 'mode', 'decayMs'] as const;

/**
 * Default τ of the decay mode. With it a target that was 10× slower than the rest is tried again
 * within about τ · ln 10 ≈ 11.5 s of its last response at the latest (sooner under load), and in
 * the simulator's slowdown scenario a recovered server has its fair share back within seconds.
 */
const DEFAULT_DECAY_MS = 5_000;
/**
 * Averages are kept as `average × exp((t − base) / τ)`, `t` being the time of their last update,
 * so that comparing them needs no exponential per pick; `base` moves up (one O(n) pass) before
 * that factor could grow beyond e^REBASE.
 */
const REBASE = 32;

/** Angie's default smoothing factor (`ngx_conf_init_uint_value(us->rt_factor, 90)`). */
const DEFAULT_FACTOR = 90;
/**
 * The smallest average kept, in ms. Angie stores 1 (ms) when an average comes out as 0, since
 * 0 means "no data" there; here "no data" is NaN, and the floor only keeps a target that
 * answers in zero time from costing 0 at any load.
 */
const MIN_AVERAGE_MS = 1e-3;

class LeastTimeSelector<T extends Target> implements Selector<T> {
  readonly tracksLatency = true;
  readonly tracksActive = true;

  private members: readonly Member<T>[] = [];
  private weight = new Float64Array(0);
  /** Average response time per member in ms; NaN until its first successful response. */
  private avg = new Float64Array(0);
  /** nginx's `current_weight`, for the smooth weighted round robin among tied members. */
  private cw = new Float64Array(0);
  /** Open leases per member, mirrored so that the O(n) scan reads typed arrays only. */
  private act = new Int32Array(0);
  /** Sum and count of the known averages: members without one are costed at their mean. */
  private knownSum = 0;
  private known = 0;
  /**
   * Decay mode: `avg` holds each average scaled by `exp((t − base) × rate)`, t its last update,
   * so that one factor of exp(−(now − base) × rate) turns every value into its decayed average
   * and comparisons need none. `rate` is 0 in Angie mode: then `avg` is the plain average.
   */
  private base = Number.NaN;

  constructor(
    private readonly factor: number,
    private readonly rate: number,
  ) {}

  rebuild(members: readonly Member<T>[]): void {
    const previous = new Map<Member<T>, number>();
    for (let j = 0; j < this.members.length; j++) previous.set(this.members[j]!, j);
    const n = members.length;
    const weight = new Float64Array(n);
    const avg = new Float64Array(n).fill(Number.NaN);
    const cw = new Float64Array(n);
    const act = new Int32Array(n);
    let sum = 0;
    let known = 0;
    for (let j = 0; j < n; j++) {
      const m = members[j]!;
      weight[j] = m.effectiveWeight;
      act[j] = m.active;
      const k = previous.get(m);
      if (k === undefined) continue;
      avg[j] = this.avg[k]!;
      cw[j] = this.cw[k]!;
      if (avg[j] === avg[j]) {
        sum += avg[j]!;
        known++;
      }
    }
    this.members = members;
    this.weight = weight;
    this.avg = avg;
    this.cw = cw;
    this.act = act;
    this.knownSum = sum;
    this.known = known;
  }

  select(_key: string | undefined, filtered: boolean): number {
    const ms = this.members;
    const n = ms.length;
    const avg = this.avg;
    const weight = this.weight;
    const act = this.act;
    const fallback = this.known > 0 ? this.knownSum / this.known : 1;
    let best = -1;
    let bestCost = 0;
    let bestWeight = 1;
    let many = false;
    for (let i = 0; i < n; i++) {
      if (filtered && !ms[i]!.available()) continue;
      const a = avg[i]!;
      const c = (a === a ? a : fallback) * (act[i]! + 1);
      const w = weight[i]!;
      // cost_i / w_i against cost_best / w_best, cross-multiplied as nginx's least_conn does.
      const lhs = c * bestWeight;
      const rhs = bestCost * w;
      if (best < 0 || lhs < rhs) {
        best = i;
        bestCost = c;
        bestWeight = w;
        many = false;
      } else if (lhs === rhs) {
        many = true;
      }
    }
    if (!many) return best;
    // nginx's least_conn tie break: one smooth weighted round robin step over the tied peers,
    // from the first of them (every peer before it is strictly more loaded).
    const cw = this.cw;
    let p = best;
    let total = 0;
    for (let i = best; i < n; i++) {
      if (filtered && !ms[i]!.available()) continue;
      const a = avg[i]!;
      const w = weight[i]!;
      if ((a === a ? a : fallback) * (act[i]! + 1) * bestWeight !== bestCost * w) continue;
      cw[i] = cw[i]! + w;
      total += w;
      if (cw[i]! > cw[p]!) p = i;
    }
    cw[p] = cw[p]! - total;
    return p;
  }

  activeChanged(pos: number): void {
    this.act[pos] = this.members[pos]!.active;
  }

  /**
   * Angie's `ngx_http_upstream_least_time_avg`: the first response sets the average, later ones
   * move it by `(100 − factor) %`. Failed requests do not count (Angie skips peers freed with
   * `NGX_PEER_FAILED` or `NGX_PEER_NEXT`). In decay mode the previous average is first decayed
   * to the release time `sample[1]`, and the result is stored scaled (see `base`).
   */
  released(pos: number, ok: boolean, sample: Float64Array): void {
    const latencyMs = sample[0]!;
    if (!ok || latencyMs !== latencyMs) return;
    let scale = 1;
    if (this.rate > 0) {
      const t = sample[1]!;
      if (this.base !== this.base) this.base = t;
      let x = t > this.base ? (t - this.base) * this.rate : 0;
      if (x > REBASE) {
        this.rebase(x);
        this.base = t;
        x = 0;
      }
      scale = Math.exp(x);
    }
    const prevScaled = this.avg[pos]!;
    const prev = prevScaled / scale;
    let next = prev === prev ? (prev * this.factor + latencyMs * (100 - this.factor)) / 100 : latencyMs;
    if (next < MIN_AVERAGE_MS) next = MIN_AVERAGE_MS;
    const nextScaled = next * scale;
    this.avg[pos] = nextScaled;
    if (prevScaled === prevScaled) {
      this.knownSum += nextScaled - prevScaled;
    } else {
      this.knownSum += nextScaled;
      this.known++;
    }
  }

  /**
   * Moves `base` forward by `x` time constants: every stored value becomes its average decayed
   * to the new base (at least {@link MIN_AVERAGE_MS}), and the sum is recomputed. O(n), at most
   * once per REBASE × τ of releases.
   */
  private rebase(x: number): void {
    const f = Math.exp(-x);
    const avg = this.avg;
    let sum = 0;
    for (let i = 0; i < avg.length; i++) {
      const a = avg[i]!;
      if (a !== a) continue;
      const d = a * f;
      avg[i] = d > MIN_AVERAGE_MS ? d : MIN_AVERAGE_MS;
      sum += avg[i]!;
    }
    this.knownSum = sum;
  }

  /** The member's average at time `t` (decayed in decay mode); NaN before its first response. */
  average(pos: number, t: number): number {
    const a = this.avg[pos]!;
    if (this.rate === 0 || a !== a || this.base !== this.base) return a;
    const x = t > this.base ? (t - this.base) * this.rate : 0;
    const d = a * Math.exp(-x);
    return d > MIN_AVERAGE_MS ? d : MIN_AVERAGE_MS;
  }
}

/**
 * Least time (nginx Plus `least_time`): the request goes to the target with the lowest
 * `average response time × (inFlight + 1) / weight`; targets tied on that cost take turns by
 * nginx's smooth weighted round robin, as nginx documents ("if there are several such
 * servers, they are tried in turn using a weighted round-robin balancing method") and as its
 * `least_conn` does for ties.
 *
 * - **Average:** an exponential moving average of the latencies of successful responses,
 *   `average = (average × factor + latency × (100 − factor)) / 100`, the first response setting
 *   it; `factor` defaults to 90, the default of Angie (the open-source nginx fork whose
 *   `least_time` is public), so a new response weighs 10 %. nginx Plus does not publish its
 *   factor. Report the latency you want balanced: time to the response header (nginx's
 *   `least_time header`) or to the last byte (`last_byte`); without one, the balancer measures
 *   acquire-to-release on its clock.
 * - **No history:** a target without a successful response yet is costed at the mean of the
 *   known averages (Angie's `last_average`); while no target has one, all count as 1 ms, which
 *   makes the balancer plain weighted least connections until responses come in.
 * - **Comparisons** are cross-multiplied (`cost_a × weight_b < cost_b × weight_a`), exactly as
 *   nginx compares `conns × weight`, so exactly equal ratios tie.
 * - **Recovery (the default `mode: 'decay'`):** between responses an average decays toward 0
 *   by `exp(−Δt / decayMs)` (τ = 5 s by default), as Finagle's peak EWMA decays the estimate of
 *   a target it does not hear from (`PeakEwma.scala`: a read observes a zero-latency sample).
 *   A target avoided for being slow thus gets cheaper with time until it is tried again; if it
 *   is still slow, its next responses raise its average again, and if it has healed, it wins its
 *   share back. Information that is not refreshed loses weight, rather than a random share of
 *   requests being spent on exploration. In the simulator's slowdown scenario the recovered
 *   server has a fair share in the first second after its recovery, where Angie's rule leaves it
 *   at 0.00 % for the remaining 35 s; while it is slow it gets 0.05 % of the requests (0.01 %
 *   under Angie's rule). Among targets of equal latency the least recently refreshed one is
 *   slightly cheaper, so exact ties (and with them the smooth weighted round robin) mostly occur
 *   before any response.
 * - **`mode: 'angie'`** keeps Angie's behaviour exactly: an average only moves when a response
 *   arrives, so a target that became slow is avoided until load elsewhere makes it the
 *   cheapest again, and only then can it show that it recovered.
 *
 * Cost: one O(n) pass per pick over typed arrays (plus a second one from the first tied target
 * when there is a tie), like nginx's own loop over the peers: a few ns per target, about
 * 0.4–0.5 µs per acquire+release at n = 100 on a small VM; no allocation besides the lease.
 * The decay costs no work per pick: averages are stored scaled by `exp(t / τ)` as of their
 * last update (rebased in one O(n) pass every 32 τ), so comparing them compares the decayed
 * values; a release computes one exponential.
 * For hundreds or thousands of targets prefer {@link PeakEwma}, which is O(1) per pick.
 *
 * Sources: nginx `ngx_http_upstream_module` documentation (`least_time`); Finagle
 * `finagle-core/.../loadbalancer/PeakEwma.scala` (decay of an estimate with time); nginx
 * `ngx_http_upstream_least_conn_module.c` (cross-multiplied comparison, tie loop); Angie
 * `ngx_http_upstream_least_time_module.c` (average update, factor, failed responses skipped)
 * and `ngx_http_upstream_round_robin.c` (`rt_factor` default 90).
 *
 * @typeParam T - the target type; `pick()` returns the very values passed in.
 * @example
 * ```ts
 * import { LeastTime } from 'loadwise';
 * const lb = new LeastTime([{ id: 'a', weight: 2 }, { id: 'b' }]);
 * const lease = lb.acquire();
 * const t0 = performance.now();
 * const res = await fetch(`http://${lease.target.id}/`);
 * lease.release({ ok: res.ok, latencyMs: performance.now() - t0 }); // time to header
 * ```
 */
export class LeastTime<T extends Target = Target> extends BaseBalancer<T> {
  private readonly factor: number;
  /** 1 / τ in decay mode, 0 in Angie mode. */
  private readonly rate: number;

  /**
   * @param targets - the initial targets, in order (may be empty).
   * @param options - see {@link LeastTimeOptions}.
   * @throws InvalidOptionError for a bad option.
   * @example
   * ```ts
   * const lb = new LeastTime(['a:80', 'b:80'], { factor: 90 });
   * ```
   */
  constructor(targets: readonly T[], options?: LeastTimeOptions) {
    super(targets, options, OPTION_NAMES);
    this.measuresLatency = true;
    this.factor = intOption('factor', options?.factor, DEFAULT_FACTOR, 0, 99);
    const mode = options?.mode ?? 'decay';
    if (mode !== 'decay' && mode !== 'angie') throw new InvalidOptionError('mode', mode, "'decay' or 'angie'");
    const decayMs = options?.decayMs;
    if (mode === 'angie' && decayMs !== undefined) {
      throw new InvalidOptionError('decayMs', decayMs, "no value with mode: 'angie' (whose averages do not decay)");
    }
    if (decayMs !== undefined && (typeof decayMs !== 'number' || !(decayMs > 0) || decayMs === Number.POSITIVE_INFINITY)) {
      throw new InvalidOptionError('decayMs', decayMs, 'a finite number > 0');
    }
    this.rate = mode === 'angie' ? 0 : 1 / (decayMs ?? DEFAULT_DECAY_MS);
  }

  protected createSelector(): Selector<T> {
    return new LeastTimeSelector<T>(this.factor, this.rate);
  }

  /**
   * @internal In decay mode, reads the clock once per release, for the measured latency and the
   * time the average decays to; Angie mode leaves the release to the base (one reading only
   * when no latency was reported).
   */
  override settle(m: Member<T>, ok: boolean, lease: OpenLease<T>): void {
    if (this.rate > 0) {
      const t = this.now();
      const sample = this.releaseSample;
      sample[1] = t;
      const startedAt = lease.startedAt;
      // The base would measure the same way; a clock that went back measures nothing.
      if (sample[0] !== sample[0] && startedAt === startedAt && t >= startedAt) sample[0] = t - startedAt;
    }
    super.settle(m, ok, lease);
  }

  /** Routes on `effectiveWeight`, so slow start ramps a returning target. */
  protected override rampsWeights(): boolean {
    return true;
  }

  /**
   * A target's average response time in ms, or `undefined` before its first successful
   * response. Unlike `stats().latencyMs` (a faster EWMA of every release), this is the average
   * the balancer routes on.
   *
   * @throws UnknownIdError when the id is not in the balancer.
   * @example
   * ```ts
   * lb.averageMs('a:80'); // e.g. 42.1
   * ```
   */
  averageMs(id: string): number | undefined {
    for (const tier of this.tiers()) {
      const ms = tier.members;
      for (let i = 0; i < ms.length; i++) {
        if (ms[i]!.id !== id) continue;
        const a = (tier.selector as LeastTimeSelector<T>).average(i, this.rate > 0 ? this.now() : Number.NaN);
        return a === a ? a : undefined;
      }
    }
    throw new UnknownIdError(String(id));
  }
}
