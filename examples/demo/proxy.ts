/**
 * The Node example (examples/node/main.ts) as a child process, the way a user runs it: started
 * with `node --import tsx`, ready at its `listening on http://HOST:PORT` line, stopped with
 * SIGTERM. Every child started here is tracked, so that `killAll()` (on exit, Ctrl-C or a crash)
 * leaves none behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parsePrometheusText, type Family } from '../node/prom-text.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = 'examples/node/main.ts';
/** tsx compiles the example on its first start; a busy machine makes that slower. */
const STARTUP_MS = 30_000;

const children = new Set<ChildProcess>();

/** SIGKILLs every child still running; synchronous, so it also works in an `exit` handler. */
export function killAll(): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  children.clear();
}

export interface RunningProxy {
  readonly origin: string;
  readonly pid: number;
  /** SIGTERM (the example drains and exits 0), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts the example with `args` and waits for its first line. */
export function startProxy(args: readonly string[]): Promise<RunningProxy> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  children.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => children.delete(child));
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the proxy did not start within ${STARTUP_MS} ms; stderr: ${stderr}`));
    }, STARTUP_MS);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the proxy exited (${code ?? signal}) before listening; stderr: ${stderr}`));
    });
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      if (stdout.includes('\n')) return; // only the first line matters; later ones are health transitions
      stdout += chunk;
      const nl = stdout.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      const m = /^listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(stdout.slice(0, nl));
      if (m === null) {
        child.kill('SIGKILL');
        reject(new Error(`unexpected first line ${JSON.stringify(stdout.slice(0, nl))}`));
        return;
      }
      resolve({
        origin: m[1]!,
        pid: child.pid!,
        stop: async (graceMs = 3_000) => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
          await exited;
          clearTimeout(timer);
        },
      });
    });
  });
}

/** GET /metrics of a proxy started with `--metrics`, parsed. */
export async function scrape(origin: string): Promise<Map<string, Family>> {
  const res = await fetch(`${origin}/metrics`);
  if (res.status !== 200) throw new Error(`GET /metrics: ${res.status}`);
  return parsePrometheusText(await res.text());
}
