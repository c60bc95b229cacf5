/**
 * The model-based fuzzer (issue 14, "The suite"): random command sequences (fast-check
 * `fc.commands`, so a failure shrinks to a short sequence) over every balancer class × option
 * set, with event listeners that call back into the balancer, checked after every step against
 * a simple model of membership, manual downs, health reports and open leases. Shared by
 * `model.test.ts` (a bounded run inside `npm test`) and `scripts/fuzz.ts` (`npm run fuzz`).
 *
 * Invariants (a violation fails the sequence):
 * - no call throws anything but a coded LoadwiseError, and only when the model says it may
 *   (unknown id, duplicate id, bad weight, bad outcome, no eligible target);
 * - `targets()`, `stats()` and `size` list exactly the model's members, in order, with the
 *   very target values given;
 * - `active` of every target equals the leases the model holds open on it; a lease counts
 *   once (its first `release` returns true, later ones false and change nothing);
 * - only members are picked; never one marked down, excluded, at `maxActive`, or (outside
 *   panic) down or ejected; a backup only when no primary is eligible; NoTargetError only when
 *   no member is eligible;
 * - panic is on exactly when fewer than `panicThreshold` % of the members are healthy;
 * - a lone target under passive counting never leaves rotation;
 * - latencies are never negative, effective weights never above the weight nor ≤ 0;
 * - Rendezvous: `pickN(key, 1)[0]` is what `pick(key)` returns.
 */
import fc from 'fast-check';
import { LoadwiseError, type Balancer, type BalancerEvent, type Lease, type Outcome, type Rendezvous, type TargetStats } from '../../src/index.js';
import { classOf, type VariantName } from '../support/classes.js';

// ── configuration ───────────────────────────────────────────────────────────────────────────

export interface Spec {
  readonly id: string;
  readonly weight?: number;
  readonly backup?: boolean;
  readonly maxActive?: number;
}

type Ctor = new (targets: readonly Spec[], options?: object) => Balancer<Spec>;

export interface FuzzClass {
  readonly name: string;
  readonly Ctor: Ctor;
  readonly hash: boolean;
  /** Options of its own, always given (small tables keep the fuzzer fast). */
  readonly own: Readonly<Record<string, unknown>>;
  /** Supports `loadFactor`. */
  readonly bounded: boolean;
  readonly maxWeight: number;
  readonly [fc.toStringMethod]?: () => string;
}

const cls = (name: VariantName, extra: Partial<FuzzClass> = {}): FuzzClass => ({
  name,
  Ctor: classOf(name) as unknown as Ctor,
  hash: false,
  own: {},
  bounded: false,
  maxWeight: 1e9,
  ...extra,
  // How fast-check prints it in a counterexample.
  [fc.toStringMethod]: () => name,
});

export const CLASSES: readonly FuzzClass[] = [
  cls('RoundRobin'),
  cls('WeightedRoundRobin'),
  cls('Random'),
  cls('WeightedRandom'),
  cls('LeastConnections'),
  cls('PowerOfTwoChoices'),
  cls('PeakEwma', { own: { decayMs: 100 } }),
  cls('LeastTime'),
  cls('Hcl', { own: { maxReportAgeMs: 50 } }),
  cls('ConsistentHash', { hash: true, bounded: true, own: { pointsPerWeight: 16 } }),
  cls('ConsistentHash(nginx)', { hash: true, bounded: true, own: { compat: 'nginx' }, maxWeight: 10_000 }),
  cls('ConsistentHash(ketama)', { hash: true, bounded: true, own: { compat: 'ketama' } }),
  cls('Maglev', { hash: true, bounded: true, own: { tableSize: 101 } }),
  cls('Rendezvous', { hash: true, bounded: true }),
  cls('JumpHash', { hash: true, bounded: true, maxWeight: 1000 }),
  cls('IpHash', { hash: true, maxWeight: 10_000 }),
  cls('ModuloHash', { hash: true, maxWeight: 10_000 }),
];

