import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/core/errors.js';
import { clientAddress, forwardedElement, setForwarded, TrustedProxies } from '../../src/fetch/forwarded.js';

// ── a BigInt reference for prefix matching ─────────────────────────────────────────────────────

interface Ip {
  readonly v: 4 | 6;
  readonly bytes: readonly number[];
}

/** The address in the IPv6 space, IPv4 as `::ffff:a.b.c.d`. */
function big(ip: Ip): bigint {
  let n = ip.v === 4 ? 0xffffn : 0n;
  for (const b of ip.bytes) n = (n << 8n) | BigInt(b);
  return n;
}

function v6Text(bytes: readonly number[]): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return groups.join(':');
}

function ipText(ip: Ip, mapped = false): string {
  if (ip.v === 6) return v6Text(ip.bytes);
  return mapped ? `::ffff:${ip.bytes.join('.')}` : ip.bytes.join('.');
}

interface Range extends Ip {
  readonly prefix: number;
}

function refHas(ranges: readonly Range[], address: Ip): boolean {
  const a = big(address);
  return ranges.some((r) => {
    const shift = BigInt(128 - (r.v === 4 ? r.prefix + 96 : r.prefix));
    return a >> shift === big(r) >> shift;
  });
}

const ipv4 = fc.uint8Array({ minLength: 4, maxLength: 4 }).map((bytes): Ip => ({ v: 4, bytes: [...bytes] }));
// Some IPv6 addresses in the IPv4-mapped block, so IPv6 ranges and IPv4 peers meet.
const ipv6 = fc
  .tuple(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.boolean())
  .map(([bytes, mappedBlock]): Ip => ({ v: 6, bytes: mappedBlock ? [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...bytes.slice(12)] : [...bytes] }));
const range: fc.Arbitrary<Range> = fc.oneof(
  fc.tuple(ipv4, fc.integer({ min: 0, max: 32 })).map(([ip, prefix]) => ({ ...ip, prefix })),
  fc.tuple(ipv6, fc.integer({ min: 0, max: 128 })).map(([ip, prefix]) => ({ ...ip, prefix })),
);

/** An address near a range: its network with one bit flipped around the prefix boundary (or none). */
function near(r: Range, flip: number): Ip {
  const bytes = [...r.bytes];
  const bit = r.prefix + flip;
  if (flip !== 0 && bit >= 0 && bit < bytes.length * 8) bytes[bit >>> 3]! ^= 0x80 >>> (bit & 7);
  return { v: r.v, bytes };
}

// ── TrustedProxies ─────────────────────────────────────────────────────────────────────────────

