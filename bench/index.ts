/**
 * `npm run bench` — every loadwise selector × n ∈ {10, 100, 1,000, 10,000} and the npm peers,
 * the hash family (lookups over 100,000 distinct keys × n ∈ {10, 100, 1,000} with its npm
 * peers, then build/rebuild times), then the allocation check, then tables and the targets.
 *
 *   npm run bench                      full run (mitata, ~0.7 s per case; about 5 minutes:
 *                                      ~2 for the selectors, ~3 for the hash family)
 *   npm run bench -- --quick           50 ms per case (noisier; about 20 seconds)
 *   npm run bench -- wrr p2c           only these suites (rr wrr random wrandom lc p2c alloc,
 *                                      and the latency-aware ewma least-time hcl)
 *   npm run bench -- health            health features' cost, all targets healthy: WeightedRoundRobin
 *                                      and LeastConnections acquire+release with and without
 *                                      passive + outlier + slowStart (health-wrr health-lc)
 *   npm run bench -- hash              the hash family: every hash-* lookup suite and hash-build
 *                                      (or name them: hash-ring hash-maglev hash-jump
 *                                      hash-rendezvous hash-modulo hash-ip hash-build)
 *   npm run bench -- 'pick n=10$'      or any case-insensitive regex over the case names
 *                                      ("<suite> <op> <case>", "hash-build <subject> n=<n>")
 *   npm run bench -- --same-process    all suites in one process (megamorphic call sites)
 *   npm run bench -- --json out.json   raw averages (default: bench/results.json on a full,
 *                                      unfiltered run)
 *
 * Each suite runs in its own Node process so that the shared base class sees one balancer class
 * only, as in an application that uses one balancer type; loadwise and its npm peers share
 * that process. With `--same-process` every call site in the base class sees all six classes.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { AllocResult } from './alloc.js';
import type { BuildResult } from './hash-build.js';
import { hashChecks, hashTables, isHashResult } from './hash-report.js';
import type { CaseResult } from './run.js';
import {
  HASH_SUITE_IDS,
  HEALTH_MAX_RATIO,
  HEALTH_SUITE_IDS,
  ALLOC_BALANCERS,
  HEALTH_VARIANTS,
  LATENCY_SUITE_IDS,
  SUITES as SUITE_DEFS,
  describeAlloc,
  describeCase,
  type Suite,
  type SuiteId,
} from './suites.js';
import { SIZES } from './targets.js';

const SUITES: ReadonlyArray<readonly [SuiteId, string]> = SUITE_DEFS.map((s) => [s.id, s.balancer] as const);
const OPS = ['pick', 'acquire+release', 'acquire+release, 64 open'] as const;

/** The issue's targets (ns/op on the reference machine). */
const TARGET_RR_PICK_NS = 25;
const TARGET_ACQUIRE_NS = 60;
const TARGET_SCALING = 3;
/** Issue 5: PeakEwma acquire+release at n = 100. */
const TARGET_PEAK_EWMA_NS = 100;
const PEAK_EWMA_N = 100;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    quick: { type: 'boolean', default: false },
    'same-process': { type: 'boolean', default: false },
    json: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0]!.replace(/^\/\*\*\n| \* ?/gm, ''));
  process.exit(0);
}

// Positionals naming a suite select it ('hash' = every hash-* suite and hash-build); anything
// else is a regex over the case names.
const suiteIds = new Set<string>([...SUITES.map(([id]) => id), ...HASH_SUITE_IDS, 'hash-build', 'alloc']);
const named = positionals.filter((p) => suiteIds.has(p) || p === 'hash' || p === 'health');
const chosenSuites = named.flatMap((p) => (p === 'hash' ? [...HASH_SUITE_IDS, 'hash-build'] : p === 'health' ? [...HEALTH_SUITE_IDS] : [p]));
const patterns = positionals.filter((p) => !suiteIds.has(p) && p !== 'hash' && p !== 'health');
const filter = patterns.length > 0 ? patterns.map((p) => `(?:${p})`).join('|') : undefined;
const filterRe = filter !== undefined ? new RegExp(filter, 'i') : null;
const onlyNamed = chosenSuites.length > 0;

