/**
 * What the end-to-end tests of the Deno, Bun and Hono examples share: real node:http backends on
 * 127.0.0.1 (ports from listen(0)), an example started exactly as its `npm run` script starts it
 * (the script's command line is read from package.json, so the permissions tested are the ones
 * users get), keep-alive clients, and one cleanup list so that every process and server a test
 * file started is gone after it, pass or fail.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { KillableServer } from './server.js';

/** The repository root: children run from there, as `npm run` runs them. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

// ── cleanup ─────────────────────────────────────────────────────────────────────────────────

type Cleanup = () => unknown;
const testCleanups: Cleanup[] = [];
const suiteCleanups: Cleanup[] = [];
let scope: Cleanup[] = testCleanups;

/** Runs and empties `list`, last first, every one even when some throw; then throws what they threw. */
export async function drain(list: Cleanup[]): Promise<void> {
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

/** Kills every process and closes every server and client the test started; for afterEach. */
export function cleanupTest(): Promise<void> {
  return drain(testCleanups);
}

/** The same for what {@link forSuite} started, and anything a test left; for afterAll. */
export async function cleanupSuite(): Promise<void> {
  await drain(testCleanups);
  await drain(suiteCleanups);
}

/** Resolves once `check()` is truthy; polls every `everyMs`, rejects after `timeoutMs`. */
export async function until<T>(what: string | (() => string), check: () => T, timeoutMs: number, everyMs = 2): Promise<NonNullable<T>> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value as NonNullable<T>;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const ms = (x: number): string => `${x.toFixed(0)} ms`;

// ── backends ────────────────────────────────────────────────────────────────────────────────

/**
 * A backend: answers its name (body and `x-backend`) with `status` (default 200), after
 * `?delay=MS` if given; counts hits and keeps the last request's path and headers. `kill()`
 * closes the listener and cuts every connection, so its port refuses from then on.
 */
export class Backend extends KillableServer {
  hits = 0;
  /** Requests received and not yet answered. */
  open = 0;
  lastPath: string | undefined;
  lastHeaders: IncomingHttpHeaders | undefined;

  constructor(
    readonly name: string,
    readonly status = 200,
  ) {
    super();
  }

  protected handle(req: IncomingMessage, res: ServerResponse): void {
    this.hits++;
    this.open++;
    this.lastPath = req.url;
    this.lastHeaders = req.headers;
    res.on('close', () => this.open--);
    req.resume();
    const delay = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('delay') ?? 0);
    setTimeout(() => {
      res.statusCode = this.status;
      res.setHeader('x-backend', this.name);
      res.end(this.name);
    }, delay);
  }
}

/** Starts one backend per name (answering `status`), registered for cleanup. */
export async function startBackends(names: readonly string[], status = 200): Promise<Backend[]> {
  const backends = names.map((n) => new Backend(n, status));
  for (const b of backends) onCleanup(() => b.kill());
  await Promise.all(backends.map((b) => b.start()));
  return backends;
}

/** `--target URL` for each backend. */
export function targetArgs(backends: readonly Backend[]): string[] {
  return backends.flatMap((b) => ['--target', b.url]);
}

// ── the example, as a child process ─────────────────────────────────────────────────────────

/** The binaries the scripts name, from devDependencies; `tsx X` runs as `node --import tsx X`. */
function resolveCommand(word: string): { command: string; args: string[] } {
  if (word === 'tsx') return { command: process.execPath, args: ['--import', 'tsx'] };
  if (word === 'deno' || word === 'bun') return { command: `${ROOT}node_modules/.bin/${word}`, args: [] };
  throw new Error(`unexpected command ${word} in an example script`);
}

/**
 * The command line of `npm run <script>`, from package.json: leading `NAME=value` words become
 * the environment, quotes are removed. `extra` goes before the script's last word (the entry
 * file), e.g. Deno's `--allow-read=DIR` for the TLS files.
 */
