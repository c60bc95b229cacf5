import { InvalidOptionError } from '../core/errors.js';
import { createRandom, type RandomSource } from '../core/rng.js';
import type { Balancer, Lease } from '../types.js';
import { meanOf, sampler, validateDistribution } from './distributions.js';
import { EventQueue } from './heap.js';
import { deriveSeed, ln, pow } from './math.js';
import { cdfPoints, summarize, quantile } from './stats.js';
import type {
  Algorithm,
  AlgorithmResult,
  ArrivalSpec,
  BalancerFactory,
  ClusterView,
  KeySpec,
  Scenario,
  ServerResult,
  ServerSpec,
  SimTarget,
} from './types.js';

// Event kinds.
const ARRIVAL = 0;
const COMPLETE = 1;
const SPEED = 2;
const DOWN = 3;
const UP = 4;
const WAKE = 5;
const MARK = 6;

// Random streams, each derived from the run's seed, so that one part of a scenario can change
// without reshuffling the draws of another (and every algorithm sees the same arrivals).
const STREAM_ARRIVALS = 1;
const STREAM_SERVICE = 2;
const STREAM_ERRORS = 3;
const STREAM_KEYS = 4;
const STREAM_PROXY = 5;
const STREAM_BALANCER = 6;
const STREAM_THINK = 7;

/** Events at one instant beyond which a run counts as stuck. */
const MAX_EVENTS_AT_ONE_TIME = 10_000_000;

/** Largest keys × servers table kept for the affinity figure (64 MB). */
const MAX_KEY_CELLS = 1 << 24;

// Request states.
const PENDING = 0;
const DONE = 1;
const FAILED = 2;

// Error causes.
const E_FAILED = 0;
const E_REJECTED = 1;
const E_DOWN = 2;
const E_UNROUTABLE = 3;

interface SimEvent {
  readonly kind: number;
  readonly a: number;
  readonly b: number;
  readonly c: number;
}

class Request {
  server = -1;
  lease: Lease<SimTarget> | null = null;
  started = -1;
  state = PENDING;

  constructor(
    readonly arrival: number,
    readonly measured: boolean,
    readonly client: number,
  ) {}
}

class Server {
  readonly workers: number;
  readonly queueLimit: number;
  readonly baseSpeed: number;
  readonly errorRate: number;
  readonly draw: () => number;
  readonly errorRandom: RandomSource;
  speed: number;
  down = false;
  /** Request in service on each worker, or null. */
  readonly busy: (Request | null)[];
  /** Work left (ms at speed 1) on each worker as of `updatedAt`. */
  readonly remaining: Float64Array;
  readonly updatedAt: Float64Array;
  /** Bumped whenever a worker's completion is rescheduled or cancelled; stale events are skipped. */
  readonly token: Uint32Array;
  readonly free: number[] = [];
  queue: Request[] = [];
  head = 0;
  inSystem = 0;
  maxInSystem = 0;
  backlogAtEnd = 0;
  busyMs = 0;
  requests = 0;
  completed = 0;
  errors = 0;

  constructor(spec: ServerSpec, seed: number, index: number) {
    this.workers = spec.workers ?? 1;
    this.queueLimit = spec.queueLimit ?? Number.POSITIVE_INFINITY;
    this.baseSpeed = spec.speed ?? 1;
    this.speed = this.baseSpeed;
    this.errorRate = spec.errorRate ?? 0;
    this.draw = sampler(spec.service, createRandom(deriveSeed(seed, STREAM_SERVICE, index)));
    this.errorRandom = createRandom(deriveSeed(seed, STREAM_ERRORS, index));
    this.busy = new Array<Request | null>(this.workers).fill(null);
    this.remaining = new Float64Array(this.workers);
    this.updatedAt = new Float64Array(this.workers);
    this.token = new Uint32Array(this.workers);
    // Popped from the end: worker 0 is used first.
    for (let w = this.workers - 1; w >= 0; w--) this.free.push(w);
  }

  get queued(): number {
    return this.queue.length - this.head;
  }

