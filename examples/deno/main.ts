/**
 * loadwise as a standalone HTTP(S) load balancer on Deno: `createProxy` served by `Deno.serve`,
 * upstream through Deno's own `fetch` (keep-alive pools per origin). The same flags and output as
 * the Node example, whose parser and balancer factory it uses.
 *
 *   npm run example:deno -- --listen 127.0.0.1:8080 --algorithm least-connections \
 *     --target http://127.0.0.1:9001 --target http://127.0.0.1:9002
 *
 * Prints `listening on http://HOST:PORT` once ready, then one line per health transition.
 * Exit status: 0 after SIGTERM/SIGINT, 2 for a bad command line or a missing permission, 1 when
 * it cannot listen. See README.md for the permissions it runs with.
 */
import { LoadwiseError, type BalancerEvent } from '../../src/index.js';
import { createProxy } from '../../src/fetch/index.js';
import { ArgsError, parseCliArgs, USAGE, type Config } from '../node/args.js';
import { createBalancer, healthChecker, proxyOptions } from '../node/balancer.js';

/** How long SIGTERM waits for requests in flight before exiting anyway. */
const GRACE_MS = 5_000;

function fail(status: 1 | 2, message: string): never {
  console.error(`loadwise-deno: ${message}${status === 2 ? ' (see --help)' : ''}`);
  return Deno.exit(status);
}

const denied = (error: unknown): boolean => error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied;

let config: Config;
try {
  config = parseCliArgs(Deno.args);
} catch (error) {
  if (error instanceof ArgsError) fail(2, error.message);
  throw error;
}
if (config.help) {
  console.log(USAGE);
  Deno.exit(0);
}

// A target outside --allow-net would fail every request with 502: refuse to start instead.
for (const target of config.targets) {
  if (Deno.permissions.querySync({ name: 'net', host: target.id }).state !== 'granted') {
    fail(2, `no network permission for --target ${target.url}: add ${target.id} to deno's --allow-net`);
  }
}

let tls: { cert: string; key: string } | undefined;
if (config.tls !== undefined) {
  const read = (flag: string, path: string): string => {
    try {
      return Deno.readTextFileSync(path);
    } catch (error) {
      return fail(2, denied(error) ? `no permission to read ${flag} ${path}: run deno with --allow-read=${path}` : `cannot read ${flag} ${path}: ${(error as Error).message}`);
    }
  };
  tls = { cert: read('--tls-cert', config.tls.cert), key: read('--tls-key', config.tls.key) };
}

const log = (e: BalancerEvent): void => console.log(`${e.type}${e.id === undefined ? '' : ` ${e.id}`} (${e.reason})`);

let balancer;
let proxy;
try {
  balancer = createBalancer(config, log);
  proxy = createProxy(proxyOptions(config, balancer));
} catch (error) {
  if (LoadwiseError.is(error)) fail(2, error.message);
  throw error;
}

const checker = healthChecker(config, balancer, (url, init) => fetch(url, init));

let server: DenoServer;
try {
  // The proxy reads the client's address from Deno's handler info (`info.remoteAddr`) itself.
  server = Deno.serve(
    {
      hostname: config.host,
      port: config.port,
      ...tls,
      onListen: ({ hostname, port }) => {
        const host = hostname.includes(':') ? `[${hostname}]` : hostname;
        console.log(`listening on ${tls === undefined ? 'http' : 'https'}://${host}:${port}`);
        checker?.start();
      },
    },
    proxy,
  );
} catch (error) {
  if (denied(error)) fail(2, `no network permission to listen on ${config.host}:${config.port}: add ${config.host} to deno's --allow-net`);
  // AddrInUse, an address not on this machine, or a key that does not match the certificate.
  fail(tls !== undefined && !/addr|address/i.test((error as Error).message) ? 2 : 1, `cannot listen on ${config.host}:${config.port}: ${(error as Error).message}`);
}

let closing = false;
function shutdown(): void {
  if (closing) Deno.exit(0); // a second signal: stop waiting
  closing = true;
  checker?.stop();
  setTimeout(() => Deno.exit(0), GRACE_MS);
  // Stops accepting; resolves once the responses in flight are delivered.
  server.shutdown().then(
    () => Deno.exit(0),
    () => Deno.exit(0),
  );
}
Deno.addSignalListener('SIGTERM', shutdown);
Deno.addSignalListener('SIGINT', shutdown);
