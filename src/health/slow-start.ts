import { InvalidOptionError } from '../core/errors.js';
import { checkOptionNames, numberOption } from '../core/options.js';

/**
 * Slow start (Envoy's `slow_start_config`): a target that joins after the balancer was built, or
 * comes back into rotation (after `markDown`, passive failures, an outlier ejection or a failed
 * health check), ramps its weight up over `windowMs` instead of taking its full share at once.
 *
 * While ramping, its effective weight is
 * `weight × max(minWeightPercent / 100, (t / windowMs) ^ (1 / aggression))`, with `t` the time
 * since it joined or returned. Envoy's formula, except that `t` is in milliseconds with no
 * one-second floor (Envoy uses `max(seconds, 1)`), so at `t = 0` the weight is exactly
 * `minWeightPercent` % of the configured one.
 *
 * Honoured by the balancers that route on weights: `WeightedRoundRobin`, `WeightedRandom`,
 * `LeastConnections` (leases per unit of weight) and `PowerOfTwoChoices` (candidate draws and
 * the load ratio). `RoundRobin` and `Random` ignore weights, and the hash family keeps the
 * configured weights because changing a weight would move keys between targets; on those the
 * option is accepted and has no effect.
 *
 * Effective weights are refreshed lazily, on a pick, at most every `windowMs / 20` while some
 * target ramps (a refresh recomputes them from the exact time and rebuilds the selector tables,
 * O(n)); between refreshes a ramping target keeps the weight of the last refresh, so the ramp is
 * a staircase of about 20 steps. No timer is involved.
 *
 * @example
 * ```ts
 * new WeightedRoundRobin(targets, { slowStart: { windowMs: 60_000 } });
 * // aggression 2: (t / window)^(1/2) ramps up faster at first; never below 25 % of the weight
 * new LeastConnections(targets, { slowStart: { windowMs: 30_000, aggression: 2, minWeightPercent: 25 } });
 * ```
 */
export interface SlowStartOptions {
  /** Length of the ramp in ms, > 0 (Envoy `slow_start_window`). */
  readonly windowMs: number;
  /** Ramp curve exponent's inverse, > 0; 1 is linear, larger ramps faster early (Envoy `aggression`). Default 1. */
  readonly aggression?: number | undefined;
  /** Floor of the ramp in percent of the weight, > 0 and ≤ 100 (Envoy `min_weight_percent`). Default 10. */
  readonly minWeightPercent?: number | undefined;
}

/** Validated slow-start settings. */
export interface SlowStartPolicy {
  readonly windowMs: number;
  /** `1 / aggression`. */
  readonly exponent: number;
  /** `minWeightPercent / 100`. */
  readonly minFactor: number;
  /** Least time between two refreshes of the effective weights. */
  readonly refreshMs: number;
}

/** Refreshes per window while a target ramps (see {@link SlowStartOptions}). */
export const SLOW_START_STEPS = 20;

export function slowStartPolicy(value: unknown): SlowStartPolicy | null {
  if (value === undefined || value === false) return null;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionError('slowStart', value, '{ windowMs, aggression?, minWeightPercent? }');
  }
  checkOptionNames(value, ['windowMs', 'aggression', 'minWeightPercent'], 'slowStart');
  const v = value as SlowStartOptions;
  const windowMs = positive('slowStart.windowMs', v.windowMs, Number.NaN);
  const aggression = positive('slowStart.aggression', v.aggression, 1);
  const minWeightPercent = numberOption('slowStart.minWeightPercent', v.minWeightPercent, 10, 0, 100);
  if (minWeightPercent === 0) throw new InvalidOptionError('slowStart.minWeightPercent', 0, 'a number > 0 and <= 100');
  return { windowMs, exponent: 1 / aggression, minFactor: minWeightPercent / 100, refreshMs: windowMs / SLOW_START_STEPS };
}

/** A required (when `fallback` is NaN) or optional finite number > 0. */
function positive(name: string, value: unknown, fallback: number): number {
  if (value === undefined && fallback === fallback) return fallback;
  if (typeof value !== 'number' || !(value > 0) || value === Number.POSITIVE_INFINITY) {
    throw new InvalidOptionError(name, value, 'a finite number > 0');
  }
  return value;
}

/**
 * The share of its weight a target has `elapsed` ms into its ramp:
 * `max(minFactor, (elapsed / windowMs) ^ (1 / aggression))`, and 1 once the window is over.
 */
export function rampFactor(elapsed: number, policy: SlowStartPolicy): number {
  if (elapsed >= policy.windowMs) return 1;
  const t = elapsed > 0 ? elapsed / policy.windowMs : 0;
  const f = policy.exponent === 1 ? t : t ** policy.exponent;
  return f > policy.minFactor ? f : policy.minFactor;
}