describe('TrustedProxies', () => {
  it('matches single addresses and IPv4 CIDRs, with the range boundaries exact', () => {
    const t = new TrustedProxies(['10.0.0.0/8', '192.0.2.7', '198.51.100.9/32']);
    expect(t.has('10.0.0.0')).toBe(true);
    expect(t.has('10.255.255.255')).toBe(true);
    expect(t.has('11.0.0.0')).toBe(false);
    expect(t.has('9.255.255.255')).toBe(false);
    expect(t.has('192.0.2.7')).toBe(true);
    expect(t.has('192.0.2.8')).toBe(false);
    expect(t.has('198.51.100.9')).toBe(true);
    expect(t.has('198.51.100.8')).toBe(false);
  });

  it('a non-byte-aligned IPv4 prefix (/12) matches exactly its range', () => {
    const t = new TrustedProxies(['172.16.0.0/12']);
    expect(t.has('172.16.0.0')).toBe(true);
    expect(t.has('172.31.255.255')).toBe(true);
    expect(t.has('172.32.0.0')).toBe(false);
    expect(t.has('172.15.255.255')).toBe(false);
  });

  it('host bits in a range entry are ignored (10.1.2.3/8 is 10.0.0.0/8)', () => {
    const t = new TrustedProxies(['10.1.2.3/8']);
    expect(t.has('10.200.0.1')).toBe(true);
    expect(t.has('11.1.2.3')).toBe(false);
  });

  it('IPv6: /128, a non-byte-aligned /57, compressed and uppercase spellings', () => {
    const t = new TrustedProxies(['2001:db8::1/128', '2001:db8:0:80::/57']);
    expect(t.has('2001:db8::1')).toBe(true);
    expect(t.has('2001:DB8:0:0:0:0:0:1')).toBe(true);
    expect(t.has('2001:db8::2')).toBe(false);
    // /57: three whole groups, then the first 9 bits of the fourth (0x0080 → 000000001).
    expect(t.has('2001:db8:0:80::1')).toBe(true);
    expect(t.has('2001:db8:0:ff:ffff:ffff:ffff:ffff')).toBe(true);
    expect(t.has('2001:db8:0:7f:ffff:ffff:ffff:ffff')).toBe(false);
    expect(t.has('2001:db8:0:100::')).toBe(false);
  });

  it('0.0.0.0/0 matches every IPv4 address (mapped or not) but no native IPv6 one; ::/0 matches everything', () => {
    const v4all = new TrustedProxies(['0.0.0.0/0']);
    expect(v4all.has('0.0.0.0')).toBe(true);
    expect(v4all.has('255.255.255.255')).toBe(true);
    expect(v4all.has('::ffff:203.0.113.9')).toBe(true);
    expect(v4all.has('2001:db8::1')).toBe(false);
    expect(v4all.has('::1')).toBe(false);
    const all = new TrustedProxies(['::/0']);
    expect(all.has('2001:db8::1')).toBe(true);
    expect(all.has('203.0.113.9')).toBe(true);
  });

  it('an IPv4-mapped IPv6 peer matches the IPv4 ranges, in any spelling', () => {
    const t = new TrustedProxies(['10.0.0.0/8', '127.0.0.1']);
    expect(t.has('::ffff:10.1.2.3')).toBe(true);
    expect(t.has('::FFFF:10.1.2.3')).toBe(true);
    expect(t.has('::ffff:a01:203')).toBe(true);
    expect(t.has('0:0:0:0:0:ffff:7f00:1')).toBe(true);
    expect(t.has('::ffff:11.1.2.3')).toBe(false);
    // Only the ::ffff:0:0/96 block is IPv4: ::10.1.2.3 (IPv4-compatible) and 64:ff9b:: are not.
    expect(t.has('::10.1.2.3')).toBe(false);
    expect(t.has('64:ff9b::a01:203')).toBe(false);
  });

  it('an IPv6 range over the mapped block matches plain IPv4 peers', () => {
    const t = new TrustedProxies(['::ffff:10.0.0.0/104']);
    expect(t.has('10.9.8.7')).toBe(true);
    expect(t.has('11.9.8.7')).toBe(false);
  });

  it('an IPv6 peer with a zone is matched on its address', () => {
    expect(new TrustedProxies(['fe80::/10']).has('fe80::1%eth0')).toBe(true);
  });

  it('what is not an address is never trusted; an empty list trusts nothing', () => {
    const t = new TrustedProxies(['::/0']);
    for (const bad of ['', 'unknown', 'localhost', '10.0.0.1:80', '[::1]', ' 10.0.0.1', '010.0.0.1', '1.2.3']) {
      expect(t.has(bad), bad).toBe(false);
    }
    expect(t.has(undefined)).toBe(false);
    expect(t.has(null)).toBe(false);
    expect(new TrustedProxies().has('127.0.0.1')).toBe(false);
    expect(new TrustedProxies([]).has('::1')).toBe(false);
  });

  it.each([
    '10.0.0.0/33',
    '::/129',
    '10.0.0.0/',
    '10.0.0.0/08',
    '10.0.0.0/-1',
    '10.0.0.0/8/8',
    '10.0.0.0/ 8',
    '10.0.0/8',
    '10.0.0.256',
    'localhost',
    '',
    ' 10.0.0.1',
    '2001:db8::/1e2',
    '2001:db8:::1',
  ])('the bad entry %j throws InvalidOptionError naming forwarded.trust[1]', (entry) => {
    let caught: unknown;
    try {
      new TrustedProxies(['127.0.0.1', entry]);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidOptionError);
    expect(caught).toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'forwarded.trust[1]' });
  });

  it('a non-string entry names its index; a non-array names forwarded.trust', () => {
    expect(() => new TrustedProxies(['::1', '::2', 42 as unknown as string])).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'forwarded.trust[2]' }),
    );
    expect(() => new TrustedProxies('10.0.0.0/8' as unknown as string[])).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'forwarded.trust' }),
    );
  });

  it('has() agrees with a BigInt reference of prefix matching (property)', () => {
    // An address: random, or near one of the ranges (picked by index, so no chain is needed).
    const address = fc.oneof(
      ipv4.map((ip) => ({ ip, pick: -1, flip: 0 })),
      ipv6.map((ip) => ({ ip, pick: -1, flip: 0 })),
      fc.record({ ip: fc.constant(undefined), pick: fc.nat(), flip: fc.integer({ min: -2, max: 2 }) }),
    );
    fc.assert(
      fc.property(fc.array(range, { minLength: 1, maxLength: 4 }), address, fc.boolean(), fc.boolean(), (ranges, a, mapped, upper) => {
        const ip = a.ip ?? near(ranges[a.pick % ranges.length]!, a.flip);
        const trusted = new TrustedProxies(ranges.map((r) => `${ipText(r)}/${r.prefix}`));
        const text = ipText(ip, mapped);
        expect(trusted.has(upper ? text.toUpperCase() : text)).toBe(refHas(ranges, ip));
      }),
      { numRuns: 150 },
    );
  });
});

