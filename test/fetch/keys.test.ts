import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clientAddressKey, cookieKey, headerKey, queryKey } from '../../src/fetch/keys.js';
import type { RequestLike } from '../../src/fetch/web.js';

function request(url: string, headers: Record<string, string> = {}): RequestLike {
  return new Request(url, { headers }) as unknown as RequestLike;
}

/** A request whose `url` is exactly `url` (as an adapter or a test double may hand it over). */
function rawUrl(url: string): RequestLike {
  return { method: 'GET', url, headers: new Headers() as unknown as RequestLike['headers'], body: null };
}

describe('headerKey', () => {
  it("is the header's value, looked up case-insensitively", () => {
    const key = headerKey('X-User');
    expect(key(request('http://p.example/', { 'x-user': 'ada' }), {})).toBe('ada');
    expect(headerKey('x-user')(request('http://p.example/', { 'X-USER': 'ada' }), {})).toBe('ada');
  });

  it('is undefined when the header is missing, and the empty string when it is empty', () => {
    expect(headerKey('x-user')(request('http://p.example/'), {})).toBeUndefined();
    expect(headerKey('x-user')(request('http://p.example/', { 'x-user': '' }), {})).toBe('');
  });

  it('several values are joined as Headers joins them', () => {
    const h = new Headers();
    h.append('x-user', 'a');
    h.append('x-user', 'b');
    expect(headerKey('x-user')(new Request('http://p.example/', { headers: h }) as unknown as RequestLike, {})).toBe('a, b');
  });
});

describe('cookieKey', () => {
  const key = cookieKey('sid');

  it('finds the cookie among several, with or without spaces', () => {
    expect(key(request('http://p.example/', { cookie: 'sid=abc' }), {})).toBe('abc');
    expect(key(request('http://p.example/', { cookie: 'a=1; sid=abc; b=2' }), {})).toBe('abc');
    expect(key(request('http://p.example/', { cookie: 'a=1;sid=abc;b=2' }), {})).toBe('abc');
    expect(key(request('http://p.example/', { cookie: 'a=1;   sid=abc  ;b=2' }), {})).toBe('abc');
  });

  it('takes the first of two cookies with the name', () => {
    expect(key(request('http://p.example/', { cookie: 'sid=first; sid=second' }), {})).toBe('first');
  });

  it('keeps the value as sent: = inside, quotes, empty', () => {
    expect(key(request('http://p.example/', { cookie: 'sid=a=b==' }), {})).toBe('a=b==');
    expect(key(request('http://p.example/', { cookie: 'sid="q"' }), {})).toBe('"q"');
    expect(key(request('http://p.example/', { cookie: 'sid=; x=1' }), {})).toBe('');
  });

  it('is undefined when there is no Cookie header or no such cookie', () => {
    expect(key(request('http://p.example/'), {})).toBeUndefined();
    expect(key(request('http://p.example/', { cookie: 'a=1; b=2' }), {})).toBeUndefined();
    expect(key(request('http://p.example/', { cookie: '' }), {})).toBeUndefined();
    expect(key(request('http://p.example/', { cookie: 'sid' }), {})).toBeUndefined();
  });

  it('a name that is a prefix or suffix of another name does not match it', () => {
    expect(key(request('http://p.example/', { cookie: 'sidx=no' }), {})).toBeUndefined();
    expect(key(request('http://p.example/', { cookie: 'xsid=no; sidx=no' }), {})).toBeUndefined();
    expect(key(request('http://p.example/', { cookie: 'sidx=no; sid=yes' }), {})).toBe('yes');
    expect(key(request('http://p.example/', { cookie: 'a=sid=no' }), {})).toBeUndefined();
  });

  it('names are case-sensitive', () => {
    expect(key(request('http://p.example/', { cookie: 'SID=no' }), {})).toBeUndefined();
  });

  it('finds the cookie wherever it sits among other cookies (property)', () => {
    const name = fc.string({ unit: fc.constantFrom(...'sidx'), minLength: 1, maxLength: 5 });
    const value = fc.string({ unit: fc.constantFrom(...'aZ09=._-'), maxLength: 8 });
    fc.assert(
      fc.property(fc.array(fc.tuple(name, value), { maxLength: 5 }), fc.array(fc.tuple(name, value), { maxLength: 5 }), value, (before, after, v) => {
        const others = (list: [string, string][]) => list.filter(([n]) => n !== 'sid').map(([n, x]) => `${n}=${x}`);
        const cookie = [...others(before), `sid=${v}`, ...others(after)].join('; ');
        expect(key(request('http://p.example/', { cookie }), {})).toBe(v);
      }),
    );
  });
});

