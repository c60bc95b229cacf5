/**
 * Cross-runtime suite: the same file runs unchanged on Node (tsx), Deno and Bun.
 *
 *   npx tsx test/runtimes/runtime-suite.ts
 *   deno run --no-prompt --sloppy-imports --allow-read=test/fixtures test/runtimes/runtime-suite.ts
 *   bun test/runtimes/runtime-suite.ts
 *
 * Dependency-free on purpose: no test framework, no `node:` modules, no runtime-specific API
 * except the feature-detected file read in `readFixture`. The seeded sequences below were
 * recorded once on Node; matching them here proves that seeds map to the same picks on every
 * runtime.
 */
import * as loadwise from '../../src/index.js';
import { formatTable, renderCdfSvg, runScenario, scenarios } from '../../src/sim/index.js';
import { balancedFetch, createProxy, type UpstreamFetch } from '../../src/fetch/index.js';
import {
  DuplicateIdError,
  InvalidIdError,
  InvalidOptionError,
  InvalidOutcomeError,
  InvalidTargetError,
  InvalidWeightError,
  LeastConnections,
  LoadwiseError,
  NoTargetError,
  PowerOfTwoChoices,
  Random,
  Rendezvous,
  RoundRobin,
  ConsistentHash,
  ModuloHash,
  IpHash,
  ipKey,
  Maglev,
  JumpHash,
  jumpConsistentHash,
  withRetry,
  RetryError,
  RetryBudget,
  HealthChecker,
  PeakEwma,
  LeastTime,
  Hcl,
  UnknownIdError,
  WeightedRandom,
  WeightedRoundRobin,
  createRandom,
  targetId,
  type Balancer,
  type BalancerOptions,
  type Lease,
  type Outcome,
  type Target,
} from '../../src/index.js';

// ---------------------------------------------------------------------------------------------
// A tiny harness.

let passed = 0;
let failed = 0;

function check(name: string, fn: () => void): void {
  try {
    fn();
    passed++;
    console.log(`ok ${passed + failed} - ${name}`);
  } catch (err) {
    failed++;
    const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
    console.log(`not ok ${passed + failed} - ${name}\n  ${detail.split('\n').join('\n  ')}`);
  }
}

class AssertionError extends Error {
  override name = 'AssertionError';
}

function fail(message: string): never {
  throw new AssertionError(message);
}

function show(value: unknown): string {
  if (typeof value === 'number' && Object.is(value, -0)) return '-0';
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'symbol') return String(value);
  if (value === undefined) return 'undefined';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function assert(condition: unknown, message = 'assertion failed'): asserts condition {
  if (!condition) fail(message);
}

function equal(actual: unknown, expected: unknown, what = 'value'): void {
  if (!Object.is(actual, expected)) fail(`${what}: expected ${show(expected)}, got ${show(actual)}`);
}

function deepEqual(actual: unknown, expected: unknown, what = 'value'): void {
  if (!same(actual, expected)) fail(`${what}: expected ${show(expected)}, got ${show(actual)}`);
}

function same(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(b, k)) return false;
    if (!same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

type ErrorClass = abstract new (...args: never[]) => LoadwiseError;

/** Asserts that `fn` throws an instance of `cls` with the given code; returns the error. */
function throws<E extends LoadwiseError>(fn: () => unknown, cls: ErrorClass, code: string, mentions?: string): E {
  let caught: unknown;
  let threw = false;
  try {
    fn();
  } catch (err) {
    caught = err;
    threw = true;
  }
  if (!threw) fail(`expected ${cls.name} (${code}), but nothing was thrown`);
  if (!(caught instanceof cls)) fail(`expected ${cls.name}, got ${caught instanceof Error ? `${caught.name}: ${caught.message}` : show(caught)}`);
  const err = caught as E;
  assert(err instanceof LoadwiseError, `${cls.name} is not a LoadwiseError`);
  assert(err instanceof Error, `${cls.name} is not an Error`);
  assert(LoadwiseError.is(err), `LoadwiseError.is(${cls.name}) is false`);
  equal(err.code, code, `${cls.name}.code`);
  equal(err.name, cls.name, `${cls.name}.name`);
  assert(typeof err.message === 'string' && err.message.length > 0, 'empty error message');
  if (mentions !== undefined) {
    assert(err.message.includes(mentions), `message ${show(err.message)} does not mention ${show(mentions)}`);
  }
  return err;
}

function idOf(t: Target): string {
  return typeof t === 'string' ? t : t.id;
}

function picks(lb: Balancer<Target>, n: number, input?: string | loadwise.PickRequest): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(idOf(lb.pick(input)));
  return out;
}

function countOf(xs: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}

/** A snapshot of everything observable, to prove a failed call changed nothing. */
function observe(lb: Balancer<Target>): unknown {
  return { size: lb.size, targets: lb.targets().map(idOf), stats: lb.stats() };
}

function unchangedAfter(lb: Balancer<Target>, fn: () => void): void {
  const before = observe(lb);
  fn();
  deepEqual(observe(lb), before, 'balancer state after a failed call');
}

// ---------------------------------------------------------------------------------------------
// Fixture files, read through whatever the runtime offers.

interface DenoLike {
  readTextFile(path: URL): Promise<string>;
  errors: { NotFound: new (...args: never[]) => Error };
}
interface BunLike {
  file(path: URL): { exists(): Promise<boolean>; text(): Promise<string> };
}
interface NodeFsLike {
  readFileSync(path: URL, encoding: 'utf8'): string;
}
interface ProcessLike {
  getBuiltinModule?(id: string): unknown;
  exitCode?: number | string | undefined;
}

const runtime = globalThis as {
  Deno?: DenoLike & { exitCode?: number; version?: { deno: string } };
  Bun?: BunLike & { version?: string };
  process?: ProcessLike & { versions?: { node?: string } };
};

/** The file's text, or undefined when it does not exist. */
async function readFixture(relative: string): Promise<string | undefined> {
  const url = new URL(relative, import.meta.url);
  if (runtime.Deno !== undefined) {
    try {
      return await runtime.Deno.readTextFile(url);
    } catch (err) {
      if (err instanceof runtime.Deno.errors.NotFound) return undefined;
      throw err;
    }
  }
  if (runtime.Bun !== undefined) {
    const file = runtime.Bun.file(url);
    return (await file.exists()) ? await file.text() : undefined;
  }
  const fs = runtime.process?.getBuiltinModule?.('fs') as NodeFsLike | undefined;
  if (fs !== undefined) {
    try {
      return fs.readFileSync(url, 'utf8');
    } catch (err) {
      if ((err as { code?: unknown }).code === 'ENOENT') return undefined;
      throw err;
    }
  }
  // Anything else with file: fetch (browsers refuse it, which is fine: no fixture, no check).
  const res = await fetch(url).catch(() => undefined);
  return res?.ok === true ? await res.text() : undefined;
}

function runtimeName(): string {
  if (runtime.Deno !== undefined) return `deno ${runtime.Deno.version?.deno ?? '?'}`;
  if (runtime.Bun !== undefined) return `bun ${runtime.Bun.version ?? '?'}`;
  if (runtime.process?.versions?.node !== undefined) return `node ${runtime.process.versions.node}`;
  return 'unknown runtime';
}

// ---------------------------------------------------------------------------------------------
// Values recorded once on Node (v20) from this source; every runtime must reproduce them.

const RECORDED = {
  createRandom42: [
    0.5767213918734342, 0.5318840781692415, 0.212930012261495, 0.7912528037559241, 0.23419718188233674,
    0.7856360534206033,
  ],
  createRandom0: [0.13773293141275644, 0.6373119826894253, 0.02506284648552537],
  createRandomBig: [0.3490163553506136, 0.2795044088270515, 0.8269112035632133],
  /** new Random(['a'..'e'], { seed: 7 }), 24 picks. */
  random7: 'eedbccecdddeebbacdcdcdaa',
  /** new WeightedRandom([a:5, b:1, c:2], { seed: 7 }), 24 picks. */
  weightedRandom7: 'cccaabaacccccababaaaacaa',
  /** The same balancer, 8000 picks. */
  weightedRandom7Counts: { a: 4890, b: 1007, c: 2103 },
  /** new PowerOfTwoChoices(['a'..'e'], { seed: 7 }): 24 acquires, the oldest lease released after every third. */
  powerOfTwoChoices7: 'ebcdeebcdcacbaddeeeebceb',
  /** new RoundRobin(['a'..'e'], { seed: 7 }), 7 picks (seeded start offset). */
  roundRobin7: 'eabcdea',
} as const;

