import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { murmur3, murmur3String } from '../../../src/core/hash/index.js';
import { anyString, bytesWithWindow, hex32, utf8 } from './arbitraries.js';

describe('murmur3 (x86_32)', () => {
  it('matches the reference vectors for strings', () => {
    const vectors: [string, number, number][] = [
      ['', 0, 0x00000000],
      ['', 1, 0x514e28b7],
      ['', 0xffffffff, 0x81f16f39],
      ['hello', 0, 0x248bfa47],
      ['abc', 0, 0xb3dd93fa],
      ['abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq', 0, 0xee925b90],
      ['The quick brown fox jumps over the lazy dog', 0, 0x2e4ff723],
      ['The quick brown fox jumps over the lazy dog', 0x9747b28c, 0x2fa826cd],
    ];
    for (const [input, seed, expected] of vectors) {
      expect(hex32(murmur3String(input, seed)), `${input} / ${seed}`).toBe(hex32(expected));
    }
  });

  it('matches the reference vectors for raw bytes (every tail length)', () => {
    const vectors: [number[], number, number][] = [
      [[0xff, 0xff, 0xff, 0xff], 0, 0x76293b50],
      [[0x21, 0x43, 0x65, 0x87], 0, 0xf55b516b],
      [[0x21, 0x43, 0x65, 0x87], 0x5082edee, 0x2362f9de],
      [[0x21, 0x43, 0x65], 0, 0x7e4a8634],
      [[0x21, 0x43], 0, 0xa0f7b07a],
      [[0x21], 0, 0x72661cf4],
      [[0, 0, 0, 0], 0, 0x2362f9de],
      [[0, 0, 0], 0, 0x85f0b427],
      [[0, 0], 0, 0x30f4c306],
      [[0], 0, 0x514e28b7],
    ];
    for (const [input, seed, expected] of vectors) {
      expect(hex32(murmur3(new Uint8Array(input), 0, input.length, seed)), `${input.join(',')} / ${seed}`).toBe(hex32(expected));
    }
  });

  it('murmur3String hashes the UTF-8 bytes, for any string', () => {
    fc.assert(
      fc.property(anyString, fc.integer(), (s, seed) => {
        const b = utf8(s);
        expect(murmur3String(s, seed)).toBe(murmur3(b, 0, b.length, seed));
      }),
    );
  });

  it('honours [start, end) inside a larger buffer', () => {
    fc.assert(
      fc.property(bytesWithWindow, fc.integer(), ({ bytes, start, end }, seed) => {
        expect(murmur3(bytes, start, end, seed)).toBe(murmur3(bytes.slice(start, end), 0, end - start, seed));
      }),
    );
  });

  it('returns unsigned 32-bit integers', () => {
    fc.assert(
      fc.property(anyString, fc.integer(), (s, seed) => {
        const h = murmur3String(s, seed);
        expect(Number.isInteger(h) && h >= 0 && h <= 0xffffffff).toBe(true);
      }),
    );
  });
});
