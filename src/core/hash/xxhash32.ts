/**
 * xxHash32 (XXH32 from Yann Collet's xxHash, spec-exact, seeded): a fast, well-mixed 32-bit key
 * hash for the modes that need no compatibility with another balancer. Unlike CRC-32 it takes a
 * seed and passes SMHasher, so nearby keys ("server-1", "server-2") land far apart.
 *
 * @module
 */

import { encodeUtf8, utf8Scratch } from './utf8.js';

const PRIME1 = 0x9e3779b1 | 0;
const PRIME2 = 0x85ebca77 | 0;
const PRIME3 = 0xc2b2ae3d | 0;
const PRIME4 = 0x27d4eb2f;
const PRIME5 = 0x165667b1;

/**
 * xxHash32 of `bytes[start .. end)` with a 32-bit seed; the same value as the reference
 * `XXH32(ptr, len, seed)`. Allocates nothing.
 *
 * @param bytes - the input.
 * @param start - first index to read; default 0.
 * @param end - one past the last index to read; default `bytes.length`.
 * @param seed - an integer; it is taken modulo 2^32. Default 0.
 * @returns an unsigned 32-bit integer.
 * @example
 * ```ts
 * import { xxhash32 } from '../core/hash/index.js';
 * xxhash32(new Uint8Array([0x61])); // 0x550d7456
 * ```
 */
export function xxhash32(bytes: Uint8Array, start = 0, end = bytes.length, seed = 0): number {
  return xxh32(bytes, start, end, seed | 0) >>> 0;
}

/**
 * xxHash32 of the UTF-8 bytes of `key`, without allocating.
 *
 * @param key - any string; lone surrogates count as U+FFFD, as with `TextEncoder`.
 * @param seed - an integer; it is taken modulo 2^32. Default 0.
 * @returns an unsigned 32-bit integer.
 * @example
 * ```ts
 * import { xxhash32String } from '../core/hash/index.js';
 * xxhash32String('abc'); // 0x32d153ff
 * xxhash32String('abc', 1); // a different, equally well-mixed value
 * ```
 */
export function xxhash32String(key: string, seed = 0): number {
  if (isAscii(key)) return xxh32Ascii(key, seed | 0) >>> 0;
  const length = encodeUtf8(key);
  return xxh32(utf8Scratch(), 0, length, seed | 0) >>> 0;
}

/** True when every UTF-16 unit is below 0x80, so the string's UTF-8 bytes are its char codes. */
function isAscii(key: string): boolean {
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) >= 0x80) return false;
  return true;
}

// The same algorithm as `xxh32`, reading ASCII char codes straight from the string. Keys are
// ASCII far more often than not, and skipping the UTF-8 copy halves the cost of a lookup; a
// shared body with a pluggable reader would make V8 call through it and lose that again.
function xxh32Ascii(key: string, s: number): number {
  const end = key.length;
  let p = 0;
  let h: number;
  if (end >= 16) {
    let v1 = (s + PRIME1 + PRIME2) | 0;
    let v2 = (s + PRIME2) | 0;
    let v3 = s;
    let v4 = (s - PRIME1) | 0;
    for (const limit = end - 16; p <= limit; p += 16) {
      v1 = (v1 + Math.imul(readAscii(key, p), PRIME2)) | 0;
      v1 = Math.imul((v1 << 13) | (v1 >>> 19), PRIME1);
      v2 = (v2 + Math.imul(readAscii(key, p + 4), PRIME2)) | 0;
      v2 = Math.imul((v2 << 13) | (v2 >>> 19), PRIME1);
      v3 = (v3 + Math.imul(readAscii(key, p + 8), PRIME2)) | 0;
      v3 = Math.imul((v3 << 13) | (v3 >>> 19), PRIME1);
      v4 = (v4 + Math.imul(readAscii(key, p + 12), PRIME2)) | 0;
      v4 = Math.imul((v4 << 13) | (v4 >>> 19), PRIME1);
    }
    h =
      (((v1 << 1) | (v1 >>> 31)) +
        ((v2 << 7) | (v2 >>> 25)) +
        ((v3 << 12) | (v3 >>> 20)) +
        ((v4 << 18) | (v4 >>> 14))) |
      0;
  } else {
    h = (s + PRIME5) | 0;
  }
  h = (h + end) | 0;
  for (const limit = end - 4; p <= limit; p += 4) {
    h = (h + Math.imul(readAscii(key, p), PRIME3)) | 0;
    h = Math.imul((h << 17) | (h >>> 15), PRIME4);
  }
  for (; p < end; p++) {
    h = (h + Math.imul(key.charCodeAt(p), PRIME5)) | 0;
    h = Math.imul((h << 11) | (h >>> 21), PRIME1);
  }
  return avalanche(h);
}

