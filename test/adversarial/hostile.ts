/**
 * Hostile values for the catalogue: every factory returns a fresh value per call (the twins
 * must each get their own, and stateful ones must start from the same state).
 */
import { Boom } from './twins.js';

export type Make = () => unknown;

/** Defines getters that throw {@link Boom} for `props` on `o`. */
export function throwingGetters<T extends object>(o: T, ...props: string[]): T {
  for (const p of props) {
    Object.defineProperty(o, p, {
      get() {
        throw new Boom(`get ${p}`);
      },
      enumerable: true,
      configurable: true,
    });
  }
  return o;
}

type Trap = 'get' | 'has' | 'ownKeys' | 'getOwnPropertyDescriptor' | 'getPrototypeOf' | 'set' | 'defineProperty';

/** A proxy of `o` whose listed traps throw {@link Boom}. */
export function trapProxy<T extends object>(o: T, traps: readonly Trap[]): T {
  const handler: ProxyHandler<T> = {};
  for (const t of traps) {
    (handler as Record<string, unknown>)[t] = () => {
      throw new Boom(`trap ${t}`);
    };
  }
  return new Proxy(o, handler);
}

/** A proxy whose `get` throws only for the listed keys. */
export function getTrapFor<T extends object>(o: T, keys: readonly PropertyKey[]): T {
  return new Proxy(o, {
    get(target, p, receiver) {
      if (keys.includes(p)) throw new Boom(`trap get ${String(p)}`);
      return Reflect.get(target, p, receiver) as unknown;
    },
  });
}

export function revoked(o: object = {}): never {
  const r = Proxy.revocable(o, {});
  r.revoke();
  return r.proxy as never;
}

export function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

/** An object whose every coercion throws. */
export function unprintable(): object {
  return throwingGetters({ valueOf: 0, toString: 0, toJSON: 0 }, 'valueOf', 'toString', 'toJSON');
}

/** A sparse array of `length` with `items` at its start. */
export function sparse(length: number, items: readonly unknown[]): unknown[] {
  const a: unknown[] = [];
  items.forEach((x, i) => (a[i] = x));
  a.length = length;
  return a;
}

/** An array with a hole at `at`. */
export function holey(items: readonly unknown[], at: number): unknown[] {
  const a = [...items];
  delete a[at];
  return a;
}

/**
 * An array whose element `at` is a getter that replaces element `other` on every read (it
 * returns `value` the first time and `later` after): a loop that reads an element twice sees
 * two different arrays.
 */
export function mutatingArray(items: readonly unknown[], at: number, value: unknown, other: number, replacement: unknown): unknown[] {
  const a = [...items];
  Object.defineProperty(a, at, {
    get() {
      a[other] = replacement;
      return value;
    },
    enumerable: true,
    configurable: true,
  });
  return a;
}

/** An array whose element `at` is a different value on the first read than on every later one. */
export function flippingArray(items: readonly unknown[], at: number, first: unknown, later: unknown): unknown[] {
  const a = [...items];
  let reads = 0;
  Object.defineProperty(a, at, {
    get() {
      return reads++ === 0 ? first : later;
    },
    enumerable: true,
    configurable: true,
  });
  return a;
}

/** An array whose element `at` throws {@link Boom} when read. */
export function throwingElement(items: readonly unknown[], at: number): unknown[] {
  return throwingGetters([...items], String(at));
}

/** An array proxy that reports `length` as `length` (more than it holds). */
export function lyingLength(items: readonly unknown[], length: number): unknown[] {
  return new Proxy([...items], {
    get(t, p, r) {
      if (p === 'length') return length;
      return Reflect.get(t, p, r) as unknown;
    },
  });
}

export class ArraySubclass extends Array<unknown> {}

export function subclassArray(items: readonly unknown[]): unknown[] {
  const a = new ArraySubclass();
  for (const x of items) a.push(x);
  return a;
}

/** A target object whose `id` getter answers a different id on every read. */
export function unstableIdTarget(): object {
  let n = 0;
  return {
    get id() {
      return `u${n++}`;
    },
  };
}

/** A generator of targets (an iterable, not an array). */
export function* generate(items: readonly unknown[]): Generator<unknown> {
  yield* items;
}

// ── odd numbers ─────────────────────────────────────────────────────────────────────────────

/** Weights a balancer may accept (finite, > 0), from denormal to the largest double. */
export const ODD_VALID_WEIGHTS: readonly [string, number][] = [
  ['denormal 1e-320', 1e-320],
  ['MIN_VALUE', Number.MIN_VALUE],
  ['1e-300', 1e-300],
  ['1e-9', 1e-9],
  ['0.5', 0.5],
  ['1.5', 1.5],
  ['1000', 1000],
  ['10000', 10_000],
  ['10001', 10_001],
  ['1e6', 1e6],
  ['2^31', 2 ** 31],
  ['2^53+2', 2 ** 53 + 2],
  ['1e20', 1e20],
  ['1e300', 1e300],
  ['1.7e308', 1.7e308],
  ['MAX_VALUE', Number.MAX_VALUE],
];

