/**
 * Literal, O(n) transcriptions of nginx 1.22's hash balancers (src/http/modules/
 * ngx_http_upstream_hash_module.c and ngx_http_upstream_ip_hash_module.c), used as oracles for
 * ConsistentHash (compat: 'nginx'), ModuloHash and IpHash on the paths the recorded fixtures do
 * not reach: peers that are down, at max_conns or already tried, and the rehash loops.
 *
 * They share nothing with the implementations under test: CRC32 is Node's zlib.crc32, the
 * points are plain objects sorted with the (stable) Array.prototype.sort, the weighted walks are
 * nginx's subtraction loops, and addresses are parsed with split().
 *
 * Each pick returns the chosen peer index, or 'rr' where nginx would hand the request to its
 * round robin (empty key, single peer, or more than 20 failed tries).
 */
import { crc32 as zlibCrc32 } from 'node:zlib';

/** Read once: under vitest every use of an imported Node builtin goes through an interop Proxy. */
const crc32 = zlibCrc32;

export type RefPick = number | 'rr';
/** Whether peer i may serve: not down, not tried, below max_conns. */
export type Eligible = (i: number) => boolean;

const u8 = (s: string): Buffer => Buffer.from(s, 'utf8');

// ---- hash $key consistent ----------------------------------------------------------------

export interface ChashPoint {
  hash: number;
  server: number;
}

/** ngx_http_upstream_update_chash: points for `server` strings with weights, sorted, deduplicated. */
export function nginxChashPoints(servers: readonly { id: string; weight: number }[]): ChashPoint[] {
  const points: ChashPoint[] = [];
  servers.forEach((s, index) => {
    const server = u8(s.id);
    let host: Buffer;
    let port: Buffer;
    if (server.length >= 5 && server.subarray(0, 5).toString('latin1').toLowerCase() === 'unix:') {
      host = server.subarray(5);
      port = Buffer.alloc(0);
    } else {
      host = server;
      port = Buffer.alloc(0);
      for (let j = 0; j < server.length; j++) {
        const c = server[server.length - j - 1]!;
        if (c === 0x3a) {
          host = server.subarray(0, server.length - j - 1);
          port = server.subarray(server.length - j);
          break;
        }
        if (c < 0x30 || c > 0x39) break;
      }
    }
    // host, '\0', port, then the previous hash as 4 little-endian bytes (rewritten for each point).
    const input = Buffer.concat([host, Buffer.from([0]), port, Buffer.alloc(4)]);
    let prev = 0;
    for (let j = 0; j < s.weight * 160; j++) {
      input.writeUInt32LE(prev >>> 0, input.length - 4);
      const hash = crc32(input);
      points.push({ hash, server: index });
      prev = hash;
    }
  });
  // glibc qsort is a merge sort: stable. Sorting hash · 2^20 + position (exact in a double) by
  // value gives that same order without a comparator call per comparison.
  if (points.length > 2 ** 20) throw new RangeError('too many points');
  const order = Float64Array.from(points, (p, i) => p.hash * 2 ** 20 + i).sort();
  const out: ChashPoint[] = [];
  for (const k of order) {
    const p = points[k % 2 ** 20]!;
    if (out.length === 0 || out[out.length - 1]!.hash !== p.hash) out.push(p);
  }
  return out;
}

/** ngx_http_upstream_find_chash_point: first point >= hash (may be points.length). */
function findChashPoint(points: readonly ChashPoint[], hash: number): number {
  let i = 0;
  let j = points.length;
  while (i < j) {
    const k = Math.floor((i + j) / 2);
    if (hash > points[k]!.hash) i = k + 1;
    else if (hash < points[k]!.hash) j = k;
    else return k;
  }
  return i;
}

/** ngx_http_upstream_init_chash_peer + get_chash_peer (servers have distinct names). */
export function nginxChashPick(points: readonly ChashPoint[], serverCount: number, key: string, eligible: Eligible): RefPick {
  if (key.length === 0 || serverCount === 1) return 'rr';
  let hash = findChashPoint(points, crc32(u8(key)));
  let tries = 0;
  for (;;) {
    const server = points[hash % points.length]!.server;
    if (eligible(server)) return server;
    hash++;
    tries++;
    if (tries > 20) return 'rr';
  }
}

