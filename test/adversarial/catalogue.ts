/**
 * The bad-input catalogue: every public entry point × every kind of bad input we could think of,
 * applied to every balancer variant. Built deterministically, so the test file (which only needs
 * the case ids) and the worker (which runs them) build the same list.
 */
import {
  HealthChecker,
  LoadwiseError,
  RetryBudget,
  withRetry,
  type Balancer,
  type HealthTimers,
  type Hcl,
  type Lease,
  type Rendezvous,
  type Target,
} from '../../src/index.js';
import { makeCase, type Case, type Ctx, type Kind } from './harness.js';
import {
  BAD_IDS,
  BAD_WEIGHTS,
  ODD_CLOCKS,
  ODD_IDS,
  ODD_RANDOMS,
  ODD_VALID_WEIGHTS,
  deepFreeze,
  flippingArray,
  generate,
  getTrapFor,
  holey,
  lyingLength,
  mutatingArray,
  revoked,
  sparse,
  subclassArray,
  throwingElement,
  throwingGetters,
  trapProxy,
  unstableIdTarget,
  type Make,
} from './hostile.js';
import { Boom, PASSIVE, VARIANTS, baseTargets, classify, errorText, keyOf, safeId, twinOptions, userValue, type Variant } from './twins.js';

// ── helpers ─────────────────────────────────────────────────────────────────────────────────

/** Builds the twin with `targets` and the variant's options plus `extra`. */
function construct(c: Ctx, targets: unknown, extra?: Readonly<Record<string, unknown>>): Balancer<Target> {
  const lb = new c.v.Ctor(targets as Target[], twinOptions(c.v, c.env, extra));
  c.lb = lb;
  c.env.lb = lb;
  return lb;
}

/** Builds the twin with `options` as given (nothing merged in). */
function constructWith(c: Ctx, options: unknown): Balancer<Target> {
  const lb = new c.v.Ctor(baseTargets(), options as object);
  c.lb = lb;
  c.env.lb = lb;
  return lb;
}

const key = (i = 0): string => keyOf(i);
const allIds = (): string[] => ['a', 'b', 'c', 'd', 'e'];
const only =
  (...classes: string[]) =>
  (v: Variant): boolean =>
    classes.includes(v.cls);

const kinds: Kind[] = [];
function kind(k: Kind): void {
  kinds.push(k);
}

// ── targets: shapes of one target ───────────────────────────────────────────────────────────

interface Shape {
  readonly name: string;
  readonly make: Make;
  readonly flags?: Kind['flags'];
  /** A documented-invalid target: every entry must reject it with a coded error. */
  readonly invalid?: boolean;
}

const shapes: Shape[] = [
  ...ODD_IDS.map(([name, id]): Shape => ({ name: `id ${name}`, make: () => id })),
  ...ODD_IDS.slice(0, 8).map(([name, id]): Shape => ({ name: `{ id: ${name} }`, make: () => ({ id, weight: 2 }) })),
  ...BAD_IDS.map(([name, make]): Shape => ({ name: `bad target ${name}`, make, invalid: !name.includes('revoked') && !name.includes('throwing') })),
  ...BAD_IDS.map(([name, make]): Shape => ({ name: `{ id: ${name} }`, make: () => ({ id: make() }), invalid: true })),
  { name: 'frozen object', make: () => deepFreeze({ id: 'x', weight: 2, backup: false, maxActive: 5 }) },
  { name: 'null-prototype object', make: () => Object.assign(Object.create(null) as object, { id: 'x', weight: 2 }) },
  { name: 'inherited id', make: () => Object.create({ id: 'x', weight: 2 }) as object },
  {
    name: 'class with id getter',
    make: () =>
      new (class {
        get id(): string {
          return 'x';
        }
      })(),
  },
  { name: 'id getter throws', make: () => throwingGetters({}, 'id') },
  { name: 'weight getter throws', make: () => throwingGetters({ id: 'x' }, 'weight') },
  { name: 'backup getter throws', make: () => throwingGetters({ id: 'x' }, 'backup') },
  { name: 'maxActive getter throws', make: () => throwingGetters({ id: 'x' }, 'maxActive') },
  { name: 'proxy: every trap throws', make: () => trapProxy({ id: 'x' }, ['get', 'has', 'ownKeys', 'getOwnPropertyDescriptor', 'getPrototypeOf']) },
  { name: 'proxy: ownKeys and has throw', make: () => trapProxy({ id: 'x', weight: 2 }, ['ownKeys', 'has', 'getOwnPropertyDescriptor']) },
  { name: 'proxy: set and defineProperty throw', make: () => trapProxy({ id: 'x', weight: 2 }, ['set', 'defineProperty']) },
  { name: 'revoked proxy', make: () => revoked({ id: 'x' }) },
  { name: 'id answers differently per read', make: unstableIdTarget, flags: { unstableIds: true } },
  { name: 'own __proto__ property (JSON)', make: () => JSON.parse('{"id":"x","__proto__":{"weight":1e308}}') as object },
  { name: 'toJSON and toString throw', make: () => throwingGetters({ id: 'x' }, 'toJSON', 'toString', 'valueOf') },
  { name: 'array with id property', make: () => Object.assign(['y'], { id: 'x' }), invalid: true },
  { name: 'function with id property', make: () => Object.assign(() => 'x', { id: 'x' }), invalid: true },
  { name: "backup: 'yes'", make: () => ({ id: 'x', backup: 'yes' }), invalid: true },
  { name: 'backup: 1', make: () => ({ id: 'x', backup: 1 }), invalid: true },
  { name: 'backup: null', make: () => ({ id: 'x', backup: null }), invalid: true },
  { name: 'backup: boxed Boolean', make: () => ({ id: 'x', backup: new Boolean(false) }), invalid: true },
  { name: 'backup: true (valid)', make: () => ({ id: 'x', backup: true }) },
  ...(
    [
      ['0', 0],
      ['-1', -1],
      ['1.5', 1.5],
      ['NaN', Number.NaN],
      ['Infinity', Number.POSITIVE_INFINITY],
      ["'2'", '2'],
      ['boxed Number(2)', new Number(2)],
      ['null', null],
    ] as [string, unknown][]
  ).map(([name, m]): Shape => ({ name: `maxActive: ${name}`, make: () => ({ id: 'x', maxActive: m }), invalid: true })),
  { name: 'maxActive: 1 (valid)', make: () => ({ id: 'x', maxActive: 1 }) },
  { name: 'maxActive: 2^53 (valid)', make: () => ({ id: 'x', maxActive: 2 ** 53 }) },
  { name: 'maxActive: 1e308 (valid)', make: () => ({ id: 'x', maxActive: 1e308 }) },
  { name: 'duplicate of an existing id', make: () => ({ id: 'a' }), invalid: true },
];

for (const s of shapes) {
  const base: Pick<Kind, 'flags'> = s.flags === undefined ? {} : { flags: s.flags };
  const expect: Pick<Kind, 'expect'> = s.invalid === true ? { expect: 'coded' } : {};
  kind({ ...base, ...expect, entry: 'ctor.targets', kind: `target ${s.name}`, ctor: true, act: (c) => construct(c, [...baseTargets(), s.make()]) });
  kind({ ...base, ...expect, entry: 'add', kind: `target ${s.name}`, act: (c) => c.lb.add(s.make() as Target) });
  kind({
    ...base,
    ...expect,
    entry: 'setTargets',
    kind: `target ${s.name}`,
    act: (c) => c.lb.setTargets([...baseTargets(), s.make()] as Target[]),
  });
}

// ── targets: weights ────────────────────────────────────────────────────────────────────────

// Valid but extreme weights reach every algorithm's tables: all variants for two entries.
for (const [name, w] of ODD_VALID_WEIGHTS) {
  // A ring's size grows with the weights (up to MAX_RING_POINTS, 4M points, ~0.5 s a build;
  // nginx's 160 points per unit of weight): big weights there are slow, not wrong, and are
  // left to the ring's own tests; the rest of the catalogue must stay fast on a loaded machine.
  const ringOk = (v: Variant): boolean => !(v.cls === 'ConsistentHash' && (v.name === 'ConsistentHash' ? w > 1e4 : w > 1e3));
  kind({ entry: 'ctor.targets', kind: `weight ${name}`, spread: 1, applies: ringOk, ctor: true, act: (c) => construct(c, [...baseTargets(), { id: 'x', weight: w }]) });
  kind({ entry: 'add', kind: `weight ${name}`, spread: 3, applies: ringOk, act: (c) => c.lb.add({ id: 'x', weight: w }) });
  kind({ entry: 'setTargets', kind: `weight ${name}`, spread: 3, applies: ringOk, act: (c) => c.lb.setTargets([{ id: 'a', weight: w }, ...baseTargets().slice(1)]) });
  kind({ entry: 'setWeight', kind: `weight ${name}`, spread: 1, applies: ringOk, act: (c) => c.lb.setWeight('a', w) });
}
for (const [name, make] of BAD_WEIGHTS) {
  const expect = name.includes('revoked') ? {} : { expect: 'coded' as const };
  kind({ ...expect, entry: 'ctor.targets', kind: `weight ${name}`, ctor: true, act: (c) => construct(c, [...baseTargets(), { id: 'x', weight: make() }]) });
  kind({ ...expect, entry: 'add', kind: `weight ${name}`, act: (c) => c.lb.add({ id: 'x', weight: make() } as Target) });
  kind({ ...expect, entry: 'setTargets', kind: `weight ${name}`, act: (c) => c.lb.setTargets([...baseTargets(), { id: 'x', weight: make() }] as Target[]) });
  kind({ ...expect, entry: 'setWeight', kind: `weight ${name}`, act: (c) => c.lb.setWeight('a', make() as number) });
}
const weightMixes: [string, () => Target[]][] = [
  ['two MAX_VALUE weights', () => [{ id: 'x', weight: Number.MAX_VALUE }, { id: 'y', weight: Number.MAX_VALUE }, 'z']],
  ['denormal next to MAX_VALUE', () => [{ id: 'x', weight: 1e-320 }, { id: 'y', weight: Number.MAX_VALUE }]],
  ['1e300 × 3', () => [{ id: 'x', weight: 1e300 }, { id: 'y', weight: 1e300 }, { id: 'z', weight: 1e300 }]],
  ['weights 1 and 2^53', () => [{ id: 'x', weight: 1 }, { id: 'y', weight: 2 ** 53 }]],
  ['all denormal', () => [{ id: 'x', weight: 5e-324 }, { id: 'y', weight: 5e-324 }]],
  ['1000 targets', () => Array.from({ length: 1000 }, (_, i) => ({ id: `t${i}`, weight: 1 + (i % 3) }))],
];
for (const [name, make] of weightMixes) {
  const spread = name.includes('1000') ? 4 : 1;
  kind({ entry: 'ctor.targets', kind: `mix: ${name}`, spread, ctor: true, act: (c) => construct(c, make()) });
  kind({ entry: 'setTargets', kind: `mix: ${name}`, spread: 2 * spread, act: (c) => c.lb.setTargets(make()) });
}
kind({
  entry: 'setWeight',
  kind: 'MAX_VALUE on every target',
  spread: 1,
  act: (c) => {
    for (const id of allIds()) c.lb.setWeight(id, Number.MAX_VALUE);
  },
  atomic: false,
});
for (const [name, make] of BAD_IDS) {
  const userish = name.includes('revoked') || name.includes('throwing');
  kind({ entry: 'setWeight', kind: `id ${name}`, ...(userish ? {} : { expect: 'coded' as const }), act: (c) => c.lb.setWeight(make() as string, 2) });
}
for (const [name, id] of ODD_IDS.slice(0, 8)) {
  kind({ entry: 'setWeight', kind: `unknown id ${name}`, expect: 'coded', act: (c) => c.lb.setWeight(id, 2) });
}
kind({ entry: 'setWeight', kind: 'on the backup', act: (c) => c.lb.setWeight('e', 5) });

