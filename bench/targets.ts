/**
 * Target sets shared by every benchmark, so loadwise and the npm peers route over the same pools.
 */

/** Pool sizes every balancer is measured at. */
export const SIZES = [10, 100, 1000, 10000] as const;

/** The weight mix of the weighted balancers: weights cycle 1, 2, 3, 4, 5, 1, 2, … (5 distinct weights). */
export function weightOf(i: number): number {
  return (i % 5) + 1;
}

/** `n` distinct `host:port` ids: 10.0.0.0:8080, 10.0.0.1:8080, … */
export function hostIds(n: number): string[] {
  const out = new Array<string>(n);
  for (let i = 0; i < n; i++) out[i] = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:8080`;
  return out;
}

export interface WeightedHost {
  readonly id: string;
  readonly weight: number;
}

/** `n` targets `{ id, weight }` with weights cycling 1..5. Fresh objects on every call. */
export function weightedHosts(n: number): WeightedHost[] {
  return hostIds(n).map((id, i) => ({ id, weight: weightOf(i) }));
}

/** The weights of {@link weightedHosts}`(n)`, as a plain array. */
export function weightsOf(n: number): number[] {
  return Array.from({ length: n }, (_, i) => weightOf(i));
}

/** Pool sizes of the hash-family lookup suites. */
export const HASH_SIZES = [10, 100, 1000] as const;

/** How many distinct keys a hash lookup case cycles through (no cache effects from one hot key). */
export const KEY_COUNT = 100_000;

/**
 * A copy of `s` as a flat sequential string. Template literals and `padStart` make cons
 * strings, which V8 flattens on first access and then reaches through an extra indirection;
 * keys read from a socket are flat, so the benchmark keys are too.
 */
function flat(s: string): string {
  return Buffer.from(s, 'latin1').toString('latin1');
}

let sessionKeyCache: string[] | undefined;

/**
 * {@link KEY_COUNT} distinct 20-byte ASCII keys, `user:0000000000:sess` … `user:0000099999:sess`,
 * built once per process.
 */
export function sessionKeys(): readonly string[] {
  if (sessionKeyCache === undefined) {
    sessionKeyCache = new Array<string>(KEY_COUNT);
    for (let i = 0; i < KEY_COUNT; i++) sessionKeyCache[i] = flat(`user:${String(i).padStart(10, '0')}:sess`);
  }
  return sessionKeyCache;
}

let addressCache: string[] | undefined;

/**
 * {@link KEY_COUNT} distinct IPv4 client addresses in dotted-quad form (`i × 2654435761 mod 2^32`,
 * a bijection, so the first three octets, which nginx `ip_hash` uses, are spread too).
 */
export function clientAddresses(): readonly string[] {
  if (addressCache === undefined) {
    addressCache = new Array<string>(KEY_COUNT);
    for (let i = 0; i < KEY_COUNT; i++) {
      const x = Math.imul(i, 0x9e3779b1) >>> 0;
      addressCache[i] = flat(`${x >>> 24}.${(x >>> 16) & 255}.${(x >>> 8) & 255}.${x & 255}`);
    }
  }
  return addressCache;
}
