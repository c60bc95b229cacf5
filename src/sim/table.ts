import type { AlgorithmResult, ScenarioResult } from './types.js';

/**
 * Options of {@link formatTable}.
 *
 * @example
 * ```ts
 * formatTable(result, { servers: false }); // the summary only
 * ```
 */
export interface TableOptions {
  /** Add the per-server table (share of requests and max in flight). Default true. */
  readonly servers?: boolean | undefined;
}

/** A duration in ms with three significant-ish figures: 0.52, 12.3, 1234. */
function ms(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  return a < 10 ? x.toFixed(2) : a < 1000 ? x.toFixed(1) : x.toFixed(0);
}

function pct(x: number, digits = 1): string {
  return (100 * x).toFixed(digits);
}

function seconds(msValue: number): string {
  return `${(msValue / 1000).toFixed(msValue % 1000 === 0 ? 0 : 1)} s`;
}

function render(header: readonly string[], rows: readonly (readonly string[])[], leftColumns = 1): string[] {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, c) => (c < leftColumns ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

function summaryRow(r: AlgorithmResult, affinity: boolean): string[] {
  let maxShare = 0;
  let maxInFlight = 0;
  for (const s of r.servers) {
    if (s.share > maxShare) maxShare = s.share;
    if (s.maxInFlight > maxInFlight) maxInFlight = s.maxInFlight;
  }
  return [
    r.reference ? `${r.algorithm} *` : r.algorithm,
    String(r.completed),
    String(r.errors),
    ms(r.latency.mean),
    ms(r.latency.p50),
    ms(r.latency.p90),
    ms(r.latency.p99),
    ms(r.latency.p999),
    ms(r.queueing.mean),
    pct(maxShare, 2),
    String(maxInFlight),
    String(r.backlogAtEnd),
    ...(affinity ? [r.affinity === undefined ? '-' : pct(r.affinity)] : []),
  ];
}

function msOrNever(x: number | null): string {
  return x === null ? 'never' : ms(x);
}

/**
 * Formats a scenario's results as a plain-text table (deterministic, monospace): one row per
 * algorithm with completed and errored requests, mean/p50/p90/p99/p99.9 latency, mean queueing
 * time, the largest share any server got, the largest in-flight count and the backlog when
 * arrivals stopped; then each server's share and max in flight per algorithm, the reaction to
 * a watched slowdown, and the scenario's notes.
 *
 * @example
 * ```ts
 * import { formatTable, runScenario, scenarios } from 'loadwise/sim';
 * console.log(formatTable(runScenario(scenarios.homogeneous)));
 * ```
 */
export function formatTable(result: ScenarioResult, options: TableOptions = {}): string {
  const out: string[] = [];
  out.push(result.description === '' ? result.scenario : `${result.scenario}: ${result.description}`);
  const load = result.utilisation === null ? 'closed-loop clients' : `offered load ${pct(result.utilisation)} % of capacity`;
  out.push(
    `seed ${result.seed}, ${result.servers} servers, ${result.proxies} ${result.proxies === 1 ? 'proxy' : 'proxies'}, ` +
      `${seconds(result.durationMs)} of arrivals (first ${seconds(result.warmupMs)} not counted), ${load}`,
  );
  out.push('');
  const affinity = result.results.some((r) => r.affinity !== undefined);
  const header = ['algorithm', 'completed', 'errors', 'mean', 'p50', 'p90', 'p99', 'p99.9', 'queued', 'max share %', 'max in flight', 'backlog'];
  if (affinity) header.push('affinity %');
  out.push(...render(header, result.results.map((r) => summaryRow(r, affinity))));
  out.push('');
  out.push('Latency and queueing time in ms of simulated time; backlog: requests in the system when arrivals stopped.');
  if (affinity) out.push("Affinity: share of requests sent to their key's usual server.");
  if (result.results.some((r) => r.reference)) out.push('* reference line: an oracle with global knowledge, not a real balancer.');

  if (result.results.some((r) => r.reaction !== undefined)) {
    const rows = result.results
      .filter((r) => r.reaction !== undefined)
      .map((r) => {
        const x = r.reaction!;
        return [r.algorithm, pct(x.slowShare, 2), msOrNever(x.cutMs), msOrNever(x.cutSustainedMs), msOrNever(x.fairMs), msOrNever(x.fairSustainedMs)];
      });
    const x = result.results.find((r) => r.reaction !== undefined)!.reaction!;
    const id = result.results[0]!.servers[x.server]!.id;
    out.push('');
    out.push(
      `Reaction of ${id}: ms from the slowdown until its share of a ${x.cutWindowMs} ms window is below ` +
        `1/(2n) = ${pct(x.cutThreshold, 2)} %, and from the recovery until its share of a ${x.fairWindowMs} ms window ` +
        `is back to >= ${pct(x.fairThreshold, 2)} % (first window; sustained: in every window after).`,
    );
    out.push(...render(['algorithm', 'share while slow %', 'cut', 'cut sustained', 'fair again', 'fair sustained'], rows));
  }

  if (options.servers !== false && result.results.length > 0) {
    out.push('');
    out.push('Share of requests per server in % (max in flight):');
    const first = result.results[0]!;
    const rows = first.servers.map((s, i) => [
      s.id,
      ...result.results.map((r) => `${pct(r.servers[i]!.share, 2)} (${r.servers[i]!.maxInFlight})`),
    ]);
    out.push(...render(['server', ...result.results.map((r) => r.algorithm)], rows));
  }
  if (result.notes.length > 0) {
    out.push('');
    for (const note of result.notes) out.push(`- ${note}`);
  }
  return `${out.join('\n')}\n`;
}