// ---- hash $key ---------------------------------------------------------------------------

/** ngx_http_upstream_get_hash_peer. */
export function nginxHashPick(weights: readonly number[], key: string, eligible: Eligible): RefPick {
  if (key.length === 0 || weights.length < 2) return 'rr';
  const total = weights.reduce((a, b) => a + b, 0);
  const keyBytes = u8(key);
  let acc = 0;
  let rehash = 0;
  let tries = 0;
  for (;;) {
    const input = rehash > 0 ? Buffer.concat([u8(String(rehash)), keyBytes]) : keyBytes;
    const hash = (crc32(input) >>> 16) & 0x7fff;
    acc = (acc + hash) >>> 0;
    rehash++;
    let w = acc % total;
    let p = 0;
    while (w >= weights[p]!) {
      w -= weights[p]!;
      p++;
    }
    if (eligible(p)) return p;
    if (++tries > 20) return 'rr';
  }
}

// ---- ip_hash -----------------------------------------------------------------------------

/** ngx_http_upstream_get_ip_hash_peer; `addr` is 3 bytes (IPv4 prefix or pseudo) or 16 (IPv6). */
export function nginxIpHashPick(weights: readonly number[], addr: readonly number[], eligible: Eligible): RefPick {
  if (weights.length < 2) return 'rr';
  const total = weights.reduce((a, b) => a + b, 0);
  let hash = 89;
  let tries = 0;
  for (;;) {
    for (const b of addr) hash = (hash * 113 + b) % 6271;
    let w = hash % total;
    let p = 0;
    while (w >= weights[p]!) {
      w -= weights[p]!;
      p++;
    }
    if (eligible(p)) return p;
    if (++tries > 20) return 'rr';
  }
}

/** The bytes nginx's ip_hash reads for an address string: IPv4 → first 3, IPv6 → 16, else pseudo [0,0,0]. */
export function ipHashBytes(address: string): number[] {
  const v4 = ipv4(address);
  if (v4 !== null) return v4.slice(0, 3);
  const [addr, ...zone] = address.split('%');
  const v6 = ipv6(addr!);
  // A zone id (ignored by nginx, which hashes sin6_addr) in the characters Node's isIPv6 allows.
  if (v6 !== null && (zone.length === 0 || /^[0-9a-zA-Z.:-]+$/.test(zone.join('%')))) return v6;
  return [0, 0, 0];
}

function ipv4(s: string): number[] | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255) return null;
    out.push(Number(p));
  }
  return out;
}

function ipv6(s: string): number[] | null {
  let tail: number[] = [];
  const lastColon = s.lastIndexOf(':');
  if (lastColon < 0) return null;
  if (s.slice(lastColon + 1).includes('.')) {
    const v4 = ipv4(s.slice(lastColon + 1));
    if (v4 === null) return null;
    tail = v4;
    s = s.slice(0, lastColon + 1) + 'x'; // placeholder group standing for two groups
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const groupsOf = (t: string): string[] => (t === '' ? [] : t.split(':'));
  const head = groupsOf(halves[0]!);
  const rest = halves.length === 2 ? groupsOf(halves[1]!) : [];
  const width = (gs: string[]) => gs.reduce((n, g) => n + (g === 'x' ? 2 : 1), 0);
  const used = width(head) + width(rest);
  if (halves.length === 1 ? used !== 8 : used > 7) return null;
  const all = [...head, ...Array<string>(halves.length === 2 ? 8 - used : 0).fill('0'), ...rest];
  const bytes: number[] = [];
  for (const g of all) {
    if (g === 'x') {
      bytes.push(...tail);
      continue;
    }
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    const v = parseInt(g, 16);
    bytes.push(v >> 8, v & 0xff);
  }
  if (tail.length > 0 && all[all.length - 1] !== 'x') return null;
  return bytes.length === 16 ? bytes : null;
}
