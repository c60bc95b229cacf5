/**
 * MD5 (RFC 1321), for libketama-compatible consistent hashing only: ketama and npm `hashring`
 * place each server's points, and hash each key, with MD5. It is not used for anything that
 * needs collision resistance.
 *
 * MD5's state is four 32-bit words that are serialised little-endian into the 16-byte digest,
 * and ketama reads the digest back as four little-endian words
 * (`d[3+4k] << 24 | d[2+4k] << 16 | d[1+4k] << 8 | d[4k]`). So the functions here hand out the
 * state words directly: word `k` is ketama's point `k`, with no byte shuffling.
 *
 * @module
 */

import { encodeUtf8, utf8Scratch } from './utf8.js';

// The 16 little-endian message words of the block being compressed. The final one or two
// blocks (the tail, the 0x80 marker, zero fill and the bit length) are assembled here as words
// too, instead of in a fresh padded copy of the message.
const W = new Int32Array(16);

// Where md5String writes when the caller brings no buffer, so a pick that needs one word can
// hash without allocating.
const SHARED_WORDS = new Uint32Array(4);

// Chaining state between blocks. Module-level rather than returned, because returning four
// numbers from a per-block function would mean an array per block; and an Int32Array store
// wraps to 32 bits, which is exactly MD5's addition modulo 2^32.
const H = new Int32Array(4);