/** What a sequence's event listener does besides logging (re-entrant calls into the balancer). */
export const REACTIONS = [
  'none',
  'throw',
  'remove-on-up',
  'remove-and-re-add',
  'remove-other',
  'mark-other-down',
  'set-weight',
  'acquire-release-failure',
  'acquire-and-hold',
  'release-a-held-lease',
  'set-targets',
] as const;
export type Reaction = (typeof REACTIONS)[number];

export const OPTION_SETS = [
  'plain',
  'passive',
  'outlier',
  'success-rate',
  'failure-percentage',
  'slow-start',
  'panic',
  'backups',
  'max-active',
  'load-factor',
  'everything',
] as const;
export type OptionSet = (typeof OPTION_SETS)[number];

export interface Config {
  readonly cls: FuzzClass;
  readonly set: OptionSet;
  readonly reaction: Reaction;
  readonly seed: number;
  /** Knobs the option set draws from. */
  readonly knobs: readonly number[];
  readonly initial: readonly Spec[];
}

const ID_POOL = ['a', 'b', 'c', 'd', 'e', 'f', '__proto__', 'constructor', '\uD800x'] as const;
const KEYS = ['10.0.0.1', '10.0.1.7', '192.168.4.4', '::1', 'user:42', '', '__proto__', 'k\u0000'] as const;

function optionsFor(c: Config, world: World): Record<string, unknown> {
  const k = (i: number, lo: number, hi: number): number => lo + (c.knobs[i % c.knobs.length]! % (hi - lo + 1));
  const passive = { maxFails: k(0, 1, 3), failTimeoutMs: k(1, 10, 80) };
  const outlier = { consecutiveFailures: k(2, 1, 3), baseEjectionTimeMs: k(3, 10, 60), maxEjectionTimeMs: 200, maxEjectionPercent: k(4, 0, 1) === 0 ? 50 : 100 };
  const o: Record<string, unknown> = { ...c.cls.own, seed: c.seed, now: () => world.time, onEvent: (e: BalancerEvent) => world.onEvent(e) };
  switch (c.set) {
    case 'plain':
    case 'backups':
    case 'max-active':
      if (c.set !== 'plain') o.passive = passive;
      break;
    case 'passive':
      o.passive = passive;
      break;
    case 'outlier':
      o.outlier = outlier;
      break;
    case 'success-rate':
      o.outlier = { consecutiveFailures: 0, successRate: { minimumHosts: k(5, 0, 3), requestVolume: k(6, 1, 4), stdevFactor: k(7, 0, 1900) }, intervalMs: k(8, 5, 40), baseEjectionTimeMs: 30, maxEjectionPercent: 100 };
      break;
    case 'failure-percentage':
      o.outlier = { consecutiveFailures: 0, failurePercentage: { threshold: k(5, 0, 100), minimumHosts: k(6, 0, 3), requestVolume: k(7, 1, 4) }, intervalMs: k(8, 5, 40), baseEjectionTimeMs: 30, maxEjectionPercent: k(9, 10, 100) };
      break;
    case 'slow-start':
      o.slowStart = { windowMs: k(5, 20, 150), aggression: k(6, 1, 3) };
      o.passive = passive;
      break;
    case 'panic':
      o.panicThreshold = k(5, 30, 80);
      o.passive = passive;
      o.outlier = outlier;
      break;
    case 'load-factor':
      if (c.cls.bounded) o.loadFactor = 1 + k(5, 1, 20) / 10;
      break;
    case 'everything':
      o.passive = passive;
      o.outlier = { ...outlier, successRate: { minimumHosts: 2, requestVolume: 2 }, intervalMs: 20 };
      o.slowStart = { windowMs: 60 };
      o.panicThreshold = 50;
      if (c.cls.bounded) o.loadFactor = 1.5;
      break;
  }
  return o;
}