// The hash family loads src/hashing, which may be mid-change: load it only when wanted, and if it
// fails to load, say so and carry on with the rest unless a hash suite was asked for by name.
const wantHashLookups = !onlyNamed || HASH_SUITE_IDS.some((id) => chosenSuites.includes(id));
const wantHashBuild = !onlyNamed || chosenSuites.includes('hash-build');
let hashDefs: readonly Suite[] = [];
let buildModule: typeof import('./hash-build.js') | undefined;
try {
  if (wantHashLookups) hashDefs = (await import('./hash-suites.js')).HASH_SUITES;
  if (wantHashBuild) buildModule = await import('./hash-build.js');
} catch (e) {
  if (onlyNamed) {
    console.error(`the hash suites failed to load: ${String(e)}`);
    process.exit(1);
  }
  console.warn(`skipping the hash family: it failed to load (${String(e)})`);
  hashDefs = [];
  buildModule = undefined;
}
const ALL_DEFS: readonly Suite[] = [...SUITE_DEFS, ...hashDefs];

// Suites (and allocation checks) with at least one case left after the filter.
const suitesToRun = ALL_DEFS.filter((s) => (!onlyNamed || chosenSuites.includes(s.id)) && s.cases.some((c) => filterRe === null || filterRe.test(describeCase(c)))).map((s) => s.id);
const runBuild =
  buildModule !== undefined &&
  (filterRe === null || buildModule.BUILD_SUBJECTS.some((s) => buildModule!.BUILD_SIZES.some((n) => filterRe.test(buildModule!.describeBuild(s.name, n)))));
const allocToRun = ALLOC_BALANCERS.filter(
  (name) => (!onlyNamed || chosenSuites.includes('alloc')) && (filterRe === null || filterRe.test(describeAlloc(name, 'pick')) || filterRe.test(describeAlloc(name, 'acquire+release'))),
);
const runAlloc = allocToRun.length > 0;

const here = fileURLToPath(new URL('.', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'loadwise-bench-'));
const started = new Date();
const cpu = cpuModel();

console.log(`loadwise bench — ${cpu}, ${cpus().length} cores, Node ${process.version}, ${started.toISOString()}`);
console.log(`load average at start: ${loadavg().map((l) => l.toFixed(2)).join(' ')}${values.quick ? ' — quick mode' : ''}\n`);

const results: CaseResult[] = [];
const groups: SuiteId[][] = values['same-process'] ? [suitesToRun] : suitesToRun.map((s) => [s]);
for (const [i, g] of groups.entries()) {
  if (g.length === 0) continue;
  const out = join(tmp, `run-${i}.json`);
  const args = [...process.execArgv, join(here, 'run.ts'), '--suites', g.join(','), '--out', out];
  if (values.quick) args.push('--quick');
  if (filter !== undefined) args.push('--filter', filter);
  if (values.quick) console.log(`— ${g.join(', ')}`);
  const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
  if (r.status !== 0) fail(`bench/run.ts ${g.join(',')} exited with ${r.status ?? r.signal}`);
  results.push(...(JSON.parse(readFileSync(out, 'utf8')) as CaseResult[]));
}

const builds: BuildResult[] = [];
if (runBuild) {
  console.log('\n— hash family build / rebuild times (performance.now, median of repetitions)');
  const out = join(tmp, 'hash-build.json');
  const args = [...process.execArgv, join(here, 'hash-build.ts'), '--out', out];
  if (values.quick) args.push('--quick');
  if (filter !== undefined) args.push('--filter', filter);
  const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
  if (r.status !== 0) fail(`bench/hash-build.ts exited with ${r.status ?? r.signal}`);
  builds.push(...(JSON.parse(readFileSync(out, 'utf8')) as BuildResult[]));
}

const alloc: AllocResult[] = [];
if (runAlloc) {
  console.log('\n— allocation check (n = 1,000, 1e6 calls each)');
  const execArgv = [...process.execArgv.filter((a) => a !== '--expose-gc'), '--expose-gc', '--min-semi-space-size=64', '--max-semi-space-size=64'];
  // One process per balancer, like the timing suites, unless --same-process.
  const batches: Array<string | undefined> = values['same-process'] ? [undefined] : allocToRun;
  for (const [i, only] of batches.entries()) {
    const out = join(tmp, `alloc-${i}.json`);
    const args = [...execArgv, join(here, 'alloc.ts'), '--out', out];
    if (only !== undefined) args.push('--only', only);
    if (filter !== undefined) args.push('--filter', filter);
    const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
    if (r.status !== 0) fail(`bench/alloc.ts exited with ${r.status ?? r.signal}`);
    alloc.push(...(JSON.parse(readFileSync(out, 'utf8')) as AllocResult[]));
  }
}
rmSync(tmp, { recursive: true, force: true });

const finished = new Date();
const report = tables(results, alloc, builds);
console.log(`\n${report}`);
console.log(`load average at end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}; took ${((finished.getTime() - started.getTime()) / 1000).toFixed(0)} s`);

