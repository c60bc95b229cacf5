/**
 * loadwise as a standalone HTTP(S) load balancer on Bun: `createProxy` served by `Bun.serve`,
 * upstream through Bun's own `fetch` (keep-alive pools per origin). The same flags and output as
 * the Node example, whose parser and balancer factory it uses.
 *
 *   npm run example:bun -- --listen 127.0.0.1:8080 --algorithm least-connections \
 *     --target http://127.0.0.1:9001 --target http://127.0.0.1:9002
 *
 * Prints `listening on http://HOST:PORT` once ready, then one line per health transition.
 * Exit status: 0 after SIGTERM/SIGINT, 2 for a bad command line, 1 when it cannot listen.
 */
import { LoadwiseError, type BalancerEvent } from '../../src/index.js';
import { createProxy } from '../../src/fetch/index.js';
import { ArgsError, parseCliArgs, USAGE, type Config } from '../node/args.js';
import { createBalancer, healthChecker, proxyOptions } from '../node/balancer.js';

/** How long SIGTERM waits for requests in flight before exiting anyway. */
const GRACE_MS = 5_000;

function fail(status: 1 | 2, message: string): never {
  console.error(`loadwise-bun: ${message}${status === 2 ? ' (see --help)' : ''}`);
  return process.exit(status);
}

let config: Config;
try {
  config = parseCliArgs(Bun.argv.slice(2));
} catch (error) {
  if (error instanceof ArgsError) fail(2, error.message);
  throw error;
}
if (config.help) {
  console.log(USAGE);
  process.exit(0);
}

let tls: { cert: string; key: string } | undefined;
if (config.tls !== undefined) {
  const read = async (flag: string, path: string): Promise<string> => {
    try {
      return await Bun.file(path).text();
    } catch (error) {
      return fail(2, `cannot read ${flag} ${path}: ${(error as Error).message}`);
    }
  };
  tls = { cert: await read('--tls-cert', config.tls.cert), key: await read('--tls-key', config.tls.key) };
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

// Bun closes a connection that sends nothing for `idleTimeout` seconds, a request waiting for
// its upstream included: allow the whole --timeout-ms (nginx's 60 s proxy_read_timeout without).
const idleTimeout = Math.min(255, config.timeoutMs === undefined ? 60 : Math.ceil(config.timeoutMs / 1_000) + 1);

let server: BunServer;
try {
  // The proxy reads the client's address from Bun's server (`server.requestIP(request)`) itself.
  server = Bun.serve({ hostname: config.host, port: config.port, fetch: proxy, idleTimeout, ...(tls === undefined ? {} : { tls }) });
} catch (error) {
  // EADDRINUSE, an address not on this machine, or a key that does not match the certificate.
  fail(tls === undefined || /EADDR|address|in use/i.test(String((error as Error).message)) ? 1 : 2, `cannot listen on ${config.host}:${config.port}: ${(error as Error).message}`);
}
const host = server.hostname.includes(':') ? `[${server.hostname}]` : server.hostname;
console.log(`listening on ${tls === undefined ? 'http' : 'https'}://${host}:${server.port}`);
checker?.start();

let closing = false;
function shutdown(): void {
  if (closing) process.exit(0); // a second signal: stop waiting
  closing = true;
  checker?.stop();
  setTimeout(() => process.exit(0), GRACE_MS);
  // Stops accepting; resolves once the connections in flight are done.
  server.stop().then(
    () => process.exit(0),
    () => process.exit(0),
  );
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
