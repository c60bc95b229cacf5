/**
 * A conformance runner for `Balancer` implementations: the contract loadwise's own balancers are
 * tested against, as plain functions that throw on a violation, so it runs under any test runner
 * (or none) and needs no fast-check.
 */
import type { Balancer, Lease, Outcome, PickRequest } from '../types.js';
import { ConformanceError, LoadwiseAssertionError } from './errors.js';
import { deepEqual, describe, seeded } from './util.js';

/** The targets the conformance checks hand to your factory. */
export interface ConformanceTarget {
  readonly id: string;
  readonly weight?: number;
  readonly backup?: boolean;
  readonly maxActive?: number;
}

/**
 * Builds a fresh balancer over `targets` (which may be empty). `context.seed` varies between
 * calls; pass it on if your balancer takes a seed, ignore it otherwise.
 *
 * @example
 * ```ts
 * const factory: BalancerFactory = (targets, { seed }) => new MyBalancer(targets, { seed });
 * ```
 */
export type BalancerFactory = (targets: readonly ConformanceTarget[], context: { readonly seed: number }) => Balancer<ConformanceTarget>;

/** The checks {@link runConformance} knows, by id. */
export type ConformanceCheckId =
  | 'members'
  | 'strings'
  | 'empty'
  | 'exclude'
  | 'down'
  | 'backup'
  | 'max-active'
  | 'leases'
  | 'outcomes'
  | 'late-release'
  | 'add-remove'
  | 'set-targets'
  | 'set-weight'
  | 'validation'
  | 'sequences'
  | 'deterministic';

/**
 * Options for {@link runConformance}.
 *
 * @example
 * ```ts
 * runConformance(factory, { key: (i) => `user-${i}`, skip: ['strings'] });
 * ```
 */
export interface ConformanceOptions {
  /** Routing key for the i-th pick of a check (hash balancers); default: no key. */
  readonly key?: ((i: number) => string) | undefined;
  /** Check ids to leave out, e.g. `'strings'` for a balancer typed to object targets only. */
  readonly skip?: readonly ConformanceCheckId[] | undefined;
  /** Run only these check ids. */
  readonly only?: readonly ConformanceCheckId[] | undefined;
  /**
   * Also check that two balancers built with the same `context.seed` make the same picks
   * (`'deterministic'`); default false.
   */
  readonly deterministic?: boolean | undefined;
  /** Random operation sequences in the `'sequences'` check, default 40. */
  readonly sequences?: number | undefined;
  /** Operations per sequence, default 120. */
  readonly steps?: number | undefined;
  /** Seed of the operation sequences, default 1; a failure message names the one to replay. */
  readonly seed?: number | undefined;
}

/** A named check, run on demand: register each as a test case in your runner. */
export interface ConformanceCase {
  readonly id: ConformanceCheckId;
  /** A readable description, suitable as a test name. */
  readonly name: string;
  /** Runs the check; throws a {@link LoadwiseAssertionError} (or whatever the balancer threw) on failure. */
  run(): void;
}

/**
 * The outcome of one check.
 *
 * @example
 * ```ts
 * const failed = runConformance(factory).filter((r) => !r.ok);
 * for (const r of failed) console.error(`${r.id}: ${r.error?.message}`);
 * ```
 */
export interface ConformanceResult {
  readonly id: ConformanceCheckId;
  readonly name: string;
  readonly ok: boolean;
  /** Why it failed; absent when `ok`. */
  readonly error?: Error;
}

// ---- assertions ----------------------------------------------------------------------------

function fail(message: string, actual?: unknown, expected?: unknown): never {
  throw new LoadwiseAssertionError(message, { actual, expected });
}

function check(cond: boolean, message: string): asserts cond {
  if (!cond) fail(message);
}

function same(actual: unknown, expected: unknown, what: string): void {
  if (!deepEqual(actual, expected)) fail(`${what}: expected ${describe(expected)}, got ${describe(actual)}`, actual, expected);
}

function codeOf(err: unknown): unknown {
  return typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
}

