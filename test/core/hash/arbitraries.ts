import fc from 'fast-check';

/** Any single UTF-16 code unit, lone surrogates included. */
const utf16Unit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));

/** Surrogate halves alone, so that pairs, reversed pairs and orphans all come up often. */
const surrogateUnit = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));

/**
 * Strings that exercise every UTF-8 length class: ASCII, 2- and 3-byte BMP, astral code points
 * (4 bytes), well-formed surrogate pairs, and lone or misordered surrogates.
 */
export const anyString: fc.Arbitrary<string> = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: utf16Unit }),
  fc.string({ unit: fc.oneof(surrogateUnit, fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })) }),
);

/** Byte arrays of every length 0..100, which covers all block, stripe and tail paths. */
export const bytes0to100: fc.Arbitrary<Uint8Array> = fc.uint8Array({ minLength: 0, maxLength: 100 });

/** A byte array with a window [start, end) inside it, to check that offsets are honoured. */
export const bytesWithWindow: fc.Arbitrary<{ bytes: Uint8Array; start: number; end: number }> = fc
  .uint8Array({ minLength: 0, maxLength: 160 })
  .chain((bytes) =>
    fc
      .tuple(fc.nat({ max: bytes.length }), fc.nat({ max: bytes.length }))
      .map(([x, y]) => ({ bytes, start: Math.min(x, y), end: Math.max(x, y) })),
  );

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

export const hex32 = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;