// Compresses the block in W into H. Fully unrolled, with the message words in locals and the
// round functions written out: ketama builds 40 digests per unit of weight per server, so ring
// rebuilds for large pools spend most of their time here. Round helpers
// (`ff(a, b, c, d, x, s, t)`) read better but made it ~4x slower: V8 stops inlining after a
// bytecode budget, and every call left over boxes its 32-bit result.
function block(): void {
  const x0 = W[0]!;
  const x1 = W[1]!;
  const x2 = W[2]!;
  const x3 = W[3]!;
  const x4 = W[4]!;
  const x5 = W[5]!;
  const x6 = W[6]!;
  const x7 = W[7]!;
  const x8 = W[8]!;
  const x9 = W[9]!;
  const x10 = W[10]!;
  const x11 = W[11]!;
  const x12 = W[12]!;
  const x13 = W[13]!;
  const x14 = W[14]!;
  const x15 = W[15]!;

  let a = H[0]!;
  let b = H[1]!;
  let c = H[2]!;
  let d = H[3]!;
  let n: number;

  // Rounds 1 and 2 use the select forms d ^ (b & (c ^ d)) and c ^ (d & (b ^ c)), equal to RFC
  // 1321's F and G with one operation fewer each.
  n = (a + (d ^ (b & (c ^ d))) + x0 + 0xd76aa478) | 0;
  a = (((n << 7) | (n >>> 25)) + b) | 0;
  n = (d + (c ^ (a & (b ^ c))) + x1 + 0xe8c7b756) | 0;
  d = (((n << 12) | (n >>> 20)) + a) | 0;
  n = (c + (b ^ (d & (a ^ b))) + x2 + 0x242070db) | 0;
  c = (((n << 17) | (n >>> 15)) + d) | 0;
  n = (b + (a ^ (c & (d ^ a))) + x3 + 0xc1bdceee) | 0;
  b = (((n << 22) | (n >>> 10)) + c) | 0;
  n = (a + (d ^ (b & (c ^ d))) + x4 + 0xf57c0faf) | 0;
  a = (((n << 7) | (n >>> 25)) + b) | 0;
  n = (d + (c ^ (a & (b ^ c))) + x5 + 0x4787c62a) | 0;
  d = (((n << 12) | (n >>> 20)) + a) | 0;
  n = (c + (b ^ (d & (a ^ b))) + x6 + 0xa8304613) | 0;
  c = (((n << 17) | (n >>> 15)) + d) | 0;
  n = (b + (a ^ (c & (d ^ a))) + x7 + 0xfd469501) | 0;
  b = (((n << 22) | (n >>> 10)) + c) | 0;
  n = (a + (d ^ (b & (c ^ d))) + x8 + 0x698098d8) | 0;
  a = (((n << 7) | (n >>> 25)) + b) | 0;
  n = (d + (c ^ (a & (b ^ c))) + x9 + 0x8b44f7af) | 0;
  d = (((n << 12) | (n >>> 20)) + a) | 0;
  n = (c + (b ^ (d & (a ^ b))) + x10 + 0xffff5bb1) | 0;
  c = (((n << 17) | (n >>> 15)) + d) | 0;
  n = (b + (a ^ (c & (d ^ a))) + x11 + 0x895cd7be) | 0;
  b = (((n << 22) | (n >>> 10)) + c) | 0;
  n = (a + (d ^ (b & (c ^ d))) + x12 + 0x6b901122) | 0;
  a = (((n << 7) | (n >>> 25)) + b) | 0;
  n = (d + (c ^ (a & (b ^ c))) + x13 + 0xfd987193) | 0;
  d = (((n << 12) | (n >>> 20)) + a) | 0;
  n = (c + (b ^ (d & (a ^ b))) + x14 + 0xa679438e) | 0;
  c = (((n << 17) | (n >>> 15)) + d) | 0;
  n = (b + (a ^ (c & (d ^ a))) + x15 + 0x49b40821) | 0;
  b = (((n << 22) | (n >>> 10)) + c) | 0;

  n = (a + (c ^ (d & (b ^ c))) + x1 + 0xf61e2562) | 0;
  a = (((n << 5) | (n >>> 27)) + b) | 0;
  n = (d + (b ^ (c & (a ^ b))) + x6 + 0xc040b340) | 0;
  d = (((n << 9) | (n >>> 23)) + a) | 0;
  n = (c + (a ^ (b & (d ^ a))) + x11 + 0x265e5a51) | 0;
  c = (((n << 14) | (n >>> 18)) + d) | 0;
  n = (b + (d ^ (a & (c ^ d))) + x0 + 0xe9b6c7aa) | 0;
  b = (((n << 20) | (n >>> 12)) + c) | 0;
  n = (a + (c ^ (d & (b ^ c))) + x5 + 0xd62f105d) | 0;
  a = (((n << 5) | (n >>> 27)) + b) | 0;
  n = (d + (b ^ (c & (a ^ b))) + x10 + 0x02441453) | 0;
  d = (((n << 9) | (n >>> 23)) + a) | 0;
  n = (c + (a ^ (b & (d ^ a))) + x15 + 0xd8a1e681) | 0;
  c = (((n << 14) | (n >>> 18)) + d) | 0;
  n = (b + (d ^ (a & (c ^ d))) + x4 + 0xe7d3fbc8) | 0;
  b = (((n << 20) | (n >>> 12)) + c) | 0;
  n = (a + (c ^ (d & (b ^ c))) + x9 + 0x21e1cde6) | 0;
  a = (((n << 5) | (n >>> 27)) + b) | 0;
  n = (d + (b ^ (c & (a ^ b))) + x14 + 0xc33707d6) | 0;
  d = (((n << 9) | (n >>> 23)) + a) | 0;
  n = (c + (a ^ (b & (d ^ a))) + x3 + 0xf4d50d87) | 0;
  c = (((n << 14) | (n >>> 18)) + d) | 0;
  n = (b + (d ^ (a & (c ^ d))) + x8 + 0x455a14ed) | 0;
  b = (((n << 20) | (n >>> 12)) + c) | 0;
  n = (a + (c ^ (d & (b ^ c))) + x13 + 0xa9e3e905) | 0;
  a = (((n << 5) | (n >>> 27)) + b) | 0;
  n = (d + (b ^ (c & (a ^ b))) + x2 + 0xfcefa3f8) | 0;
  d = (((n << 9) | (n >>> 23)) + a) | 0;
  n = (c + (a ^ (b & (d ^ a))) + x7 + 0x676f02d9) | 0;
  c = (((n << 14) | (n >>> 18)) + d) | 0;
  n = (b + (d ^ (a & (c ^ d))) + x12 + 0x8d2a4c8a) | 0;
  b = (((n << 20) | (n >>> 12)) + c) | 0;

  n = (a + (b ^ c ^ d) + x5 + 0xfffa3942) | 0;
  a = (((n << 4) | (n >>> 28)) + b) | 0;
  n = (d + (a ^ b ^ c) + x8 + 0x8771f681) | 0;
  d = (((n << 11) | (n >>> 21)) + a) | 0;
  n = (c + (d ^ a ^ b) + x11 + 0x6d9d6122) | 0;
  c = (((n << 16) | (n >>> 16)) + d) | 0;
  n = (b + (c ^ d ^ a) + x14 + 0xfde5380c) | 0;
  b = (((n << 23) | (n >>> 9)) + c) | 0;
  n = (a + (b ^ c ^ d) + x1 + 0xa4beea44) | 0;
  a = (((n << 4) | (n >>> 28)) + b) | 0;
  n = (d + (a ^ b ^ c) + x4 + 0x4bdecfa9) | 0;
  d = (((n << 11) | (n >>> 21)) + a) | 0;
  n = (c + (d ^ a ^ b) + x7 + 0xf6bb4b60) | 0;
  c = (((n << 16) | (n >>> 16)) + d) | 0;
  n = (b + (c ^ d ^ a) + x10 + 0xbebfbc70) | 0;
  b = (((n << 23) | (n >>> 9)) + c) | 0;
  n = (a + (b ^ c ^ d) + x13 + 0x289b7ec6) | 0;
  a = (((n << 4) | (n >>> 28)) + b) | 0;
  n = (d + (a ^ b ^ c) + x0 + 0xeaa127fa) | 0;
  d = (((n << 11) | (n >>> 21)) + a) | 0;
  n = (c + (d ^ a ^ b) + x3 + 0xd4ef3085) | 0;
  c = (((n << 16) | (n >>> 16)) + d) | 0;
  n = (b + (c ^ d ^ a) + x6 + 0x04881d05) | 0;
  b = (((n << 23) | (n >>> 9)) + c) | 0;
  n = (a + (b ^ c ^ d) + x9 + 0xd9d4d039) | 0;
  a = (((n << 4) | (n >>> 28)) + b) | 0;
  n = (d + (a ^ b ^ c) + x12 + 0xe6db99e5) | 0;
  d = (((n << 11) | (n >>> 21)) + a) | 0;
  n = (c + (d ^ a ^ b) + x15 + 0x1fa27cf8) | 0;
  c = (((n << 16) | (n >>> 16)) + d) | 0;
  n = (b + (c ^ d ^ a) + x2 + 0xc4ac5665) | 0;
  b = (((n << 23) | (n >>> 9)) + c) | 0;

  n = (a + (c ^ (b | ~d)) + x0 + 0xf4292244) | 0;
  a = (((n << 6) | (n >>> 26)) + b) | 0;
  n = (d + (b ^ (a | ~c)) + x7 + 0x432aff97) | 0;
  d = (((n << 10) | (n >>> 22)) + a) | 0;
  n = (c + (a ^ (d | ~b)) + x14 + 0xab9423a7) | 0;
  c = (((n << 15) | (n >>> 17)) + d) | 0;
  n = (b + (d ^ (c | ~a)) + x5 + 0xfc93a039) | 0;
  b = (((n << 21) | (n >>> 11)) + c) | 0;
  n = (a + (c ^ (b | ~d)) + x12 + 0x655b59c3) | 0;
  a = (((n << 6) | (n >>> 26)) + b) | 0;
  n = (d + (b ^ (a | ~c)) + x3 + 0x8f0ccc92) | 0;
  d = (((n << 10) | (n >>> 22)) + a) | 0;
  n = (c + (a ^ (d | ~b)) + x10 + 0xffeff47d) | 0;
  c = (((n << 15) | (n >>> 17)) + d) | 0;
  n = (b + (d ^ (c | ~a)) + x1 + 0x85845dd1) | 0;
  b = (((n << 21) | (n >>> 11)) + c) | 0;
  n = (a + (c ^ (b | ~d)) + x8 + 0x6fa87e4f) | 0;
  a = (((n << 6) | (n >>> 26)) + b) | 0;
  n = (d + (b ^ (a | ~c)) + x15 + 0xfe2ce6e0) | 0;
  d = (((n << 10) | (n >>> 22)) + a) | 0;
  n = (c + (a ^ (d | ~b)) + x6 + 0xa3014314) | 0;
  c = (((n << 15) | (n >>> 17)) + d) | 0;
  n = (b + (d ^ (c | ~a)) + x13 + 0x4e0811a1) | 0;
  b = (((n << 21) | (n >>> 11)) + c) | 0;
  n = (a + (c ^ (b | ~d)) + x4 + 0xf7537e82) | 0;
  a = (((n << 6) | (n >>> 26)) + b) | 0;
  n = (d + (b ^ (a | ~c)) + x11 + 0xbd3af235) | 0;
  d = (((n << 10) | (n >>> 22)) + a) | 0;
  n = (c + (a ^ (d | ~b)) + x2 + 0x2ad7d2bb) | 0;
  c = (((n << 15) | (n >>> 17)) + d) | 0;
  n = (b + (d ^ (c | ~a)) + x9 + 0xeb86d391) | 0;
  b = (((n << 21) | (n >>> 11)) + c) | 0;

  H[0] = H[0]! + a;
  H[1] = H[1]! + b;
  H[2] = H[2]! + c;
  H[3] = H[3]! + d;
}

