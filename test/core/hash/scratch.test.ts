import { describe, expect, it } from 'vitest';
import {
  crc32,
  crc32String,
  md5,
  md5Hex,
  md5String,
  murmur3,
  murmur3String,
  utf8Scratch,
  xxhash32,
  xxhash32String,
} from '../../../src/core/hash/index.js';
import { utf8 } from './arbitraries.js';

/** Every hash of `key`, via the string entry points (which share the UTF-8 scratch). */
function allHashes(key: string): unknown[] {
  return [
    crc32String(key),
    xxhash32String(key),
    xxhash32String(key, 0x9e3779b1),
    murmur3String(key),
    murmur3String(key, 42),
    md5Hex(key),
    Array.from(md5String(key, new Uint32Array(4))),
  ];
}

/** The same hashes over a private copy of the bytes, which no scratch reuse can touch. */
function fromCopy(key: string): unknown[] {
  const b = utf8(key);
  const words = Array.from(md5(b, 0, b.length, new Uint32Array(4)));
  const hex = words.map((w) => [0, 8, 16, 24].map((s) => ((w >>> s) & 0xff).toString(16).padStart(2, '0')).join('')).join('');
  return [
    crc32(b),
    xxhash32(b),
    xxhash32(b, 0, b.length, 0x9e3779b1),
    murmur3(b),
    murmur3(b, 0, b.length, 42),
    hex,
    words,
  ];
}

describe('shared UTF-8 scratch', () => {
  const ascii20 = 'user-1234567890abcde';
  const nonAscii = 'ключ-κλειδί-🔑-\ud800';

  it('a 20-byte ASCII key and a non-ASCII key hash the same on every call, in any order', () => {
    expect(utf8(ascii20).length).toBe(20);
    const a = allHashes(ascii20);
    const n = allHashes(nonAscii);
    expect(a).toEqual(fromCopy(ascii20));
    expect(n).toEqual(fromCopy(nonAscii));
    for (let round = 0; round < 50; round++) {
      expect(allHashes(ascii20)).toEqual(a);
      expect(allHashes(nonAscii)).toEqual(n);
      // A shorter key after a longer one must not see the longer key's leftover bytes.
      expect(allHashes('')).toEqual(fromCopy(''));
      expect(allHashes(nonAscii)).toEqual(n);
      expect(allHashes(ascii20)).toEqual(a);
    }
  });

  it('results survive the scratch being replaced by a bigger one', () => {
    const a = allHashes(ascii20);
    const n = allHashes(nonAscii);
    const before = utf8Scratch();
    const huge = '𝄞'.repeat(before.length); // needs more than 3 bytes per current slot
    expect(allHashes(huge)).toEqual(fromCopy(huge));
    expect(utf8Scratch()).not.toBe(before);
    expect(allHashes(ascii20)).toEqual(a);
    expect(allHashes(nonAscii)).toEqual(n);
  });
});
