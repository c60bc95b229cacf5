/**
 * Who the client is, and what the upstream is told about it: `X-Forwarded-For`, `-Proto`,
 * `-Host` and RFC 7239 `Forwarded`. Incoming values are kept (and appended to) only when the
 * peer that sent them is a trusted proxy; from anyone else they are replaced by what this proxy
 * saw, so a client cannot choose the address an upstream (or an `IpHash` key) believes.
 */
import { InvalidOptionError } from '../core/errors.js';
import { parseIp } from '../core/ip.js';
import type { HeadersLike } from './web.js';

/**
 * A set of trusted proxy addresses and CIDR ranges, IPv4 and IPv6 (`'10.0.0.0/8'`,
 * `'127.0.0.1'`, `'fd00::/8'`). An IPv4-mapped IPv6 address (`::ffff:10.1.2.3`, as a dual-stack
 * Node server reports IPv4 peers) matches the IPv4 ranges.
 *
 * @example
 * ```ts
 * const trusted = new TrustedProxies(['10.0.0.0/8', '::1']);
 * trusted.has('10.20.30.40');       // true
 * trusted.has('::ffff:10.20.30.40'); // true
 * trusted.has('192.0.2.1');          // false
 * ```
 */
export class TrustedProxies {
  /** Per range: 16 address bytes then the prefix length in bits, over the IPv6 (mapped) space. */
  private readonly ranges: Uint8Array;
  private readonly count: number;
  private readonly scratch = new Uint8Array(16);

  /** @param list - addresses or CIDR ranges; a bad entry throws `InvalidOptionError` naming it. */
  constructor(list: readonly string[] = []) {
    if (!Array.isArray(list)) throw new InvalidOptionError('forwarded.trust', list, 'an array of addresses or CIDR ranges');
    this.ranges = new Uint8Array(17 * list.length);
    this.count = list.length;
    for (let i = 0; i < list.length; i++) {
      const entry: unknown = list[i];
      if (typeof entry !== 'string' || !this.parseRange(entry, i)) {
        throw new InvalidOptionError(`forwarded.trust[${i}]`, entry, "an IPv4 or IPv6 address or CIDR range ('10.0.0.0/8')");
      }
    }
  }

  /** True when `address` (an IP address string) lies in one of the ranges. */
  has(address: string | null | undefined): boolean {
    if (this.count === 0 || typeof address !== 'string') return false;
    const bytes = this.scratch;
    if (!toMapped(address, bytes)) return false;
    const ranges = this.ranges;
    for (let r = 0; r < this.count; r++) {
      const at = 17 * r;
      const bits = ranges[at + 16]!;
      let ok = true;
      const whole = bits >>> 3;
      for (let i = 0; i < whole && ok; i++) ok = bytes[i] === ranges[at + i];
      const rest = bits & 7;
      if (ok && rest !== 0) {
        const mask = (0xff << (8 - rest)) & 0xff;
        ok = (bytes[whole]! & mask) === ranges[at + whole];
      }
      if (ok) return true;
    }
    return false;
  }

  private parseRange(entry: string, index: number): boolean {
    const slash = entry.indexOf('/');
    const address = slash < 0 ? entry : entry.slice(0, slash);
    const bytes = new Uint8Array(16);
    const kind = parseIp(address, bytes);
    if (kind === 0) return false;
    const max = kind === 4 ? 32 : 128;
    let bits = max;
    if (slash >= 0) {
      const text = entry.slice(slash + 1);
      if (!/^(0|[1-9][0-9]{0,2})$/.test(text)) return false;
      bits = Number(text);
      if (bits > max) return false;
    }
    const at = 17 * index;
    if (kind === 4) {
      // ::ffff:a.b.c.d, so IPv4 ranges and IPv4-mapped peers compare alike.
      this.ranges[at + 10] = 0xff;
      this.ranges[at + 11] = 0xff;
      this.ranges.set(bytes.subarray(0, 4), at + 12);
      bits += 96;
    } else {
      this.ranges.set(bytes, at);
    }
    // Keep only the prefix, so `has` can compare bytes as they are.
    for (let b = bits; b < 128; b++) this.ranges[at + (b >>> 3)]! &= ~(0x80 >>> (b & 7));
    this.ranges[at + 16] = bits;
    return true;
  }
}

/** Parses `address` into IPv6 bytes, IPv4 as `::ffff:a.b.c.d`; false when it is not an address. */
function toMapped(address: string, out: Uint8Array): boolean {
  const kind = parseIp(address, out);
  if (kind === 16) return true;
  if (kind !== 4) return false;
  out[12] = out[0]!;
  out[13] = out[1]!;
  out[14] = out[2]!;
  out[15] = out[3]!;
  out.fill(0, 0, 10);
  out[10] = 0xff;
  out[11] = 0xff;
  return true;
}

