/**
 * The twin harness of the adversarial catalogue: every balancer variant, a deterministic
 * environment (a hand-driven clock, an event log, hooks for re-entrant listeners), a fixed
 * probe sequence that turns a balancer's observable behaviour into a trace, and the rules that
 * sort a thrown value into "coded" (a LoadwiseError with a string code), "user" (the hostile
 * input's own exception, which may propagate) and "raw" (anything else: a bug).
 */
import { LoadwiseError, type Balancer, type BalancerEvent, type Lease, type Target } from '../../src/index.js';
import { BALANCER_CLASSES, type ClassName } from '../support/classes.js';

/** The exception every hostile getter, trap, clock and random source throws. */
export class Boom extends Error {
  constructor(where: string) {
    super(`boom: ${where}`);
    this.name = 'Boom';
  }
}

export type Outcome =
  | { readonly kind: 'ok' }
  | { readonly kind: 'coded'; readonly code: string }
  | { readonly kind: 'user'; readonly text: string }
  | { readonly kind: 'raw'; readonly text: string };

/** Text of a thrown value that never throws itself. */
export function errorText(err: unknown): string {
  try {
    if (err instanceof Error) return `${err.name}: ${err.message}`;
    return `non-Error ${typeof err}: ${String(err)}`;
  } catch {
    return 'unprintable';
  }
}

/** Values the caller itself produced and may see again as the call's error. */
const userValues = new WeakSet<object>();
export function userValue<V extends object>(v: V): V {
  userValues.add(v);
  return v;
}

/**
 * Sorts a thrown value. `coded`: a LoadwiseError (by brand) whose `code` is an `ERR_` string.
 * `user`: a {@link Boom}, a value registered with {@link userValue}, or the TypeError the engine
 * throws for an operation on a revoked proxy the caller passed in (the caller's object threw,
 * as a throwing trap would). Anything else is `raw`: an exception of loadwise's own making that
 * is not coded, which the contract forbids.
 */
export function classify(err: unknown): Outcome {
  try {
    if (LoadwiseError.is(err)) {
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'string' && code.startsWith('ERR_')) return { kind: 'coded', code };
      return { kind: 'raw', text: `LoadwiseError without a code string: ${errorText(err)}` };
    }
  } catch (e) {
    return { kind: 'raw', text: `classification threw: ${errorText(e)}` };
  }
  if (err instanceof Boom) return { kind: 'user', text: err.message };
  if (typeof err === 'object' && err !== null && userValues.has(err)) return { kind: 'user', text: 'user value' };
  if (err instanceof TypeError && /revoked/.test(err.message)) return { kind: 'user', text: 'revoked proxy' };
  return { kind: 'raw', text: errorText(err) };
}

export function outcomeText(o: Outcome): string {
  switch (o.kind) {
    case 'ok':
      return 'ok';
    case 'coded':
      return o.code;
    case 'user':
      return 'user-error';
    case 'raw':
      return `RAW ${o.text}`;
  }
}

// ── environment ───────────────────────────────────────────────────────────────────────────

/** What a case may mark about itself, so the probe skips checks that do not apply. */
export interface Flags {
  /** Targets whose id getter answers differently per read: the probe does not read ids. */
  unstableIds: boolean;
  /** The case marked targets down or unhealthy on purpose: they may stay out. */
  allowStuck: boolean;
  /** The case holds leases open on purpose (released by the teardown). */
  holdsLeases: boolean;
}

export interface Env {
  /** The hand-driven clock's time, in ms. */
  time: number;
  readonly now: () => number;
  /** Every event the balancer reported, as text. */
  readonly events: string[];
  readonly onEvent: (e: BalancerEvent) => void;
  /** Called from the listener after logging: a case's re-entrant listener. */
  hook: ((e: BalancerEvent, lb: Balancer<Target>) => void) | undefined;
  /** The balancer the listener's hook talks to. */
  lb: Balancer<Target> | undefined;
  /** Leases a case opened; the teardown releases them. */
  readonly leases: Lease<Target>[];
  readonly flags: Flags;
  /** Scratch space for a case's setup/act/teardown. */
  readonly scratch: Map<string, unknown>;
}

