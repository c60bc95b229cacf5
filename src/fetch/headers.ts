/**
 * Header rules of a proxy: hop-by-hop headers stay on their own connection (RFC 9110 §7.6.1),
 * header values carrying CR, LF or NUL never travel on, and the header section has a size limit
 * (nginx `large_client_header_buffers`, answered with 431).
 */
import type { HeadersLike } from './web.js';

/**
 * Hop-by-hop headers (RFC 9110 §7.6.1, plus the non-standard `Keep-Alive` and
 * `Proxy-Connection`), removed in both directions; so is every header `Connection` names.
 *
 * @example
 * ```ts
 * HOP_BY_HOP_HEADERS.includes('keep-alive'); // true
 * ```
 */
export const HOP_BY_HOP_HEADERS: readonly string[] = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
];

/**
 * Removes the hop-by-hop headers from `headers`, in place: the fixed list and every field name
 * listed in its `Connection` header(s).
 *
 * @example
 * ```ts
 * const h = new Headers({ connection: 'close, x-secret', 'x-secret': '1', accept: '*\/*' });
 * removeHopByHop(h); // only `accept` is left
 * ```
 */
export function removeHopByHop(headers: HeadersLike): void {
  const connection = headers.get('connection');
  if (connection !== null) {
    for (const token of connection.split(',')) {
      const name = token.trim().toLowerCase();
      // An invalid token (a space inside, an empty item) names no header `Headers` could hold.
      if (name !== '' && isToken(name)) headers.delete(name);
    }
  }
  for (const name of HOP_BY_HOP_HEADERS) headers.delete(name);
}

/**
 * What is wrong with a request's header section: nothing, a forbidden character, or its size.
 *
 * @example
 * ```ts
 * const problem: HeaderProblem = checkHeaders(request.headers, 32_768); // 'ok' | 'bad-character' | 'too-large'
 * ```
 */
export type HeaderProblem = 'ok' | 'bad-character' | 'too-large';

/**
 * Checks a header section before anything is forwarded: any value holding CR, LF or NUL is a
 * `'bad-character'` (answered with 400; most runtimes refuse such values already, this makes it
 * a rule of the proxy rather than of the runtime), and a section whose names and values add up
 * to more than `maxBytes` UTF-16 code units (plus 4 per field for `": "` and CRLF) is
 * `'too-large'` (431).
 *
 * @example
 * ```ts
 * checkHeaders(new Headers({ 'x-a': 'b' }), 32_768); // 'ok'
 * ```
 */
export function checkHeaders(headers: HeadersLike, maxBytes: number): HeaderProblem {
  let size = 0;
  let bad = false;
  headers.forEach((value, name) => {
    size += name.length + value.length + 4;
    if (!bad && hasForbiddenCharacter(value)) bad = true;
  });
  if (bad) return 'bad-character';
  return size > maxBytes ? 'too-large' : 'ok';
}

/**
 * True when `value` holds CR, LF or NUL (RFC 9110 §5.5: never valid in a field value).
 *
 * @example
 * ```ts
 * hasForbiddenCharacter('a\r\nInjected: 1'); // true
 * ```
 */
export function hasForbiddenCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x0d || c === 0x0a || c === 0x00) return true;
  }
  return false;
}

/** An RFC 9110 token: visible ASCII except delimiters. */
function isToken(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || '"(),/:;<=>?@[\\]{}'.includes(text[i]!)) return false;
  }
  return true;
}

/**
 * Content codings the runtimes' `fetch` decodes by itself (gzip, deflate, br, zstd): a response
 * that carried one reaches the proxy already decoded, so its `Content-Encoding` and
 * `Content-Length` no longer describe the body and are dropped.
 */
const DECODED_CODINGS = new Set(['gzip', 'x-gzip', 'deflate', 'br', 'zstd']);

/**
 * The response headers to send to the client: hop-by-hop ones removed, and `Content-Encoding` /
 * `Content-Length` removed when `fetch` decoded the body (see {@link DECODED_CODINGS}).
 *
 * @example
 * ```ts
 * responseHeaders(upstream.headers, true); // a copy, safe to change
 * ```
 */
export function responseHeaders(upstream: HeadersLike, fetchDecodes: boolean, copy: (h: HeadersLike) => HeadersLike): HeadersLike {
  const headers = copy(upstream);
  removeHopByHop(headers);
  if (fetchDecodes) {
    const coding = headers.get('content-encoding');
    if (coding !== null) {
      const codings = coding.toLowerCase().split(',');
      if (codings.length > 0 && codings.every((c) => DECODED_CODINGS.has(c.trim()))) {
        headers.delete('content-encoding');
        headers.delete('content-length');
      }
    }
  }
  return headers;
}