  dequeue(): Request | undefined {
    if (this.head >= this.queue.length) return undefined;
    const r = this.queue[this.head++]!;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return r;
  }
}

/** A stream of open-loop arrival times, non-decreasing; `Infinity` once exhausted. */
type Source = () => number;

/** An exponential gap between Poisson arrivals, through the deterministic logarithm. */
function exponentialGap(random: RandomSource, ratePerMs: number): number {
  return -ln(1 - random()) / ratePerMs;
}

function openSource(spec: ArrivalSpec, random: RandomSource, endMs: number): Source {
  switch (spec.type) {
    case 'poisson': {
      const rate = spec.rps / 1000;
      const until = Math.min(spec.toMs ?? endMs, endMs);
      let t = spec.fromMs ?? 0;
      if (!(rate > 0)) return () => Number.POSITIVE_INFINITY;
      return () => {
        t += exponentialGap(random, rate);
        return t < until ? t : Number.POSITIVE_INFINITY;
      };
    }
    case 'schedule': {
      const steps = spec.steps;
      let i = 0;
      let t = steps.length > 0 ? steps[0]!.atMs : endMs;
      return () => {
        for (;;) {
          if (i >= steps.length || t >= endMs) return Number.POSITIVE_INFINITY;
          const rate = steps[i]!.rps / 1000;
          const boundary = i + 1 < steps.length ? Math.min(steps[i + 1]!.atMs, endMs) : endMs;
          if (rate > 0) {
            // Memoryless: a gap that crosses the boundary is redrawn from the boundary at the new rate.
            const candidate = t + exponentialGap(random, rate);
            if (candidate < boundary) {
              t = candidate;
              return t;
            }
          }
          t = boundary;
          i++;
        }
      };
    }
    case 'bursts': {
      const every = spec.everyMs;
      const size = spec.size;
      const spread = spec.spreadMs ?? 0;
      const start = spec.startMs ?? every;
      let j = 0;
      let m = 0;
      return () => {
        if (size <= 0) return Number.POSITIVE_INFINITY;
        const t = start + j * every + (spread * m) / size;
        if (++m === size) {
          m = 0;
          j++;
        }
        return t < endMs ? t : Number.POSITIVE_INFINITY;
      };
    }
    case 'clients':
      throw new Error('unreachable: closed-loop clients are not an open source');
  }
}

/** Key ranks drawn by inverse CDF (binary search over the cumulative weights). */
function keySampler(spec: KeySpec, random: RandomSource): { names: readonly string[]; draw: () => number } {
  const n = spec.count;
  const names: string[] = new Array<string>(n);
  for (let k = 0; k < n; k++) names[k] = `key-${k + 1}`;
  if (spec.type === 'uniform') return { names, draw: () => Math.floor(random() * n) };
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let k = 0; k < n; k++) {
    sum += 1 / pow(k + 1, spec.exponent);
    cdf[k] = sum;
  }
  for (let k = 0; k < n; k++) cdf[k] = cdf[k]! / sum;
  cdf[n - 1] = 1;
  return {
    names,
    draw: () => {
      const u = random();
      let lo = 0;
      let hi = n - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (cdf[mid]! > u) hi = mid;
        else lo = mid + 1;
      }
      return lo;
    },
  };
}

function arrivalList(spec: Scenario['arrivals']): readonly ArrivalSpec[] {
  return Array.isArray(spec) ? (spec as readonly ArrivalSpec[]) : [spec as ArrivalSpec];
}

function finite(name: string, v: unknown, min: number, positive = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || (positive && v === 0)) {
    throw new InvalidOptionError(name, v, positive ? `a finite number > ${min}` : `a finite number >= ${min}`);
  }
  return v;
}

function integer(name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new InvalidOptionError(name, v, `an integer >= ${min}`);
  return v;
}

/**
 * Checks a scenario's every field; throws `InvalidOptionError` naming the first bad one
 * (e.g. `servers[3].workers`).
 *
 * @example
 * ```ts
 * import { validateScenario, scenarios } from 'loadwise/sim';
 * validateScenario(scenarios.homogeneous); // ok
 * validateScenario({ ...scenarios.homogeneous, durationMs: -1 }); // throws
 * ```
 */