export function configArbitrary(classes: readonly FuzzClass[] = CLASSES): fc.Arbitrary<Config> {
  return fc
    .record({
      cls: fc.constantFrom(...classes),
      set: fc.constantFrom(...OPTION_SETS),
      reaction: fc.constantFrom(...REACTIONS),
      seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      knobs: fc.array(fc.nat(10_000), { minLength: 10, maxLength: 10 }),
      initial: fc.uniqueArray(
        fc.record({
          id: fc.constantFrom(...ID_POOL),
          weight: fc.integer({ min: 1, max: 5 }),
          backup: fc.boolean(),
          maxActive: fc.integer({ min: 1, max: 3 }),
        }),
        { minLength: 0, maxLength: 6, selector: (s) => s.id },
      ),
    })
    .map((r) => ({ ...r, initial: r.initial.map((s) => shape(s, r.set)) }));
}

/** A target spec as the option set wants it: backups and maxActive only where they are the point. */
function shape(s: { id: string; weight: number; backup: boolean; maxActive: number }, set: OptionSet): Spec {
  const spec: { id: string; weight: number; backup?: boolean; maxActive?: number } = { id: s.id, weight: s.weight };
  if ((set === 'backups' || set === 'everything') && s.backup) spec.backup = true;
  if ((set === 'max-active' || set === 'everything') && s.maxActive <= 2) spec.maxActive = s.maxActive;
  return spec;
}

// ── the world: the real balancer and its model side by side ──────────────────────────────────

interface ModelMember {
  /** The target value given (returned by pick as is). */
  readonly spec: Spec;
  /** Its weight now (setWeight changes it, not the value). */
  weight: number;
  /** Which membership record (a removed and re-added id is a new one). */
  readonly gen: number;
  manual: boolean;
  unhealthy: boolean;
}

interface Held {
  readonly lease: Lease<Spec>;
  readonly id: string;
  readonly gen: number;
  released: boolean;
}

export class Violation extends Error {
  override name = 'Violation';
}

/** What the runs covered, for the printed summary (and to see that the fuzzer is not vacuous). */
export const counters = { sequences: 0, steps: 0, picks: 0, noTarget: 0, events: 0, reentrant: 0, violations: 0 };

export class World {
  /** Violations found inside event listeners, whose throws the balancer swallows. */
  readonly found: string[] = [];
  time = 1_000;
  lb!: Balancer<Spec>;
  members: ModelMember[] = [];
  held: Held[] = [];
  panic = false;
  private gen = 0;
  private depth = 0;
  readonly threshold: number;
  readonly passiveOnly: boolean;
  events = 0;

  constructor(readonly config: Config) {
    const options = optionsFor(config, this);
    this.threshold = typeof options.panicThreshold === 'number' ? options.panicThreshold : 0;
    this.passiveOnly = options.passive !== undefined && options.outlier === undefined;
    const initial = config.initial.map((s) => ({ ...s }));
    this.lb = new config.cls.Ctor(initial, options);
    for (const s of initial) this.members.push({ spec: s, weight: s.weight ?? 1, gen: ++this.gen, manual: false, unhealthy: false });
    this.check('construction');
  }

  // ── the listener ──

  onEvent(e: BalancerEvent): void {
    this.events++;
    counters.events++;
    if (e.type === 'panic') this.panic = true;
    if (e.type === 'calm') this.panic = false;
    if (this.depth >= 2) return;
    this.depth++;
    if (this.config.reaction !== 'none') counters.reentrant++;
    try {
      this.react(e);
    } finally {
      this.depth--;
    }
  }

