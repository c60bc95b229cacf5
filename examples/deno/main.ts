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
import { createProxy } from '../../src/fetch/index.js';
import { createBalancer, healthChecker, proxyOptions } from '../node/balancer.js';
import { exitOnSignal, fail, logEvent, logListening, orFail, readConfig, type Host } from '../shared/cli.js';

const deno: Host = { name: 'loadwise-deno', exit: (status) => Deno.exit(status), onSignal: (signal, handler) => Deno.addSignalListener(signal, handler) };

const denied = (error: unknown): boolean => error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied;

const config = readConfig(deno, Deno.args);

// A target outside --allow-net would fail every request with 502: refuse to start instead.
for (const target of config.targets) {
  if (Deno.permissions.querySync({ name: 'net', host: target.id }).state !== 'granted') {
    fail(deno, 2, `no network permission for --target ${target.url}: add ${target.id} to deno's --allow-net`);
  }
}

let tls: { cert: string; key: string } | undefined;
if (config.tls !== undefined) {
  const read = (flag: string, path: string): string => {
    try {
      return Deno.readTextFileSync(path);
    } catch (error) {
      return fail(deno, 2, denied(error) ? `no permission to read ${flag} ${path}: run deno with --allow-read=${path}` : `cannot read ${flag} ${path}: ${(error as Error).message}`);
    }
  };
  tls = { cert: read('--tls-cert', config.tls.cert), key: read('--tls-key', config.tls.key) };
}

const balancer = orFail(deno, () => createBalancer(config, logEvent));
const proxy = orFail(deno, () => createProxy(proxyOptions(config, balancer)));
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
        logListening(tls !== undefined, hostname, port);
        checker?.start();
      },
    },
    proxy,
  );
} catch (error) {
  if (denied(error)) fail(deno, 2, `no network permission to listen on ${config.host}:${config.port}: add ${config.host} to deno's --allow-net`);
  // AddrInUse, an address not on this machine, or a key that does not match the certificate.
  fail(deno, tls !== undefined && !/addr|address/i.test((error as Error).message) ? 2 : 1, `cannot listen on ${config.host}:${config.port}: ${(error as Error).message}`);
}

exitOnSignal(deno, () => {
  checker?.stop();
  // Stops accepting; resolves once the responses in flight are delivered.
  return server.shutdown();
});