export function validateScenario(s: Scenario): void {
  if (typeof s !== 'object' || s === null) throw new InvalidOptionError('scenario', s, 'a Scenario object');
  finite('durationMs', s.durationMs, 0, true);
  if (s.warmupMs !== undefined) finite('warmupMs', s.warmupMs, 0);
  if (s.proxies !== undefined) integer('proxies', s.proxies, 1);
  if (s.proxySelection !== undefined && s.proxySelection !== 'random' && s.proxySelection !== 'round-robin') {
    throw new InvalidOptionError('proxySelection', s.proxySelection, "'random' or 'round-robin'");
  }
  if (s.seed !== undefined) finite('seed', s.seed, -Number.MAX_VALUE);
  if (s.timelineMs !== undefined) finite('timelineMs', s.timelineMs, 0, true);
  if (!Array.isArray(s.servers) || s.servers.length === 0) throw new InvalidOptionError('servers', s.servers, 'a non-empty array');
  const ids = new Set<string>();
  s.servers.forEach((v: ServerSpec, i: number) => {
    const p = `servers[${i}]`;
    const id = v.id ?? defaultId(i);
    if (typeof id !== 'string' || id === '' || ids.has(id)) throw new InvalidOptionError(`${p}.id`, id, 'a unique non-empty string');
    ids.add(id);
    if (v.weight !== undefined) finite(`${p}.weight`, v.weight, 0, true);
    if (v.workers !== undefined) integer(`${p}.workers`, v.workers, 1);
    if (v.queueLimit !== undefined && v.queueLimit !== Number.POSITIVE_INFINITY) integer(`${p}.queueLimit`, v.queueLimit, 0);
    validateDistribution(v.service, `${p}.service`);
    if (v.speed !== undefined) finite(`${p}.speed`, v.speed, 0, true);
    if (v.errorRate !== undefined && !(typeof v.errorRate === 'number' && v.errorRate >= 0 && v.errorRate <= 1)) {
      throw new InvalidOptionError(`${p}.errorRate`, v.errorRate, 'a number from 0 to 1');
    }
    v.speedSchedule?.forEach((c, j) => {
      finite(`${p}.speedSchedule[${j}].atMs`, c.atMs, 0);
      finite(`${p}.speedSchedule[${j}].speed`, c.speed, 0, true);
    });
    v.down?.forEach((d, j) => {
      finite(`${p}.down[${j}].fromMs`, d.fromMs, 0);
      finite(`${p}.down[${j}].toMs`, d.toMs, d.fromMs);
    });
  });
  const arrivals = arrivalList(s.arrivals);
  if (arrivals.length === 0) throw new InvalidOptionError('arrivals', s.arrivals, 'at least one arrival source');
  arrivals.forEach((a, i) => {
    const p = Array.isArray(s.arrivals) ? `arrivals[${i}]` : 'arrivals';
    switch (a.type) {
      case 'poisson':
        finite(`${p}.rps`, a.rps, 0);
        if (a.fromMs !== undefined) finite(`${p}.fromMs`, a.fromMs, 0);
        if (a.toMs !== undefined) finite(`${p}.toMs`, a.toMs, 0);
        return;
      case 'schedule':
        if (!Array.isArray(a.steps) || a.steps.length === 0) throw new InvalidOptionError(`${p}.steps`, a.steps, 'a non-empty array');
        a.steps.forEach((st, j) => {
          finite(`${p}.steps[${j}].atMs`, st.atMs, j === 0 ? 0 : a.steps[j - 1]!.atMs);
          finite(`${p}.steps[${j}].rps`, st.rps, 0);
        });
        return;
      case 'bursts':
        finite(`${p}.everyMs`, a.everyMs, 0, true);
        integer(`${p}.size`, a.size, 0);
        if (a.startMs !== undefined) finite(`${p}.startMs`, a.startMs, 0);
        if (a.spreadMs !== undefined) finite(`${p}.spreadMs`, a.spreadMs, 0);
        return;
      case 'clients':
        integer(`${p}.clients`, a.clients, 0);
        validateDistribution(a.thinkMs, `${p}.thinkMs`);
        return;
      default:
        throw new InvalidOptionError(`${p}.type`, (a as { type?: unknown }).type, "'poisson', 'schedule', 'bursts' or 'clients'");
    }
  });
  if (s.keys !== undefined) {
    integer('keys.count', s.keys.count, 1);
    if (s.keys.type === 'zipf') finite('keys.exponent', s.keys.exponent, 0);
    else if (s.keys.type !== 'uniform') throw new InvalidOptionError('keys.type', (s.keys as { type?: unknown }).type, "'zipf' or 'uniform'");
  }
}

