/**
 * Serves the app of app.ts on whichever runtime runs this file: `Deno.serve`, `Bun.serve`, or
 * `@hono/node-server` on Node. Takes the Node example's flags except TLS and health checks,
 * prints `listening on http://HOST:PORT` once ready, exits 0 on SIGTERM/SIGINT and 2 for a bad
 * command line.
 *
 *   npm run example:hono -- --listen 127.0.0.1:8080 --algorithm round-robin --target http://127.0.0.1:9001
 *   npm run example:hono:deno -- …   npm run example:hono:bun -- …
 */
import { LoadwiseError } from '../../src/index.js';
import { ArgsError, parseCliArgs, USAGE, type Config } from '../node/args.js';
import { createApp } from './app.js';

const runtime = 'Deno' in globalThis ? 'deno' : 'Bun' in globalThis ? 'bun' : 'node';

function fail(status: 1 | 2, message: string): never {
  console.error(`loadwise-hono (${runtime}): ${message}${status === 2 ? ' (see --help)' : ''}`);
  return process.exit(status);
}

let config: Config;
try {
  config = parseCliArgs(process.argv.slice(2));
} catch (error) {
  if (error instanceof ArgsError) fail(2, error.message);
  throw error;
}
if (config.help) {
  console.log(USAGE);
  process.exit(0);
}
if (config.tls !== undefined || config.health !== undefined) {
  fail(2, `${config.tls !== undefined ? '--tls-cert' : '--health-path'} is not in the Hono example: see examples/deno, examples/bun or examples/node`);
}

let app;
try {
  app = createApp(config);
} catch (error) {
  if (LoadwiseError.is(error)) fail(2, error.message);
  throw error;
}

const { host: hostname, port } = config;
const listening = (host: string, at: number): void => console.log(`listening on http://${host.includes(':') ? `[${host}]` : host}:${at}`);

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
    server.on('error', (error) => fail(1, `cannot listen on ${hostname}:${port}: ${error.message}`));
    close = () => new Promise((resolve) => server.close(resolve));
  }
} catch (error) {
  fail(1, `cannot listen on ${hostname}:${port}: ${(error as Error).message}`);
}

function shutdown(): void {
  setTimeout(() => process.exit(0), 5_000).unref?.();
  close().finally(() => process.exit(0));
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
