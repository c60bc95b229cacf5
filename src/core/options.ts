import { InvalidOptionError } from './errors.js';
import { MAX_TIMER_MS, systemTimers, type HealthTimers } from './runtime.js';

/** Option names every balancer accepts. */
export const COMMON_OPTIONS = ['seed', 'random', 'now', 'passive', 'outlier', 'slowStart', 'panicThreshold', 'onEvent'] as const;

/**
 * Rejects options that are not an object, and option names that are not in `known` (usually a
 * typo that would otherwise be silently ignored). A name whose value is `undefined` counts as
 * absent, as every option does, so it is never rejected. With a `prefix` (a nested option group
 * such as `outlier`), errors name the option as `prefix.name`.
 */
export function checkOptionNames(options: unknown, known: readonly string[], prefix?: string): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidOptionError(prefix ?? 'options', options, 'an object');
  }
  for (const name of Object.keys(options)) {
    if (!known.includes(name) && (options as Record<string, unknown>)[name] !== undefined) {
      throw new InvalidOptionError(
        prefix === undefined ? name : `${prefix}.${name}`,
        (options as Record<string, unknown>)[name],
        `a known option: ${known.join(', ')}`,
      );
    }
  }
}

/**
 * An option group that may be given as `true` (every default) or as an object of settings;
 * returns the object (empty for `true`), or `undefined` when absent or `false`.
 */
export function groupOption(name: string, value: unknown, known: readonly string[], expected: string): Record<string, unknown> | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidOptionError(name, value, expected);
  checkOptionNames(value, known, name);
  return value as Record<string, unknown>;
}

/** An optional integer option within [min, max]. */
export function intOption(name: string, value: unknown, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(name, value, max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`);
  }
  return value;
}

/** An optional finite number option within [min, max]. */
export function numberOption(name: string, value: unknown, fallback: number, min: number, max = Number.MAX_VALUE): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new InvalidOptionError(name, value, max === Number.MAX_VALUE ? `a finite number >= ${min}` : `a number from ${min} to ${max}`);
  }
  return value;
}

/** An optional function option. */
export function functionOption<F extends (...args: never[]) => unknown>(name: string, value: unknown): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw new InvalidOptionError(name, value, 'a function');
  return value as F;
}

/** An optional delay option for `setTimeout`: finite, > 0, at most 2^31 − 1 ms (longer ones fire at once). */
export function timerOption(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0) || value > MAX_TIMER_MS) {
    throw new InvalidOptionError(name, value, `a number > 0 and <= ${MAX_TIMER_MS}`);
  }
  return value;
}

/** An optional `timers` option: `{ setTimeout, clearTimeout }`; default the runtime's, looked up at call time. */
export function timersOption(value: unknown): HealthTimers {
  if (value === undefined) return systemTimers;
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof (value as HealthTimers).setTimeout !== 'function' ||
    typeof (value as HealthTimers).clearTimeout !== 'function'
  ) {
    throw new InvalidOptionError('timers', value, '{ setTimeout, clearTimeout }');
  }
  return value as HealthTimers;
}

/** What a retry budget must offer (a `RetryBudget`, or any object with these two methods). */
export interface BudgetLike {
  deposit(): void;
  tryWithdraw(): boolean;
}

/** An optional retry budget option: any object with `deposit()` and `tryWithdraw()`. */
export function budgetOption(name: string, value: unknown): BudgetLike | undefined {
  if (value === undefined) return undefined;
  const b = value as Partial<BudgetLike> | null;
  if (typeof value !== 'object' || b === null || typeof b.deposit !== 'function' || typeof b.tryWithdraw !== 'function') {
    throw new InvalidOptionError(name, value, 'a RetryBudget');
  }
  return value as BudgetLike;
}
