import { BaseBalancer } from '../balancer.js';
import { UnknownIdError } from '../core/errors.js';
import { intOption } from '../core/options.js';
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
  readonly factor?: number;
}

const OPTION_NAMES = ['factor'] as const;

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

  constructor(private readonly factor: number) {}

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
   * `NGX_PEER_FAILED` or `NGX_PEER_NEXT`).
   */
  released(pos: number, ok: boolean, sample: Float64Array): void {
    const latencyMs = sample[0]!;
    if (!ok || latencyMs !== latencyMs) return;
    const prev = this.avg[pos]!;
    let next = prev === prev ? (prev * this.factor + latencyMs * (100 - this.factor)) / 100 : latencyMs;
    if (next < MIN_AVERAGE_MS) next = MIN_AVERAGE_MS;
    this.avg[pos] = next;
    if (prev === prev) {
      this.knownSum += next - prev;
    } else {
      this.knownSum += next;
      this.known++;
    }
  }

  average(pos: number): number {
    return this.avg[pos]!;
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
 * - **Recovery:** an average only moves when a response arrives, so a target that became slow
 *   is avoided until load elsewhere makes it the cheapest again, and only then can it show that
 *   it recovered. Where targets slow down and recover, prefer {@link PeakEwma}, whose estimates
 *   decay with time.
 *
 * Cost: one O(n) pass per pick over typed arrays (plus a second one from the first tied target
 * when there is a tie), like nginx's own loop over the peers: a few ns per target, about
 * 0.4–0.5 µs per acquire+release at n = 100 on a small VM; no allocation besides the lease.
 * For hundreds or thousands of targets prefer {@link PeakEwma}, which is O(1) per pick.
 *
 * Sources: nginx `ngx_http_upstream_module` documentation (`least_time`); nginx
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
  }

  protected createSelector(): Selector<T> {
    return new LeastTimeSelector<T>(this.factor);
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
        const a = (tier.selector as LeastTimeSelector<T>).average(i);
        return a === a ? a : undefined;
      }
    }
    throw new UnknownIdError(String(id));
  }
}