describe('queryKey', () => {
  const key = queryKey('user');

  it('reads the parameter, decoded as URLSearchParams does', () => {
    expect(key(request('http://p.example/x?user=ada'), {})).toBe('ada');
    expect(key(request('http://p.example/x?a=1&user=a%20b+c&b=2'), {})).toBe('a b c');
    expect(key(request('http://p.example/x?user=%E2%9C%93'), {})).toBe('\u2713');
    expect(key(request('http://p.example/x?user=1&user=2'), {})).toBe('1');
    expect(key(request('http://p.example/x?user='), {})).toBe('');
    expect(key(request('http://p.example/x?user'), {})).toBe('');
    expect(queryKey('a b')(request('http://p.example/x?a+b=1'), {})).toBe('1');
  });

  it('is undefined when the parameter or the whole query is missing', () => {
    expect(key(request('http://p.example/x'), {})).toBeUndefined();
    expect(key(request('http://p.example/x?'), {})).toBeUndefined();
    expect(key(request('http://p.example/x?users=1&xuser=2'), {})).toBeUndefined();
  });

  it('stops at the fragment', () => {
    expect(key(rawUrl('http://p.example/x?user=ada#frag'), {})).toBe('ada');
    expect(key(rawUrl('http://p.example/x?a=1#user=eve'), {})).toBeUndefined();
    expect(key(request('http://p.example/x?user=ada#user=eve'), {})).toBe('ada');
  });

  it('a ? inside the fragment is not a query', () => {
    // Request keeps the fragment in `url`: 'http://p.example/x#f?user=eve' has no query at all.
    expect(request('http://p.example/x#f?user=eve').url).toBe('http://p.example/x#f?user=eve');
    expect(key(request('http://p.example/x#f?user=eve'), {})).toBeUndefined();
    expect(key(rawUrl('http://p.example/x#?user=eve'), {})).toBeUndefined();
  });

  it('a second ? is part of the first name, as URL.searchParams reads it', () => {
    expect(key(request('http://p.example/x??user=eve'), {})).toBeUndefined();
    expect(queryKey('?user')(request('http://p.example/x??user=eve'), {})).toBe('eve');
    expect(key(request('http://p.example/x?a=1?user=2&user=3'), {})).toBe('3');
  });

  it('agrees with URL.searchParams for any URL the parser accepts (property)', () => {
    const part = fc.constantFrom('user', 'user=', 'u', '=', '&', '?', '?', '#', '#', '%20', '%', '+', 'ada', '/', 'x', ';');
    fc.assert(
      fc.property(fc.array(part, { maxLength: 12 }), (parts) => {
        const url = new URL(`/p${parts.join('')}`, 'http://p.example');
        expect(key(rawUrl(url.href), {})).toBe(url.searchParams.get('user') ?? undefined);
      }),
      { numRuns: 200 },
    );
  });
});

describe('clientAddressKey', () => {
  const key = clientAddressKey();
  const r = request('http://p.example/', { 'x-forwarded-for': '203.0.113.9' });

  it("is the proxy's client address, IPv4-mapped IPv6 as plain IPv4", () => {
    expect(key(r, { clientAddress: '198.51.100.1' })).toBe('198.51.100.1');
    expect(key(r, { clientAddress: '::ffff:1.2.3.4' })).toBe('1.2.3.4');
    expect(key(r, { clientAddress: '::FFFF:1.2.3.4' })).toBe('1.2.3.4');
    expect(key(r, { clientAddress: '2001:db8::1' })).toBe('2001:db8::1');
  });

  it('undefined stays undefined, and X-Forwarded-For is never read', () => {
    expect(key(r, {})).toBeUndefined();
    expect(key(r, { clientAddress: undefined })).toBeUndefined();
  });
});