function defaultId(i: number): string {
  return `s${String(i + 1).padStart(2, '0')}`;
}

/**
 * Total capacity of the servers in requests per second at their base speeds: the sum over
 * servers of `workers × speed × 1000 / mean service time`.
 *
 * @example
 * ```ts
 * import { capacityRps, cluster, exponential } from 'loadwise/sim';
 * capacityRps(cluster(20, { workers: 4, service: exponential(10) })); // 8000
 * ```
 */
export function capacityRps(servers: readonly ServerSpec[]): number {
  let total = 0;
  for (const s of servers) total += ((s.workers ?? 1) * (s.speed ?? 1) * 1000) / meanOf(s.service);
  return total;
}

/**
 * `count` servers built from one spec, with ids `s01`, `s02`, …; `overrides[i]` replaces fields
 * of server `i` (e.g. make one slow).
 *
 * @example
 * ```ts
 * import { cluster, exponential } from 'loadwise/sim';
 * const servers = cluster(20, { workers: 4, service: exponential(10) }, { 19: { speed: 1 / 3 } });
 * ```
 */
export function cluster(count: number, spec: ServerSpec, overrides: Readonly<Record<number, Partial<ServerSpec>>> = {}): ServerSpec[] {
  const out: ServerSpec[] = [];
  for (let i = 0; i < count; i++) out.push(definedFields<ServerSpec>([{ id: defaultId(i) }, spec, overrides[i]]));
  return out;
}

/** Later objects' fields over earlier ones', where defined: a field set to `undefined` counts as absent. */
function definedFields<O>(parts: readonly (object | undefined)[]): O {
  const out: Record<string, unknown> = {};
  for (const part of parts) {
    if (part === undefined) continue;
    for (const [name, value] of Object.entries(part)) if (value !== undefined) out[name] = value;
  }
  return out as O;
}

/**
 * The mean offered load of a scenario's open-loop arrivals over its servers' capacity at base
 * speed (0.8 = 80 % utilisation); `null` when closed-loop clients are present (their load
 * depends on the response times).
 *
 * @example
 * ```ts
 * import { offeredUtilisation, scenarios } from 'loadwise/sim';
 * offeredUtilisation(scenarios.homogeneous); // 0.8
 * ```
 */
export function offeredUtilisation(s: Scenario): number | null {
  let requests = 0;
  for (const a of arrivalList(s.arrivals)) {
    switch (a.type) {
      case 'poisson': {
        const from = a.fromMs ?? 0;
        const to = Math.min(a.toMs ?? s.durationMs, s.durationMs);
        requests += (Math.max(0, to - from) * a.rps) / 1000;
        break;
      }
      case 'schedule':
        a.steps.forEach((st, j) => {
          const to = Math.min(j + 1 < a.steps.length ? a.steps[j + 1]!.atMs : s.durationMs, s.durationMs);
          requests += (Math.max(0, to - Math.min(st.atMs, s.durationMs)) * st.rps) / 1000;
        });
        break;
      case 'bursts': {
        const start = a.startMs ?? a.everyMs;
        if (start < s.durationMs) requests += (Math.floor((s.durationMs - start) / a.everyMs) + 1) * a.size;
        break;
      }
      case 'clients':
        return null;
    }
  }
  return requests / ((capacityRps(s.servers) * s.durationMs) / 1000);
}

