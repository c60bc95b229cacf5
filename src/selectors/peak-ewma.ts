import { BaseBalancer } from '../balancer.js';
import { CandidateDraw } from '../core/candidates.js';
import { randomIndex } from '../core/sampling.js';
import type { Clock } from '../core/clock.js';
import { InvalidOptionError, UnknownIdError } from '../core/errors.js';
import { intOption } from '../core/options.js';
import type { OpenLease } from '../core/lease.js';
import type { Member } from '../core/member.js';
import type { RandomSource } from '../core/rng.js';
import type { Selector } from '../core/selector.js';
import type { BalancerOptions, Target } from '../types.js';

/**
 * What a target without any latency history costs, in {@link PeakEwma}:
 *
 * - `'default-rtt'` (Linkerd, tower): its estimate starts at `defaultRttMs` when it joins and
 *   decays like any other, so a new target is neither flooded nor starved.
 * - `'penalty'` (Finagle): its estimate starts at 0, so while it has no request in flight it is
 *   the cheapest target (it gets probed first), and with requests in flight but no response yet
 *   it costs `penalty + inFlight`, more than any target with history.
 *
 * @example
 * ```ts
 * new PeakEwma(targets, { noHistory: 'penalty' }); // Finagle's rule
 * ```
 */
export type PeakEwmaNoHistory = 'default-rtt' | 'penalty';

/**
 * Options of {@link PeakEwma}.
 *
 * @example
 * ```ts
 * new PeakEwma(targets, { decayMs: 5_000, defaultRttMs: 50, choices: 2 });
 * ```
 */
export interface PeakEwmaOptions extends BalancerOptions {
  /**
   * τ, the decay time of the estimate in ms (Finagle's `decayTime`, Linkerd's `EWMA_DECAY`);
   * default 10,000. An estimate halves in τ·ln 2 (≈ 6.9 s by default) without new samples.
   */
  readonly decayMs?: number | undefined;
  /** How many distinct candidates to compare, 2 or more (capped at the number available); default 2. */
  readonly choices?: number | undefined;
  /** How targets without history are costed; default `'default-rtt'`. See {@link PeakEwmaNoHistory}. */
  readonly noHistory?: PeakEwmaNoHistory | undefined;
  /** The estimate a new target starts with under `noHistory: 'default-rtt'`, in ms; default 30 (Linkerd's `EWMA_DEFAULT_RTT`). */
  readonly defaultRttMs?: number | undefined;
  /**
   * The cost of a target with no history and requests in flight under `noHistory: 'penalty'`;
   * default Finagle's `Long.MaxValue >> 16` ns expressed in ms (≈ 1.4 × 10⁸, 39 hours).
   */
  readonly penalty?: number | undefined;
}

const OPTION_NAMES = ['decayMs', 'choices', 'noHistory', 'defaultRttMs', 'penalty'] as const;

/** Finagle's τ default: `Balancers.p2cPeakEwma(decayTime = 10.seconds)`; Linkerd's `EWMA_DECAY`. */
const DEFAULT_DECAY_MS = 10_000;
/** Linkerd's `EWMA_DEFAULT_RTT` (linkerd2-proxy, outbound and inbound config). */
const DEFAULT_RTT_MS = 30;
/** Finagle's `Penalty = Long.MaxValue >> 16` (2^47 − 1, in ns), converted to ms. */
const FINAGLE_PENALTY_MS = (2 ** 47 - 1) / 1e6;

class PeakEwmaSelector<T extends Target> implements Selector<T> {
  readonly tracksLatency = true;

