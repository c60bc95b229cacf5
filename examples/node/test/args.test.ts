/**
 * Unit tests of the Node adapter's command line (args.ts) and of the mapping from it to
 * loadwise objects (balancer.ts). In-process and fast; the end-to-end file checks that main.ts
 * turns an ArgsError into exit status 2.
 */
import { describe, expect, it } from 'vitest';
import { ALGORITHMS, ArgsError, HASH_ALGORITHMS, NODE_USAGE, parseCliArgs, parseKey, parseListen, parseTarget, USAGE, type Config } from '../args.js';
import { BALANCERS, createBalancer, keyFunction } from '../balancer.js';

const BASE = ['--listen', '127.0.0.1:0', '--algorithm', 'least-connections', '--target', 'http://127.0.0.1:9001', '--target', 'http://127.0.0.1:9002'];

function parse(...extra: string[]): Config {
  return parseCliArgs([...BASE, ...extra]);
}

/** The ArgsError message for `argv`, failing the test if it parses. */
function problem(argv: readonly string[]): string {
  try {
    parseCliArgs(argv);
  } catch (error) {
    expect(error).toBeInstanceOf(ArgsError);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error(`parsed without error: ${JSON.stringify(argv)}`);
}

describe('parseCliArgs', () => {
  it('parses the documented command line, with defaults for what is left out', () => {
    expect(parse()).toEqual({
      host: '127.0.0.1',
      port: 0,
      algorithm: 'least-connections',
      targets: [
        { id: '127.0.0.1:9001', url: 'http://127.0.0.1:9001' },
        { id: '127.0.0.1:9002', url: 'http://127.0.0.1:9002' },
      ],
      tries: undefined,
      retryOn: undefined,
      tryTimeoutMs: undefined,
      timeoutMs: undefined,
      key: undefined,
      tls: undefined,
      health: undefined,
      passive: undefined,
      trustProxy: [],
      sticky: undefined,
      metrics: undefined,
      help: false,
    } satisfies Config);
  });

  it('parses every optional flag', () => {
    const c = parseCliArgs([
      '--listen=[::1]:8443',
      '--algorithm', 'maglev',
      '--target', 'http://10.0.0.1:8080=3',
      '--target', 'https://api.internal/v1/',
      '--tries', '2',
      '--retry-on', 'error, timeout,http_502',
      '--try-timeout-ms', '1000',
      '--timeout-ms', '5000',
      '--key', 'cookie:session',
      '--tls-cert', 'cert.pem',
      '--tls-key', 'key.pem',
      '--health-path', '/health',
      '--health-interval-ms', '250',
      '--health-timeout-ms', '2000',
      '--passive',
      '--max-fails', '3',
      '--fail-timeout-ms', '2000',
      '--trust-proxy', '10.0.0.0/8',
      '--trust-proxy', '::1',
      '--sticky-cookie', 'lw',
      '--sticky-secret', 'sixteen-chars-or-more',
    ]);
    expect(c).toEqual({
      host: '::1',
      port: 8443,
      algorithm: 'maglev',
      targets: [
        { id: '10.0.0.1:8080', url: 'http://10.0.0.1:8080', weight: 3 },
        { id: 'api.internal:443', url: 'https://api.internal/v1' },
      ],
      tries: 2,
      retryOn: ['error', 'timeout', 'http_502'],
      tryTimeoutMs: 1000,
      timeoutMs: 5000,
      key: { from: 'cookie', name: 'session' },
      tls: { cert: 'cert.pem', key: 'key.pem' },
      health: { path: '/health', intervalMs: 250, timeoutMs: 2000 },
      passive: { maxFails: 3, failTimeoutMs: 2000 },
      trustProxy: ['10.0.0.0/8', '::1'],
      sticky: { cookie: 'lw', secret: 'sixteen-chars-or-more' },
      metrics: undefined,
      help: false,
    } satisfies Config);
  });

  it('accepts every algorithm in kebab-case; ip-hash keys by the client address unless told', () => {
    for (const algorithm of ALGORITHMS) {
      const key = HASH_ALGORITHMS.has(algorithm) && algorithm !== 'ip-hash' ? ['--key', 'header:x-user'] : [];
      const c = parseCliArgs(['--listen', '127.0.0.1:0', '--algorithm', algorithm, '--target', 'http://127.0.0.1:1', ...key]);
      expect(c.algorithm).toBe(algorithm);
    }
    expect(parseCliArgs(['--listen', '127.0.0.1:0', '--algorithm', 'ip-hash', '--target', 'http://127.0.0.1:1']).key).toEqual({ from: 'client-address' });
    expect(ALGORITHMS).toHaveLength(15);
  });

  it('--sticky-cookie and --sticky-secret come together, with a cookie name and a 16-character secret', () => {
    expect(() => parse('--sticky-cookie', 'lw')).toThrow('--sticky-cookie needs --sticky-secret');
    expect(() => parse('--sticky-secret', 'sixteen-chars-or-more')).toThrow('--sticky-secret needs --sticky-cookie');
    expect(() => parse('--sticky-cookie', 'l w', '--sticky-secret', 'sixteen-chars-or-more')).toThrow('bad --sticky-cookie');
    expect(() => parse('--sticky-cookie', 'lw', '--sticky-secret', 'short')).toThrow('bad --sticky-secret');
  });

  it('--retry-on off is the empty list (never move on); --passive alone is nginx max_fails=1 fail_timeout=10s', () => {
    expect(parse('--retry-on', 'off').retryOn).toEqual([]);
    expect(parse('--passive').passive).toEqual({ maxFails: 1, failTimeoutMs: 10_000 });
    expect(parse('--health-path', '/ready').health).toEqual({ path: '/ready', intervalMs: 1_000, timeoutMs: 1_000 });
  });

  it('--metrics and --metrics-path only where the adapter serves them (the Node example)', () => {
    const node = { metrics: true };
    expect(parseCliArgs(BASE, node).metrics).toBeUndefined();
    expect(parseCliArgs([...BASE, '--metrics'], node).metrics).toEqual({ path: '/metrics' });
    expect(parseCliArgs([...BASE, '--metrics', '--metrics-path', '/_lb/metrics'], node).metrics).toEqual({ path: '/_lb/metrics' });
    const nodeProblem = (extra: string[]): string => {
      try {
        parseCliArgs([...BASE, ...extra], node);
      } catch (error) {
        expect(error).toBeInstanceOf(ArgsError);
        return (error as Error).message;
      }
      throw new Error('parsed');
    };
    expect(nodeProblem(['--metrics-path', '/m'])).toBe('--metrics-path needs --metrics');
    expect(nodeProblem(['--metrics', '--metrics-path', 'metrics'])).toMatch(/^bad --metrics-path "metrics": a path starting with \//);
    expect(nodeProblem(['--metrics', '--metrics', '--metrics'])).toBe('--metrics given more than once');
    // Deno, Bun and Hono share this parser without metrics: there they are unknown flags.
    expect(problem([...BASE, '--metrics'])).toBe('unknown flag --metrics');
    expect(problem([...BASE, '--metrics-path', '/m'])).toBe('unknown flag --metrics-path');
    expect(NODE_USAGE).toContain('[--metrics [--metrics-path /PATH]]');
    expect(USAGE).not.toContain('--metrics');
  });

  it('--help wins over everything else', () => {
    expect(parseCliArgs(['--help']).help).toBe(true);
    expect(parseCliArgs(['-h', '--algorithm', 'nope']).help).toBe(true);
    expect(USAGE).toContain('--listen HOST:PORT');
  });

  it.each([
    [['--bogus'], /^unknown flag --bogus$/],
    [['-x'], /^unknown flag -x$/],
    [['stray'], /^unexpected argument stray/],
    [['--tries'], /^--tries needs a value$/],
    [['--tries', '--passive'], /^--tries needs a value$/],
    [['--passive=yes'], /^--passive takes no value$/],
    [['--tries', '2', '--tries', '3'], /^--tries given more than once$/],
  ])('rejects %j with a one-line message', (extra, message) => {
    expect(problem([...BASE, ...extra])).toMatch(message);
  });

  it.each([
    [['--algorithm', 'round-robin', '--target', 'http://127.0.0.1:1'], /^--listen HOST:PORT is required/],
    [['--listen', '127.0.0.1:0', '--target', 'http://127.0.0.1:1'], /^--algorithm is required: one of round-robin, /],
    [['--listen', '127.0.0.1:0', '--algorithm', 'round-robin'], /^at least one --target URL is required$/],
    [['--listen', '127.0.0.1:0', '--algorithm', 'RoundRobin', '--target', 'http://127.0.0.1:1'], /^unknown --algorithm "RoundRobin": use one of/],
    [['--listen', '127.0.0.1:0', '--algorithm', 'maglev', '--target', 'http://127.0.0.1:1'], /^--algorithm maglev needs --key/],
    [['--listen', '127.0.0.1:0', '--algorithm', 'random', '--target', 'http://127.0.0.1:1', '--key', 'client-address'], /^--key only applies to the hash algorithms/],
  ])('rejects a missing or wrong essential: %j', (argv, message) => {
    expect(problem(argv)).toMatch(message);
  });

  it.each([
    ['--tries', '0'],
    ['--tries', '1.5'],
    ['--tries=-1'],
    ['--tries', 'two'],
    ['--try-timeout-ms', '0'],
    ['--try-timeout-ms', '1e3'],
    ['--timeout-ms', '2147483648'],
    ['--health-path', '/h', '--health-interval-ms', ''],
    ['--passive', '--max-fails', '0'],
    ['--passive', '--fail-timeout-ms', '10s'],
  ])('rejects a bad number: %s %s', (...extra) => {
    expect(problem([...BASE, ...extra])).toMatch(/^bad --[a-z-]+ ".*": an integer from \d+ to \d+$/);
  });

  it.each([
    ['--tls-cert', 'cert.pem', /^--tls-cert needs --tls-key$/],
    ['--tls-key', 'key.pem', /^--tls-key needs --tls-cert$/],
    ['--health-interval-ms', '100', /^--health-interval-ms needs --health-path$/],
    ['--health-timeout-ms', '100', /^--health-timeout-ms needs --health-path$/],
    ['--health-path', 'health', /^bad --health-path "health"/],
    ['--max-fails', '2', /^--max-fails needs --passive$/],
    ['--fail-timeout-ms', '2', /^--fail-timeout-ms needs --passive$/],
    ['--retry-on', 'error,http_418', /^bad --retry-on "http_418"/],
    ['--retry-on', '', /^bad --retry-on ""/],
    ['--trust-proxy', '10.0.0.0/33', /^bad --trust-proxy "10\.0\.0\.0\/33"/],
    ['--trust-proxy', 'localhost', /^bad --trust-proxy "localhost"/],
  ])('rejects %s %j', (flag, value, message) => {
    expect(problem([...BASE, flag, value])).toMatch(message);
  });

  it('rejects two targets with the same host:port', () => {
    expect(problem([...BASE, '--target', 'http://127.0.0.1:9001/other'])).toMatch(/^--target 127\.0\.0\.1:9001 given more than once/);
  });
});

describe('parseListen', () => {
  it('takes HOST:PORT and [IPv6]:PORT', () => {
    expect(parseListen('127.0.0.1:8080')).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(parseListen('localhost:0')).toEqual({ host: 'localhost', port: 0 });
    expect(parseListen('[::]:443')).toEqual({ host: '::', port: 443 });
  });

  it.each(['8080', '127.0.0.1', '127.0.0.1:', ':8080', '127.0.0.1:65536', '::1:80', '[::1]', 'a b:80', '127.0.0.1:80x'])('rejects %j', (text) => {
    expect(() => parseListen(text)).toThrow(/^bad --listen/);
  });
});

describe('parseTarget', () => {
  it('takes the id from host:port, with the scheme default port when none is given', () => {
    expect(parseTarget('http://127.0.0.1:9001')).toEqual({ id: '127.0.0.1:9001', url: 'http://127.0.0.1:9001' });
    expect(parseTarget('http://backend')).toEqual({ id: 'backend:80', url: 'http://backend' });
    expect(parseTarget('https://backend/api/')).toEqual({ id: 'backend:443', url: 'https://backend/api' });
    expect(parseTarget('http://[::1]:9001=2.5')).toEqual({ id: '[::1]:9001', url: 'http://[::1]:9001', weight: 2.5 });
  });

  it.each([
    ['127.0.0.1:9001', /not a URL/],
    ['http//x', /not a URL/],
    ['ftp://127.0.0.1:21', /must use http: or https:/],
    ['http://user:pw@127.0.0.1:1', /no credentials, query or fragment/],
    ['http://127.0.0.1:1/?a', /no credentials, query or fragment/],
    ['http://127.0.0.1:1/#x', /no credentials, query or fragment/],
    ['http://127.0.0.1:1=0', /bad weight/],
    ['http://127.0.0.1:1=-1', /bad weight/],
    ['http://127.0.0.1:1=x', /bad weight/],
    ['http://127.0.0.1:1=', /bad weight/],
  ])('rejects %j', (text, message) => {
    expect(() => parseTarget(text)).toThrow(message);
  });
});

describe('parseKey', () => {
  it('takes header:, cookie:, query: and client-address', () => {
    expect(parseKey('header:x-user')).toEqual({ from: 'header', name: 'x-user' });
    expect(parseKey('cookie:sid')).toEqual({ from: 'cookie', name: 'sid' });
    expect(parseKey('query:user')).toEqual({ from: 'query', name: 'user' });
    expect(parseKey('client-address')).toEqual({ from: 'client-address' });
  });

  it.each(['header:', 'header:x user', 'body:x', 'x-user', 'ip'])('rejects %j', (text) => {
    expect(() => parseKey(text)).toThrow(/^bad --key/);
  });
});

describe('createBalancer and keyFunction', () => {
  it('builds the class of every algorithm, over targets with host:port ids and URLs', () => {
    const targets = [
      { id: '127.0.0.1:1', url: 'http://127.0.0.1:1' },
      { id: '127.0.0.1:2', url: 'http://127.0.0.1:2', weight: 2 },
    ];
    for (const algorithm of ALGORITHMS) {
      const lb = createBalancer({ algorithm, targets, passive: undefined });
      expect(lb).toBeInstanceOf(BALANCERS[algorithm]);
      expect(lb.targets()).toEqual(targets);
      expect(targets).toContain(lb.pick(HASH_ALGORITHMS.has(algorithm) ? '203.0.113.7' : undefined));
    }
  });

  it('turns --passive into nginx-style failure counting that reports its transitions', () => {
    const events: string[] = [];
    const lb = createBalancer(
      { algorithm: 'round-robin', targets: [{ id: 'a:1', url: 'http://a:1' }, { id: 'b:1', url: 'http://b:1' }], passive: { maxFails: 1, failTimeoutMs: 60_000 } },
      (e) => events.push(`${e.type} ${e.id} (${e.reason})`),
    );
    const lease = lb.acquire();
    lease.release('failure');
    expect(events).toEqual([`down ${lease.target.id} (passive)`]);
    expect(lb.stats().find((s) => s.id === lease.target.id)?.state).toBe('down');
  });

  it('maps --key to the matching key function', () => {
    const request = new Request('http://proxy/p?user=q-1', { headers: { 'x-user': 'h-1', cookie: 'a=1; sid=c-1' } });
    expect(keyFunction(undefined)).toBeUndefined();
    expect(keyFunction({ from: 'header', name: 'x-user' })!(request, {})).toBe('h-1');
    expect(keyFunction({ from: 'cookie', name: 'sid' })!(request, {})).toBe('c-1');
    expect(keyFunction({ from: 'query', name: 'user' })!(request, {})).toBe('q-1');
    expect(keyFunction({ from: 'client-address' })!(request, { clientAddress: '::ffff:203.0.113.7' })).toBe('203.0.113.7');
  });
});
