import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/core/errors.js';
import { balancedFetch, createProxy } from '../../src/fetch/index.js';
import { RoundRobin } from '../../src/index.js';
import { RetryBudget } from '../../src/retry-budget.js';

type T = { id: string; url: string };
const balancer = (): RoundRobin<T> => new RoundRobin<T>([{ id: 'a', url: 'http://127.0.0.1:9' }]);

/** Calls `build` and returns what it threw. */
function thrown(build: () => unknown): unknown {
  try {
    build();
  } catch (error) {
    return error;
  }
  return undefined;
}

function expectInvalid(build: () => unknown, option: string): void {
  const error = thrown(build);
  expect(error, `expected InvalidOptionError for ${option}`).toBeInstanceOf(InvalidOptionError);
  expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', option });
  expect((error as Error).message).toContain(`invalid option ${option}:`);
}

const proxyWith = (extra: Record<string, unknown>) => () => createProxy({ balancer: balancer(), ...extra } as never);
const clientWith = (extra: Record<string, unknown>) => () => balancedFetch(balancer(), extra as never);

/** [option named in the error, extra options] pairs both createProxy and balancedFetch refuse. */
const SHARED_BAD: readonly [string, Record<string, unknown>][] = [
  ['url', { url: 'http://x' }],
  ['url', { url: null }],
  ['key', { key: 'x-user' }],
  ['retry', { retry: 3 }],
  ['retry', { retry: null }],
  ['retry', { retry: ['error'] }],
  ['retry.attempts', { retry: { attempts: 2 } }],
  ['retry.tries', { retry: { tries: 0 } }],
  ['retry.tries', { retry: { tries: 1.5 } }],
  ['retry.tries', { retry: { tries: '2' } }],
  ['retry.tries', { retry: { tries: Number.NaN } }],
  ['retry.tries', { retry: { tries: null } }],
  ['retry.on', { retry: { on: 'error' } }],
  ['retry.on', { retry: { on: null } }],
  ['retry.on[0]', { retry: { on: ['bogus'] } }],
  ['retry.on[2]', { retry: { on: ['error', 'timeout', 'http_501'] } }],
  ['retry.on[1]', { retry: { on: ['error', 'HTTP_502'] } }],
  ['retry.budget', { retry: { budget: {} } }],
  ['retry.budget', { retry: { budget: null } }],
  ['retry.budget', { retry: { budget: { deposit() {} } } }],
  ['retry.timeoutMs', { retry: { timeoutMs: 0 } }],
  ['retry.timeoutMs', { retry: { timeoutMs: -5 } }],
  ['retry.timeoutMs', { retry: { timeoutMs: Number.POSITIVE_INFINITY } }],
  ['retry.timeoutMs', { retry: { timeoutMs: 2_147_483_648 } }],
  ['tryTimeoutMs', { tryTimeoutMs: 0 }],
  ['tryTimeoutMs', { tryTimeoutMs: Number.NaN }],
  ['tryTimeoutMs', { tryTimeoutMs: '100' }],
  ['tryTimeoutMs', { tryTimeoutMs: null }],
  ['timeoutMs', { timeoutMs: -1 }],
  ['timeoutMs', { timeoutMs: 2_147_483_648 }],
  ['fetch', { fetch: {} }],
  ['fetch', { fetch: null }],
  ['fetchDecodes', { fetchDecodes: 'yes' }],
  ['fetchDecodes', { fetchDecodes: 1 }],
  ['fetchDecodes', { fetchDecodes: null }],
  ['cooldown', { cooldown: 'on' }],
  ['cooldown', { cooldown: 30_000 }],
  ['cooldown', { cooldown: null }],
  ['cooldown', { cooldown: [] }],
  ['cooldown.max', { cooldown: { max: 1_000 } }],
  ['cooldown.maxMs', { cooldown: { maxMs: 0 } }],
  ['cooldown.maxMs', { cooldown: { maxMs: '1000' } }],
  ['replayBodyBytes', { replayBodyBytes: -1 }],
  ['replayBodyBytes', { replayBodyBytes: 1.5 }],
  ['replayBodyBytes', { replayBodyBytes: Number.POSITIVE_INFINITY }],
  ['onEvent', { onEvent: 'log' }],
  ['now', { now: 0 }],
  ['tryTimeoutMS', { tryTimeoutMS: 100 }],
  ['retries', { retries: 2 }],
];