const full = filter === undefined && chosenSuites.length === 0 && !values.quick && !values['same-process'];
const jsonPath = values.json ?? (full ? join(here, 'results.json') : undefined);
if (jsonPath !== undefined) {
  const json = {
    machine: { cpu, cores: cpus().length, node: process.version, platform: `${process.platform}-${process.arch}` },
    date: started.toISOString(),
    mode: values.quick ? 'quick' : 'full',
    isolation: values['same-process'] ? 'same-process' : 'process-per-suite',
    unit: 'ns per call: avg = mean, p50 = median, p99 of mitata samples',
    results: results.map(({ key, suite, op, impl, loadwise, n, avg, p50, p99 }) => ({ suite, op, impl, loadwise, n, key, avg: round(avg), p50: round(p50), p99: round(p99) })),
    allocation: alloc,
    hashBuild: builds.map((b) => ({
      ...b,
      ...(b.ctorMs !== undefined ? { ctorMs: round4(b.ctorMs) } : {}),
      ...(b.firstPickMs !== undefined ? { firstPickMs: round4(b.firstPickMs) } : {}),
      ...(b.removeMs !== undefined ? { removeMs: round4(b.removeMs) } : {}),
      ...(b.addMs !== undefined ? { addMs: round4(b.addMs) } : {}),
    })),
  };
  writeFileSync(jsonPath, `${JSON.stringify(json, null, 2)}\n`);
  console.log(`raw averages written to ${jsonPath}`);
}

function tables(all: readonly CaseResult[], al: readonly AllocResult[], builds: readonly BuildResult[]): string {
  const out: string[] = [];
  const rs = all.filter((r) => !isHashResult(r));
  const fmt = (v: number): string => (v < 100 ? v.toFixed(1) : Math.round(v).toLocaleString('en-US'));
  const header = `| implementation | ${SIZES.map((n) => `n=${n.toLocaleString('en-US')}`).join(' | ')} | 10k ÷ 10 |`;
  const rule = `|---|${SIZES.map(() => '---:').join('|')}|---:|`;
  for (const op of OPS) {
    const rows = rs.filter((r) => r.op === op);
    if (rows.length === 0) continue;
    out.push(`### ${op} — ns per call, mean (median)\n`, header, rule);
    const impls = [...new Set(rows.map((r) => `${r.suite}\u0000${r.impl}`))];
    for (const key of impls) {
      const [suite, impl] = key.split('\u0000') as [string, string];
      const byN = new Map(rows.filter((r) => r.suite === suite && r.impl === impl).map((r) => [r.n, r]));
      const a = byN.get(10)?.avg;
      const b = byN.get(10000)?.avg;
      const ratio = a !== undefined && b !== undefined ? `${(b / a).toFixed(2)}×` : '—';
      const name = impl.startsWith('loadwise ') ? `**${impl}**` : `↳ ${impl}`;
      const cell = (r: CaseResult | undefined): string => (r === undefined ? '—' : `${fmt(r.avg)} (${fmt(r.p50)})`);
      out.push(`| ${name} | ${SIZES.map((n) => cell(byN.get(n))).join(' | ')} | ${ratio} |`);
    }
    out.push('');
  }
  if (al.length > 0) {
    out.push('### heap bytes per call (n = 1,000, 1e6 calls)\n', '| balancer | pick | acquire+release |', '|---|---:|---:|');
    for (const name of new Set(al.map((a) => a.balancer))) {
      const p = al.find((a) => a.balancer === name && a.op === 'pick');
      const q = al.find((a) => a.balancer === name && a.op === 'acquire+release');
      if (p === undefined && q === undefined) continue;
      const cell = (a: AllocResult | undefined): string => (a === undefined ? '—' : `${a.bytesPerCall.toFixed(1)}${a.gcInside ? ' (≥, GC ran)' : ''}`);
      out.push(`| ${name} | ${cell(p)} | ${cell(q)} |`);
    }
    out.push('');
  }
  out.push(...hashTables(all, builds));
  const checks = [...targetChecks(rs), ...hashChecks(all, builds)];
  if (checks.length > 0) out.push('### targets\n', ...checks.map((c) => `- ${c}`), '');
  return out.join('\n');
}