// ── the targets argument: odd iterables ─────────────────────────────────────────────────────

const iterables: [string, () => unknown, boolean][] = [
  ['array with a hole', () => holey(baseTargets(), 1), true],
  ['sparse array (length 100,000)', () => sparse(100_000, baseTargets()), true],
  ['array-like object', () => ({ length: 2, 0: 'a', 1: 'b' }), true],
  ['generator', () => generate(baseTargets()), true],
  ['Set', () => new Set(baseTargets()), true],
  ['Map', () => new Map([['a', 'a']]), true],
  ["string 'abc'", () => 'abc', true],
  ['Uint8Array', () => new Uint8Array(3), true],
  ['Array subclass', () => subclassArray(baseTargets()), false],
  ['frozen array of frozen targets', () => deepFreeze(baseTargets()), false],
  ['array whose [1] getter replaces [0]', () => mutatingArray(baseTargets(), 1, 'b', 0, { id: 'zz' }), false],
  ['array whose [0] flips between two targets', () => flippingArray(baseTargets(), 0, { id: 'a', weight: 3 }, { id: 'q' }), false],
  ['array whose [2] getter throws', () => throwingElement(baseTargets(), 2), false],
  ['array proxy: get throws', () => trapProxy(baseTargets(), ['get']), false],
  ['array proxy: get of [1] throws', () => getTrapFor(baseTargets(), ['1']), false],
  ['array proxy: ownKeys/has throw', () => trapProxy(baseTargets(), ['ownKeys', 'has', 'getOwnPropertyDescriptor']), false],
  ['array proxy lying length 10,000', () => lyingLength(baseTargets(), 10_000), true],
  ['revoked proxy', () => revoked([]), false],
  ['null', () => null, true],
  ['undefined', () => undefined, true],
  ['number 5', () => 5, true],
  ['object {}', () => ({}), true],
  ['empty array', () => [], false],
  ['array with a length getter-less extension', () => Object.assign(baseTargets(), { extra: 1, '-1': 'z' }), false],
];
for (const [name, make, invalid] of iterables) {
  const expect = invalid ? { expect: 'coded' as const } : {};
  kind({ ...expect, entry: 'ctor.targets', kind: `targets: ${name}`, ctor: true, act: (c) => construct(c, make()) });
  kind({ ...expect, entry: 'setTargets', kind: `targets: ${name}`, act: (c) => c.lb.setTargets(make() as Target[]) });
}
kind({ entry: 'setTargets', kind: 'the very array twice', act: (c) => {
  const ts = baseTargets();
  c.lb.setTargets(ts);
  c.lb.setTargets(ts);
} });
kind({ entry: 'setTargets', kind: 'array mutated after the call', act: (c) => {
  const ts = baseTargets();
  c.lb.setTargets(ts);
  ts.length = 0;
  ts.push('zz');
} });
kind({ entry: 'setTargets', kind: 'the array targets() returned, mutated', act: (c) => {
  const ts = c.lb.targets() as Target[];
  try {
    (ts as Target[]).push('zz');
  } catch {
    // frozen: fine
  }
} });
kind({ entry: 'setTargets', kind: 'duplicate ids', expect: 'coded', act: (c) => c.lb.setTargets(['x', { id: 'x' }]) });
kind({ entry: 'setTargets', kind: 'only backups', act: (c) => c.lb.setTargets([{ id: 'x', backup: true }, { id: 'y', backup: true }]) });

// ── ids for markDown, markUp, remove, reportHealth ──────────────────────────────────────────

const idEntries: [string, (lb: Balancer<Target>, id: unknown) => unknown, boolean][] = [
  ['markDown', (lb, id) => lb.markDown(id as string), true],
  ['markUp', (lb, id) => lb.markUp(id as string), true],
  ['remove', (lb, id) => lb.remove(id as string), false],
  ['reportHealth', (lb, id) => lb.reportHealth(id as string, false), true],
];
for (const [entry, call, unknownThrows] of idEntries) {
  for (const [name, make] of BAD_IDS) {
    const userish = name.includes('revoked') || name.includes('throwing');
    kind({ entry, kind: `id ${name}`, ...(userish ? {} : { expect: 'coded' as const }), act: (c) => call(c.lb, make()) });
  }
  for (const [name, id] of ODD_IDS) {
    kind({ entry, kind: `unknown id ${name}`, ...(unknownThrows ? { expect: 'coded' as const } : {}), act: (c) => call(c.lb, id) });
  }
}
for (const [name, id] of ODD_IDS.slice(0, 10)) {
  kind({
    entry: 'markDown',
    kind: `member with id ${name}: down, up, remove`,
    flags: { allowStuck: true },
    act: (c) => {
      c.lb.add(id);
      c.lb.markDown(id);
      c.lb.markUp(id);
      c.lb.markDown('a');
      return c.lb.remove(id);
    },
    atomic: false,
  });
}
kind({ entry: 'markDown', kind: 'every target', flags: { allowStuck: true }, act: (c) => allIds().forEach((id) => c.lb.markDown(id)) });
kind({ entry: 'markDown', kind: 'twice, then up once', act: (c) => {
  c.lb.markDown('a');
  c.lb.markDown('a');
  c.lb.markUp('a');
} });
kind({ entry: 'markUp', kind: 'a target never down', act: (c) => c.lb.markUp('b') });
kind({ entry: 'remove', kind: 'every target, then add one back', act: (c) => {
  for (const id of allIds()) c.lb.remove(id);
  c.lb.add('a');
} });
kind({ entry: 'remove', kind: 'twice', act: (c) => [c.lb.remove('b'), c.lb.remove('b')] });
// nginx's single-server rule, as the docs state it: a lone target's failures are counted, but it
// never leaves rotation, however it became alone and however often it fails.
for (const [how, alone] of [
  ['remove all but one', (lb: Balancer<Target>) => ['b', 'c', 'd', 'e'].forEach((id) => lb.remove(id))],
  ['setTargets([one])', (lb: Balancer<Target>) => lb.setTargets(['a'])],
] as [string, (lb: Balancer<Target>) => void][]) {
  kind({
    entry: 'remove',
    kind: `a lone target (${how}) never leaves rotation under passive counting`,
    spread: 1,
    applies: (v) => v.options.passive !== undefined,
    act: (c) => {
      const lb = c.lb;
      // a fails often enough to be out (maxFails 2) before it is left alone.
      for (let i = 0; i < PASSIVE.maxFails; i++) lb.acquire({ key: key(i), exclude: ['b', 'c', 'd', 'e'] }).release('failure');
      alone(lb);
      for (let i = 0; i < 6; i++) {
        c.env.time += 5;
        try {
          lb.acquire(key(i)).release('failure');
        } catch (err) {
          c.problems.push(`the lone target left rotation after ${i} failures: ${classify(err).kind === 'coded' ? (err as LoadwiseError).code : String(err)}`);
          return;
        }
      }
    },
  });
}
for (const [name, healthy] of [
  ["'false' (string)", 'false'],
  ['0', 0],
  ['null', null],
  ['undefined', undefined],
  ['{}', {}],
  ['boxed Boolean(false)', new Boolean(false)],
  ['NaN', Number.NaN],
] as [string, unknown][]) {
  kind({ entry: 'reportHealth', kind: `healthy = ${name}`, flags: { allowStuck: true }, act: (c) => c.lb.reportHealth('a', healthy as boolean) });
}
kind({ entry: 'reportHealth', kind: 'unhealthy then healthy', act: (c) => {
  c.lb.reportHealth('b', false);
  c.lb.reportHealth('b', true);
} });
kind({ entry: 'reportHealth', kind: 'all unhealthy', flags: { allowStuck: true }, act: (c) => allIds().forEach((id) => c.lb.reportHealth(id, false)) });

// ── pick / acquire inputs ───────────────────────────────────────────────────────────────────

interface Input {
  readonly name: string;
  readonly make: () => unknown;
  /** Must be rejected with a coded error (for every balancer). */
  readonly invalid?: boolean;
  /** Must be rejected by the hash family (no key). */
  readonly noKey?: boolean;
}