/**
 * The client's address as this proxy may believe it: the peer's own address, unless the peer is
 * a trusted proxy, in which case `X-Forwarded-For` is read from the right, skipping trusted
 * hops, and the first untrusted address is the client (what nginx's `real_ip_recursive on`
 * does). A malformed entry stops the walk at the last address known good.
 *
 * @example
 * ```ts
 * const trusted = new TrustedProxies(['10.0.0.0/8']);
 * clientAddress('10.0.0.5', '203.0.113.9, 10.0.0.7', trusted); // '203.0.113.9'
 * clientAddress('198.51.100.1', '203.0.113.9', trusted);       // '198.51.100.1' (not trusted)
 * ```
 */
export function clientAddress(peer: string | undefined, forwardedFor: string | null, trusted: TrustedProxies): string | undefined {
  if (peer === undefined || forwardedFor === null || !trusted.has(peer)) return peer;
  const hops = forwardedFor.split(',');
  let client = peer;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!.trim();
    if (parseIp(hop, SCRATCH) === 0) break;
    client = hop;
    if (!trusted.has(hop)) break;
  }
  return client;
}

const SCRATCH = new Uint8Array(16);

/**
 * What the proxy itself saw of a request, for the forwarded headers.
 *
 * @example
 * ```ts
 * const facts: ForwardedFacts = { peer: '203.0.113.9', trusted: false, proto: 'https', host: 'api.example' };
 * setForwarded(headers, facts);
 * ```
 */
export interface ForwardedFacts {
  /** The address of the peer that connected to the proxy, if the runtime said. */
  readonly peer: string | undefined;
  /** Whether that peer is a trusted proxy (its forwarded headers are kept and appended to). */
  readonly trusted: boolean;
  /** `http` or `https`: the scheme the client used to reach this proxy. */
  readonly proto: string;
  /** The `Host` the client asked for (may be empty). */
  readonly host: string;
}

/**
 * Sets `X-Forwarded-For`, `X-Forwarded-Proto`, `X-Forwarded-Host` and `Forwarded` on the
 * upstream request's headers (a copy of the incoming ones): appended to when the peer is
 * trusted, replaced otherwise.
 *
 * @example
 * ```ts
 * setForwarded(headers, { peer: '203.0.113.9', trusted: false, proto: 'https', host: 'api.example' });
 * // x-forwarded-for: 203.0.113.9, forwarded: for=203.0.113.9;proto=https;host=api.example
 * ```
 */
export function setForwarded(headers: HeadersLike, facts: ForwardedFacts): void {
  const { peer, trusted, proto, host } = facts;
  const xff = trusted ? headers.get('x-forwarded-for') : null;
  if (peer !== undefined && peer !== '') headers.set('x-forwarded-for', xff === null || xff.trim() === '' ? peer : `${xff}, ${peer}`);
  else if (xff === null) headers.delete('x-forwarded-for');
  if (!trusted || !headers.has('x-forwarded-proto')) headers.set('x-forwarded-proto', proto);
  if (!trusted || !headers.has('x-forwarded-host')) {
    if (host !== '') headers.set('x-forwarded-host', host);
    else headers.delete('x-forwarded-host');
  }
  const element = forwardedElement(peer, proto, host);
  const previous = trusted ? headers.get('forwarded') : null;
  headers.set('forwarded', previous === null || previous.trim() === '' ? element : `${previous}, ${element}`);
}

/**
 * One RFC 7239 `Forwarded` element: `for=…;proto=…;host=…`, quoting what needs quotes.
 *
 * @example
 * ```ts
 * forwardedElement('2001:db8::1', 'https', 'api.example'); // 'for="[2001:db8::1]";proto=https;host=api.example'
 * ```
 */
export function forwardedElement(peer: string | undefined, proto: string, host: string): string {
  let element = `for=${peer === undefined || peer === '' ? 'unknown' : forwardedNode(peer)}`;
  element += `;proto=${proto}`;
  if (host !== '') element += `;host=${quoteIfNeeded(host)}`;
  return element;
}

/** RFC 7239 §6: an IPv6 node is bracketed and quoted; an IPv4 address or obfuscated name is a token. */
function forwardedNode(address: string): string {
  return address.includes(':') ? `"[${address}]"` : quoteIfNeeded(address);
}

function quoteIfNeeded(value: string): string {
  return /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(value) ? value : `"${value.replace(/["\\]/g, '\\$&')}"`;
}
