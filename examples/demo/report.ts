/**
 * The live demo's report: one row per algorithm (share of answers per backend, p50, p99, errors,
 * retries), the latency CDF as SVG with the simulator's own renderer (`renderCdfSvg` from
 * loadwise/sim), and what to notice, worked out from the numbers of this run.
 */
import { cdfPoints, renderCdfSvg, summarize, type AlgorithmResult } from '../../src/sim/index.js';
import type { DemoBackend } from './backends.js';
import type { TrafficResult } from './traffic.js';

export interface Run {
  readonly algorithm: string;
  readonly traffic: TrafficResult;
  /** The user key of each request. */
  readonly users: readonly string[];
  /** Backend counters for this run, by backend name. */
  readonly backends: readonly BackendFigures[];
  /** `loadwise_proxy_retries_total` over the measured traffic (from the proxy's /metrics). */
  readonly retries: number;
  /** `loadwise_upstream_open_leases` summed, after the traffic: 0 unless a lease leaked. */
  readonly openLeases: number;
}

export interface BackendFigures {
  readonly name: string;
  readonly serviceMs: number;
  readonly workers: number;
  readonly hits: number;
  readonly served: number;
  readonly failed: number;
  readonly cut: number;
  readonly maxInFlight: number;
  readonly busyMs: number;
  readonly waits: readonly number[];
}

export function backendFigures(b: DemoBackend): BackendFigures {
  const { name, serviceMs, workers } = b.spec;
  return { name, serviceMs, workers, hits: b.hits, served: b.served, failed: b.failed, cut: b.cut, maxInFlight: b.maxInFlight, busyMs: b.busyMs, waits: [...b.waits] };
}

export interface Row {
  readonly algorithm: string;
  /** Fraction of the 200 answers each backend gave, by name. */
  readonly share: ReadonlyMap<string, number>;
  readonly p50: number;
  readonly p99: number;
  /** Requests the client did not get a 200 for. */
  readonly errors: number;
  readonly retries: number;
  readonly rps: number;
  /** Fraction of each user's 200 answers that came from that user's most frequent backend, averaged over requests. */
  readonly affinity: number;
  /** 503s each backend answered, by name. */
  readonly failedBy: ReadonlyMap<string, number>;
  /** For the chart. */
  readonly result: AlgorithmResult;
}

export function toRow(run: Run): Row {
  const { latencyMs, status, backend, wallMs } = run.traffic;
  const n = latencyMs.length;
  const sorted = latencyMs.slice().sort();
  const latency = summarize(sorted);
  const ok = new Map<string, number>();
  let errors = 0;
  let proxyDown = 0;
  let unroutable = 0;
  let upstream5xx = 0;
  for (let i = 0; i < n; i++) {
    if (status[i] === 200) {
      ok.set(backend[i]!, (ok.get(backend[i]!) ?? 0) + 1);
      continue;
    }
    errors++;
    if (backend[i] !== '') upstream5xx++;
    else if (status[i] === 503) unroutable++;
    else proxyDown++;
  }
  const served = n - errors;
  const share = new Map(run.backends.map((b) => [b.name, served === 0 ? 0 : (ok.get(b.name) ?? 0) / served]));
  const waits = run.backends.flatMap((b) => b.waits).sort((x, y) => x - y);
  const waited = summarize(waits);
  const result: AlgorithmResult = {
    algorithm: run.algorithm,
    reference: false,
    issued: n,
    completed: served,
    errors,
    errorsBy: { failed: upstream5xx, rejected: 0, down: proxyDown, unroutable },
    latency,
    queueing: { mean: waited.mean, p99: waited.p99, max: waited.max },
    servers: run.backends.map((b) => ({
      id: b.name,
      share: share.get(b.name)!,
      requests: b.hits,
      completed: b.served,
      errors: b.failed + b.cut,
      maxInFlight: b.maxInFlight,
      backlogAtEnd: 0,
      utilisation: wallMs > 0 ? b.busyMs / (b.workers * wallMs) : 0,
    })),
    backlogAtEnd: 0,
    drainMs: 0, // a closed loop: the last response ends the run
    openLeasesAtEnd: run.openLeases,
    cdf: cdfPoints(sorted),
    events: 0, // measured, not simulated
  };
  return {
    algorithm: run.algorithm,
    share,
    p50: latency.p50,
    p99: latency.p99,
    errors,
    retries: run.retries,
    rps: wallMs > 0 ? (1000 * n) / wallMs : 0,
    affinity: affinity(run.traffic, run.users),
    failedBy: new Map(run.backends.map((b) => [b.name, b.failed])),
    result,
  };
}