const inputs: Input[] = [
  { name: 'null', make: () => null, invalid: true },
  { name: '0', make: () => 0, invalid: true },
  { name: 'true', make: () => true, invalid: true },
  { name: '[]', make: () => [], noKey: true },
  { name: "['a']", make: () => ['a'], noKey: true },
  { name: 'function', make: () => () => 'k', invalid: true },
  { name: 'Symbol', make: () => Symbol('k'), invalid: true },
  { name: '1n', make: () => 1n, invalid: true },
  { name: "boxed String('k')", make: () => new String('k'), noKey: true },
  { name: '{}', make: () => ({}), noKey: true },
  { name: 'undefined', make: () => undefined, noKey: true },
  { name: '{ key: 5 }', make: () => ({ key: 5 }), invalid: true },
  { name: '{ key: null }', make: () => ({ key: null }), invalid: true },
  { name: '{ key: boxed String }', make: () => ({ key: new String('k') }), invalid: true },
  { name: '{ key: Symbol }', make: () => ({ key: Symbol('k') }), invalid: true },
  { name: "{ key: '' }", make: () => ({ key: '' }) },
  { name: 'key lone surrogate', make: () => ({ key: '\uD800' }) },
  { name: 'key reversed surrogates', make: () => ({ key: '\uDFFF\uD800x' }) },
  { name: 'key NUL', make: () => ({ key: '\u0000' }) },
  { name: 'key 1,000,000 chars', make: () => ({ key: 'k'.repeat(1_000_000) }) },
  { name: 'key __proto__', make: () => ({ key: '__proto__' }) },
  { name: 'key constructor', make: () => ({ key: 'constructor' }) },
  { name: "key 'not an ip'", make: () => ({ key: 'not an ip' }) },
  { name: "key '::ffff:1.2.3.4'", make: () => ({ key: '::ffff:1.2.3.4' }) },
  { name: "key '999.1.1.1'", make: () => ({ key: '999.1.1.1' }) },
  { name: "key 'fe80::1%eth0'", make: () => ({ key: 'fe80::1%eth0' }) },
  { name: 'bare string key __proto__', make: () => '__proto__' },
  { name: "bare string ''", make: () => '' },
  { name: 'frozen request', make: () => deepFreeze({ key: key(), exclude: ['a'] }) },
  { name: 'null-prototype request', make: () => Object.assign(Object.create(null) as object, { key: key(), exclude: ['b'] }) },
  { name: 'key getter throws', make: () => throwingGetters({}, 'key') },
  { name: 'exclude getter throws', make: () => throwingGetters({ key: key() }, 'exclude') },
  { name: 'proxy request: every trap throws', make: () => trapProxy({ key: key() }, ['get', 'has', 'ownKeys', 'getOwnPropertyDescriptor']) },
  { name: 'revoked proxy request', make: () => revoked({ key: key() }) },
  { name: "exclude 'a' (a string)", make: () => ({ key: key(), exclude: 'a' }), invalid: true },
  { name: 'exclude Set', make: () => ({ key: key(), exclude: new Set(['a']) }), invalid: true },
  { name: 'exclude array-like', make: () => ({ key: key(), exclude: { length: 1, 0: 'a' } }), invalid: true },
  { name: 'exclude null', make: () => ({ key: key(), exclude: null }), invalid: true },
  { name: 'exclude generator', make: () => ({ key: key(), exclude: generate(['a']) }), invalid: true },
  { name: 'exclude non-strings', make: () => ({ key: key(), exclude: [1, null, {}, Symbol('a'), ['a'], new String('a')] }) },
  { name: 'exclude with a hole', make: () => ({ key: key(), exclude: holey(['a', 'b', 'c'], 1) }) },
  { name: 'exclude sparse (length 100,000)', make: () => ({ key: key(), exclude: sparse(100_000, ['a', 'b']) }) },
  { name: 'exclude every id', make: () => ({ key: key(), exclude: allIds() }) },
  { name: 'exclude every id, twice each', make: () => ({ key: key(), exclude: [...allIds(), ...allIds()] }) },
  { name: 'exclude every primary', make: () => ({ key: key(), exclude: ['a', 'b', 'c', 'd'] }) },
  { name: 'exclude unknown ids', make: () => ({ key: key(), exclude: ['zz', '__proto__', 'constructor', '\uD800', ''] }) },
  { name: 'exclude 10,000 ids', make: () => ({ key: key(), exclude: Array.from({ length: 10_000 }, (_, i) => `n${i}`).concat('a') }) },
  { name: 'exclude frozen', make: () => ({ key: key(), exclude: Object.freeze(['a', 'c']) }) },
  { name: 'exclude Array subclass', make: () => ({ key: key(), exclude: subclassArray(['a']) }) },
  { name: 'exclude [1] getter throws', make: () => ({ key: key(), exclude: throwingElement(['a', 'b', 'c'], 1) }) },
  { name: 'exclude [2] getter throws after all ids', make: () => ({ key: key(), exclude: throwingElement(['a', 'b', 'x', 'd', 'e'], 2) }) },
  { name: 'exclude [1] getter replaces [0]', make: () => ({ key: key(), exclude: mutatingArray(['a', 'b', 'c'], 1, 'b', 0, 'zz') }) },
  { name: 'exclude [0] flips id per read', make: () => ({ key: key(), exclude: flippingArray(['a', 'b'], 0, 'a', 'c') }) },
  { name: 'exclude proxy: get of [1] throws', make: () => ({ key: key(), exclude: getTrapFor(['a', 'b', 'c'], ['1']) }) },
  { name: 'exclude proxy: length throws', make: () => ({ key: key(), exclude: getTrapFor(['a', 'b'], ['length']) }) },
  { name: 'exclude proxy lying length 10,000', make: () => ({ key: key(), exclude: lyingLength(['a', 'b'], 10_000) }) },
  { name: 'exclude revoked proxy', make: () => ({ key: key(), exclude: revoked([]) }) },
];

for (const inp of inputs) {
  for (const entry of ['pick', 'acquire'] as const) {
    const call = (c: Ctx): unknown => {
      if (entry === 'pick') return c.lb.pick(inp.make() as string);
      const l = c.lb.acquire(inp.make() as string);
      c.env.leases.push(l);
      return l;
    };
    kind({
      entry,
      kind: `input ${inp.name}`,
      // A rejected input must change nothing in any class (some rebuild lazily, reading the
      // clock): every variant meets those; the rest one in three.
      spread: inp.invalid === true || inp.noKey === true ? 1 : 3,
      expect: (v) => inp.invalid === true || (inp.noKey === true && v.hash),
      act: call,
      check: (c, value) => {
        const t = entry === 'pick' ? value : (value as Lease<Target>).target;
        if (!c.lb.targets().includes(t as Target)) throw new Error(`picked a non-member ${String(safeId(t))}`);
      },
    });
  }
}
kind({ entry: 'pick', kind: 'every target at maxActive or down', flags: { allowStuck: true }, act: (c) => {
  c.lb.markDown('a');
  c.lb.markDown('b');
  c.lb.markDown('d');
  c.lb.markDown('e');
  for (let i = 0; i < 2; i++) c.env.leases.push(c.lb.acquire(key(i)));
  return c.lb.pick(key());
}, atomic: false });

// ── release outcomes ────────────────────────────────────────────────────────────────────────

const outcomes: [string, () => unknown, boolean][] = [
  ["'ok'", () => 'ok', true],
  ["'SUCCESS'", () => 'SUCCESS', true],
  ["''", () => '', true],
  ['null', () => null, true],
  ['0', () => 0, true],
  ['1', () => 1, true],
  ['true', () => true, true],
  ['false', () => false, true],
  ['NaN', () => Number.NaN, true],
  ['[]', () => [], true],
  ['Symbol', () => Symbol('o'), true],
  ['1n', () => 1n, true],
  ['function', () => () => 'success', true],
  ["boxed String('success')", () => new String('success'), true],
  ["{ ok: 'yes' }", () => ({ ok: 'yes' }), true],
  ['{ ok: 1 }', () => ({ ok: 1 }), true],
  ['{}', () => ({}), true],
  ['{ ok: boxed true }', () => ({ ok: new Boolean(true) }), true],
  ['latencyMs -1', () => ({ ok: true, latencyMs: -1 }), true],
  ['latencyMs NaN', () => ({ ok: true, latencyMs: Number.NaN }), true],
  ['latencyMs Infinity', () => ({ ok: true, latencyMs: Number.POSITIVE_INFINITY }), true],
  ["latencyMs '5'", () => ({ ok: true, latencyMs: '5' }), true],
  ['latencyMs null', () => ({ ok: false, latencyMs: null }), true],
  ['latencyMs -MIN_VALUE', () => ({ ok: true, latencyMs: -Number.MIN_VALUE }), true],
  ['latencyMs 1.7e308', () => ({ ok: true, latencyMs: 1.7e308 }), false],
  ['latencyMs MAX_VALUE', () => ({ ok: false, latencyMs: Number.MAX_VALUE }), false],
  ['latencyMs -0', () => ({ ok: false, latencyMs: -0 }), false],
  ['latencyMs 5e-324', () => ({ ok: true, latencyMs: 5e-324 }), false],
  ['ok getter throws', () => throwingGetters({}, 'ok'), false],
  ['latencyMs getter throws', () => throwingGetters({ ok: false }, 'latencyMs'), false],
  ['proxy outcome: every trap throws', () => trapProxy({ ok: true }, ['get', 'has', 'ownKeys']), false],
  ['revoked proxy outcome', () => revoked({ ok: true }), false],
  ['frozen { ok: false, latencyMs: 3 }', () => deepFreeze({ ok: false, latencyMs: 3 }), false],
  ['inherited ok', () => Object.create({ ok: false }) as object, false],
];
for (const [name, make, invalid] of outcomes) {
  kind({
    entry: 'release',
    kind: `outcome ${name}`,
    ...(invalid ? { expect: 'coded' as const } : {}),
    setup: (c) => {
      c.env.leases.push(c.lb.acquire(key(3)));
    },
    act: (c) => {
      const l = c.env.leases[0]!;
      return l.release(make() as 'success');
    },
  });
}
// Two big latencies: the EWMA of huge numbers must stay finite.
kind({ entry: 'release', kind: 'two MAX_VALUE latencies', act: (c) => {
  for (let i = 0; i < 2; i++) c.lb.acquire(key(1)).release({ ok: true, latencyMs: Number.MAX_VALUE });
} });
const leaseLifecycles: [string, (c: Ctx, l: Lease<Target>) => unknown][] = [
  ['twice: success then failure', (_c, l) => [l.release('success'), l.release('failure')]],
  ['after its target was removed', (c, l) => {
    c.lb.remove(safeId(l.target)!);
    return l.release('failure');
  }],
  ['after remove and re-add of its id', (c, l) => {
    const id = safeId(l.target)!;
    c.lb.remove(id);
    c.lb.add(id);
    return l.release('failure');
  }],
  ['after setTargets without it', (c, l) => {
    const id = safeId(l.target)!;
    c.lb.setTargets(baseTargets().filter((t) => safeId(t) !== id));
    return l.release({ ok: false, latencyMs: 5 });
  }],
  ['after setTargets with it again', (c, l) => {
    c.lb.setTargets(baseTargets());
    return l.release('failure');
  }],
  ['after its target was marked down', (c, l) => {
    c.lb.markDown(safeId(l.target)!);
    return l.release('failure');
  }],
  ['after it became a backup', (c, l) => {
    const id = safeId(l.target)!;
    c.lb.setTargets(baseTargets().map((t) => (safeId(t) === id ? { id, backup: true } : t)));
    return l.release('failure');
  }],
  ['after its maxActive was lowered to 1', (c, l) => {
    const id = safeId(l.target)!;
    c.lb.setTargets(baseTargets().map((t) => (safeId(t) === id ? { id, maxActive: 1 } : t)));
    return l.release('success');
  }],
  ['from inside an event listener', (c, l) => {
    c.env.hook = () => void l.release('failure');
    c.lb.markDown('d');
    c.lb.markUp('d');
    return l.release('success');
  }],
];
for (const [name, run] of leaseLifecycles) {
  kind({
    entry: 'release',
    kind: name,
    flags: { allowStuck: true },
    setup: (c) => {
      c.env.leases.push(c.lb.acquire(key(5)));
      c.env.leases.push(c.lb.acquire(key(6)));
    },
    act: (c) => run(c, c.env.leases[0]!),
  });
}

