/**
 * A tiny closed-loop driver for latency-aware balancer tests (the real simulator lives in
 * src/sim; this one only needs a fake clock): `clients` callers each acquire a lease, hold it for
 * the target's latency at that moment, release it, and acquire again at once. Completions are
 * processed in time order (ties by client number), so a run is fully deterministic.
 */
import type { Balancer, Lease, Target } from '../../src/index.js';

/** A clock the test moves by hand. */
export interface FakeClock {
  readonly now: () => number;
  set(t: number): void;
  advance(ms: number): number;
}

export function fakeClock(start = 0): FakeClock {
  let t = start;
  return {
    now: () => t,
    set: (v: number) => {
      t = v;
    },
    advance: (ms: number) => (t += ms),
  };
}

export interface Pick {
  readonly at: number;
  readonly id: string;
}

export interface DriveOptions<T extends Target> {
  readonly lb: Balancer<T>;
  readonly clock: FakeClock;
  /** Concurrent callers (closed loop). */
  readonly clients: number;
  /** Run until the clock reaches this time. */
  readonly until: number;
  /** The latency of a request sent to `id` at time `at`, in ms. */
  readonly latency: (id: string, at: number) => number;
  /** `'measured'`: release with no latency (the balancer's clock measures it); `'reported'`: pass `latencyMs`. */
  readonly report?: 'measured' | 'reported';
}

const idOf = (t: Target): string => (typeof t === 'string' ? t : t.id);

/** Runs the closed loop; returns every pick in order. */
export function drive<T extends Target>(o: DriveOptions<T>): Pick[] {
  const picks: Pick[] = [];
  const done = new Float64Array(o.clients);
  const started = new Float64Array(o.clients);
  const leases: Lease<T>[] = [];
  const start = (c: number): void => {
    const at = o.clock.now();
    const lease = o.lb.acquire();
    const id = idOf(lease.target);
    picks.push({ at, id });
    leases[c] = lease;
    started[c] = at;
    done[c] = at + o.latency(id, at);
  };
  for (let c = 0; c < o.clients; c++) start(c);
  for (;;) {
    let c = 0;
    for (let k = 1; k < o.clients; k++) if (done[k]! < done[c]!) c = k;
    const at = done[c]!;
    if (at >= o.until) break;
    o.clock.set(at);
    if (o.report === 'reported') leases[c]!.release({ ok: true, latencyMs: at - started[c]! });
    else leases[c]!.release('success');
    start(c);
  }
  for (const l of leases) l.release('success');
  return picks;
}

/** The share of picks of `id` among the picks made in [from, to). */
export function shareOf(picks: readonly Pick[], id: string, from: number, to: number): number {
  let all = 0;
  let mine = 0;
  for (const p of picks) {
    if (p.at < from || p.at >= to) continue;
    all++;
    if (p.id === id) mine++;
  }
  return all === 0 ? Number.NaN : mine / all;
}