/** Weights no balancer may accept. */
export const BAD_WEIGHTS: readonly [string, Make][] = [
  ['NaN', () => Number.NaN],
  ['Infinity', () => Number.POSITIVE_INFINITY],
  ['-Infinity', () => Number.NEGATIVE_INFINITY],
  ['0', () => 0],
  ['-0', () => -0],
  ['-1', () => -1],
  ['-MIN_VALUE', () => -Number.MIN_VALUE],
  ["'2'", () => '2'],
  ["''", () => ''],
  ['boxed Number(2)', () => new Number(2)],
  ['2n', () => 2n],
  ['null', () => null],
  ['true', () => true],
  ['valueOf object', () => ({ valueOf: () => 2 })],
  ['[2]', () => [2]],
  ['Symbol', () => Symbol('w')],
  ['unprintable object', unprintable],
  ['revoked proxy', () => revoked()],
];

/** Odd but well-formed id strings that every balancer must accept and hash. */
export const ODD_IDS: readonly [string, string][] = [
  ['__proto__', '__proto__'],
  ['constructor', 'constructor'],
  ['prototype', 'prototype'],
  ['toString', 'toString'],
  ['hasOwnProperty', 'hasOwnProperty'],
  ['__defineGetter__', '__defineGetter__'],
  ['lone high surrogate', '\uD800'],
  ['lone low surrogate', '\uDC00'],
  ['reversed surrogates', '\uDC00\uD800'],
  ['NUL inside', 'a\u0000b'],
  ['RTL override', '\u202Eevil'],
  ['emoji', '💥🔥'],
  ['space', ' '],
  ['100k chars', 'x'.repeat(100_000)],
  ["'0'", '0'],
  ["'NaN'", 'NaN'],
  ["'undefined'", 'undefined'],
];

/** Ids that are not non-empty strings. */
export const BAD_IDS: readonly [string, Make][] = [
  ["''", () => ''],
  ['1', () => 1],
  ['NaN', () => Number.NaN],
  ['null', () => null],
  ['undefined', () => undefined],
  ['true', () => true],
  ['{}', () => ({})],
  ["['a']", () => ['a']],
  ['Symbol', () => Symbol('id')],
  ['1n', () => 1n],
  ['function', () => () => 'a'],
  ["boxed String('a')", () => new String('a')],
  ["toString() 'a'", () => ({ toString: () => 'a' })],
  ['unprintable', unprintable],
  ['throwing proxy', () => trapProxy({}, ['get', 'has', 'ownKeys', 'getPrototypeOf', 'getOwnPropertyDescriptor'])],
  ['revoked proxy', () => revoked()],
];

/** Random sources that break the `[0, 1)` promise. */
export const ODD_RANDOMS: readonly [string, Make][] = [
  ['NaN', () => () => Number.NaN],
  ['-0.1', () => () => -0.1],
  ['1', () => () => 1],
  ['7', () => () => 7],
  ['-Infinity', () => () => Number.NEGATIVE_INFINITY],
  ['Infinity', () => () => Number.POSITIVE_INFINITY],
  ["'0.5' (string)", () => () => '0.5'],
  ['undefined', () => () => undefined],
  ['-0', () => () => -0],
  ['1 - 2^-53', () => () => 1 - 2 ** -53],
  ['throws', () => () => {
    throw new Boom('random');
  }],
  ['throws after 5 calls', () => {
    let n = 0;
    return () => {
      if (++n > 5) throw new Boom('random');
      return 0.3;
    };
  }],
  ['alternates 0 and 1-2^-53', () => {
    let n = 0;
    return () => (n++ % 2 === 0 ? 0 : 1 - 2 ** -53);
  }],
  ['cycles NaN, 0.5, 1, -1', () => {
    const xs = [Number.NaN, 0.5, 1, -1];
    let n = 0;
    return () => xs[n++ % xs.length];
  }],
];

/** Clocks that misbehave. */
export const ODD_CLOCKS: readonly [string, Make][] = [
  ['NaN', () => () => Number.NaN],
  ['backwards', () => {
    let t = 1e6;
    return () => (t -= 7);
  }],
  ['throws', () => () => {
    throw new Boom('now');
  }],
  ['throws after 3 reads', () => {
    let n = 0;
    let t = 0;
    return () => {
      if (++n > 3) throw new Boom('now');
      return (t += 5);
    };
  }],
  ['1e308', () => () => 1e308],
  ['Infinity', () => () => Number.POSITIVE_INFINITY],
  ['-Infinity', () => () => Number.NEGATIVE_INFINITY],
  ['-1e15', () => () => -1e15],
  ["'5' (string)", () => () => '5'],
  ['undefined', () => () => undefined],
  ['jumps 0 / 1e9', () => {
    let n = 0;
    return () => (n++ % 2 === 0 ? 0 : 1e9);
  }],
  ['stands still', () => () => 42],
  ['NaN once, then fine', () => {
    let n = 0;
    return () => (n++ === 0 ? Number.NaN : n * 10);
  }],
  ['huge steps', () => {
    let t = 0;
    return () => (t += 1e300);
  }],
];
