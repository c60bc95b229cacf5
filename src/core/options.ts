import { InvalidOptionError } from './errors.js';

/** Option names every balancer accepts. */
export const COMMON_OPTIONS = ['seed', 'random', 'now', 'passive', 'panicThreshold', 'onEvent'] as const;

/**
 * Rejects options that are not an object, and option names that are not in `known` (usually a
 * typo that would otherwise be silently ignored).
 */
export function checkOptionNames(options: unknown, known: readonly string[]): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidOptionError('options', options, 'an object');
  }
  for (const name of Object.keys(options)) {
    if (!known.includes(name)) {
      throw new InvalidOptionError(name, (options as Record<string, unknown>)[name], `a known option: ${known.join(', ')}`);
    }
  }
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
