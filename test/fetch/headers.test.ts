import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkHeaders, hasForbiddenCharacter, HOP_BY_HOP_HEADERS, removeHopByHop, responseHeaders } from '../../src/fetch/headers.js';
import type { HeadersLike } from '../../src/fetch/web.js';

/** The header names left, sorted (what `Headers` iterates). */
function names(headers: Headers): string[] {
  return [...headers.keys()];
}

/** A `HeadersLike` over a plain list, able to hold what real `Headers` refuses (CR, LF, NUL). */
function fakeHeaders(entries: readonly (readonly [string, string])[]): HeadersLike {
  const list = entries.map(([n, v]) => [n, v] as [string, string]);
  return {
    get: (name) => list.find(([n]) => n === name.toLowerCase())?.[1] ?? null,
    has: (name) => list.some(([n]) => n === name.toLowerCase()),
    set: () => {},
    append: () => {},
    delete: () => {},
    forEach: (callback) => {
      for (const [n, v] of list) callback(v, n);
    },
  };
}

/** Characters with the control range well represented (CR, LF and NUL among them). */
const controlHeavyChar = fc.oneof(
  fc.integer({ min: 0, max: 0x20 }).map((c) => String.fromCharCode(c)),
  fc.integer({ min: 0x21, max: 0x3ff }).map((c) => String.fromCharCode(c)),
);

const copy = (h: HeadersLike): HeadersLike => new Headers(h as unknown as Headers);

describe('removeHopByHop', () => {
  it('lists exactly the RFC 9110 §7.6.1 hop-by-hop fields plus Keep-Alive and Proxy-Connection', () => {
    expect([...HOP_BY_HOP_HEADERS].sort()).toEqual(
      ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'].sort(),
    );
  });

  it('removes every fixed hop-by-hop header and keeps end-to-end ones', () => {
    const h = new Headers({
      Connection: 'keep-alive',
      'Keep-Alive': 'timeout=5',
      'Proxy-Connection': 'keep-alive',
      TE: 'trailers',
      Trailer: 'x-checksum',
      'Transfer-Encoding': 'chunked',
      Upgrade: 'websocket',
      Accept: '*/*',
      'Content-Type': 'text/plain',
      Authorization: 'Bearer t',
    });
    removeHopByHop(h);
    expect(names(h)).toEqual(['accept', 'authorization', 'content-type']);
  });

  it('removes every header named in Connection: case-insensitive, several tokens, odd spacing', () => {
    const h = new Headers({
      connection: 'close,X-Secret ,  x-OTHER\t, ,X-Third',
      'x-secret': '1',
      'X-Other': '2',
      'x-third': '3',
      'x-kept': '4',
    });
    removeHopByHop(h);
    expect(names(h)).toEqual(['x-kept']);
  });

  it('honours several Connection headers (combined by Headers with ", ")', () => {
    const h = new Headers();
    h.append('connection', 'x-a');
    h.append('connection', 'X-B');
    h.set('x-a', '1');
    h.set('x-b', '2');
    h.set('x-c', '3');
    removeHopByHop(h);
    expect(names(h)).toEqual(['x-c']);
  });

  it('ignores invalid tokens in Connection (no header is removed for them)', () => {
    const deleted: string[] = [];
    const h: HeadersLike = {
      ...fakeHeaders([['connection', 'x a, x"q", (c), x/y, x:y, é, ok-token']]),
      delete: (name) => void deleted.push(name),
    };
    removeHopByHop(h);
    expect(deleted).toEqual(['ok-token', ...HOP_BY_HOP_HEADERS]);
  });

  it('does nothing to a header section without hop-by-hop fields', () => {
    const h = new Headers({ accept: 'text/html', 'x-request-id': 'abc' });
    removeHopByHop(h);
    expect([...h]).toEqual([
      ['accept', 'text/html'],
      ['x-request-id', 'abc'],
    ]);
  });
});