describe('createProxy options', () => {
  it('accepts a balancer alone, and every option at a good value', () => {
    expect(typeof createProxy({ balancer: balancer() })).toBe('function');
    const handler = createProxy<T>({
      balancer: balancer(),
      url: (t) => t.url,
      key: () => 'k',
      retry: { tries: 2, on: [], budget: new RetryBudget(), timeoutMs: 1_000 },
      tryTimeoutMs: 500,
      timeoutMs: 2_000,
      fetch: async () => new Response(null) as never,
      fetchDecodes: false,
      cooldown: { maxMs: 30_000 },
      replayBodyBytes: 0,
      onEvent: () => {},
      now: () => 0,
      forwarded: { trust: ['10.0.0.0/8', '::1'] },
      preserveHost: true,
      maxHeaderBytes: 1,
      maxBodyBytes: 0,
    });
    expect(typeof handler).toBe('function');
    expect(typeof createProxy({ balancer: balancer(), cooldown: true, retry: { on: ['error', 'non_idempotent', 'http_429'] } })).toBe('function');
    expect(typeof createProxy({ balancer: balancer(), cooldown: false, retry: {}, forwarded: {} })).toBe('function');
  });

  it.each(SHARED_BAD)('refuses a bad %s (%j)', (option, extra) => {
    expectInvalid(proxyWith(extra), option);
  });

  it.each([
    ['forwarded', { forwarded: ['10.0.0.0/8'] }],
    ['forwarded', { forwarded: null }],
    ['forwarded', { forwarded: true }],
    ['forwarded.trusted', { forwarded: { trusted: ['10.0.0.0/8'] } }],
    ['forwarded.trust', { forwarded: { trust: '10.0.0.0/8' } }],
    ['forwarded.trust', { forwarded: { trust: null } }],
    ['forwarded.trust[1]', { forwarded: { trust: ['10.0.0.0/8', '10.0.0.0/33'] } }],
    ['forwarded.trust[0]', { forwarded: { trust: ['proxy.internal'] } }],
    ['preserveHost', { preserveHost: 'yes' }],
    ['preserveHost', { preserveHost: null }],
    ['maxHeaderBytes', { maxHeaderBytes: 0 }],
    ['maxHeaderBytes', { maxHeaderBytes: 1.5 }],
    ['maxBodyBytes', { maxBodyBytes: -1 }],
    ['maxBodyBytes', { maxBodyBytes: '1mb' }],
  ] as const)('refuses a bad %s (%j)', (option, extra) => {
    expectInvalid(proxyWith(extra), option);
  });

  it.each([
    [undefined],
    [null],
    ['balancer'],
    [{}],
    [{ balancer: null }],
    [{ balancer: {} }],
    [{ balancer: { acquire: 'x' } }],
  ])('refuses a missing or bad balancer (%j)', (options) => {
    const error = thrown(() => createProxy(options as never));
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(['options', 'balancer']).toContain((error as InvalidOptionError).option);
    if (options !== null && typeof options === 'object') expect((error as InvalidOptionError).option).toBe('balancer');
  });
});

describe('balancedFetch options', () => {
  it('accepts no options, and the shared ones at good values', () => {
    expect(typeof balancedFetch(balancer())).toBe('function');
    expect(
      typeof balancedFetch(balancer(), { retry: { tries: 3, on: ['error', 'http_503'] }, tryTimeoutMs: 100, cooldown: true, replayBodyBytes: 10 }),
    ).toBe('function');
  });

  it.each(SHARED_BAD)('refuses a bad %s (%j)', (option, extra) => {
    expectInvalid(clientWith(extra), option);
  });

  it.each([
    ['balancer', { balancer: balancer() }],
    ['forwarded', { forwarded: { trust: [] } }],
    ['preserveHost', { preserveHost: true }],
    ['maxHeaderBytes', { maxHeaderBytes: 100 }],
    ['maxBodyBytes', { maxBodyBytes: 100 }],
  ] as const)('refuses the proxy-only option %s', (option, extra) => {
    expectInvalid(clientWith(extra), option);
  });

  it('refuses options that are not an object, and a bad balancer', () => {
    expectInvalid(() => balancedFetch(balancer(), 'fast' as never), 'options');
    expectInvalid(() => balancedFetch(balancer(), [] as never), 'options');
    expectInvalid(() => balancedFetch(null as never), 'balancer');
    expectInvalid(() => balancedFetch({} as never), 'balancer');
  });

  it('refuses an absolute or protocol-relative URL at call time (a client only talks to its targets)', async () => {
    const api = balancedFetch(balancer(), { fetch: async () => new Response('no') as never });
    for (const input of ['http://evil.example/x', 'HTTPS://evil.example', '//evil.example/x', 'mailto:x@y']) {
      await expect(api(input)).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'input' });
    }
    await expect(api(42 as never)).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'input' });
  });
});
