import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { md5, md5Digest, md5Hex, md5String } from '../../../src/core/hash/index.js';
import { anyString, bytesWithWindow, utf8 } from './arbitraries.js';

const nodeMd5 = (bytes: Uint8Array): Buffer => createHash('md5').update(bytes).digest();

// npm `hashring` (a devDependency, ketama-compatible) ships no types; only these members are used.
interface HashRingLike {
  ring: { value: number; server: string }[];
  hashValue(key: string): number;
}
const HashRing = createRequire(import.meta.url)('hashring') as new (servers: string[]) => HashRingLike;

describe('md5', () => {
  it('matches the RFC 1321 test suite', () => {
    const vectors: [string, string][] = [
      ['', 'd41d8cd98f00b204e9800998ecf8427e'],
      ['a', '0cc175b9c0f1b6a831c399e269772661'],
      ['abc', '900150983cd24fb0d6963f7d28e17f72'],
      ['message digest', 'f96b697d7cb7938d525a2f31aaf161d0'],
      ['abcdefghijklmnopqrstuvwxyz', 'c3fcd3d76192e4007dfb496cca67e13b'],
      ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 'd174ab98d277d9f5a5611c2c9f419d9f'],
      ['1234567890'.repeat(8), '57edf4a22be3c955ac49da2e2107b67a'],
    ];
    for (const [input, expected] of vectors) expect(md5Hex(input), input).toBe(expected);
  });

  it('words are the digest read as little-endian uint32s, which is ketama\'s point formula', () => {
    const words = md5String('10.0.0.1:11211-0', new Uint32Array(4));
    const d = nodeMd5(utf8('10.0.0.1:11211-0'));
    for (let k = 0; k < 4; k++) {
      const ketama = ((d[3 + 4 * k]! << 24) | (d[2 + 4 * k]! << 16) | (d[1 + 4 * k]! << 8) | d[4 * k]!) >>> 0;
      expect(words[k]).toBe(ketama);
    }
  });

  it('reproduces npm hashring: its 160 ketama points for a server, and its key hash', () => {
    const server = '10.0.0.1:11211';
    const ring = new HashRing([server]);
    const ours: number[] = [];
    const words = new Uint32Array(4);
    for (let i = 0; i < 40; i++) ours.push(...md5String(`${server}-${i}`, words));
    expect(ring.ring.map((node) => node.value)).toEqual(ours.sort((a, b) => a - b));

    fc.assert(
      fc.property(anyString, (key) => {
        expect(md5String(key)[0]).toBe(ring.hashValue(key));
      }),
      { numRuns: 300 },
    );
  });

  it('writes at the requested offset and returns the buffer it wrote', () => {
    const out = new Uint32Array(12);
    expect(md5String('abc', out, 4)).toBe(out);
    expect(Array.from(out.subarray(0, 4))).toEqual([0, 0, 0, 0]);
    expect(out[4]).toBe(0x98500190);
    expect(Array.from(out.subarray(8))).toEqual([0, 0, 0, 0]);

    const digest = new Uint8Array(20);
    md5Digest(utf8('abc'), 0, 3, digest, 2);
    expect(Buffer.from(digest.subarray(2, 18)).toString('hex')).toBe('900150983cd24fb0d6963f7d28e17f72');
  });

  it('matches node:crypto at every length around the padding boundaries (0..200 bytes)', () => {
    const input = new Uint8Array(200);
    for (let i = 0; i < input.length; i++) input[i] = (i * 37 + 11) & 0xff;
    const digest = new Uint8Array(16);
    for (let n = 0; n <= 200; n++) {
      md5Digest(input, 0, n, digest);
      expect(Buffer.from(digest).equals(nodeMd5(input.subarray(0, n))), `length ${n}`).toBe(true);
    }
  });

  it('matches node:crypto for arbitrary strings', () => {
    fc.assert(
      fc.property(anyString, (s) => {
        expect(md5Hex(s)).toBe(nodeMd5(utf8(s)).toString('hex'));
      }),
      { numRuns: 1000 },
    );
  });

  it('matches node:crypto on a window [start, end) of a larger buffer', () => {
    const words = new Uint32Array(4);
    fc.assert(
      fc.property(bytesWithWindow, ({ bytes, start, end }) => {
        md5(bytes, start, end, words);
        const d = nodeMd5(bytes.slice(start, end));
        expect(Array.from(words)).toEqual([0, 4, 8, 12].map((i) => d.readUInt32LE(i)));
      }),
    );
  });
});