// ---------------------------------------------------------------------------------------------
// The six balancers, as one table.

type Options = BalancerOptions & Record<string, unknown>;
interface Subject {
  readonly name: string;
  readonly cls: new (targets: readonly Target[], options?: Options) => Balancer<Target>;
}

const SUBJECTS: readonly Subject[] = [
  { name: 'RoundRobin', cls: RoundRobin as Subject['cls'] },
  { name: 'WeightedRoundRobin', cls: WeightedRoundRobin as Subject['cls'] },
  { name: 'Random', cls: Random as Subject['cls'] },
  { name: 'WeightedRandom', cls: WeightedRandom as Subject['cls'] },
  { name: 'LeastConnections', cls: LeastConnections as Subject['cls'] },
  { name: 'PowerOfTwoChoices', cls: PowerOfTwoChoices as Subject['cls'] },
];

const BAD_WEIGHTS: readonly unknown[] = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, -0, -1, '2', null];

function conformance(s: Subject): void {
  const N = s.name;
  const make = (targets: readonly Target[], options: Options = { seed: 1 }): Balancer<Target> => new s.cls(targets, options);
  const three = (): { id: string; weight: number; url: string }[] => [
    { id: 'a', weight: 3, url: 'http://a' },
    { id: 'b', weight: 1, url: 'http://b' },
    { id: 'c', weight: 2, url: 'http://c' },
  ];

  check(`${N}: constructor, size, targets() keep the given objects in order`, () => {
    const ts = three();
    const lb = make(ts);
    equal(lb.size, 3, 'size');
    const got = lb.targets();
    equal(got.length, 3, 'targets().length');
    for (let i = 0; i < 3; i++) equal(got[i], ts[i], `targets()[${i}] identity`);
    assert(got !== lb.targets(), 'targets() should return a fresh array');
  });

  check(`${N}: pick returns the very objects given, and reaches every target`, () => {
    const ts = three();
    const lb = make(ts);
    const seen = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const t = lb.pick();
      assert(ts.includes(t as (typeof ts)[number]), `pick returned a foreign value ${show(t)}`);
      seen.add(idOf(t));
    }
    deepEqual([...seen].sort(), ['a', 'b', 'c'], 'targets reached');
  });

  check(`${N}: string targets come back as the same strings`, () => {
    const lb = make(['x', 'y']);
    const got = new Set(picks(lb, 50));
    deepEqual([...got].sort(), ['x', 'y'], 'picked');
    equal(typeof lb.pick(), 'string', 'typeof pick()');
  });

  check(`${N}: stats() counts picks and reports every field`, () => {
    const lb = make(three());
    picks(lb, 60);
    const st = lb.stats();
    deepEqual(st.map((x) => x.id), ['a', 'b', 'c'], 'stats ids');
    deepEqual(st.map((x) => x.weight), [3, 1, 2], 'stats weights');
    deepEqual(st.map((x) => x.effectiveWeight), [3, 1, 2], 'stats effectiveWeight');
    equal(st.reduce((sum, x) => sum + x.picks, 0), 60, 'total picks');
    for (const x of st) {
      equal(x.active, 0, `${x.id}.active`);
      equal(x.failures, 0, `${x.id}.failures`);
      equal(x.state, 'up', `${x.id}.state`);
      equal(x.latencyMs, undefined, `${x.id}.latencyMs`);
    }
  });

  check(`${N}: acquire opens a lease, release closes it once (idempotent)`, () => {
    const ts = three();
    const lb = make(ts);
    const lease = lb.acquire();
    assert(ts.includes(lease.target as (typeof ts)[number]), 'lease.target is one of the targets');
    const id = idOf(lease.target);
    const active = (): number => lb.stats().find((x) => x.id === id)!.active;
    equal(active(), 1, 'active after acquire');
    equal(lease.release('success'), true, 'first release');
    equal(active(), 0, 'active after release');
    equal(lease.release('success'), false, 'second release');
    equal(lease.release('failure'), false, 'third release');
    equal(active(), 0, 'active after repeated release');
    equal(lb.stats().find((x) => x.id === id)!.failures, 0, 'failures after repeated release');
  });

  check(`${N}: release outcomes: 'failure', { ok }, latencyMs, default`, () => {
    const lb = make(['only']);
    const outcomes: (Outcome | undefined)[] = ['failure', { ok: false }, { ok: true, latencyMs: 10 }, undefined, 'success'];
    for (const o of outcomes) equal(lb.acquire().release(o), true, `release(${show(o)})`);
    const st = lb.stats()[0]!;
    equal(st.failures, 2, 'failures');
    equal(st.active, 0, 'active');
    equal(st.picks, 5, 'picks');
    equal(st.latencyMs, 10, 'latencyMs');
  });

  check(`${N}: a bad outcome throws InvalidOutcomeError and leaves the lease open`, () => {
    const lb = make(['only']);
    const lease = lb.acquire();
    const bad: unknown[] = ['ok', 42, null, {}, { ok: 'yes' }, { ok: true, latencyMs: -1 }, { ok: true, latencyMs: Number.NaN }, { ok: true, latencyMs: Number.POSITIVE_INFINITY }];
    for (const b of bad) throws(() => lease.release(b as Outcome), InvalidOutcomeError, 'ERR_INVALID_OUTCOME');
    equal(lb.stats()[0]!.active, 1, 'still open');
    equal(lease.release('success'), true, 'release after bad outcomes');
    equal(lb.stats()[0]!.active, 0, 'closed');
  });

  check(`${N}: exclude skips the named ids; unknown ids are ignored`, () => {
    const lb = make(three());
    for (const id of picks(lb, 40, { exclude: ['a', 'b'] })) equal(id, 'c', 'pick with a, b excluded');
    for (const id of picks(lb, 40, { exclude: ['c', 'nope'] })) assert(id !== 'c', 'excluded c was picked');
    const lease = lb.acquire({ exclude: ['a', 'c'] });
    equal(idOf(lease.target), 'b', 'acquire with a, c excluded');
    lease.release();
    const all = throws<NoTargetError>(() => lb.pick({ exclude: ['a', 'b', 'c'] }), NoTargetError, 'ERR_NO_TARGET');
    equal(all.size, 3, 'NoTargetError.size');
    // The exclusion lasts one pick only.
    deepEqual([...new Set(picks(lb, 300))].sort(), ['a', 'b', 'c'], 'targets reached after exclusion');
    // A key string is accepted by every balancer (ignored by the non-hash ones).
    assert(['a', 'b', 'c'].includes(idOf(lb.pick('some-key'))), 'pick(key)');
    assert(idOf(lb.pick({ key: 'k', exclude: ['a', 'b'] })) === 'c', 'pick({ key, exclude })');
  });

  check(`${N}: bad pick input throws InvalidOptionError`, () => {
    const lb = make(three());
    unchangedAfter(lb, () => {
      throws(() => lb.pick(42 as never), InvalidOptionError, 'ERR_INVALID_OPTION');
      throws(() => lb.pick({ exclude: 'a' } as never), InvalidOptionError, 'ERR_INVALID_OPTION');
      throws(() => lb.acquire({ key: 7 } as never), InvalidOptionError, 'ERR_INVALID_OPTION');
    });
  });

  check(`${N}: empty balancer throws NoTargetError (ERR_NO_TARGET, size 0)`, () => {
    const lb = make([]);
    equal(lb.size, 0, 'size');
    deepEqual(lb.targets(), [], 'targets()');
    deepEqual(lb.stats(), [], 'stats()');
    const e1 = throws<NoTargetError>(() => lb.pick(), NoTargetError, 'ERR_NO_TARGET');
    equal(e1.size, 0, 'NoTargetError.size');
    throws(() => lb.acquire(), NoTargetError, 'ERR_NO_TARGET');
    lb.add('late');
    equal(lb.pick(), 'late', 'pick after add to an empty balancer');
  });

  check(`${N}: markDown takes a target out until markUp`, () => {
    const lb = make(three());
    lb.markDown('a');
    equal(lb.stats()[0]!.state, 'down', 'state after markDown');
    for (const id of picks(lb, 60)) assert(id !== 'a', 'a picked while down');
    lb.markDown('a'); // idempotent
    lb.markUp('a');
    equal(lb.stats()[0]!.state, 'up', 'state after markUp');
    assert(picks(lb, 300).includes('a'), 'a never picked after markUp');
    lb.markDown('a');
    lb.markDown('b');
    lb.markDown('c');
    throws(() => lb.pick(), NoTargetError, 'ERR_NO_TARGET');
    lb.markUp('b');
    equal(lb.pick(), lb.targets()[1], 'the only target up');
    unchangedAfter(lb, () => {
      throws(() => lb.markDown('zz'), UnknownIdError, 'ERR_UNKNOWN_ID', 'zz');
      throws(() => lb.markUp('zz'), UnknownIdError, 'ERR_UNKNOWN_ID', 'zz');
    });
  });

  check(`${N}: add / remove / duplicate / unknown id`, () => {
    const lb = make(three());
    lb.add({ id: 'd', weight: 4 });
    equal(lb.size, 4, 'size after add');
    deepEqual(lb.targets().map(idOf), ['a', 'b', 'c', 'd'], 'order after add');
    assert(picks(lb, 300).includes('d'), 'added target never picked');
    unchangedAfter(lb, () => {
      throws(() => lb.add('d'), DuplicateIdError, 'ERR_DUPLICATE_ID', '"d"');
      throws(() => lb.add({ id: 'a', weight: 9 }), DuplicateIdError, 'ERR_DUPLICATE_ID', '"a"');
      throws(() => lb.add({ id: 'e', weight: 0 }), InvalidWeightError, 'ERR_INVALID_WEIGHT');
      throws(() => lb.add(''), InvalidIdError, 'ERR_INVALID_ID');
    });
    equal(lb.remove('d'), true, 'remove present');
    equal(lb.remove('d'), false, 'remove absent');
    equal(lb.size, 3, 'size after remove');
    for (const id of picks(lb, 60)) assert(id !== 'd', 'removed target picked');
    unchangedAfter(lb, () => {
      throws(() => lb.remove(''), InvalidIdError, 'ERR_INVALID_ID');
      throws(() => lb.remove(5 as never), InvalidIdError, 'ERR_INVALID_ID');
    });
  });

  check(`${N}: setWeight validates and applies`, () => {
    const lb = make(three());
    lb.setWeight('b', 10);
    equal(lb.stats()[1]!.weight, 10, 'weight after setWeight');
    equal(lb.stats()[1]!.effectiveWeight, 10, 'effectiveWeight after setWeight');
    unchangedAfter(lb, () => {
      for (const w of BAD_WEIGHTS) throws(() => lb.setWeight('b', w as number), InvalidWeightError, 'ERR_INVALID_WEIGHT', '"b"');
      throws(() => lb.setWeight('zz', 1), UnknownIdError, 'ERR_UNKNOWN_ID', '"zz"');
      throws(() => lb.setWeight('', 1), InvalidIdError, 'ERR_INVALID_ID');
    });
    lb.setWeight('b', 0.5);
    equal(lb.stats()[1]!.weight, 0.5, 'fractional weight');
    deepEqual([...new Set(picks(lb, 600))].sort(), ['a', 'b', 'c'], 'targets reached after setWeight');
  });

  check(`${N}: setTargets diffs membership; kept ids keep their state`, () => {
    const lb = make(three());
    const la = lb.acquire({ exclude: ['b', 'c'] });
    const lbLease = lb.acquire({ exclude: ['a', 'c'] });
    equal(idOf(la.target), 'a', 'lease on a');
    equal(idOf(lbLease.target), 'b', 'lease on b');
    const next = [{ id: 'e', weight: 1 }, { id: 'a', weight: 2 }];
    lb.setTargets(next);
    equal(lb.size, 2, 'size after setTargets');
    equal(lb.targets()[0], next[0], 'targets()[0] identity');
    equal(lb.targets()[1], next[1], 'targets()[1] identity');
    const a = lb.stats()[1]!;
    equal(a.id, 'a', 'kept id');
    equal(a.active, 1, 'kept in-flight count');
    equal(a.picks, 1, 'kept pick count');
    equal(a.weight, 2, 'new weight applied');
    // Releasing a lease on a removed target is safe and touches nothing live.
    equal(lbLease.release('failure'), true, 'release on removed target');
    equal(lbLease.release('failure'), false, 'second release on removed target');
    equal(la.release(), true, 'release on kept target');
    equal(lb.stats()[1]!.active, 0, 'kept target active after release');
    for (const id of picks(lb, 40)) assert(id === 'a' || id === 'e', `picked ${id} after setTargets`);
    unchangedAfter(lb, () => {
      throws(() => lb.setTargets(['x', 'x']), DuplicateIdError, 'ERR_DUPLICATE_ID', '"x"');
      throws(() => lb.setTargets([{ id: 'x', weight: Number.NaN }]), InvalidWeightError, 'ERR_INVALID_WEIGHT');
      throws(() => lb.setTargets('a' as never), InvalidTargetError, 'ERR_INVALID_TARGET');
    });
    lb.setTargets([]);
    equal(lb.size, 0, 'size after setTargets([])');
    throws(() => lb.pick(), NoTargetError, 'ERR_NO_TARGET');
  });

  check(`${N}: constructor rejects bad weights, ids, targets and duplicates`, () => {
    for (const w of BAD_WEIGHTS) {
      const err = throws(() => make([{ id: 'w', weight: w as number }]), InvalidWeightError, 'ERR_INVALID_WEIGHT', '"w"');
      assert(err.message.includes(typeof w === 'number' && Object.is(w, -0) ? '-0' : typeof w === 'string' ? '"2"' : String(w)), `message ${show(err.message)} names the weight`);
    }
    throws(() => make(['']), InvalidIdError, 'ERR_INVALID_ID');
    throws(() => make([{ id: '' }]), InvalidIdError, 'ERR_INVALID_ID');
    throws(() => make([{ id: 42 } as never]), InvalidIdError, 'ERR_INVALID_ID', '42');
    throws(() => make([{} as never]), InvalidIdError, 'ERR_INVALID_ID');
    throws(() => make([null as never]), InvalidTargetError, 'ERR_INVALID_TARGET');
    throws(() => make([42 as never]), InvalidTargetError, 'ERR_INVALID_TARGET');
    throws(() => make([['a'] as never]), InvalidTargetError, 'ERR_INVALID_TARGET');
    throws(() => make([{ id: 'a', backup: 'yes' } as never]), InvalidTargetError, 'ERR_INVALID_TARGET');
    throws(() => make([{ id: 'a', maxActive: 0 }]), InvalidTargetError, 'ERR_INVALID_TARGET');
    throws(() => make([{ id: 'a', maxActive: 1.5 }]), InvalidTargetError, 'ERR_INVALID_TARGET');
    throws(() => make('abc' as never), InvalidTargetError, 'ERR_INVALID_TARGET');
    throws(() => make(['a', 'b', 'a']), DuplicateIdError, 'ERR_DUPLICATE_ID', '"a"');
    throws(() => make(['a', { id: 'a', weight: 2 }]), DuplicateIdError, 'ERR_DUPLICATE_ID');
  });

  check(`${N}: constructor rejects bad options (InvalidOptionError names the option)`, () => {
    const cases: [Options, string][] = [
      [{ seeed: 1 }, 'seeed'],
      [{ seed: Number.NaN }, 'seed'],
      [{ seed: Number.POSITIVE_INFINITY }, 'seed'],
      [{ seed: '1' as never }, 'seed'],
      [{ random: 5 as never }, 'random'],
      [{ now: 'x' as never }, 'now'],
    ];
    for (const [options, option] of cases) {
      const err = throws<InvalidOptionError>(() => make(['a'], options), InvalidOptionError, 'ERR_INVALID_OPTION', option);
      equal(err.option, option, 'InvalidOptionError.option');
    }
    throws(() => new s.cls(['a'], 'fast' as never), InvalidOptionError, 'ERR_INVALID_OPTION');
    throws(() => new s.cls(['a'], [] as never), InvalidOptionError, 'ERR_INVALID_OPTION');
    // Accepted: no options, empty options, seed, random, now.
    make(['a'], {});
    new s.cls(['a']);
    make(['a'], { seed: 0, random: () => 0.5, now: () => 0 });
  });

  check(`${N}: maxActive caps open leases (ERR_TARGETS_AT_CAPACITY)`, () => {
    const lb = make([{ id: 'a', maxActive: 2 }, { id: 'b', maxActive: 1 }]);
    const leases: Lease<Target>[] = [lb.acquire(), lb.acquire(), lb.acquire()];
    deepEqual(leases.map((l) => idOf(l.target)).sort(), ['a', 'a', 'b'], 'leases up to capacity');
    const err = throws<NoTargetError>(() => lb.acquire(), NoTargetError, 'ERR_TARGETS_AT_CAPACITY');
    equal(err.size, 2, 'NoTargetError.size');
    throws(() => lb.pick(), NoTargetError, 'ERR_TARGETS_AT_CAPACITY');
    const b = leases.find((l) => idOf(l.target) === 'b')!;
    b.release();
    equal(idOf(lb.acquire().target), 'b', 'freed slot is used');
  });

  check(`${N}: backup targets serve only while no primary is eligible`, () => {
    const lb = make(['p1', 'p2', { id: 'bk', backup: true }]);
    equal(lb.stats()[2]!.state, 'backup', 'backup state');
    for (const id of picks(lb, 40)) assert(id !== 'bk', 'backup picked while primaries are up');
    lb.markDown('p1');
    lb.markDown('p2');
    for (const id of picks(lb, 10)) equal(id, 'bk', 'pick with primaries down');
    lb.markUp('p2');
    for (const id of picks(lb, 10)) equal(id, 'p2', 'pick after a primary returns');
    for (const id of picks(lb, 10, { exclude: ['p2'] })) equal(id, 'bk', 'pick with the live primary excluded');
  });

  check(`${N}: random option is used (runs on an injected source)`, () => {
    let calls = 0;
    const random = (): number => {
      calls++;
      return 0.5;
    };
    const lb = make(['a', 'b', 'c', 'd'], { random });
    picks(lb, 20);
    if (N === 'Random' || N === 'WeightedRandom' || N === 'PowerOfTwoChoices' || N === 'RoundRobin') {
      assert(calls > 0, 'the injected random source was never called');
    }
  });

  check(`${N}: the same seed gives the same picks`, () => {
    const run = (): string[] => {
      const lb = make(three(), { seed: 12345 });
      const out: string[] = [];
      const open: Lease<Target>[] = [];
      for (let i = 0; i < 60; i++) {
        const l = lb.acquire();
        out.push(idOf(l.target));
        open.push(l);
        if (i % 2 === 1) open.shift()!.release();
      }
      return out;
    };
    deepEqual(run(), run(), 'two seeded runs');
  });
}

