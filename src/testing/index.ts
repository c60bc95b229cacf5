/**
 * `loadwise/testing`: helpers for your own tests of load balancing, usable with any test runner
 * (they throw plain `Error` subclasses) and free of dependencies.
 *
 * - {@link expectShares}: do pick counts match the weights, within statistically derived bounds
 *   (or exactly, for deterministic algorithms)?
 * - {@link measureDisruption} / {@link expectMinimalDisruption}: how many keys move when the
 *   membership changes, against the minimum the change forces.
 * - {@link runConformance} / {@link expectConformance} / {@link conformanceCases}: the `Balancer`
 *   contract, for your own implementation.
 *
 * fast-check arbitraries for targets and weights live in `loadwise/testing/arbitraries`.
 *
 * @example
 * ```ts
 * import { expectShares, expectConformance } from 'loadwise/testing';
 * ```
 * @module loadwise/testing
 */
export { checkShares, expectShares, type ShareOptions, type ShareReport, type ShareRow, type ShareMethod, type Tally } from './shares.js';
export { bonferroniZ, normalQuantile } from './normal.js';
export {
  expectMinimalDisruption,
  measureDisruption,
  type DisruptionBound,
  type DisruptionOptions,
  type DisruptionReport,
  type KeyFlow,
  type KeyRouter,
  type Keys,
  type MembershipRouter,
  type MinimalDisruptionReport,
  type TargetMovement,
} from './disruption.js';
export {
  conformanceCases,
  expectConformance,
  runConformance,
  type BalancerFactory,
  type ConformanceCase,
  type ConformanceCheckId,
  type ConformanceOptions,
  type ConformanceResult,
  type ConformanceTarget,
} from './conformance.js';
export { ConformanceError, DisruptionError, FairnessError, LoadwiseAssertionError, type AssertionCode } from './errors.js';