export function makeEnv(): Env {
  const env: Env = {
    time: 1_000,
    now: () => env.time,
    events: [],
    onEvent: (e) => {
      env.events.push(`${e.type}:${e.id ?? '-'}:${e.reason}@${e.at}`);
      const hook = env.hook;
      if (hook !== undefined && env.lb !== undefined) hook(e, env.lb);
    },
    hook: undefined,
    lb: undefined,
    leases: [],
    flags: { unstableIds: false, allowStuck: false, holdsLeases: false },
    scratch: new Map(),
  };
  return env;
}

// ── variants ──────────────────────────────────────────────────────────────────────────────

export type { ClassName };

type AnyCtor = new (targets: readonly Target[], options?: object) => Balancer<Target>;

export interface Variant {
  readonly name: string;
  readonly cls: ClassName;
  readonly Ctor: AnyCtor;
  /** The variant's own options (seed, now and onEvent are added per twin). */
  readonly options: Readonly<Record<string, unknown>>;
  /** Weights it accepts: any finite > 0, nginx integers 1..10,000, or JumpHash's 1..1,000. */
  readonly weights: 'real' | 'nginx' | 'jump';
  /** Has passive failure counting or outlier detection (the probe checks nothing stays out). */
  readonly health: boolean;
  /** Hash family: routes by key. */
  readonly hash: boolean;
}

/** Passive counting with a short window, so that the probe sees targets leave and return. */
export const PASSIVE = { maxFails: 2, failTimeoutMs: 40 } as const;
/** Outlier detection with short ejections that end well within the probe's final time jump. */
export const OUTLIER = { consecutiveFailures: 2, baseEjectionTimeMs: 20, maxEjectionTimeMs: 200, maxEjectionPercent: 50 } as const;
export const SLOW_START = { windowMs: 100 } as const;

function variant(
  name: string,
  cls: ClassName,
  options: Record<string, unknown>,
  extra: { weights?: 'real' | 'nginx' | 'jump'; hash?: boolean } = {},
): Variant {
  return {
    name,
    cls,
    Ctor: BALANCER_CLASSES[cls] as unknown as AnyCtor,
    options,
    weights: extra.weights ?? 'real',
    health: options.passive !== undefined || options.outlier !== undefined,
    hash: extra.hash ?? false,
  };
}

/** Every balancer class, in its modes, with option sets that exercise the health features. */
export const VARIANTS: readonly Variant[] = [
  variant('RoundRobin', 'RoundRobin', { passive: PASSIVE }),
  variant('WeightedRoundRobin', 'WeightedRoundRobin', { passive: PASSIVE, slowStart: SLOW_START }),
  variant('Random', 'Random', { outlier: OUTLIER }),
  variant('WeightedRandom', 'WeightedRandom', { passive: PASSIVE, slowStart: SLOW_START, panicThreshold: 50 }),
  variant('LeastConnections', 'LeastConnections', { outlier: { ...OUTLIER, successRate: { minimumHosts: 2, requestVolume: 2 }, intervalMs: 30 } }),
  variant('PowerOfTwoChoices', 'PowerOfTwoChoices', { passive: PASSIVE }),
  variant('PowerOfTwoChoices(3)', 'PowerOfTwoChoices', { choices: 3, outlier: OUTLIER, panicThreshold: 40 }),
  variant('PeakEwma', 'PeakEwma', { passive: PASSIVE, decayMs: 50 }),
  variant('LeastTime', 'LeastTime', { slowStart: SLOW_START, outlier: OUTLIER }),
  variant('Hcl', 'Hcl', { passive: PASSIVE, maxReportAgeMs: 30 }),
  variant('ConsistentHash', 'ConsistentHash', { pointsPerWeight: 40, loadFactor: 1.25, passive: PASSIVE }, { hash: true }),
  variant('ConsistentHash(nginx)', 'ConsistentHash', { compat: 'nginx', passive: PASSIVE }, { hash: true, weights: 'nginx' }),
  variant('ConsistentHash(ketama)', 'ConsistentHash', { compat: 'ketama', outlier: OUTLIER }, { hash: true }),
  variant('ConsistentHash(hashring)', 'ConsistentHash', { compat: 'hashring' }, { hash: true }),
  variant('Maglev', 'Maglev', { tableSize: 251, passive: PASSIVE }, { hash: true }),
  variant('Maglev(loadFactor)', 'Maglev', { tableSize: 1021, loadFactor: 1.5, outlier: OUTLIER }, { hash: true }),
  variant('Rendezvous', 'Rendezvous', { loadFactor: 2, passive: PASSIVE }, { hash: true }),
  variant('JumpHash', 'JumpHash', { passive: PASSIVE }, { hash: true, weights: 'jump' }),
  variant('IpHash', 'IpHash', { outlier: OUTLIER }, { hash: true, weights: 'nginx' }),
  variant('ModuloHash', 'ModuloHash', { passive: PASSIVE, panicThreshold: 50 }, { hash: true, weights: 'nginx' }),
];