// ── options common to every balancer ────────────────────────────────────────────────────────

const wholeOptions: [string, (c: Ctx) => unknown, boolean][] = [
  ['null', () => null, true],
  ["'x'", () => 'x', true],
  ['[]', () => [], true],
  ['5', () => 5, true],
  ['function', () => () => ({}), true],
  ['proxy: ownKeys throws', (c) => trapProxy(twinOptions(c.v, c.env), ['ownKeys']), false],
  ['proxy: get throws', (c) => trapProxy(twinOptions(c.v, c.env), ['get']), false],
  ['revoked proxy', () => revoked({}), false],
  ['frozen', (c) => Object.freeze(twinOptions(c.v, c.env)), false],
  ['null prototype', (c) => Object.assign(Object.create(null) as object, twinOptions(c.v, c.env)), false],
  ['unknown name (typo)', (c) => ({ ...twinOptions(c.v, c.env), sed: 1 }), true],
  ['unknown name __proto__ (own)', (c) => Object.assign(JSON.parse('{"__proto__":{"seed":1}}') as object, twinOptions(c.v, c.env)), true],
  ['symbol-keyed extra', (c) => ({ ...twinOptions(c.v, c.env), [Symbol('x')]: 1 }), false],
  ['seed getter throws', (c) => throwingGetters(twinOptions(c.v, c.env), 'seed'), false],
  ['now getter throws', (c) => throwingGetters(twinOptions(c.v, c.env), 'now'), false],
];
for (const [name, make, invalid] of wholeOptions) {
  kind({
    entry: 'ctor.options',
    kind: `options ${name}`,
    ctor: true,
    ...(invalid ? { expect: 'coded' as const } : {}),
    act: (c) => constructWith(c, make(c)),
  });
}
const optionValues: [string, string, unknown, boolean][] = [
  ['seed', 'NaN', Number.NaN, true],
  ['seed', 'Infinity', Number.POSITIVE_INFINITY, true],
  ['seed', '-Infinity', Number.NEGATIVE_INFINITY, true],
  ['seed', "'1'", '1', true],
  ['seed', 'null', null, true],
  ['seed', 'boxed Number(1)', new Number(1), true],
  ['seed', '1n', 1n, true],
  ['seed', '1.5', 1.5, false],
  ['seed', '-1', -1, false],
  ['seed', '-0', -0, false],
  ['seed', '2^64', 2 ** 64, false],
  ['seed', '-1e308', -1e308, false],
  ['random', "'x'", 'x', true],
  ['random', 'null', null, true],
  ['random', '{}', {}, true],
  ['now', "'x'", 'x', true],
  ['now', '5', 5, true],
  ['onEvent', "'x'", 'x', true],
  ['onEvent', '{}', {}, true],
  ['passive', "'yes'", 'yes', true],
  ['passive', '1', 1, true],
  ['passive', 'null', null, true],
  ['passive', '{ maxFails: 0 }', { maxFails: 0 }, true],
  ['passive', '{ maxFails: 1.5 }', { maxFails: 1.5 }, true],
  ['passive', '{ maxFails: NaN }', { maxFails: Number.NaN }, true],
  ['passive', '{ failTimeoutMs: -1 }', { failTimeoutMs: -1 }, true],
  ['passive', '{ failTimeoutMs: Infinity }', { failTimeoutMs: Number.POSITIVE_INFINITY }, true],
  ['passive', '{ fails: 1 } (typo)', { fails: 1 }, true],
  ['passive', '{ failTimeoutMs: 0 }', { failTimeoutMs: 0 }, false],
  ['passive', '{ failTimeoutMs: 1e308 }', { failTimeoutMs: 1e308 }, false],
  ['passive', '{ maxFails: 2^53 }', { maxFails: 2 ** 53 }, false],
  ['passive', 'true', true, false],
  ['passive', 'false', false, false],
  ['outlier', '{ consecutiveFailures: -1 }', { consecutiveFailures: -1 }, true],
  ['outlier', '{ consecutiveFailures: 1.5 }', { consecutiveFailures: 1.5 }, true],
  ['outlier', '{ intervalMs: NaN }', { intervalMs: Number.NaN }, true],
  ['outlier', '{ maxEjectionTimeMs: NaN }', { maxEjectionTimeMs: Number.NaN }, true],
  ['outlier', '{ maxEjectionPercent: 101 }', { maxEjectionPercent: 101 }, true],
  ['outlier', '{ maxEjectionPercent: -1 }', { maxEjectionPercent: -1 }, true],
  ['outlier', "{ successRate: 'x' }", { successRate: 'x' }, true],
  ['outlier', '{ successRate: { stdevFactor: -1 } }', { successRate: { stdevFactor: -1 } }, true],
  ['outlier', '{ failurePercentage: { threshold: 101 } }', { failurePercentage: { threshold: 101 } }, true],
  ['outlier', '{ successRate: { minimumHosts: 1.5 } }', { successRate: { minimumHosts: 1.5 } }, true],
  ['outlier', '{ consecutiveFailures: 1, baseEjectionTimeMs: 1e308 }', { consecutiveFailures: 1, baseEjectionTimeMs: 1e308 }, false],
  ['outlier', '{ consecutiveFailures: 1, baseEjectionTimeMs: 0 }', { consecutiveFailures: 1, baseEjectionTimeMs: 0 }, false],
  ['outlier', '{ consecutiveFailures: 0 }', { consecutiveFailures: 0 }, false],
  ['outlier', '{ maxEjectionPercent: 100, consecutiveFailures: 1 }', { maxEjectionPercent: 100, consecutiveFailures: 1, baseEjectionTimeMs: 10 }, false],
  ['outlier', 'success rate, interval 1 ms', { successRate: { minimumHosts: 0, requestVolume: 0, stdevFactor: 0 }, intervalMs: 1, baseEjectionTimeMs: 10 }, false],
  ['outlier', 'failure percentage 0, interval 1 ms', { failurePercentage: { threshold: 0, minimumHosts: 0, requestVolume: 0 }, intervalMs: 1, baseEjectionTimeMs: 10, maxEjectionPercent: 100 }, false],
  ['slowStart', 'true', true, true],
  ['slowStart', '{}', {}, true],
  ['slowStart', '{ windowMs: 0 }', { windowMs: 0 }, true],
  ['slowStart', '{ windowMs: NaN }', { windowMs: Number.NaN }, true],
  ['slowStart', '{ windowMs: 100, minWeightPercent: 0 }', { windowMs: 100, minWeightPercent: 0 }, true],
  ['slowStart', '{ windowMs: 100, aggression: 0 }', { windowMs: 100, aggression: 0 }, true],
  ['slowStart', '{ windowMs: 1e-300 }', { windowMs: 1e-300 }, false],
  ['slowStart', '{ windowMs: 1e308 }', { windowMs: 1e308 }, false],
  ['slowStart', '{ windowMs: 100, aggression: 1e-300 }', { windowMs: 100, aggression: 1e-300 }, false],
  ['slowStart', '{ windowMs: 100, aggression: 1e300 }', { windowMs: 100, aggression: 1e300 }, false],
  ['slowStart', '{ windowMs: 100, minWeightPercent: 1e-300 }', { windowMs: 100, minWeightPercent: 1e-300 }, false],
  ['panicThreshold', '-1', -1, true],
  ['panicThreshold', '101', 101, true],
  ['panicThreshold', 'NaN', Number.NaN, true],
  ['panicThreshold', "'50'", '50', true],
  ['panicThreshold', '0', 0, false],
  ['panicThreshold', '100', 100, false],
  ['panicThreshold', '1e-300', 1e-300, false],
  ['panicThreshold', 'true', true, false],
];
for (const [name, label, value, invalid] of optionValues) {
  kind({
    entry: 'ctor.options',
    kind: `${name}: ${label}`,
    ctor: true,
    // A window of 1e308 ms legitimately keeps targets out for good.
    flags: { allowStuck: label.includes('1e308') },
    ...(invalid ? { expect: 'coded' as const } : {}),
    act: (c) => construct(c, baseTargets(), { [name]: value }),
  });
}
for (const [name, make] of ODD_RANDOMS) {
  kind({ entry: 'ctor.options', kind: `random: ${name}`, spread: 1, ctor: true, act: (c) => construct(c, baseTargets(), { random: make() }) });
}
for (const [name, make] of ODD_CLOCKS) {
  kind({
    entry: 'ctor.options',
    kind: `now: ${name}`,
    spread: 1,
    ctor: true,
    flags: { allowStuck: true },
    act: (c) => construct(c, baseTargets(), { now: make(), slowStart: { windowMs: 50 }, outlier: { consecutiveFailures: 2, baseEjectionTimeMs: 20, successRate: { minimumHosts: 0, requestVolume: 1 }, intervalMs: 10 } }),
  });
}

// ── listeners that call back into the balancer ──────────────────────────────────────────────

