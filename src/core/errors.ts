/**
 * Every error loadwise throws is a {@link LoadwiseError} with a stable `code`, so callers can
 * branch on `err.code` instead of parsing messages. A call that throws leaves the balancer
 * exactly as it was before the call.
 */

/** Stable machine-readable codes carried by {@link LoadwiseError.code}. */
export type LoadwiseErrorCode =
  | 'ERR_NO_TARGET'
  | 'ERR_TARGETS_AT_CAPACITY'
  | 'ERR_INVALID_WEIGHT'
  | 'ERR_INVALID_ID'
  | 'ERR_INVALID_TARGET'
  | 'ERR_DUPLICATE_ID'
  | 'ERR_UNKNOWN_ID'
  | 'ERR_INVALID_OPTION'
  | 'ERR_INVALID_OUTCOME'
  | 'ERR_RETRIES_EXHAUSTED'
  | 'ERR_RETRY_BUDGET_EXHAUSTED'
  | 'ERR_RETRY_TIMEOUT';

const brand = Symbol.for('loadwise.error');

/**
 * Base class of every error thrown by loadwise.
 *
 * @example
 * ```ts
 * import { LoadwiseError } from 'loadwise';
 * try {
 *   balancer.pick();
 * } catch (err) {
 *   if (LoadwiseError.is(err) && err.code === 'ERR_NO_TARGET') {
 *     // every target is down or excluded: answer 503
 *   }
 * }
 * ```
 */
export class LoadwiseError extends Error {
  /** Stable code; safe to compare against in application code. */
  readonly code: LoadwiseErrorCode;

  constructor(code: LoadwiseErrorCode, message: string) {
    super(message);
    this.code = code;
    this.name = new.target.name;
  }

  /**
   * True when `value` is a loadwise error, even one created by another copy of the library
   * (two bundled versions, a worker realm) where `instanceof` would say no.
   */
  static is(value: unknown): value is LoadwiseError {
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as { [brand]?: unknown })[brand] === true
    );
  }
}
Object.defineProperty(LoadwiseError.prototype, brand, { value: true });

/**
 * No target can serve the request: the balancer is empty, or every target is down, excluded,
 * or (code `ERR_TARGETS_AT_CAPACITY`) holding its `maxActive` leases.
 *
 * @example
 * ```ts
 * import { NoTargetError } from 'loadwise';
 * try {
 *   lb.acquire();
 * } catch (err) {
 *   if (err instanceof NoTargetError && err.code === 'ERR_TARGETS_AT_CAPACITY') {
 *     // shed load: every target is at max_conns
 *   }
 * }
 * ```
 */
export class NoTargetError extends LoadwiseError {
  declare readonly code: 'ERR_NO_TARGET' | 'ERR_TARGETS_AT_CAPACITY';
  /** How many targets the balancer holds (0 means it is empty). */
  readonly size: number;

  constructor(message: string, size: number, code: 'ERR_NO_TARGET' | 'ERR_TARGETS_AT_CAPACITY' = 'ERR_NO_TARGET') {
    super(code, message);
    this.size = size;
  }
}

/**
 * A weight that is not a number from `MIN_WEIGHT` (10⁻⁹) to `MAX_WEIGHT` (10⁹): `NaN`,
 * `±Infinity`, `0`, negative, too small, too large, or not a number at all.
 *
 * @example
 * ```ts
 * import { InvalidWeightError, WeightedRoundRobin } from 'loadwise';
 * try {
 *   new WeightedRoundRobin([{ id: 'a', weight: Number.NaN }]);
 * } catch (err) {
 *   console.log(err instanceof InvalidWeightError, (err as InvalidWeightError).code); // true 'ERR_INVALID_WEIGHT'
 * }
 * ```
 */
export class InvalidWeightError extends LoadwiseError {
  declare readonly code: 'ERR_INVALID_WEIGHT';
  /**
   * @param id - the target's id.
   * @param weight - the rejected value.
   * @param expected - what the balancer accepts, for the message; balancers with stricter rules
   *   than the default (the nginx-compatible hash balancers take integers only) say so here.
   */
  constructor(id: string, weight: unknown, expected = 'a finite number > 0, from MIN_WEIGHT = 1e-9 to MAX_WEIGHT = 1e9 (so that sums of weights stay finite and exact)') {
    super('ERR_INVALID_WEIGHT', `invalid weight ${describe(weight)} for target ${JSON.stringify(id)}: expected ${expected}`);
  }
}

/**
 * A target id that is not a non-empty string.
 *
 * @example
 * ```ts
 * import { InvalidIdError, RoundRobin } from 'loadwise';
 * try { new RoundRobin(['']); } catch (err) { console.log((err as InvalidIdError).code); } // 'ERR_INVALID_ID'
 * ```
 */