function affinity(t: TrafficResult, users: readonly string[]): number {
  const byUser = new Map<string, Map<string, number>>();
  let total = 0;
  for (let i = 0; i < users.length; i++) {
    if (t.status[i] !== 200) continue;
    const m = byUser.get(users[i]!) ?? new Map<string, number>();
    m.set(t.backend[i]!, (m.get(t.backend[i]!) ?? 0) + 1);
    byUser.set(users[i]!, m);
    total++;
  }
  let kept = 0;
  for (const m of byUser.values()) kept += Math.max(...m.values());
  return total === 0 ? 0 : kept / total;
}

const pad = (s: string, w: number): string => s.padStart(w);
const fixed = (x: number, d: number, w: number): string => pad(x.toFixed(d), w);

/** The side-by-side table. */
export function formatTable(rows: readonly Row[], names: readonly string[]): string {
  const NAME = 22;
  const COL = 6;
  const shareWidth = names.length * COL;
  const lines = [
    `${''.padEnd(NAME)}${pad('share of 200s %', shareWidth)}   ${pad('latency ms', 15)}`,
    `${'algorithm'.padEnd(NAME)}${names.map((n) => pad(n, COL)).join('')}   ${pad('p50', 7)}${pad('p99', 8)}${pad('errors', 8)}${pad('retries', 9)}${pad('affinity %', 12)}${pad('req/s', 7)}`,
  ];
  for (const r of rows) {
    lines.push(
      r.algorithm.padEnd(NAME) +
        names.map((n) => fixed(100 * (r.share.get(n) ?? 0), 1, COL)).join('') +
        '   ' +
        fixed(r.p50, 1, 7) +
        fixed(r.p99, 1, 8) +
        pad(String(r.errors), 8) +
        pad(String(r.retries), 9) +
        fixed(100 * r.affinity, 0, 12) +
        fixed(r.rps, 0, 7),
    );
  }
  return lines.join('\n');
}

/** The latency CDF of every algorithm, one SVG document. */
export function chart(rows: readonly Row[], title: string): string {
  return renderCdfSvg(
    rows.map((r) => r.result),
    { title, yScale: 'linear' },
  );
}

/** "N requests under X and M under Y" (the most and the fewest), or "N requests under every algorithm". */
function range(rows: readonly Row[], f: (r: Row) => number): string {
  const sorted = [...rows].sort((x, y) => f(y) - f(x));
  const most = sorted[0]!;
  const fewest = sorted.at(-1)!;
  if (f(most) === f(fewest)) return `${f(most)} requests under ${rows.length === 2 ? 'both algorithms' : 'every algorithm'}`;
  return `${f(most)} requests under ${most.algorithm} and ${f(fewest)} under ${fewest.algorithm}`;
}

const ms = (x: number): string => `${x < 10 ? x.toFixed(1) : x.toFixed(0)} ms`;
const pct = (x: number): string => `${(100 * x).toFixed(0)} %`;

/**
 * One or two sentences on what this run shows; every claim is a comparison of its numbers, and a
 * claim the numbers do not support is left out.
 */
export function notes(rows: readonly Row[], slowest: string, failing: string, killed: string): string[] {
  const out: string[] = [];
  if (rows.length < 2) return out;
  const by = <K extends keyof Row>(key: K, sign: 1 | -1 = 1) =>
    [...rows].sort((x, y) => sign * ((x[key] as number) - (y[key] as number)));
  const bestP99 = by('p99')[0]!;
  const worstP99 = by('p99', -1)[0]!;
  const slowShare = (r: Row): number => r.share.get(slowest) ?? 0;
  const [leastSlow, mostSlow] = [[...rows].sort((x, y) => slowShare(x) - slowShare(y))[0]!, [...rows].sort((x, y) => slowShare(y) - slowShare(x))[0]!];
  if (worstP99.p99 > 1.2 * bestP99.p99) {
    out.push(
      `p99 ranged from ${ms(bestP99.p99)} (${bestP99.algorithm}) to ${ms(worstP99.p99)} (${worstP99.algorithm}); ` +
        `the slowest backend, ${slowest}, gave ${pct(slowShare(mostSlow))} of the answers under ${mostSlow.algorithm} ` +
        `and ${pct(slowShare(leastSlow))} under ${leastSlow.algorithm}.`,
    );
  } else {
    out.push(`p99 stayed between ${ms(bestP99.p99)} and ${ms(worstP99.p99)} for every algorithm: this run did not separate them on tail latency.`);
  }
  const fails = (r: Row): number => r.failedBy.get(failing) ?? 0;
  const errorsTotal = rows.reduce((sum, r) => sum + r.errors, 0);
  const mostErrors = by('errors', -1)[0]!;
  out.push(
    `Through the failures (${failing} answering 503, ${killed} down), ${failing} answered 503 to ${range(rows, fails)}; ` +
      `the proxy retried ${range(rows, (r) => r.retries)}` +
      (errorsTotal === 0
        ? ', and no client saw an error.'
        : `, and ${mostErrors.errors} clients got an error under ${mostErrors.algorithm} (both tries failed).`),
  );
  return out;
}