  private react(e: BalancerEvent): void {
    const id = e.id;
    switch (this.config.reaction) {
      case 'none':
        return;
      case 'throw':
        throw new Error('listener throws');
      case 'remove-on-up':
        if (id !== undefined && (e.type === 'up' || e.type === 'return')) this.remove(id);
        return;
      case 'remove-and-re-add':
        if (id !== undefined && e.type !== 'down') {
          const m = this.member(id);
          if (m !== undefined && this.remove(id)) this.add({ ...m.spec, weight: m.weight });
        }
        return;
      case 'remove-other': {
        const other = this.members.find((m) => m.spec.id !== id);
        if (other !== undefined && e.type !== 'calm') this.remove(other.spec.id);
        return;
      }
      case 'mark-other-down': {
        const other = this.members.find((m) => m.spec.id !== id && !m.manual);
        if (other !== undefined && e.reason !== 'manual') this.markDown(other.spec.id);
        return;
      }
      case 'set-weight':
        if (this.members.length > 0) this.setWeight(this.members[0]!.spec.id, 1 + (this.events % 4));
        return;
      case 'acquire-release-failure': {
        const l = this.acquire({ key: KEYS[this.events % KEYS.length]! });
        if (l !== undefined) this.release(l, 'failure');
        return;
      }
      case 'acquire-and-hold':
        this.acquire({ key: KEYS[this.events % KEYS.length]! });
        return;
      case 'release-a-held-lease': {
        const h = this.held.find((x) => !x.released);
        if (h !== undefined) this.release(h, e.type === 'down' ? 'failure' : 'success');
        return;
      }
      case 'set-targets':
        if (this.events % 3 === 0) {
          const rest = this.members.slice(1).filter((m) => m.spec.id !== 'z');
          this.setTargets([...rest.map((m) => ({ ...m.spec, weight: m.weight })), { id: 'z', weight: 2 }]);
        }
        return;
    }
  }

  // ── operations: the real call, the model's update, and what may be thrown ──

  /** Records a violation (so that one found inside a listener is not lost) and returns it to throw. */
  fail(message: string): Violation {
    counters.violations++;
    this.found.push(message);
    return new Violation(message);
  }

  private member(id: string): ModelMember | undefined {
    return this.members.find((m) => m.spec.id === id);
  }

  /** Runs a call; returns its value, or the LoadwiseError code it threw; anything else is a violation. */
  private call<V>(what: string, f: () => V): V | { code: string } {
    try {
      return f();
    } catch (err) {
      if (err instanceof Violation) throw err;
      if (LoadwiseError.is(err)) return { code: err.code };
      throw this.fail(`${what} threw a non-LoadwiseError: ${String(err)}`);
    }
  }

  private expectCode(what: string, r: unknown, code: string | undefined): void {
    const got = typeof r === 'object' && r !== null && 'code' in r ? (r as { code: string }).code : undefined;
    if (got !== code) throw this.fail(`${what}: expected ${code ?? 'success'}, got ${got ?? 'success'}`);
  }

  // Each operation updates the model before the real call: the call may fire events whose
  // listener calls back in, and must then find the model as the balancer already is.

  add(spec: Spec): void {
    const dup = this.member(spec.id) !== undefined;
    const bad = !this.validWeight(spec.weight ?? 1);
    if (!bad && !dup) this.members.push({ spec, weight: spec.weight ?? 1, gen: ++this.gen, manual: false, unhealthy: false });
    const r = this.call(`add(${spec.id})`, () => this.lb.add(spec));
    this.expectCode(`add(${JSON.stringify(spec.id)})`, r, bad ? 'ERR_INVALID_WEIGHT' : dup ? 'ERR_DUPLICATE_ID' : undefined);
  }

  remove(id: string): boolean {
    const was = this.member(id) !== undefined;
    this.members = this.members.filter((m) => m.spec.id !== id);
    const r = this.call(`remove(${id})`, () => this.lb.remove(id));
    if (r !== was) throw this.fail(`remove(${JSON.stringify(id)}) returned ${JSON.stringify(r)}, the model says ${was}`);
    return was;
  }

  setTargets(specs: readonly Spec[]): void {
    const next: ModelMember[] = [];
    for (const s of specs) {
      const kept = this.member(s.id);
      const weight = s.weight ?? 1;
      next.push(kept !== undefined ? { spec: s, weight, gen: kept.gen, manual: kept.manual, unhealthy: kept.unhealthy } : { spec: s, weight, gen: ++this.gen, manual: false, unhealthy: false });
    }
    this.members = next;
    const r = this.call('setTargets', () => this.lb.setTargets(specs));
    this.expectCode('setTargets', r, undefined);
  }

  private validWeight(w: number): boolean {
    const max = this.config.cls.maxWeight;
    return w >= 1e-9 && w <= max && (max === 1e9 || Number.isInteger(w));
  }