const reentrant: [string, (c: Ctx) => void][] = [
  ['throws', (c) => {
    c.env.hook = () => {
      throw new Boom('listener');
    };
  }],
  ['throws a non-Error', (c) => {
    c.env.hook = () => {
      throw userValue({ not: 'an error' }) as unknown as Error;
    };
  }],
  ['removes the target it hears about', (c) => {
    c.env.hook = (e, lb) => {
      if (e.id !== undefined) lb.remove(e.id);
    };
  }],
  ['removes another target', (c) => {
    c.env.hook = (e, lb) => {
      if (e.id !== undefined) lb.remove(e.id === 'b' ? 'c' : 'b');
    };
  }],
  ['re-adds what it removed', (c) => {
    c.env.hook = (e, lb) => {
      if (e.id !== undefined && e.type !== 'down') {
        lb.remove(e.id);
        lb.add(e.id);
      }
    };
  }],
  ['marks every other target down', (c) => {
    c.env.hook = (e, lb) => {
      if (e.type === 'down' && e.reason !== 'manual') for (const id of ['b', 'c']) if (id !== e.id) lb.markDown(id);
    };
  }],
  ['marks the target back up at once', (c) => {
    c.env.hook = (e, lb) => {
      if (e.type === 'down' && e.id !== undefined && e.reason === 'manual') lb.markUp(e.id);
    };
  }],
  ['sets new weights', (c) => {
    c.env.hook = (e, lb) => {
      if (e.id !== undefined && lb.targets().length > 0) for (const s of lb.stats()) lb.setWeight(s.id, 1 + (s.picks % 3));
    };
  }],
  ['acquires and releases with failure', (c) => {
    let depth = 0;
    c.env.hook = (_e, lb) => {
      if (depth > 2) return;
      depth++;
      try {
        lb.acquire(key(9)).release('failure');
      } finally {
        depth--;
      }
    };
  }],
  ['replaces the membership', (c) => {
    let n = 0;
    c.env.hook = (_e, lb) => {
      if (n++ < 3) lb.setTargets([{ id: 'a', weight: 3 }, 'b', 'x']);
    };
  }],
  ['picks with exclude', (c) => {
    c.env.hook = (e, lb) => {
      if (e.id !== undefined) lb.pick({ key: key(2), exclude: [e.id] });
    };
  }],
];
for (const [name, hook] of reentrant) {
  kind({
    entry: 'listener',
    kind: `listener ${name}: failures, time, a manual down`,
    spread: 1,
    applies: (v) => v.health,
    // A listener that fails or downs targets on every event legitimately keeps them out.
    flags: { allowStuck: name.includes('marks every other') || name.includes('acquires') },
    setup: hook,
    act: (c) => {
      const lb = c.lb;
      // Fail two targets hard enough for passive counting and outlier detection alike.
      for (let round = 0; round < 3; round++) {
        for (const id of ['a', 'b', 'c', 'd']) {
          const others = allIds().filter((x) => x !== id);
          try {
            lb.acquire({ key: key(round), exclude: others }).release('failure');
          } catch (err) {
            if (!LoadwiseError.is(err)) throw err;
          }
        }
        c.env.time += 7;
      }
      lb.markDown('d');
      c.env.time += 1_000;
      lb.pick(key(1));
      lb.markUp('d');
      c.env.time += 1_000;
      lb.stats();
      if ('evaluateOutliers' in lb) (lb as { evaluateOutliers(): void }).evaluateOutliers();
    },
    atomic: false,
  });
}
// Defect 7's shape: two targets fail at the same instant; when the first comes back, the
// listener removes it, and the second must still come back.
kind({
  entry: 'listener',
  kind: 'listener removes a returning target while another is due at the same time',
  setup: (c) => {
    c.env.hook = (e, lb) => {
      if ((e.type === 'up' && e.reason === 'passive') || e.type === 'return') lb.remove(e.id!);
    };
  },
  applies: (v) => v.health,
  spread: 1,
  act: (c) => {
    const lb = c.lb;
    for (let i = 0; i < 5; i++) {
      for (const id of ['a', 'b']) {
        try {
          lb.acquire({ key: key(i), exclude: allIds().filter((x) => x !== id) }).release('failure');
        } catch (err) {
          if (!LoadwiseError.is(err)) throw err;
        }
      }
    }
    c.env.time += 100_000;
    lb.pick(key());
  },
  atomic: false,
});

// ── class-specific options ──────────────────────────────────────────────────────────────────

const classOptions: [(v: Variant) => boolean, string, unknown, boolean][] = [];
const choiceClasses = only('PowerOfTwoChoices', 'PeakEwma', 'Hcl');
for (const [label, value, invalid] of [
  ['1', 1, true],
  ['1.5', 1.5, true],
  ['NaN', Number.NaN, true],
  ['Infinity', Number.POSITIVE_INFINITY, true],
  ["'3'", '3', true],
  ['1e9', 1e9, false],
  ['2^53', 2 ** 53, false],
] as [string, unknown, boolean][]) {
  classOptions.push([choiceClasses, `choices: ${label}`, { choices: value }, invalid]);
}
const boundedClasses = (v: Variant): boolean => ['ConsistentHash', 'Maglev', 'Rendezvous', 'JumpHash'].includes(v.cls);
for (const [label, value, invalid] of [
  ['1', 1, true],
  ['0.5', 0.5, true],
  ['NaN', Number.NaN, true],
  ['Infinity', Number.POSITIVE_INFINITY, true],
  ["'2'", '2', true],
  ['1 + 2^-52', 1 + 2 ** -52, false],
  ['1e308', 1e308, false],
] as [string, unknown, boolean][]) {
  classOptions.push([boundedClasses, `loadFactor: ${label}`, { loadFactor: value }, invalid]);
}
classOptions.push([(v) => v.hash && !boundedClasses(v), 'loadFactor on IpHash/ModuloHash', { loadFactor: 1.5 }, true]);
classOptions.push([(v) => !v.hash, 'loadFactor on a non-hash balancer', { loadFactor: 1.5 }, true]);
for (const [label, value, invalid] of [
  ['0', 0, true],
  ['1', 1, true],
  ['4', 4, true],
  ['65536', 65536, true],
  ['NaN', Number.NaN, true],
  ['1.5', 1.5, true],
  ['2^31', 2 ** 31, true],
  ['2', 2, false],
  ['3 (fewer slots than targets)', 3, false],
  ['7', 7, false],
] as [string, unknown, boolean][]) {
  classOptions.push([only('Maglev'), `tableSize: ${label}`, { tableSize: value }, invalid]);
}
for (const [label, value, invalid] of [
  ['0', 0, true],
  ['1.5', 1.5, true],
  ['2^20 + 1', 2 ** 20 + 1, true],
  ['NaN', Number.NaN, true],
  ['1', 1, false],
] as [string, unknown, boolean][]) {
  classOptions.push([(v) => v.name === 'ConsistentHash', `pointsPerWeight: ${label}`, { pointsPerWeight: value }, invalid]);
}
for (const [label, value] of [["'NGINX'", 'NGINX'], ["''", ''], ['null', null], ['1', 1]] as [string, unknown][]) {
  classOptions.push([only('ConsistentHash'), `compat: ${label}`, { compat: value }, true]);
}
for (const [label, value, invalid] of [
  ['-1', -1, true],
  ['100', 100, true],
  ['0.5', 0.5, true],
  ['NaN', Number.NaN, true],
  ['0', 0, false],
  ['99', 99, false],
] as [string, unknown, boolean][]) {
  classOptions.push([only('LeastTime'), `factor: ${label}`, { factor: value }, invalid]);
}
for (const name of ['decayMs', 'defaultRttMs', 'penalty']) {
  for (const [label, value, invalid] of [
    ['0', 0, true],
    ['-1', -1, true],
    ['NaN', Number.NaN, true],
    ['Infinity', Number.POSITIVE_INFINITY, true],
    ['1e-300', 1e-300, false],
    ['1e308', 1e308, false],
  ] as [string, unknown, boolean][]) {
    classOptions.push([only('PeakEwma'), `${name}: ${label}`, { [name]: value, ...(name === 'penalty' ? { noHistory: 'penalty' } : {}) }, invalid]);
  }
}
classOptions.push([only('PeakEwma'), "noHistory: 'x'", { noHistory: 'x' }, true]);
classOptions.push([only('PeakEwma'), "noHistory: 'penalty'", { noHistory: 'penalty' }, false]);
for (const [label, value, invalid] of [
  ['-0.1', -0.1, true],
  ['1.1', 1.1, true],
  ['NaN', Number.NaN, true],
  ['0', 0, false],
  ['1', 1, false],
] as [string, unknown, boolean][]) {
  classOptions.push([only('Hcl'), `quantile: ${label}`, { quantile: value }, invalid]);
}
for (const [label, value, invalid] of [
  ['0', 0, true],
  ['-1', -1, true],
  ['NaN', Number.NaN, true],
  ['Infinity', Number.POSITIVE_INFINITY, false],
  ['1e-300', 1e-300, false],
] as [string, unknown, boolean][]) {
  classOptions.push([only('Hcl'), `maxReportAgeMs: ${label}`, { maxReportAgeMs: value }, invalid]);
}
classOptions.push([only('Hcl'), "probe: 'x'", { probe: 'x' }, true]);
classOptions.push([only('Hcl'), 'timers without probe', { timers: { setTimeout, clearTimeout } }, true]);
classOptions.push([only('Hcl'), 'probeIntervalMs without probe', { probeIntervalMs: 100 }, true]);
classOptions.push([only('Hcl'), 'probe with timers {}', { probe: async () => ({ rif: 0, latencyMs: 0 }), timers: {} }, true]);
for (const [applies, label, extra, invalid] of classOptions) {
  kind({
    entry: 'ctor.class-options',
    kind: label,
    applies,
    ctor: true,
    ...(invalid ? { expect: 'coded' as const } : {}),
    act: (c) => construct(c, baseTargets(), extra as Record<string, unknown>),
  });
}

// ── Rendezvous.pickN ────────────────────────────────────────────────────────────────────────