function readAscii(k: string, i: number): number {
  return k.charCodeAt(i) | (k.charCodeAt(i + 1) << 8) | (k.charCodeAt(i + 2) << 16) | (k.charCodeAt(i + 3) << 24);
}

function avalanche(h: number): number {
  h ^= h >>> 15;
  h = Math.imul(h, PRIME2);
  h ^= h >>> 13;
  h = Math.imul(h, PRIME3);
  return h ^ (h >>> 16);
}

// The body returns the hash as a signed int32 and the exported wrappers (small enough for V8
// to inline into their callers) make it unsigned. A non-inlined call returning an unsigned
// value of 2^31 or more has to box it in a heap number, i.e. allocate on half of all picks.
function xxh32(bytes: Uint8Array, start: number, end: number, s: number): number {
  const length = end - start;
  let p = start;
  let h: number;
  if (length >= 16) {
    // ToInt32 on the exact double sum is the 32-bit wrap the reference gets from uint32_t.
    let v1 = (s + PRIME1 + PRIME2) | 0;
    let v2 = (s + PRIME2) | 0;
    let v3 = s;
    let v4 = (s - PRIME1) | 0;
    for (const limit = end - 16; p <= limit; p += 16) {
      v1 = (v1 + Math.imul(readU32(bytes, p), PRIME2)) | 0;
      v1 = Math.imul((v1 << 13) | (v1 >>> 19), PRIME1);
      v2 = (v2 + Math.imul(readU32(bytes, p + 4), PRIME2)) | 0;
      v2 = Math.imul((v2 << 13) | (v2 >>> 19), PRIME1);
      v3 = (v3 + Math.imul(readU32(bytes, p + 8), PRIME2)) | 0;
      v3 = Math.imul((v3 << 13) | (v3 >>> 19), PRIME1);
      v4 = (v4 + Math.imul(readU32(bytes, p + 12), PRIME2)) | 0;
      v4 = Math.imul((v4 << 13) | (v4 >>> 19), PRIME1);
    }
    h =
      (((v1 << 1) | (v1 >>> 31)) +
        ((v2 << 7) | (v2 >>> 25)) +
        ((v3 << 12) | (v3 >>> 20)) +
        ((v4 << 18) | (v4 >>> 14))) |
      0;
  } else {
    h = (s + PRIME5) | 0;
  }
  // The spec adds the length modulo 2^32, which `| 0` does for any realistic length.
  h = (h + length) | 0;

  for (const limit = end - 4; p <= limit; p += 4) {
    h = (h + Math.imul(readU32(bytes, p), PRIME3)) | 0;
    h = Math.imul((h << 17) | (h >>> 15), PRIME4);
  }
  for (; p < end; p++) {
    h = (h + Math.imul(bytes[p]!, PRIME5)) | 0;
    h = Math.imul((h << 11) | (h >>> 21), PRIME1);
  }

  return avalanche(h);
}

// Little-endian regardless of the platform's byte order, which a Uint32Array view would not be
// (and it would also demand 4-byte alignment).
function readU32(b: Uint8Array, i: number): number {
  return b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
}
