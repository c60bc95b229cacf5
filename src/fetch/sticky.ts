/**
 * Sticky sessions on top of any balancer, with nginx `sticky cookie` / HAProxy `cookie`
 * semantics: the first response sets a cookie naming the chosen target by an opaque token
 * (HMAC-SHA256 of its id under the user's secret, never its address); a request carrying a valid
 * token goes to that target while it is eligible, otherwise to the balancer's choice, and the
 * cookie is rewritten. A forged, stale or malformed cookie is ignored, never an error.
 */
import { targetId } from '../balancer.js';
import { InvalidOptionError } from '../core/errors.js';
import { checkOptionNames, intOption } from '../core/options.js';
import type { Balancer, Target } from '../types.js';
import { web, type HeadersLike, type RequestLike } from './web.js';

/**
 * Options of sticky sessions.
 *
 * @example
 * ```ts
 * createProxy({ balancer, sticky: { cookie: 'lw', secret: stickySecret, maxAgeS: 3600 } }); // a secret from your configuration
 * ```
 */
export interface StickyOptions {
  /** The cookie's name (an RFC 6265 token). */
  readonly cookie: string;
  /** The key the tokens are signed with; at least 16 characters. Changing it unpins every client. */
  readonly secret: string;
  /** `Max-Age` in seconds; default none (a session cookie). */
  readonly maxAgeS?: number | undefined;
  /** `Path`; default `/`. */
  readonly path?: string | undefined;
  /** `Secure`; default: when the request came over https. */
  readonly secure?: boolean | undefined;
  /** `HttpOnly`; default `true`. */
  readonly httpOnly?: boolean | undefined;
  /** `SameSite`; default `Lax`. */
  readonly sameSite?: 'Strict' | 'Lax' | 'None' | undefined;
}

interface SubtleLike {
  importKey(format: 'raw', key: Uint8Array, algorithm: { name: 'HMAC'; hash: 'SHA-256' }, extractable: false, usages: ['sign']): Promise<unknown>;
  sign(algorithm: 'HMAC', key: unknown, data: Uint8Array): Promise<ArrayBuffer>;
}

const crypto = (): SubtleLike => {
  const subtle = (globalThis as { crypto?: { subtle?: SubtleLike } }).crypto?.subtle;
  if (subtle === undefined) throw new Error('sticky sessions need Web Crypto (crypto.subtle)');
  return subtle;
};

const TOKEN = /^[A-Za-z0-9_-]{22}$/;
const COOKIE_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Tokens of the balancer's targets, computed once per id, and the cookie header to set. */
export class StickySessions<T extends Target> {
  private readonly name: string;
  private readonly attributes: string;
  private readonly secure: boolean | undefined;
  private key: Promise<unknown> | undefined;
  private readonly tokenOf = new Map<string, string>();
  private readonly idOf = new Map<string, string>();
  /** The membership (ids joined) the token maps were last completed for. */
  private known = '';

