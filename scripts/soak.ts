/**
 * Memory soak (issue 14, "The suite"): `npm run soak` drives every balancer class through
 * millions of acquire/release cycles with constant membership churn (add, remove, setTargets,
 * setWeight, markDown/markUp, reportHealth), health features on (passive counting, outlier
 * detection with success rate, slow start, panic), and measures the live heap after a full GC
 * (`node --expose-gc`) at intervals. It prints MB at the start (after warm-up), at the end and
 * the maximum, per class, and exits 1 if any class grew by more than the bound.
 *
 * The bound: BOUND_MB (2 MB) of growth from the first sample (taken after a warm-up of 1/20 of
 * the cycles: tables built, code optimized) to the end and to the maximum of the 20 samples.
 * Everything a balancer keeps is O(targets), and the churn keeps the membership between 20 and
 * 40 targets, so the steady-state live heap is constant. A leak of one small object (a lease, an
 * event, a Map entry: 16 bytes or more) per cycle would grow by at least 30 MB over the default
 * 2,000,000 cycles, and one of 10 KB per churn event (a table, a member record: 400 events) by
 * 4 MB; the noise of heapUsed after a full GC stays well under 1 MB (printed as "noise": two
 * back-to-back samples), so 2 MB separates the two. Typed-array memory (Maglev and ring
 * tables) is counted too (`arrayBuffers`).
 *
 * Options: --cycles N per class (default 2,000,000), --class Name (repeatable), --bound MB.
 */
import type { Balancer, Lease } from '../src/index.js';
import { classOf, type VariantName } from '../test/support/classes.js';

interface T {
  readonly id: string;
  readonly weight?: number;
  readonly maxActive?: number;
  readonly backup?: boolean;
}
type Ctor = new (targets: readonly T[], options?: object) => Balancer<T>;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const CYCLES = Number(arg('cycles') ?? 2_000_000);
const BOUND_MB = Number(arg('bound') ?? 2);
const SAMPLES = 20;
const CHURN_EVERY = 5_000;
const only = process.argv.flatMap((a, i) => (a === '--class' ? [process.argv[i + 1]!] : []));

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  console.error('run with node --expose-gc (npm run soak does)');
  process.exit(2);
}

const common = {
  passive: { maxFails: 3, failTimeoutMs: 50 },
  outlier: { consecutiveFailures: 4, baseEjectionTimeMs: 30, maxEjectionTimeMs: 300, maxEjectionPercent: 30, successRate: { minimumHosts: 3, requestVolume: 10 }, intervalMs: 100 },
  slowStart: { windowMs: 200 },
  panicThreshold: 30,
};
const CLASSES: [VariantName, Record<string, unknown>, boolean][] = [
  ['RoundRobin', {}, false],
  ['WeightedRoundRobin', {}, false],
  ['Random', {}, false],
  ['WeightedRandom', {}, false],
  ['LeastConnections', {}, false],
  ['PowerOfTwoChoices', {}, false],
  ['PeakEwma', {}, false],
  ['LeastTime', {}, false],
  ['Hcl', {}, false],
  ['ConsistentHash', { loadFactor: 1.25 }, true],
  ['ConsistentHash(nginx)', { compat: 'nginx' }, true],
  ['ConsistentHash(ketama)', { compat: 'ketama', loadFactor: 1.5 }, true],
  ['Maglev', { loadFactor: 1.5 }, true],
  ['Rendezvous', { loadFactor: 2 }, true],
  ['JumpHash', { loadFactor: 1.5 }, true],
  ['IpHash', {}, true],
  ['ModuloHash', {}, true],
];

function liveMb(): number {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return (m.heapUsed + m.arrayBuffers) / 2 ** 20;
}