// ── clientAddress ──────────────────────────────────────────────────────────────────────────────

describe('clientAddress', () => {
  const trusted = new TrustedProxies(['10.0.0.0/8', '2001:db8:ffff::/48']);

  it('an untrusted peer is the client, whatever X-Forwarded-For says', () => {
    expect(clientAddress('198.51.100.1', '203.0.113.9', trusted)).toBe('198.51.100.1');
    expect(clientAddress('198.51.100.1', '10.0.0.1', trusted)).toBe('198.51.100.1');
    expect(clientAddress('198.51.100.1', null, trusted)).toBe('198.51.100.1');
    expect(clientAddress('10.0.0.5', '203.0.113.9', new TrustedProxies())).toBe('10.0.0.5');
  });

  it('an unknown peer stays unknown', () => {
    expect(clientAddress(undefined, '203.0.113.9', trusted)).toBeUndefined();
  });

  it('a trusted peer without X-Forwarded-For is the client', () => {
    expect(clientAddress('10.0.0.5', null, trusted)).toBe('10.0.0.5');
  });

  it('from a trusted peer, X-Forwarded-For is read from the right, skipping trusted hops', () => {
    expect(clientAddress('10.0.0.5', '203.0.113.9', trusted)).toBe('203.0.113.9');
    expect(clientAddress('10.0.0.5', '203.0.113.9, 10.0.0.7', trusted)).toBe('203.0.113.9');
    expect(clientAddress('10.0.0.5', '203.0.113.9,10.0.0.7,  10.1.1.1 ', trusted)).toBe('203.0.113.9');
    // What the client put in front (a spoofed hop) is not believed.
    expect(clientAddress('10.0.0.5', '1.1.1.1, 203.0.113.9, 10.0.0.7', trusted)).toBe('203.0.113.9');
    expect(clientAddress('::ffff:10.0.0.5', '2001:db8::9, 2001:db8:ffff::1', trusted)).toBe('2001:db8::9');
  });

  it('when every hop is trusted, the leftmost is the client', () => {
    expect(clientAddress('10.0.0.5', '10.0.0.1, 10.0.0.2', trusted)).toBe('10.0.0.1');
  });

  it('a malformed entry stops the walk at the last good address', () => {
    expect(clientAddress('10.0.0.5', '203.0.113.9, garbage, 10.0.0.7', trusted)).toBe('10.0.0.7');
    expect(clientAddress('10.0.0.5', '203.0.113.9, garbage', trusted)).toBe('10.0.0.5');
    expect(clientAddress('10.0.0.5', '203.0.113.9:4711', trusted)).toBe('10.0.0.5');
    expect(clientAddress('10.0.0.5', '[2001:db8::9]', trusted)).toBe('10.0.0.5');
    expect(clientAddress('10.0.0.5', '203.0.113.9, ', trusted)).toBe('10.0.0.5');
    expect(clientAddress('10.0.0.5', '', trusted)).toBe('10.0.0.5');
    expect(clientAddress('10.0.0.5', 'unknown, 10.0.0.7', trusted)).toBe('10.0.0.7');
  });

  it('the answer is always the peer or an address from X-Forwarded-For, and never an entry left of an untrusted one (property)', () => {
    const hop = fc.oneof(
      fc.constantFrom('10.0.0.1', '10.9.9.9', '203.0.113.9', '198.51.100.7', '2001:db8:ffff::2', '2001:db8::5', 'garbage', ''),
      ipv4.map((ip) => ipText(ip)),
    );
    fc.assert(
      fc.property(fc.constantFrom('10.0.0.5', '198.51.100.1'), fc.array(hop, { maxLength: 6 }), (peer, hops) => {
        const xff = hops.join(', ');
        const client = clientAddress(peer, hops.length === 0 ? null : xff, trusted);
        if (!trusted.has(peer) || hops.length === 0) {
          expect(client).toBe(peer);
          return;
        }
        // Reference walk.
        let expected: string = peer;
        for (let i = hops.length - 1; i >= 0; i--) {
          const h = hops[i]!;
          if (!/^[0-9a-f:.]+$/.test(h) || h === '' || h === 'garbage') break;
          expected = h;
          if (!trusted.has(h)) break;
        }
        expect(client).toBe(expected);
      }),
    );
  });
});

// ── setForwarded ───────────────────────────────────────────────────────────────────────────────