const pickNs: [string, unknown, unknown, boolean][] = [
  ['key 5', 5, 2, true],
  ['key undefined', undefined, 2, true],
  ['key null', null, 2, true],
  ['key boxed String', new String('k'), 2, true],
  ['key Symbol', Symbol('k'), 2, true],
  ["count '2'", 'k', '2', true],
  ['count NaN', 'k', Number.NaN, true],
  ['count -1', 'k', -1, true],
  ['count 1.5', 'k', 1.5, true],
  ['count null', 'k', null, true],
  ['count boxed Number(2)', 'k', new Number(2), true],
  ['count 0', 'k', 0, false],
  ['count Infinity', 'k', Number.POSITIVE_INFINITY, false],
  ['count 1e9', 'k', 1e9, false],
  ['count 2^53', 'k', 2 ** 53, false],
  ["key ''", '', 2, false],
  ['key lone surrogate', '\uD800', 3, false],
  ['key __proto__', '__proto__', 5, false],
];
for (const [label, k, n, invalid] of pickNs) {
  kind({
    entry: 'pickN',
    kind: label,
    applies: only('Rendezvous'),
    ...(invalid ? { expect: 'coded' as const } : {}),
    act: (c) => (c.lb as unknown as Rendezvous<Target>).pickN(k as string, n as number),
    check: (c, value, problems) => {
      const out = value as Target[];
      const ts = c.lb.targets();
      if (!Array.isArray(out)) problems.push('pickN returned a non-array');
      else if (out.some((t) => !ts.includes(t))) problems.push('pickN returned a non-member');
      else if (new Set(out).size !== out.length) problems.push('pickN returned a target twice');
    },
  });
}
kind({
  entry: 'pickN',
  kind: 'pickN(key, 1)[0] agrees with pick(key) while leases are open',
  applies: only('Rendezvous'),
  act: (c) => {
    const lb = c.lb as unknown as Rendezvous<Target>;
    const disagree: string[] = [];
    // Enough leases on one key (whose target, b, has weight 1) that b reaches its bound
    // (loadFactor 2) and acquire moves on to the next candidate.
    for (let i = 0; i < 40; i++) c.env.leases.push(lb.acquire(key(3)));
    for (let i = 0; i < 12; i++) {
      const n = lb.pickN(key(i), 1)[0];
      const p = lb.pick(key(i));
      if (n !== p) disagree.push(`${key(i)}: pickN ${safeId(n)} vs pick ${safeId(p)}`);
    }
    return disagree;
  },
  check: (_c, value, problems) => {
    const d = value as string[];
    if (d.length > 0) problems.push(`pickN(key, 1)[0] differs from pick(key): ${d.slice(0, 2).join('; ')}`);
  },
});

// ── Hcl.reportLoad and signals ──────────────────────────────────────────────────────────────

const reports: [string, () => unknown, boolean][] = [
  ['rif -1', () => ({ rif: -1, latencyMs: 1 }), true],
  ['rif NaN', () => ({ rif: Number.NaN, latencyMs: 1 }), true],
  ['rif Infinity', () => ({ rif: Number.POSITIVE_INFINITY, latencyMs: 1 }), true],
  ["rif '3'", () => ({ rif: '3', latencyMs: 1 }), true],
  ['latencyMs -1', () => ({ rif: 1, latencyMs: -1 }), true],
  ['latencyMs NaN', () => ({ rif: 1, latencyMs: Number.NaN }), true],
  ['null', () => null, true],
  ['undefined', () => undefined, true],
  ['{}', () => ({}), true],
  ['[1, 2]', () => [1, 2], true],
  ['rif 1e308, latencyMs 1e308', () => ({ rif: 1e308, latencyMs: 1e308 }), false],
  ['rif MAX_VALUE, latencyMs 0', () => ({ rif: Number.MAX_VALUE, latencyMs: 0 }), false],
  ['rif 5e-324', () => ({ rif: 5e-324, latencyMs: 5e-324 }), false],
  ['rif getter throws', () => throwingGetters({ latencyMs: 1 }, 'rif'), false],
  ['proxy report: every trap throws', () => trapProxy({ rif: 1, latencyMs: 1 }, ['get', 'has', 'ownKeys']), false],
  ['revoked proxy report', () => revoked({ rif: 1, latencyMs: 1 }), false],
  ['frozen report', () => deepFreeze({ rif: 2, latencyMs: 3 }), false],
];
for (const [label, make, invalid] of reports) {
  kind({
    entry: 'reportLoad',
    kind: `report ${label}`,
    applies: only('Hcl'),
    ...(invalid ? { expect: 'coded' as const } : {}),
    act: (c) => (c.lb as unknown as Hcl<Target>).reportLoad('a', make() as never),
  });
}
for (const [label, make] of BAD_IDS) {
  const userish = label.includes('revoked') || label.includes('throwing');
  kind({
    entry: 'reportLoad',
    kind: `id ${label}`,
    applies: only('Hcl'),
    ...(userish ? {} : { expect: 'coded' as const }),
    act: (c) => (c.lb as unknown as Hcl<Target>).reportLoad(make() as string, { rif: 1, latencyMs: 1 }),
  });
  kind({
    entry: 'reportLoad',
    kind: `signals(id ${label})`,
    applies: only('Hcl'),
    ...(userish ? {} : { expect: 'coded' as const }),
    act: (c) => (c.lb as unknown as Hcl<Target>).signals(make() as string),
  });
}
kind({ entry: 'reportLoad', kind: 'for a removed target', applies: only('Hcl'), expect: 'coded', act: (c) => {
  c.lb.remove('a');
  (c.lb as unknown as Hcl<Target>).reportLoad('a', { rif: 1, latencyMs: 1 });
}, atomic: false });
kind({ entry: 'reportLoad', kind: 'for the backup, then every target, clock stood still', applies: only('Hcl'), act: (c) => {
  for (const id of allIds()) (c.lb as unknown as Hcl<Target>).reportLoad(id, { rif: 3, latencyMs: 2 });
} });

// ── withRetry ───────────────────────────────────────────────────────────────────────────────

type Fn = (target: Target, attempt: number, signal: AbortSignal) => Promise<unknown>;
const okFn: Fn = async () => 'value';
const failFn: Fn = async () => {
  throw new Boom('attempt');
};
const never: Fn = () => new Promise<never>(() => undefined);

interface RetryKind {
  readonly name: string;
  readonly fn?: (c: Ctx) => unknown;
  readonly options?: (c: Ctx) => unknown;
  readonly balancer?: (c: Ctx) => unknown;
  /** Documented-invalid: must reject with a coded error. */
  readonly invalid?: boolean;
  /** Leases the call may hold past its end (hold option); released by the teardown. */
  readonly holds?: boolean;
}