/** `fn` must throw an error whose `code` is one of `codes`. */
function throwsCode(fn: () => unknown, codes: string | readonly string[], what: string): void {
  const list = typeof codes === 'string' ? [codes] : codes;
  let threw = false;
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    threw = true;
    caught = err;
  }
  if (!threw) fail(`${what}: expected an error with code ${list.join(' or ')}, nothing was thrown`);
  const code = codeOf(caught);
  if (typeof code !== 'string' || !list.includes(code)) {
    const got = caught instanceof Error ? `${caught.name}: ${caught.message}` : describe(caught);
    fail(`${what}: expected an error with code ${list.join(' or ')}, got code ${describe(code)} (${got})`, code, list[0]);
  }
}

const idOf = (t: unknown): string => (typeof t === 'string' ? t : (t as ConformanceTarget).id);

// ---- the checks ----------------------------------------------------------------------------

interface Ctx {
  create(targets: readonly ConformanceTarget[], seed: number): Balancer<ConformanceTarget>;
  req(i: number, exclude?: readonly string[]): string | PickRequest | undefined;
  options: ConformanceOptions;
}

const NO_TARGET = ['ERR_NO_TARGET', 'ERR_TARGETS_AT_CAPACITY'] as const;
const three = (): ConformanceTarget[] => [{ id: 'a', weight: 3 }, { id: 'b', weight: 1 }, { id: 'c', weight: 2 }];
const observe = (lb: Balancer<ConformanceTarget>) => ({ size: lb.size, targets: [...lb.targets()], stats: lb.stats().map((s) => ({ ...s })) });
const statOf = (lb: Balancer<ConformanceTarget>, id: string) => {
  const s = lb.stats().find((x) => x.id === id);
  if (s === undefined) fail(`stats() has no entry for ${JSON.stringify(id)}`);
  return s;
};