describe('checkHeaders', () => {
  it.each([
    ['CR', 'a\rb'],
    ['LF', 'a\nb'],
    ['NUL', 'a\u0000b'],
    ['CRLF injection', 'v\r\nx-injected: 1'],
    ['trailing LF', 'value\n'],
  ])('a value with %s is a bad-character', (_label, value) => {
    expect(checkHeaders(fakeHeaders([['x-a', 'ok'], ['x-b', value]]), 1_000_000)).toBe('bad-character');
  });

  it('a forbidden character wins over the size limit', () => {
    expect(checkHeaders(fakeHeaders([['x-a', 'a'.repeat(100)], ['x-b', '\n']]), 10)).toBe('bad-character');
  });

  it('other control characters and non-ASCII are not forbidden characters', () => {
    expect(checkHeaders(fakeHeaders([['x-a', 'tab\there \u0001 é']]), 1_000)).toBe('ok');
    expect(hasForbiddenCharacter('\t\u0001\u007f\u00ff')).toBe(false);
  });

  it('hasForbiddenCharacter is true exactly for strings holding CR, LF or NUL', () => {
    fc.assert(
      fc.property(fc.string({ unit: controlHeavyChar, maxLength: 20 }), (s) => {
        expect(hasForbiddenCharacter(s)).toBe(/[\r\n\u0000]/.test(s));
      }),
    );
  });

  it('the size is Σ name.length + value.length + 4, and the limit is inclusive', () => {
    // 'x-a' + 'bcd' + 4 = 10; 'x-long' + 'v' + 4 = 11; total 21.
    const entries = [
      ['x-a', 'bcd'],
      ['x-long', 'v'],
    ] as const;
    expect(checkHeaders(fakeHeaders(entries), 21)).toBe('ok');
    expect(checkHeaders(fakeHeaders(entries), 20)).toBe('too-large');
    expect(checkHeaders(new Headers(entries.map(([n, v]) => [n, v])), 21)).toBe('ok');
    expect(checkHeaders(new Headers(entries.map(([n, v]) => [n, v])), 20)).toBe('too-large');
  });

  it('the boundary holds for any header section (property)', () => {
    const name = fc.string({ unit: fc.constantFrom(...'abcxyz019-'), minLength: 1, maxLength: 8 });
    const value = fc.string({ unit: fc.constantFrom(...'az09 ~!"é'), maxLength: 12 });
    fc.assert(
      fc.property(fc.array(fc.tuple(name, value), { maxLength: 6 }), (entries) => {
        const size = entries.reduce((s, [n, v]) => s + n.length + v.length + 4, 0);
        const h = fakeHeaders(entries);
        expect(checkHeaders(h, size)).toBe('ok');
        if (size > 0) expect(checkHeaders(h, size - 1)).toBe('too-large');
      }),
    );
  });

  it('an empty header section is ok', () => {
    expect(checkHeaders(new Headers(), 1)).toBe('ok');
  });
});

describe('responseHeaders', () => {
  const encoded = (coding: string): Headers =>
    new Headers({ 'content-encoding': coding, 'content-length': '123', 'content-type': 'text/plain' });

  it.each(['gzip', 'x-gzip', 'deflate', 'br', 'zstd', 'GZIP', 'gzip, br', 'deflate,gzip', ' br , zstd '])(
    'drops Content-Encoding and Content-Length for %j, which fetch decodes',
    (coding) => {
      const out = responseHeaders(encoded(coding), true, copy) as unknown as Headers;
      expect(names(out)).toEqual(['content-type']);
    },
  );

  it.each(['compress', 'identity', 'gzip, compress', 'snappy', '', 'gzip,'])('keeps them for %j (not all decoded by fetch)', (coding) => {
    const out = responseHeaders(encoded(coding), true, copy) as unknown as Headers;
    expect(out.get('content-encoding')).toBe(coding);
    expect(out.get('content-length')).toBe('123');
  });

  it('keeps them when fetchDecodes is false', () => {
    const out = responseHeaders(encoded('gzip'), false, copy) as unknown as Headers;
    expect(out.get('content-encoding')).toBe('gzip');
    expect(out.get('content-length')).toBe('123');
  });

  it('keeps Content-Length when there is no Content-Encoding', () => {
    const out = responseHeaders(new Headers({ 'content-length': '5' }), true, copy) as unknown as Headers;
    expect(out.get('content-length')).toBe('5');
  });

  it('removes hop-by-hop headers, including those named in Connection', () => {
    const upstream = new Headers({
      connection: 'x-internal',
      'x-internal': 'secret',
      'keep-alive': 'timeout=5',
      'transfer-encoding': 'chunked',
      'content-type': 'application/json',
    });
    const out = responseHeaders(upstream, true, copy) as unknown as Headers;
    expect(names(out)).toEqual(['content-type']);
  });

  it('works on a copy and leaves the upstream headers untouched', () => {
    const upstream = encoded('gzip');
    upstream.set('connection', 'close');
    const before = [...upstream];
    const out = responseHeaders(upstream, true, copy);
    expect(out).not.toBe(upstream);
    expect([...upstream]).toEqual(before);
  });

  it('keeps several Set-Cookie headers as separate fields', () => {
    const upstream = new Headers();
    upstream.append('set-cookie', 'a=1; Path=/; Expires=Wed, 21 Oct 2015 07:28:00 GMT');
    upstream.append('set-cookie', 'b=2; HttpOnly');
    upstream.append('set-cookie', 'c=3');
    upstream.set('content-encoding', 'gzip');
    const out = responseHeaders(upstream, true, copy) as unknown as Headers;
    expect(out.getSetCookie()).toEqual(['a=1; Path=/; Expires=Wed, 21 Oct 2015 07:28:00 GMT', 'b=2; HttpOnly', 'c=3']);
    expect(out.has('content-encoding')).toBe(false);
  });
});