const retryBase = (c: Ctx): Record<string, unknown> => ({ now: c.env.now, attempts: 3 });
const retryKinds: RetryKind[] = [
  { name: 'balancer null', balancer: () => null, invalid: true },
  { name: 'balancer {}', balancer: () => ({}), invalid: true },
  { name: 'balancer: proxy whose get throws', balancer: () => trapProxy({}, ['get']) },
  { name: 'balancer: revoked proxy', balancer: () => revoked({}) },
  { name: 'fn null', fn: () => null, invalid: true },
  { name: "fn 'x'", fn: () => 'x', invalid: true },
  { name: 'options null', options: () => null, invalid: true },
  { name: "options 'x'", options: () => 'x', invalid: true },
  { name: 'options: unknown name', options: (c) => ({ ...retryBase(c), tries: 3 }), invalid: true },
  { name: 'options: proxy whose ownKeys throws', options: (c) => trapProxy(retryBase(c), ['ownKeys']) },
  { name: 'options: revoked proxy', options: () => revoked({}) },
  { name: 'fn throws synchronously', fn: () => () => {
    throw new Boom('sync');
  } },
  { name: 'fn returns a non-promise', fn: () => () => 5 },
  { name: 'fn returns a thenable whose then throws', fn: () => () => ({
    then() {
      throw new Boom('then');
    },
  }) },
  { name: 'fn returns a thenable that never calls back', fn: () => () => ({ then() {} }), options: (c) => ({ ...retryBase(c), tryTimeoutMs: 5 }) },
  { name: 'fn rejects with undefined', fn: () => () => Promise.reject(undefined) },
  { name: 'fn rejects with null', fn: () => () => Promise.reject(null) },
  { name: 'fn rejects with a revoked proxy', fn: () => () => Promise.reject(revoked({})) },
  { name: 'fn rejects with a proxy whose get throws', fn: () => () => Promise.reject(trapProxy(new Error('x'), ['get', 'getPrototypeOf'])) },
  { name: 'fn rejects with a fake LoadwiseError shape', fn: () => () => Promise.reject({ code: 'ERR_NO_TARGET', message: 'fake' }) },
  { name: 'fn never settles, tryTimeoutMs 5', fn: () => never, options: (c) => ({ ...retryBase(c), tryTimeoutMs: 5 }) },
  { name: 'fn never settles, timeoutMs 10', fn: () => never, options: (c) => ({ ...retryBase(c), timeoutMs: 10 }) },
  { name: 'fn removes its target then fails', fn: (c) => async (t: Target) => {
    c.lb.remove(safeId(t)!);
    throw new Boom('attempt');
  } },
  { name: 'fn empties the balancer then fails', fn: (c) => async () => {
    c.lb.setTargets([]);
    throw new Boom('attempt');
  } },
  { name: 'fn marks every target down then fails', fn: (c) => async () => {
    for (const id of allIds()) c.lb.markDown(id);
    throw new Boom('attempt');
  } },
  { name: 'fn re-enters withRetry', fn: (c) => async (t: Target, attempt: number) => {
    if (attempt === 1) await withRetry(c.lb, okFn, { now: c.env.now, key: key(1) });
    if (safeId(t) === 'a') throw new Boom('attempt');
    return 'value';
  } },
  ...(
    [
      ['attempts 0', { attempts: 0 }, true],
      ['attempts 1.5', { attempts: 1.5 }, true],
      ['attempts NaN', { attempts: Number.NaN }, true],
      ['attempts -1', { attempts: -1 }, true],
      ['attempts Infinity', { attempts: Number.POSITIVE_INFINITY }, true],
      ['attempts 1e9 (all fail)', { attempts: 1e9 }, false],
      ['key 5', { key: 5 }, true],
      ["exclude 'a'", { exclude: 'a' }, true],
      ['exclude [1]', { exclude: [1] }, true],
      ['exclude with a hole', { exclude: holey(['a', 'b'], 0) }, true],
      ['exclude every id', { exclude: allIds() }, false],
      ['exclude unknown ids', { exclude: ['zz', '__proto__'] }, false],
      ['tryTimeoutMs 0', { tryTimeoutMs: 0 }, true],
      ['tryTimeoutMs -1', { tryTimeoutMs: -1 }, true],
      ['tryTimeoutMs NaN', { tryTimeoutMs: Number.NaN }, true],
      ['tryTimeoutMs 2^31', { tryTimeoutMs: 2 ** 31 }, true],
      ['tryTimeoutMs 1e-300', { tryTimeoutMs: 1e-300 }, false],
      ['timeoutMs 0', { timeoutMs: 0 }, true],
      ['timeoutMs Infinity', { timeoutMs: Number.POSITIVE_INFINITY }, true],
      ['timeoutMs 1e-300', { timeoutMs: 1e-300 }, false],
      ['signal {}', { signal: {} }, true],
      ['backoff {}', { backoff: {} }, true],
      ['backoff { baseMs: 0 }', { backoff: { baseMs: 0 } }, true],
      ['backoff { baseMs: 2, maxMs: 1 }', { backoff: { baseMs: 2, maxMs: 1 } }, true],
      ['backoff { baseMs: NaN }', { backoff: { baseMs: Number.NaN } }, true],
      ['backoff { baseMs: 1e-300 }', { backoff: { baseMs: 1e-300 } }, false],
      ['budget {}', { budget: {} }, true],
      ["isRetryable 'x'", { isRetryable: 'x' }, true],
      ["retryOnResult 'x'", { retryOnResult: 'x' }, true],
      ["discard 'x'", { discard: 'x' }, true],
      ["hold 'x'", { hold: 'x' }, true],
      ["now 'x'", { now: 'x' }, true],
      ["random 'x'", { random: 'x' }, true],
    ] as [string, Record<string, unknown>, boolean][]
  ).map(([name, o, invalid]): RetryKind => ({ name, fn: () => failFn, options: (c) => ({ ...retryBase(c), ...o }), invalid })),
  { name: 'exclude [1] getter throws', options: (c) => ({ ...retryBase(c), exclude: throwingElement(['a', 'b'], 1) }) },
  { name: 'exclude revoked proxy', options: (c) => ({ ...retryBase(c), exclude: revoked([]) }) },
  { name: 'signal already aborted with a Boom', options: (c) => ({ ...retryBase(c), signal: AbortSignal.abort(new Boom('abort')) }) },
  { name: 'signal aborted during the first attempt', fn: () => failFn, options: (c) => {
    const ac = new AbortController();
    return { ...retryBase(c), signal: ac.signal, isRetryable: () => (ac.abort(new Boom('abort')), true) };
  } },
  { name: 'signal whose addEventListener throws', options: (c) => ({
    ...retryBase(c),
    signal: { aborted: false, addEventListener: () => {
      throw new Boom('add');
    }, removeEventListener: () => undefined },
  }) },
  { name: 'signal whose removeEventListener throws', options: (c) => ({
    ...retryBase(c),
    signal: { aborted: false, addEventListener: () => undefined, removeEventListener: () => {
      throw new Boom('remove');
    } },
  }) },
  { name: 'isRetryable throws', fn: () => failFn, options: (c) => ({ ...retryBase(c), isRetryable: () => {
    throw new Boom('isRetryable');
  } }) },
  { name: "isRetryable returns 'no'", fn: () => failFn, options: (c) => ({ ...retryBase(c), isRetryable: () => 'no' }) },
  { name: 'retryOnResult throws', options: (c) => ({ ...retryBase(c), retryOnResult: () => {
    throw new Boom('retryOnResult');
  } }) },
  { name: "retryOnResult always 'failure'", options: (c) => ({ ...retryBase(c), retryOnResult: () => 'failure' }) },
  { name: "retryOnResult always 'next'", options: (c) => ({ ...retryBase(c), retryOnResult: () => 'next', attempts: 10 }) },
  { name: 'retryOnResult returns an odd object', options: (c) => ({ ...retryBase(c), retryOnResult: () => ({ toString: () => 'failure' }) }) },
  { name: "discard throws (retryOnResult 'failure')", options: (c) => ({ ...retryBase(c), retryOnResult: () => 'failure', discard: () => {
    throw new Boom('discard');
  } }) },
  { name: 'hold throws', options: (c) => ({ ...retryBase(c), hold: () => {
    throw new Boom('hold');
  } }) },
  { name: 'hold releases twice', options: (c) => ({ ...retryBase(c), hold: (v: unknown, release: (ok?: boolean) => void) => {
    release(false);
    release(true);
    return v;
  } }) },
  { name: 'hold releases with a non-boolean', options: (c) => ({ ...retryBase(c), hold: (v: unknown, release: (ok?: unknown) => void) => {
    release('no');
    return v;
  } }) },
  { name: 'hold never releases', holds: true, options: (c) => ({ ...retryBase(c), hold: (v: unknown, release: (ok?: boolean) => void) => {
    c.env.scratch.set('held', release);
    return v;
  } }) },
  { name: 'budget.deposit throws', options: (c) => ({ ...retryBase(c), budget: { deposit: () => {
    throw new Boom('deposit');
  }, tryWithdraw: () => true } }) },
  { name: 'budget.tryWithdraw throws', fn: () => failFn, options: (c) => ({ ...retryBase(c), budget: { deposit: () => undefined, tryWithdraw: () => {
    throw new Boom('withdraw');
  } } }) },
  { name: "budget.tryWithdraw returns 'yes'", fn: () => failFn, options: (c) => ({ ...retryBase(c), budget: { deposit: () => undefined, tryWithdraw: () => 'yes' } }) },
  ...ODD_CLOCKS.map(([name, make]): RetryKind => ({ name: `now: ${name}`, options: () => ({ now: make(), attempts: 3 }) })),
  ...ODD_CLOCKS.slice(0, 4).map(([name, make]): RetryKind => ({ name: `now: ${name}, every attempt fails`, fn: () => failFn, options: () => ({ now: make(), attempts: 3 }) })),
  {
    name: 'now throws on its second read',
    options: () => {
      let n = 0;
      return { attempts: 3, now: () => {
        if (++n === 2) throw new Boom('now');
        return n;
      } };
    },
  },
  ...ODD_RANDOMS.slice(0, 6).map(([name, make]): RetryKind => ({
    name: `random: ${name} (backoff 1 ms)`,
    fn: () => failFn,
    options: (c) => ({ ...retryBase(c), backoff: { baseMs: 1, maxMs: 2 }, random: make() }),
  })),
];
for (const r of retryKinds) {
  kind({
    entry: 'withRetry',
    kind: r.name,
    async: true,
    atomic: false,
    ...(r.invalid === true ? { expect: 'coded' as const } : {}),
    flags: { allowStuck: true },
    act: async (c) => {
      const lb = (r.balancer === undefined ? c.lb : r.balancer(c)) as Balancer<Target>;
      const fn = (r.fn === undefined ? okFn : r.fn(c)) as Fn;
      const options = r.options === undefined ? retryBase(c) : r.options(c);
      try {
        return await withRetry(lb, fn as never, options as never);
      } finally {
        if (r.holds !== true) {
          const open = c.lb.stats().filter((s) => s.active !== 0);
          if (open.length > 0) c.problems.push(`lease leak: ${open.map((s) => `${s.id} active ${s.active}`).join(', ')} after the call settled`);
        }
      }
    },
    teardown: (c) => {
      const held = c.env.scratch.get('held');
      if (typeof held === 'function') (held as (ok?: boolean) => void)(true);
    },
  });
}

// ── HealthChecker ───────────────────────────────────────────────────────────────────────────

/** Timers on a virtual clock the case drives by hand; records every delay and whether a callback threw. */
class FakeTimers implements HealthTimers {
  readonly delays: unknown[] = [];
  readonly escaped: string[] = [];
  private queue: { id: number; fn: () => void; at: number }[] = [];
  private next = 1;
  private time = 0;
  setTimeout = (fn: () => void, ms: number): unknown => {
    this.delays.push(ms);
    const id = this.next++;
    const d = typeof ms === 'number' && ms > 0 ? ms : 0;
    this.queue.push({ id, fn, at: this.time + d });
    return id;
  };
  clearTimeout = (handle: unknown): void => {
    this.queue = this.queue.filter((t) => t.id !== handle);
  };
  /** Fires the `n` earliest timers, one at a time (ties in the order they were set). */
  fire(n: number): void {
    for (let i = 0; i < n && this.queue.length > 0; i++) {
      let best = 0;
      for (let j = 1; j < this.queue.length; j++) {
        const q = this.queue[j]!;
        const b = this.queue[best]!;
        if (q.at < b.at || (q.at === b.at && q.id < b.id)) best = j;
      }
      const t = this.queue.splice(best, 1)[0]!;
      this.time = Math.max(this.time, t.at);
      try {
        t.fn();
      } catch (err) {
        this.escaped.push(String(classify(err).kind));
      }
    }
  }
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
};

