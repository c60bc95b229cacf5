/**
 * The command line of the Node adapter, parsed and checked with `node:util`'s `parseArgs`. Pure:
 * no files are read and nothing is printed here; a bad argument throws an {@link ArgsError}
 * whose one-line message names it, and `main.ts` prints it and exits with status 2.
 */
import { parseArgs } from 'node:util';
import { parseRetryOn, TrustedProxies, type RetryOn } from '../../src/fetch/index.js';

/** The algorithms that route by a key (`--key`); `ip-hash` defaults to the client's address. */
const HASHED = ['consistent-hash', 'maglev', 'rendezvous', 'jump-hash', 'ip-hash', 'modulo-hash'] as const;

/** Every `--algorithm`, in kebab-case; the hash family needs a `--key`. */
export const ALGORITHMS = [
  'round-robin',
  'weighted-round-robin',
  'random',
  'weighted-random',
  'least-connections',
  'power-of-two-choices',
  'peak-ewma',
  'least-time',
  'hcl',
  ...HASHED,
] as const;

export type Algorithm = (typeof ALGORITHMS)[number];

/** {@link HASHED}, as a set. */
export const HASH_ALGORITHMS: ReadonlySet<Algorithm> = new Set<Algorithm>(HASHED);

/** One `--target URL[=WEIGHT]`; its id is the URL's `host:port`. */
export interface TargetSpec {
  readonly id: string;
  readonly url: string;
  readonly weight?: number;
}

/** Where the routing key comes from (`--key`). */
export type KeySpec =
  | { readonly from: 'header' | 'cookie' | 'query'; readonly name: string }
  | { readonly from: 'client-address' };

/** The checked command line. */
export interface Config {
  readonly host: string;
  readonly port: number;
  readonly algorithm: Algorithm;
  readonly targets: readonly TargetSpec[];
  readonly tries: number | undefined;
  readonly retryOn: readonly RetryOn[] | undefined;
  readonly tryTimeoutMs: number | undefined;
  readonly timeoutMs: number | undefined;
  readonly key: KeySpec | undefined;
  /** File paths of the PEM certificate and key, both or neither. */
  readonly tls: { readonly cert: string; readonly key: string } | undefined;
  readonly health: { readonly path: string; readonly intervalMs: number; readonly timeoutMs: number } | undefined;
  /** nginx `max_fails` / `fail_timeout`; `undefined` when `--passive` is off. */
  readonly passive: { readonly maxFails: number; readonly failTimeoutMs: number } | undefined;
  readonly trustProxy: readonly string[];
  /** Sticky sessions by cookie: `--sticky-cookie NAME --sticky-secret S`, both or neither. */
  readonly sticky: { readonly cookie: string; readonly secret: string } | undefined;
  /**
   * `--metrics [--metrics-path /PATH]`: serve Prometheus metrics at `path` (default `/metrics`).
   * Node example only: accepted when {@link ParseOptions.metrics} is set, else an unknown flag.
   */
  readonly metrics: { readonly path: string } | undefined;
  /** `--help`: print {@link USAGE} and exit 0. */
  readonly help: boolean;
}

/** What the calling adapter supports beyond the shared flags. */
export interface ParseOptions {
  /** Accept `--metrics` and `--metrics-path` (the Node example serves them with prom-client). */
  readonly metrics?: boolean;
}

/** A bad command line; `message` is one line naming the problem. */
export class ArgsError extends Error {
  override readonly name = 'ArgsError';
}

export const USAGE = `usage: main.ts --listen HOST:PORT --algorithm NAME --target URL[=WEIGHT] [--target ...]
  [--tries N] [--retry-on error,timeout,http_502,...|off] [--try-timeout-ms N] [--timeout-ms N]
  [--key header:NAME|cookie:NAME|query:NAME|client-address]
  [--tls-cert FILE --tls-key FILE] [--health-path /PATH [--health-interval-ms N] [--health-timeout-ms N]]
  [--passive [--max-fails N] [--fail-timeout-ms N]] [--sticky-cookie NAME --sticky-secret S]
  [--trust-proxy CIDR]...
algorithms: ${ALGORITHMS.join(', ')}`;

/** {@link USAGE} with the Node example's own flags. */
export const NODE_USAGE = USAGE.replace('[--trust-proxy CIDR]...', '[--trust-proxy CIDR]...\n  [--metrics [--metrics-path /PATH]]');

