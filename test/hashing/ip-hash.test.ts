import fc from 'fast-check';
import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import { InvalidWeightError, NoTargetError, type Target } from '../../src/index.js';
import { IpHash, ipKey, parseIpAddress } from '../../src/hashing/ip-hash.js';
import { anyString } from '../core/hash/arbitraries.js';
import { ipHashBytes, nginxIpHashPick } from '../support/nginx-hash-reference.js';
import { readNginxFixture, type IpCase } from '../support/nginx-fixtures.js';
import { expectDownMovesOnlyItsKeys } from '../support/hash-properties.js';

const fixture = readNginxFixture<IpCase>('nginx-ip-hash.json');

describe('IpHash: parity with a real nginx (ip_hash)', () => {
  it(`has recorded cases (${fixture.nginx})`, () => {
    expect(fixture.cases.length).toBeGreaterThanOrEqual(5);
  });
  for (const c of fixture.cases) {
    it(`picks what nginx picked for every address: ${c.name} (${c.addresses.length} addresses)`, () => {
      const lb = new IpHash(c.servers);
      expect(c.addresses.map((a) => lb.pick(a).id)).toEqual(c.expected);
    });
  }
});

const parse = (text: string): number[] | null => {
  const out = new Uint8Array(16);
  const n = parseIpAddress(text, out);
  return n === 0 ? null : Array.from(out.subarray(0, n));
};

const octet = fc.nat(255);
const ipv4 = fc.tuple(octet, octet, octet, octet).map((b) => b.join('.'));
/** 16 random bytes with runs of zero groups, so that '::' compression has something to do. */
const ipv6Bytes = fc.array(fc.oneof(fc.constant(0), fc.nat(0xffff)), { minLength: 8, maxLength: 8 });
/** Several spellings of one IPv6 address. */
function spellings(groups: readonly number[]): string[] {
  const full = groups.map((g) => g.toString(16)).join(':');
  const padded = groups.map((g) => g.toString(16).padStart(4, '0')).join(':');
  const canonical = new URL(`http://[${full}]/`).hostname.slice(1, -1);
  const tail = `${groups[6]! >> 8}.${groups[6]! & 255}.${groups[7]! >> 8}.${groups[7]! & 255}`;
  const withV4 = `${groups.slice(0, 6).map((g) => g.toString(16)).join(':')}:${tail}`;
  return [full, padded, canonical, canonical.toUpperCase(), withV4, `${canonical}%eth0`];
}
const bytesOf = (groups: readonly number[]) => groups.flatMap((g) => [g >> 8, g & 255]);

