/**
 * MurmurHash3 x86_32 (Austin Appleby's `MurmurHash3_x86_32`, seeded). A second hash that shares
 * no structure with xxHash32, for algorithms that need two independent hashes of one key
 * (Maglev's offset and skip, rendezvous scores).
 *
 * @module
 */

import { encodeUtf8, utf8Scratch } from './utf8.js';

const C1 = 0xcc9e2d51 | 0;
const C2 = 0x1b873593;

/**
 * MurmurHash3 x86_32 of `bytes[start .. end)` with a 32-bit seed; the same value as the
 * reference `MurmurHash3_x86_32(key, len, seed, out)` on a little-endian machine. Allocates
 * nothing.
 *
 * @param bytes - the input.
 * @param start - first index to read; default 0.
 * @param end - one past the last index to read; default `bytes.length`.
 * @param seed - an integer; it is taken modulo 2^32. Default 0.
 * @returns an unsigned 32-bit integer.
 * @example
 * ```ts
 * import { murmur3 } from '../core/hash/index.js';
 * murmur3(new Uint8Array(0), 0, 0, 1); // 0x514e28b7
 * ```
 */
export function murmur3(bytes: Uint8Array, start = 0, end = bytes.length, seed = 0): number {
  return murmur3Signed(bytes, start, end, seed) >>> 0;
}

/**
 * MurmurHash3 x86_32 of the UTF-8 bytes of `key`, without allocating.
 *
 * @param key - any string; lone surrogates count as U+FFFD, as with `TextEncoder`.
 * @param seed - an integer; it is taken modulo 2^32. Default 0.
 * @returns an unsigned 32-bit integer.
 * @example
 * ```ts
 * import { murmur3String } from '../core/hash/index.js';
 * murmur3String('hello'); // 0x248bfa47
 * ```
 */
export function murmur3String(key: string, seed = 0): number {
  const length = encodeUtf8(key);
  return murmur3Signed(utf8Scratch(), 0, length, seed) >>> 0;
}

// Returns the hash as a signed int32; the exported wrappers, small enough for V8 to inline,
// make it unsigned. A non-inlined call returning an unsigned value of 2^31 or more has to box
// it in a heap number, i.e. allocate on half of all picks.
function murmur3Signed(bytes: Uint8Array, start: number, end: number, seed: number): number {
  const length = end - start;
  let h = seed | 0;
  let p = start;
  for (const limit = end - 4; p <= limit; p += 4) {
    let k = bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16) | (bytes[p + 3]! << 24);
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }

  // The reference's fall-through switch over the 1-3 tail bytes.
  const rest = end - p;
  if (rest > 0) {
    let k = bytes[p]!;
    if (rest > 1) k |= bytes[p + 1]! << 8;
    if (rest > 2) k |= bytes[p + 2]! << 16;
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
  }

  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
