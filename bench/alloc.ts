/**
 * Allocation check: heap bytes per call of `pick()` and of `acquire()` + `release()`, for every
 * balancer at n = 1,000, over 1,000,000 calls each (10 chunks of 100,000 with a full GC before
 * each chunk; the figure is the smallest chunk, so that one-off allocations of the JIT do not
 * count while anything allocated on every call, or every few calls, still does). Needs `--expose-gc`; `index.ts` also gives this process a 64 MB young generation
 * so that no scavenge runs inside a chunk (a GC inside a chunk is detected and reported, since it
 * would hide garbage).
 *
 * Expected: `pick` allocates nothing, `acquire` + `release` allocates exactly the lease (64 B).
 * The latency-aware balancers add 16 B for the lease's start time (a non-integer double, which
 * V8 keeps in a heap number) and whatever the clock allocates: Node 20's `performance.now()`
 * returns a new number per read, hence their counter-clock rows.
 */
import { writeFileSync } from 'node:fs';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { Balancer, Lease, Target } from '../src/index.js';
import { ALLOC_MAKERS, describeAlloc } from './suites.js';

export interface AllocResult {
  readonly balancer: string;
  readonly op: 'pick' | 'acquire+release';
  readonly n: number;
  readonly calls: number;
  /** Heap bytes per call in the smallest chunk (steady state). */
  readonly bytesPerCall: number;
  /** Heap bytes per call: mean over all chunks (includes one-off JIT allocations). */
  readonly meanBytesPerCall: number;
  /** True when a GC ran inside a measured chunk, so the figure is a lower bound. */
  readonly gcInside: boolean;
}

const { values } = parseArgs({ options: { out: { type: 'string' }, filter: { type: 'string' }, only: { type: 'string' } } });

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  console.error('alloc.ts needs node --expose-gc');
  process.exit(2);
}

const N = 1000;
const CHUNK = 100_000;
const CHUNKS = 10;
const WARMUP = 500_000;

let sinkTarget: Target | undefined;
let sinkLease: Lease<Target> | undefined;

// Separate loop functions per operation; each result is kept in a module variable so the work
// cannot be dropped, and each lease escapes as it would in real code.
function picks(lb: Balancer<Target>, count: number): void {
  for (let i = 0; i < count; i++) sinkTarget = lb.pick();
}

function acquires(lb: Balancer<Target>, count: number): void {
  for (let i = 0; i < count; i++) {
    const lease = lb.acquire();
    lease.release('success');
    sinkLease = lease;
  }
}

const gcTimes: number[] = [];
const observer = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcTimes.push(e.startTime);
});
observer.observe({ entryTypes: ['gc'] });

const filter = values.filter !== undefined ? new RegExp(values.filter, 'i') : null;
const results: AllocResult[] = [];
for (const [name, make] of ALLOC_MAKERS) {
  for (const op of ['pick', 'acquire+release'] as const) {
    if (values.only !== undefined && values.only !== name) continue;
    if (filter !== null && !filter.test(describeAlloc(name, op))) continue;
    const lb = make(N);
    const loop = op === 'pick' ? picks : acquires;
    loop(lb, WARMUP);
    const deltas: number[] = [];
    const windows: Array<readonly [number, number]> = [];
    for (let k = 0; k < CHUNKS; k++) {
      gc();
      const t0 = performance.now();
      const h0 = process.memoryUsage().heapUsed;
      loop(lb, CHUNK);
      const h1 = process.memoryUsage().heapUsed;
      windows.push([t0, performance.now()]);
      deltas.push(h1 - h0);
    }
    // GC entries are delivered asynchronously.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const gcInside = gcTimes.some((t) => windows.some(([a, b]) => t > a && t < b));
    gcTimes.length = 0;
    const calls = CHUNK * CHUNKS;
    const mean = deltas.reduce((a, b) => a + b, 0) / calls;
    const steady = Math.min(...deltas) / CHUNK;
    const r: AllocResult = { balancer: name, op, n: N, calls, bytesPerCall: steady, meanBytesPerCall: mean, gcInside };
    results.push(r);
    console.log(
      `${`${name}.${op}`.padEnd(36)} ${r.bytesPerCall.toFixed(2).padStart(8)} B/call (mean ${mean.toFixed(2)})${gcInside ? '  (GC inside a chunk: lower bound)' : ''}`,
    );
  }
}
observer.disconnect();
void sinkTarget;
void sinkLease;

if (values.out !== undefined) writeFileSync(values.out, JSON.stringify(results));
