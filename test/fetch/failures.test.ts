import { createServer, type AddressInfo } from 'node:net';
import { fetch as undiciFetch } from 'undici';
import { beforeAll, describe, expect, it } from 'vitest';
import { failureKind, neverSent } from '../../src/fetch/failures.js';

/** What `fetch` rejects with: a bare TypeError, the real reason in `cause`. */
function fetchFailed(cause: unknown): TypeError {
  return new TypeError('fetch failed', { cause });
}

function codeError(code: string, message = `connect ${code} 127.0.0.1:1`): Error {
  return Object.assign(new Error(message), { code });
}

/** Nests `inner` under `depth` levels of `cause`. */
function nested(inner: unknown, depth: number): unknown {
  let e = inner;
  for (let i = 0; i < depth; i++) e = new Error(`level ${i}`, { cause: e });
  return e;
}

describe('neverSent', () => {
  it.each(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT'])(
    'is true for %s in cause.code at depth 1 to 3',
    (code) => {
      for (const depth of [1, 2, 3]) expect(neverSent(nested(codeError(code), depth)), `depth ${depth}`).toBe(true);
    },
  );

  it('is true for the code on the error itself (Bun: ConnectionRefused, FailedToOpenSocket)', () => {
    expect(neverSent(Object.assign(new TypeError('Unable to connect. Is the computer able to access the url?'), { code: 'ConnectionRefused' }))).toBe(true);
    expect(neverSent(Object.assign(new Error('Failed to open socket'), { code: 'FailedToOpenSocket' }))).toBe(true);
    expect(neverSent(codeError('ECONNREFUSED'))).toBe(true);
  });

  it("is true for Deno's message (no code at all)", () => {
    expect(
      neverSent(new TypeError('error sending request for url (http://127.0.0.1:1/): client error (Connect): tcp connect error: Connection refused (os error 111)')),
    ).toBe(true);
    expect(neverSent(fetchFailed(new Error('dns error: failed to lookup address information: Name or service not known')))).toBe(true);
  });

  it('is true for an AggregateError whose every attempt was refused, false when one was not', () => {
    const refused = (): Error => codeError('ECONNREFUSED');
    expect(neverSent(fetchFailed(new AggregateError([refused(), refused()])))).toBe(true);
    expect(neverSent(fetchFailed(new AggregateError([refused(), codeError('ENETUNREACH')])))).toBe(true);
    expect(neverSent(fetchFailed(new AggregateError([refused(), codeError('ECONNRESET')])))).toBe(false);
    expect(neverSent(fetchFailed(new AggregateError([])))).toBe(false);
  });

  it.each([
    ['ECONNRESET', fetchFailed(codeError('ECONNRESET', 'read ECONNRESET'))],
    ['other side closed', fetchFailed(Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }))],
    ['EPIPE', fetchFailed(codeError('EPIPE', 'write EPIPE'))],
    ['headers timeout', fetchFailed(Object.assign(new Error('Headers Timeout Error'), { code: 'UND_ERR_HEADERS_TIMEOUT' }))],
    ['a bare fetch failed', new TypeError('fetch failed')],
    ['an unknown error', new Error('something went wrong')],
    ['an abort', new DOMException('This operation was aborted', 'AbortError')],
    ['a code that is not a string', Object.assign(new Error('x'), { code: 111 })],
    ['a code in the wrong case', codeError('econnrefused')],
  ])('is false for %s (counts as sent)', (_label, error) => {
    expect(neverSent(error)).toBe(false);
  });

  it.each([undefined, null, 'ECONNREFUSED', 111, true, Symbol('x'), () => {}])('is false for the non-object %s', (value) => {
    expect(neverSent(value)).toBe(false);
  });

  it('does not throw for objects with throwing getters', () => {
    const hostile = {
      get code(): never {
        throw new Error('code');
      },
      get message(): never {
        throw new Error('message');
      },
      get errors(): never {
        throw new Error('errors');
      },
      get cause(): never {
        throw new Error('cause');
      },
    };
    expect(neverSent(hostile)).toBe(false);
    expect(neverSent(fetchFailed(hostile))).toBe(false);
    // A getter that throws does not hide a refusal found elsewhere.
    const codeThrows = {
      get code(): never {
        throw new Error('code');
      },
      cause: codeError('ECONNREFUSED'),
    };
    expect(neverSent(codeThrows)).toBe(true);
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    expect(neverSent(revoked.proxy)).toBe(false);
  });

  it('does not loop forever or overflow on cyclic causes and errors', () => {
    const selfCause: Error & { cause?: unknown } = new Error('loop');
    selfCause.cause = selfCause;
    expect(neverSent(selfCause)).toBe(false);
    const selfErrors = new AggregateError([]);
    (selfErrors.errors as unknown[]).push(selfErrors);
    expect(neverSent(selfErrors)).toBe(false);
    expect(neverSent(fetchFailed(selfErrors))).toBe(false);
  });

  describe('with a real refused connection', () => {
    let port = 0;
    beforeAll(async () => {
      const server = createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    async function rejection(p: Promise<unknown>): Promise<unknown> {
      try {
        await p;
      } catch (error) {
        return error;
      }
      throw new Error('expected the fetch to fail');
    }

    it("Node's global fetch: neverSent is true", async () => {
      const error = await rejection(fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: 'x' }));
      expect(neverSent(error)).toBe(true);
      expect(failureKind(error)).toBe('error');
    });

    it("undici's fetch: neverSent is true", async () => {
      const error = await rejection(undiciFetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: 'x' }));
      expect(neverSent(error)).toBe(true);
      expect(failureKind(error)).toBe('error');
    });
  });
});

describe('failureKind', () => {
  it("is timeout for a TimeoutError (ours, or AbortSignal.timeout's DOMException)", () => {
    const ours = new Error('try timed out');
    ours.name = 'TimeoutError';
    expect(failureKind(ours)).toBe('timeout');
    expect(failureKind(new DOMException('The operation timed out.', 'TimeoutError'))).toBe('timeout');
    expect(failureKind({ name: 'TimeoutError' })).toBe('timeout');
  });

  it('is error for anything else, including aborts, non-objects and throwing getters', () => {
    expect(failureKind(new TypeError('fetch failed'))).toBe('error');
    expect(failureKind(new DOMException('aborted', 'AbortError'))).toBe('error');
    expect(failureKind(fetchFailed(new DOMException('t', 'TimeoutError')))).toBe('error');
    expect(failureKind('TimeoutError')).toBe('error');
    expect(failureKind(undefined)).toBe('error');
    expect(failureKind(null)).toBe('error');
    expect(
      failureKind({
        get name(): never {
          throw new Error('boom');
        },
      }),
    ).toBe('error');
  });
});
