/**
 * Serves the app of app.ts on whichever runtime runs this file: `Deno.serve`, `Bun.serve`, or
 * `@hono/node-server` on Node. Takes the Node example's flags except TLS and health checks,
 * prints `listening on http://HOST:PORT` once ready, exits 0 on SIGTERM/SIGINT and 2 for a bad
 * command line.
 *
 *   npm run example:hono -- --listen 127.0.0.1:8080 --algorithm round-robin --target http://127.0.0.1:9001
 *   npm run example:hono:deno -- …   npm run example:hono:bun -- …
 */
import { exitOnSignal, fail, logListening, orFail, readConfig, type Host } from '../shared/cli.js';
import { createApp } from './app.js';

const runtime = 'Deno' in globalThis ? 'deno' : 'Bun' in globalThis ? 'bun' : 'node';
const host: Host = { name: `loadwise-hono (${runtime})`, exit: (status) => process.exit(status), onSignal: (signal, handler) => process.on(signal, handler) };

const config = readConfig(host, process.argv.slice(2));
if (config.tls !== undefined || config.health !== undefined) {
  fail(host, 2, `${config.tls !== undefined ? '--tls-cert' : '--health-path'} is not in the Hono example: see examples/deno, examples/bun or examples/node`);
}

const app = orFail(host, () => createApp(config));

const { host: hostname, port } = config;
const listening = (address: string, at: number): void => logListening(false, address, at);

let close: () => Promise<unknown>;
try {
  if (runtime === 'deno') {
    const server = Deno.serve({ hostname, port, onListen: (addr) => listening(addr.hostname, addr.port) }, app.fetch);
    close = () => server.shutdown();
  } else if (runtime === 'bun') {
    const server = Bun.serve({ hostname, port, fetch: app.fetch });
    listening(server.hostname, server.port);
    close = () => server.stop();
  } else {
    const { serve } = await import('@hono/node-server');
    const server = serve({ fetch: app.fetch, hostname, port }, (info) => listening(info.address, info.port));
    server.on('error', (error) => fail(host, 1, `cannot listen on ${hostname}:${port}: ${error.message}`));
    close = () => new Promise((resolve) => server.close(resolve));
  }
} catch (error) {
  fail(host, 1, `cannot listen on ${hostname}:${port}: ${(error as Error).message}`);
}

exitOnSignal(host, () => close());
