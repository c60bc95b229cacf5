/**
 * The hash family's lookup cases: every loadwise hash balancer at n ∈ {10, 100, 1,000}, with
 * the npm peers that do the same job in the same process.
 *
 * Every case cycles through {@link KEY_COUNT} = 100,000 distinct precomputed keys with an index
 * (`keys[i]`, `i` wraps at the end), so no result is cached by the balancer, the peer (hashring's
 * 5,000-key LRU never hits) or the CPU's branch predictor on a single hot key. Session keys are
 * 20-byte ASCII strings `user:0000012345:sess`; `IpHash` gets dotted-quad IPv4 addresses.
 *
 * One process per suite (see index.ts): `HashSelector.select` is shared by all six hash
 * classes, so with several of them in one process its `first`/`next` calls would see several
 * classes. An application normally uses one. `--same-process` measures that case.
 */
import { do_not_optimize } from 'mitata';
import { ConsistentHash, type ConsistentHashOptions } from '../src/hashing/consistent-hash.js';
import { IpHash } from '../src/hashing/ip-hash.js';
import { JumpHash } from '../src/hashing/jump-hash.js';
import { Maglev } from '../src/hashing/maglev.js';
import { ModuloHash } from '../src/hashing/modulo-hash.js';
import { Rendezvous } from '../src/hashing/rendezvous.js';
import { encodeUtf8, utf8Scratch } from '../src/core/hash/utf8.js';
import { xxhash32, xxhash32String } from '../src/core/hash/xxhash32.js';
import type { Balancer } from '../src/index.js';
import { ConsistentHashRing, HashRing, subspaceJump } from './peers.js';
import type { Case, HashSuiteId, Op, Suite } from './suites.js';
import { HASH_SIZES, KEY_COUNT, clientAddresses, hostIds, sessionKeys } from './targets.js';

type Make = (n: number) => Balancer<string>;
type Keys = () => readonly string[];

interface Spec {
  readonly op: Op;
  readonly impl: string;
  readonly label: string;
  readonly loadwise: boolean;
  readonly setup: (n: number) => () => () => void;
}

/** The loadwise bounded-load factor the benchmark names. */
export const HASH_LOAD_FACTOR = 1.25;

// One factory per timed shape, as in suites.ts: inside a suite's process only one balancer
// class flows through each closure.

function pickCase(make: Make, keysOf: Keys = sessionKeys) {
  return (n: number) => () => {
    const keys = keysOf();
    const lb = make(n);
    lb.pick(keys[0]!); // the lazy table build, outside the timed region
    let i = 0;
    return (): void => {
      const key = keys[i]!;
      if (++i === KEY_COUNT) i = 0;
      do_not_optimize(lb.pick(key));
    };
  };
}

function acquireCase(make: Make) {
  return (n: number) => () => {
    const keys = sessionKeys();
    const lb = make(n);
    lb.acquire(keys[0]!).release('success');
    let i = 0;
    return (): void => {
      const key = keys[i]!;
      if (++i === KEY_COUNT) i = 0;
      const lease = lb.acquire(key);
      lease.release('success');
      do_not_optimize(lease);
    };
  };
}

function lw(impl: string, op: Op, setup: (n: number) => () => () => void): Spec {
  const fn = op === 'pick' ? 'pick' : 'acquire+release';
  return { op, impl: `loadwise ${impl}`, label: `loadwise ${impl}.${fn}`, loadwise: true, setup };
}

function other(impl: string, op: Op, setup: (n: number) => () => () => void): Spec {
  return { op, impl, label: `${impl} ${op}`, loadwise: false, setup };
}

function hashSuite(id: HashSuiteId, balancer: string, pool: string, specs: readonly Spec[]): Suite {
  const cases: Case[] = [];
  for (const spec of specs) {
    for (const n of HASH_SIZES) {
      cases.push({ key: `${spec.label} n=${n}`, suite: id, op: spec.op, impl: spec.impl, loadwise: spec.loadwise, n, setup: spec.setup(n) });
    }
  }
  return { id, balancer, pool, cases };
}

const ring =
  (options?: ConsistentHashOptions): Make =>
  (n) =>
    new ConsistentHash(hostIds(n), options);
const BOUNDED = { loadFactor: HASH_LOAD_FACTOR };

/**
 * The 64-bit jump key loadwise's `JumpHash` uses for a string (xxHash32 of the UTF-8 bytes with
 * seeds 0 and 1 as the high and low words), written big-endian into `out`: the string-to-bytes
 * step `@subspace/jump-consistent-hash` leaves to its caller.
 */
function jumpKeyBytes(key: string, out: Uint8Array): Uint8Array {
  const length = encodeUtf8(key);
  const bytes = utf8Scratch();
  const hi = xxhash32(bytes, 0, length, 0);
  const lo = xxhash32(bytes, 0, length, 1);
  out[0] = hi >>> 24;
  out[1] = (hi >>> 16) & 255;
  out[2] = (hi >>> 8) & 255;
  out[3] = hi & 255;
  out[4] = lo >>> 24;
  out[5] = (lo >>> 16) & 255;
  out[6] = (lo >>> 8) & 255;
  out[7] = lo & 255;
  return out;
}

