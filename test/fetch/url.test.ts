import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidTargetError } from '../../src/core/errors.js';
import { BaseCache, parseBase, pathAndQuery, upstreamUrl, type UpstreamBase } from '../../src/fetch/url.js';

describe('parseBase', () => {
  it.each([
    ['http://10.0.0.1:8080', { origin: 'http://10.0.0.1:8080', path: '' }],
    ['http://10.0.0.1:8080/', { origin: 'http://10.0.0.1:8080', path: '' }],
    ['http://10.0.0.1:8080/api', { origin: 'http://10.0.0.1:8080', path: '/api' }],
    ['http://10.0.0.1:8080/api/', { origin: 'http://10.0.0.1:8080', path: '/api' }],
    ['https://api.example/v1/inner/', { origin: 'https://api.example', path: '/v1/inner' }],
    ['HTTP://API.EXAMPLE:80/x', { origin: 'http://api.example', path: '/x' }],
    ['https://api.example:443', { origin: 'https://api.example', path: '' }],
    ['http://[::1]:9000/a', { origin: 'http://[::1]:9000', path: '/a' }],
  ])('accepts %j', (url, expected) => {
    expect(parseBase(url)).toEqual(expected);
  });

  it.each([
    ['another scheme', 'ftp://files.example/'],
    ['ws:', 'ws://api.example/'],
    ['file:', 'file:///etc/passwd'],
    ['javascript:', 'javascript:alert(1)'],
    ['data:', 'data:text/plain,x'],
    ['credentials', 'http://user:pass@api.example/'],
    ['a user name', 'http://user@api.example/'],
    ['a query', 'http://api.example/api?key=1'],
    ['a fragment', 'http://api.example/api#top'],
    ['not a URL', 'not a url'],
    ['a relative path', '/api'],
    ['empty', ''],
  ])('rejects %s (%j) with InvalidTargetError', (_label, url) => {
    let caught: unknown;
    try {
      parseBase(url);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidTargetError);
    expect(caught).toMatchObject({ code: 'ERR_INVALID_TARGET' });
  });
});

describe('BaseCache', () => {
  it('reads the url field, the string target, or the url option, and rejects a target without one', () => {
    expect(new BaseCache<{ id: string; url: string }>(undefined).get({ id: 'a', url: 'http://h/x/' })).toEqual({ origin: 'http://h', path: '/x' });
    expect(new BaseCache<string>(undefined).get('http://h:81')).toEqual({ origin: 'http://h:81', path: '' });
    expect(new BaseCache<{ id: string }>((t) => `http://${t.id}.internal/`).get({ id: 'a' })).toEqual({ origin: 'http://a.internal', path: '' });
    expect(() => new BaseCache<{ id: string }>(undefined).get({ id: 'a' })).toThrow(InvalidTargetError);
    expect(() => new BaseCache<{ id: string; url: string }>(undefined).get({ id: 'a', url: 'ftp://h' })).toThrow(InvalidTargetError);
  });

  it('re-parses when an object target changes its url', () => {
    const target = { id: 'a', url: 'http://one.example' };
    const cache = new BaseCache<typeof target>(undefined);
    expect(cache.get(target).origin).toBe('http://one.example');
    target.url = 'http://two.example/p';
    expect(cache.get(target)).toEqual({ origin: 'http://two.example', path: '/p' });
  });
});

describe('pathAndQuery', () => {
  it.each([
    ['http://proxy.example/a/b?x=1', '/a/b?x=1'],
    ['http://proxy.example/', '/'],
    ['http://proxy.example', '/'],
    ['http://proxy.example//evil.example/x?y=1', '//evil.example/x?y=1'],
    ['http://proxy.example?x=1', '/?x=1'],
    ['http://proxy.example?x=/y', '/?x=/y'],
    ['http://proxy.example#frag', '/'],
    ['http://proxy.example#/frag', '/'],
    ['http://proxy.example/p#frag', '/p'],
    ['http://proxy.example/p?q=1#frag', '/p?q=1'],
    ['http://proxy.example/p#f?x=1', '/p'],
    ['http://proxy.example?x#y/z', '/?x'],
    ['http://proxy.example/p?u=http://evil.example/x', '/p?u=http://evil.example/x'],
    ['https://proxy.example:8443/p', '/p'],
    ['http://[::1]:8080/p?x', '/p?x'],
    ['http://proxy.example/p?', '/p?'],
  ])('%j → %j', (url, expected) => {
    expect(pathAndQuery(url)).toBe(expected);
  });

  it("is the URL's pathname and search for any URL the WHATWG parser accepts (property)", () => {
    fc.assert(
      fc.property(requestTarget, (target) => {
        const url = parse(target, 'http://proxy.example');
        fc.pre(url !== undefined && (url.protocol === 'http:' || url.protocol === 'https:'));
        const withoutHash = url.href.split('#')[0]!;
        const search = url.search === '' && withoutHash.endsWith('?') ? '?' : url.search;
        expect(pathAndQuery(url.href)).toBe(url.pathname + search);
      }),
      { numRuns: 150 },
    );
  });
});

