import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { proxyError } from '../../src/fetch/responses.js';
import type { RequestLike } from '../../src/fetch/web.js';

const REASONS: Record<number, string> = {
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

function request(method: string, headers: Record<string, string> = {}, url = 'http://proxy.example/x'): RequestLike {
  return new Request(url, { method, headers }) as unknown as RequestLike;
}

/** The proxy's answer as the runtime's Response. */
function answer(status: number, req: RequestLike | undefined, retryAfterS?: number): Response {
  return proxyError(status, req, retryAfterS) as unknown as Response;
}

describe('proxyError', () => {
  it.each(Object.entries(REASONS).map(([s, text]) => [Number(s), text] as const))(
    '%i: status, reason phrase, one-line plain-text body, no-store',
    async (status, text) => {
      const res = answer(status, request('GET'));
      expect(res.status).toBe(status);
      expect(res.statusText).toBe(text);
      expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(await res.text()).toBe(`${text}\n`);
    },
  );

  it('an unlisted status says Error', async () => {
    const res = answer(418, undefined);
    expect(res.status).toBe(418);
    expect(res.statusText).toBe('Error');
    expect(await res.text()).toBe('Error\n');
  });

  it.each(['application/json', 'application/problem+json', 'application/vnd.api+json; q=0.9', 'text/plain;q=0.1, APPLICATION/JSON'])(
    'answers JSON when Accept is %j',
    async (accept) => {
      const res = answer(502, request('GET', { accept }));
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(await res.json()).toEqual({ error: { status: 502, message: 'Bad Gateway' } });
    },
  );

  it.each(['*/*', 'text/plain', 'text/html, application/json', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', ''])(
    'answers plain text when Accept is %j',
    async (accept) => {
      const res = answer(504, request('GET', { accept }));
      expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(await res.text()).toBe('Gateway Timeout\n');
    },
  );

  it('answers plain text when reading Accept throws', async () => {
    const hostile = {
      method: 'GET',
      url: 'http://proxy.example/',
      body: null,
      headers: {
        get(): never {
          throw new Error('boom');
        },
      },
    } as unknown as RequestLike;
    expect(await answer(500, hostile).text()).toBe('Internal Server Error\n');
  });

  it('has no body for HEAD, in either format', async () => {
    for (const accept of ['text/plain', 'application/json']) {
      const res = answer(503, request('HEAD', { accept }), 2);
      expect(res.status).toBe(503);
      expect(res.body).toBeNull();
      expect(await res.text()).toBe('');
      expect(res.headers.get('retry-after')).toBe('2');
    }
  });

  it('sets Retry-After only when given', () => {
    expect(answer(503, request('GET'), 7).headers.get('retry-after')).toBe('7');
    expect(answer(503, request('GET'), 0).headers.get('retry-after')).toBe('0');
    expect(answer(503, request('GET')).headers.has('retry-after')).toBe(false);
  });

  it('sets Allow (without CONNECT and TRACE) with a 405 only', () => {
    const allow = answer(405, request('GET')).headers.get('allow');
    expect(allow).toBe('GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS');
    expect(allow).not.toMatch(/CONNECT|TRACE/);
    for (const status of [400, 413, 431, 502, 503]) expect(answer(status, request('GET')).headers.has('allow')).toBe(false);
  });

  it('the body is only ever the fixed reason text, whatever the request carries (property)', async () => {
    const printable = fc.string({ unit: fc.constantFrom(...'<>"\'&;=,/*+aZ09{}:'), maxLength: 30 });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(400, 405, 413, 431, 499, 500, 502, 503, 504, 418, 520),
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'),
        fc.oneof(printable, fc.constantFrom('application/json', 'text/html', '*/*')),
        printable,
        fc.string({ unit: fc.constantFrom(...'aZ09/_.~-<>'), maxLength: 30 }),
        async (status, method, accept, other, path) => {
          const req = request(method, { accept, 'x-secret': other, cookie: `s=${other}` }, `http://proxy.example/${path}?q=${encodeURIComponent(other)}`);
          const res = answer(status, req);
          const message = REASONS[status] ?? 'Error';
          const body = await res.text();
          expect([`${message}\n`, `{"error":{"status":${status},"message":"${message}"}}`]).toContain(body);
          expect([...res.headers.keys()].sort()).toEqual(
            status === 405 ? ['allow', 'cache-control', 'content-type'] : ['cache-control', 'content-type'],
          );
        },
      ),
      { numRuns: 30 },
    );
  });
});