function targetChecks(rs: readonly CaseResult[]): string[] {
  const lw = rs.filter((r) => r.loadwise);
  const get = (suite: string, op: string, n: number): number | undefined => lw.find((r) => r.suite === suite && r.op === op && r.n === n)?.avg;
  const out: string[] = [];
  const mark = (ok: boolean): string => (ok ? 'MET' : 'NOT MET');
  const med = (suite: string, op: string, n: number): string => {
    const v = lw.find((r) => r.suite === suite && r.op === op && r.n === n)?.p50;
    return v === undefined ? '' : ` (median ${v.toFixed(1)} ns)`;
  };
  // The foundation's targets are about the six plain selectors; the health and latency-aware
  // suites have their own.
  const isHealth = (id: string): boolean => (HEALTH_SUITE_IDS as readonly string[]).includes(id) || (LATENCY_SUITE_IDS as readonly string[]).includes(id);
  const rr = get('rr', 'pick', 10);
  if (rr !== undefined) out.push(`${mark(rr <= TARGET_RR_PICK_NS)}: RoundRobin.pick at n=10 = ${rr.toFixed(1)} ns${med('rr', 'pick', 10)} (target ≤ ${TARGET_RR_PICK_NS} ns)`);
  for (const [id, name] of SUITES) {
    if (isHealth(id)) continue;
    const v = get(id, 'acquire+release', 10);
    if (v !== undefined) out.push(`${mark(v <= TARGET_ACQUIRE_NS)}: ${name} acquire+release at n=10 = ${v.toFixed(1)} ns${med(id, 'acquire+release', 10)} (target ≤ ${TARGET_ACQUIRE_NS} ns)`);
  }
  for (const [id, name] of SUITES) {
    if (isHealth(id)) continue;
    for (const op of OPS) {
      const a = get(id, op, 10);
      const b = get(id, op, 10000);
      if (a === undefined || b === undefined) continue;
      out.push(`${mark(b <= TARGET_SCALING * a)}: ${name} ${op} n=10,000 ÷ n=10 = ${(b / a).toFixed(2)}× (target ≤ ${TARGET_SCALING}×)`);
    }
  }
  const ewmaRows = lw.filter((r) => r.suite === 'ewma' && r.op === 'acquire+release' && r.n === PEAK_EWMA_N);
  const ewma = ewmaRows.find((r) => r.impl === 'loadwise PeakEwma');
  if (ewma !== undefined) {
    const counter = ewmaRows.find((r) => r.impl !== 'loadwise PeakEwma');
    const clock = rs.find((r) => r.suite === 'ewma' && r.op === 'acquire+release' && r.n === PEAK_EWMA_N && !r.loadwise);
    const parts = [
      counter === undefined ? '' : `${counter.avg.toFixed(1)} ns with a counter clock`,
      clock === undefined ? '' : `two performance.now() reads alone ${clock.avg.toFixed(1)} ns`,
    ].filter((p) => p !== '');
    out.push(
      `${mark(ewma.avg <= TARGET_PEAK_EWMA_NS)}: PeakEwma acquire+release at n=${PEAK_EWMA_N} = ${ewma.avg.toFixed(1)} ns (median ${ewma.p50.toFixed(1)} ns)${parts.length > 0 ? `; ${parts.join('; ')}` : ''} (target ≤ ${TARGET_PEAK_EWMA_NS} ns)`,
    );
  }
  // Health features on, every target healthy: at most HEALTH_MAX_RATIO × the plain balancer.
  for (const id of HEALTH_SUITE_IDS) {
    const rows = lw.filter((r) => r.suite === id);
    const plainImpl = rows[0]?.impl;
    if (plainImpl === undefined) continue;
    for (const variant of HEALTH_VARIANTS.slice(1)) {
      for (const n of SIZES) {
        const base = rows.find((r) => r.impl === plainImpl && r.n === n);
        const on = rows.find((r) => r.impl === `${plainImpl}${variant}` && r.n === n);
        if (base === undefined || on === undefined) continue;
        const ratio = on.avg / base.avg;
        out.push(
          `${mark(ratio <= HEALTH_MAX_RATIO)}: ${plainImpl.replace('loadwise ', '')}${variant} acquire+release n=${n.toLocaleString('en-US')} = ${on.avg.toFixed(1)} ns vs ${base.avg.toFixed(1)} ns without = ${ratio.toFixed(2)}× (median ${(on.p50 / base.p50).toFixed(2)}×; target ≤ ${HEALTH_MAX_RATIO}×)`,
        );
      }
    }
  }
  if (out.length > 0) out.unshift('(judged on the mean, as the issue states its targets)');
  return out;
}

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
    if (line !== undefined) return line.split(':')[1]!.trim();
  } catch {
    // not Linux
  }
  return cpus()[0]?.model ?? 'unknown CPU';
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}

function round4(v: number): number {
  return Math.round(v * 10000) / 10000;
}

function fail(message: string): never {
  console.error(message);
  rmSync(tmp, { recursive: true, force: true });
  process.exit(1);
}
