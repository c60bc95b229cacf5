/**
 * UTF-8 encoding into one shared, reusable buffer.
 *
 * Every hash in this folder works on the UTF-8 bytes of a key, because that is what nginx,
 * libketama and the published test vectors hash. `TextEncoder` is not part of ECMAScript and
 * `encodeInto` still needs a destination per call, so keys are encoded here into a single
 * module-level buffer: a pick hashes its key without allocating anything.
 *
 * @module
 */

// Big enough for typical keys (ids, host:port, URLs, session tokens) so that most programs
// never grow it at all.
const INITIAL_SCRATCH_BYTES = 256;

let scratch = new Uint8Array(INITIAL_SCRATCH_BYTES);

/**
 * Returns the shared buffer that {@link encodeUtf8} writes into.
 *
 * Fetch it after calling `encodeUtf8`, never before: a longer key replaces the buffer with a
 * bigger one. Its contents are overwritten by the next `encodeUtf8` call anywhere in the
 * library, so read the bytes before calling anything else that hashes a string.
 *
 * @example
 * ```ts
 * import { encodeUtf8, utf8Scratch } from '../core/hash/index.js';
 * const length = encodeUtf8('héllo');
 * const bytes = utf8Scratch(); // bytes[0 .. length) hold 68 c3 a9 6c 6c 6f
 * ```
 */
export function utf8Scratch(): Uint8Array {
  return scratch;
}

/**
 * Writes the UTF-8 bytes of `key` into the shared scratch buffer (see {@link utf8Scratch}) and
 * returns how many bytes were written.
 *
 * The output is byte-for-byte what `new TextEncoder().encode(key)` gives, including for
 * malformed strings: each lone surrogate becomes U+FFFD (`EF BF BD`). Only a key longer than
 * any seen before allocates (to grow the buffer); every other call allocates nothing.
 *
 * @param key - any JavaScript string.
 * @returns the number of bytes written at the start of the scratch buffer.
 * @example
 * ```ts
 * import { encodeUtf8, utf8Scratch } from '../core/hash/index.js';
 * const n = encodeUtf8('a€'); // 4: 61 e2 82 ac
 * const firstByte = utf8Scratch()[0]; // 0x61
 * ```
 */
export function encodeUtf8(key: string): number {
  const units = key.length;
  // Three bytes per UTF-16 code unit is the worst case (a surrogate pair is two units for four
  // bytes), so checking once up front keeps bounds checks out of the loop.
  if (units * 3 > scratch.length) grow(units * 3);
  const out = scratch;
  let pos = 0;
  for (let i = 0; i < units; i++) {
    let code = key.charCodeAt(i);
    if (code < 0x80) {
      out[pos++] = code;
      continue;
    }
    if (code < 0x800) {
      out[pos++] = 0xc0 | (code >>> 6);
      out[pos++] = 0x80 | (code & 0x3f);
      continue;
    }
    if (code >= 0xd800 && code <= 0xdfff) {
      if (code <= 0xdbff && i + 1 < units) {
        const low = key.charCodeAt(i + 1);
        if (low >= 0xdc00 && low <= 0xdfff) {
          i++;
          code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
          out[pos++] = 0xf0 | (code >>> 18);
          out[pos++] = 0x80 | ((code >>> 12) & 0x3f);
          out[pos++] = 0x80 | ((code >>> 6) & 0x3f);
          out[pos++] = 0x80 | (code & 0x3f);
          continue;
        }
      }
      // An unpaired surrogate has no UTF-8 form; U+FFFD is what TextEncoder, Node's buffers and
      // the WHATWG spec produce, so keys hash the same as in other JavaScript hashing code.
      code = 0xfffd;
    }
    out[pos++] = 0xe0 | (code >>> 12);
    out[pos++] = 0x80 | ((code >>> 6) & 0x3f);
    out[pos++] = 0x80 | (code & 0x3f);
  }
  return pos;
}

function grow(minBytes: number): void {
  // Doubling keeps the number of reallocations logarithmic when key lengths creep upward.
  let size = scratch.length * 2;
  while (size < minBytes) size *= 2;
  scratch = new Uint8Array(size);
}
