/**
 * Real servers on 127.0.0.1 for the HTTP layer's tests: backends with a programmable handler,
 * the proxy served by `@hono/node-server` (what the Node example uses), raw-socket requests that
 * no client library would sanitise, and clean-up that runs even when a test fails.
 */
import { serve } from '@hono/node-server';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { Agent, fetch as undiciFetch } from 'undici';
import { createProxy, type ProxyHandler, type ProxyOptions } from '../../src/fetch/index.js';
import type { Target } from '../../src/index.js';

export interface Backend {
  readonly url: string;
  readonly port: number;
  /** Requests that reached this backend (method + url), in order. */
  readonly hits: string[];
  /** Request bodies received, by arrival order. */
  readonly bodies: Buffer[];
  readonly headers: IncomingMessage['headers'][];
  close(): Promise<void>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

const closers: (() => Promise<void>)[] = [];

/** Closes everything the harness opened (call in `afterEach`). */
export async function closeAll(): Promise<void> {
  const all = closers.splice(0);
  await Promise.all(all.map((c) => c().catch(() => {})));
}

/** Closes a server and destroys its open connections. */
function closer(server: { close(cb: () => void): unknown }, sockets: Set<Socket>): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
}

function track(server: Server | ReturnType<typeof createNetServer>): Set<Socket> {
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return sockets;
}

/** A backend that reads each request body whole, then runs `handler` (default: 200 "name"). */
export async function backend(name: string, handler?: Handler): Promise<Backend> {
  const hits: string[] = [];
  const bodies: Buffer[] = [];
  const headers: IncomingMessage['headers'][] = [];
  const server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    headers.push(req.headers);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => {});
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      bodies.push(body);
      if (handler !== undefined) handler(req, res, body);
      else res.end(name);
    });
  });
  const sockets = track(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const close = closer(server, sockets);
  closers.push(close);
  return { url: `http://127.0.0.1:${port}`, port, hits, bodies, headers, close };
}

/**
 * A port that refuses connections, outside Linux's ephemeral range (32768–60999): a port that
 * `listen(0)` handed out and gave back may be handed to another server later in the same run,
 * which would then answer where a test expects a refusal.
 */
export async function deadPort(): Promise<number> {
  const refused = (port: number): Promise<boolean> =>
    new Promise((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(false);
      });
      s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
    });
  for (let port = 20_000 + Math.floor(Math.random() * 10_000), n = 0; n < 100; port++, n++) if (await refused(port)) return port;
  throw new Error('no refusing port found from 20000 to 30099');
}

/** A backend that accepts connections and never answers; counts connections. */
export async function frozen(): Promise<{ url: string; connections: () => number }> {
  let count = 0;
  const server = createNetServer((s) => {
    count++;
    s.on('error', () => {});
  });
  const sockets = track(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  closers.push(closer(server, sockets));
  return { url: `http://127.0.0.1:${port}`, connections: () => count };
}

export interface ProxyServer {
  readonly url: string;
  readonly port: number;
  readonly handler: ProxyHandler;
  /** fetch through the proxy (undici, its own keep-alive pool). */
  fetch(path: string, init?: Parameters<typeof undiciFetch>[1]): ReturnType<typeof undiciFetch>;
}

/** Serves `createProxy(options)` on 127.0.0.1 with @hono/node-server, upstream through undici. */
export async function proxyServer<T extends Target>(options: ProxyOptions<T>): Promise<ProxyServer> {
  const upstream = new Agent({ keepAliveTimeout: 5_000 });
  const handler = createProxy({ fetch: (url, init) => undiciFetch(url, { ...(init as object), dispatcher: upstream }), ...options });
  const server = serve({
    fetch: (req, env) => handler(req, { clientAddress: env.incoming.socket.remoteAddress }),
    port: 0,
    hostname: '127.0.0.1',
  });
  const sockets = track(server as Server);
  await new Promise<void>((r) => (server.listening ? r() : server.once('listening', () => r())));
  const port = (server.address() as AddressInfo).port;
  const client = new Agent({ keepAliveTimeout: 5_000 });
  closers.push(async () => {
    await closer(server, sockets)();
    await Promise.all([upstream.close(), client.close()]);
  });
  const url = `http://127.0.0.1:${port}`;
  return { url, port, handler, fetch: (path, init) => undiciFetch(url + path, { ...init, dispatcher: client }) };
}

/** Sends `raw` bytes on a fresh connection and resolves with everything the server sent back. */
export function rawRequest(port: number, raw: string, ms = 2_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    }, ms);
    socket.on('data', (c) => {
      chunks.push(c);
      // One response is enough: stop once the header and a declared body have arrived.
      const text = Buffer.concat(chunks).toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end >= 0) {
        const m = /content-length: *(\d+)/i.exec(text.slice(0, end));
        if (m !== null && text.length - end - 4 >= Number(m[1])) {
          clearTimeout(timer);
          socket.destroy();
          resolve(text);
        }
      }
    });
    socket.on('error', (e) => {
      clearTimeout(timer);
      if (chunks.length > 0) resolve(Buffer.concat(chunks).toString('latin1'));
      else reject(e);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    socket.write(raw);
  });
}

/** Status code of a raw HTTP/1.1 response. */
export function statusOf(raw: string): number {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(raw);
  return m === null ? 0 : Number(m[1]);
}
