import { describe, expect, it } from 'vitest';
import { RoundRobin } from '../../src/index.js';
import {
  cluster,
  exponential,
  formatTable,
  jsqOracle,
  measureReaction,
  quantile,
  renderCdfSvg,
  runScenario,
  scenarios,
  shareSeries,
  summarize,
  type ScenarioDefinition,
  type Timeline,
} from '../../src/sim/index.js';

const small: ScenarioDefinition = {
  name: 'small',
  description: 'four servers, one slow',
  servers: cluster(4, { workers: 2, service: exponential(10) }, { 3: { speed: 0.5 } }),
  arrivals: { type: 'poisson', rps: 500 },
  durationMs: 2_000,
  warmupMs: 200,
  algorithms: [{ name: 'RoundRobin <&>', create: (t, o) => new RoundRobin(t, o) }, jsqOracle],
};

describe('sim/report: table', () => {
  const result = runScenario(small);
  const table = formatTable(result);

  it('has a row per algorithm with the latency columns, and the per-server table', () => {
    expect(table).toContain('small: four servers, one slow');
    expect(table).toMatch(/algorithm\s+completed\s+errors\s+mean\s+p50\s+p90\s+p99\s+p99\.9/);
    expect(table).toContain('RoundRobin <&>');
    expect(table).toContain('JSQ oracle *');
    expect(table).toContain('Share of requests per server');
    for (const id of ['s01', 's02', 's03', 's04']) expect(table).toContain(id);
    expect(formatTable(result, { servers: false })).not.toContain('Share of requests per server');
  });

  it('prints the reaction table for a watched slowdown', () => {
    const servers = cluster(20, { workers: 4, service: exponential(10) }, { 0: { speedSchedule: [{ atMs: 1_000, speed: 0.1 }, { atMs: 2_000, speed: 1 }] } });
    const watched = runScenario({
      ...scenarios.slowdown,
      servers,
      durationMs: 3_000,
      warmupMs: 0,
      watch: { server: 0, slowAtMs: 1_000, recoverAtMs: 2_000 },
      algorithms: [jsqOracle],
    });
    const text = formatTable(watched);
    expect(text).toContain('Reaction of s01');
    expect(watched.results[0]!.reaction!.cutMs).not.toBeNull();
  });
});

describe('sim/report: SVG', () => {
  const result = runScenario(small);
  it('is a standalone SVG document with one line per algorithm, escaped names, no NaN', () => {
    for (const yScale of ['linear', 'nines'] as const) {
      const svg = renderCdfSvg(result, { yScale });
      expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
      expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
      expect(svg.match(/<polyline /g)).toHaveLength(2);
      expect(svg).toContain('RoundRobin &lt;&amp;&gt;');
      expect(svg).not.toMatch(/NaN|Infinity|undefined/);
      expect(svg).toContain('stroke-dasharray="5 4"'); // the oracle, dashed
    }
  });
});

describe('sim/report: statistics and timelines', () => {
  it('nearest-rank quantiles', () => {
    const xs = Float64Array.from({ length: 1000 }, (_, i) => i + 1);
    expect(quantile(xs, 0.5)).toBe(500);
    expect(quantile(xs, 0.99)).toBe(990);
    expect(quantile(xs, 0.999)).toBe(999);
    expect(quantile(xs, 1)).toBe(1000);
    expect(quantile(new Float64Array(0), 0.5)).toBe(0);
    expect(summarize(xs)).toEqual({ count: 1000, mean: 500.5, p50: 500, p90: 900, p99: 990, p999: 999, max: 1000 });
  });

  it('measures a cut and a return to fair share on a synthetic timeline', () => {
    // 4 servers, 100 ms buckets; server 0 gets 25 % until 1 s, 5 % from 1.2 s to 3 s, 25 % again from 3.5 s.
    const counts: number[][] = [];
    for (let b = 0; b < 60; b++) {
      const t = b * 100;
      const mine = t < 1000 ? 25 : t < 1200 ? 15 : t < 3000 ? 5 : t < 3500 ? 10 : 25;
      counts.push([mine, (100 - mine) / 3, (100 - mine) / 3, (100 - mine) / 3]);
    }
    const timeline: Timeline = { bucketMs: 100, counts };
    const r = measureReaction(timeline, { server: 0, slowAtMs: 1000, recoverAtMs: 3000 }, 6000);
    expect(r.cutThreshold).toBe(0.125);
    expect(r.fairThreshold).toBe(0.2);
    expect(r.cutMs).toBe(300); // the window [1.2 s, 1.3 s) is the first below 12.5 %
    expect(r.cutSustainedMs).toBe(300);
    // The 1 s window [3.2 s, 4.2 s) is the first at 20 % or more: (3 × 10 + 7 × 25) / 1000.
    expect(r.fairMs).toBe(1200);
    expect(r.fairSustainedMs).toBe(1200);
    expect(r.slowShare).toBeCloseTo((2 * 15 + 18 * 5) / 2000, 12);
    expect(shareSeries(timeline, 0, 0, 1000, 500)).toEqual([
      [0, 0.25],
      [100, 0.25],
      [200, 0.25],
      [300, 0.25],
      [400, 0.25],
      [500, 0.25],
    ]);
  });
});
