import { log10 } from './math.js';
import type { AlgorithmResult, ScenarioResult } from './types.js';

/**
 * Options of {@link renderCdfSvg}.
 *
 * @example
 * ```ts
 * renderCdfSvg(result, { yScale: 'nines', title: 'p99 matters' });
 * ```
 */
export interface SvgOptions {
  /** Default the scenario's name and description. */
  readonly title?: string | undefined;
  /** Width of the whole image in px, default 880. */
  readonly width?: number | undefined;
  /** Height of the whole image in px, default 440. */
  readonly height?: number | undefined;
  /**
   * `'linear'` (default): cumulative probability from 0 to 100 %. `'nines'`: the tail, with
   * 90 %, 99 %, 99.9 %, 99.99 % equally spaced.
   */
  readonly yScale?: 'linear' | 'nines' | undefined;
}

/** Okabe–Ito colours (distinguishable with colour-blindness); the reference line is black. */
const COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#882255', '#117733'];
const DASHES = ['', '6 3', '2 3'];

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** 10^d, exact for d >= 0 and correctly rounded for d < 0 (unlike `**` on some engines). */
function decade(d: number): number {
  let v = 1;
  for (let i = 0; i < Math.abs(d); i++) v *= 10;
  return d < 0 ? 1 / v : v;
}

function n1(x: number): string {
  const s = x.toFixed(1);
  return s === '-0.0' ? '0.0' : s;
}

function msLabel(x: number): string {
  if (x >= 1000) return `${+(x / 1000).toPrecision(3)} s`;
  return `${+x.toPrecision(3)} ms`;
}

/**
 * Draws the latency CDF of each algorithm as a standalone SVG document (a string; no
 * dependencies, deterministic): latency on a log-scale x axis, cumulative probability on the y
 * axis, one line per algorithm, the reference oracle dashed in black, p99 in the legend.
 *
 * @example
 * ```ts
 * import { renderCdfSvg, runScenario, scenarios } from 'loadwise/sim';
 * const svg = renderCdfSvg(runScenario(scenarios['slow-server']));
 * // write `svg` to a file with your runtime's file API, or serve it as image/svg+xml
 * ```
 */
