/**
 * Tables and target checks of the hash family, printed by `bench/index.ts` after the selector
 * tables. Needs only the results (no src/ import), so it loads even when a balancer does not.
 */
import type { BuildResult } from './hash-build.js';
import type { CaseResult } from './run.js';
import { HASH_SIZES } from './targets.js';

/** The issue's hash-family targets. */
export const TARGET_RING_VS_HASHRING = 10;
export const TARGET_KETAMA_VS_HASHRING = 3;
export const TARGET_MAGLEV_NS = 40;
export const TARGET_MAGLEV_BUILD_MS = 15;
const MAGLEV_BUILD_N = 1000;

const BUILD_SIZES = [10, 100, 1000, 10000] as const;

export function isHashResult(r: CaseResult): boolean {
  return r.suite.startsWith('hash-');
}

const fmtNs = (v: number): string => (v < 100 ? v.toFixed(1) : Math.round(v).toLocaleString('en-US'));
const fmtMs = (v: number): string => (v < 0.1 ? v.toFixed(4) : v < 10 ? v.toFixed(3) : v < 100 ? v.toFixed(1) : Math.round(v).toLocaleString('en-US'));

function rowName(impl: string): string {
  if (impl.startsWith('loadwise ')) return `**${impl}**`;
  if (impl.startsWith('reference: ')) return `· ${impl}`;
  return `↳ ${impl}`;
}

/** Markdown tables of the hash lookups (ns per call) and of the build times (ms). */
export function hashTables(rs: readonly CaseResult[], builds: readonly BuildResult[]): string[] {
  const out: string[] = [];
  const hash = rs.filter(isHashResult);
  const header = `| implementation | ${HASH_SIZES.map((n) => `n=${n.toLocaleString('en-US')}`).join(' | ')} | 1k ÷ 10 |`;
  const rule = `|---|${HASH_SIZES.map(() => '---:').join('|')}|---:|`;
  const titles: Record<string, string> = {
    pick: 'hash family: pick(key), 100,000 distinct keys — ns per call, mean (median)',
    'acquire+release': 'hash family: acquire(key) + release() — ns per call, mean (median)',
  };
  for (const op of ['pick', 'acquire+release']) {
    const rows = hash.filter((r) => r.op === op);
    if (rows.length === 0) continue;
    out.push(`### ${titles[op]}\n`, header, rule);
    const impls = [...new Set(rows.map((r) => `${r.suite}\u0000${r.impl}`))];
    for (const key of impls) {
      const [suite, impl] = key.split('\u0000') as [string, string];
      const byN = new Map(rows.filter((r) => r.suite === suite && r.impl === impl).map((r) => [r.n, r]));
      const a = byN.get(10)?.avg;
      const b = byN.get(1000)?.avg;
      const ratio = a !== undefined && b !== undefined ? `${(b / a).toFixed(2)}×` : '—';
      const cell = (r: CaseResult | undefined): string => (r === undefined ? '—' : `${fmtNs(r.avg)} (${fmtNs(r.p50)})`);
      out.push(`| ${rowName(impl)} | ${HASH_SIZES.map((n) => cell(byN.get(n))).join(' | ')} | ${ratio} |`);
    }
    out.push('');
  }
  if (builds.length > 0) {
    const subjects = [...new Set(builds.map((b) => b.subject))];
    const sizes = BUILD_SIZES.filter((n) => builds.some((b) => b.n === n));
    const measures: ReadonlyArray<readonly [(b: BuildResult) => string, string]> = [
      [(b) => fmtMs(b.ctorMs! + b.firstPickMs!), 'new + first pick (the whole build: loadwise builds lazily on the first pick, JumpHash and the peers in new)'],
      [(b) => `${fmtMs(b.ctorMs!)} / ${fmtMs(b.firstPickMs!)}`, 'the same split: new / first pick'],
      [(b) => fmtMs(b.removeMs!), 'remove(one id) + first pick'],
      [(b) => fmtMs(b.addMs!), 'add(one id) + first pick'],
    ];
    for (const [cell, title] of measures) {
      out.push(`### hash family build: ${title} — ms, median`, '', `| implementation | ${sizes.map((n) => `n=${n.toLocaleString('en-US')}`).join(' | ')} |`, `|---|${sizes.map(() => '---:').join('|')}|`);
      for (const s of subjects) {
        const cells = sizes.map((n) => {
          const b = builds.find((x) => x.subject === s && x.n === n);
          if (b === undefined) return '—';
          if (b.skipped !== undefined) return `— (${b.skipped})`;
          return cell(b);
        });
        const loadwise = builds.find((x) => x.subject === s)?.loadwise ?? false;
        out.push(`| ${loadwise ? `**loadwise ${s}**` : `↳ ${s}`} | ${cells.join(' | ')} |`);
      }
      out.push('');
    }
  }
  return out;
}