/**
 * MD5 of `bytes[start .. end)`, written as four unsigned 32-bit words into `out[offset ..
 * offset + 4)`. Word `k` is digest bytes `4k .. 4k + 3` read little-endian, which is exactly
 * ketama's point `k`. Allocates nothing.
 *
 * @param bytes - the input.
 * @param start - first index to read.
 * @param end - one past the last index to read.
 * @param out - receives the four words.
 * @param offset - where in `out` to write; default 0.
 * @returns `out`.
 * @example
 * ```ts
 * import { md5 } from '../core/hash/index.js';
 * const words = md5(new Uint8Array([0x61, 0x62, 0x63]), 0, 3, new Uint32Array(4));
 * words[0]; // 0x98500190: the digest of "abc" starts 90 01 50 98
 * ```
 */
export function md5(bytes: Uint8Array, start: number, end: number, out: Uint32Array, offset = 0): Uint32Array {
  H[0] = 0x67452301;
  H[1] = 0xefcdab89;
  H[2] = 0x98badcfe;
  H[3] = 0x10325476;
  const length = end - start;
  let o = start;
  for (const last = end - 64; o <= last; o += 64) {
    for (let j = 0, p = o; j < 16; j++, p += 4) {
      W[j] = bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16) | (bytes[p + 3]! << 24);
    }
    block();
  }

  W.fill(0);
  const rest = end - o;
  for (let i = 0; i < rest; i++) W[i >> 2]! |= bytes[o + i]! << ((i & 3) << 3);
  W[rest >> 2]! |= 0x80 << ((rest & 3) << 3);
  // The bit length takes the last two words of a block, so a tail of 56 bytes or more spills
  // the padding into a second block.
  if (rest >= 56) {
    block();
    W.fill(0);
  }
  // The message length in bits as a 64-bit little-endian count; the stores wrap each half.
  W[14] = length * 8;
  W[15] = Math.floor(length / 0x20000000);
  block();

  out[offset] = H[0]!;
  out[offset + 1] = H[1]!;
  out[offset + 2] = H[2]!;
  out[offset + 3] = H[3]!;
  return out;
}

