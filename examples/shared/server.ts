/**
 * The node:http server under every backend of the examples' tests and the live demo: listens on
 * 127.0.0.1 (keep-alive 30 s), can be killed the way a crashed process dies for its clients
 * (listener closed, every connection cut, the port refusing from then on) and restarted on the
 * same port. A subclass answers in {@link KillableServer.handle}.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export abstract class KillableServer {
  port = 0;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Started and not killed since. */
  get alive(): boolean {
    return this.server !== undefined;
  }

  protected abstract handle(req: IncomingMessage, res: ServerResponse): void;

  /** Listens on `port` (0: a free one). */
  async start(port = 0): Promise<this> {
    const server = createServer({ keepAliveTimeout: 30_000 }, (req, res) => this.handle(req, res));
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  /** Stops listening and destroys every connection at once (requests in flight included). */
  kill(): void {
    this.server?.close();
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  /** Listens again on the same port. */
  restart(): Promise<this> {
    return this.start(this.port);
  }
}