export function renderCdfSvg(result: ScenarioResult | readonly AlgorithmResult[], options: SvgOptions = {}): string {
  const results: readonly AlgorithmResult[] = Array.isArray(result) ? result : (result as ScenarioResult).results;
  const title =
    options.title ??
    (Array.isArray(result)
      ? 'Latency CDF'
      : `${(result as ScenarioResult).scenario}${(result as ScenarioResult).description === '' ? '' : `: ${(result as ScenarioResult).description}`}`);
  const nines = options.yScale === 'nines';
  const width = options.width ?? 880;
  const height = options.height ?? 440;
  const legendWidth = 230;
  const left = 64;
  const right = width - legendWidth;
  const top = 44;
  const bottom = height - 48;
  const maxNines = 4;

  // x range: whole decades around the plotted latencies from p1 up (lower ones sit on the axis).
  let lo = Number.POSITIVE_INFINITY;
  let hi = 0;
  for (const r of results) {
    for (const [p, x] of r.cdf) {
      if (nines && p >= 1) continue;
      if (x > 0 && x < lo && p >= 0.01) lo = x;
      if (x > hi) hi = x;
    }
  }
  if (!(hi > 0)) {
    lo = 1;
    hi = 10;
  }
  if (!(lo < Number.POSITIVE_INFINITY)) lo = hi / 10;
  let d0 = Math.floor(log10(lo) + 1e-9);
  let d1 = Math.ceil(log10(hi) - 1e-9);
  if (d1 <= d0) d1 = d0 + 1;
  if (d1 - d0 > 8) d0 = d1 - 8;
  const xOf = (ms: number): number => {
    const v = ms > 0 ? log10(ms) : d0;
    const c = v < d0 ? d0 : v > d1 ? d1 : v;
    return left + ((c - d0) / (d1 - d0)) * (right - left);
  };
  const yOf = (p: number): number => {
    const v = nines ? Math.min(maxNines, p >= 1 ? maxNines : -log10(1 - p)) : p;
    return bottom - (v / (nines ? maxNines : 1)) * (bottom - top);
  };

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="12">',
  );
  out.push(`<title>${escapeXml(title)}</title>`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${left}" y="24" font-size="14" font-weight="600">${escapeXml(title)}</text>`);

  // Grid and axes.
  const grid: string[] = [];
  const labels: string[] = [];
  for (let d = d0; d <= d1; d++) {
    const base = decade(d);
    for (const m of [1, 2, 5]) {
      const v = m * base;
      if (d === d1 && m > 1) break;
      const x = n1(xOf(v));
      grid.push(`<line x1="${x}" y1="${top}" x2="${x}" y2="${bottom}" stroke="${m === 1 ? '#d0d0d0' : '#eeeeee'}"/>`);
      if (m === 1 || d1 - d0 <= 3) {
        labels.push(`<text x="${x}" y="${bottom + 16}" text-anchor="middle" fill="#333">${escapeXml(msLabel(v))}</text>`);
      }
    }
  }
  const yTicks: [number, string][] = nines
    ? [
        [0, '0 %'],
        [0.9, '90 %'],
        [0.99, '99 %'],
        [0.999, '99.9 %'],
        [0.9999, '99.99 %'],
      ]
    : [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1].map((p) => [p, `${Math.round(p * 100)} %`]);
  for (const [p, label] of yTicks) {
    const y = n1(yOf(p));
    grid.push(`<line x1="${left}" y1="${y}" x2="${right}" y2="${y}" stroke="#e4e4e4"/>`);
    labels.push(`<text x="${left - 6}" y="${y}" dy="4" text-anchor="end" fill="#333">${label}</text>`);
  }
  out.push(`<g>${grid.join('')}</g>`);
  out.push(`<rect x="${left}" y="${top}" width="${right - left}" height="${bottom - top}" fill="none" stroke="#888"/>`);
  out.push(`<g>${labels.join('')}</g>`);
  out.push(`<text x="${n1((left + right) / 2)}" y="${height - 12}" text-anchor="middle" fill="#333">latency (log scale)</text>`);
  out.push(
    `<text x="16" y="${n1((top + bottom) / 2)}" text-anchor="middle" fill="#333" transform="rotate(-90 16 ${n1((top + bottom) / 2)})">` +
      `${nines ? 'cumulative probability (tail)' : 'cumulative probability'}</text>`,
  );

  // One line per algorithm; legend on the right.
  let colour = 0;
  results.forEach((r, i) => {
    const stroke = r.reference ? '#000000' : COLOURS[colour % COLOURS.length]!;
    const dash = r.reference ? '5 4' : DASHES[Math.floor(colour / COLOURS.length) % DASHES.length]!;
    if (!r.reference) colour++;
    const points = r.cdf
      .filter(([p]) => !(nines && p >= 1))
      .map(([p, x]) => `${n1(xOf(x))},${n1(yOf(p))}`)
      .join(' ');
    const dashAttr = dash === '' ? '' : ` stroke-dasharray="${dash}"`;
    out.push(
      `<polyline fill="none" stroke="${stroke}" stroke-width="2"${dashAttr} points="${points}">` +
        `<title>${escapeXml(r.algorithm)}</title></polyline>`,
    );
    const ly = top + 10 + i * 34;
    const lx = right + 16;
    out.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 24}" y2="${ly}" stroke="${stroke}" stroke-width="2"${dashAttr}/>`);
    out.push(`<text x="${lx + 30}" y="${ly}" dy="4">${escapeXml(r.algorithm)}</text>`);
    out.push(`<text x="${lx + 30}" y="${ly + 15}" dy="4" fill="#555" font-size="11">p99 ${escapeXml(msLabel(r.latency.p99))}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
