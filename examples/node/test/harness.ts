/**
 * What the end-to-end tests of the Node adapter share: real backends on 127.0.0.1 (node:http,
 * each test its own, ports from listen(0)), the example itself as a child process, a keep-alive
 * load client, and one cleanup list so that every process and server a test started is gone
 * after it, pass or fail.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Pool } from 'undici';
import { client as sharedClient, onCleanup, startScript, type Child } from '../../shared/harness.js';
import { KillableServer } from '../../shared/server.js';

// Cleanup, waiting, the example as a child process: examples/shared/harness.ts.
export { cleanupSuite, cleanupTest, forSuite, get, onCleanup, ROOT, until, type Child, type Line } from '../../shared/harness.js';

// ── backends ────────────────────────────────────────────────────────────────────────────────

/** One chunk of the deterministic download: a random base block, stamped with its index. */
const BLOCK = randomBytes(1 << 20);
export function block(index: number): Buffer {
  const b = Buffer.from(BLOCK);
  b.writeUInt32BE(index, 0);
  return b;
}

/** sha256 (hex) of `mb` blocks, 1 MiB each. */
export function blocksSha256(mb: number): string {
  const h = createHash('sha256');
  for (let i = 0; i < mb; i++) h.update(block(i));
  return h.digest('hex');
}

export interface BackendOptions {
  /** Hold every answer this long (ms), so requests are in flight at any moment; default 0. */
  readonly delayMs?: number;
}

/**
 * A backend: answers its name (body and `x-backend`), counts hits, and knows a few paths:
 * `/health` (200), `/upload` (sha256 and length of the body, as JSON; reading can be held, see
 * {@link Backend.holdUploadsAfter}), `/download?mb=N` (N 1-MiB blocks, streamed with backpressure). Every other path: 200 with the name. `kill()` closes the
 * listener and cuts every connection (requests in flight included); `restart()` listens again on
 * the same port.
 */
export class Backend extends KillableServer {
  /** Requests whose headers arrived (health checks not counted). */
  hits = 0;
  /** Health checks answered. */
  healthHits = 0;
  /** Requests received and not yet answered. */
  open = 0;
  /** Ids (`x-id`) of the requests received and not yet answered. */
  readonly openIds = new Set<string>();
  /** Request ids (`x-id`) seen, in order of arrival. */
  readonly ids: string[] = [];
  /** Last request's headers, for header checks. */
  lastHeaders: IncomingMessage['headers'] | undefined;
  /** Bytes of the current upload received so far. */
  uploadReceived = 0;
  /** Bytes of the current download handed to the kernel so far. */
  downloadSent: () => number = () => 0;
  /** When set, an upload stops being read once this many bytes came, until {@link releaseUploads}. */
  holdUploadsAfter: number | undefined;
  private readonly held: IncomingMessage[] = [];

  constructor(
    readonly name: string,
    private readonly options: BackendOptions = {},
  ) {
    super();
  }

  get id(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Stops listening and destroys every connection at once; returns the ids of the requests it cut. */
  override kill(): string[] {
    const cut = [...this.openIds];
    super.kill();
    return cut;
  }

  /** Reads the held uploads on to the end. */
  releaseUploads(): void {
    this.holdUploadsAfter = undefined;
    for (const req of this.held.splice(0)) req.resume();
  }

  async close(): Promise<void> {
    this.kill();
  }

  protected handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/health') {
      this.healthHits++;
      res.end('ok');
      return;
    }
    this.hits++;
    this.open++;
    this.lastHeaders = req.headers;
    const id = req.headers['x-id'];
    if (typeof id === 'string') {
      this.ids.push(id);
      this.openIds.add(id);
    }
    res.on('close', () => {
      this.open--;
      if (typeof id === 'string') this.openIds.delete(id);
    });
    res.setHeader('x-backend', this.name);
    if (url.pathname === '/upload') {
      const hash = createHash('sha256');
      let bytes = 0;
      this.uploadReceived = 0;
      req.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        this.uploadReceived = bytes;
        hash.update(chunk);
        if (this.holdUploadsAfter !== undefined && bytes >= this.holdUploadsAfter && !req.isPaused()) {
          req.pause();
          this.held.push(req);
        }
      });
      req.on('end', () => res.end(JSON.stringify({ bytes, sha256: hash.digest('hex') })));
      return;
    }
    if (url.pathname === '/download') {
      const mb = Number(url.searchParams.get('mb'));
      res.setHeader('content-length', mb << 20);
      let i = 0;
      this.downloadSent = () => (i << 20) - res.writableLength;
      const pump = (): void => {
        while (i < mb) {
          if (!res.write(block(i++))) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
      return;
    }
    req.resume();
    const answer = (): void => {
      if (!res.destroyed) res.end(this.name);
    };
    req.on('end', () => {
      const delay = this.options.delayMs ?? 0;
      if (delay > 0) setTimeout(answer, delay);
      else answer();
    });
  }
}

