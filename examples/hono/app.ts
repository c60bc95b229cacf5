/**
 * The example's Hono app: a route of its own, and `/api/*` proxied through the balancer the
 * command line asked for, with the `/api` prefix removed on the way. The same app object runs on
 * Node, Deno and Bun (see serve.ts).
 */
import { Hono } from 'hono';
import type { Config } from '../node/args.js';
import { createBalancer, proxyOptions, type Backend } from '../node/balancer.js';
import { balance } from './balance.js';

export function createApp(config: Config): Hono {
  const balancer = createBalancer(config);
  const app = new Hono();
  app.get('/', (c) => c.text('Hono here; /api/* goes through loadwise\n'));
  app.use(
    '/api/*',
    balance<Backend>({ ...proxyOptions(config, balancer), stripPrefix: '/api' }),
  );
  return app;
}
