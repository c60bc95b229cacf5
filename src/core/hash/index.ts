/**
 * Hash primitives for the consistent-hash family, over the UTF-8 bytes of keys. Internal: the
 * balancers in `src/hashing/` use these; nothing here is part of the public API yet.
 *
 * Every `…String` function and {@link encodeUtf8} share one scratch buffer, so none of them
 * allocates per call, and none of them is reentrant with another's pending bytes: read the
 * scratch before hashing the next string.
 *
 * @module
 */

export { encodeUtf8, utf8Scratch } from './utf8.js';
export {
  CRC32_INIT,
  crc32,
  crc32Final,
  crc32String,
  crc32Update,
  crc32UpdateByte,
  crc32UpdateString,
  crc32UpdateUint32LE,
} from './crc32.js';
export { md5, md5Digest, md5Hex, md5String } from './md5.js';
export { xxhash32, xxhash32String } from './xxhash32.js';
export { murmur3, murmur3String } from './murmur3.js';
export { fmix32, mix32 } from './mix.js';