/** MET / NOT MET lines for the hash targets, and every comparison a peer wins. */
export function hashChecks(rs: readonly CaseResult[], builds: readonly BuildResult[]): string[] {
  const out: string[] = [];
  const mark = (ok: boolean): string => (ok ? 'MET' : 'NOT MET');
  const find = (impl: string, op: string, n: number): CaseResult | undefined => rs.find((r) => isHashResult(r) && r.impl === impl && r.op === op && r.n === n);
  for (const [impl, target] of [
    ['loadwise ConsistentHash', TARGET_RING_VS_HASHRING],
    ['loadwise ConsistentHash (ketama)', TARGET_KETAMA_VS_HASHRING],
  ] as const) {
    for (const n of HASH_SIZES) {
      const a = find(impl, 'pick', n);
      const h = find('hashring', 'pick', n);
      if (a === undefined || h === undefined) continue;
      const x = h.avg / a.avg;
      out.push(
        `${mark(x >= target)}: ${impl.slice(9)}.pick vs hashring at n=${n.toLocaleString('en-US')}: ${x.toFixed(1)}× faster ` +
          `(${a.avg.toFixed(1)} vs ${fmtNs(h.avg)} ns; medians ${(h.p50 / a.p50).toFixed(1)}×) (target ≥ ${target}×)`,
      );
    }
  }
  for (const n of HASH_SIZES) {
    const m = find('loadwise Maglev', 'pick', n);
    if (m === undefined) continue;
    out.push(`${mark(m.avg <= TARGET_MAGLEV_NS)}: Maglev.pick at n=${n.toLocaleString('en-US')} = ${m.avg.toFixed(1)} ns, median ${m.p50.toFixed(1)} ns, with a 20-byte key hashed (target ≤ ${TARGET_MAGLEV_NS} ns)`);
  }
  for (const n of HASH_SIZES) {
    const m = find('loadwise Maglev', 'pick', n);
    const h = find('reference: xxhash32 of the key only', 'pick', n);
    if (m === undefined || h === undefined) continue;
    out.push(
      `info: Maglev.pick − hashing the key alone (xxhash32String, same process) at n=${n.toLocaleString('en-US')} = ` +
        `${(m.avg - h.avg).toFixed(1)} ns (${m.avg.toFixed(1)} − ${h.avg.toFixed(1)}): the lookup's cost beyond the hash`,
    );
  }
  const mb = builds.find((b) => b.subject === 'Maglev' && b.n === MAGLEV_BUILD_N);
  if (mb?.firstPickMs !== undefined && mb.ctorMs !== undefined) {
    const total = mb.ctorMs + mb.firstPickMs;
    out.push(
      `${mark(total <= TARGET_MAGLEV_BUILD_MS)}: Maglev build at n=1,000, table 65,537 = ${total.toFixed(2)} ms ` +
        `(new ${mb.ctorMs.toFixed(2)} + first pick ${mb.firstPickMs.toFixed(2)} ms, medians of ${mb.reps}) (target ≤ ${TARGET_MAGLEV_BUILD_MS} ms)`,
    );
  }

  // Peers against the loadwise class that does the same job: any case the peer wins.
  const pairs: ReadonlyArray<readonly [string, string]> = [
    ['loadwise ConsistentHash', 'consistent-hash'],
    ['loadwise ConsistentHash', 'hashring'],
    ['loadwise ConsistentHash (ketama)', 'hashring'],
    ['loadwise JumpHash', '@subspace/jump-consistent-hash (string key → xxh32 ×2 → 8 bytes)'],
    ['loadwise JumpHash', '@subspace/jump-consistent-hash (8-byte keys prehashed)'],
  ];
  const wins: string[] = [];
  for (const [mine, theirs] of pairs) {
    for (const n of HASH_SIZES) {
      const a = find(mine, 'pick', n);
      const b = find(theirs, 'pick', n);
      if (a !== undefined && b !== undefined && b.avg < a.avg) {
        wins.push(`PEER FASTER: ${theirs} at n=${n.toLocaleString('en-US')}: ${fmtNs(b.avg)} ns vs ${mine.slice(9)} ${fmtNs(a.avg)} ns`);
      }
    }
  }
  const buildPairs: ReadonlyArray<readonly [string, string]> = [
    ['ConsistentHash', 'consistent-hash'],
    ['ConsistentHash', 'hashring'],
    ['ConsistentHash (ketama)', 'hashring'],
    ['ConsistentHash (hashring)', 'hashring'],
  ];
  const total = (b: BuildResult | undefined): number | undefined => (b?.ctorMs !== undefined && b.firstPickMs !== undefined ? b.ctorMs + b.firstPickMs : undefined);
  for (const [mine, theirs] of buildPairs) {
    for (const n of BUILD_SIZES) {
      const a = builds.find((b) => b.subject === mine && b.n === n);
      const b = builds.find((x) => x.subject === theirs && x.n === n);
      const ta = total(a);
      const tb = total(b);
      if (ta !== undefined && tb !== undefined && tb < ta) {
        wins.push(`PEER FASTER: ${theirs} build (new + first lookup) at n=${n.toLocaleString('en-US')}: ${fmtMs(tb)} ms vs ${mine} ${fmtMs(ta)} ms`);
      }
      for (const [field, what] of [
        ['removeMs', 'remove + lookup'],
        ['addMs', 'add + lookup'],
      ] as const) {
        const va = a?.[field];
        const vb = b?.[field];
        if (va !== undefined && vb !== undefined && vb < va) wins.push(`PEER FASTER: ${theirs} ${what} at n=${n.toLocaleString('en-US')}: ${fmtMs(vb)} ms vs ${mine} ${fmtMs(va)} ms`);
      }
    }
  }
  if (out.length > 0 || wins.length > 0) {
    const compared = rs.some((r) => isHashResult(r) && !r.loadwise) || builds.some((b) => !b.loadwise);
    if (compared && wins.length === 0) wins.push('no peer is faster than its loadwise counterpart in any measured case');
    out.unshift('(hash family, judged on the mean; build times on medians)');
    out.push(...wins);
  }
  return out;
}
