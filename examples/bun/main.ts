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
import { createProxy } from '../../src/fetch/index.js';
import { createBalancer, healthChecker, proxyOptions } from '../node/balancer.js';
import { exitOnSignal, fail, logEvent, logListening, orFail, readConfig, type Host } from '../shared/cli.js';

const bun: Host = { name: 'loadwise-bun', exit: (status) => process.exit(status), onSignal: (signal, handler) => process.on(signal, handler) };

const config = readConfig(bun, Bun.argv.slice(2));

let tls: { cert: string; key: string } | undefined;
if (config.tls !== undefined) {
  const read = async (flag: string, path: string): Promise<string> => {
    try {
      return await Bun.file(path).text();
    } catch (error) {
      return fail(bun, 2, `cannot read ${flag} ${path}: ${(error as Error).message}`);
    }
  };
  tls = { cert: await read('--tls-cert', config.tls.cert), key: await read('--tls-key', config.tls.key) };
}

const balancer = orFail(bun, () => createBalancer(config, logEvent));
const proxy = orFail(bun, () => createProxy(proxyOptions(config, balancer)));
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
  fail(bun, tls === undefined || /EADDR|address|in use/i.test(String((error as Error).message)) ? 1 : 2, `cannot listen on ${config.host}:${config.port}: ${(error as Error).message}`);
}
logListening(tls !== undefined, server.hostname, server.port);
checker?.start();

exitOnSignal(bun, () => {
  checker?.stop();
  // Stops accepting; resolves once the connections in flight are done.
  return server.stop();
});