  private members: readonly Member<T>[] = [];
  private weight = new Float64Array(0);
  /** The peak-EWMA round-trip estimate per member, in ms (Finagle's `cost`). */
  private est = new Float64Array(0);
  /** When each estimate was last updated (Finagle's `stamp`). */
  private stamp = new Float64Array(0);
  private readonly draw = new CandidateDraw();
  /**
   * Numbers that would otherwise cross calls, which V8 boxes (allocates) when it does not
   * inline the callee: a pick's clock reading `[0]`, two candidates' costs `[1]`, `[2]` (see
   * `cost`), and `expNeg`'s argument `[X]` and result `[EXP]`.
   */
  private readonly scratch = new Float64Array(5);
  /** 1 / τ: a multiplication per decay instead of a division. */
  private readonly rate: number;
  /** Two choices over equal weights: Finagle's own two-draw pick, without the alias table. */
  private finaglePick = false;

  constructor(
    private readonly random: RandomSource,
    private readonly now: Clock,
    /** The base's `pickTime`: where a pick leaves its clock reading for the lease. */
    private readonly pickTime: Float64Array,
    private readonly choices: number,
    tau: number,
    private readonly penaltyMode: boolean,
    private readonly penalty: number,
    private readonly initial: number,
  ) {
    this.rate = 1 / tau;
  }

  rebuild(members: readonly Member<T>[]): void {
    const previous = new Map<Member<T>, number>();
    for (let j = 0; j < this.members.length; j++) previous.set(this.members[j]!, j);
    const n = members.length;
    const weight = new Float64Array(n);
    const est = new Float64Array(n);
    const stamp = new Float64Array(n);
    let now = Number.NaN;
    for (let j = 0; j < n; j++) {
      const m = members[j]!;
      weight[j] = m.effectiveWeight;
      const k = previous.get(m);
      if (k !== undefined) {
        est[j] = this.est[k]!;
        stamp[j] = this.stamp[k]!;
      } else {
        // Finagle's Metric and tower's RttEstimate start their clocks when the node is created.
        if (now !== now) now = this.now();
        est[j] = this.initial;
        stamp[j] = now;
      }
    }
    this.members = members;
    this.weight = weight;
    this.est = est;
    this.stamp = stamp;
    this.draw.rebuild(members, this.choices);
    let uniform = true;
    for (let j = 1; j < n; j++) if (weight[j] !== weight[0]) uniform = false;
    this.finaglePick = uniform && this.choices === 2;
  }

  select(_key: string | undefined, filtered: boolean): number {
    const n = this.members.length;
    if (!this.finaglePick || filtered || n <= 2) return this.selectDrawn(filtered);
    // Finagle's P2CPick, for equal weights and every member available: two distinct indices
    // from two draws, the second from the n − 1 others ("a hole" at the first).
    const a = randomIndex(this.random, n);
    let b = randomIndex(this.random, n - 1);
    if (b >= a) b++;
    return this.cheaper(a, b);
  }

  /** The general path: distinct candidates drawn in proportion to weight, among the available. */
  private selectDrawn(filtered: boolean): number {
    const got = this.draw.draw(this.random, this.members, filtered, this.choices);
    if (got === 0) return -1;
    const out = this.draw.out;
    // Finagle returns a lone node without computing its load (no decay on read).
    if (got === 1) return out[0]!;
    return got === 2 ? this.cheaper(out[0]!, out[1]!) : this.selectAmong(out, got);
  }

  /**
   * Finagle's P2CPick: `if (nodeA.load < nodeB.load) nodeA else nodeB`, so b wins a tie; costs
   * are divided by weight, compared by cross-multiplication. One clock reading for both.
   */
  private cheaper(a: number, b: number): number {
    const t = this.now();
    this.pickTime[0] = t;
    const s = this.scratch;
    s[0] = t;
    this.cost(a, 1);
    this.cost(b, 2);
    return s[1]! * this.weight[b]! < s[2]! * this.weight[a]! ? a : b;
  }