// Every flag is collected as a list, so that one given twice is caught (see REPEATABLE).
const VALUE = { type: 'string', multiple: true } as const;
const SWITCH = { type: 'boolean', multiple: true } as const;

const OPTIONS = {
  listen: VALUE,
  algorithm: VALUE,
  target: VALUE,
  tries: VALUE,
  'retry-on': VALUE,
  'try-timeout-ms': VALUE,
  'timeout-ms': VALUE,
  key: VALUE,
  'tls-cert': VALUE,
  'tls-key': VALUE,
  'health-path': VALUE,
  'health-interval-ms': VALUE,
  'health-timeout-ms': VALUE,
  passive: SWITCH,
  'max-fails': VALUE,
  'fail-timeout-ms': VALUE,
  'trust-proxy': VALUE,
  'sticky-cookie': VALUE,
  'sticky-secret': VALUE,
  metrics: SWITCH,
  'metrics-path': VALUE,
  help: { ...SWITCH, short: 'h' },
} as const;

/** Flags that may be given more than once. */
const REPEATABLE = new Set(['target', 'trust-proxy']);

/** The largest delay a timer takes (2^31 − 1 ms). */
const MAX_MS = 2_147_483_647;

/**
 * Parses `argv` (without `node` and the script: `process.argv.slice(2)`).
 *
 * @throws ArgsError on an unknown flag, a missing or repeated value, a bad URL, number, key or
 *   CIDR, an unknown algorithm, a hash algorithm without `--key`, or `--tls-cert` without
 *   `--tls-key` (and the like).
 */