  setWeight(id: string, w: number): void {
    const m = this.member(id);
    const bad = !this.validWeight(w);
    if (m !== undefined && !bad) m.weight = w;
    const r = this.call(`setWeight(${id})`, () => this.lb.setWeight(id, w));
    this.expectCode(`setWeight(${JSON.stringify(id)}, ${w})`, r, m === undefined ? 'ERR_UNKNOWN_ID' : bad ? 'ERR_INVALID_WEIGHT' : undefined);
  }

  markDown(id: string): void {
    const m = this.member(id);
    if (m !== undefined) m.manual = true;
    const r = this.call(`markDown(${id})`, () => this.lb.markDown(id));
    this.expectCode(`markDown(${JSON.stringify(id)})`, r, m === undefined ? 'ERR_UNKNOWN_ID' : undefined);
  }

  markUp(id: string): void {
    const m = this.member(id);
    if (m !== undefined) m.manual = false;
    const r = this.call(`markUp(${id})`, () => this.lb.markUp(id));
    this.expectCode(`markUp(${JSON.stringify(id)})`, r, m === undefined ? 'ERR_UNKNOWN_ID' : undefined);
  }

  reportHealth(id: string, healthy: boolean): void {
    const m = this.member(id);
    if (m !== undefined) m.unhealthy = !healthy;
    const r = this.call(`reportHealth(${id})`, () => this.lb.reportHealth(id, healthy));
    this.expectCode(`reportHealth(${JSON.stringify(id)})`, r, m === undefined ? 'ERR_UNKNOWN_ID' : undefined);
  }

  /** pick or acquire, checked against the eligibility rules; returns the held lease (acquire). */
  acquire(req: { key?: string; exclude?: readonly string[] }, lease = true): Held | undefined {
    const hash = this.config.cls.hash;
    const request = hash && req.key === undefined ? { ...req, key: 'k' } : req;
    const what = `${lease ? 'acquire' : 'pick'}(${JSON.stringify(request)})`;
    const r = this.call(what, () => (lease ? this.lb.acquire(request) : this.lb.pick(request)));
    const after = this.lb.stats();
    const excluded = new Set(request.exclude ?? []);
    if (typeof r === 'object' && r !== null && 'code' in r && !('target' in r)) {
      if (r.code !== 'ERR_NO_TARGET' && r.code !== 'ERR_TARGETS_AT_CAPACITY') throw this.fail(`${what} threw ${r.code}`);
      counters.noTarget++;
      const eligible = this.members.filter((m) => this.eligible(m, after, excluded, undefined));
      if (eligible.length > 0) throw this.fail(`${what} threw ${r.code} although ${eligible.map((m) => m.spec.id).join(', ')} could serve`);
      return undefined;
    }
    counters.picks++;
    const target = lease ? (r as Lease<Spec>).target : (r as Spec);
    const m = this.members.find((x) => x.spec === target);
    if (m === undefined) throw this.fail(`${what} returned a non-member ${JSON.stringify(target)}`);
    if (!this.eligible(m, after, excluded, lease ? m : undefined)) {
      const s = after.find((x) => x.id === m.spec.id);
      throw this.fail(`${what} picked ${m.spec.id}, which may not serve: ${JSON.stringify(s)}, manual ${m.manual}, panic ${this.panic}`);
    }
    if (m.spec.backup === true) {
      const primary = this.members.find((x) => x.spec.backup !== true && this.eligible(x, after, excluded, lease ? m : undefined));
      if (primary !== undefined) throw this.fail(`${what} picked the backup ${m.spec.id} although the primary ${primary.spec.id} could serve`);
    }
    if (!lease) return undefined;
    const h: Held = { lease: r as Lease<Spec>, id: m.spec.id, gen: m.gen, released: false };
    this.held.push(h);
    return h;
  }

