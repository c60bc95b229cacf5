/**
 * What the standalone examples (Node, Deno, Bun, Hono) do the same way around their server: the
 * command line read (usage on --help, exit 2 on a bad one), loadwise objects built (exit 2 on a
 * bad configuration), the `listening on` line, one line per balancer event, and SIGTERM/SIGINT
 * with a grace period (Node drains its own way). Runtime-neutral: each example passes its
 * runtime's exit and signals.
 */
import { LoadwiseError, type BalancerEvent } from '../../src/index.js';
import { ArgsError, parseCliArgs, USAGE, type Config, type ParseOptions } from '../node/args.js';

/** The runtime an example runs on, as this module needs it. */
export interface Host {
  /** Starts every error line, e.g. `loadwise-deno`. */
  readonly name: string;
  exit(status: number): never;
  onSignal(signal: 'SIGTERM' | 'SIGINT', handler: () => void): void;
}

/** How long a signal waits for requests in flight before exiting anyway. */
export const GRACE_MS = 5_000;

/** Prints `NAME: message` on stderr (status 2, a bad command line: with a pointer to --help) and exits with `status`. */
export function fail(host: Host, status: 1 | 2, message: string): never {
  console.error(`${host.name}: ${message}${status === 2 ? ' (see --help)' : ''}`);
  return host.exit(status);
}

/** The checked command line; prints `usage` and exits 0 for --help, fails with 2 for a bad one. */
export function readConfig(host: Host, args: readonly string[], options: ParseOptions = {}, usage = USAGE): Config {
  let config: Config;
  try {
    config = parseCliArgs(args, options);
  } catch (error) {
    if (error instanceof ArgsError) fail(host, 2, error.message);
    throw error;
  }
  if (config.help) {
    console.log(usage);
    host.exit(0);
  }
  return config;
}

/** `build()`'s result; a LoadwiseError (a configuration loadwise refuses) fails with 2. */
export function orFail<T>(host: Host, build: () => T): T {
  try {
    return build();
  } catch (error) {
    if (LoadwiseError.is(error)) fail(host, 2, error.message);
    throw error;
  }
}

/** Prints a balancer event: `down 127.0.0.1:9002 (passive)`. */
export function logEvent(e: BalancerEvent): void {
  console.log(`${e.type}${e.id === undefined ? '' : ` ${e.id}`} (${e.reason})`);
}

/** Prints the first line, `listening on http(s)://HOST:PORT` (an IPv6 host in brackets). */
export function logListening(tls: boolean, host: string, port: number): void {
  console.log(`listening on ${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`);
}

/**
 * On SIGTERM or SIGINT: `stop()` (stop accepting, finish what is in flight), then exit 0 once it
 * settles or after {@link GRACE_MS}, whichever comes first; a second signal exits at once.
 */
export function exitOnSignal(host: Host, stop: () => Promise<unknown>): void {
  let closing = false;
  const shutdown = (): void => {
    if (closing) host.exit(0);
    closing = true;
    setTimeout(() => host.exit(0), GRACE_MS);
    stop().then(
      () => host.exit(0),
      () => host.exit(0),
    );
  };
  host.onSignal('SIGTERM', shutdown);
  host.onSignal('SIGINT', shutdown);
}