// ---------------------------------------------------------------------------------------------
// Algorithm-specific checks.

function algorithms(): void {
  check('Rendezvous: key mapping recorded on Node, independent of insertion order; pickN', () => {
    const targets: Target[] = ['a', 'b', 'c', 'd', { id: 'e', weight: 3 }];
    const lb = new Rendezvous(targets);
    const keys = Array.from({ length: 16 }, (_, i) => `key-${i}`);
    const mapping = keys.map((k) => idOf(lb.pick(k))).join('');
    equal(mapping, 'abeeeccededeceee', 'mapping of key-0..key-15');
    const reversed = new Rendezvous([...targets].reverse());
    equal(keys.map((k) => idOf(reversed.pick(k))).join(''), mapping, 'reversed insertion order');
    deepEqual(lb.pickN('user:42', 3).map(idOf), ['a', 'c', 'e'], 'pickN');
    throws(() => lb.pick(), InvalidOptionError, 'ERR_INVALID_OPTION', 'key');
  });

  check('RoundRobin: each target once per cycle, in list order from the seeded start', () => {
    const lb = new RoundRobin(['a', 'b', 'c', 'd', 'e'], { seed: 7 });
    equal(picks(lb, 7).join(''), RECORDED.roundRobin7, 'seeded sequence');
    const lb2 = new RoundRobin(['a', 'b', 'c'], { seed: 99 });
    const seq = picks(lb2, 30);
    const start = 'abc'.indexOf(seq[0]!);
    for (let i = 0; i < seq.length; i++) equal(seq[i], 'abc'[(start + i) % 3], `pick ${i}`);
    lb2.markDown('b');
    for (let i = 0; i < 10; i++) assert(lb2.pick() !== 'b', 'b picked while down');
  });

  check("WeightedRoundRobin: weights 5,1,1 pick 'a a b a c a a' (nginx smooth WRR)", () => {
    const lb = new WeightedRoundRobin([{ id: 'a', weight: 5 }, { id: 'b', weight: 1 }, { id: 'c', weight: 1 }]);
    equal(picks(lb, 7).join(' '), 'a a b a c a a', 'first period');
    equal(picks(lb, 7).join(' '), 'a a b a c a a', 'second period');
  });

  check('WeightedRoundRobin: every period gives each target exactly its weight', () => {
    const lb = new WeightedRoundRobin([{ id: 'a', weight: 4 }, { id: 'b', weight: 3 }, { id: 'c', weight: 2 }, { id: 'd', weight: 1 }]);
    for (let period = 0; period < 5; period++) deepEqual(countOf(picks(lb, 10)), { a: 4, b: 3, c: 2, d: 1 }, `period ${period}`);
  });

  check('Random: new Random(ids, { seed: 7 }) matches the sequence recorded on Node', () => {
    const lb = new Random(['a', 'b', 'c', 'd', 'e'], { seed: 7 });
    equal(picks(lb, 24).join(''), RECORDED.random7, 'seeded sequence');
  });

  check('Random: injected random source maps [0, 1) onto the list', () => {
    equal(new Random(['a', 'b', 'c'], { random: () => 0 }).pick(), 'a', 'random() = 0');
    equal(new Random(['a', 'b', 'c'], { random: () => 0.5 }).pick(), 'b', 'random() = 0.5');
    equal(new Random(['a', 'b', 'c'], { random: () => 0.9999999999999999 }).pick(), 'c', 'random() just below 1');
  });

  check('WeightedRandom: seeded sequence and counts match the values recorded on Node', () => {
    const ts = [{ id: 'a', weight: 5 }, { id: 'b', weight: 1 }, { id: 'c', weight: 2 }];
    equal(picks(new WeightedRandom(ts, { seed: 7 }), 24).join(''), RECORDED.weightedRandom7, 'seeded sequence');
    deepEqual(countOf(picks(new WeightedRandom(ts, { seed: 7 }), 8000)), RECORDED.weightedRandom7Counts, 'seeded counts');
  });

  check('LeastConnections: acquire goes to the target with the fewest open leases', () => {
    const lb = new LeastConnections(['a', 'b', 'c']);
    const l1 = lb.acquire();
    const l2 = lb.acquire();
    const l3 = lb.acquire();
    deepEqual([l1.target, l2.target, l3.target].sort(), ['a', 'b', 'c'], 'one lease each');
    l2.release();
    equal(lb.acquire().target, l2.target, 'the freed target is next');
    const w = new LeastConnections([{ id: 'big', weight: 3 }, { id: 'small', weight: 1 }]);
    const open = Array.from({ length: 8 }, () => w.acquire());
    deepEqual(countOf(open.map((l) => l.target.id)), { big: 6, small: 2 }, 'open leases follow weight');
  });

  check('PowerOfTwoChoices: seeded acquire sequence matches Node; choices option', () => {
    const lb = new PowerOfTwoChoices(['a', 'b', 'c', 'd', 'e'], { seed: 7 });
    const seq: string[] = [];
    const open: Lease<string>[] = [];
    for (let i = 0; i < 24; i++) {
      const l = lb.acquire();
      seq.push(l.target);
      open.push(l);
      if (i % 3 === 2) open.shift()!.release();
    }
    equal(seq.join(''), RECORDED.powerOfTwoChoices7, 'seeded sequence');
    // With two targets and two choices both are compared: acquires alternate by load.
    const two = new PowerOfTwoChoices(['x', 'y'], { seed: 3 });
    const first = two.acquire().target;
    equal(two.acquire().target, first === 'x' ? 'y' : 'x', 'the less loaded of two');
    new PowerOfTwoChoices(['a', 'b', 'c'], { choices: 3 }).pick();
    for (const c of [1, 0, 2.5, Number.NaN, '2']) {
      const err = throws<InvalidOptionError>(() => new PowerOfTwoChoices(['a', 'b'], { choices: c as number }), InvalidOptionError, 'ERR_INVALID_OPTION', 'choices');
      equal(err.option, 'choices', 'option name');
    }
  });

  check('createRandom(42) matches the sequence recorded on Node', () => {
    const r = createRandom(42);
    deepEqual(Array.from({ length: 6 }, () => r()), RECORDED.createRandom42, 'createRandom(42)');
    const z = createRandom(0);
    deepEqual(Array.from({ length: 3 }, () => z()), RECORDED.createRandom0, 'createRandom(0)');
    const big = createRandom(2 ** 40 + 12345);
    deepEqual(Array.from({ length: 3 }, () => big()), RECORDED.createRandomBig, 'createRandom(2^40 + 12345)');
  });

  check('createRandom: values in [0, 1), reproducible, seed-sensitive', () => {
    const a = createRandom(42);
    const b = createRandom(42);
    const c = createRandom(43);
    let differs = false;
    let sum = 0;
    for (let i = 0; i < 10000; i++) {
      const x = a();
      equal(x, b(), `draw ${i}`);
      assert(x >= 0 && x < 1, `draw ${i} out of range: ${x}`);
      if (x !== c()) differs = true;
      sum += x;
    }
    assert(differs, 'seeds 42 and 43 gave the same sequence');
    assert(Math.abs(sum / 10000 - 0.5) < 0.02, `mean ${sum / 10000} far from 0.5`);
  });

  check('targetId: strings are their own id, objects give .id, bad ids throw', () => {
    equal(targetId('x'), 'x', 'string');
    equal(targetId({ id: 'y', weight: 3 }), 'y', 'object');
    throws(() => targetId({ id: '' }), InvalidIdError, 'ERR_INVALID_ID');
    throws(() => targetId({ id: 7 } as never), InvalidIdError, 'ERR_INVALID_ID');
  });

  check('error classes: direct construction, codes, names, LoadwiseError.is brand', () => {
    const made: [LoadwiseError, ErrorClass, string][] = [
      [new LoadwiseError('ERR_NO_TARGET', 'm'), LoadwiseError, 'ERR_NO_TARGET'],
      [new NoTargetError('none', 0), NoTargetError, 'ERR_NO_TARGET'],
      [new NoTargetError('full', 2, 'ERR_TARGETS_AT_CAPACITY'), NoTargetError, 'ERR_TARGETS_AT_CAPACITY'],
      [new InvalidWeightError('a', Number.NaN), InvalidWeightError, 'ERR_INVALID_WEIGHT'],
      [new InvalidIdError(''), InvalidIdError, 'ERR_INVALID_ID'],
      [new InvalidTargetError('bad'), InvalidTargetError, 'ERR_INVALID_TARGET'],
      [new DuplicateIdError('a'), DuplicateIdError, 'ERR_DUPLICATE_ID'],
      [new UnknownIdError('a'), UnknownIdError, 'ERR_UNKNOWN_ID'],
      [new InvalidOptionError('seed', 'x', 'a number'), InvalidOptionError, 'ERR_INVALID_OPTION'],
      [new InvalidOutcomeError('ok'), InvalidOutcomeError, 'ERR_INVALID_OUTCOME'],
    ];
    for (const [err, cls, code] of made) {
      throws(() => {
        throw err;
      }, cls, code);
    }
    equal(new NoTargetError('none', 4).size, 4, 'NoTargetError.size');
    equal(new InvalidOptionError('seed', 'x', 'a number').option, 'seed', 'InvalidOptionError.option');
    assert(new InvalidWeightError('a', Number.NaN).message.includes('NaN'), 'InvalidWeightError names the weight');
    assert(!LoadwiseError.is(new Error('plain')), 'LoadwiseError.is(Error)');
    assert(!LoadwiseError.is({ code: 'ERR_NO_TARGET' }), 'LoadwiseError.is(look-alike)');
    assert(!LoadwiseError.is(null) && !LoadwiseError.is(undefined) && !LoadwiseError.is('ERR_NO_TARGET'), 'LoadwiseError.is(primitive)');
    assert(!(new DuplicateIdError('a') instanceof UnknownIdError), 'sibling classes are distinct');
  });
}

