/**
 * A health transition, reported to the `onEvent` option.
 *
 * - `down` / `up`: out of / back in rotation, by `markDown`/`markUp` (`reason: 'manual'`),
 *   passive failure counting (`'passive'`) or `reportHealth` (`'health-check'`);
 * - `eject` / `return`: outlier detection;
 * - `panic` / `calm`: fewer than `panicThreshold` % of the targets are healthy, so the balancer
 *   routes to all of them regardless of health (Envoy's panic mode), and back.
 *
 * @example
 * ```ts
 * new RoundRobin(targets, {
 *   passive: { maxFails: 3, failTimeoutMs: 10_000 },
 *   onEvent: (e) => console.log(`${e.type} ${e.id ?? ''} (${e.reason})`),
 * });
 * ```
 */
export interface BalancerEvent {
  readonly type: 'down' | 'up' | 'eject' | 'return' | 'panic' | 'calm';
  /** The target's id; absent for `panic` and `calm`, which concern the whole balancer. */
  readonly id?: string;
  readonly reason: 'manual' | 'passive' | 'health-check' | 'outlier' | 'threshold';
  /** The balancer clock's time of the transition, in ms. */
  readonly at: number;
}

/** A listener for {@link BalancerEvent}s. */
export type EventListener = (event: BalancerEvent) => void;

/**
 * Calls the listener and swallows what it throws: a broken logging hook must never break
 * routing, and rethrowing later would crash a Node process on an unhandled exception.
 */
export function emit(listener: EventListener | undefined, event: BalancerEvent): void {
  if (listener === undefined) return;
  try {
    listener(event);
  } catch {
    // deliberately ignored, see above
  }
}
