import * as zlib from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CRC32_INIT,
  crc32,
  crc32Final,
  crc32String,
  crc32Update,
  crc32UpdateByte,
  crc32UpdateString,
  crc32UpdateUint32LE,
} from '../../../src/core/hash/index.js';
import { anyString, bytes0to100, bytesWithWindow, hex32, utf8 } from './arbitraries.js';

// zlib.crc32 arrived in Node 20.15 / 22.2; older Nodes skip the cross-checks, not the vectors.
const zlibCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

describe('crc32', () => {
  it('matches the published CRC-32/ISO-HDLC vectors', () => {
    const vectors: [string, number][] = [
      ['', 0x00000000],
      ['a', 0xe8b7be43],
      ['abc', 0x352441c2],
      ['123456789', 0xcbf43926],
      ['The quick brown fox jumps over the lazy dog', 0x414fa339],
    ];
    for (const [input, expected] of vectors) {
      expect(hex32(crc32String(input)), input).toBe(hex32(expected));
      expect(hex32(crc32(utf8(input))), input).toBe(hex32(expected));
    }
  });

  it('chains updates the way nginx does (init, update…, final)', () => {
    expect(crc32Final(CRC32_INIT)).toBe(0);
    let s = crc32UpdateString(CRC32_INIT, '1234');
    s = crc32UpdateString(s, '');
    s = crc32Update(s, utf8('56789'), 0, 5);
    expect(hex32(crc32Final(s))).toBe('0xcbf43926');
  });

  it('crc32UpdateByte and crc32UpdateUint32LE equal updating with the same bytes', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 0xffffffff }), (prefix, byte, word) => {
        const base = crc32UpdateString(CRC32_INIT, prefix);
        expect(crc32Final(crc32UpdateByte(base, byte))).toBe(crc32Final(crc32Update(base, new Uint8Array([byte]))));
        const le = new Uint8Array([word & 0xff, (word >>> 8) & 0xff, (word >>> 16) & 0xff, word >>> 24]);
        expect(crc32Final(crc32UpdateUint32LE(base, word))).toBe(crc32Final(crc32Update(base, le)));
        // Signed and unsigned spellings of the same 32 bits are the same point.
        expect(crc32UpdateUint32LE(base, word | 0)).toBe(crc32UpdateUint32LE(base, word));
      }),
    );
  });

  it('a base state can be reused for many suffixes (nginx per-server base hash)', () => {
    // host "10.0.0.1", NUL, port "80", as ngx_http_upstream_update_chash_points does.
    let base = crc32UpdateString(CRC32_INIT, '10.0.0.1');
    base = crc32UpdateByte(base, 0);
    base = crc32UpdateString(base, '80');
    let prev = 0;
    for (let j = 0; j < 5; j++) {
      const point = crc32Final(crc32UpdateUint32LE(base, prev));
      const le = new Uint8Array([prev & 0xff, (prev >>> 8) & 0xff, (prev >>> 16) & 0xff, prev >>> 24]);
      const whole = new Uint8Array([...utf8('10.0.0.1'), 0, ...utf8('80'), ...le]);
      expect(point).toBe(crc32(whole));
      prev = point;
    }
  });

  it('any split of the input gives the same CRC', () => {
    fc.assert(
      fc.property(bytes0to100, fc.nat(), (bytes, cut) => {
        const k = cut % (bytes.length + 1);
        expect(crc32Final(crc32Update(crc32Update(CRC32_INIT, bytes, 0, k), bytes, k, bytes.length))).toBe(crc32(bytes));
      }),
    );
  });

  it('honours [start, end) inside a larger buffer', () => {
    fc.assert(
      fc.property(bytesWithWindow, ({ bytes, start, end }) => {
        expect(crc32(bytes, start, end)).toBe(crc32(bytes.slice(start, end)));
      }),
    );
  });

  it.runIf(zlibCrc32 !== undefined)('matches node:zlib crc32 on arbitrary bytes and strings', () => {
    const z = zlibCrc32!;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(crc32(bytes)).toBe(z(bytes));
      }),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(anyString, (s) => {
        expect(crc32String(s)).toBe(z(utf8(s)));
      }),
      { numRuns: 1000 },
    );
  });
});
