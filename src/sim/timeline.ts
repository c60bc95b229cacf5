import type { Reaction, Timeline, Watch } from './types.js';

/**
 * A server's share of the requests routed in the window of `windowBuckets` buckets starting at
 * bucket `b`; NaN when nothing was routed then.
 */
function windowShare(timeline: Timeline, server: number, b: number, windowBuckets: number): number {
  let mine = 0;
  let all = 0;
  for (let j = b; j < b + windowBuckets && j < timeline.counts.length; j++) {
    const row = timeline.counts[j]!;
    mine += row[server]!;
    for (let s = 0; s < row.length; s++) all += row[s]!;
  }
  return all > 0 ? mine / all : Number.NaN;
}

/**
 * A server's share of the routed requests over sliding windows: `[startMs, share]` for windows
 * of `windowMs` that start on bucket boundaries in `[fromMs, toMs - windowMs]`.
 *
 * @example
 * ```ts
 * import { shareSeries } from 'loadwise/sim';
 * const series = shareSeries(result.timeline!, 0, 0, 60_000, 1_000);
 * ```
 */
export function shareSeries(timeline: Timeline, server: number, fromMs: number, toMs: number, windowMs: number): [number, number][] {
  const bucket = timeline.bucketMs;
  const k = Math.max(1, Math.round(windowMs / bucket));
  const out: [number, number][] = [];
  for (let b = Math.ceil(fromMs / bucket); (b + k) * bucket <= toMs + 1e-9 && b + k <= timeline.counts.length; b++) {
    out.push([b * bucket, windowShare(timeline, server, b, k)]);
  }
  return out;
}

/**
 * How an algorithm reacted to the watched server's slowdown and recovery (see {@link Reaction}):
 * shares are taken over sliding windows (`cutWindowMs`, default 100 ms, and `fairWindowMs`,
 * default 1000 ms, rounded to whole buckets). Cut: share below 1/(2n); fair: share at or above
 * 0.8/n. Times run from the event to the end of the window that met the condition.
 *
 * @example
 * ```ts
 * import { measureReaction, simulate, scenarios } from 'loadwise/sim';
 * const s = scenarios.slowdown;
 * const r = simulate(s, s.algorithms[0]!);
 * measureReaction(r.timeline!, s.watch!, s.durationMs).cutMs;
 * ```
 */
export function measureReaction(timeline: Timeline, watch: Watch, durationMs: number): Reaction {
  const bucket = timeline.bucketMs;
  const n = timeline.counts.length > 0 ? timeline.counts[0]!.length : 1;
  const cutThreshold = 1 / (2 * n);
  const fairThreshold = 0.8 / n;
  const cutWindow = Math.max(1, Math.round((watch.cutWindowMs ?? 100) / bucket)) * bucket;
  const fairWindow = Math.max(1, Math.round((watch.fairWindowMs ?? 1000) / bucket)) * bucket;
  const slow = shareSeries(timeline, watch.server, watch.slowAtMs, watch.recoverAtMs, cutWindow);
  const after = shareSeries(timeline, watch.server, watch.recoverAtMs, durationMs, fairWindow);
  const first = (series: [number, number][], ok: (share: number) => boolean, from: number, w: number): number | null => {
    for (const [t, share] of series) if (ok(share)) return t + w - from;
    return null;
  };
  const sustained = (series: [number, number][], ok: (share: number) => boolean, from: number, w: number): number | null => {
    let found: number | null = null;
    for (let i = series.length - 1; i >= 0; i--) {
      if (!ok(series[i]![1])) break;
      found = series[i]![0] + w - from;
    }
    return found;
  };
  const below = (share: number): boolean => share < cutThreshold;
  const fair = (share: number): boolean => share >= fairThreshold;
  let mine = 0;
  let all = 0;
  for (let b = Math.ceil(watch.slowAtMs / bucket); b * bucket < watch.recoverAtMs && b < timeline.counts.length; b++) {
    const row = timeline.counts[b]!;
    mine += row[watch.server]!;
    for (const c of row) all += c;
  }
  return {
    server: watch.server,
    cutWindowMs: cutWindow,
    fairWindowMs: fairWindow,
    cutThreshold,
    cutMs: first(slow, below, watch.slowAtMs, cutWindow),
    cutSustainedMs: sustained(slow, below, watch.slowAtMs, cutWindow),
    fairThreshold,
    fairMs: first(after, fair, watch.recoverAtMs, fairWindow),
    fairSustainedMs: sustained(after, fair, watch.recoverAtMs, fairWindow),
    slowShare: all > 0 ? mine / all : 0,
  };
}