describe('upstreamUrl', () => {
  it('is origin + base path + path and query', () => {
    expect(upstreamUrl({ origin: 'http://10.0.0.1:8080', path: '/api' }, '/users?id=1')).toBe('http://10.0.0.1:8080/api/users?id=1');
    expect(upstreamUrl({ origin: 'http://10.0.0.1:8080', path: '' }, '/')).toBe('http://10.0.0.1:8080/');
  });

  it('a //host path stays on the target', () => {
    const u = new URL(upstreamUrl(parseBase('http://10.0.0.1:8080'), pathAndQuery('http://proxy.example//evil.example/x')));
    expect(u.origin).toBe('http://10.0.0.1:8080');
    expect(u.pathname).toBe('//evil.example/x');
  });
});

/** Pieces an attacker would use to leave the configured origin. */
const pieces = fc.array(
  fc.constantFrom(
    '/',
    '//',
    '\\',
    '\\\\',
    '@',
    ':',
    '..',
    '.',
    '%2e',
    '%2f',
    '%5c',
    '%00',
    '?',
    '#',
    'evil.example',
    'http:',
    'https:',
    'http://evil.example',
    '[::1]',
    ':80',
    'x',
    ' ',
    '\t',
    '\u0000',
    'é',
    '\u3002',
  ),
  { maxLength: 10 },
);

/** Request targets: origin-form from those pieces, any string, and absolute-form naming another host. */
const requestTarget = fc.oneof(
  pieces.map((parts) => parts.join('')),
  fc.string({ maxLength: 30 }),
  fc
    .tuple(
      fc.constantFrom('http://', 'https://', 'HTTP://', 'http:/', 'http:', 'http:\\\\', '//', '\\\\'),
      fc.constantFrom('evil.example', 'evil.example:8080', '10.0.0.1', '[::1]:80', 'user:pw@evil.example', 'proxy.example@evil.example', ''),
      pieces,
    )
    .map(([scheme, host, parts]) => scheme + host + (parts.length === 0 ? '' : '/') + parts.join('')),
);

function parse(text: string, base?: string): URL | undefined {
  try {
    return base === undefined ? new URL(text) : new URL(text, base);
  } catch {
    return undefined;
  }
}

function urlOfRequest(href: string): string | undefined {
  try {
    return new Request(href).url;
  } catch {
    return undefined;
  }
}

describe('never an open proxy (property)', () => {
  const bases: UpstreamBase[] = [
    parseBase('http://10.0.0.1:8080'),
    parseBase('http://10.0.0.1:8080/api/'),
    parseBase('https://api.internal/v1'),
    parseBase('http://[fd00::1]:9000/a/b'),
  ];

  it("for any request target the parser accepts, the upstream URL's origin is the target's", () => {
    fc.assert(
      fc.property(requestTarget, fc.constantFrom(...bases), (target, base) => {
        const url = parse(target, 'http://proxy.example');
        fc.pre(url !== undefined && (url.protocol === 'http:' || url.protocol === 'https:'));
        // What the runtime's Request makes of it (it refuses some, such as URLs with credentials), then what the proxy does.
        const requestUrl = urlOfRequest(url.href);
        fc.pre(requestUrl !== undefined);
        const upstream = parse(upstreamUrl(base, pathAndQuery(requestUrl)));
        expect(upstream?.origin).toBe(base.origin);
        expect(upstream!.pathname.startsWith(base.path + '/')).toBe(true);
      }),
      { numRuns: 150 },
    );
  });
});