describe('setForwarded', () => {
  const incoming = (): Headers =>
    new Headers({
      'x-forwarded-for': '1.1.1.1',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'spoofed.example',
      forwarded: 'for=1.1.1.1;proto=https',
      accept: '*/*',
    });

  it('from an untrusted peer, every incoming forwarded header is replaced', () => {
    const h = incoming();
    setForwarded(h, { peer: '203.0.113.9', trusted: false, proto: 'http', host: 'api.example' });
    expect(Object.fromEntries(h)).toEqual({
      accept: '*/*',
      'x-forwarded-for': '203.0.113.9',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': 'api.example',
      forwarded: 'for=203.0.113.9;proto=http;host=api.example',
    });
  });

  it('from an untrusted peer with no address and no host, the spoofed values are removed', () => {
    const h = incoming();
    setForwarded(h, { peer: undefined, trusted: false, proto: 'https', host: '' });
    expect(h.has('x-forwarded-for')).toBe(false);
    expect(h.has('x-forwarded-host')).toBe(false);
    expect(h.get('x-forwarded-proto')).toBe('https');
    expect(h.get('forwarded')).toBe('for=unknown;proto=https');
  });

  it('from a trusted peer, X-Forwarded-For and Forwarded are appended to, -Proto and -Host kept', () => {
    const h = incoming();
    setForwarded(h, { peer: '10.0.0.5', trusted: true, proto: 'http', host: 'internal.example' });
    expect(h.get('x-forwarded-for')).toBe('1.1.1.1, 10.0.0.5');
    expect(h.get('x-forwarded-proto')).toBe('https');
    expect(h.get('x-forwarded-host')).toBe('spoofed.example');
    expect(h.get('forwarded')).toBe('for=1.1.1.1;proto=https, for=10.0.0.5;proto=http;host=internal.example');
  });

  it('from a trusted peer without incoming headers, they are set fresh', () => {
    const h = new Headers({ 'x-forwarded-for': '  ', forwarded: '' });
    setForwarded(h, { peer: '10.0.0.5', trusted: true, proto: 'https', host: 'api.example' });
    expect(h.get('x-forwarded-for')).toBe('10.0.0.5');
    expect(h.get('x-forwarded-proto')).toBe('https');
    expect(h.get('x-forwarded-host')).toBe('api.example');
    expect(h.get('forwarded')).toBe('for=10.0.0.5;proto=https;host=api.example');
  });

  it('quotes IPv6 nodes and hosts with a port as RFC 7239 says', () => {
    const h = new Headers();
    setForwarded(h, { peer: '2001:db8::1', trusted: false, proto: 'https', host: 'api.example:8443' });
    expect(h.get('forwarded')).toBe('for="[2001:db8::1]";proto=https;host="api.example:8443"');
    expect(h.get('x-forwarded-for')).toBe('2001:db8::1');
    expect(forwardedElement('::ffff:203.0.113.9', 'http', '[::1]:8080')).toBe('for="[::ffff:203.0.113.9]";proto=http;host="[::1]:8080"');
  });

  it('forwardedElement: unknown peer, token host unquoted, quotes and backslashes escaped', () => {
    expect(forwardedElement(undefined, 'http', '')).toBe('for=unknown;proto=http');
    expect(forwardedElement('', 'http', 'a.example')).toBe('for=unknown;proto=http;host=a.example');
    expect(forwardedElement('192.0.2.1', 'https', 'a"b\\c')).toBe('for=192.0.2.1;proto=https;host="a\\"b\\\\c"');
  });

  it('from an untrusted peer, nothing of the incoming values survives (property)', () => {
    const value = fc.string({ unit: fc.constantFrom(...'!"#,;=[]:\\aZ09.'), minLength: 1, maxLength: 20 });
    fc.assert(
      fc.property(
        fc.record({ xff: value, proto: value, host: value, fwd: value }),
        fc.constantFrom('203.0.113.9', '2001:db8::1', undefined),
        fc.constantFrom('http', 'https'),
        fc.constantFrom('', 'api.example', 'api.example:8080'),
        (spoofed, peer, proto, host) => {
          const h = new Headers({
            'x-forwarded-for': spoofed.xff,
            'x-forwarded-proto': spoofed.proto,
            'x-forwarded-host': spoofed.host,
            forwarded: spoofed.fwd,
          });
          setForwarded(h, { peer, trusted: false, proto, host });
          expect(h.get('x-forwarded-for')).toBe(peer ?? null);
          expect(h.get('x-forwarded-proto')).toBe(proto);
          expect(h.get('x-forwarded-host')).toBe(host === '' ? null : host);
          expect(h.get('forwarded')).toBe(forwardedElement(peer, proto, host));
        },
      ),
    );
  });
});