  /** The cheapest of `got > 2` candidates; a tie goes to the later draw, as in Finagle's P2C. */
  private selectAmong(out: Int32Array, got: number): number {
    const t = this.now();
    this.pickTime[0] = t;
    const s = this.scratch;
    s[0] = t;
    const weight = this.weight;
    let best = out[0]!;
    this.cost(best, 1);
    for (let k = 1; k < got; k++) {
      const i = out[k]!;
      this.cost(i, 2);
      if (!(s[1]! * weight[i]! < s[2]! * weight[best]!)) {
        best = i;
        s[1] = s[2]!;
      }
    }
    return best;
  }

  /**
   * Finagle's `Metric.get()`: first `observe(0.0)`, which decays the estimate by
   * `exp(-Δt/τ)` for the time since its last update and restamps it, then the load
   * `cost × (pending + 1)`, or `Penalty + pending` for a node with no history and requests in
   * flight (penalty mode). Reads the pick's time from `scratch[0]` and writes the cost to
   * `scratch[slot]`: no double is passed to or returned from a call, which V8 would box.
   */
  private cost(i: number, slot: number): void {
    const s = this.scratch;
    const t = s[0]!;
    let e = this.est[i]!;
    const st = this.stamp[i]!;
    if (t > st && e !== 0) {
      s[X] = (t - st) * this.rate;
      expNeg(s);
      e *= s[EXP]!;
      this.est[i] = e;
    }
    this.stamp[i] = t;
    const pending = this.members[i]!.active;
    s[slot] = this.penaltyMode && e === 0 && pending !== 0 ? this.penalty + pending : e * (pending + 1);
  }

  /**
   * Finagle's `Metric.end` → `observe(rtt)`: a sample above the estimate replaces it (the
   * peak); otherwise the estimate moves toward it with weight `1 − exp(-Δt/τ)`, Δt being the
   * time since the estimate's last update (a pick's decay counts as one). Failed requests feed
   * it too, as in Finagle.
   */
  released(pos: number, _ok: boolean, sample: Float64Array): void {
    const rtt = sample[0]!;
    if (rtt !== rtt) return;
    const t = sample[1]!;
    const e = this.est[pos]!;
    if (rtt > e) {
      this.est[pos] = rtt;
    } else {
      const st = this.stamp[pos]!;
      if (t > st) {
        const s = this.scratch;
        s[X] = (t - st) * this.rate;
        expNeg(s);
        const w = s[EXP]!;
        this.est[pos] = e * w + rtt * (1 - w);
      }
    }
    this.stamp[pos] = t;
  }

  /** The estimate at time `t`, decayed as a pick would, without changing anything. */
  estimateAt(pos: number, t: number): number {
    const e = this.est[pos]!;
    const st = this.stamp[pos]!;
    if (!(t > st && e !== 0)) return e;
    const s = this.scratch;
    s[X] = (t - st) * this.rate;
    expNeg(s);
    return e * s[EXP]!;
  }

  /** The cost a pick at time `t` would see, divided by weight, without changing anything. */
  costAt(pos: number, t: number): number {
    const e = this.estimateAt(pos, t);
    const pending = this.members[pos]!.active;
    const c = this.penaltyMode && e === 0 && pending !== 0 ? this.penalty + pending : e * (pending + 1);
    return c / this.weight[pos]!;
  }
}

