/**
 * What the end-to-end tests of the Node adapter share: real backends on 127.0.0.1 (node:http,
 * each test its own, ports from listen(0)), the example itself as a child process, a keep-alive
 * load client, and one cleanup list so that every process and server a test started is gone
 * after it, pass or fail.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';

/** The repository root: the child runs from there, so `--import tsx` resolves. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = 'examples/node/main.ts';

// ── cleanup ─────────────────────────────────────────────────────────────────────────────────

type Cleanup = () => Promise<void> | void;
const testCleanups: Cleanup[] = [];
const suiteCleanups: Cleanup[] = [];
let scope: Cleanup[] = testCleanups;

/** Runs `fn` after the current test (or suite, inside {@link forSuite}), last registered first. */
export function onCleanup(fn: Cleanup): void {
  scope.push(fn);
}

/** Runs `setup` so that what it starts lives until {@link cleanupSuite} (for beforeAll). */
export async function forSuite<T>(setup: () => Promise<T>): Promise<T> {
  scope = suiteCleanups;
  try {
    return await setup();
  } finally {
    scope = testCleanups;
  }
}

async function drain(list: Cleanup[]): Promise<void> {
  const errors: unknown[] = [];
  while (list.length > 0) {
    try {
      await list.pop()!();
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length > 0) throw new AggregateError(errors, 'cleanup failed');
}

/** Kills every process and closes every server and client the test started; for afterEach. */
export function cleanupTest(): Promise<void> {
  return drain(testCleanups);
}

/** The same for what {@link forSuite} started, and anything a test left; for afterAll. */
export async function cleanupSuite(): Promise<void> {
  await drain(testCleanups);
  await drain(suiteCleanups);
}

// ── time ────────────────────────────────────────────────────────────────────────────────────

/** Resolves once `check()` is truthy; polls every `everyMs`, rejects after `timeoutMs`. */
export async function until<T>(what: string, check: () => T, timeoutMs: number, everyMs = 2): Promise<NonNullable<T>> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value as NonNullable<T>;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

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
export class Backend {
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
  port = 0;
  /** Bytes of the current upload received so far. */
  uploadReceived = 0;
  /** Bytes of the current download handed to the kernel so far. */
  downloadSent: () => number = () => 0;
  /** When set, an upload stops being read once this many bytes came, until {@link releaseUploads}. */
  holdUploadsAfter: number | undefined;
  private readonly held: IncomingMessage[] = [];
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(
    readonly name: string,
    private readonly options: BackendOptions = {},
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get id(): string {
    return `127.0.0.1:${this.port}`;
  }

  get alive(): boolean {
    return this.server !== undefined;
  }

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

  /** Stops listening and destroys every connection at once; returns the ids of the requests it cut. */
  kill(): string[] {
    const cut = [...this.openIds];
    this.server?.close();
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    return cut;
  }

  /** Reads the held uploads on to the end. */
  releaseUploads(): void {
    this.holdUploadsAfter = undefined;
    for (const req of this.held.splice(0)) req.resume();
  }

  restart(): Promise<this> {
    return this.start(this.port);
  }

  async close(): Promise<void> {
    this.kill();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
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

/** One line the child printed on stdout, with the time it reached the test. */
export interface Line {
  readonly text: string;
  readonly at: number;
}

/** The example running as `node --import tsx examples/node/main.ts …`. */
export class ProxyProcess {
  readonly lines: Line[] = [];
  stderr = '';
  /** Exit code, or the signal's name; undefined while running. */
  exit: number | string | undefined;
  readonly exited: Promise<number | string>;
  private buffered = '';

  constructor(readonly child: ChildProcess) {
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      const at = performance.now();
      this.buffered += chunk;
      let nl;
      while ((nl = this.buffered.indexOf('\n')) >= 0) {
        this.lines.push({ text: this.buffered.slice(0, nl), at });
        this.buffered = this.buffered.slice(nl + 1);
      }
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exit = code ?? signal ?? 'unknown';
        resolve(this.exit);
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The first stdout line matching `re`, waiting up to `timeoutMs`. */
  waitForLine(re: RegExp, timeoutMs: number, from = 0): Promise<Line> {
    return until(
      `a line matching ${re} (stdout so far: ${JSON.stringify(this.lines.map((l) => l.text))}, stderr: ${JSON.stringify(this.stderr)})`,
      () => {
        if (this.exit !== undefined) throw new Error(`the proxy exited (${this.exit}) before printing ${re}; stderr: ${this.stderr}`);
        return this.lines.slice(from).find((l) => re.test(l.text));
      },
      timeoutMs,
    );
  }

  /** Peak and current resident memory in kB, from /proc/PID/status. */
  memory(): { rssKb: number; hwmKb: number } {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
    return { rssKb: field('VmRSS'), hwmKb: field('VmHWM') };
  }

  /** SIGTERM, then SIGKILL if it is still there after `graceMs`. */
  async stop(graceMs = 2_000): Promise<number | string> {
    if (this.exit !== undefined) return this.exit;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Spawns the example with `args`, registered for cleanup (SIGKILL if still running). */
export function spawnProxy(args: readonly string[]): ProxyProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  const proxy = new ProxyProcess(child);
  onCleanup(async () => {
    if (proxy.exit === undefined) {
      child.kill('SIGKILL');
      await proxy.exited;
    }
  });
  return proxy;
}

/** Time allowed for the child to print its first line (tsx compiles on first run). */
export const STARTUP_MS = 15_000;

export interface Started {
  readonly proxy: ProxyProcess;
  /** `http://127.0.0.1:PORT` (or https) from the first line. */
  readonly origin: string;
  readonly port: number;
  /** From spawn to the first line, ms. */
  readonly startupMs: number;
}

/** Spawns the example and waits for `listening on …`, which must be its first line. */
export async function startProxy(args: readonly string[]): Promise<Started> {
  const t0 = performance.now();
  const proxy = spawnProxy(args);
  await proxy.waitForLine(/./, STARTUP_MS);
  const first = proxy.lines[0]!.text;
  const m = /^listening on (https?):\/\/127\.0\.0\.1:(\d+)$/.exec(first);
  if (m === null) throw new Error(`unexpected first line ${JSON.stringify(first)}`);
  const port = Number(m[2]);
  return { proxy, origin: `${m[1]}://127.0.0.1:${port}`, port, startupMs: performance.now() - t0 };
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

/** A keep-alive client pool to `origin`, closed at cleanup. */
export function client(origin: string, options: ConstructorParameters<typeof Pool>[1] = {}): Pool {
  const pool = new Pool(origin, { connections: 64, keepAliveTimeout: 10_000, ...options });
  onCleanup(() => pool.destroy());
  return pool;
}

/** One GET; the status and body text. */
export async function get(pool: Pool, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const res = await pool.request({ path, method: 'GET', headers });
  return { status: res.statusCode, body: await res.body.text() };
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