/** The twins' shared starting membership: weights, a capped target, a backup. */
export function baseTargets(): Target[] {
  return [{ id: 'a', weight: 3 }, 'b', { id: 'c', weight: 2, maxActive: 2 }, { id: 'd' }, { id: 'e', backup: true }];
}

/** The options a twin is built with: the variant's, a fixed seed, the env's clock and listener. */
export function twinOptions(v: Variant, env: Env, extra?: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return { ...v.options, seed: 7, now: env.now, onEvent: env.onEvent, ...extra };
}

export function build(v: Variant, env: Env, targets: readonly Target[] = baseTargets(), extra?: Readonly<Record<string, unknown>>): Balancer<Target> {
  const lb = new v.Ctor(targets, twinOptions(v, env, extra));
  env.lb = lb;
  return lb;
}

/** A routing key per step: IP addresses, so IpHash routes on them too. */
export function keyOf(i: number): string {
  return `10.${i % 3}.${(i * 7) % 11}.${(i * 37) % 251}`;
}

// ── the probe ─────────────────────────────────────────────────────────────────────────────

/** A target's id without trusting it: undefined if reading it throws. */
export function safeId(t: unknown): string | undefined {
  try {
    if (typeof t === 'string') return t;
    if (typeof t === 'object' && t !== null) {
      const id = (t as { id?: unknown }).id;
      return typeof id === 'string' ? id : undefined;
    }
  } catch {
    // hostile target
  }
  return undefined;
}

export interface ProbeResult {
  readonly trace: string[];
  /** Raw errors and invariant violations: each one fails the case. */
  readonly problems: string[];
}

/**
 * Drives one balancer through a fixed sequence (picks, acquires, releases with every outcome,
 * an exclusion, time passing, a long time jump) and records everything observable. Checks on
 * the way: no raw error, only members picked, `stats()`/`targets()`/`size` agree and ids match,
 * no negative or NaN latency or active count, every lease back at 0, nothing left out after
 * every window has passed (unless the case marked targets down).
 */