/**
 * Options of {@link simulate}.
 *
 * @example
 * ```ts
 * simulate(scenario, algorithm, { seed: 7 });
 * ```
 */
export interface SimulateOptions {
  /** Overrides the scenario's seed. */
  readonly seed?: number | undefined;
}

/**
 * Runs one algorithm on one scenario and returns its figures. Deterministic: the same scenario,
 * algorithm and seed give the same result, to the bit, on every runtime. Every algorithm run on
 * a scenario sees the same arrivals and the same per-server service-time draws.
 *
 * Each proxy's balancer is built by `create(targets, { now, seed }, context)` and driven through
 * its own `acquire` and `lease.release({ ok, latencyMs })`; `now` is the simulated clock.
 *
 * @example
 * ```ts
 * import { PowerOfTwoChoices } from 'loadwise';
 * import { cluster, exponential, simulate } from 'loadwise/sim';
 * const result = simulate(
 *   {
 *     name: 'demo',
 *     servers: cluster(10, { workers: 2, service: exponential(10) }),
 *     arrivals: { type: 'poisson', rps: 1600 },
 *     durationMs: 5_000,
 *   },
 *   { name: 'P2C', create: (t, o) => new PowerOfTwoChoices(t, o) },
 * );
 * result.latency.p99; // ms
 * ```
 */
export function simulate(scenario: Scenario, algorithm: Algorithm | BalancerFactory, options: SimulateOptions = {}): AlgorithmResult {
  validateScenario(scenario);
  const alg: Algorithm = typeof algorithm === 'function' ? { name: algorithm.name || 'balancer', create: algorithm } : algorithm;
  const seed = options.seed ?? scenario.seed ?? 1;
  return new Run(scenario, alg, seed).execute();
}

class Run {
  private clock = 0;
  private readonly queue = new EventQueue<SimEvent>();
  private readonly servers: Server[];
  private readonly targets: SimTarget[];
  private readonly balancers: Balancer<SimTarget>[] = [];
  private readonly sources: Source[] = [];
  private readonly thinkers: (() => number)[] = [];
  private readonly keyNames: readonly string[] | null = null;
  private readonly drawKey: (() => number) | null = null;
  /** Requests per (key, server), for the affinity figure. */
  private readonly keyCounts: Uint32Array | null = null;
  private readonly proxyRandom: RandomSource;
  private readonly proxySelection: 'random' | 'round-robin';
  private proxyTurn = 0;
  private readonly duration: number;
  private readonly warmup: number;
  private readonly timelineMs: number;
  private readonly timeline: Uint32Array | null = null;
  private events = 0;
  private open = 0;
  private pending = 0;
  private lastResponse = 0;
  // Measured (post warm-up) figures.
  private issued = 0;
  private completed = 0;
  private readonly errorsBy = [0, 0, 0, 0];
  private routed = 0;
  private readonly latencies: number[] = [];
  private readonly waits: number[] = [];

  constructor(
    private readonly scenario: Scenario,
    private readonly algorithm: Algorithm,
    private readonly seed: number,
  ) {
    this.duration = scenario.durationMs;
    this.warmup = scenario.warmupMs ?? 0;
    this.proxySelection = scenario.proxySelection ?? 'random';
    this.proxyRandom = createRandom(deriveSeed(seed, STREAM_PROXY, 0));
    this.servers = scenario.servers.map((spec, i) => new Server(spec, seed, i));
    this.targets = scenario.servers.map((spec, index) => {
      const t: { id: string; index: number; weight?: number } = { id: spec.id ?? defaultId(index), index };
      if (spec.weight !== undefined) t.weight = spec.weight;
      return Object.freeze(t);
    });
    if (scenario.keys !== undefined) {
      const k = keySampler(scenario.keys, createRandom(deriveSeed(seed, STREAM_KEYS, 0)));
      this.keyNames = k.names;
      this.drawKey = k.draw;
      if (scenario.keys.count * scenario.servers.length <= MAX_KEY_CELLS) {
        this.keyCounts = new Uint32Array(scenario.keys.count * scenario.servers.length);
      }
    }
    this.timelineMs = scenario.timelineMs ?? 0;
    if (this.timelineMs > 0) this.timeline = new Uint32Array(Math.ceil(this.duration / this.timelineMs) * this.servers.length);
  }