  /**
   * Whether a member could serve, from the stats taken after the pick (`self`: the member the
   * pick just leased, whose active count is one higher now).
   */
  private eligible(m: ModelMember, after: readonly TargetStats[], excluded: ReadonlySet<string>, self: ModelMember | undefined): boolean {
    const s = after.find((x) => x.id === m.spec.id);
    if (s === undefined) return false;
    if (m.manual || excluded.has(m.spec.id)) return false;
    const active = s.active - (m === self ? 1 : 0);
    if (active >= (m.spec.maxActive ?? Number.POSITIVE_INFINITY)) return false;
    if (this.panic) return true;
    return s.state !== 'down' && s.state !== 'ejected';
  }

  release(h: Held, outcome: unknown): void {
    const valid =
      outcome === undefined ||
      outcome === 'success' ||
      outcome === 'failure' ||
      (typeof outcome === 'object' && outcome !== null && typeof (outcome as { ok?: unknown }).ok === 'boolean' && validLatency((outcome as { latencyMs?: unknown }).latencyMs));
    const before = h.released;
    // Marked first: the release's events may reach a listener that releases it again.
    if (valid) h.released = true;
    const r = this.call(`release(${h.id})`, () => h.lease.release(outcome as Outcome));
    // A lease released before changes nothing and says so, whatever the outcome given.
    if (!valid && !before) {
      this.expectCode(`release(${h.id}, ${JSON.stringify(outcome)})`, r, 'ERR_INVALID_OUTCOME');
      return;
    }
    if (r !== !before) throw this.fail(`release of a lease on ${h.id} returned ${String(r)}; it was ${before ? '' : 'not '}released before`);
  }

  pickNAgrees(key: string): void {
    const lb = this.lb as unknown as Rendezvous<Spec>;
    const n = this.call('pickN', () => lb.pickN(key, 1)[0]);
    const p = this.call('pick', () => lb.pick(key));
    const id = (x: unknown): string => (typeof x === 'object' && x !== null && 'id' in x ? String((x as Spec).id) : JSON.stringify(x));
    if (n === undefined) {
      if (!(typeof p === 'object' && p !== null && 'code' in p)) throw this.fail(`pickN(${key}, 1) is empty but pick gave ${id(p)}`);
      return;
    }
    if (n !== p) throw this.fail(`pickN(${JSON.stringify(key)}, 1)[0] is ${id(n)}, pick gives ${id(p)}`);
  }

  evaluateOutliers(): void {
    const lb = this.lb as unknown as { evaluateOutliers?: () => void };
    this.call('evaluateOutliers', () => lb.evaluateOutliers?.());
  }

  // ── the invariants after every step ──

  check(after: string): void {
    counters.steps++;
    if (this.found.length > 0) throw new Violation(`during ${after}, inside an event listener: ${this.found[0]!}`);
    const lb = this.lb;
    const stats = this.call('stats', () => lb.stats());
    if (!Array.isArray(stats)) throw this.fail(`stats() threw ${JSON.stringify(stats)}`);
    const ids = this.members.map((m) => m.spec.id);
    const got = stats.map((s) => s.id);
    if (JSON.stringify(got) !== JSON.stringify(ids)) throw this.fail(`after ${after}: stats() list ${JSON.stringify(got)}, the model ${JSON.stringify(ids)}`);
    if (lb.size !== ids.length) throw this.fail(`after ${after}: size ${lb.size}, the model has ${ids.length}`);
    const ts = lb.targets();
    this.members.forEach((m, i) => {
      if (ts[i] !== m.spec) throw this.fail(`after ${after}: targets()[${i}] is not the value given for ${m.spec.id}`);
    });
    let healthy = 0;
    stats.forEach((s, i) => {
      const m = this.members[i]!;
      const open = this.held.filter((h) => !h.released && h.id === m.spec.id && h.gen === m.gen).length;
      if (s.active !== open) throw this.fail(`after ${after}: ${s.id} has active ${s.active}, the model holds ${open} open leases on it`);
      if (s.latencyMs !== undefined && !(s.latencyMs >= 0)) throw this.fail(`after ${after}: ${s.id} has latency ${s.latencyMs}`);
      if (!(s.effectiveWeight > 0) || s.effectiveWeight > s.weight * (1 + 1e-12)) throw this.fail(`after ${after}: ${s.id} weight ${s.weight}, effective ${s.effectiveWeight}`);
      if (s.weight !== m.weight) throw this.fail(`after ${after}: ${s.id} weight ${s.weight}, the model ${m.weight}`);
      if (m.manual && s.state !== 'down') throw this.fail(`after ${after}: ${s.id} is marked down but its state is ${s.state}`);
      if (m.unhealthy && s.state !== 'down') throw this.fail(`after ${after}: ${s.id} was reported unhealthy but its state is ${s.state}`);
      if (s.state !== 'down' && s.state !== 'ejected') healthy++;
    });
    if (this.threshold > 0) {
      const panic = ids.length > 0 && healthy * 100 < this.threshold * ids.length;
      if (panic !== this.panic) throw this.fail(`after ${after}: ${healthy} of ${ids.length} healthy with panicThreshold ${this.threshold}, yet panic is ${this.panic ? 'on' : 'off'}`);
    }
    if (this.passiveOnly && this.members.length === 1) {
      const m = this.members[0]!;
      if (!m.manual && !m.unhealthy && stats[0]!.state === 'down') throw this.fail(`after ${after}: the lone target ${m.spec.id} is out of rotation under passive counting`);
    }
  }
}

