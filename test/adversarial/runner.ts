/**
 * Runs the catalogue in worker threads with a watchdog: a worker that answers nothing for
 * `hangMs` is terminated, the case it was on is recorded as a hang, and a fresh worker goes on
 * from the next case. Results come back in order; `range()` waits for a slice.
 */
import { Worker } from 'node:worker_threads';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import type { CaseResult } from './harness.js';
import type { CaseMessage } from './catalogue.worker.js';

export interface Timed extends CaseResult {
  readonly ms: number;
}

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const TSX_API = pathToFileURL(join(root, 'node_modules', 'tsx', 'dist', 'esm', 'api', 'index.mjs')).href;
const WORKER = pathToFileURL(join(here, 'catalogue.worker.ts')).href;
const BOOT = `const { register } = await import(${JSON.stringify(TSX_API)}); register(); await import(${JSON.stringify(WORKER)});`;

interface Lane {
  worker: Worker | undefined;
  /** The next index this lane expects an answer for. */
  next: number;
  readonly to: number;
  last: number;
}

export class CatalogueRunner {
  readonly results: (Timed | undefined)[];
  private readonly waiters = new Map<number, () => void>();
  private readonly lanes: Lane[] = [];
  private watchdog: ReturnType<typeof setInterval> | undefined;
  hangs = 0;

  constructor(
    readonly total: number,
    private readonly hangMs: number,
    lanes = 1,
  ) {
    this.results = new Array<Timed | undefined>(total);
    const per = Math.ceil(total / lanes);
    for (let from = 0; from < total; from += per) this.lanes.push({ worker: undefined, next: from, to: Math.min(total, from + per), last: 0 });
  }

  /** Starts every lane; resolves once the workers have loaded the catalogue. */
  async start(): Promise<void> {
    await Promise.all(this.lanes.map((l) => this.spawn(l)));
    this.watchdog = setInterval(() => this.check(), Math.min(250, this.hangMs / 4));
  }

  stop(): void {
    if (this.watchdog !== undefined) clearInterval(this.watchdog);
    for (const l of this.lanes) void l.worker?.terminate();
  }

  /** Waits for the results of cases `[from, to)`. */
  async range(from: number, to: number): Promise<Timed[]> {
    const out: Timed[] = [];
    for (let i = from; i < to; i++) out.push(await this.get(i));
    return out;
  }

  private get(i: number): Promise<Timed> {
    const r = this.results[i];
    if (r !== undefined) return Promise.resolve(r);
    return new Promise<Timed>((resolve) => this.waiters.set(i, () => resolve(this.results[i]!)));
  }

  private settle(i: number, r: Timed): void {
    this.results[i] = r;
    const w = this.waiters.get(i);
    if (w !== undefined) {
      this.waiters.delete(i);
      w();
    }
  }

  private spawn(lane: Lane): Promise<void> {
    if (lane.next >= lane.to) {
      lane.worker = undefined;
      return Promise.resolve();
    }
    const worker = new Worker(BOOT, { eval: true });
    worker.unref();
    lane.worker = worker;
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (m: CaseMessage | { ready: number }) => {
        lane.last = performance.now();
        if ('ready' in m) {
          if (m.ready !== this.total) reject(new Error(`the worker built ${m.ready} cases, the test ${this.total}`));
          worker.postMessage({ from: lane.next, to: lane.to });
          resolve();
          return;
        }
        this.settle(m.i, { ...m.r, ms: m.ms });
        lane.next = m.i + 1;
        if (lane.next >= lane.to) {
          lane.worker = undefined;
          void worker.terminate();
        }
      });
      worker.on('error', (err) => {
        if (lane.worker !== worker) return;
        // A crash on a case: record it and go on after it.
        this.settle(lane.next, { pass: false, why: `the worker crashed: ${String(err)}`, act: 'crash', ms: 0 });
        lane.next++;
        lane.worker = undefined;
        void this.spawn(lane).catch(reject);
      });
    });
  }

  private check(): void {
    const now = performance.now();
    for (const lane of this.lanes) {
      const w = lane.worker;
      if (w === undefined || lane.last === 0 || now - lane.last < this.hangMs) continue;
      lane.worker = undefined;
      void w.terminate();
      this.hangs++;
      this.settle(lane.next, { pass: false, why: `hang: no answer within ${this.hangMs} ms`, act: 'hung', ms: now - lane.last });
      lane.next++;
      lane.last = 0;
      void this.spawn(lane);
    }
  }
}