export function probe(lb: Balancer<Target>, env: Env, v: Variant, out: ProbeResult): void {
  const { trace, problems } = out;
  const flags = env.flags;
  env.lb = lb;
  const step = (label: string, f: () => string): void => {
    try {
      trace.push(`${label}=${f()}`);
    } catch (err) {
      const o = classify(err);
      if (o.kind === 'raw') problems.push(`${label}: raw ${o.text}`);
      trace.push(`${label}!${outcomeText(o)}`);
    }
  };
  const where = (t: Target): string => {
    const i = lb.targets().indexOf(t);
    if (i < 0) problems.push(`picked a non-member ${safeId(t) ?? '?'}`);
    return String(i);
  };
  const stats = (): string => statsText(lb, flags, problems);
  const leases: Lease<Target>[] = [];
  const release = (outcome: Parameters<Lease<Target>['release']>[0]): string => {
    const l = leases.shift();
    if (l === undefined) return 'none';
    return String(l.release(outcome));
  };
  step('size', () => String(lb.size));
  step('stats', stats);
  for (let i = 0; i < 30; i++) {
    env.time += 4;
    const key = keyOf(i);
    switch (i % 10) {
      case 0:
      case 7:
        step(`pick${i}`, () => where(lb.pick({ key })));
        break;
      case 1:
      case 2:
      case 5:
        step(`acq${i}`, () => {
          const l = lb.acquire(key);
          leases.push(l);
          return where(l.target);
        });
        break;
      case 3:
        step(`rel${i}`, () => release('failure'));
        break;
      case 4:
        // Exclude a different member each time (the 2nd, 3rd, 4th): a pick with an exclusion
        // takes the filtered path, where a stale exclusion mark would show.
        step(`excl${i}`, () => {
          const ids = lb.stats().map((s) => s.id);
          const id = ids[(1 + (i - 4) / 10) % Math.max(1, ids.length)];
          return where(lb.pick({ key, exclude: id === undefined ? [] : [id] }));
        });
        break;
      case 6:
        step(`rel${i}`, () => release({ ok: true, latencyMs: i }));
        break;
      case 8:
        step(`once${i}`, () => {
          const l = lb.acquire({ key });
          const at = where(l.target);
          env.time += 3;
          return `${at}:${String(l.release('failure'))}`;
        });
        break;
      default:
        step(`rel${i}`, () => release('success'));
        step(`stats${i}`, stats);
    }
  }
  while (leases.length > 0) step('drain', () => release({ ok: true }));
  step('stats-end', stats);
  env.time += 100_000;
  step('stats-late', stats);
  if (v.health && !flags.allowStuck) {
    try {
      for (const s of lb.stats()) {
        if (s.state === 'down' || s.state === 'ejected') problems.push(`${s.id} still ${s.state} after every window passed`);
      }
    } catch {
      // reported by the step above
    }
  }
  for (let j = 0; j < 5; j++) step(`late${j}`, () => where(lb.pick(keyOf(100 + j))));
  if (!flags.holdsLeases) {
    try {
      for (const s of lb.stats()) if (s.active !== 0) problems.push(`${s.id} has ${s.active} open leases after all were released`);
    } catch {
      // reported above
    }
  }
  trace.push(`events=${env.events.join(',')}`);
}

/** `stats()` as text, checking it against `targets()` and `size` on the way. */
export function statsText(lb: Balancer<Target>, flags: Flags, problems: string[]): string {
  const s = lb.stats();
  const ts = lb.targets();
  if (s.length !== ts.length || s.length !== lb.size) problems.push(`stats() ${s.length}, targets() ${ts.length}, size ${lb.size}`);
  const parts: string[] = [];
  for (let i = 0; i < s.length; i++) {
    const x = s[i]!;
    if (!flags.unstableIds) {
      const id = safeId(ts[i]);
      if (id !== undefined && id !== x.id) problems.push(`targets()[${i}] has id ${JSON.stringify(id)} but stats() say ${JSON.stringify(x.id)}`);
    }
    if (!(x.active >= 0)) problems.push(`${x.id}: active ${x.active}`);
    if (x.latencyMs !== undefined && !(x.latencyMs >= 0)) problems.push(`${x.id}: latencyMs ${x.latencyMs}`);
    if (!(x.effectiveWeight > 0) || !(x.weight > 0)) problems.push(`${x.id}: weight ${x.weight} / effective ${x.effectiveWeight}`);
    parts.push(`${x.id}:${x.weight}:${x.effectiveWeight}:${x.active}:${x.picks}:${x.failures}:${x.state}:${x.latencyMs ?? '-'}`);
  }
  return parts.join(' ');
}

/** The first line where two traces differ, for a readable failure. */
export function firstDifference(a: readonly string[], b: readonly string[]): string | undefined {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return `step ${i}: ${short(a[i])}  vs twin  ${short(b[i])}`;
  }
  return undefined;
}

function short(s: string | undefined): string {
  if (s === undefined) return '(end)';
  return s.length > 300 ? `${s.slice(0, 300)}…` : s;
}