function validLatency(l: unknown): boolean {
  return l === undefined || (typeof l === 'number' && l >= 0 && l !== Number.POSITIVE_INFINITY);
}

// ── commands ────────────────────────────────────────────────────────────────────────────────

type Op =
  | { readonly op: 'pick' | 'acquire'; readonly key: string; readonly exclude: readonly number[] }
  | { readonly op: 'release'; readonly which: number; readonly outcome: number; readonly latency: number }
  | { readonly op: 'add'; readonly id: number; readonly weight: number }
  | { readonly op: 'remove' | 'markDown' | 'markUp'; readonly id: number }
  | { readonly op: 'reportHealth'; readonly id: number; readonly healthy: boolean }
  | { readonly op: 'setWeight'; readonly id: number; readonly weight: number }
  | { readonly op: 'setTargets'; readonly keep: number; readonly extra: readonly number[] }
  | { readonly op: 'advance'; readonly ms: number }
  | { readonly op: 'evaluateOutliers' }
  | { readonly op: 'pickN'; readonly key: string };

/** Valid and invalid weights; 1,000 against 1 is as far as the fuzzer goes (rings grow with the ratio). */
const WEIGHTS = [1, 2, 3, 5, 0.5, 0, Number.NaN, 1000, 1e10, -1] as const;
const OUTCOMES: readonly ((latency: number) => unknown)[] = [
  () => 'success',
  () => 'failure',
  () => 'failure',
  (l) => ({ ok: true, latencyMs: l }),
  (l) => ({ ok: false, latencyMs: l }),
  () => undefined,
  () => 'ok',
  () => ({ ok: true, latencyMs: -1 }),
];

class Step implements fc.Command<World, World> {
  constructor(readonly o: Op) {}
  check(): boolean {
    return true;
  }
  run(_m: World, w: World): void {
    const idAt = (i: number): string => ID_POOL[i % ID_POOL.length]!;
    const o = this.o;
    switch (o.op) {
      case 'pick':
      case 'acquire':
        w.acquire({ key: o.key, exclude: o.exclude.map((i) => w.members[i % Math.max(1, w.members.length)]?.spec.id ?? idAt(i)) }, o.op === 'acquire');
        break;
      case 'release': {
        const open = w.held.filter((h) => !h.released);
        // Now and then a lease released before: it must count nothing.
        const h = o.which % 5 === 4 ? w.held[o.which % Math.max(1, w.held.length)] : open[o.which % Math.max(1, open.length)];
        if (h !== undefined) w.release(h, OUTCOMES[o.outcome % OUTCOMES.length]!(o.latency));
        break;
      }
      case 'add':
        w.add({ id: idAt(o.id), weight: WEIGHTS[o.weight % WEIGHTS.length]! });
        break;
      case 'remove':
        w.remove(idAt(o.id));
        break;
      case 'markDown':
        w.markDown(idAt(o.id));
        break;
      case 'markUp':
        w.markUp(idAt(o.id));
        break;
      case 'reportHealth':
        w.reportHealth(idAt(o.id), o.healthy);
        break;
      case 'setWeight':
        w.setWeight(idAt(o.id), WEIGHTS[o.weight % WEIGHTS.length]!);
        break;
      case 'setTargets': {
        const kept = w.members.map((m) => ({ ...m.spec, weight: m.weight })).filter((_, i) => ((o.keep >> i) & 1) === 1);
        const extra = o.extra.map((i) => idAt(i)).filter((id, j, a) => a.indexOf(id) === j && !kept.some((s) => s.id === id));
        w.setTargets([...kept, ...extra.map((id, j) => ({ id, weight: 1 + (j % 3) }))]);
        break;
      }
      case 'advance':
        w.time += o.ms;
        break;
      case 'evaluateOutliers':
        w.evaluateOutliers();
        break;
      case 'pickN':
        if (w.config.cls.name === 'Rendezvous') w.pickNAgrees(o.key);
        break;
    }
    w.check(this.toString());
  }
  toString(): string {
    return JSON.stringify(this.o);
  }
}