export const HASH_SUITES: readonly Suite[] = [
  hashSuite('hash-ring', 'ConsistentHash', 'n plain ids (weight 1)', [
    lw('ConsistentHash', 'pick', pickCase(ring())),
    lw('ConsistentHash (nginx)', 'pick', pickCase(ring({ compat: 'nginx' }))),
    lw('ConsistentHash (ketama)', 'pick', pickCase(ring({ compat: 'ketama' }))),
    other('hashring', 'pick', (n) => () => {
      const keys = sessionKeys();
      const r = new HashRing(hostIds(n));
      let i = 0;
      return (): void => {
        const key = keys[i]!;
        if (++i === KEY_COUNT) i = 0;
        do_not_optimize(r.get(key));
      };
    }),
    other('consistent-hash', 'pick', (n) => () => {
      const keys = sessionKeys();
      const r = new ConsistentHashRing();
      for (const id of hostIds(n)) r.add(id);
      r.get(keys[0]!); // builds its sorted key map
      let i = 0;
      return (): void => {
        const key = keys[i]!;
        if (++i === KEY_COUNT) i = 0;
        do_not_optimize(r.get(key));
      };
    }),
    lw('ConsistentHash', 'acquire+release', acquireCase(ring())),
    lw(`ConsistentHash, loadFactor ${HASH_LOAD_FACTOR}`, 'acquire+release', acquireCase(ring(BOUNDED))),
  ]),
  hashSuite('hash-maglev', 'Maglev', 'n plain ids (weight 1), table 65,537', [
    other('reference: read the key only', 'pick', () => () => {
      const keys = sessionKeys();
      let i = 0;
      return (): void => {
        const key = keys[i]!;
        if (++i === KEY_COUNT) i = 0;
        do_not_optimize(key);
      };
    }),
    other('reference: xxhash32 of the key only', 'pick', () => () => {
      const keys = sessionKeys();
      let i = 0;
      return (): void => {
        const key = keys[i]!;
        if (++i === KEY_COUNT) i = 0;
        do_not_optimize(xxhash32String(key));
      };
    }),
    lw('Maglev', 'pick', pickCase((n) => new Maglev(hostIds(n)))),
    lw('Maglev', 'acquire+release', acquireCase((n) => new Maglev(hostIds(n)))),
    lw(`Maglev, loadFactor ${HASH_LOAD_FACTOR}`, 'acquire+release', acquireCase((n) => new Maglev(hostIds(n), BOUNDED))),
  ]),
  hashSuite('hash-jump', 'JumpHash', 'n plain ids (weight 1)', [
    lw('JumpHash', 'pick', pickCase((n) => new JumpHash(hostIds(n)))),
    // The peer takes an 8-byte key, so it gets the same string → 64-bit step as JumpHash.
    other('@subspace/jump-consistent-hash (string key → xxh32 ×2 → 8 bytes)', 'pick', (n) => () => {
      const keys = sessionKeys();
      const ids = hostIds(n);
      const buf = new Uint8Array(8);
      let i = 0;
      return (): void => {
        const key = keys[i]!;
        if (++i === KEY_COUNT) i = 0;
        do_not_optimize(ids[subspaceJump(jumpKeyBytes(key, buf), n)]);
      };
    }),
    // Its own cost alone: the 8-byte keys hashed beforehand, outside the timed region.
    other('@subspace/jump-consistent-hash (8-byte keys prehashed)', 'pick', (n) => () => {
      const keys = sessionKeys();
      const ids = hostIds(n);
      const pre = new Array<Uint8Array>(KEY_COUNT);
      for (let k = 0; k < KEY_COUNT; k++) pre[k] = jumpKeyBytes(keys[k]!, new Uint8Array(8));
      let i = 0;
      return (): void => {
        const key = pre[i]!;
        if (++i === KEY_COUNT) i = 0;
        do_not_optimize(ids[subspaceJump(key, n)]);
      };
    }),
  ]),
  hashSuite('hash-rendezvous', 'Rendezvous', 'n plain ids (weight 1)', [lw('Rendezvous', 'pick', pickCase((n) => new Rendezvous(hostIds(n))))]),
  hashSuite('hash-modulo', 'ModuloHash', 'n plain ids (weight 1)', [lw('ModuloHash', 'pick', pickCase((n) => new ModuloHash(hostIds(n))))]),
  hashSuite('hash-ip', 'IpHash', 'n plain ids (weight 1); keys are IPv4 client addresses', [
    lw('IpHash', 'pick', pickCase((n) => new IpHash(hostIds(n)), clientAddresses)),
  ]),
];
