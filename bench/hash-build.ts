/**
 * Build and rebuild times of the hash family per membership change. Started by `bench/index.ts`
 * in its own process:
 *
 *   node --expose-gc --import tsx bench/hash-build.ts [--quick] [--filter RE] --out FILE
 *
 * For every subject and n ∈ {10, 100, 1,000, 10,000}, each repetition times, with
 * `performance.now()` and a full `gc()` before each step (outside the timing):
 *
 * - `new`: the constructor (loadwise validates targets and fills its registry; the peers build
 *   their whole ring here);
 * - `first pick`: the first `pick(key)` after construction, where loadwise builds its tables
 *   lazily (the peers: their first `get`);
 * - `remove + pick`: `remove(id)` of the middle target followed by one pick (JumpHash applies
 *   membership changes inside `remove`/`add`, the others on the next pick, so the pair is timed);
 * - `add + pick`: `add(id)` of a new target followed by one pick.
 *
 * The figure is the median over the repetitions (15, or 5 at n = 10,000; 3 in quick mode), each
 * on a fresh instance, after {@link WARMUP_REPS} untimed ones at n = 100 so that the figures are
 * steady-state (JIT-compiled) costs, not the first build in a cold process. n = 10,000 is skipped for a subject whose first build there takes longer
 * than {@link SKIP_MS}; a subject that throws (consistent-hash holds at most 2,500 nodes at its
 * default range) is reported as failed at that size.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConsistentHash, type ConsistentHashCompat } from '../src/hashing/consistent-hash.js';
import { JumpHash } from '../src/hashing/jump-hash.js';
import { Maglev } from '../src/hashing/maglev.js';
import { Rendezvous } from '../src/hashing/rendezvous.js';
import { ConsistentHashRing, HashRing } from './peers.js';
import { hostIds, sessionKeys } from './targets.js';

export const BUILD_SIZES = [10, 100, 1000, 10000] as const;
/** n = 10,000 is measured only when one build there takes at most this long. */
const SKIP_MS = 3000;
/** Untimed repetitions at n = 100 per subject before its timed ones. */
const WARMUP_REPS = 8;

export interface BuildResult {
  readonly subject: string;
  readonly loadwise: boolean;
  readonly n: number;
  readonly reps: number;
  /** Medians in milliseconds; absent when skipped. */
  readonly ctorMs?: number;
  readonly firstPickMs?: number;
  readonly removeMs?: number;
  readonly addMs?: number;
  /** Why the size was skipped. */
  readonly skipped?: string;
}

/** The text a filter argument is matched against. */
export function describeBuild(subject: string, n: number): string {
  return `hash-build ${subject} n=${n}`;
}

interface Subject {
  readonly name: string;
  readonly loadwise: boolean;
  make(ids: readonly string[]): unknown;
  pick(s: unknown, key: string): unknown;
  remove(s: unknown, id: string): void;
  add(s: unknown, id: string): void;
}

interface LoadwiseLike {
  pick(key: string): unknown;
  remove(id: string): boolean;
  add(id: string): void;
}

function lw(name: string, make: (ids: readonly string[]) => LoadwiseLike): Subject {
  return {
    name,
    loadwise: true,
    make,
    pick: (s, key) => (s as LoadwiseLike).pick(key),
    remove: (s, id) => void (s as LoadwiseLike).remove(id),
    add: (s, id) => (s as LoadwiseLike).add(id),
  };
}

const ringMode = (compat?: ConsistentHashCompat) => (ids: readonly string[]) => new ConsistentHash([...ids], compat === undefined ? undefined : { compat });