const key = fc.constantFrom(...KEYS);
const idx = fc.nat(20);
const traffic = fc.record({ op: fc.constant('acquire' as const), key, exclude: fc.constant([] as number[]) }).map((o) => new Step(o));
const releases = fc.record({ op: fc.constant('release' as const), which: idx, outcome: fc.nat(40), latency: fc.integer({ min: 0, max: 500 }) }).map((o) => new Step(o));
/** fc.commands draws each entry alike: traffic is listed several times so that it dominates, as it does in life. */
export const commandArbitraries: fc.Arbitrary<Step>[] = [
  traffic,
  traffic,
  traffic,
  releases,
  releases,
  releases,
  fc.record({ op: fc.constantFrom('pick' as const, 'acquire' as const), key, exclude: fc.array(idx, { maxLength: 3 }) }).map((o) => new Step(o)),
  fc.record({ op: fc.constant('acquire' as const), key, exclude: fc.constant([] as number[]) }).map((o) => new Step(o)),
  fc.record({ op: fc.constant('release' as const), which: idx, outcome: fc.nat(40), latency: fc.integer({ min: 0, max: 500 }) }).map((o) => new Step(o)),
  fc.record({ op: fc.constant('release' as const), which: idx, outcome: fc.nat(40), latency: fc.integer({ min: 0, max: 500 }) }).map((o) => new Step(o)),
  fc.record({ op: fc.constant('add' as const), id: idx, weight: fc.nat(20) }).map((o) => new Step(o)),
  fc.record({ op: fc.constantFrom('remove' as const, 'markDown' as const, 'markUp' as const), id: idx }).map((o) => new Step(o)),
  fc.record({ op: fc.constant('reportHealth' as const), id: idx, healthy: fc.boolean() }).map((o) => new Step(o)),
  fc.record({ op: fc.constant('setWeight' as const), id: idx, weight: fc.nat(20) }).map((o) => new Step(o)),
  fc.record({ op: fc.constant('setTargets' as const), keep: fc.nat(255), extra: fc.array(idx, { maxLength: 3 }) }).map((o) => new Step(o)),
  fc.record({ op: fc.constant('advance' as const), ms: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.constant(1_000)) }).map((o) => new Step(o)),
  fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 15 }) }).map((o) => new Step(o)),
  fc.constant(new Step({ op: 'evaluateOutliers' })),
  fc.record({ op: fc.constant('pickN' as const), key }).map((o) => new Step(o)),
];

/** The property: one configuration, one command sequence, every step checked. */
export function fuzzProperty(classes: readonly FuzzClass[], maxCommands: number): fc.IPropertyWithHooks<[Config, Iterable<fc.Command<World, World>>]> {
  return fc.property(configArbitrary(classes), fc.commands(commandArbitraries, { maxCommands, size: 'max' }), (config, cmds) => {
    counters.sequences++;
    fc.modelRun(() => {
      const w = new World(config);
      return { model: w, real: w };
    }, cmds);
  });
}