interface CheckerKind {
  readonly name: string;
  readonly balancer?: (c: Ctx) => unknown;
  readonly probe?: () => unknown;
  readonly options?: (timers: FakeTimers, c: Ctx) => unknown;
  readonly invalid?: boolean;
}
const goodProbe = async (t: Target): Promise<boolean> => safeId(t) !== 'b';
const checkerKinds: CheckerKind[] = [
  { name: 'balancer null', balancer: () => null, invalid: true },
  { name: 'balancer {}', balancer: () => ({}), invalid: true },
  { name: 'balancer: targets() throws', balancer: () => ({ targets: () => {
    throw new Boom('targets');
  }, reportHealth: () => undefined }) },
  { name: 'balancer: targets() returns null', balancer: () => ({ targets: () => null, reportHealth: () => undefined }) },
  { name: 'balancer: targets() returns hostile ids', balancer: () => ({ targets: () => [null, '', 5, { id: 7 }, revoked()], reportHealth: () => undefined }) },
  { name: 'balancer: reportHealth throws a TypeError', balancer: (c) => ({ targets: () => c.lb.targets(), reportHealth: () => {
    throw new TypeError('custom balancer bug');
  } }) },
  { name: 'probe null', probe: () => null, invalid: true },
  { name: 'probe throws synchronously', probe: () => () => {
    throw new Boom('probe');
  } },
  { name: 'probe returns a non-promise true', probe: () => () => true },
  { name: "probe resolves 'true'", probe: () => async () => 'true' },
  { name: 'probe rejects with a revoked proxy', probe: () => () => Promise.reject(revoked({})) },
  { name: 'probe never settles', probe: () => () => new Promise<never>(() => undefined) },
  { name: 'probe removes its target' },
  ...(
    [
      ['intervalMs 0', { intervalMs: 0 }, true],
      ['intervalMs -1', { intervalMs: -1 }, true],
      ['intervalMs NaN', { intervalMs: Number.NaN }, true],
      ['intervalMs 2^31', { intervalMs: 2 ** 31 }, true],
      ['intervalMs 1e-300', { intervalMs: 1e-300 }, false],
      ['timeoutMs 0', { timeoutMs: 0 }, true],
      ['timeoutMs Infinity', { timeoutMs: Number.POSITIVE_INFINITY }, true],
      ['jitter -0.1', { jitter: -0.1 }, true],
      ['jitter 1.1', { jitter: 1.1 }, true],
      ['jitter NaN', { jitter: Number.NaN }, true],
      ['healthyThreshold 0', { healthyThreshold: 0 }, true],
      ['unhealthyThreshold 1.5', { unhealthyThreshold: 1.5 }, true],
      ["initialState 'x'", { initialState: 'x' }, true],
      ["initialState 'unhealthy'", { initialState: 'unhealthy' }, false],
      ['seed NaN', { seed: Number.NaN }, true],
      ["onChange 'x'", { onChange: 'x' }, true],
      ['unknown name', { interval: 5 }, true],
    ] as [string, Record<string, unknown>, boolean][]
  ).map(([name, o, invalid]): CheckerKind => ({ name, options: (t) => ({ timers: t, seed: 1, ...o }), invalid })),
  { name: 'timers {}', options: () => ({ timers: {} }), invalid: true },
  { name: 'timers: setTimeout throws', options: () => ({ timers: { setTimeout: () => {
    throw new Boom('setTimeout');
  }, clearTimeout: () => undefined } }) },
  { name: 'timers: clearTimeout throws', options: (t) => ({ seed: 1, timers: { setTimeout: t.setTimeout, clearTimeout: () => {
    throw new Boom('clearTimeout');
  } } }) },
  ...ODD_RANDOMS.map(([name, make]): CheckerKind => ({ name: `random: ${name}, jitter 1`, options: (t) => ({ timers: t, jitter: 1, random: make() }) })),
  ...ODD_CLOCKS.slice(0, 5).map(([name, make]): CheckerKind => ({ name: `now: ${name}`, options: (t) => ({ timers: t, seed: 1, unhealthyThreshold: 1, now: make() }) })),
  { name: 'onChange throws', options: (t) => ({ timers: t, seed: 1, unhealthyThreshold: 1, onChange: () => {
    throw new Boom('onChange');
  } }) },
  { name: 'onChange removes the target', options: (t, c) => ({ timers: t, seed: 1, unhealthyThreshold: 1, onChange: (ch: { id: string }) => c.lb.remove(ch.id) }) },
  { name: 'onChange stops and restarts the checker', options: (t, c) => ({ timers: t, seed: 1, unhealthyThreshold: 1, onChange: () => {
    const hc = c.env.scratch.get('checker') as HealthChecker<Target> | undefined;
    hc?.stop();
    hc?.start();
  } }) },
];
for (const h of checkerKinds) {
  kind({
    entry: 'HealthChecker',
    kind: h.name,
    async: true,
    atomic: false,
    flags: { allowStuck: true },
    ...(h.invalid === true ? { expect: 'coded' as const } : {}),
    act: async (c) => {
      const timers = new FakeTimers();
      const balancer = (h.balancer === undefined ? c.lb : h.balancer(c)) as Balancer<Target>;
      const removing = async (t: Target): Promise<boolean> => {
        c.lb.remove(safeId(t)!);
        return false;
      };
      const probeFn = h.probe !== undefined ? h.probe() : h.name === 'probe removes its target' ? removing : goodProbe;
      const options = h.options?.(timers, c) ?? { timers, seed: 1, unhealthyThreshold: 1 };
      const rejections: unknown[] = [];
      const onUnhandled = (reason: unknown): void => void rejections.push(reason);
      process.on('unhandledRejection', onUnhandled);
      try {
        const hc = new HealthChecker(balancer, probeFn as never, options as never);
        c.env.scratch.set('checker', hc);
        hc.start();
        for (let round = 0; round < 4; round++) {
          await flush();
          timers.fire(3);
        }
        await flush();
        // checkNow waits for probes that may only end on a (fake) time-out: keep firing timers.
        let settled = false;
        hc.checkNow().then(
          () => void (settled = true),
          (err: unknown) => {
            settled = true;
            const o = classify(err);
            if (o.kind === 'raw') c.problems.push(`checkNow rejected with a raw error: ${o.text}`);
          },
        );
        for (let i = 0; i < 20 && !settled; i++) {
          await flush();
          timers.fire(5);
        }
        if (!settled) c.problems.push('checkNow never settled although every timer fired');
        try {
          hc.stop();
        } catch (err) {
          const o = classify(err);
          if (o.kind === 'raw') c.problems.push(`stop() threw a raw error: ${o.text}`);
        }
        await flush();
      } finally {
        process.off('unhandledRejection', onUnhandled);
      }
      const bad = timers.delays.filter((ms) => typeof ms !== 'number' || !(ms >= 0) || ms > 2 ** 31 - 1);
      if (bad.length > 0) c.problems.push(`setTimeout was given the delay ${bad.map(String).slice(0, 3).join(', ')}`);
      if (timers.escaped.length > 0) c.problems.push(`a timer callback threw (${timers.escaped.join(', ')})`);
      if (rejections.length > 0) c.problems.push(`unhandled rejection: ${errorText(rejections[0])}`);
    },
  });
}

for (const [name, make] of [...BAD_IDS, ...ODD_IDS.slice(0, 3).map(([n, id]): [string, Make] => [`unknown ${n}`, () => id])]) {
  const userish = name.includes('revoked') || name.includes('throwing');
  kind({
    entry: 'HealthChecker',
    kind: `checkNow(id ${name})`,
    async: true,
    atomic: false,
    ...(userish || name === 'undefined' ? {} : { expect: 'coded' as const }),
    act: async (c) => {
      const hc = new HealthChecker(c.lb, goodProbe, { timers: new FakeTimers(), seed: 1 });
      await hc.checkNow(make() as string);
    },
  });
}

// ── RetryBudget (one pseudo-variant) ────────────────────────────────────────────────────────

const budgetOptions: [string, (c: Ctx) => unknown, boolean][] = [
  ['options null', () => null, true],
  ['options: unknown name', () => ({ ttl: 1 }), true],
  ['ttlMs 0', () => ({ ttlMs: 0 }), true],
  ['ttlMs NaN', () => ({ ttlMs: Number.NaN }), true],
  ['ttlMs Infinity', () => ({ ttlMs: Number.POSITIVE_INFINITY }), true],
  ['ttlMs 0.5', () => ({ ttlMs: 0.5 }), true],
  ['ttlMs 1e308', (c) => ({ ttlMs: 1e308, now: c.env.now }), false],
  ['minRetriesPerSec -1', () => ({ minRetriesPerSec: -1 }), true],
  ['minRetriesPerSec NaN', () => ({ minRetriesPerSec: Number.NaN }), true],
  ['minRetriesPerSec 1e308', (c) => ({ minRetriesPerSec: 1e308, now: c.env.now }), false],
  ['percentCanRetry -0.1', () => ({ percentCanRetry: -0.1 }), true],
  ['percentCanRetry 1001', () => ({ percentCanRetry: 1001 }), true],
  ['percentCanRetry 1e-300', (c) => ({ percentCanRetry: 1e-300, now: c.env.now }), false],
  ["now 'x'", () => ({ now: 'x' }), true],
  ...ODD_CLOCKS.map(([name, make]): [string, () => unknown, boolean] => [`now: ${name}`, () => ({ now: make(), minRetriesPerSec: 1 }), false]),
];
const budgetVariant: Variant = { ...VARIANTS[0]!, name: 'RetryBudget' };
const budgetCases: Case[] = budgetOptions.map(([name, make, invalid]) => {
  const k: Kind = {
    entry: 'RetryBudget',
    kind: name,
    atomic: false,
    ...(invalid ? { expect: 'coded' as const } : {}),
    act: (c) => {
      const budget = new RetryBudget(make(c) as never);
      const trace: unknown[] = [];
      const tolerate = (f: () => unknown): unknown => {
        try {
          return f();
        } catch (err) {
          const o = classify(err);
          if (o.kind === 'raw') throw err;
          return o.kind;
        }
      };
      for (let i = 0; i < 20; i++) {
        c.env.time += 100;
        tolerate(() => budget.deposit());
        const w = tolerate(() => budget.tryWithdraw());
        const b = tolerate(() => budget.balance);
        if (w !== 'user' && typeof w !== 'boolean') c.problems.push(`tryWithdraw returned ${String(w)}`);
        // A whole number >= 0, or Infinity for an unbounded reserve (minRetriesPerSec × ttlMs overflows).
        if (b !== 'user' && (typeof b !== 'number' || !(Number.isInteger(b) || b === Number.POSITIVE_INFINITY) || b < 0)) c.problems.push(`balance ${String(b)}`);
        trace.push(w, b);
      }
      c.env.events.push(`budget:${trace.map(String).join(',')}`);
      return trace;
    },
  };
  return makeCase(budgetVariant, k);
});

// ── the list ────────────────────────────────────────────────────────────────────────────────

/** How many variants (one in `spread`) meet a kind of each entry point, unless the kind says. */
const SPREAD: Readonly<Record<string, number>> = {
  'ctor.targets': 7,
  add: 7,
  setTargets: 7,
  setWeight: 7,
  markDown: 7,
  markUp: 7,
  remove: 7,
  reportHealth: 7,
  pick: 3,
  acquire: 3,
  release: 4,
  'ctor.options': 6,
  withRetry: 6,
  HealthChecker: 6,
};

/** Every case, grouped by variant, then by entry point, in a fixed order. */
export function catalogue(): Case[] {
  const cases: Case[] = [];
  for (let vi = 0; vi < VARIANTS.length; vi++) {
    const v = VARIANTS[vi]!;
    const mine = kinds.filter((k, ki) => {
      if (k.applies !== undefined && !k.applies(v)) return false;
      const spread = k.spread ?? (k.applies === undefined ? SPREAD[k.entry] ?? 1 : 1);
      return (vi + ki) % spread === 0;
    });
    const entries = [...new Set(mine.map((k) => k.entry))];
    for (const e of entries) for (const k of mine) if (k.entry === e) cases.push(makeCase(v, k));
  }
  cases.push(...budgetCases);
  return cases;
}

/** Distinct bad inputs (what is bad, whatever the entry point), over all variants. */
export function inputCount(): number {
  return new Set([...kinds.map((k) => k.kind), ...budgetCases.map((c) => c.kind)]).size;
}

/** Distinct kinds of bad input (entry point + what is bad), over all variants. */
export function kindCount(): number {
  return new Set([...kinds.map((k) => `${k.entry}/${k.kind}`), ...budgetCases.map((c) => `${c.entry}/${c.kind}`)]).size;
}