/**
 * Peak EWMA (Finagle `P2CPeakEwma`, Linkerd's default balancer): each target keeps a round-trip
 * estimate that is "hyper-sensitive to latency peaks" and recovers cautiously, and the request
 * goes to the cheaper of `choices` distinct candidates, drawn in proportion to weight, where a
 * target's cost is `estimate × (inFlight + 1) / weight`.
 *
 * The estimate follows Finagle's `PeakEwma.scala` exactly, in ms on the injected clock:
 *
 * - **Peak:** a response slower than the estimate replaces it at once.
 * - **Decay:** otherwise `estimate = estimate·w + rtt·(1 − w)` with `w = exp(−Δt/τ)`, Δt being
 *   the time since the estimate's last update; τ = `decayMs` (default 10 s, Finagle's and
 *   Linkerd's default), so an estimate halves in τ·ln 2 ≈ 6.9 s.
 * - **Decay on read:** computing a candidate's cost first observes a zero-latency sample
 *   (`observe(0.0)` in Finagle's `get()`), so an idle target's estimate decays toward 0 and it
 *   is tried again; this also restamps the estimate, as in Finagle.
 * - **Cost:** `estimate × (pending + 1)`: Finagle adds one for the request being placed.
 * - **No history:** Linkerd's default RTT of 30 ms, or Finagle's penalty (see
 *   {@link PeakEwmaNoHistory}).
 * - **Choice:** Finagle's P2C draws two distinct nodes and takes `a` only if it is strictly
 *   cheaper, so a tie goes to the later draw; here candidates are drawn in proportion to
 *   weight and costs divided by weight (Finagle's P2C is unweighted).
 *
 * Latency comes from `release({ ok, latencyMs })`, or is measured on the injected clock
 * between `acquire` and `release`; failed requests count too, as in Finagle (pair it with
 * `passive` or `outlier` so that fast failures do not attract traffic). Per pick: O(choices),
 * one clock read, no allocation besides the lease; the clock reading is shared with the lease
 * stamp, and a release reads the clock once.
 *
 * Sources: Finagle `finagle-core/.../loadbalancer/PeakEwma.scala` (`observe`, `get`, `Penalty =
 * Long.MaxValue >> 16`), `p2c/P2CPick.scala`, `Balancers.p2cPeakEwma(decayTime = 10.seconds)`;
 * tower `load/peak_ewma.rs` (default RTT, decay of the default); linkerd2-proxy
 * `EWMA_DEFAULT_RTT = 30 ms`, `EWMA_DECAY = 10 s`.
 *
 * @typeParam T - the target type; `pick()` returns the very values passed in.
 * @example
 * ```ts
 * import { PeakEwma } from 'loadwise';
 * const lb = new PeakEwma(['a:80', 'b:80', 'c:80'], { decayMs: 10_000 });
 * const lease = lb.acquire();
 * const started = performance.now();
 * try {
 *   await send(lease.target);
 *   lease.release({ ok: true, latencyMs: performance.now() - started });
 * } catch {
 *   lease.release('failure'); // latency measured on the balancer's clock
 * }
 * ```
 */
export class PeakEwma<T extends Target = Target> extends BaseBalancer<T> {
  private readonly choices: number;
  private readonly tau: number;
  private readonly penaltyMode: boolean;
  private readonly penalty: number;
  private readonly initial: number;

  /**
   * @param targets - the initial targets, in order (may be empty).
   * @param options - see {@link PeakEwmaOptions}.
   * @throws InvalidOptionError for a bad option.
   * @example
   * ```ts
   * const lb = new PeakEwma([{ id: 'a', weight: 2 }, { id: 'b' }], { noHistory: 'penalty' });
   * ```
   */
  constructor(targets: readonly T[], options?: PeakEwmaOptions) {
    super(targets, options, OPTION_NAMES);
    this.measuresLatency = true;
    this.tau = positiveOption('decayMs', options?.decayMs, DEFAULT_DECAY_MS);
    this.choices = intOption('choices', options?.choices, 2, 2);
    const mode = options?.noHistory ?? 'default-rtt';
    if (mode !== 'default-rtt' && mode !== 'penalty') {
      throw new InvalidOptionError('noHistory', mode, "'default-rtt' or 'penalty'");
    }
    this.penaltyMode = mode === 'penalty';
    if (this.penaltyMode && options?.defaultRttMs !== undefined) {
      throw new InvalidOptionError('defaultRttMs', options.defaultRttMs, "no value with noHistory: 'penalty' (which starts estimates at 0)");
    }
    if (!this.penaltyMode && options?.penalty !== undefined) {
      throw new InvalidOptionError('penalty', options.penalty, "no value unless noHistory is 'penalty'");
    }
    this.penalty = positiveOption('penalty', options?.penalty, FINAGLE_PENALTY_MS);
    this.initial = this.penaltyMode ? 0 : positiveOption('defaultRttMs', options?.defaultRttMs, DEFAULT_RTT_MS);
  }