/**
 * MD5 of the UTF-8 bytes of `key` as four unsigned 32-bit words (see {@link md5}), without
 * allocating.
 *
 * Without `out`, the words go into one shared module-level array that the next call
 * overwrites: read what you need (often just word 0) straight away.
 *
 * @param key - any string; lone surrogates count as U+FFFD, as with `TextEncoder`.
 * @param out - receives the four words; default a shared array.
 * @param offset - where in `out` to write; default 0.
 * @returns the array written to.
 * @example
 * ```ts
 * import { md5String } from '../core/hash/index.js';
 * // libketama's points for one "host:port-i" string
 * const [p0, p1, p2, p3] = md5String('10.0.0.1:11211-0');
 * // npm hashring's key hash: the first word
 * const keyHash = md5String('user:42')[0]!;
 * ```
 */
export function md5String(key: string, out: Uint32Array = SHARED_WORDS, offset = 0): Uint32Array {
  const length = encodeUtf8(key);
  return md5(utf8Scratch(), 0, length, out, offset);
}

/**
 * The 16 digest bytes of MD5 over `bytes[start .. end)`, written into `out[offset .. offset +
 * 16)`, in the usual order (the order `md5sum` prints). Allocates nothing.
 *
 * @param bytes - the input.
 * @param start - first index to read.
 * @param end - one past the last index to read.
 * @param out - receives the 16 bytes.
 * @param offset - where in `out` to write; default 0.
 * @returns `out`.
 * @example
 * ```ts
 * import { md5Digest } from '../core/hash/index.js';
 * const digest = md5Digest(new Uint8Array(0), 0, 0, new Uint8Array(16));
 * digest[0]; // 0xd4: MD5("") is d41d8cd98f00b204e9800998ecf8427e
 * ```
 */
export function md5Digest(bytes: Uint8Array, start: number, end: number, out: Uint8Array, offset = 0): Uint8Array {
  md5(bytes, start, end, SHARED_WORDS, 0);
  for (let k = 0; k < 4; k++) {
    const w = SHARED_WORDS[k]!;
    out[offset + 4 * k] = w;
    out[offset + 4 * k + 1] = w >>> 8;
    out[offset + 4 * k + 2] = w >>> 16;
    out[offset + 4 * k + 3] = w >>> 24;
  }
  return out;
}

/**
 * MD5 of the UTF-8 bytes of `key` as 32 lowercase hex digits, like `md5sum`. It allocates a
 * string, so it is meant for tests, logs and docs, not for picks.
 *
 * @param key - any string; lone surrogates count as U+FFFD, as with `TextEncoder`.
 * @example
 * ```ts
 * import { md5Hex } from '../core/hash/index.js';
 * md5Hex('abc'); // '900150983cd24fb0d6963f7d28e17f72'
 * ```
 */
export function md5Hex(key: string): string {
  const words = md5String(key);
  let hex = '';
  for (let k = 0; k < 4; k++) {
    const w = words[k]!;
    for (let shift = 0; shift < 32; shift += 8) hex += ((w >>> shift) & 0xff).toString(16).padStart(2, '0');
  }
  return hex;
}
