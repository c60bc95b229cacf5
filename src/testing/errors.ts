/**
 * Errors thrown by the `loadwise/testing` assertions. They are plain `Error` subclasses, not
 * tied to any test runner: every runner (vitest, Jest, Node's built-in runner, Mocha, Deno, Bun)
 * reports a thrown `Error` as a failure and prints its message.
 */
import type { ConformanceResult } from './conformance.js';
import type { DisruptionBound, DisruptionReport } from './disruption.js';
import type { ShareReport } from './shares.js';

/** Stable codes carried by {@link LoadwiseAssertionError.code}. */
export type AssertionCode = 'ERR_ASSERTION' | 'ERR_FAIRNESS' | 'ERR_DISRUPTION' | 'ERR_CONFORMANCE';

/**
 * Base class of every assertion failure in `loadwise/testing`; shaped like Node's
 * `AssertionError` (`actual`, `expected`, `code`), so runners that know that shape can show a
 * diff.
 *
 * @example
 * ```ts
 * import { expectShares, LoadwiseAssertionError } from 'loadwise/testing';
 * try {
 *   expectShares([900, 100], [1, 1]);
 * } catch (err) {
 *   if (err instanceof LoadwiseAssertionError) console.log(err.code); // 'ERR_FAIRNESS'
 * }
 * ```
 */
export class LoadwiseAssertionError extends Error {
  /** Which assertion failed. */
  readonly code: AssertionCode;
  /** What was observed, when one value says it. */
  readonly actual: unknown;
  /** What was expected, when one value says it. */
  readonly expected: unknown;

  constructor(message: string, details: { code?: AssertionCode; actual?: unknown; expected?: unknown } = {}) {
    super(message);
    this.name = new.target.name;
    this.code = details.code ?? 'ERR_ASSERTION';
    this.actual = details.actual;
    this.expected = details.expected;
  }
}

/**
 * Thrown by {@link expectShares} when observed counts fall outside their bounds. `report`
 * holds every target's row, including the ones that passed.
 *
 * @example
 * ```ts
 * import { expectShares, FairnessError } from 'loadwise/testing';
 * try {
 *   expectShares({ a: 700, b: 300 }, { a: 1, b: 1 });
 * } catch (err) {
 *   if (err instanceof FairnessError) console.log(err.report.rows.filter((r) => !r.ok));
 * }
 * ```
 */
export class FairnessError extends LoadwiseAssertionError {
  /** The full comparison behind the failure. */
  readonly report: ShareReport;

  constructor(message: string, report: ShareReport) {
    super(message, {
      code: 'ERR_FAIRNESS',
      actual: Object.fromEntries(report.rows.map((r) => [r.target, r.observed])),
      expected: Object.fromEntries(report.rows.map((r) => [r.target, r.expected])),
    });
    this.report = report;
  }
}

/**
 * Thrown by {@link expectMinimalDisruption} when a membership change moved more keys than it
 * had to, or moved keys between targets that did not need to change.
 *
 * @example
 * ```ts
 * import { DisruptionError, expectMinimalDisruption } from 'loadwise/testing';
 * try {
 *   expectMinimalDisruption(before, after, 10_000);
 * } catch (err) {
 *   if (err instanceof DisruptionError) console.log(err.report.fraction, err.bound);
 * }
 * ```
 */
export class DisruptionError extends LoadwiseAssertionError {
  /** The measurement behind the failure. */
  readonly report: DisruptionReport;
  /** The bounds it was held to. */
  readonly bound: DisruptionBound;

  constructor(
    message: string,
    report: DisruptionReport,
    bound: DisruptionBound,
  ) {
    super(message, { code: 'ERR_DISRUPTION', actual: report.moved, expected: bound.maxMoved });
    this.report = report;
    this.bound = bound;
  }
}

/**
 * Thrown by {@link expectConformance} when a balancer breaks the `Balancer` contract; lists
 * every failed check, and keeps them all in `results`.
 *
 * @example
 * ```ts
 * import { expectConformance, ConformanceError } from 'loadwise/testing';
 * try {
 *   expectConformance((targets) => new MyBalancer(targets));
 * } catch (err) {
 *   if (err instanceof ConformanceError) for (const f of err.failures) console.log(f.name, f.error?.message);
 * }
 * ```
 */
export class ConformanceError extends LoadwiseAssertionError {
  /** Every check that ran, passed or not. */
  readonly results: readonly ConformanceResult[];
  /** The checks that failed. */
  readonly failures: readonly ConformanceResult[];

  constructor(message: string, results: readonly ConformanceResult[]) {
    super(message, { code: 'ERR_CONFORMANCE' });
    this.results = results;
    this.failures = results.filter((r) => !r.ok);
  }
}
