/**
 * CRC-32 (IEEE 802.3: reflected, polynomial 0xEDB88320), the checksum of zlib, PNG and nginx's
 * `ngx_crc32_long`.
 *
 * nginx's `hash … consistent` builds each server's points by chaining CRC updates (host, a NUL
 * byte, port, then the previous point's four bytes) and `hash $key` prefixes a retry counter, so
 * the incremental form mirrors nginx's `ngx_crc32_init` / `ngx_crc32_update` / `ngx_crc32_final`
 * rather than zlib's one-call style: {@link CRC32_INIT}, {@link crc32Update},
 * {@link crc32Final}.
 *
 * @module
 */

import { encodeUtf8, utf8Scratch } from './utf8.js';

// Built once at load: 1 KiB, and a byte-at-a-time table walk is already fast for the short keys
// balancers hash, so the 4-8 KiB of slice-by-N tables would not pay for themselves.
const TABLE = /* @__PURE__ */ buildTable();

function buildTable(): Int32Array {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
}

/**
 * The running state to start a CRC-32 with (nginx `ngx_crc32_init`): all ones.
 *
 * @example
 * ```ts
 * import { CRC32_INIT, crc32Final, crc32UpdateString } from '../core/hash/index.js';
 * crc32Final(crc32UpdateString(CRC32_INIT, 'a')); // 0xe8b7be43
 * ```
 */
export const CRC32_INIT = 0xffffffff;

/**
 * Feeds `bytes[start .. end)` into a running CRC-32 state and returns the new state (nginx
 * `ngx_crc32_update`). The state is not the checksum yet: pass it to {@link crc32Final}.
 *
 * States are plain numbers, so a shared prefix can be hashed once and the state reused for
 * many suffixes, the way nginx reuses its per-server base hash.
 *
 * @param state - {@link CRC32_INIT} or a state returned by an earlier update.
 * @param bytes - the input.
 * @param start - first index to read; default 0.
 * @param end - one past the last index to read; default `bytes.length`.
 * @example
 * ```ts
 * import { CRC32_INIT, crc32Final, crc32Update } from '../core/hash/index.js';
 * const bytes = new Uint8Array([0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39]);
 * let s = crc32Update(CRC32_INIT, bytes, 0, 4);
 * s = crc32Update(s, bytes, 4, 9);
 * crc32Final(s); // 0xcbf43926, the CRC of "123456789"
 * ```
 */
export function crc32Update(state: number, bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = state | 0;
  for (let i = start; i < end; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return c;
}

/**
 * Feeds one byte into a running CRC-32 state, for separators such as the NUL that nginx puts
 * between host and port.
 *
 * @param state - a running state.
 * @param byte - 0..255; higher bits are ignored.
 * @example
 * ```ts
 * import { CRC32_INIT, crc32UpdateByte, crc32UpdateString } from '../core/hash/index.js';
 * let s = crc32UpdateString(CRC32_INIT, '10.0.0.1');
 * s = crc32UpdateByte(s, 0);
 * s = crc32UpdateString(s, '80');
 * ```
 */
export function crc32UpdateByte(state: number, byte: number): number {
  return TABLE[(state ^ byte) & 0xff]! ^ (state >>> 8);
}

/**
 * Feeds a 32-bit value as four little-endian bytes into a running CRC-32 state.
 *
 * nginx hashes the previous point through a `union { uint32_t value; u_char byte[4]; }`, which
 * on the little-endian machines nginx runs on is exactly this byte order.
 *
 * @param state - a running state.
 * @param value - any number; it is taken modulo 2^32.
 * @example
 * ```ts
 * import { crc32Final, crc32UpdateUint32LE } from '../core/hash/index.js';
 * // one nginx consistent-hash point, given the server's base state and the previous point
 * const point = (base: number, prev: number) => crc32Final(crc32UpdateUint32LE(base, prev));
 * ```
 */
export function crc32UpdateUint32LE(state: number, value: number): number {
  let c = state | 0;
  c = TABLE[(c ^ value) & 0xff]! ^ (c >>> 8);
  c = TABLE[(c ^ (value >>> 8)) & 0xff]! ^ (c >>> 8);
  c = TABLE[(c ^ (value >>> 16)) & 0xff]! ^ (c >>> 8);
  return TABLE[(c ^ (value >>> 24)) & 0xff]! ^ (c >>> 8);
}

/**
 * Feeds the UTF-8 bytes of `text` into a running CRC-32 state. Uses the shared UTF-8 scratch
 * buffer, so it allocates nothing (unless `text` is the longest string seen so far).
 *
 * @param state - a running state.
 * @param text - any string.
 * @example
 * ```ts
 * import { CRC32_INIT, crc32Final, crc32UpdateString } from '../core/hash/index.js';
 * crc32Final(crc32UpdateString(crc32UpdateString(CRC32_INIT, '1234'), '56789')); // 0xcbf43926
 * ```
 */
export function crc32UpdateString(state: number, text: string): number {
  const length = encodeUtf8(text);
  return crc32Update(state, utf8Scratch(), 0, length);
}

/**
 * Turns a running CRC-32 state into the checksum (nginx `ngx_crc32_final`), an unsigned 32-bit
 * integer.
 *
 * @param state - a running state.
 * @example
 * ```ts
 * import { CRC32_INIT, crc32Final } from '../core/hash/index.js';
 * crc32Final(CRC32_INIT); // 0, the CRC of no bytes
 * ```
 */
export function crc32Final(state: number): number {
  return ~state >>> 0;
}

/**
 * CRC-32 of `bytes[start .. end)` in one call; the same value as zlib's `crc32` and nginx's
 * `ngx_crc32_long`.
 *
 * @param bytes - the input.
 * @param start - first index to read; default 0.
 * @param end - one past the last index to read; default `bytes.length`.
 * @returns an unsigned 32-bit integer.
 * @example
 * ```ts
 * import { crc32 } from '../core/hash/index.js';
 * crc32(new Uint8Array([0x61])); // 0xe8b7be43
 * ```
 */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  return ~crc32Update(CRC32_INIT, bytes, start, end) >>> 0;
}

/**
 * CRC-32 of the UTF-8 bytes of `key`, without allocating.
 *
 * @param key - any string; lone surrogates count as U+FFFD, as with `TextEncoder`.
 * @returns an unsigned 32-bit integer.
 * @example
 * ```ts
 * import { crc32String } from '../core/hash/index.js';
 * crc32String('The quick brown fox jumps over the lazy dog'); // 0x414fa339
 * ```
 */
export function crc32String(key: string): number {
  const length = encodeUtf8(key);
  return ~crc32Update(CRC32_INIT, utf8Scratch(), 0, length) >>> 0;
}
