import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeUtf8, utf8Scratch } from '../../../src/core/hash/index.js';
import { anyString, utf8 } from './arbitraries.js';

function encoded(s: string): number[] {
  const n = encodeUtf8(s);
  return Array.from(utf8Scratch().subarray(0, n));
}

describe('encodeUtf8', () => {
  it('encodes each UTF-8 length class', () => {
    expect(encoded('')).toEqual([]);
    expect(encoded('a\u0000~\u007f')).toEqual([0x61, 0x00, 0x7e, 0x7f]);
    expect(encoded('\u0080é\u07ff')).toEqual([0xc2, 0x80, 0xc3, 0xa9, 0xdf, 0xbf]);
    expect(encoded('\u0800€\uffff')).toEqual([0xe0, 0xa0, 0x80, 0xe2, 0x82, 0xac, 0xef, 0xbf, 0xbf]);
    expect(encoded('\u{10000}𝄞\u{10ffff}')).toEqual([
      0xf0, 0x90, 0x80, 0x80, 0xf0, 0x9d, 0x84, 0x9e, 0xf4, 0x8f, 0xbf, 0xbf,
    ]);
  });

  it('turns every lone surrogate into U+FFFD, like TextEncoder', () => {
    const fffd = [0xef, 0xbf, 0xbd];
    expect(encoded('\ud800')).toEqual(fffd);
    expect(encoded('\udfff')).toEqual(fffd);
    expect(encoded('\ud800a')).toEqual([...fffd, 0x61]);
    expect(encoded('a\ud83d')).toEqual([0x61, ...fffd]);
    // A low surrogate before a high one is two orphans, not a pair.
    expect(encoded('\udc00\ud800')).toEqual([...fffd, ...fffd]);
    expect(encoded('\ud800\ud800\udc00')).toEqual([...fffd, 0xf0, 0x90, 0x80, 0x80]);
  });

  it('matches TextEncoder for arbitrary strings, lone surrogates included', () => {
    fc.assert(
      fc.property(anyString, (s) => {
        expect(encoded(s)).toEqual(Array.from(utf8(s)));
      }),
      { numRuns: 2000 },
    );
  });

  it('grows the scratch for a long key and stays correct for short keys afterwards', () => {
    const long = '€𝄞x'.repeat(5000);
    const n = encodeUtf8(long);
    expect(n).toBe(5000 * 8);
    expect(utf8Scratch().length).toBeGreaterThanOrEqual(long.length * 3);
    expect(utf8Scratch().subarray(0, n)).toEqual(utf8(long));
    expect(encoded('ab')).toEqual([0x61, 0x62]);
  });

  it('does not reallocate for keys that fit', () => {
    encodeUtf8('x'.repeat(50));
    const before = utf8Scratch();
    for (const s of ['', 'a', 'κλειδί', '🔑'.repeat(10), 'y'.repeat(50)]) encodeUtf8(s);
    expect(utf8Scratch()).toBe(before);
  });
});