  protected createSelector(): Selector<T> {
    return new PeakEwmaSelector<T>(this.random, this.now, this.pickTime, this.choices, this.tau, this.penaltyMode, this.penalty, this.initial);
  }

  /** Routes on `effectiveWeight`, so slow start ramps a returning target. */
  protected override rampsWeights(): boolean {
    return true;
  }

  /** @internal Reads the clock once per release: for the measured latency and the estimate's stamp. */
  override settle(m: Member<T>, ok: boolean, lease: OpenLease<T>): void {
    const t = this.now();
    const sample = this.releaseSample;
    sample[1] = t;
    const startedAt = lease.startedAt;
    // Finagle's `end` takes rtt = max(now − start, 0) on its monotonic clock; an injected clock
    // that went back measures nothing here, so the sample is dropped rather than taken as 0.
    if (sample[0] !== sample[0] && startedAt === startedAt && t >= startedAt) sample[0] = t - startedAt;
    super.settle(m, ok, lease);
  }

  /**
   * A target's current round-trip estimate in ms, decayed to now as the next pick would see
   * it; changes nothing. Under `noHistory: 'penalty'` a target without history reports 0.
   *
   * @throws UnknownIdError when the id is not in the balancer.
   * @example
   * ```ts
   * lb.rttEstimate('a:80'); // e.g. 12.5
   * ```
   */
  rttEstimate(id: string): number {
    const [selector, pos] = this.locate(id);
    return selector.estimateAt(pos, this.now());
  }

  /**
   * The cost a pick would compare for this target right now: `estimate × (inFlight + 1)`
   * divided by its effective weight (or the no-history penalty); lower wins. Changes nothing.
   *
   * @throws UnknownIdError when the id is not in the balancer.
   * @example
   * ```ts
   * lb.cost('a:80') < lb.cost('b:80'); // a would win a comparison with b now
   * ```
   */
  cost(id: string): number {
    const [selector, pos] = this.locate(id);
    return selector.costAt(pos, this.now());
  }

  private locate(id: string): [PeakEwmaSelector<T>, number] {
    for (const tier of this.tiers()) {
      const ms = tier.members;
      for (let i = 0; i < ms.length; i++) if (ms[i]!.id === id) return [tier.selector as PeakEwmaSelector<T>, i];
    }
    throw new UnknownIdError(String(id));
  }
}

/** Below this, `expNeg` uses its polynomial. */
const SMALL = 2 ** -10;
/** `expNeg`'s slots in a selector's scratch array: the argument and the result. */
const X = 3;
const EXP = 4;
const ONE_SIXTH = 1 / 6;
const ONE_24TH = 1 / 24;

/**
 * `s[EXP] = exp(−s[X])` for s[X] ≥ 0 (in and out through the array, so that nothing is boxed
 * if V8 does not inline it). Between two updates of one target Δt/τ is usually tiny (1 ms / 10 s =
 * 10⁻⁴), where `Math.exp` costs as much as the rest of a pick; there the Taylor polynomial to
 * x⁴ is used, whose truncation error (under x⁵/120 ≈ 7 × 10⁻¹⁸) is below double precision's
 * rounding, so the result matches `Math.exp(−x)` to the last bit or so.
 */
function expNeg(s: Float64Array): void {
  const x = s[X]!;
  if (x >= SMALL) {
    s[EXP] = Math.exp(-x);
    return;
  }
  s[EXP] = 1 + x * (-1 + x * (0.5 + x * (-ONE_SIXTH + x * ONE_24TH)));
}

/** An optional finite number option > 0. */
function positiveOption(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0) || value === Number.POSITIVE_INFINITY) {
    throw new InvalidOptionError(name, value, 'a finite number > 0');
  }
  return value;
}
