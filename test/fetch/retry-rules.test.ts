import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/core/errors.js';
import {
  DEFAULT_RETRY_ON,
  failureStatus,
  isNonIdempotent,
  mayRetryFailure,
  parseRetryOn,
  statusVerdict,
  type RetryOn,
  type TryFacts,
} from '../../src/fetch/retry-rules.js';

const ALL_WORDS: readonly RetryOn[] = [
  'error',
  'timeout',
  'http_500',
  'http_502',
  'http_503',
  'http_504',
  'http_403',
  'http_404',
  'http_429',
  'non_idempotent',
];
const STATUSES = [500, 502, 503, 504, 403, 404, 429] as const;

const fresh = (method = 'GET', sent = true): TryFacts => ({ method, sent, replayable: true, late: false });

describe('parseRetryOn', () => {
  it("defaults to nginx's proxy_next_upstream error timeout", () => {
    expect(DEFAULT_RETRY_ON).toEqual(['error', 'timeout']);
    const rules = parseRetryOn(undefined);
    expect(rules).toEqual(parseRetryOn(['error', 'timeout']));
    expect(mayRetryFailure(rules, 'error', fresh())).toBe(true);
    expect(mayRetryFailure(rules, 'timeout', fresh())).toBe(true);
    for (const status of STATUSES) expect(statusVerdict(rules, status, fresh())).toBeUndefined();
  });

  it('[] is off: nothing ever moves on', () => {
    const rules = parseRetryOn([]);
    expect(rules.mask).toBe(0);
    expect(mayRetryFailure(rules, 'error', fresh('GET', false))).toBe(false);
    expect(mayRetryFailure(rules, 'timeout', fresh())).toBe(false);
    for (const status of STATUSES) expect(statusVerdict(rules, status, fresh())).toBeUndefined();
  });

  it('every word sets its own case, and only its own', () => {
    const masks = ALL_WORDS.map((w) => parseRetryOn([w]).mask);
    expect(new Set(masks).size).toBe(ALL_WORDS.length);
    for (const m of masks) expect(m !== 0 && (m & (m - 1)) === 0).toBe(true);
    expect(parseRetryOn([...ALL_WORDS]).mask).toBe(masks.reduce((a, b) => a | b, 0));
    expect(parseRetryOn(['error', 'error']).mask).toBe(parseRetryOn(['error']).mask);
  });

  it.each([
    [['error', 'http_501'], 1],
    [['http_502', 'timeout', 'HTTP_502'], 2],
    [['http_0502'], 0],
    [['http_502 '], 0],
    [['http_'], 0],
    [['http_5e2'], 0],
    [['off'], 0],
    [['invalid_header'], 0],
    [['error', 502], 1],
    [['error', null], 1],
    [[''], 0],
  ] as const)('%j: the unknown entry retry.on[%i] is named', (list, index) => {
    expect(() => parseRetryOn(list as unknown as RetryOn[])).toThrow(InvalidOptionError);
    expect(() => parseRetryOn(list as unknown as RetryOn[])).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: `retry.on[${index}]` }),
    );
  });

  it.each(['error', 42, {}, null])('a non-array (%j) names retry.on', (value) => {
    expect(() => parseRetryOn(value as unknown as RetryOn[])).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'retry.on' }),
    );
  });
});

describe('isNonIdempotent', () => {
  it('is true for exactly POST, PATCH and LOCK (nginx NGX_HTTP_POST|LOCK|PATCH)', () => {
    for (const m of ['POST', 'PATCH', 'LOCK']) expect(isNonIdempotent(m), m).toBe(true);
    for (const m of ['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT', 'MKCOL', 'COPY', 'MOVE', 'UNLOCK', 'PROPFIND', 'post']) {
      expect(isNonIdempotent(m), m).toBe(false);
    }
  });
});

describe('statusVerdict', () => {
  const all = parseRetryOn([...ALL_WORDS]);

  it.each([500, 502, 503, 504, 429])('a listed %i is a failure (move on and blame the target)', (status) => {
    expect(statusVerdict(all, status, fresh())).toBe('failure');
    expect(statusVerdict(parseRetryOn([`http_${status}` as RetryOn]), status, fresh())).toBe('failure');
  });

  it.each([403, 404])('a listed %i is next (move on without blaming the target)', (status) => {
    expect(statusVerdict(all, status, fresh())).toBe('next');
    expect(statusVerdict(parseRetryOn([`http_${status}` as RetryOn]), status, fresh())).toBe('next');
  });

  it('an unlisted status is handed to the client', () => {
    const rules = parseRetryOn(['error', 'timeout', 'http_502']);
    for (const status of [200, 201, 204, 301, 304, 400, 401, 403, 404, 429, 500, 501, 503, 504, 505, 599]) {
      expect(statusVerdict(rules, status, fresh()), String(status)).toBeUndefined();
    }
    for (const status of [200, 301, 400, 401, 501, 505, 507, 0, -1, 502.5]) {
      expect(statusVerdict(all, status, fresh()), String(status)).toBeUndefined();
    }
  });

  it('a listed status on a sent POST, PATCH or LOCK stays unless non_idempotent is listed', () => {
    const rules = parseRetryOn(['http_502', 'http_404']);
    const withNonIdempotent = parseRetryOn(['http_502', 'http_404', 'non_idempotent']);
    for (const method of ['POST', 'PATCH', 'LOCK']) {
      expect(statusVerdict(rules, 502, fresh(method))).toBeUndefined();
      expect(statusVerdict(rules, 404, fresh(method))).toBeUndefined();
      expect(statusVerdict(withNonIdempotent, 502, fresh(method))).toBe('failure');
      expect(statusVerdict(withNonIdempotent, 404, fresh(method))).toBe('next');
    }
    for (const method of ['PUT', 'DELETE', 'GET', 'HEAD', 'OPTIONS']) {
      expect(statusVerdict(rules, 502, fresh(method)), method).toBe('failure');
    }
  });

  it('never moves once late, or with a body that cannot be sent again', () => {
    expect(statusVerdict(all, 502, { method: 'GET', sent: true, replayable: true, late: true })).toBeUndefined();
    expect(statusVerdict(all, 502, { method: 'GET', sent: true, replayable: false, late: false })).toBeUndefined();
    expect(statusVerdict(all, 404, { method: 'PUT', sent: true, replayable: false, late: false })).toBeUndefined();
  });
});