  private readonly now = (): number => this.clock;

  private schedule(time: number, kind: number, a = 0, b = 0, c = 0): void {
    this.queue.push(time, { kind, a, b, c });
  }

  execute(): AlgorithmResult {
    const sc = this.scenario;
    const servers = this.servers;
    const view: ClusterView = {
      size: servers.length,
      inSystem: (i) => servers[i]!.inSystem,
      queued: (i) => servers[i]!.queued,
      workers: (i) => servers[i]!.workers,
      isDown: (i) => servers[i]!.down,
    };
    const proxies = sc.proxies ?? 1;
    for (let p = 0; p < proxies; p++) {
      const balancer = this.algorithm.create(
        this.targets,
        { now: this.now, seed: deriveSeed(this.seed, STREAM_BALANCER, p) },
        { proxy: p, proxies, view },
      );
      this.balancers.push(balancer);
    }

    this.schedule(this.duration, MARK);
    servers.forEach((_, i) => {
      const spec = sc.servers[i]!;
      for (const change of spec.speedSchedule ?? []) this.schedule(change.atMs, SPEED, i, change.speed);
      for (const d of spec.down ?? []) {
        if (d.toMs <= d.fromMs) continue;
        this.schedule(d.fromMs, DOWN, i);
        this.schedule(d.toMs, UP, i);
      }
    });
    arrivalList(sc.arrivals).forEach((a, i) => {
      const random = createRandom(deriveSeed(this.seed, STREAM_ARRIVALS, i));
      if (a.type === 'clients') {
        const think = sampler(a.thinkMs, createRandom(deriveSeed(this.seed, STREAM_THINK, i)));
        for (let c = 0; c < a.clients; c++) {
          const client = this.thinkers.length;
          this.thinkers.push(think);
          const first = think();
          if (first < this.duration) this.schedule(first, WAKE, client);
        }
        return;
      }
      const source = openSource(a, random, this.duration);
      const index = this.sources.length;
      this.sources.push(source);
      const t = source();
      if (t < this.duration) this.schedule(t, ARRIVAL, index);
    });

    const queue = this.queue;
    let sameTime = 0;
    for (;;) {
      const e = queue.pop();
      if (e === undefined) break;
      this.events++;
      if (queue.lastTime === this.clock) {
        // Zero think time with zero service time (or with a balancer that refuses every request)
        // would loop forever without time moving.
        if (++sameTime > MAX_EVENTS_AT_ONE_TIME) {
          throw new Error(`simulator: time stopped at ${this.clock} ms (${MAX_EVENTS_AT_ONE_TIME} events at once); check zero think or service times`);
        }
      } else {
        sameTime = 0;
      }
      this.clock = queue.lastTime;
      switch (e.kind) {
        case ARRIVAL: {
          this.issue(-1);
          const t = this.sources[e.a]!();
          if (t < this.duration) this.schedule(t, ARRIVAL, e.a);
          break;
        }
        case COMPLETE:
          this.complete(e.a, e.b, e.c);
          break;
        case WAKE:
          this.issue(e.a);
          break;
        case SPEED:
          this.setSpeed(e.a, e.b);
          break;
        case DOWN:
          this.goDown(e.a);
          break;
        case UP:
          servers[e.a]!.down = false;
          break;
        case MARK:
          for (const s of servers) s.backlogAtEnd = s.inSystem;
          break;
      }
    }
    return this.result();
  }