// ---------------------------------------------------------------------------------------------
// nginx parity fixture (recorded from a real nginx by scripts/nginx/record.mjs).

interface WrrFixture {
  readonly nginx: string;
  readonly recordedWith?: string;
  readonly cases: readonly {
    readonly name: string;
    readonly servers: readonly { readonly id: string; readonly weight: number }[];
    readonly sequence: readonly string[];
  }[];
}

async function nginxParity(): Promise<void> {
  const text = await readFixture('../fixtures/nginx-wrr.json');
  if (text === undefined) {
    console.log('# skip: test/fixtures/nginx-wrr.json not found');
    return;
  }
  let fixture: WrrFixture | undefined;
  check('nginx-wrr.json: parses and has cases', () => {
    fixture = JSON.parse(text) as WrrFixture;
    assert(Array.isArray(fixture.cases) && fixture.cases.length > 0, 'no cases');
  });
  if (fixture === undefined) return;
  for (const c of fixture.cases) {
    check(`WeightedRoundRobin reproduces ${fixture.nginx}: ${c.name} (${c.sequence.length} picks)`, () => {
      assert(c.sequence.length > 0, 'empty sequence');
      const lb = new WeightedRoundRobin(c.servers.map((s) => ({ id: s.id, weight: s.weight })));
      for (let i = 0; i < c.sequence.length; i++) {
        const got = lb.pick().id;
        if (got !== c.sequence[i]) fail(`pick ${i}: nginx chose ${c.sequence[i]}, WeightedRoundRobin chose ${got}`);
      }
    });
  }
}