describe('mayRetryFailure', () => {
  it('moves on only for a listed kind', () => {
    expect(mayRetryFailure(parseRetryOn(['error']), 'error', fresh())).toBe(true);
    expect(mayRetryFailure(parseRetryOn(['error']), 'timeout', fresh())).toBe(false);
    expect(mayRetryFailure(parseRetryOn(['timeout']), 'timeout', fresh())).toBe(true);
    expect(mayRetryFailure(parseRetryOn(['timeout']), 'error', fresh())).toBe(false);
    expect(mayRetryFailure(parseRetryOn(['http_502', 'non_idempotent']), 'error', fresh('GET', false))).toBe(false);
  });

  it('a sent POST, PATCH or LOCK stays unless non_idempotent is listed; PUT and DELETE move', () => {
    const rules = parseRetryOn(['error', 'timeout']);
    const withNonIdempotent = parseRetryOn(['error', 'timeout', 'non_idempotent']);
    for (const method of ['POST', 'PATCH', 'LOCK']) {
      expect(mayRetryFailure(rules, 'error', fresh(method)), method).toBe(false);
      expect(mayRetryFailure(rules, 'timeout', fresh(method)), method).toBe(false);
      expect(mayRetryFailure(withNonIdempotent, 'error', fresh(method)), method).toBe(true);
    }
    for (const method of ['PUT', 'DELETE', 'GET', 'HEAD', 'OPTIONS']) {
      expect(mayRetryFailure(rules, 'error', fresh(method)), method).toBe(true);
    }
  });

  it('a request that was never sent may always move on (when its kind is listed)', () => {
    const rules = parseRetryOn(['error']);
    for (const method of ['POST', 'PATCH', 'LOCK', 'GET']) expect(mayRetryFailure(rules, 'error', fresh(method, false))).toBe(true);
    expect(mayRetryFailure(parseRetryOn([]), 'error', fresh('GET', false))).toBe(false);
  });

  it('late, or a body that cannot be sent again, never moves', () => {
    const rules = parseRetryOn([...ALL_WORDS]);
    for (const sent of [true, false]) {
      expect(mayRetryFailure(rules, 'error', { method: 'GET', sent, replayable: true, late: true })).toBe(false);
      expect(mayRetryFailure(rules, 'error', { method: 'GET', sent, replayable: false, late: false })).toBe(false);
      expect(mayRetryFailure(rules, 'timeout', { method: 'GET', sent, replayable: false, late: true })).toBe(false);
    }
  });
});

describe('failureStatus', () => {
  it('is 504 for a timeout and 502 otherwise', () => {
    expect(failureStatus('timeout')).toBe(504);
    expect(failureStatus('error')).toBe(502);
  });
});

/**
 * ngx_http_upstream_next (nginx 1.22), restated: a sent POST/LOCK/PATCH adds the
 * `non_idempotent` bit to the case, and the request moves on iff every bit of the case is in
 * `proxy_next_upstream`, time is not over, and the body is not an unbuffered one already sent.
 */
function nginxMoves(on: readonly RetryOn[], caseWord: RetryOn, facts: TryFacts): boolean {
  const listed = new Set(on);
  const needed: RetryOn[] = [caseWord];
  if (facts.sent && ['POST', 'LOCK', 'PATCH'].includes(facts.method)) needed.push('non_idempotent');
  return needed.every((w) => listed.has(w)) && !facts.late && facts.replayable;
}

describe('against a restatement of ngx_http_upstream_next (property)', () => {
  const on = fc.subarray([...ALL_WORDS]);
  const facts = fc.record({
    method: fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'LOCK', 'OPTIONS', 'UNLOCK'),
    sent: fc.boolean(),
    replayable: fc.boolean(),
    late: fc.boolean(),
  });

  it('mayRetryFailure moves iff nginx would', () => {
    fc.assert(
      fc.property(on, fc.constantFrom('error' as const, 'timeout' as const), facts, (list, kind, f) => {
        expect(mayRetryFailure(parseRetryOn(list), kind, f)).toBe(nginxMoves(list, kind, f));
      }),
      { numRuns: 500 },
    );
  });

  it('statusVerdict moves iff nginx would, with next exactly for 403 and 404', () => {
    fc.assert(
      fc.property(on, fc.constantFrom(200, 301, 400, 401, 403, 404, 429, 500, 501, 502, 503, 504), facts, (list, status, f) => {
        // A response was received, so the request was sent.
        const sentFacts = { ...f, sent: true };
        const word = `http_${status}` as RetryOn;
        const moves = ALL_WORDS.includes(word) && nginxMoves(list, word, sentFacts);
        const expected = !moves ? undefined : status === 403 || status === 404 ? 'next' : 'failure';
        expect(statusVerdict(parseRetryOn(list), status, sentFacts)).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });
});
