import { BaseBalancer } from '../balancer.js';
import { NginxRehashSelector } from './nginx-rehash.js';
import { checkNginxWeight } from './weights.js';
import { COLON, parseIp } from '../core/ip.js';
import type { Selector } from '../core/selector.js';
import type { BalancerOptions, Target } from '../types.js';

/**
 * Options of {@link IpHash}: only the common ones (nginx's `ip_hash` has no bounded loads).
 *
 * @example
 * ```ts
 * const options: IpHashOptions = { seed: 1 };
 * new IpHash(['a:80', 'b:80'], options);
 * ```
 */
export type IpHashOptions = BalancerOptions;

const IPKEY_BYTES = new Uint8Array(16);

/**
 * Turns a socket's remote address into the key nginx's `ip_hash` would see for the same client.
 *
 * A dual-stack Node server (`listen('::')`, the default) reports IPv4 clients as IPv4-mapped
 * IPv6, `::ffff:203.0.113.7`, where nginx, listening on IPv4, sees `203.0.113.7` and hashes
 * its first three octets. This helper maps every IPv4-mapped address (any spelling) to the
 * dotted IPv4 form and returns any other string unchanged; `undefined` or `null` (a socket that
 * is already closed) become `""`, which {@link IpHash} hashes like nginx hashes a non-IP client.
 *
 * @param address - e.g. `req.socket.remoteAddress` (Node), `info.remoteAddr.hostname` (Deno),
 *   `server.requestIP(req)?.address` (Bun).
 * @example
 * ```ts
 * import { IpHash, ipKey } from 'loadwise';
 * const lb = new IpHash(['10.0.0.1:8080', '10.0.0.2:8080']);
 * http.createServer((req, res) => {
 *   const upstream = lb.pick(ipKey(req.socket.remoteAddress)); // '::ffff:1.2.3.4' -> '1.2.3.4'
 *   // ...
 * });
 * ipKey('::ffff:192.0.2.1'); // '192.0.2.1'
 * ipKey('2001:db8::1');      // '2001:db8::1'
 * ```
 */
export function ipKey(address: string | null | undefined): string {
  if (typeof address !== 'string') return '';
  if (parseIp(address, IPKEY_BYTES) !== 16) return address;
  const b = IPKEY_BYTES;
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return address;
  if (b[10] !== 0xff || b[11] !== 0xff) return address;
  // The spelling Node reports, `::ffff:` + dotted quad: slice instead of formatting the octets.
  if (isMappedPrefix(address) && address.lastIndexOf(':') === 6) {
    const zone = address.indexOf('%');
    return zone < 0 ? address.slice(7) : address.slice(7, zone);
  }
  return `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
}

/** True when `text` starts with `::ffff:` in any letter case. */
function isMappedPrefix(text: string): boolean {
  if (text.length < 7 || text.charCodeAt(0) !== COLON || text.charCodeAt(1) !== COLON || text.charCodeAt(6) !== COLON) return false;
  for (let i = 2; i < 6; i++) if ((text.charCodeAt(i) | 0x20) !== 0x66) return false;
  return true;
}

class IpHashSelector<T extends Target> extends NginxRehashSelector<T> {
  private readonly address = new Uint8Array(16);
  private length = 3;
  /** nginx `iphp->hash`, carried from round to round. */
  private hash = 89;

  protected first(key: string): number {
    const kind = parseIp(key, this.address);
    if (kind === 16) {
      this.length = 16;
    } else {
      // IPv4 hashes its first three octets. Anything else is a client that is not IPv4/IPv6
      // to nginx (a unix socket): it hashes ngx_http_upstream_ip_hash_pseudo_addr, 3 zero bytes.
      if (kind === 0) this.address.fill(0, 0, 3);
      this.length = 3;
    }
    this.hash = 89;
    return this.restart();
  }

  /**
   * One round of nginx `ngx_http_upstream_get_ip_hash_peer`: `for each byte: hash = (hash *
   * 113 + byte) % 6271`, continuing from the previous round's hash, then `w = hash %
   * total_weight`.
   */
  protected round(): number {
    const address = this.address;
    const length = this.length;
    let h = this.hash;
    for (let i = 0; i < length; i++) h = (h * 113 + address[i]!) % 6271;
    this.hash = h;
    return h % this.walk.total;
  }
}

/**
 * nginx `ip_hash`: a client's address picks its target, so the same client keeps reaching the
 * same target (session affinity without cookies). Reproduces nginx 1.22 exactly (checked
 * against a real nginx on 2,000 addresses per case) when the targets are the `server` lines in
 * config order with their weights and the key is the client address nginx sees:
 *
 * - IPv4 hashes only its first three octets, so a whole /24 shares a target; IPv6 hashes all 16
 *   bytes, and that includes IPv4-mapped `::ffff:a.b.c.d`, which nginx keeps as IPv6 (use
 *   {@link ipKey} to turn a Node dual-stack socket's `::ffff:a.b.c.d` into the IPv4 nginx sees);
 * - `hash = 89`, then `hash = (hash * 113 + byte) % 6271` per byte, `w = hash % total_weight`
 *   and a walk over the targets in list order, each owning `weight` consecutive values; down
 *   targets keep theirs;
 * - a target that cannot serve (down, excluded, at `maxActive`) makes nginx hash the address
 *   again on top of the previous hash, up to 20 times; after that nginx uses round robin, while
 *   this class offers the remaining targets in list order after the last candidate, so the
 *   fallback stays deterministic per address.
 *
 * Keys: IPv4 in dotted-decimal (no leading zeros), IPv6 in any RFC 4291 spelling (`::`,
 * uppercase hex, embedded IPv4), a `%zone` suffix ignored (the strings Node's `net.isIP` accepts). Any other string (including `""`)
 * is treated as nginx treats a client that is not IPv4/IPv6, such as a unix socket: it hashes
 * three zero bytes, so all such keys share one target. Weights must be integers (1..10,000), as
 * in nginx. Cost per pick: parsing the address and at most 16 multiply-mods, then a binary
 * search over the weights' prefix sums; no allocation.
 *
 * @example
 * ```ts
 * import { IpHash, ipKey } from 'loadwise';
 * // upstream { ip_hash; server 10.0.0.1:80; server 10.0.0.2:80 weight=2; }
 * const lb = new IpHash(['10.0.0.1:80', { id: '10.0.0.2:80', weight: 2 }]);
 * lb.pick('203.0.113.7');      // the same server as for 203.0.113.200 (same /24)
 * lb.pick('2001:db8::1');
 * lb.pick(ipKey('::ffff:203.0.113.7')); // as nginx sees an IPv4 client
 * ```
 */
export class IpHash<T extends Target = Target> extends BaseBalancer<T> {
  constructor(targets: readonly T[], options?: IpHashOptions) {
    // Weights must be integers (1..10,000), as in nginx, in every mutation.
    super(targets, options, [], checkNginxWeight);
  }

  protected createSelector(): Selector<T> {
    return new IpHashSelector<T>();
  }
}

/**
 * The parser behind {@link IpHash}, exposed for tests: 4 (IPv4), 16 (IPv6) or 0 (neither), with
 * the address bytes written to `out`.
 *
 * @internal
 * @example
 * ```ts
 * const out = new Uint8Array(16);
 * parseIpAddress('::ffff:1.2.3.4', out); // 16; out = 0,0,0,0,0,0,0,0,0,0,255,255,1,2,3,4
 * parseIpAddress('10.0.0.1', out);       // 4
 * parseIpAddress('010.0.0.1', out);      // 0
 * ```
 */
export const parseIpAddress: (text: string, out: Uint8Array) => number = parseIp;
