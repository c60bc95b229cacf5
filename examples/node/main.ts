/**
 * loadwise as a standalone HTTP(S) load balancer on Node: `createProxy` served by
 * `@hono/node-server`, upstream through undici's `fetch` on a keep-alive `Agent`.
 *
 *   npx tsx examples/node/main.ts --listen 127.0.0.1:8080 --algorithm least-connections \
 *     --target http://127.0.0.1:9001 --target http://127.0.0.1:9002
 *
 * See README.md for every flag. Prints `listening on http://HOST:PORT` once ready, then one line
 * per health transition (`down 127.0.0.1:9002 (passive)`). With `--metrics`, `GET /metrics` is
 * answered by the proxy itself (Prometheus text format, metrics.ts) and never proxied. Exit status: 0 after SIGTERM/SIGINT,
 * 2 for a bad command line, 1 when it cannot listen.
 */
import { readFileSync } from 'node:fs';
import type { Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { serve } from '@hono/node-server';
import { Agent, fetch as undiciFetch, type RequestInit as UndiciRequestInit } from 'undici';
import { createProxy } from '../../src/fetch/index.js';
import { NODE_USAGE } from './args.js';
import { createBalancer, healthChecker, proxyOptions, type Backend } from './balancer.js';
import { createMetrics, type ProxyMetrics } from './metrics.js';
import { fail, GRACE_MS, logEvent, logListening, orFail, readConfig, type Host } from '../shared/cli.js';

const node: Host = { name: 'loadwise-node', exit: (status) => process.exit(status), onSignal: (signal, handler) => process.on(signal, handler) };

const config = readConfig(node, process.argv.slice(2), { metrics: true }, NODE_USAGE);

let tls: { cert: Buffer; key: Buffer } | undefined;
if (config.tls !== undefined) {
  const read = (flag: string, path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (error) {
      return fail(node, 2, `cannot read ${flag} ${path}: ${(error as Error).message}`);
    }
  };
  tls = { cert: read('--tls-cert', config.tls.cert), key: read('--tls-key', config.tls.key) };
}

// Upstream connections: one keep-alive pool per origin, shared by the proxy and the health checks.
const agent = new Agent({ keepAliveTimeout: 10_000, keepAliveMaxTimeout: 60_000 });

const balancer = orFail(node, () => createBalancer(config, logEvent));
const metrics: ProxyMetrics<Backend> | undefined = config.metrics === undefined ? undefined : orFail(node, () => createMetrics(balancer));
const proxy = orFail(node, () =>
  createProxy<Backend>({
    ...proxyOptions(config, balancer),
    onEvent: metrics?.onEvent,
    // UpstreamInit holds web-standard values typed structurally (src/ compiles without DOM or Node
    // types); they are the runtime's own Headers, ReadableStream and AbortSignal, hence the cast.
    fetch: (url, init) => undiciFetch(url, { ...(init as UndiciRequestInit), dispatcher: agent }),
  }),
);

const checker = healthChecker(config, balancer, (url, init) => undiciFetch(url, { ...init, dispatcher: agent }));

const metricsPath = config.metrics?.path;
let server: Server; // an https.Server with --tls-cert: the same API here
try {
  server = serve(
    {
      // The metrics path is answered here, before the proxy: it never reaches a target.
      fetch: (request, env) =>
        metrics !== undefined && new URL(request.url).pathname === metricsPath
          ? metrics.serve(request)
          : proxy(request, { clientAddress: env.incoming.socket.remoteAddress }),
      port: config.port,
      hostname: config.host,
      ...(tls === undefined ? {} : { createServer: createHttpsServer, serverOptions: tls }),
    },
    (info) => {
      logListening(tls !== undefined, info.address, info.port);
      checker?.start();
    },
  ) as Server;
} catch (error) {
  // https.createServer throws here when the key does not match the certificate, or is no PEM.
  fail(node, 2, `bad --tls-cert/--tls-key: ${(error as Error).message}`);
}

server.on('error', (error: Error) => {
  if (!server.listening) fail(node, 1, `cannot listen on ${config.host}:${config.port}: ${error.message}`);
  process.stderr.write(`loadwise-node: server error: ${error.message}\n`);
});

// Node hands CONNECT to this event, never to the request handler: a reverse proxy refuses it.
server.on('connect', (_request: unknown, socket: Socket) => {
  socket.on('error', () => {});
  socket.end('HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
});

let closing = false;
// A connection whose response ends during shutdown is closed as soon as it is idle.
server.on('request', (_request: unknown, response: ServerResponse) => {
  response.on('finish', () => {
    if (closing) setImmediate(() => server.closeIdleConnections());
  });
});

function shutdown(): void {
  if (closing) process.exit(0); // a second signal: stop waiting
  closing = true;
  checker?.stop();
  const exit = (): never => process.exit(0);
  // Requests still running after the grace period (GRACE_MS) are cut.
  setTimeout(() => {
    server.closeAllConnections();
    agent.destroy().then(exit, exit);
  }, GRACE_MS).unref();
  // Stops accepting and closes idle keep-alive connections; busy ones close after their response.
  server.close(() => void agent.close().then(exit, exit));
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