  private issue(client: number): void {
    const t = this.clock;
    const measured = t >= this.warmup;
    const req = new Request(t, measured, client);
    this.pending++;
    if (measured) this.issued++;
    const proxies = this.balancers.length;
    let p = 0;
    if (proxies > 1) {
      if (this.proxySelection === 'random') p = Math.floor(this.proxyRandom() * proxies);
      else {
        p = this.proxyTurn;
        this.proxyTurn = p + 1 === proxies ? 0 : p + 1;
      }
    }
    const balancer = this.balancers[p]!;
    const rank = this.drawKey === null ? -1 : this.drawKey();
    let lease: Lease<SimTarget>;
    try {
      lease = rank < 0 ? balancer.acquire() : balancer.acquire(this.keyNames![rank]!);
    } catch (err) {
      const code = (err as { code?: unknown } | null)?.code;
      if (code === 'ERR_NO_TARGET' || code === 'ERR_TARGETS_AT_CAPACITY') {
        this.finish(req, false, E_UNROUTABLE);
        return;
      }
      throw err;
    }
    this.open++;
    req.lease = lease;
    const target = lease.target;
    let i = (target as Partial<SimTarget> | undefined)?.index ?? -1;
    if (this.targets[i] !== target) i = this.targets.findIndex((x) => x.id === (typeof target === 'string' ? target : target?.id));
    if (i < 0) throw new Error(`simulator: ${this.algorithm.name} returned a target that is not one of the servers`);
    req.server = i;
    const s = this.servers[i]!;
    if (measured) {
      this.routed++;
      s.requests++;
      if (rank >= 0 && this.keyCounts !== null) this.keyCounts[rank * this.servers.length + i]!++;
    }
    if (this.timeline !== null) this.timeline[Math.floor(t / this.timelineMs) * this.servers.length + i]!++;
    if (s.down) {
      this.finish(req, false, E_DOWN);
      return;
    }
    if (s.free.length > 0) {
      this.admit(s);
      this.start(s, i, s.free.pop()!, req);
    } else if (s.queued < s.queueLimit) {
      this.admit(s);
      s.queue.push(req);
    } else {
      this.finish(req, false, E_REJECTED);
    }
  }

  private admit(s: Server): void {
    if (++s.inSystem > s.maxInSystem) s.maxInSystem = s.inSystem;
  }

  private start(s: Server, i: number, w: number, req: Request): void {
    const t = this.clock;
    req.started = t;
    if (req.measured) this.waits.push(t - req.arrival);
    s.busy[w] = req;
    const work = s.draw();
    s.remaining[w] = work;
    s.updatedAt[w] = t;
    const token = ++s.token[w]!;
    this.schedule(t + work / s.speed, COMPLETE, i, w, token);
  }

  private complete(i: number, w: number, token: number): void {
    const s = this.servers[i]!;
    if (s.token[w] !== token) return; // rescheduled by a speed change, or cancelled by going down
    const req = s.busy[w]!;
    s.busy[w] = null;
    s.inSystem--;
    s.busyMs += this.clock - req.started;
    const ok = s.errorRate === 0 || s.errorRandom() >= s.errorRate;
    this.finish(req, ok, E_FAILED);
    const next = s.dequeue();
    if (next !== undefined) this.start(s, i, w, next);
    else s.free.push(w);
  }

  private setSpeed(i: number, factor: number): void {
    const s = this.servers[i]!;
    const t = this.clock;
    const old = s.speed;
    s.speed = s.baseSpeed * factor;
    for (let w = 0; w < s.workers; w++) {
      if (s.busy[w] === null) continue;
      const left = Math.max(0, s.remaining[w]! - (t - s.updatedAt[w]!) * old);
      s.remaining[w] = left;
      s.updatedAt[w] = t;
      this.schedule(t + left / s.speed, COMPLETE, i, w, ++s.token[w]!);
    }
  }

  private goDown(i: number): void {
    const s = this.servers[i]!;
    s.down = true;
    const t = this.clock;
    for (let w = 0; w < s.workers; w++) {
      const req = s.busy[w];
      if (req === null || req === undefined) continue;
      s.busy[w] = null;
      s.token[w]!++;
      s.inSystem--;
      s.busyMs += t - req.started;
      this.finish(req, false, E_DOWN);
    }
    for (let req = s.dequeue(); req !== undefined; req = s.dequeue()) {
      s.inSystem--;
      this.finish(req, false, E_DOWN);
    }
    s.free.length = 0;
    for (let w = s.workers - 1; w >= 0; w--) s.free.push(w);
  }