const CHECKS: readonly { id: ConformanceCheckId; name: string; run(ctx: Ctx): void }[] = [
  {
    id: 'members',
    name: 'returns the very objects it was given, and only members',
    run({ create, req }) {
      const ts = three();
      const lb = create(ts, 1);
      for (let i = 0; i < 200; i++) {
        const t = lb.pick(req(i));
        check(ts.includes(t), `pick #${i} returned ${describe(t)}, which is not one of the objects passed in`);
      }
      for (let i = 0; i < 50; i++) {
        const lease = lb.acquire(req(i));
        check(ts.includes(lease.target), `acquire #${i} leased ${describe(lease.target)}, which is not one of the objects passed in`);
        lease.release('success');
      }
      same(lb.size, 3, 'size');
      const listed = lb.targets();
      check(listed.length === 3 && listed.every((t, i) => t === ts[i]), `targets() must list the same objects in order, got ${describe(listed)}`);
      same(
        lb.stats().map((s) => s.id),
        ['a', 'b', 'c'],
        'stats() ids, in order',
      );
    },
  },
  {
    id: 'strings',
    name: 'accepts plain string targets',
    run({ create, req }) {
      const lb = create(['x', 'y'] as unknown as ConformanceTarget[], 1);
      for (let i = 0; i < 100; i++) {
        const t = lb.pick(req(i)) as unknown;
        check(t === 'x' || t === 'y', `pick returned ${describe(t)} for string targets ['x', 'y']`);
      }
      same(
        lb.stats().map((s) => s.id),
        ['x', 'y'],
        'stats() ids of string targets',
      );
    },
  },
  {
    id: 'empty',
    name: "throws an error with code 'ERR_NO_TARGET' when empty, and works once a target is added",
    run({ create, req }) {
      const lb = create([], 1);
      same(lb.size, 0, 'size of an empty balancer');
      throwsCode(() => lb.pick(req(0)), 'ERR_NO_TARGET', 'pick() on an empty balancer');
      throwsCode(() => lb.acquire(req(0)), 'ERR_NO_TARGET', 'acquire() on an empty balancer');
      const late = { id: 'late' };
      lb.add(late);
      same(lb.size, 1, 'size after add');
      check(lb.pick(req(0)) === late, 'pick() after adding the only target must return it');
    },
  },
  {
    id: 'exclude',
    name: 'honours exclude for one pick, ignores unknown ids, and fails cleanly when everything is excluded',
    run({ create, req }) {
      const lb = create(three(), 2);
      for (let i = 0; i < 200; i++) same(idOf(lb.pick(req(i, ['a', 'c']))), 'b', `pick excluding a and c (#${i})`);
      for (let i = 0; i < 100; i++) {
        const id = idOf(lb.acquire(req(i, ['b', 'nope'])).target);
        check(id === 'a' || id === 'c', `acquire excluding b (and an unknown id) returned ${JSON.stringify(id)}`);
      }
      const before = observe(lb);
      throwsCode(() => lb.pick(req(0, ['a', 'b', 'c'])), 'ERR_NO_TARGET', 'pick with every target excluded');
      throwsCode(() => lb.acquire(req(0, ['a', 'b', 'c'])), 'ERR_NO_TARGET', 'acquire with every target excluded');
      same(observe(lb), before, 'state after a failed pick (must be unchanged)');
      let picked = false;
      for (let i = 0; i < 50; i++) picked = lb.pick(req(i)) !== undefined || picked;
      check(picked, 'picks without exclude must work again');
    },
  },
  {
    id: 'down',
    name: 'never picks a target marked down, and takes it back after markUp',
    run({ create, req }) {
      const lb = create(three(), 3);
      lb.markDown('a');
      for (let i = 0; i < 300; i++) check(idOf(lb.pick(req(i))) !== 'a', `pick #${i} returned "a", which is marked down`);
      same(statOf(lb, 'a').state, 'down', "stats() state of a target marked down");
      lb.markDown('b');
      lb.markDown('c');
      throwsCode(() => lb.pick(req(0)), 'ERR_NO_TARGET', 'pick with every target down');
      throwsCode(() => lb.acquire(req(0)), 'ERR_NO_TARGET', 'acquire with every target down');
      lb.markUp('a');
      same(idOf(lb.pick(req(0))), 'a', 'pick after markUp of the only target up');
      same(statOf(lb, 'a').state, 'up', 'stats() state after markUp');
      throwsCode(() => lb.markDown('zz'), 'ERR_UNKNOWN_ID', 'markDown of an unknown id');
      throwsCode(() => lb.markUp('zz'), 'ERR_UNKNOWN_ID', 'markUp of an unknown id');
    },
  },
  {
    id: 'backup',
    name: 'uses backup targets only while no primary is eligible',
    run({ create, req }) {
      const lb = create([{ id: 'p1' }, { id: 'bk', backup: true }, { id: 'p2' }], 4);
      for (let i = 0; i < 100; i++) check(idOf(lb.pick(req(i))) !== 'bk', 'picked the backup while primaries are up');
      lb.markDown('p1');
      for (let i = 0; i < 100; i++) same(idOf(lb.pick(req(i))), 'p2', 'pick with p1 down');
      lb.markDown('p2');
      for (let i = 0; i < 20; i++) same(idOf(lb.pick(req(i))), 'bk', 'pick with every primary down');
      lb.markUp('p2');
      same(idOf(lb.pick(req(0, ['p2']))), 'bk', 'pick excluding the only eligible primary');
      lb.markDown('p2');
      lb.markUp('p1');
      for (let i = 0; i < 50; i++) same(idOf(lb.pick(req(i))), 'p1', 'pick once a primary is back');
      same(
        lb.stats().map((s) => s.state),
        ['up', 'backup', 'down'],
        'stats() states',
      );
    },
  },
  {
    id: 'max-active',
    name: "respects maxActive, and throws 'ERR_TARGETS_AT_CAPACITY' (or 'ERR_NO_TARGET') when every target is full",
    run({ create, req }) {
      const lb = create([{ id: 'a', maxActive: 1 }, { id: 'b', maxActive: 2 }], 5);
      const leases = [lb.acquire(req(0)), lb.acquire(req(1)), lb.acquire(req(2))];
      same(leases.map((l) => idOf(l.target)).sort(), ['a', 'b', 'b'], 'targets of three leases with maxActive 1 and 2');
      throwsCode(() => lb.acquire(req(3)), NO_TARGET, 'acquire with every target at maxActive');
      const freed = idOf(leases[0]!.target);
      leases[0]!.release('success');
      same(idOf(lb.acquire(req(4)).target), freed, 'acquire after one lease was released');
    },
  },
  {
    id: 'leases',
    name: 'counts open leases; release is idempotent (true once, then false) and counts failures',
    run({ create, req }) {
      const lb = create(three(), 6);
      const lease = lb.acquire(req(0));
      const id = idOf(lease.target);
      same(statOf(lb, id).active, 1, 'active after acquire');
      const picks = statOf(lb, id).picks;
      check(picks >= 1, `picks after acquire must be ≥ 1, got ${picks}`);
      same(lease.release({ ok: false, latencyMs: 12 }), true, 'first release()');
      same(lease.release('success'), false, 'second release()');
      same(lease.release('failure'), false, 'third release()');
      const s = statOf(lb, id);
      same(s.active, 0, 'active after release (a repeated release must not count again)');
      same(s.failures, 1, 'failures after one failed release (repeats must not count)');
      const leases: Lease<ConformanceTarget>[] = [];
      for (let i = 0; i < 10; i++) leases.push(lb.acquire(req(i + 1)));
      const total = () => lb.stats().reduce((n, x) => n + x.active, 0);
      same(total(), 10, 'total active with ten open leases');
      for (const l of leases) l.release();
      for (const l of leases) l.release();
      same(total(), 0, 'total active after releasing every lease twice');
      lb.pick(req(20));
      same(total(), 0, 'pick() must not open a lease');
    },
  },
  {
    id: 'outcomes',
    name: "rejects malformed outcomes with 'ERR_INVALID_OUTCOME' and keeps the lease open",
    run({ create, req }) {
      const lb = create(three(), 6);
      const lease = lb.acquire(req(0));
      const id = idOf(lease.target);
      throwsCode(() => lease.release('ok' as unknown as Outcome), 'ERR_INVALID_OUTCOME', "release('ok')");
      throwsCode(() => lease.release({ ok: true, latencyMs: -1 }), 'ERR_INVALID_OUTCOME', 'release with a negative latency');
      throwsCode(() => lease.release({ ok: true, latencyMs: Number.NaN }), 'ERR_INVALID_OUTCOME', 'release with a NaN latency');
      same(statOf(lb, id).active, 1, 'active after rejected releases');
      same(lease.release({ ok: true, latencyMs: 3 }), true, 'a valid release after rejected ones');
      same(statOf(lb, id).active, 0, 'active after the valid release');
    },
  },
  {
    id: 'late-release',
    name: 'ignores releases of leases on a removed target, even after the same id is added again',
    run({ create, req }) {
      const lb = create([{ id: 'a' }], 7);
      const old = lb.acquire(req(0));
      same(lb.remove('a'), true, "remove('a') of a member");
      same(lb.remove('a'), false, "remove('a') again");
      lb.add({ id: 'a' });
      const fresh = lb.acquire(req(1));
      same(old.release('failure'), true, 'first release of the old lease');
      const s = statOf(lb, 'a');
      same([s.active, s.failures], [1, 0], 'new incarnation [active, failures] after the old lease was released');
      fresh.release('success');
      const t = statOf(lb, 'a');
      same([t.active, t.failures], [0, 0], '[active, failures] after the new lease was released');
    },
  },
  {
    id: 'add-remove',
    name: "adds and removes targets; duplicate ids throw 'ERR_DUPLICATE_ID' and change nothing",
    run({ create, req }) {
      const lb = create([{ id: 'a' }], 8);
      const b = { id: 'b', weight: 2 };
      lb.add(b);
      same(lb.size, 2, 'size after add');
      check(lb.targets()[1] === b, 'targets() must list an added target last, as the same object');
      const before = observe(lb);
      throwsCode(() => lb.add({ id: 'a' }), 'ERR_DUPLICATE_ID', 'add of an existing id');
      throwsCode(() => lb.add('b' as unknown as ConformanceTarget), 'ERR_DUPLICATE_ID', 'add of an existing id as a string');
      same(observe(lb), before, 'state after a rejected add (must be unchanged)');
      same(lb.remove('a'), true, 'remove of a member');
      same(lb.remove('zz'), false, 'remove of an unknown id');
      same(lb.size, 1, 'size after remove');
      for (let i = 0; i < 50; i++) same(idOf(lb.pick(req(i))), 'b', 'pick after removing a');
      same(lb.remove('b'), true, 'remove of the last member');
      throwsCode(() => lb.pick(req(0)), 'ERR_NO_TARGET', 'pick after removing every target');
    },
  },
  {
    id: 'set-targets',
    name: 'setTargets keeps the state of retained ids and drops the rest',
    run({ create, req }) {
      const lb = create(three(), 8);
      const leases: Lease<ConformanceTarget>[] = [];
      for (let i = 0; i < 6; i++) leases.push(lb.acquire(req(i)));
      const before = new Map(lb.stats().map((s) => [s.id, s]));
      const next: ConformanceTarget[] = [{ id: 'c', weight: 5 }, { id: 'd' }, { id: 'a', weight: 3 }];
      lb.setTargets(next);
      const listed = lb.targets();
      check(listed.length === 3 && listed.every((t, i) => t === next[i]), `targets() after setTargets must be the new objects in order, got ${describe(listed)}`);
      same(lb.size, 3, 'size after setTargets');
      const after = new Map(lb.stats().map((s) => [s.id, s]));
      same([...after.keys()], ['c', 'd', 'a'], 'stats() ids after setTargets');
      for (const id of ['a', 'c']) {
        const b = before.get(id)!;
        const a = after.get(id)!;
        same([a.active, a.picks, a.failures], [b.active, b.picks, b.failures], `[active, picks, failures] of retained ${JSON.stringify(id)}`);
      }
      same(after.get('c')!.weight, 5, 'weight of retained "c" after setTargets changed it');
      same([after.get('d')!.active, after.get('d')!.picks], [0, 0], 'new "d" [active, picks]');
      for (let i = 0; i < 100; i++) check(idOf(lb.pick(req(i))) !== 'b', 'picked "b" after setTargets dropped it');
      for (const l of leases) l.release('success');
      for (const s of lb.stats()) same(s.active, 0, `active of ${JSON.stringify(s.id)} after releasing every lease`);
    },
  },
  {
    id: 'set-weight',
    name: "setWeight changes the weight; unknown ids throw 'ERR_UNKNOWN_ID'",
    run({ create, req }) {
      const lb = create(three(), 9);
      lb.setWeight('b', 7);
      same(statOf(lb, 'b').weight, 7, 'weight after setWeight');
      throwsCode(() => lb.setWeight('zz', 2), 'ERR_UNKNOWN_ID', 'setWeight of an unknown id');
      const ts = lb.targets();
      for (let i = 0; i < 50; i++) check(ts.includes(lb.pick(req(i))), 'pick after setWeight returned a non-member');
    },
  },
  {
    id: 'validation',
    name: "rejects bad weights and targets with 'ERR_INVALID_*' codes and leaves the balancer as it was",
    run({ create, req }) {
      const lb = create(three(), 9);
      lb.acquire(req(0));
      const before = observe(lb);
      for (const w of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, -1, '2', null]) {
        const what = `weight ${describe(w)}`;
        throwsCode(() => lb.setWeight('a', w as number), 'ERR_INVALID_WEIGHT', `setWeight with ${what}`);
        throwsCode(() => lb.add({ id: 'n', weight: w as number }), 'ERR_INVALID_WEIGHT', `add with ${what}`);
        throwsCode(() => lb.setTargets([{ id: 'q' }, { id: 'n', weight: w as number }]), 'ERR_INVALID_WEIGHT', `setTargets with ${what}`);
      }
      for (const id of ['', 7, null, undefined]) {
        throwsCode(() => lb.add({ id } as unknown as ConformanceTarget), 'ERR_INVALID_ID', `add with id ${describe(id)}`);
      }
      throwsCode(() => lb.add(42 as unknown as ConformanceTarget), 'ERR_INVALID_TARGET', 'add(42)');
      throwsCode(() => lb.add({ id: 'm', maxActive: 0 }), 'ERR_INVALID_TARGET', 'add with maxActive 0');
      throwsCode(() => lb.setTargets([{ id: 'x' }, { id: 'x' }]), 'ERR_DUPLICATE_ID', 'setTargets with a duplicate id');
      same(observe(lb), before, 'state after rejected calls (must be unchanged)');
    },
  },
  {
    id: 'sequences',
    name: 'keeps membership, in-flight counts and eligibility right over random operation sequences',
    run(ctx) {
      const runs = ctx.options.sequences ?? 40;
      const steps = ctx.options.steps ?? 120;
      const base = ctx.options.seed ?? 1;
      for (let r = 0; r < runs; r++) runSequence(ctx, (base + r * 0x9e3779b1) >>> 0, steps);
    },
  },
  {
    id: 'deterministic',
    name: 'makes the same picks for the same seed',
    run({ create, req }) {
      const trace = () => {
        const lb = create(three(), 1234);
        const out: string[] = [];
        for (let i = 0; i < 100; i++) {
          const l = lb.acquire(req(i));
          out.push(idOf(l.target));
          if (i % 3 === 0) l.release('success');
        }
        return out.join(' ');
      };
      same(trace(), trace(), 'two runs with seed 1234');
    },
  },
];

