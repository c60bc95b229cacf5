/**
 * Runs the benchmark cases of one or more suites in this process and writes the averages as
 * JSON. Started by `bench/index.ts`, one process per suite unless `--same-process`:
 *
 *   node --expose-gc --import tsx bench/run.ts --suites rr,wrr [--quick] [--filter RE] --out FILE
 *
 * Full mode registers every case with mitata (`group` per operation and size, `summary` to rank
 * loadwise against the peers) and lets `run()` time it. Quick mode times the same functions with
 * mitata's `measure` and a 50 ms budget per case (after a 20 ms warm-up) instead of ~0.7 s.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { bench, group, measure, run, summary } from 'mitata';
import { SUITES as SELECTOR_SUITES, describeCase, type Case, type Suite } from './suites.js';

export interface CaseResult {
  readonly key: string;
  readonly suite: string;
  readonly op: string;
  readonly impl: string;
  readonly loadwise: boolean;
  readonly n: number;
  /** Mean time per call in nanoseconds. */
  readonly avg: number;
  readonly p50: number;
  readonly p99: number;
  /** Heap bytes per call as mitata saw them (approximate; see alloc.ts for the exact check). */
  readonly heap?: number;
}

const { values } = parseArgs({
  options: {
    suites: { type: 'string' },
    filter: { type: 'string' },
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});

const wanted = new Set((values.suites ?? '').split(',').filter(Boolean));
// The hash suites (and with them src/hashing) load only when one of them is wanted.
const wantHash = wanted.size === 0 || [...wanted].some((id) => id.startsWith('hash-'));
const SUITES: readonly Suite[] = wantHash ? [...SELECTOR_SUITES, ...(await import('./hash-suites.js')).HASH_SUITES] : SELECTOR_SUITES;
const filter = values.filter !== undefined ? new RegExp(values.filter, 'i') : null;
const cases: Case[] = [];
for (const s of SUITES) {
  if (wanted.size > 0 && !wanted.has(s.id)) continue;
  for (const c of s.cases) if (filter === null || filter.test(describeCase(c))) cases.push(c);
}

const results: CaseResult[] = [];

function record(c: Case, stats: { avg: number; p50: number; p99: number; heap?: { avg: number } }): void {
  const r: CaseResult = { key: c.key, suite: c.suite, op: c.op, impl: c.impl, loadwise: c.loadwise, n: c.n, avg: stats.avg, p50: stats.p50, p99: stats.p99 };
  results.push(stats.heap !== undefined ? { ...r, heap: stats.heap.avg } : r);
}

if (values.quick) {
  for (const c of cases) {
    const fn = c.setup();
    // A short warm-up, so the first size of each operation is not timed while the JIT works.
    for (const end = performance.now() + 20; performance.now() < end; ) for (let i = 0; i < 256; i++) fn();
    const stats = await measure(fn, { min_cpu_time: 50e6 });
    record(c, stats);
    console.log(`${c.key.padEnd(58)} ${stats.avg.toFixed(1).padStart(10)} ns/op`);
  }
} else {
  // One group per (suite, operation, n): loadwise and its peers side by side, ranked by summary.
  const byGroup = new Map<string, Case[]>();
  for (const c of cases) {
    const title = `${c.suite}: ${c.op}, n = ${c.n.toLocaleString('en-US')}`;
    const list = byGroup.get(title) ?? [];
    list.push(c);
    byGroup.set(title, list);
  }
  const byKey = new Map(cases.map((c) => [c.key, c]));
  for (const [title, list] of byGroup) {
    group(title, () => {
      summary(() => {
        for (const c of list) {
          // The generator form runs setup once per measurement, outside the timed loop.
          bench(c.key, function* () {
            yield c.setup();
          });
        }
      });
    });
  }
  const { benchmarks } = await run({ throw: true });
  for (const b of benchmarks) {
    for (const r of b.runs) {
      const c = byKey.get(r.name);
      if (c !== undefined && r.stats !== undefined) record(c, r.stats);
    }
  }
}

if (values.out !== undefined) writeFileSync(values.out, JSON.stringify(results));