export class InvalidIdError extends LoadwiseError {
  declare readonly code: 'ERR_INVALID_ID';
  constructor(id: unknown) {
    super('ERR_INVALID_ID', `invalid target id ${describe(id)}: expected a non-empty string`);
  }
}

/**
 * A target that is neither a string nor an object of the {@link Target} shape, or whose
 * `backup` / `maxActive` fields are malformed.
 *
 * @example
 * ```ts
 * import { InvalidTargetError, RoundRobin } from 'loadwise';
 * try { new RoundRobin([{ id: 'a', maxActive: 0 }]); } catch (err) { console.log((err as InvalidTargetError).code); } // 'ERR_INVALID_TARGET'
 * ```
 */
export class InvalidTargetError extends LoadwiseError {
  declare readonly code: 'ERR_INVALID_TARGET';
  constructor(message: string) {
    super('ERR_INVALID_TARGET', message);
  }
}

/**
 * Two targets share one id, or `add` was called with an id the balancer already has.
 *
 * @example
 * ```ts
 * import { DuplicateIdError, RoundRobin } from 'loadwise';
 * const lb = new RoundRobin(['a']);
 * try { lb.add('a'); } catch (err) { console.log((err as DuplicateIdError).code); } // 'ERR_DUPLICATE_ID'
 * ```
 */
export class DuplicateIdError extends LoadwiseError {
  declare readonly code: 'ERR_DUPLICATE_ID';
  constructor(id: string) {
    super('ERR_DUPLICATE_ID', `duplicate target id ${JSON.stringify(id)}`);
  }
}

/**
 * An operation named an id the balancer does not hold.
 *
 * @example
 * ```ts
 * import { UnknownIdError, RoundRobin } from 'loadwise';
 * const lb = new RoundRobin(['a']);
 * try { lb.setWeight('b', 2); } catch (err) { console.log((err as UnknownIdError).code); } // 'ERR_UNKNOWN_ID'
 * ```
 */
export class UnknownIdError extends LoadwiseError {
  declare readonly code: 'ERR_UNKNOWN_ID';
  constructor(id: string) {
    super('ERR_UNKNOWN_ID', `unknown target id ${JSON.stringify(id)}`);
  }
}

/**
 * A constructor or function option with a bad value, or an option name the balancer does not
 * know (usually a typo). The message names the option and the value.
 *
 * @example
 * ```ts
 * import { InvalidOptionError, PowerOfTwoChoices } from 'loadwise';
 * try { new PowerOfTwoChoices(['a', 'b'], { choices: 1 }); } catch (err) {
 *   console.log((err as InvalidOptionError).option); // 'choices'
 * }
 * ```
 */
export class InvalidOptionError extends LoadwiseError {
  declare readonly code: 'ERR_INVALID_OPTION';
  /** The option's name. */
  readonly option: string;

  constructor(option: string, value: unknown, expected: string) {
    super('ERR_INVALID_OPTION', `invalid option ${option}: ${describe(value)} (expected ${expected})`);
    this.option = option;
  }
}

/**
 * `lease.release(outcome)` was given something that is not `'success'`, `'failure'` or
 * `{ ok: boolean, latencyMs?: number }`. The lease stays open, so it can be released again
 * correctly.
 *
 * @example
 * ```ts
 * import { InvalidOutcomeError, RoundRobin } from 'loadwise';
 * const lease = new RoundRobin(['a']).acquire();
 * try { lease.release('ok' as never); } catch (err) { console.log((err as InvalidOutcomeError).code); } // 'ERR_INVALID_OUTCOME'
 * lease.release('success');
 * ```
 */
export class InvalidOutcomeError extends LoadwiseError {
  declare readonly code: 'ERR_INVALID_OUTCOME';
  constructor(outcome: unknown) {
    super('ERR_INVALID_OUTCOME', `invalid outcome ${describe(outcome)}: expected 'success', 'failure' or { ok: boolean, latencyMs?: number }`);
  }
}

/** Renders a user-supplied value for an error message without throwing on any input. */
export function describe(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'bigint':
      return `${value}n`;
    case 'undefined':
      return 'undefined';
    case 'function':
      return 'a function';
    case 'symbol':
      return value.toString();
    case 'boolean':
      return String(value);
    default:
      if (value === null) return 'null';
      try {
        if (Array.isArray(value)) return 'an array';
      } catch {
        // Array.isArray throws for a revoked proxy
        return 'a revoked proxy';
      }
      return 'an object';
  }
}