// ---- random operation sequences against a model ---------------------------------------------

interface ModelMember {
  id: string;
  weight: number;
  backup: boolean;
  maxActive: number;
  down: boolean;
  active: number;
  incarnation: number;
}

const POOL = ['a', 'b', 'c', 'd', 'e', 'f'];

function runSequence(ctx: Ctx, seed: number, steps: number): void {
  const rnd = seeded(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const pickId = () => POOL[int(POOL.length)]!;
  const subset = (max: number) => POOL.filter(() => rnd() < max / POOL.length);
  let incarnation = 0;
  const members: ModelMember[] = [];
  const leases: { lease: Lease<ConformanceTarget>; id: string; incarnation: number }[] = [];
  const log: string[] = [];
  const spec = (m: ModelMember): ConformanceTarget => {
    const s: { id: string; weight: number; backup?: boolean; maxActive?: number } = { id: m.id, weight: m.weight };
    if (m.backup) s.backup = true;
    if (m.maxActive !== Number.POSITIVE_INFINITY) s.maxActive = m.maxActive;
    return s;
  };
  const fresh = (id: string, weight: number, backup: boolean, maxActive: number): ModelMember => ({
    id,
    weight,
    backup,
    maxActive,
    down: false,
    active: 0,
    incarnation: ++incarnation,
  });
  const lb = ctx.create([], seed);
  let step = 0;
  const verify = () => {
    const stats = lb.stats();
    same(
      stats.map((s) => s.id),
      members.map((m) => m.id),
      'stats() ids',
    );
    same(lb.size, members.length, 'size');
    for (let i = 0; i < members.length; i++) {
      same(stats[i]!.active, members[i]!.active, `active of ${JSON.stringify(members[i]!.id)}`);
      same(stats[i]!.weight, members[i]!.weight, `weight of ${JSON.stringify(members[i]!.id)}`);
    }
  };
  try {
    for (let n = 0; n < steps; n++) {
      const op = int(9);
      if (op === 0) {
        const id = pickId();
        const m = fresh(id, 1 + int(9), id === 'f' && rnd() < 0.5, rnd() < 0.5 ? Number.POSITIVE_INFINITY : 1 + int(3));
        log.push(`add(${describe(spec(m))})`);
        if (members.some((x) => x.id === id)) throwsCode(() => lb.add(spec(m)), 'ERR_DUPLICATE_ID', `add of existing ${JSON.stringify(id)}`);
        else {
          lb.add(spec(m));
          members.push(m);
        }
      } else if (op === 1) {
        const id = pickId();
        log.push(`remove(${JSON.stringify(id)})`);
        const i = members.findIndex((m) => m.id === id);
        same(lb.remove(id), i >= 0, `remove(${JSON.stringify(id)})`);
        if (i >= 0) members.splice(i, 1);
      } else if (op === 2) {
        const order = subset(4);
        for (let i = order.length - 1; i > 0; i--) {
          const j = int(i + 1);
          [order[i], order[j]] = [order[j]!, order[i]!];
        }
        const next = order.map((id) => members.find((m) => m.id === id) ?? fresh(id, 1 + (id.charCodeAt(0) % 4), false, Number.POSITIVE_INFINITY));
        log.push(`setTargets(${describe(next.map(spec))})`);
        lb.setTargets(next.map(spec));
        members.splice(0, members.length, ...next);
      } else if (op === 3) {
        const id = pickId();
        const w = 1 + int(9);
        log.push(`setWeight(${JSON.stringify(id)}, ${w})`);
        const m = members.find((x) => x.id === id);
        if (m === undefined) throwsCode(() => lb.setWeight(id, w), 'ERR_UNKNOWN_ID', `setWeight of unknown ${JSON.stringify(id)}`);
        else {
          lb.setWeight(id, w);
          m.weight = w;
        }
      } else if (op === 4) {
        const id = pickId();
        const down = rnd() < 0.5;
        log.push(`${down ? 'markDown' : 'markUp'}(${JSON.stringify(id)})`);
        const m = members.find((x) => x.id === id);
        const call = () => (down ? lb.markDown(id) : lb.markUp(id));
        if (m === undefined) throwsCode(call, 'ERR_UNKNOWN_ID', `${down ? 'markDown' : 'markUp'} of unknown ${JSON.stringify(id)}`);
        else {
          call();
          m.down = down;
        }
      } else if (op <= 6) {
        const exclude = subset(1.5);
        const acquire = op === 6 || rnd() < 0.5;
        log.push(`${acquire ? 'acquire' : 'pick'}({ exclude: ${describe(exclude)} })`);
        const usable = (m: ModelMember) => !m.down && !exclude.includes(m.id) && m.active < m.maxActive;
        const primaries = members.filter((m) => !m.backup && usable(m));
        const allowed = primaries.length > 0 ? primaries : members.filter((m) => m.backup && usable(m));
        const k = ctx.options.key?.(step++);
        const input = k === undefined ? { exclude } : { key: k, exclude };
        if (allowed.length === 0) {
          throwsCode(() => (acquire ? lb.acquire(input) : lb.pick(input)), NO_TARGET, `${acquire ? 'acquire' : 'pick'} with no eligible target`);
        } else if (!acquire) {
          const id = idOf(lb.pick(input));
          check(allowed.some((m) => m.id === id), `pick returned ${JSON.stringify(id)}, eligible were ${describe(allowed.map((m) => m.id))}`);
        } else {
          const lease = lb.acquire(input);
          const id = idOf(lease.target);
          const m = allowed.find((x) => x.id === id);
          if (m === undefined) fail(`acquire returned ${JSON.stringify(id)}, eligible were ${describe(allowed.map((x) => x.id))}`);
          m.active++;
          leases.push({ lease, id, incarnation: m.incarnation });
        }
      } else if (leases.length > 0) {
        const [entry] = leases.splice(int(leases.length), 1);
        const ok = rnd() < 0.5;
        const twice = rnd() < 0.3;
        log.push(`release(lease on ${JSON.stringify(entry!.id)}, ${ok ? "'success'" : "'failure'"}${twice ? ', twice' : ''})`);
        same(entry!.lease.release(ok ? 'success' : 'failure'), true, 'first release()');
        if (twice) same(entry!.lease.release('failure'), false, 'second release()');
        const m = members.find((x) => x.id === entry!.id);
        if (m !== undefined && m.incarnation === entry!.incarnation) m.active--;
      } else {
        continue;
      }
      verify();
    }
  } catch (err) {
    const why = err instanceof Error ? err.message : describe(err);
    const tail = log.slice(-12);
    throw new LoadwiseAssertionError(
      `random operation sequence (seed ${seed}) failed after ${log.length} operations: ${why}\n` +
        `  last operations, starting from an empty balancer:\n    ${log.length > tail.length ? '...\n    ' : ''}${tail.join('\n    ')}`,
    );
  }
}

// ---- public entry points --------------------------------------------------------------------

function context(factory: BalancerFactory, options: ConformanceOptions): Ctx {
  if (typeof factory !== 'function') throw new TypeError('runConformance: the first argument must be a function (targets, { seed }) => balancer');
  const key = options.key;
  return {
    options,
    create(targets, seed) {
      const lb = factory(targets, { seed });
      if (typeof lb !== 'object' || lb === null || typeof lb.pick !== 'function') {
        fail(`the factory returned ${describe(lb)}, not a balancer`);
      }
      return lb;
    },
    req(i, exclude) {
      const k = key?.(i);
      if (exclude === undefined) return k;
      return k === undefined ? { exclude } : { key: k, exclude };
    },
  };
}

/**
 * The conformance checks as named cases that run on demand, to register one by one with your
 * test runner so each shows up (and fails) separately.
 *
 * @example
 * ```ts
 * import { describe, it } from 'vitest'; // or Node's built-in runner, Jest, Mocha ...
 * import { conformanceCases } from 'loadwise/testing';
 *
 * describe('MyBalancer', () => {
 *   for (const c of conformanceCases((targets) => new MyBalancer(targets))) it(c.name, () => c.run());
 * });
 * ```
 */
export function conformanceCases(factory: BalancerFactory, options: ConformanceOptions = {}): readonly ConformanceCase[] {
  const ctx = context(factory, options);
  const skip = new Set(options.skip ?? []);
  const only = options.only === undefined ? undefined : new Set(options.only);
  return CHECKS.filter(
    (c) =>
      !skip.has(c.id) &&
      (only === undefined || only.has(c.id)) &&
      (c.id !== 'deterministic' || options.deterministic === true || only?.has(c.id) === true),
  ).map((c) => ({ id: c.id, name: c.name, run: () => c.run(ctx) }));
}

/**
 * Runs the `Balancer` contract against balancers built by `factory` and returns one result per
 * check; never throws for a failed check. The contract is the one loadwise's own balancers
 * pass: `pick`/`acquire` return only members (the very objects given), `exclude` works for one
 * pick, an empty or fully excluded balancer throws an error with `code === 'ERR_NO_TARGET'`
 * (any error class will do), `markDown`/`markUp`, backups, `maxActive`, lease counting with an
 * idempotent `release`, late releases after `remove`, `add`/`remove`, `setTargets` keeping the
 * state of retained ids, `setWeight`, input validation that leaves the balancer unchanged, and
 * random operation sequences checked against a model.
 *
 * @example
 * ```ts
 * import { runConformance } from 'loadwise/testing';
 *
 * const results = runConformance((targets, { seed }) => new MyBalancer(targets, { seed }));
 * for (const r of results) console.log(r.ok ? 'ok' : 'FAIL', r.name, r.error?.message ?? '');
 * ```
 */
export function runConformance(factory: BalancerFactory, options: ConformanceOptions = {}): ConformanceResult[] {
  return conformanceCases(factory, options).map((c) => {
    try {
      c.run();
      return { id: c.id, name: c.name, ok: true };
    } catch (err) {
      const error = err instanceof Error ? err : new LoadwiseAssertionError(`threw a non-Error value: ${describe(err)}`, { actual: err });
      return { id: c.id, name: c.name, ok: false, error };
    }
  });
}

/**
 * Like {@link runConformance}, but throws one {@link ConformanceError} naming every failed
 * check (with its message) when any fails; returns the results otherwise.
 *
 * @example
 * ```ts
 * import { expectConformance } from 'loadwise/testing';
 * // `test` from any runner: vitest, Jest, Deno.test, bun:test or Node's test runner
 *
 * test('MyBalancer follows the Balancer contract', () => {
 *   expectConformance((targets) => new MyBalancer(targets), { skip: ['strings'] });
 * });
 * ```
 */
export function expectConformance(factory: BalancerFactory, options: ConformanceOptions = {}): ConformanceResult[] {
  const results = runConformance(factory, options);
  const failures = results.filter((r) => !r.ok);
  if (failures.length === 0) return results;
  const lines = failures.map((f) => `- ${f.id}: ${f.name}\n    ${(f.error?.message ?? 'failed').split('\n').join('\n    ')}`);
  throw new ConformanceError(`${failures.length} of ${results.length} conformance checks failed:\n${lines.join('\n')}`, results);
}
