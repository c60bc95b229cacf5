import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { xxhash32, xxhash32String } from '../../../src/core/hash/index.js';
import { anyString, bytes0to100, bytesWithWindow, hex32, utf8 } from './arbitraries.js';

const P1 = 2654435761;
const P2 = 2246822519;
const P3 = 3266489917;
const P4 = 668265263;
const P5 = 374761393;

/** 32-bit multiply from 16-bit halves, deliberately not Math.imul, so the reference shares no trick with src. */
function mul(a: number, b: number): number {
  const lo = (a & 0xffff) * b;
  const hi = ((((a >>> 16) * (b & 0xffff)) % 65536) * 65536) % 4294967296;
  return (lo + hi) % 4294967296;
}
const add = (a: number, b: number): number => (a + b) % 4294967296;
const rotl = (x: number, r: number): number => ((x << r) | (x >>> (32 - r))) >>> 0;

/** The XXH32 algorithm as its spec (doc/xxhash_spec.md) states it, step by step. */
function referenceXxh32(input: Uint8Array, seed: number): number {
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const len = input.length;
  let i = 0;
  let acc: number;
  if (len >= 16) {
    const lanes = [add(add(seed, P1), P2), add(seed, P2), seed, (seed - P1 + 4294967296) % 4294967296];
    while (len - i >= 16) {
      for (let l = 0; l < 4; l++) {
        lanes[l] = mul(rotl(add(lanes[l]!, mul(view.getUint32(i, true), P2)), 13), P1);
        i += 4;
      }
    }
    acc = add(add(add(rotl(lanes[0]!, 1), rotl(lanes[1]!, 7)), rotl(lanes[2]!, 12)), rotl(lanes[3]!, 18));
  } else {
    acc = add(seed, P5);
  }
  acc = add(acc, len);
  while (len - i >= 4) {
    acc = mul(rotl(add(acc, mul(view.getUint32(i, true), P3)), 17), P4);
    i += 4;
  }
  while (i < len) {
    acc = mul(rotl(add(acc, mul(input[i]!, P5)), 11), P1);
    i += 1;
  }
  acc = (acc ^ (acc >>> 15)) >>> 0;
  acc = mul(acc, P2);
  acc = (acc ^ (acc >>> 13)) >>> 0;
  acc = mul(acc, P3);
  acc = (acc ^ (acc >>> 16)) >>> 0;
  return acc;
}

/** The 101-byte buffer of xxHash's own sanity check (xxhsum `BMK_sanityCheck`). */
function sanityBuffer(): Uint8Array {
  const buf = new Uint8Array(101);
  let gen = P1;
  for (let i = 0; i < buf.length; i++) {
    buf[i] = gen >>> 24;
    gen = Math.imul(gen, gen) >>> 0;
  }
  return buf;
}

describe('xxhash32', () => {
  it('matches the published vectors', () => {
    const vectors: [string, number, number][] = [
      ['', 0, 0x02cc5d05],
      ['a', 0, 0x550d7456],
      ['abc', 0, 0x32d153ff],
      ['Nobody inspects the spammish repetition', 0, 0xe2293b2f],
    ];
    for (const [input, seed, expected] of vectors) {
      expect(hex32(xxhash32String(input, seed)), input).toBe(hex32(expected));
      expect(hex32(xxhash32(utf8(input), 0, utf8(input).length, seed)), input).toBe(hex32(expected));
    }
  });

  it("matches xxHash's own sanity check, seeds 0 and PRIME32_1", () => {
    const buf = sanityBuffer();
    const vectors: [number, number, number][] = [
      [0, 0, 0x02cc5d05],
      [0, P1, 0x36b78ae7],
      [1, 0, 0xb85cbee5],
      [1, P1, 0xd5845d64],
      [14, 0, 0xe5aa0ab4],
      [14, P1, 0x4481951d],
      [101, 0, 0x1f1aa412],
      [101, P1, 0x498ec8e2],
    ];
    for (const [len, seed, expected] of vectors) {
      expect(hex32(xxhash32(buf, 0, len, seed)), `len ${len} seed ${seed}`).toBe(hex32(expected));
      // The signed spelling of the same seed bits must give the same hash.
      expect(xxhash32(buf, 0, len, seed | 0)).toBe(expected);
    }
  });

  it('the reference in this file reproduces the sanity vectors too (so it can be trusted)', () => {
    const buf = sanityBuffer();
    expect(referenceXxh32(buf.subarray(0, 14), P1)).toBe(0x4481951d);
    expect(referenceXxh32(buf, 0)).toBe(0x1f1aa412);
  });

  it('matches the spec-following reference for every length 0..100 and any seed', () => {
    fc.assert(
      fc.property(bytes0to100, fc.integer({ min: 0, max: 0xffffffff }), (bytes, seed) => {
        expect(xxhash32(bytes, 0, bytes.length, seed)).toBe(referenceXxh32(bytes, seed));
      }),
      { numRuns: 2000 },
    );
  });

  it('xxhash32String hashes the UTF-8 bytes, for any string', () => {
    fc.assert(
      fc.property(anyString, fc.integer({ min: 0, max: 0xffffffff }), (s, seed) => {
        expect(xxhash32String(s, seed)).toBe(referenceXxh32(utf8(s), seed));
      }),
    );
  });

  it('honours [start, end) inside a larger buffer', () => {
    fc.assert(
      fc.property(bytesWithWindow, fc.integer(), ({ bytes, start, end }, seed) => {
        expect(xxhash32(bytes, start, end, seed)).toBe(xxhash32(bytes.slice(start, end), 0, end - start, seed));
      }),
    );
  });
});

describe('xxhash32String ASCII fast path', () => {
  it('equals hashing the UTF-8 bytes for ASCII keys of every length and any seed', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)), maxLength: 100 }), fc.integer(), (key, seed) => {
        expect(xxhash32String(key, seed)).toBe(xxhash32(new TextEncoder().encode(key), 0, undefined, seed));
      }),
      { numRuns: 2000 },
    );
  });
});