// ---------------------------------------------------------------------------------------------
// The hash family: key -> target mappings must not depend on the runtime.

const HASH_SERVERS: Target[] = ['10.0.0.1:11211', '10.0.0.2:11211', { id: '10.0.0.3:11211', weight: 2 }, '10.0.0.4:11211'];
/** Keys of every awkward kind: non-ASCII, astral, a lone surrogate, prototype names, long. */
const HASH_KEYS = ['a', 'user:42', 'ключ', '键7', '😀', '\ud800', '__proto__', 'constructor', 'x'.repeat(300), 'session-0001', 'session-0002', 'k13', 'k14', 'k15', 'k16'];
/** Recorded once on Node: the 8th character of the chosen id (the server number) per key. */
const HASH_GOLDEN = {
  default: '211134422233333',
  nginx: '431133343341111',
  ketama: '312342133412213',
  hashring: '312342133412213',
  modulo: '323231134314432',
  ip: '22141113',
  maglev: '344333223312143',
  jump: '123334342134333',
  jumpAfterRemove: '133334341134333',
};

function hashGolden(): void {
  const digit = (t: Target) => idOf(t).slice(7, 8);
  for (const compat of ['default', 'nginx', 'ketama', 'hashring'] as const) {
    check(`ConsistentHash ${compat}: mapping recorded on Node, independent of insertion order where defined`, () => {
      const make = (ts: Target[]) => new ConsistentHash(ts, compat === 'default' ? {} : { compat });
      const lb = make(HASH_SERVERS);
      equal(HASH_KEYS.map((k) => digit(lb.pick(k))).join(''), HASH_GOLDEN[compat], 'mapping');
      if (compat !== 'ketama' && compat !== 'hashring') {
        const reversed = make([...HASH_SERVERS].reverse());
        equal(HASH_KEYS.map((k) => digit(reversed.pick(k))).join(''), HASH_GOLDEN[compat], 'reversed order');
      }
    });
  }
  check('Maglev: mapping recorded on Node, independent of insertion order', () => {
    const lb = new Maglev(HASH_SERVERS);
    equal(HASH_KEYS.map((k) => digit(lb.pick(k))).join(''), HASH_GOLDEN.maglev, 'mapping');
    const reversed = new Maglev([...HASH_SERVERS].reverse());
    equal(HASH_KEYS.map((k) => digit(reversed.pick(k))).join(''), HASH_GOLDEN.maglev, 'reversed order');
  });
  check('JumpHash: bit-exact jump function, mapping recorded on Node, removal moves only its keys', () => {
    equal(jumpConsistentHash(0, 0, 1), 0, 'jump(0, 1)');
    equal(jumpConsistentHash(0, 0xdeadbeef, 1000), 285, 'jump(0xdeadbeef, 1000)');
    equal(jumpConsistentHash(0x12345678, 0x9abcdef0, 100000), 67832, 'jump(0x123456789abcdef0, 100000)');
    const lb = new JumpHash(HASH_SERVERS);
    equal(HASH_KEYS.map((k) => digit(lb.pick(k))).join(''), HASH_GOLDEN.jump, 'mapping');
    lb.remove('10.0.0.2:11211');
    equal(HASH_KEYS.map((k) => digit(lb.pick(k))).join(''), HASH_GOLDEN.jumpAfterRemove, 'after removing server 2');
  });
  check('ModuloHash: nginx `hash $key` mapping recorded on Node', () => {
    const lb = new ModuloHash(HASH_SERVERS);
    equal(HASH_KEYS.map((k) => digit(lb.pick(k))).join(''), HASH_GOLDEN.modulo, 'mapping');
  });
  check('IpHash: nginx `ip_hash` mapping recorded on Node; ipKey unwraps IPv4-mapped addresses', () => {
    const lb = new IpHash(HASH_SERVERS);
    const addrs = ['1.2.3.4', '1.2.3.99', '10.9.8.7', '192.168.1.1', '::1', '2001:db8::1', '::ffff:10.0.0.1', 'fe80::1%eth0'];
    equal(addrs.map((a) => digit(lb.pick(a))).join(''), HASH_GOLDEN.ip, 'mapping');
    equal(ipKey('::ffff:127.0.0.1'), '127.0.0.1', 'ipKey');
  });
}