export const BUILD_SUBJECTS: readonly Subject[] = [
  lw('ConsistentHash', ringMode()),
  lw('ConsistentHash (nginx)', ringMode('nginx')),
  lw('ConsistentHash (ketama)', ringMode('ketama')),
  lw('ConsistentHash (hashring)', ringMode('hashring')),
  lw('Maglev', (ids) => new Maglev([...ids])),
  lw('Rendezvous', (ids) => new Rendezvous([...ids])),
  lw('JumpHash', (ids) => new JumpHash([...ids])),
  {
    name: 'hashring',
    loadwise: false,
    make: (ids) => new HashRing(ids),
    pick: (s, key) => (s as InstanceType<typeof HashRing>).get(key),
    remove: (s, id) => void (s as InstanceType<typeof HashRing>).remove(id),
    add: (s, id) => void (s as InstanceType<typeof HashRing>).add(id),
  },
  {
    name: 'consistent-hash',
    loadwise: false,
    make: (ids) => {
      const r = new ConsistentHashRing();
      for (const id of ids) r.add(id);
      return r;
    },
    pick: (s, key) => (s as InstanceType<typeof ConsistentHashRing>).get(key),
    remove: (s, id) => void (s as InstanceType<typeof ConsistentHashRing>).remove(id),
    add: (s, id) => void (s as InstanceType<typeof ConsistentHashRing>).add(id),
  },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const gc = (globalThis as { gc?: () => void }).gc ?? ((): void => {});

interface Rep {
  ctor: number;
  first: number;
  remove: number;
  add: number;
}

/** One repetition on a fresh instance. */
function rep(subject: Subject, ids: readonly string[], key: string, sink: unknown[]): Rep {
  const n = ids.length;
  const removed = ids[n >> 1]!;
  const added = `10.254.${(n >> 8) & 255}.${n & 255}:9090`;
  gc();
  let t = performance.now();
  const s = subject.make(ids);
  const ctor = performance.now() - t;
  gc();
  t = performance.now();
  sink.push(subject.pick(s, key));
  const first = performance.now() - t;
  gc();
  t = performance.now();
  subject.remove(s, removed);
  sink.push(subject.pick(s, key));
  const remove = performance.now() - t;
  gc();
  t = performance.now();
  subject.add(s, added);
  sink.push(subject.pick(s, key));
  const add = performance.now() - t;
  return { ctor, first, remove, add };
}

export function runBuild(options: { quick: boolean; filter: RegExp | null; log?: (line: string) => void }): BuildResult[] {
  const key = sessionKeys()[12345]!;
  const out: BuildResult[] = [];
  const sink: unknown[] = [];
  const log = options.log ?? ((line: string) => console.log(line));
  for (const subject of BUILD_SUBJECTS) {
    const sizes = BUILD_SIZES.filter((n) => options.filter === null || options.filter.test(describeBuild(subject.name, n)));
    if (sizes.length === 0) continue;
    // Untimed warm-up: the first few builds in a process run while the JIT compiles (on a busy
    // 2-core machine, 10–20 ms for a 10-target ring instead of ~1 ms), which would otherwise
    // land in the n = 10 column.
    for (let w = 0; w < WARMUP_REPS; w++) rep(subject, hostIds(100), key, sink);
    sink.length = 0;
    for (const n of sizes) {
      const ids = hostIds(n);
      const reps = options.quick ? 3 : n >= 10000 ? 5 : 15;
      let first: Rep;
      try {
        first = rep(subject, ids, key, sink);
      } catch (e) {
        // e.g. consistent-hash holds at most range / weight = 2,500 nodes at its defaults.
        const skipped = `failed: ${e instanceof Error ? e.message : String(e)}`;
        out.push({ subject: subject.name, loadwise: subject.loadwise, n, reps: 0, skipped });
        log(`${describeBuild(subject.name, n).padEnd(48)} ${skipped}`);
        continue;
      }
      if (n >= 10000 && first.ctor + first.first > SKIP_MS) {
        const skipped = `one build took ${((first.ctor + first.first) / 1000).toFixed(1)} s`;
        out.push({ subject: subject.name, loadwise: subject.loadwise, n, reps: 1, skipped });
        log(`${describeBuild(subject.name, n).padEnd(48)} skipped: ${skipped}`);
        continue;
      }
      const rs: Rep[] = [first];
      for (let r = 1; r < reps; r++) rs.push(rep(subject, ids, key, sink));
      const res: BuildResult = {
        subject: subject.name,
        loadwise: subject.loadwise,
        n,
        reps,
        ctorMs: median(rs.map((r) => r.ctor)),
        firstPickMs: median(rs.map((r) => r.first)),
        removeMs: median(rs.map((r) => r.remove)),
        addMs: median(rs.map((r) => r.add)),
      };
      out.push(res);
      log(
        `${describeBuild(subject.name, n).padEnd(48)} new ${res.ctorMs!.toFixed(3)} ms · first pick ${res.firstPickMs!.toFixed(3)} ms · ` +
          `remove+pick ${res.removeMs!.toFixed(3)} ms · add+pick ${res.addMs!.toFixed(3)} ms (median of ${reps})`,
      );
      sink.length = 0;
    }
  }
  return out;
}

// Run as a script (index.ts spawns it); importing the module for its types does nothing.
if (process.argv[1] !== undefined && /hash-build\.ts$/.test(process.argv[1])) {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, filter: { type: 'string' }, out: { type: 'string' } } });
  const results = runBuild({ quick: values.quick, filter: values.filter !== undefined ? new RegExp(values.filter, 'i') : null });
  if (values.out !== undefined) writeFileSync(values.out, JSON.stringify(results));
}
