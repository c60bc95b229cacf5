/**
 * IP address parsing shared by the hash family (`IpHash`, `ipKey`) and the HTTP layer (trusted
 * proxy ranges): strict, allocation-free, over the address text's char codes.
 */

export const COLON = 0x3a;
const DOT = 0x2e;
const PERCENT = 0x25;

/** Value of a hex digit's char code, or -1. */
function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

/**
 * Parses dotted-quad IPv4 in `text[start..end)` into `out[at..at+4)`: exactly four decimal
 * octets 0..255, no empty octet, no leading zero (`010` could mean 8 or 10 depending on the
 * parser, so it is rejected). Returns false when the text is not such an address.
 */
function parseIPv4(text: string, start: number, end: number, out: Uint8Array, at: number): boolean {
  let octet = 0;
  let digits = 0;
  let parts = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) {
      if (digits === 1 && octet === 0) return false;
      octet = octet * 10 + (c - 0x30);
      if (++digits > 3 || octet > 255) return false;
    } else if (c === DOT) {
      if (digits === 0 || parts === 3) return false;
      out[at + parts++] = octet;
      octet = 0;
      digits = 0;
    } else {
      return false;
    }
  }
  if (digits === 0 || parts !== 3) return false;
  out[at + 3] = octet;
  return true;
}

/**
 * Parses IPv6 text (RFC 4291 §2.2) in `text[0..end)` into `out[0..16)`: up to eight groups of
 * 1-4 hex digits (either case), at most one `::` standing for one or more zero groups, and an
 * optional dotted IPv4 tail in place of the last two groups (`::ffff:1.2.3.4`).
 */
function parseIPv6(text: string, end: number, out: Uint8Array): boolean {
  let i = 0;
  let groups = 0;
  let gap = -1;
  if (end >= 1 && text.charCodeAt(0) === COLON) {
    if (end < 2 || text.charCodeAt(1) !== COLON) return false;
    gap = 0;
    i = 2;
  }
  while (i < end) {
    if (groups === 8) return false;
    const start = i;
    let value = 0;
    let digits = 0;
    for (; i < end && digits < 5; i++) {
      const h = hexValue(text.charCodeAt(i));
      if (h < 0) break;
      value = value * 16 + h;
      digits++;
    }
    if (i < end && text.charCodeAt(i) === DOT) {
      if (groups > 6 || !parseIPv4(text, start, end, out, groups * 2)) return false;
      groups += 2;
      break;
    }
    if (digits === 0 || digits > 4) return false;
    out[groups * 2] = value >>> 8;
    out[groups * 2 + 1] = value & 0xff;
    groups++;
    if (i === end) break;
    if (text.charCodeAt(i) !== COLON) return false;
    i++;
    if (i < end && text.charCodeAt(i) === COLON) {
      if (gap >= 0) return false;
      gap = groups;
      i++;
    } else if (i === end) {
      return false; // a single trailing ':'
    }
  }
  if (gap < 0) return groups === 8;
  if (groups === 8) return false; // '::' must stand for at least one group
  // Move the groups after '::' to the end and zero the gap.
  const tail = groups - gap;
  for (let g = tail - 1; g >= 0; g--) {
    out[(8 - tail + g) * 2] = out[(gap + g) * 2]!;
    out[(8 - tail + g) * 2 + 1] = out[(gap + g) * 2 + 1]!;
  }
  out.fill(0, gap * 2, (8 - tail) * 2);
  return true;
}

/**
 * Parses an IP address into `out`: returns 4 for IPv4 (bytes 0..3), 16 for IPv6 (bytes 0..15),
 * or 0 when `text` is neither. An IPv6 zone (`fe80::1%eth0`, characters `0-9 A-Z a-z . : -` as
 * Node's `net.isIPv6` allows) is accepted and ignored, as nginx hashes `sin6_addr` only.
 * Allocates nothing.
 */
export function parseIp(text: string, out: Uint8Array): number {
  const length = text.length;
  let colon = false;
  let end = length;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c === COLON) colon = true;
    else if (c === PERCENT) {
      end = i;
      break;
    }
  }
  if (!colon) return end === length && parseIPv4(text, 0, length, out, 0) ? 4 : 0;
  if (end < length && !isZone(text, end + 1)) return 0;
  return parseIPv6(text, end, out) ? 16 : 0;
}

/** A zone id after '%': one or more of `0-9 A-Z a-z . : -`, the characters Node's `net.isIPv6` allows. */
function isZone(text: string, start: number): boolean {
  if (start >= text.length) return false;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const l = c | 0x20;
    if (!((c >= 0x30 && c <= 0x3a) || (l >= 0x61 && l <= 0x7a) || c === DOT || c === 0x2d)) return false;
  }
  return true;
}