/** A cheap deterministic generator (no allocation per draw). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** One class's soak; `ms` is the time of the cycles themselves (the GC samples left out). */
function soak(name: string, Ctor: Ctor, own: Record<string, unknown>, hash: boolean): { start: number; end: number; max: number; noise: number; ms: number; events: number } {
  let time = 0;
  let events = 0;
  const rnd = lcg(42);
  const make = (i: number): T => (i % 7 === 0 ? { id: `t${i}`, weight: 1 + (i % 3), maxActive: 8 } : i % 11 === 0 ? { id: `t${i}`, backup: true } : { id: `t${i}`, weight: 1 + (i % 4) });
  let nextId = 0;
  const initial: T[] = [];
  for (; nextId < 30; nextId++) initial.push(make(nextId));
  const lb = new Ctor(initial, { ...common, ...own, seed: 7, now: () => time, onEvent: () => void events++ });
  const keys: string[] = [];
  for (let i = 0; i < 256; i++) keys.push(`10.${i % 4}.${(i * 7) % 256}.${(i * 13) % 256}`);
  const open: Lease<T>[] = [];
  const downs: string[] = [];
  const samples: number[] = [];
  let noise = 0;
  let gcMs = 0;
  const t0 = performance.now();
  const every = Math.floor(CYCLES / SAMPLES);
  for (let c = 0; c < CYCLES; c++) {
    time += 0.05;
    const key = keys[c & 255]!;
    try {
      open.push(hash ? lb.acquire(key) : lb.acquire());
    } catch {
      // no eligible target for a moment (all down, at capacity): fine
    }
    // Keep 0..48 leases open, releasing the oldest with a mix of outcomes and latencies.
    while (open.length > 48 || (open.length > 0 && rnd() < 0.55)) {
      const l = open.shift()!;
      const r = rnd();
      l.release(r < 0.08 ? 'failure' : r < 0.5 ? { ok: true, latencyMs: r * 40 } : 'success');
    }
    if (c % CHURN_EVERY === CHURN_EVERY - 1) {
      const ts = lb.targets();
      switch ((c / CHURN_EVERY) % 6 | 0) {
        case 0:
          lb.add(make(nextId++));
          break;
        case 1:
          if (ts.length > 20) lb.remove(ts[Math.floor(rnd() * ts.length)]!.id);
          break;
        case 2: {
          const keep = ts.filter(() => rnd() < 0.85);
          const more: T[] = [];
          while (keep.length + more.length < 25) more.push(make(nextId++));
          lb.setTargets([...keep, ...more].slice(0, 40));
          break;
        }
        case 3:
          if (ts.length > 0) lb.setWeight(ts[Math.floor(rnd() * ts.length)]!.id, 1 + Math.floor(rnd() * 5));
          break;
        case 4: {
          if (downs.length > 2) {
            const id = downs.shift()!;
            if (lb.targets().some((t) => t.id === id)) lb.markUp(id);
          }
          if (ts.length > 0) {
            const id = ts[Math.floor(rnd() * ts.length)]!.id;
            lb.markDown(id);
            downs.push(id);
          }
          break;
        }
        default:
          if (ts.length > 0) lb.reportHealth(ts[Math.floor(rnd() * ts.length)]!.id, rnd() < 0.5);
      }
      // Keep the membership between 20 and 40.
      while (lb.size > 40) lb.remove(lb.targets()[0]!.id);
      while (lb.size < 20) lb.add(make(nextId++));
    }
    if (c % every === every - 1) {
      const g0 = performance.now();
      const mb = liveMb();
      if (samples.length === 0) noise = Math.abs(liveMb() - mb);
      samples.push(mb);
      lb.stats();
      gcMs += performance.now() - g0;
    }
  }
  for (const l of open.splice(0)) l.release('success');
  const end = liveMb();
  // The first sample comes after a warm-up of CYCLES / SAMPLES cycles: tables built, JIT done.
  const start = samples[0]!;
  samples.push(end);
  if (lb.stats().some((s) => s.active !== 0)) throw new Error(`${name}: leases left open after the soak`);
  return { start, end, max: Math.max(...samples), noise, ms: performance.now() - t0 - gcMs, events };
}

let failed = false;
const base = liveMb();
console.log(`soak: ${CYCLES.toLocaleString('en')} acquire/release cycles per class, churn every ${CHURN_EVERY}, bound ${BOUND_MB} MB (live heap + typed arrays after full GC; process baseline ${base.toFixed(1)} MB)`);
console.log(`${'class'.padEnd(24)}${'start MB'.padStart(10)}${'end MB'.padStart(10)}${'max MB'.padStart(10)}${'growth'.padStart(9)}${'noise'.padStart(8)}${'Mcyc/s'.padStart(8)}${'events'.padStart(9)}`);
for (const [name, own, hash] of CLASSES) {
  if (only.length > 0 && !only.includes(name)) continue;
  const r = soak(name, classOf(name) as unknown as Ctor, own, hash);
  const growth = Math.max(r.end, r.max) - r.start;
  const bad = growth > BOUND_MB;
  if (bad) failed = true;
  console.log(
    `${name.padEnd(24)}${r.start.toFixed(2).padStart(10)}${r.end.toFixed(2).padStart(10)}${r.max.toFixed(2).padStart(10)}${growth.toFixed(2).padStart(9)}${r.noise.toFixed(2).padStart(8)}${(CYCLES / r.ms / 1000).toFixed(2).padStart(8)}${String(r.events).padStart(9)}${bad ? '  GREW' : ''}`,
  );
}
console.log(failed ? `FAILED: heap grew by more than ${BOUND_MB} MB` : `ok: every class stayed within ${BOUND_MB} MB`);
process.exit(failed ? 1 : 0);
