/**
 * The live demo's backends: node:http servers on 127.0.0.1, each with a fixed service time and a
 * few workers (requests beyond them wait in a FIFO queue, as in a real server with a thread pool),
 * that can be told to answer 503 and can be killed (listener closed, every connection cut) and
 * restarted on the same port (shared/server.ts). Each counts what it saw, for the report.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { KillableServer } from '../shared/server.js';

export interface BackendSpec {
  readonly name: string;
  /** Service time of one request, ms. */
  readonly serviceMs: number;
  /** Requests served at once; the rest queue. */
  readonly workers: number;
  /** `--target URL=WEIGHT`: proportional to capacity (workers / service time). */
  readonly weight: number;
}

/** One request held by a backend: queued, then in service. */
interface Job {
  readonly res: ServerResponse;
  readonly queuedAt: number;
  timer?: ReturnType<typeof setTimeout>;
  done: boolean;
}

export class DemoBackend extends KillableServer {
  /** Requests received (health checks aside). */
  hits = 0;
  /** Requests answered 503 while failing. */
  failed = 0;
  /** Requests answered 200. */
  served = 0;
  /** Requests cut by a kill. */
  cut = 0;
  inFlight = 0;
  maxInFlight = 0;
  /** Worker time spent serving, ms. */
  busyMs = 0;
  /** Time each served request waited for a worker, ms. */
  readonly waits: number[] = [];
  /** Answer every request with 503 at once (an overloaded or broken server). */
  failing = false;
  private readonly queue: Job[] = [];
  private busy = 0;

  constructor(readonly spec: BackendSpec) {
    super();
  }

  /** Zeroes the counters (between algorithms). */
  reset(): void {
    this.hits = this.failed = this.served = this.cut = this.maxInFlight = this.busyMs = 0;
    this.waits.length = 0;
    this.failing = false;
  }

  close(): void {
    this.kill();
  }

  protected handle(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    if (req.url === '/health') {
      res.end('ok');
      return;
    }
    this.hits++;
    res.setHeader('x-backend', this.spec.name);
    if (this.failing) {
      this.failed++;
      res.statusCode = 503;
      res.end('busy');
      return;
    }
    this.inFlight++;
    if (this.inFlight > this.maxInFlight) this.maxInFlight = this.inFlight;
    const job: Job = { res, queuedAt: performance.now(), done: false };
    res.on('close', () => {
      if (job.done) return;
      // Cut before its answer (a kill, or the proxy gave up): free its worker or queue place.
      job.done = true;
      this.cut++;
      this.inFlight--;
      if (job.timer !== undefined) {
        clearTimeout(job.timer);
        this.busy--;
        this.next();
      } else {
        this.queue.splice(this.queue.indexOf(job), 1);
      }
    });
    this.queue.push(job);
    this.next();
  }

  /** Starts queued jobs while a worker is free. */
  private next(): void {
    while (this.busy < this.spec.workers && this.queue.length > 0) {
      const job = this.queue.shift()!;
      this.busy++;
      const startedAt = performance.now();
      this.waits.push(startedAt - job.queuedAt);
      job.timer = setTimeout(() => {
        job.done = true;
        this.busy--;
        this.inFlight--;
        this.busyMs += performance.now() - startedAt;
        this.served++;
        job.res.end(this.spec.name);
        this.next();
      }, this.spec.serviceMs);
    }
  }
}