export function parseCliArgs(argv: readonly string[], options: ParseOptions = {}): Config {
  let values: { [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'string' ? string[] : boolean[] };
  try {
    ({ values } = parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new ArgsError(parseArgsMessage(error));
  }
  for (const [name, list] of Object.entries(values)) {
    if (!REPEATABLE.has(name) && list !== undefined && list.length > 1) throw new ArgsError(`--${name} given more than once`);
  }
  if (options.metrics !== true) {
    const nodeOnly = (['metrics', 'metrics-path'] as const).find((name) => values[name] !== undefined);
    if (nodeOnly !== undefined) throw new ArgsError(`unknown flag --${nodeOnly}`);
  }
  const one = (name: Exclude<keyof typeof OPTIONS, 'passive' | 'help' | 'metrics'>): string | undefined => values[name]?.[0];
  const help = values.help?.[0] === true;
  if (help) return { ...EMPTY, help };

  const listen = one('listen');
  if (listen === undefined) throw new ArgsError('--listen HOST:PORT is required (e.g. --listen 127.0.0.1:8080; port 0 picks a free one)');
  const { host, port } = parseListen(listen);

  const algorithmText = one('algorithm');
  if (algorithmText === undefined) throw new ArgsError(`--algorithm is required: one of ${ALGORITHMS.join(', ')}`);
  if (!(ALGORITHMS as readonly string[]).includes(algorithmText)) {
    throw new ArgsError(`unknown --algorithm ${JSON.stringify(algorithmText)}: use one of ${ALGORITHMS.join(', ')}`);
  }
  const algorithm = algorithmText as Algorithm;

  const targetTexts = values.target ?? [];
  if (targetTexts.length === 0) throw new ArgsError('at least one --target URL is required');
  const targets = targetTexts.map(parseTarget);
  const seen = new Set<string>();
  for (const t of targets) {
    if (seen.has(t.id)) throw new ArgsError(`--target ${t.id} given more than once (a target's id is its host:port)`);
    seen.add(t.id);
  }

  const triesText = one('tries');
  const tries = triesText === undefined ? undefined : integer('--tries', triesText, 1, 1_000);

  const retryOnText = one('retry-on');
  let retryOn: RetryOn[] | undefined;
  if (retryOnText !== undefined) {
    retryOn = retryOnText === 'off' ? [] : (retryOnText.split(',').map((w) => w.trim()) as RetryOn[]);
    try {
      parseRetryOn(retryOn);
    } catch {
      const bad = retryOn.find((w) => {
        try {
          parseRetryOn([w]);
          return false;
        } catch {
          return true;
        }
      });
      throw new ArgsError(
        `bad --retry-on ${JSON.stringify(bad ?? retryOnText)}: use a comma-separated list of error, timeout, http_500, http_502, http_503, http_504, http_403, http_404, http_429, non_idempotent, or off`,
      );
    }
  }

  const ms = (name: 'try-timeout-ms' | 'timeout-ms' | 'health-interval-ms' | 'health-timeout-ms' | 'fail-timeout-ms'): number | undefined => {
    const text = one(name);
    return text === undefined ? undefined : integer(`--${name}`, text, 1, MAX_MS);
  };
  const tryTimeoutMs = ms('try-timeout-ms');
  const timeoutMs = ms('timeout-ms');

  const keyText = one('key');
  let key = keyText === undefined ? undefined : parseKey(keyText);
  if (HASH_ALGORITHMS.has(algorithm)) {
    if (key === undefined) {
      if (algorithm !== 'ip-hash') {
        throw new ArgsError(`--algorithm ${algorithm} needs --key (header:NAME, cookie:NAME, query:NAME or client-address)`);
      }
      key = { from: 'client-address' };
    }
  } else if (key !== undefined) {
    throw new ArgsError(`--key only applies to the hash algorithms (${[...HASH_ALGORITHMS].join(', ')}), not ${algorithm}`);
  }

  const cert = one('tls-cert');
  const tlsKey = one('tls-key');
  if ((cert === undefined) !== (tlsKey === undefined)) {
    throw new ArgsError(cert === undefined ? '--tls-key needs --tls-cert' : '--tls-cert needs --tls-key');
  }
  if (cert === '' || tlsKey === '') throw new ArgsError('--tls-cert and --tls-key need file paths');
  const tls = cert === undefined || tlsKey === undefined ? undefined : { cert, key: tlsKey };

  const healthPath = one('health-path');
  const healthIntervalMs = ms('health-interval-ms');
  const healthTimeoutMs = ms('health-timeout-ms');
  if (healthPath === undefined && healthIntervalMs !== undefined) throw new ArgsError('--health-interval-ms needs --health-path');
  if (healthPath === undefined && healthTimeoutMs !== undefined) throw new ArgsError('--health-timeout-ms needs --health-path');
  if (healthPath !== undefined && (!healthPath.startsWith('/') || /[\s#]/.test(healthPath))) {
    throw new ArgsError(`bad --health-path ${JSON.stringify(healthPath)}: a path starting with / (e.g. /health)`);
  }
  const health =
    healthPath === undefined ? undefined : { path: healthPath, intervalMs: healthIntervalMs ?? 1_000, timeoutMs: healthTimeoutMs ?? 1_000 };

  const passiveOn = values.passive?.[0] === true;
  const maxFailsText = one('max-fails');
  const failTimeoutMs = ms('fail-timeout-ms');
  if (!passiveOn && (maxFailsText !== undefined || failTimeoutMs !== undefined)) {
    throw new ArgsError(`${maxFailsText !== undefined ? '--max-fails' : '--fail-timeout-ms'} needs --passive`);
  }
  const passive = passiveOn
    ? { maxFails: maxFailsText === undefined ? 1 : integer('--max-fails', maxFailsText, 1, 1_000_000), failTimeoutMs: failTimeoutMs ?? 10_000 }
    : undefined;

  const trustProxy = values['trust-proxy'] ?? [];
  for (const cidr of trustProxy) {
    try {
      new TrustedProxies([cidr]);
    } catch {
      throw new ArgsError(`bad --trust-proxy ${JSON.stringify(cidr)}: an IPv4 or IPv6 address or CIDR range (e.g. 10.0.0.0/8)`);
    }
  }

  const stickyCookie = one('sticky-cookie');
  const stickySecret = one('sticky-secret');
  if ((stickyCookie === undefined) !== (stickySecret === undefined)) {
    throw new ArgsError(stickyCookie === undefined ? '--sticky-secret needs --sticky-cookie' : '--sticky-cookie needs --sticky-secret');
  }
  if (stickyCookie !== undefined && !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(stickyCookie)) {
    throw new ArgsError(`bad --sticky-cookie ${JSON.stringify(stickyCookie)}: a cookie name such as lw`);
  }
  if (stickySecret !== undefined && stickySecret.length < 16) throw new ArgsError('bad --sticky-secret: at least 16 characters');
  const sticky = stickyCookie === undefined || stickySecret === undefined ? undefined : { cookie: stickyCookie, secret: stickySecret };

  const metricsPath = one('metrics-path');
  if (metricsPath !== undefined && values.metrics?.[0] !== true) throw new ArgsError('--metrics-path needs --metrics');
  if (metricsPath !== undefined && (!metricsPath.startsWith('/') || /[\s#?]/.test(metricsPath))) {
    throw new ArgsError(`bad --metrics-path ${JSON.stringify(metricsPath)}: a path starting with / (e.g. /metrics)`);
  }
  const metrics = values.metrics?.[0] === true ? { path: metricsPath ?? '/metrics' } : undefined;

  return { host, port, algorithm, targets, tries, retryOn, tryTimeoutMs, timeoutMs, key, tls, health, passive, trustProxy, sticky, metrics, help };
}

const EMPTY: Config = {
  host: '',
  port: 0,
  algorithm: 'round-robin',
  targets: [],
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
};

/** `HOST:PORT`, `[IPv6]:PORT`. */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(text);
  const port = m === null ? Number.NaN : Number(m[3]);
  if (m === null || !(port <= 65_535)) {
    throw new ArgsError(`bad --listen ${JSON.stringify(text)}: use HOST:PORT, e.g. 127.0.0.1:8080, [::1]:8080, or port 0 for a free one`);
  }
  return { host: m[1] ?? m[2]!, port };
}

/** `URL` or `URL=WEIGHT`; the URL is http(s), with no credentials, query or fragment. */
export function parseTarget(text: string): TargetSpec {
  const eq = text.lastIndexOf('=');
  const urlText = eq < 0 ? text : text.slice(0, eq);
  let url: URL;
  try {
    url = new URL(urlText);
  } catch {
    throw new ArgsError(`bad --target ${JSON.stringify(text)}: not a URL (use http://HOST:PORT[=WEIGHT])`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ArgsError(`bad --target ${JSON.stringify(text)}: the URL must use http: or https:`);
  }
  if (url.hostname === '' || url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '' || urlText.includes('?')) {
    throw new ArgsError(`bad --target ${JSON.stringify(text)}: the URL must name a host and carry no credentials, query or fragment`);
  }
  const port = url.port === '' ? (url.protocol === 'https:' ? '443' : '80') : url.port;
  const id = `${url.hostname}:${port}`;
  const base = url.href.endsWith('/') ? url.href.slice(0, -1) : url.href;
  if (eq < 0) return { id, url: base };
  const weightText = text.slice(eq + 1);
  const weight = /^\d+(\.\d+)?$/.test(weightText) ? Number(weightText) : Number.NaN;
  if (!(weight > 0) || !Number.isFinite(weight)) {
    throw new ArgsError(`bad weight in --target ${JSON.stringify(text)}: a number > 0 after '='`);
  }
  return { id, url: base, weight };
}

/** `header:NAME`, `cookie:NAME`, `query:NAME` or `client-address`. */
export function parseKey(text: string): KeySpec {
  if (text === 'client-address') return { from: 'client-address' };
  const m = /^(header|cookie|query):(.+)$/.exec(text);
  if (m === null || (m[1] === 'header' && !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(m[2]!))) {
    throw new ArgsError(`bad --key ${JSON.stringify(text)}: use header:NAME, cookie:NAME, query:NAME or client-address`);
  }
  return { from: m[1] as 'header' | 'cookie' | 'query', name: m[2]! };
}

function integer(flag: string, text: string, min: number, max: number): number {
  const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= min && n <= max)) throw new ArgsError(`bad ${flag} ${JSON.stringify(text)}: an integer from ${min} to ${max}`);
  return n;
}

/** parseArgs' own errors, shortened to one line that names the flag. */
function parseArgsMessage(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown };
  const message = typeof e.message === 'string' ? e.message : String(error);
  const flag = /'(-[^' ]*)/.exec(message)?.[1];
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown flag ${flag ?? message}`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument ${/'([^']*)'/.exec(message)?.[1] ?? message}: every value follows its flag`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return flag === undefined ? message.split('\n')[0]! : /does not take/.test(message) ? `${flag} takes no value` : `${flag} needs a value`;
    default:
      return message.split('\n')[0]!;
  }
}
