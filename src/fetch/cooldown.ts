/**
 * Cooldowns: a target that answers 429 or 503 with `Retry-After` is left out of rotation for
 * that long (capped), the way gateways in front of rate-limited APIs must behave. Kept by the
 * proxy and applied through `exclude`, so the balancer's own health state is not touched.
 */
import type { Clock } from '../core/clock.js';

/** RFC 9110's asctime-date: `Sun Nov  6 08:49:37 1994`. */
const ASCTIME = /^[A-Za-z]{3} [A-Za-z]{3} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} [0-9]{4}$/;

/**
 * Reads a `Retry-After` value (RFC 9110 §10.2.3): delay-seconds or an HTTP-date; `undefined`
 * when absent or unreadable. Returns milliseconds, never negative.
 *
 * @example
 * ```ts
 * retryAfterMs('120', Date.now()); // 120000
 * ```
 */
export function retryAfterMs(value: string | null, wallNow: number): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^[0-9]{1,10}$/.test(text)) return Number(text) * 1000;
  // An asctime-date has no zone but means GMT (RFC 9110 §5.6.7); `Date.parse` would read it as local time.
  const at = Date.parse(ASCTIME.test(text) ? `${text} GMT` : text);
  if (!Number.isFinite(at) || !/[a-z]/i.test(text)) return undefined;
  return Math.max(0, at - wallNow);
}

/** The targets cooling down, by id, until a time on the proxy's clock. */
export class Cooldowns {
  private readonly until = new Map<string, number>();

  constructor(
    private readonly now: Clock,
    private readonly maxMs: number,
  ) {}

  /** Leaves `id` out for `ms` (capped at `maxMs`); a longer cooldown already running stays. */
  add(id: string, ms: number): number {
    const span = Math.min(ms, this.maxMs);
    const end = this.now() + span;
    if ((this.until.get(id) ?? -Infinity) < end) this.until.set(id, end);
    return span;
  }

  /** The ids still cooling (forgetting those that are done), or `undefined` when none is. */
  active(): string[] | undefined {
    if (this.until.size === 0) return undefined;
    const now = this.now();
    let ids: string[] | undefined;
    for (const [id, end] of this.until) {
      if (end <= now) this.until.delete(id);
      else (ids ??= []).push(id);
    }
    return ids;
  }

  /** Whole seconds until the first cooldown ends (at least 1), for a 503's `Retry-After`. */
  soonestS(): number | undefined {
    if (this.until.size === 0) return undefined;
    const now = this.now();
    let soonest = Infinity;
    for (const end of this.until.values()) if (end > now && end < soonest) soonest = end;
    return soonest === Infinity ? undefined : Math.max(1, Math.ceil((soonest - now) / 1000));
  }
}