export function scriptCommand(script: string, extra: readonly string[] = []): { command: string; args: string[]; env: Record<string, string> } {
  const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { scripts: Record<string, string> };
  const text = pkg.scripts[script];
  if (text === undefined) throw new Error(`no script ${script} in package.json`);
  const words = [...text.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
  const env: Record<string, string> = {};
  while (/^[A-Z_]+=/.test(words[0]!)) {
    const [name, ...value] = words.shift()!.split('=');
    env[name!] = value.join('=');
  }
  const { command, args } = resolveCommand(words.shift()!);
  const entry = words.pop()!;
  return { command, args: [...args, ...words, ...extra, entry], env };
}

/** One stdout line, with the time it reached the test. */
export interface Line {
  readonly text: string;
  readonly at: number;
}

/** A running example: its stdout lines, stderr, and exit. */
export class Child {
  readonly lines: Line[] = [];
  stderr = '';
  /** Exit code, or the signal's name; undefined while running. */
  exit: number | string | undefined;
  readonly exited: Promise<number | string>;
  private buffered = '';

  constructor(
    readonly process: ChildProcess,
    /** When it was spawned. */
    readonly startedAt = performance.now(),
  ) {
    process.stdout!.setEncoding('utf8');
    process.stdout!.on('data', (chunk: string) => {
      const at = performance.now();
      this.buffered += chunk;
      let nl;
      while ((nl = this.buffered.indexOf('\n')) >= 0) {
        this.lines.push({ text: this.buffered.slice(0, nl), at });
        this.buffered = this.buffered.slice(nl + 1);
      }
    });
    process.stderr!.setEncoding('utf8');
    process.stderr!.on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => {
      process.on('exit', (code, signal) => {
        this.exit = code ?? signal ?? 'unknown';
        resolve(this.exit);
      });
    });
  }

  get pid(): number {
    return this.process.pid!;
  }

  /** Everything printed so far, for failure messages. */
  get output(): string {
    return `stdout ${JSON.stringify(this.lines.map((l) => l.text).join('\n') + this.buffered)}, stderr ${JSON.stringify(this.stderr)}`;
  }

  /** The first stdout line from the `from`-th on matching `re`, waiting up to `timeoutMs`; rejects if the process exits first. */
  waitForLine(re: RegExp, timeoutMs: number, from = 0): Promise<Line> {
    return until(
      () => `a line matching ${re} (${this.output})`,
      () => {
        if (this.exit !== undefined) throw new Error(`the process exited (${this.exit}) before printing ${re}: ${this.output}`);
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

  /** SIGTERM; the exit status and the time from the signal to the exit. SIGKILL after `graceMs`. */
  async terminate(graceMs: number): Promise<{ exit: number | string; ms: number }> {
    const t0 = performance.now();
    if (this.exit === undefined) this.process.kill('SIGTERM');
    const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs);
    try {
      const exit = await this.exited;
      return { exit, ms: performance.now() - t0 };
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Starts `npm run <script> -- <args>`'s command directly (no npm in between), registered for cleanup. */
export function spawnScript(script: string, args: readonly string[], extra: readonly string[] = []): Child {
  const { command, args: prefix, env } = scriptCommand(script, extra);
  const startedAt = performance.now();
  const child = new Child(spawn(command, [...prefix, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env, NO_COLOR: '1' } }), startedAt);
  onCleanup(async () => {
    if (child.exit === undefined) {
      child.process.kill('SIGKILL');
      await child.exited;
    }
  });
  return child;
}

export interface Started {
  readonly child: Child;
  readonly firstLine: string;
  /** `http(s)://127.0.0.1:PORT`, from the first line. */
  readonly origin: string;
  readonly port: number;
  /** From spawn to the first line. */
  readonly startupMs: number;
}

/** Spawns the script and waits (up to `timeoutMs`) for its first stdout line, `listening on …`. */
export async function startScript(script: string, args: readonly string[], timeoutMs: number, extra: readonly string[] = []): Promise<Started> {
  const child = spawnScript(script, args, extra);
  const first = await child.waitForLine(/^/, timeoutMs);
  const m = /^listening on (https?):\/\/127\.0\.0\.1:(\d+)$/.exec(first.text);
  if (m === null) throw new Error(`unexpected first line ${JSON.stringify(first.text)}`);
  const port = Number(m[2]);
  return { child, firstLine: first.text, origin: `${m[1]}://127.0.0.1:${port}`, port, startupMs: first.at - child.startedAt };
}

/** Runs the script to its end (SIGKILL after `timeoutMs`): exit status, output, time. */
export async function runScript(script: string, args: readonly string[], timeoutMs: number): Promise<{ exit: number | string; stdout: string; stderr: string; ms: number }> {
  const child = spawnScript(script, args);
  const timer = setTimeout(() => child.process.kill('SIGKILL'), timeoutMs);
  const exit = await child.exited;
  clearTimeout(timer);
  // 'exit' may come before the last 'data' events of the pipes.
  await Promise.all([child.process.stdout!, child.process.stderr!].map((s) => (s.readableEnded ? undefined : new Promise((r) => s.once('end', r)))));
  return { exit, stdout: child.lines.map((l) => `${l.text}\n`).join(''), stderr: child.stderr, ms: performance.now() - child.startedAt };
}

// ── clients ─────────────────────────────────────────────────────────────────────────────────

/**
 * The address the tests' clients connect from: 127.0.0.2 where the loopback takes it (Linux),
 * so that an `X-Forwarded-For` of 127.0.0.2 can only come from the socket; else 127.0.0.1.
 */
export async function clientAddress(): Promise<string> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  const ok = await new Promise<boolean>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
  probe.close();
  return ok ? '127.0.0.2' : '127.0.0.1';
}

/** A keep-alive client pool to `origin`, closed at cleanup. */
export function client(origin: string, options: Pool.Options = {}): Pool {
  const pool = new Pool(origin, { connections: 16, keepAliveTimeout: 10_000, ...options });
  onCleanup(() => pool.destroy());
  return pool;
}

/** One GET: status, body and the backend that answered (`x-backend`). */
export async function get(pool: Pool, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; backend: string | undefined }> {
  const res = await pool.request({ path, method: 'GET', headers });
  const backend = res.headers['x-backend'];
  return { status: res.statusCode, body: await res.body.text(), backend: typeof backend === 'string' ? backend : undefined };
}

/** `n` GETs of `path`, `concurrency` at a time: the statuses and answering backends, counted. */
export async function getMany(pool: Pool, n: number, path: string, concurrency: number): Promise<{ statuses: Record<string, number>; backends: Record<string, number>; failed: number; ms: number }> {
  const statuses: Record<string, number> = {};
  const backends: Record<string, number> = {};
  let failed = 0;
  let sent = 0;
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    while (sent < n) {
      sent++;
      let status: string;
      try {
        const res = await get(pool, path);
        status = String(res.status);
        if (res.backend !== undefined) backends[res.backend] = (backends[res.backend] ?? 0) + 1;
      } catch (error) {
        status = (error as { code?: string }).code ?? String(error);
      }
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status !== '200') failed++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { statuses, backends, failed, ms: performance.now() - t0 };
}
