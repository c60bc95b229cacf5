/**
 * The proxy's own answers. Short and generic: they never carry an upstream address, an error
 * message or a stack (those go to `onEvent`). Plain text, or JSON when the client asks for it.
 */
import { web, type RequestLike, type ResponseLike } from './web.js';

const REASONS: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  405: 'Method Not Allowed',
  413: 'Content Too Large',
  431: 'Request Header Fields Too Large',
  499: 'Client Closed Request',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** Methods a proxy answers itself: CONNECT would make it a tunnel, TRACE reflects headers (XST). */
const ALLOW = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';

/**
 * A response of the proxy's own with `status`: a one-line body (`Bad Gateway`) or, when the
 * client's `Accept` prefers JSON, `{"error":{"status":502,"message":"Bad Gateway"}}`;
 * `Retry-After` when given; `Allow` with a 405.
 *
 * @example
 * ```ts
 * proxyError(503, request, 2); // 503 Service Unavailable, Retry-After: 2
 * ```
 */
export function proxyError(status: number, request: RequestLike | undefined, retryAfterS?: number): ResponseLike {
  const message = REASONS[status] ?? 'Error';
  const headers = new web.Headers();
  headers.set('cache-control', 'no-store');
  if (retryAfterS !== undefined) headers.set('retry-after', String(retryAfterS));
  if (status === 405) headers.set('allow', ALLOW);
  const json = wantsJson(request);
  headers.set('content-type', json ? 'application/json' : 'text/plain; charset=utf-8');
  const body = request?.method === 'HEAD' ? null : json ? `{"error":{"status":${status},"message":"${message}"}}` : `${message}\n`;
  return new web.Response(body, { status, statusText: message, headers });
}

function wantsJson(request: RequestLike | undefined): boolean {
  if (request === undefined) return false;
  let accept: string | null;
  try {
    accept = request.headers.get('accept');
  } catch {
    return false;
  }
  return accept !== null && /application\/(?:[\w.+-]*\+)?json/i.test(accept) && !/text\/html/i.test(accept);
}