describe('IpHash: address parser', () => {
  it('reads every spelling of an IPv6 address as the same 16 bytes', () => {
    fc.assert(
      fc.property(ipv6Bytes, (groups) => {
        const want = bytesOf(groups).join(',');
        const wrong = spellings(groups).flatMap((s) => (parse(s)?.join(',') === want ? [] : [`${s} -> ${parse(s)?.join(',') ?? null}`]));
        expect(wrong, want).toEqual([]);
      }),
      { numRuns: 2000 },
    );
  });

  it('reads dotted-quad IPv4', () => {
    fc.assert(
      fc.property(ipv4, (s) => {
        expect(parse(s)).toEqual(s.split('.').map(Number));
      }),
    );
  });

  it('accepts exactly what Node\'s net.isIP accepts on a list of edge cases', () => {
    const valid = ['fe80::1%lo-0.a:b', '0.0.0.0', '255.255.255.255', '::', '::1', '1::', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8', 'FFFF::', '::ffff:1.2.3.4', '::1.2.3.4', '64:ff9b::8.8.8.8', 'fe80::1%25', 'fe80::1%eth0'];
    const invalid = ['', ' ', '1.2.3', '1.2.3.4.5', '1.2.3.256', '01.2.3.4', '1..2.3', '1.2.3.4 ', '.1.2.3', '1.2.3.', '-1.2.3.4', '1.2.3.4%eth0', ':', ':::', '1:::2', '1::2::3', ':1::2', '1::2:', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7:8::', '1:2:3:4:5:6:7', '12345::', 'g::', '::1.2.3', '1.2.3.4::', '::1.2.3.4:5', '1:2:3:4:5:6:7:1.2.3.4', 'fe80::1%', 'fe80::1%%', 'fe80::1%a b', '[::1]', 'localhost', '__proto__', 'constructor', '١.٢.٣.٤'];
    for (const s of valid) expect(parse(s), s).not.toBeNull();
    for (const s of invalid) expect(parse(s), s).toBeNull();
    for (const s of [...valid, ...invalid]) expect(parse(s) !== null, s).toBe(isIP(s) !== 0);
  });

  it("accepts exactly the strings Node's net.isIP accepts (random address-like strings)", () => {
    const addressLike = fc.oneof(
      fc.stringMatching(/^[0-9a-fA-F:.]{0,40}$/),
      fc.stringMatching(/^(?:[0-9a-f]{0,5}:){0,9}[0-9a-f]{0,5}(?:%[a-z0-9.]{0,3})?$/),
      fc.stringMatching(/^(?:[0-9]{0,4}\.){0,4}[0-9]{0,4}$/),
      fc.stringMatching(/^(?:[0-9a-f]{0,4}:){1,7}(?:[0-9]{1,3}\.){3}[0-9]{1,3}$/),
    );
    fc.assert(
      // A boolean property (fast-check reports the string): an expect per run would cost more than the run.
      fc.property(addressLike, (s) => (parse(s) !== null) === (isIP(s) !== 0)),
      { numRuns: 20000 },
    );
  });

  it('agrees with an independent (split-based) parser on any string', () => {
    const interesting = fc.oneof(
      anyString,
      fc.stringMatching(/^[0-9a-fA-F:.%]{0,40}$/),
      ipv4,
      ipv6Bytes.map((g) => spellings(g)[2]!),
    );
    fc.assert(
      fc.property(interesting, (s) => {
        const mine = parse(s);
        const ref = ipHashBytes(s);
        expect(mine === null ? [0, 0, 0] : mine.length === 4 ? mine.slice(0, 3) : mine).toEqual(ref);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('ipKey', () => {
  it("maps Node's IPv4-mapped IPv6 to the IPv4 nginx sees, and leaves the rest", () => {
    expect(ipKey('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(ipKey('::FFFF:10.1.2.3')).toBe('10.1.2.3');
    expect(ipKey('::ffff:10.1.2.3%lo')).toBe('10.1.2.3');
    expect(ipKey('0:0:0:0:0:ffff:a01:203')).toBe('10.1.2.3');
    expect(ipKey('::ffff:a01:203')).toBe('10.1.2.3');
    expect(ipKey('::ffff:1')).toBe('::ffff:1'); // not mapped: ::ffff:0.0.0.1 would be
    expect(ipKey('::1')).toBe('::1');
    expect(ipKey('2001:db8::1')).toBe('2001:db8::1');
    expect(ipKey('10.0.0.1')).toBe('10.0.0.1');
    expect(ipKey('not an address')).toBe('not an address');
    expect(ipKey(undefined)).toBe('');
    expect(ipKey(null)).toBe('');
  });

  it('makes a dual-stack client hash like nginx hashes the IPv4 client', () => {
    const lb = new IpHash(['a:1', 'b:1', 'c:1', 'd:1', 'e:1']);
    fc.assert(
      fc.property(ipv4, (v4) => {
        expect(lb.pick(ipKey(`::ffff:${v4}`))).toBe(lb.pick(v4));
      }),
    );
  });
});

const weights = fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 9 });
const named = (ws: readonly number[]) => ws.map((weight, i) => ({ id: `10.0.0.${i}:80`, weight }));
const anyAddress = fc.oneof(ipv4, ipv6Bytes.map((g) => spellings(g)[2]!), fc.constantFrom('', 'garbage', '::ffff:1.2.3.4'));

describe('IpHash: the transcribed nginx loop (rehash on ineligible peers)', () => {
  it('agrees with nginx wherever nginx is deterministic, with peers down and tried', () => {
    fc.assert(
      fc.property(weights, fc.array(anyAddress, { minLength: 1, maxLength: 20 }), fc.array(fc.nat(), { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 3 }), (ws, addrs, downs, excl) => {
        const servers = named(ws);
        const lb = new IpHash(servers);
        const down = new Set(downs.map((d) => d % ws.length));
        for (const d of down) lb.markDown(servers[d]!.id);
        const exclude = [...new Set(excl.map((e) => servers[e % ws.length]!.id))];
        const eligible = (i: number) => !down.has(i) && !exclude.includes(servers[i]!.id);
        for (const a of addrs) {
          const ref = nginxIpHashPick(ws, ipHashBytes(a), eligible);
          const pick = () => lb.pick({ key: a, exclude }).id;
          if (ws.every((_, i) => !eligible(i))) {
            expect(pick).toThrow(NoTargetError);
          } else if (ref === 'rr') {
            const got = pick();
            expect(servers.findIndex((s) => s.id === got)).toSatisfy(eligible);
            expect(pick()).toBe(got);
          } else {
            expect(pick()).toBe(servers[ref]!.id);
          }
        }
      }),
      { numRuns: 400 },
    );
  });
});

describe('IpHash: properties', () => {
  it('sends a whole IPv4 /24 to one target, and any key deterministically', () => {
    const servers = named([1, 2, 3, 1, 1]);
    const lb = new IpHash(servers);
    const twin = new IpHash(servers);
    fc.assert(
      fc.property(octet, octet, octet, octet, octet, (a, b, c, d1, d2) => {
        expect(lb.pick(`${a}.${b}.${c}.${d1}`)).toBe(lb.pick(`${a}.${b}.${c}.${d2}`));
      }),
    );
    fc.assert(
      fc.property(anyString, (s) => {
        expect(twin.pick(s)).toBe(lb.pick(s));
      }),
      { numRuns: 1000 },
    );
  });

  it('hashes every non-address key like nginx hashes a non-IP client (three zero bytes)', () => {
    const lb = new IpHash(named([1, 1, 1, 1, 1, 1, 1]));
    const pseudo = lb.pick('0.0.0.9'); // IPv4 hashes 0.0.0, the same bytes
    for (const k of ['', 'garbage', '__proto__', 'constructor', '1.2.3', '[::1]', '\ud800', '01.2.3.4']) expect(lb.pick(k)).toBe(pseudo);
  });

  // After the last byte, hash = (h·113 + byte) mod 6271. For random addresses it is close to
  // uniform over the 6271 values, and peer i owns w_i of every W consecutive values, so its
  // probability is within w_i/6271 of w_i/W. Over K random addresses add six binomial s.d.
  it('gives each peer its weight share within the derived bound (random IPv4 and IPv6 clients)', () => {
    fc.assert(
      fc.property(weights.filter((ws) => ws.length > 1), fc.integer(), (ws, seed) => {
        const servers = named(ws);
        const lb = new IpHash(servers);
        let s = seed >>> 0;
        const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 24) & 255;
        const K = 20000;
        const counts = new Map<string, number>();
        for (let i = 0; i < K; i++) {
          const a = i % 2 === 0 ? `${rnd()}.${rnd()}.${rnd()}.1` : `2001:db8:${rnd().toString(16)}${rnd().toString(16)}::${rnd().toString(16)}`;
          const id = lb.pick(a).id;
          counts.set(id, (counts.get(id) ?? 0) + 1);
        }
        const W = ws.reduce((a, b) => a + b, 0);
        servers.forEach((t) => {
          const p = t.weight / W;
          expect(Math.abs((counts.get(t.id) ?? 0) - K * p)).toBeLessThanOrEqual((K * t.weight) / 6271 + 6 * Math.sqrt(K * p) + 1);
        });
      }),
      { numRuns: 40 },
    );
  });

  it("moves only a down peer's clients, the same way every time, and takes them back on markUp", () => {
    fc.assert(
      fc.property(weights.filter((ws) => ws.length > 1), fc.nat(), fc.array(anyAddress, { minLength: 50, maxLength: 200 }), (ws, r, addrs) => {
        const servers = named(ws);
        expectDownMovesOnlyItsKeys(() => new IpHash(servers), addrs, servers[r % ws.length]!.id);
      }),
      { numRuns: 60 },
    );
  });

  it('takes integer weights only, like nginx', () => {
    expect(() => new IpHash([{ id: 'x', weight: 2.5 }])).toThrow(InvalidWeightError);
    const lb = new IpHash<Target>(['a', 'b']);
    expect(() => lb.setWeight('a', 0.5)).toThrow(InvalidWeightError);
    expect(() => lb.add({ id: 'c', weight: 1e6 })).toThrow(InvalidWeightError);
    expect(lb.targets()).toEqual(['a', 'b']);
  });
});