/** Starts `names.length` backends, registered for cleanup. */
export async function startBackends(names: readonly string[], options?: BackendOptions): Promise<Backend[]> {
  const backends = names.map((n) => new Backend(n, options));
  for (const b of backends) onCleanup(() => b.close());
  await Promise.all(backends.map((b) => b.start()));
  return backends;
}

// ── the example, as a child process ─────────────────────────────────────────────────────────

/** Time allowed for the child to print its first line (tsx compiles on first run). */
export const STARTUP_MS = 15_000;

export interface Started {
  /** The example, run as `npm run example:node` runs it (`node --import tsx examples/node/main.ts …`). */
  readonly proxy: Child;
  /** `http://127.0.0.1:PORT` (or https) from the first line. */
  readonly origin: string;
  readonly port: number;
  /** From spawn to the first line, ms. */
  readonly startupMs: number;
}

/** Spawns the example (registered for cleanup) and waits for `listening on …`, which must be its first line. */
export async function startProxy(args: readonly string[]): Promise<Started> {
  const { child, origin, port, startupMs } = await startScript('example:node', args, STARTUP_MS);
  return { proxy: child, origin, port, startupMs };
}

/** `--target URL` for each backend, in order (`=WEIGHT` appended when `weights` are given). */
export function targetArgs(backends: readonly Backend[], weights?: readonly number[]): string[] {
  return backends.flatMap((b, i) => ['--target', weights === undefined ? b.url : `${b.url}=${weights[i]}`]);
}

// ── kernel socket queues ──────────────────────────────────────────────────────────────────────

/**
 * Bytes the kernel holds for the TCP connections that have one end on 127.0.0.1 at one of
 * `ports`: each socket's unacknowledged or unsent output plus its unread input (the tx_queue
 * and rx_queue columns of /proc/net/tcp). Listening sockets are left out (their rx_queue is a
 * count of connections).
 */
export function kernelQueued(ports: readonly number[]): number {
  const wanted = new Set(ports);
  let total = 0;
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5 || f[3] === '0A') continue;
    const local = parseInt(f[1]!.split(':')[1]!, 16);
    const remote = parseInt(f[2]!.split(':')[1]!, 16);
    if (!wanted.has(local) && !wanted.has(remote)) continue;
    const [tx, rx] = f[4]!.split(':');
    total += parseInt(tx!, 16) + parseInt(rx!, 16);
  }
  return total;
}

// ── clients ─────────────────────────────────────────────────────────────────────────────────

/** A keep-alive client pool to `origin` (64 connections), closed at cleanup. */
export function client(origin: string, options: Pool.Options = {}): Pool {
  return sharedClient(origin, { connections: 64, ...options });
}

export interface LoadResult {
  /** Requests completed (any status, or failed). */
  done: number;
  ok: number;
  /** Ids of the requests answered 200. */
  okIds: string[];
  /** Non-200 answers and client-side errors, with what they were. */
  failed: { n: number; status: number | string; id: string; startedAt: number }[];
  /** Requests sent and not yet answered. */
  inFlight: Set<string>;
}

/**
 * Runs `concurrency` workers that send requests until `stop()` says so, or `max` requests
 * were sent. `send(n, id)` sends the n-th request; a 200 counts as ok, anything else as failed.
 */
export function load(
  concurrency: number,
  max: number,
  send: (n: number, id: string) => Promise<number | string>,
  stop: (r: LoadResult) => boolean,
): { result: LoadResult; finished: Promise<LoadResult> } {
  const result: LoadResult = { done: 0, ok: 0, okIds: [], failed: [], inFlight: new Set() };
  let sent = 0;
  const worker = async (): Promise<void> => {
    while (sent < max && !stop(result)) {
      const n = sent++;
      const id = `r${n}`;
      const startedAt = performance.now();
      result.inFlight.add(id);
      let status: number | string;
      try {
        status = await send(n, id);
      } catch (error) {
        status = (error as { code?: string }).code ?? String(error);
      }
      result.inFlight.delete(id);
      result.done++;
      if (status === 200) {
        result.ok++;
        result.okIds.push(id);
      } else result.failed.push({ n, status, id, startedAt });
    }
  };
  const finished = Promise.all(Array.from({ length: concurrency }, worker)).then(() => result);
  return { result, finished };
}

/** `n` counted by key, for printing shares. */
export function tally(names: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of names) out[n] = (out[n] ?? 0) + 1;
  return out;
}
