/**
 * Small node:http backends on 127.0.0.1 for the demo and the tests. Each answers its own name
 * and counts its hits. Paths: `/status/NNN` answers that status; `/stream` sends the headers
 * and a first chunk at once and the rest only after `finishStreams()`. `kill()` closes the
 * listener and cuts every connection; `restart()` listens again on the same port.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Backend {
  readonly name: string;
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** Requests answered since start (or the last `hits = 0`). */
  hits: number;
  /** The `Host` header of the last request. */
  lastHost: string | undefined;
  /** Every request's path and query, in order. */
  readonly paths: string[];
  /** Open client connections. */
  readonly sockets: ReadonlySet<Socket>;
  /** Ends every `/stream` response held open. */
  finishStreams(): void;
  kill(): Promise<void>;
  restart(): Promise<void>;
  /** Same as kill(); safe to call twice. */
  close(): Promise<void>;
}

export async function startBackend(name: string): Promise<Backend> {
  const sockets = new Set<Socket>();
  const held = new Set<ServerResponse>();
  let server: Server | undefined;
  let port = 0;

  const backend: Backend = {
    name,
    url: '',
    hits: 0,
    lastHost: undefined,
    paths: [],
    sockets,
    finishStreams() {
      for (const res of held) res.end(' end');
      held.clear();
    },
    async kill() {
      const s = server;
      server = undefined;
      if (s === undefined) return;
      for (const res of held) res.destroy();
      held.clear();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    async restart() {
      await backend.kill();
      await listen();
    },
    close: () => backend.kill(),
  };

  async function listen(): Promise<void> {
    const s = createServer((req, res) => {
      backend.hits++;
      backend.lastHost = req.headers.host;
      backend.paths.push(req.url ?? '');
      const status = /^\/status\/(\d{3})$/.exec(req.url ?? '');
      if (status) {
        res.writeHead(Number(status[1]), { 'content-type': 'text/plain' }).end(name);
      } else if (req.url === '/stream') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write(name);
        held.add(res);
      } else {
        res.writeHead(200, { 'content-type': 'text/plain' }).end(name);
      }
    });
    s.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve());
    });
    port = (s.address() as AddressInfo).port;
    server = s;
  }

  await listen();
  (backend as { url: string }).url = `http://127.0.0.1:${port}`;
  return backend;
}

/** Starts one backend per name; if one fails to start, closes the others. */
export async function startBackends(names: readonly string[]): Promise<Backend[]> {
  const settled = await Promise.allSettled(names.map((n) => startBackend(n)));
  const started = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed !== undefined) {
    await Promise.all(started.map((b) => b.close()));
    throw (failed as PromiseRejectedResult).reason;
  }
  return started;
}