  /** Closes a request exactly once: releases its lease, counts it, wakes its client. */
  private finish(req: Request, ok: boolean, cause: number): void {
    if (req.state !== PENDING) throw new Error('simulator invariant broken: a request finished twice');
    req.state = ok ? DONE : FAILED;
    this.pending--;
    const t = this.clock;
    const latency = t - req.arrival;
    if (req.lease !== null) {
      this.open--;
      req.lease.release({ ok, latencyMs: latency });
      req.lease = null;
    }
    if (t > this.lastResponse) this.lastResponse = t;
    if (req.measured) {
      if (ok) {
        this.completed++;
        this.latencies.push(latency);
      } else {
        this.errorsBy[cause]!++;
      }
      if (req.server >= 0) {
        const s = this.servers[req.server]!;
        if (ok) s.completed++;
        else s.errors++;
      }
    }
    if (req.client >= 0) {
      const next = t + this.thinkers[req.client]!();
      if (next < this.duration) this.schedule(next, WAKE, req.client);
    }
  }

  private result(): AlgorithmResult {
    if (this.pending !== 0 || this.open !== 0) {
      throw new Error(`simulator invariant broken: ${this.pending} requests and ${this.open} leases left open after the drain`);
    }
    let openLeasesAtEnd = 0;
    for (const b of this.balancers) {
      if (typeof b.stats === 'function') for (const st of b.stats()) openLeasesAtEnd += st.active;
    }
    const end = Math.max(this.duration, this.lastResponse);
    const routed = this.routed;
    const servers: ServerResult[] = this.servers.map((s, i) => ({
      id: this.targets[i]!.id,
      share: routed > 0 ? s.requests / routed : 0,
      requests: s.requests,
      completed: s.completed,
      errors: s.errors,
      maxInFlight: s.maxInSystem,
      backlogAtEnd: s.backlogAtEnd,
      utilisation: end > 0 ? s.busyMs / (s.workers * end) : 0,
    }));
    const latencies = Float64Array.from(this.latencies).sort();
    const waits = Float64Array.from(this.waits).sort();
    let waitSum = 0;
    for (let k = 0; k < waits.length; k++) waitSum += waits[k]!;
    const [failed, rejected, down, unroutable] = this.errorsBy as [number, number, number, number];
    const result: {
      -readonly [K in keyof AlgorithmResult]: AlgorithmResult[K];
    } = {
      algorithm: this.algorithm.name,
      reference: this.algorithm.reference === true,
      issued: this.issued,
      completed: this.completed,
      errors: failed + rejected + down + unroutable,
      errorsBy: { failed, rejected, down, unroutable },
      latency: summarize(latencies),
      queueing: {
        mean: waits.length > 0 ? waitSum / waits.length : 0,
        p99: quantile(waits, 0.99),
        max: waits.length > 0 ? waits[waits.length - 1]! : 0,
      },
      servers,
      backlogAtEnd: servers.reduce((sum, s) => sum + s.backlogAtEnd, 0),
      drainMs: Math.max(0, this.lastResponse - this.duration),
      openLeasesAtEnd,
      cdf: cdfPoints(latencies),
      events: this.events,
    };
    if (this.keyCounts !== null) {
      const n = this.servers.length;
      const counts = this.keyCounts;
      let usual = 0;
      let all = 0;
      for (let k = 0; k < counts.length; k += n) {
        let max = 0;
        for (let j = k; j < k + n; j++) {
          const c = counts[j]!;
          all += c;
          if (c > max) max = c;
        }
        usual += max;
      }
      result.affinity = all > 0 ? usual / all : 1;
    }
    if (this.timeline !== null) {
      const n = this.servers.length;
      const counts: number[][] = [];
      for (let b = 0; b < this.timeline.length / n; b++) counts.push(Array.from(this.timeline.subarray(b * n, (b + 1) * n)));
      result.timeline = { bucketMs: this.timelineMs, counts };
    }
    return result;
  }
}
