import { InvalidOptionError } from '../core/errors.js';
import type { BalancerOptions } from '../types.js';

/**
 * Options shared by the hash balancers that support bounded loads.
 *
 * @example
 * ```ts
 * new Maglev(targets, { loadFactor: 1.25 }); // no target above 125 % of the mean open leases
 * ```
 */
export interface HashBalancerOptions extends BalancerOptions {
  /**
   * Consistent hashing with bounded loads: with `acquire`/`release`, no target holds more than
   * `ceil(loadFactor × (open leases + 1) × weight / total weight)` leases; a key whose target is
   * full walks on to its next candidate. `pick(key)` applies the same bound (it returns what
   * `acquire(key)` would), so with no lease open it is the plain hash choice. Must be > 1; omit
   * to disable.
   */
  readonly loadFactor?: number | undefined;
}

/** Validates `loadFactor`: a finite number > 1, or undefined (0 = disabled). */
export function loadFactorOption(value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isFinite(value) || !(value > 1)) {
    throw new InvalidOptionError('loadFactor', value, 'a finite number > 1');
  }
  return value;
}