  constructor(
    options: StickyOptions,
    private readonly balancer: Balancer<T>,
  ) {
    if (typeof options !== 'object' || options === null) throw new InvalidOptionError('sticky', options, 'an object { cookie, secret }');
    checkOptionNames(options, ['cookie', 'secret', 'maxAgeS', 'path', 'secure', 'httpOnly', 'sameSite'], 'sticky');
    const { cookie, secret, path, secure, httpOnly, sameSite } = options;
    if (typeof cookie !== 'string' || !COOKIE_NAME.test(cookie)) throw new InvalidOptionError('sticky.cookie', cookie, 'a cookie name (an RFC 6265 token)');
    if (typeof secret !== 'string' || secret.length < 16) throw new InvalidOptionError('sticky.secret', '(hidden)', 'a string of at least 16 characters');
    const maxAgeS = options.maxAgeS === undefined ? undefined : intOption('sticky.maxAgeS', options.maxAgeS, 0, 0);
    if (path !== undefined && (typeof path !== 'string' || !/^\/[\x21-\x3a\x3c-\x7e]*$/.test(path))) {
      throw new InvalidOptionError('sticky.path', path, "a path starting with '/', without ';' or spaces");
    }
    for (const [name, value] of [['secure', secure], ['httpOnly', httpOnly]] as const) {
      if (value !== undefined && typeof value !== 'boolean') throw new InvalidOptionError(`sticky.${name}`, value, 'a boolean');
    }
    if (sameSite !== undefined && sameSite !== 'Strict' && sameSite !== 'Lax' && sameSite !== 'None') {
      throw new InvalidOptionError('sticky.sameSite', sameSite, "'Strict', 'Lax' or 'None'");
    }
    this.name = cookie;
    this.secure = secure;
    this.attributes =
      `; Path=${path ?? '/'}` +
      (maxAgeS === undefined ? '' : `; Max-Age=${maxAgeS}`) +
      (httpOnly === false ? '' : '; HttpOnly') +
      `; SameSite=${sameSite ?? 'Lax'}`;
    this.secret = secret;
  }

  private readonly secret: string;

  /** The token in the request's cookie, if it looks like one of ours. */
  token(request: RequestLike): string | undefined {
    const header = request.headers.get('cookie');
    if (header === null) return undefined;
    const prefix = `${this.name}=`;
    for (const part of header.split(';')) {
      const item = part.trim();
      if (item.startsWith(prefix)) {
        const value = item.slice(prefix.length);
        return TOKEN.test(value) ? value : undefined;
      }
    }
    return undefined;
  }

  /** The id a token names among the current targets, or `undefined` (forged, stale, unknown). */
  async pinned(token: string | undefined): Promise<string | undefined> {
    if (token === undefined) return undefined;
    const id = this.idOf.get(token);
    if (id !== undefined) return id;
    // Perhaps a target we have not signed yet (new, or the proxy restarted): sign them all, once
    // per membership, so forged cookies cannot make every request recompute.
    const ids = this.balancer.targets().map(targetId);
    const membership = ids.join('\n');
    if (membership === this.known) return undefined;
    for (const each of ids) await this.tokenFor(each);
    this.known = membership;
    return this.idOf.get(token);
  }

  /** Adds `Set-Cookie` naming `id` unless the request already carried its token. */
  async mark(headers: HeadersLike, id: string, had: string | undefined, https: boolean): Promise<void> {
    const token = await this.tokenFor(id);
    if (token === had) return;
    const secure = this.secure ?? https;
    headers.append('set-cookie', `${this.name}=${token}${this.attributes}${secure ? '; Secure' : ''}`);
  }

  private async tokenFor(id: string): Promise<string> {
    const known = this.tokenOf.get(id);
    if (known !== undefined) return known;
    const subtle = crypto();
    this.key ??= subtle.importKey('raw', new web.TextEncoder().encode(this.secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    const mac = new Uint8Array(await subtle.sign('HMAC', await this.key, new web.TextEncoder().encode(`loadwise-sticky\n${id}`)));
    const token = base64url(mac.subarray(0, 16));
    if (this.tokenOf.size > 100_000) {
      this.tokenOf.clear();
      this.idOf.clear();
      this.known = '';
    }
    this.tokenOf.set(id, token);
    this.idOf.set(token, id);
    return token;
  }
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Unpadded base64url of 16 bytes: 22 characters. */
function base64url(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += ALPHABET[n >>> 18]! + ALPHABET[(n >>> 12) & 63]! + ALPHABET[(n >>> 6) & 63]! + ALPHABET[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += ALPHABET[n >>> 18]! + ALPHABET[(n >>> 12) & 63]!;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += ALPHABET[n >>> 18]! + ALPHABET[(n >>> 12) & 63]! + ALPHABET[(n >>> 6) & 63]!;
  }
  return out;
}