interface HashFixture {
  nginx: string;
  cases: { name: string; servers: { id: string; weight: number }[]; keys?: string[]; addresses?: string[]; expected: string[] }[];
}

async function nginxHashParity(): Promise<void> {
  const files: [string, (servers: { id: string; weight: number }[]) => Balancer<{ id: string; weight: number }>][] = [
    ['nginx-hash-consistent.json', (s) => new ConsistentHash(s, { compat: 'nginx' })],
    ['nginx-hash.json', (s) => new ModuloHash(s)],
    ['nginx-ip-hash.json', (s) => new IpHash(s)],
  ];
  for (const [file, make] of files) {
    const text = await readFixture(`../fixtures/${file}`);
    if (text === undefined) {
      console.log(`# skip: test/fixtures/${file} not found`);
      continue;
    }
    const fixture = JSON.parse(text) as HashFixture;
    for (const c of fixture.cases) {
      const inputs = c.keys ?? c.addresses ?? [];
      check(`${file}: ${c.name} (${inputs.length} keys) identical to ${fixture.nginx}`, () => {
        const lb = make(c.servers);
        for (let i = 0; i < inputs.length; i++) {
          const got = lb.pick(inputs[i]!).id;
          if (got !== c.expected[i]) fail(`key ${JSON.stringify(inputs[i])}: nginx chose ${c.expected[i]}, loadwise chose ${got}`);
        }
      });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Resilience: retries, retry budget, active health checks (async, real timers unused).

async function resilience(): Promise<void> {
  const lb = new RoundRobin(['a', 'b', 'c'], { seed: 1 });
  const tried: string[] = [];
  const result = await withRetry(lb, async (t) => {
    tried.push(t);
    if (tried.length === 1) throw new Error('first attempt fails');
    return `ok:${t}`;
  });
  check('withRetry: a failed attempt is retried on a different target, leases released', () => {
    equal(tried.length, 2, 'attempts');
    assert(tried[0] !== tried[1], 'the retry went to the same target');
    equal(result, `ok:${tried[1]}`, 'result');
    for (const s of lb.stats()) equal(s.active, 0, `active on ${s.id}`);
    equal(lb.stats().reduce((n, s) => n + s.failures, 0), 1, 'failures recorded');
  });
  let caught: unknown;
  try {
    await withRetry(lb, async () => {
      throw new Error('always');
    }, { attempts: 3 });
  } catch (err) {
    caught = err;
  }
  check('withRetry: RetryError carries every attempt error', () => {
    assert(caught instanceof RetryError, 'not a RetryError');
    equal((caught as RetryError).code, 'ERR_RETRIES_EXHAUSTED', 'code');
    equal((caught as RetryError).errors.length, 3, 'errors');
  });
  check('RetryBudget: 20 % of 100 requests may retry, then it refuses', () => {
    const budget = new RetryBudget({ percentCanRetry: 0.2, minRetriesPerSec: 0, now: () => 0 });
    for (let i = 0; i < 100; i++) budget.deposit();
    let retries = 0;
    while (budget.tryWithdraw()) retries++;
    equal(retries, 20, 'retries allowed');
  });
  const checked = new RoundRobin(['a', 'b', 'c'], { seed: 1 });
  const checker = new HealthChecker(checked, async (t) => t !== 'b', { unhealthyThreshold: 1, intervalMs: 60_000 });
  await checker.checkNow();
  check('HealthChecker: a failing probe takes its target out of rotation', () => {
    equal(checker.state('b'), 'unhealthy', 'state');
    for (let i = 0; i < 12; i++) assert(checked.pick() !== 'b', 'b picked while unhealthy');
  });
  checker.stop();

  check('passive + outlier + slow start on an injected clock', () => {
    let t = 0;
    const events: string[] = [];
    const lb = new WeightedRoundRobin(
      [{ id: 'a', weight: 1 }, { id: 'b', weight: 1 }, { id: 'c', weight: 1 }, { id: 'd', weight: 1 }],
      {
        now: () => t,
        outlier: { consecutiveFailures: 2, baseEjectionTimeMs: 1000, maxEjectionPercent: 50 },
        slowStart: { windowMs: 1000, minWeightPercent: 10 },
        onEvent: (e) => events.push(`${e.type}:${e.id ?? ''}:${e.reason}`),
      },
    );
    for (let i = 0; i < 2; i++) lb.acquire({ exclude: ['b', 'c', 'd'] }).release('failure');
    equal(lb.stats()[0]!.state, 'ejected', 'a after 2 consecutive failures');
    for (let i = 0; i < 8; i++) assert(idOf(lb.pick()) !== 'a', 'a picked while ejected');
    t = 1001;
    lb.pick();
    deepEqual(events, ['eject:a:outlier', 'return:a:outlier'], 'events');
    equal(lb.stats()[0]!.state, 'slow-start', 'a ramps after returning');
    assert(lb.stats()[0]!.effectiveWeight < 1, 'ramping weight below 1');
    t = 2500;
    lb.pick();
    equal(lb.stats()[0]!.state, 'up', 'ramp over');
    equal(lb.stats()[0]!.effectiveWeight, 1, 'full weight');
  });
}

// ---------------------------------------------------------------------------------------------
// Latency-aware balancers (PeakEwma, LeastTime, Hcl) on an injected clock. Math.exp may differ in
// the last bit between engines, so these compare with a tolerance instead of recorded sequences.

function near(actual: number, expected: number, what: string, rel = 1e-9): void {
  if (!(Math.abs(actual - expected) <= rel * Math.max(Math.abs(expected), 1e-12))) fail(`${what}: expected ${expected}, got ${actual}`);
}

async function latencyAware(): Promise<void> {
  check('PeakEwma: jumps to peaks, decays with exp(-Δt/τ), halves in τ·ln 2; cost = rtt × (in flight + 1) / weight', () => {
    let t = 0;
    const lb = new PeakEwma([{ id: 'a', weight: 2 }, { id: 'b' }, { id: 'c' }], { now: () => t, decayMs: 1_000, seed: 1 });
    equal(lb.rttEstimate('a'), 30, 'default RTT (Linkerd)');
    const lease = lb.acquire({ exclude: ['b', 'c'] });
    t += 400;
    lease.release('success');
    equal(lb.rttEstimate('a'), 400, 'peak measured on the injected clock');
    t += 1_000 * Math.LN2;
    near(lb.rttEstimate('a'), 200, 'half-life τ·ln 2');
    const open = lb.acquire({ exclude: ['b', 'c'] });
    near(lb.cost('a'), (200 * 2) / 2, 'cost with one lease, weight 2');
    open.release({ ok: true, latencyMs: 50 });
    // A lone candidate is not read (Finagle), so Δt runs from the peak: w = exp(-ln 2) = 1/2.
    near(lb.rttEstimate('a'), 400 * 0.5 + 50 * 0.5, 'a lower sample moves the estimate by 1 - w');
    throws(() => lb.rttEstimate('zz'), UnknownIdError, 'ERR_UNKNOWN_ID');
  });

  check('PeakEwma: two distinct candidates, so the slowest of n is never picked; penalty mode', () => {
    let t = 0;
    const ids = ['a', 'b', 'c', 'd', 'e'];
    const lb = new PeakEwma(ids, { now: () => t, seed: 7 });
    for (const id of ids) lb.acquire({ exclude: ids.filter((x) => x !== id) }).release({ ok: true, latencyMs: id === 'c' ? 9_000 : 1 });
    for (let i = 0; i < 2_000; i++) assert(lb.pick() !== 'c', 'the slowest target was picked');
    const p = new PeakEwma(['x', 'y'], { now: () => t, noHistory: 'penalty', seed: 3 });
    const first = p.acquire();
    const other = first.target === 'x' ? 'y' : 'x';
    equal(p.acquire().target, other, 'an unprobed idle target costs 0 (Finagle)');
    near(p.cost(first.target), (2 ** 47 - 1) / 1e6 + 1, "Finagle's penalty + pending");
    for (const [options, name] of [[{ decayMs: 0 }, 'decayMs'], [{ choices: 1 }, 'choices'], [{ noHistory: 'x' }, 'noHistory'], [{ penalty: 5 }, 'penalty']] as const) {
      const err = throws<InvalidOptionError>(() => new PeakEwma(['a'], options as never), InvalidOptionError, 'ERR_INVALID_OPTION', name);
      equal(err.option, name, 'InvalidOptionError.option');
    }
  });

  check('LeastTime: average (factor 90), lowest average × (in flight + 1) / weight, ties by smooth WRR', () => {
    const lb = new LeastTime([{ id: 'a', weight: 5 }, { id: 'b', weight: 1 }, { id: 'c', weight: 1 }], { mode: 'angie' });
    const serve = (id: string, ms: number) => lb.acquire({ exclude: ['a', 'b', 'c'].filter((x) => x !== id) }).release({ ok: true, latencyMs: ms });
    serve('a', 50);
    serve('b', 10);
    serve('c', 10);
    equal(picks(lb as Balancer<Target>, 7).join(' '), 'a a b a c a a', 'tied on cost per weight: nginx smooth WRR');
    serve('b', 110);
    equal(lb.averageMs('b'), 20, '(10 × 90 + 110 × 10) / 100');
    serve('c', 1_000);
    equal(lb.averageMs('c'), 109, 'c average');
    // a: 50 / 5 = 10, b: 20, c: 109: a takes requests until 10 × (k + 1) exceeds 20.
    const open = [lb.acquire(), lb.acquire(), lb.acquire()];
    deepEqual(open.map((l) => l.target.id).sort(), ['a', 'a', 'b'], 'least time with load');
    throws(() => new LeastTime(['a'], { factor: 100 }), InvalidOptionError, 'ERR_INVALID_OPTION', 'factor');
  });

  check('LeastTime: by default an average decays by exp(-Δt/τ) between responses, so a slow target is tried again', () => {
    let t = 0;
    const lb = new LeastTime(['a', 'b'], { now: () => t, decayMs: 1_000 });
    lb.acquire({ exclude: ['b'] }).release({ ok: true, latencyMs: 400 });
    lb.acquire({ exclude: ['a'] }).release({ ok: true, latencyMs: 10 });
    equal(lb.pick(), 'b', 'the fast target');
    t = 1_000 * Math.LN2;
    near(lb.averageMs('a')!, 200, 'half-life τ·ln 2');
    t = 1_000 * Math.log(400 / 5); // a decays to 5 ms, b's 10 ms to 0.125 ms
    near(lb.averageMs('a')!, 5, 'a decayed');
    equal(lb.pick(), 'b', 'b decays as well: still cheaper at equal age');
    // b keeps serving at 10 ms: 10 − 9.875 × 0.9^10 ≈ 6.56 ms, above a's 5 ms.
    for (let i = 0; i < 10; i++) lb.acquire({ exclude: ['a'] }).release({ ok: true, latencyMs: 10 });
    near(lb.averageMs('b')!, 10 - 9.875 * 0.9 ** 10, 'b refreshed', 1e-6);
    equal(lb.pick(), 'a', 'the idle, formerly slow target is the cheapest now');
    throws(() => new LeastTime(['a'], { mode: 'angie', decayMs: 1 }), InvalidOptionError, 'ERR_INVALID_OPTION', 'decayMs');
  });

  const probed = new Hcl(['p', 'q', 'r', 's', 't', 'u', 'v'], {
    choices: 7,
    probe: async (target) => ({ rif: target === 'p' ? 40 : 0, latencyMs: target === 'p' ? 1 : target === 'q' ? 2 : 9 }),
  });
  await probed.probeNow();
  check('Hcl: hot-cold lexicographic rule, Q_RIF 0.84, load reports from probes and reportLoad', () => {
    const lb = new Hcl(['a', 'b', 'c', 'd'], { choices: 4, seed: 1, now: () => 0 });
    const serve = (id: string, ms: number) => lb.acquire({ exclude: ['a', 'b', 'c', 'd'].filter((x) => x !== id) }).release({ ok: true, latencyMs: ms });
    serve('a', 5);
    serve('b', 10);
    serve('c', 20);
    serve('d', 40);
    for (let i = 0; i < 20; i++) equal(lb.pick(), 'a', 'cold and fastest');
    lb.reportLoad('a', { rif: 25, latencyMs: 5 });
    equal(lb.signals('a').rif, 25, 'reported RIF');
    equal(lb.pick(), 'b', 'a is hot: the fastest cold one');
    assert(lb.signals('a').hot, 'a classified hot');
    throws(() => lb.startProbing(), InvalidOptionError, 'ERR_INVALID_OPTION', 'probe');
    equal(probed.signals('p').reported, true, 'probe answer recorded');
    equal(probed.signals('p').rif, 40, 'probed RIF');
    for (let i = 0; i < 5; i++) equal(probed.pick(), 'q', 'p is hot by its probe; q is the fastest cold one');
    throws(() => new Hcl(['a'], { quantile: 2 }), InvalidOptionError, 'ERR_INVALID_OPTION', 'quantile');
  });
}

// ---------------------------------------------------------------------------------------------
// The simulator: the same seed must give byte-identical output on every runtime.

function simulatorDeterminism(): void {
  check('loadwise/sim: slow-server scenario table and SVG identical to the Node recording', () => {
    const result = runScenario(scenarios['slow-server'], { only: ['PowerOfTwoChoices', 'PeakEwma'] });
    const text = formatTable(result) + renderCdfSvg(result);
    let h = 0x811c9dc5; // FNV-1a over the UTF-16 units
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
    equal(`${h.toString(16)}:${text.length}`, 'c10801cc:8118', 'output hash');
  });
}

// ---------------------------------------------------------------------------------------------
// Every runtime export must be exercised above: a new export fails here until it gets a check.

const COVERED = new Set([
  'targetId',
  'RoundRobin',
  'WeightedRoundRobin',
  'Random',
  'WeightedRandom',
  'LeastConnections',
  'PowerOfTwoChoices',
  'Rendezvous',
  'ConsistentHash',
  'ModuloHash',
  'IpHash',
  'ipKey',
  'Maglev',
  'JumpHash',
  'jumpConsistentHash',
  'withRetry',
  'RetryError',
  'RetryBudget',
  'HealthChecker',
  'PeakEwma',
  'LeastTime',
  'Hcl',
  'LoadwiseError',
  'NoTargetError',
  'InvalidWeightError',
  'InvalidIdError',
  'InvalidTargetError',
  'DuplicateIdError',
  'UnknownIdError',
  'InvalidOptionError',
  'InvalidOutcomeError',
  'createRandom',
]);

/** Exported limits and defaults, checked by value. */
const CONSTANTS: Record<string, number> = {
  DEFAULT_POINTS_PER_WEIGHT: 1600,
  MAX_RING_POINTS: 4194304,
  MAGLEV_DEFAULT_TABLE_SIZE: 65537,
  MAGLEV_MAX_TABLE_SIZE: 16777213,
  JUMP_HASH_MAX_WEIGHT: 1000,
  MIN_WEIGHT: 1e-9,
  MAX_WEIGHT: 1e9,
};
for (const n of Object.keys(CONSTANTS)) COVERED.add(n);

function exportsCovered(): void {
  check('every runtime export of src/index.ts is covered by this suite', () => {
    const names = Object.keys(loadwise).sort();
    const uncovered = names.filter((n) => !COVERED.has(n));
    const missing = [...COVERED].filter((n) => !names.includes(n));
    if (missing.length > 0) fail(`expected exports are missing: ${missing.join(', ')}`);
    if (uncovered.length > 0) fail(`exports without runtime checks (add them to test/runtimes/runtime-suite.ts): ${uncovered.join(', ')}`);
    for (const n of names) {
      const v = (loadwise as Record<string, unknown>)[n];
      if (n in CONSTANTS) equal(v, CONSTANTS[n], `constant ${n}`);
      else assert(typeof v === 'function', `export ${n} is a ${typeof v}, expected a class or function`);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// loadwise/fetch: the proxy and the client on this runtime's own Request, Response, Headers,
// streams and timers; and, on Deno and Bun, through real loopback servers and this runtime's
// fetch (whose network errors must be classified: a refused POST moves on, a sent one does not).

interface ServeLike {
  readonly port: number;
  stop(): Promise<void>;
}

/** A loopback server on this runtime (Deno.serve, Bun.serve); undefined on Node (vitest covers it). */
async function serveHere(handler: (req: Request) => Response | Promise<Response>): Promise<ServeLike | undefined> {
  const g = globalThis as {
    Deno?: { serve?: (o: { port: number; hostname: string; onListen?: () => void }, h: typeof handler) => { addr: { port: number }; shutdown(): Promise<void> } };
    Bun?: { serve?: (o: { port: number; hostname: string; fetch: typeof handler }) => { port: number; stop(force?: boolean): void } };
  };
  if (g.Deno?.serve !== undefined) {
    const s = g.Deno.serve({ port: 0, hostname: '127.0.0.1', onListen: () => {} }, handler);
    return { port: s.addr.port, stop: () => s.shutdown() };
  }
  if (g.Bun?.serve !== undefined) {
    const s = g.Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: handler });
    return { port: s.port, stop: async () => s.stop(true) };
  }
  return undefined;
}

async function httpLayer(): Promise<void> {
  type U = { id: string; url: string };
  const seen: { url: string; headers: Record<string, string>; body: string }[] = [];
  const upstream: UpstreamFetch = async (url, init) => {
    // A refused connection: the body is never read, so even a streamed one can go elsewhere.
    if (url.includes('//a.test')) throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
    const body = init.body === null ? '' : await new Response(init.body as ConstructorParameters<typeof Response>[0]).text();
    const headers: Record<string, string> = {};
    init.headers.forEach((v, k) => (headers[k] = v));
    seen.push({ url, headers, body });
    if (url.includes('/freeze')) {
      return new Promise((_, reject) => init.signal.addEventListener('abort', () => reject(init.signal.reason), { once: true }));
    }
    let n = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (n++ < 3) c.enqueue(new TextEncoder().encode(`part${n};`));
        else c.close();
      },
    });
    return new Response(stream, { status: 200, headers: { 'x-from': url, connection: 'x-drop', 'x-drop': '1' } });
  };
  const lb = new RoundRobin<U>(
    [
      { id: 'a', url: 'http://a.test/base' },
      { id: 'b', url: 'http://b.test/base' },
    ],
    { seed: 1 },
  );
  const proxy = createProxy({ balancer: lb, fetch: upstream, tryTimeoutMs: 50 });
  const big = 'z'.repeat(1_100_000);
  const results: { status: number; text: string; drop: string | null; activeBefore: number }[] = [];
  for (const [path, method, body] of [
    ['/p?q=1', 'POST', 'hello'],
    ['/p?q=2', 'GET', null],
    ['/big', 'PUT', big],
  ] as const) {
    const res = (await proxy(
      new Request(`http://proxy.test${path}`, { method, body, headers: { 'x-forwarded-for': '6.6.6.6', te: 'trailers' } }),
      { clientAddress: '192.0.2.1' },
    )) as Response;
    const activeBefore = lb.stats().reduce((n, s) => n + s.active, 0);
    results.push({ status: res.status, text: await res.text(), drop: res.headers.get('x-drop'), activeBefore });
  }
  check('loadwise/fetch: createProxy moves a refused try on, streams both ways and releases leases after the body', () => {
    deepEqual(
      results.map((r) => [r.status, r.text, r.drop, r.activeBefore]),
      [
        [200, 'part1;part2;part3;', null, 1],
        [200, 'part1;part2;part3;', null, 1],
        [200, 'part1;part2;part3;', null, 1],
      ],
      'responses',
    );
    equal(lb.stats().reduce((n, s) => n + s.active, 0), 0, 'open leases');
    const b = seen.filter((s) => s.url.startsWith('http://b.test/'));
    deepEqual(
      b.map((s) => [s.url, s.body.length, s.headers['x-forwarded-for'], s.headers.te]),
      [
        ['http://b.test/base/p?q=1', 5, '192.0.2.1', undefined],
        ['http://b.test/base/p?q=2', 0, '192.0.2.1', undefined],
        ['http://b.test/base/big', big.length, '192.0.2.1', undefined],
      ],
      'upstream requests',
    );
  });
  const t0 = performance.now();
  const frozenRes = (await createProxy({ balancer: new RoundRobin<U>([{ id: 'f', url: 'http://f.test' }]), fetch: upstream, tryTimeoutMs: 50 })(
    new Request('http://proxy.test/freeze'),
  )) as Response;
  const frozenMs = performance.now() - t0;
  check('loadwise/fetch: a frozen try is cut at tryTimeoutMs and answered 504', () => {
    equal(frozenRes.status, 504, 'status');
    assert(frozenMs < 1_000, `took ${frozenMs} ms`);
  });
  const api = balancedFetch(new RoundRobin<U>([{ id: 'b', url: 'http://b.test/api' }]), { fetch: upstream });
  const clientText = await (await api('/v1/users?x=1')).text();
  check('loadwise/fetch: balancedFetch resolves a relative path against the target', () => {
    equal(clientText, 'part1;part2;part3;', 'body');
    equal(seen[seen.length - 1]!.url, 'http://b.test/api/v1/users?x=1', 'url');
  });

  // Real loopback servers and this runtime's own fetch (Deno and Bun only).
  const live = await serveHere(async (req) => new Response(`live ${req.method} ${await req.text()} ${req.headers.get('x-forwarded-for')}`));
  if (live === undefined) return;
  const gone = await serveHere(() => new Response('gone'));
  const deadPort = gone!.port;
  await gone!.stop();
  const broken = await serveHere(async () => {
    throw new Error('backend bug');
  });
  try {
    const real = new RoundRobin<U>(
      [
        { id: 'dead', url: `http://127.0.0.1:${deadPort}` },
        { id: 'live', url: `http://127.0.0.1:${live.port}` },
      ],
      { seed: 1 },
    );
    const realProxy = createProxy({ balancer: real });
    const got: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = (await realProxy(new Request('http://proxy.test/x', { method: 'POST', body: `b${i}` }))) as Response;
      got.push(`${res.status} ${await res.text()}`);
    }
    check("loadwise/fetch: this runtime's refused connection counts as never sent, so a POST moves on", () => {
      deepEqual(got, ['200 live POST b0 null', '200 live POST b1 null', '200 live POST b2 null', '200 live POST b3 null'], 'responses');
      assert(real.stats().find((s) => s.id === 'dead')!.failures > 0, 'the dead target was never tried');
    });
    const status = ((await createProxy({ balancer: new RoundRobin<U>([{ id: 'd', url: `http://127.0.0.1:${deadPort}` }]) })(new Request('http://proxy.test/'))) as Response)
      .status;
    check('loadwise/fetch: a refused connection with nothing else to try is answered 502', () => equal(status, 502, 'status'));
    // The proxy served directly by this runtime's server: Deno.serve(proxy) / Bun.serve({ fetch: proxy }),
    // which must find the client address in Deno's handler info or Bun's server by itself.
    const front = await serveHere(realProxy as (req: Request) => Promise<Response>);
    try {
      const viaFront = await (await fetch(`http://127.0.0.1:${front!.port}/y`, { method: 'POST', body: 'f' })).text();
      check('loadwise/fetch: served as the runtime\'s own handler, the proxy forwards the client address', () =>
        equal(viaFront, 'live POST f 127.0.0.1', 'response'),
      );
    } finally {
      await front?.stop();
    }
    void broken;
  } finally {
    await live.stop();
    await broken?.stop();
  }
}

// ---------------------------------------------------------------------------------------------

console.log(`# loadwise runtime suite on ${runtimeName()}`);
exportsCovered();
for (const s of SUBJECTS) conformance(s);
algorithms();
await nginxParity();
hashGolden();
await nginxHashParity();
await resilience();
simulatorDeterminism();
await latencyAware();
await httpLayer();
console.log(`${passed} passed, ${failed} failed`);

if (failed > 0) {
  if (runtime.Deno !== undefined) runtime.Deno.exitCode = 1;
  if (runtime.process !== undefined) runtime.process.exitCode = 1;
  else if (runtime.Deno === undefined) throw new Error(`${failed} checks failed`);
}
