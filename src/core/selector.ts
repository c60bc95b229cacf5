import type { Member } from './member.js';
import type { Target } from '../types.js';

/**
 * The one question an algorithm answers: which member of this tier serves the next request?
 * Everything else (leases, outcomes, exclusion, backups, stats) lives in the shared base, so an
 * algorithm file holds only its algorithm. A balancer keeps one selector per tier (primaries,
 * backups), as nginx keeps separate round-robin state for its backup servers.
 */
export interface Selector<T extends Target = Target> {
  /**
   * Rebuilds derived tables after membership or weights changed. `members` is the tier in
   * order; `Member.pos` equals the index. Allocation belongs here, never in `select`.
   */
  rebuild(members: readonly Member<T>[]): void;

  /**
   * Returns the index of the chosen member, or -1 when none is available. When `filtered` is
   * false every member is available and the selector may skip availability checks; when true it
   * must only return a member whose `available()` is true. `excluded[0..excludedCount)` are the
   * members (of any tier) the request excludes; their `excluded` flag is set for this call.
   */
  select(key: string | undefined, filtered: boolean, excluded: readonly Member<T>[], excludedCount: number): number;

  /** Set by the hash family: a pick without a key is a caller bug, reported before anything changes. */
  readonly requiresKey?: boolean;

  /** Set when the selector wants {@link Selector.activeChanged} after every acquire and release. */
  readonly tracksActive?: boolean;
  /** Called after the member at `pos` gained or lost an open lease. */
  activeChanged?(pos: number): void;

  /**
   * Called when passive failure counting records a failure on the member at `pos` (with the
   * policy's `maxFails`): nginx's round robin lowers that peer's effective weight.
   */
  failureRecorded?(pos: number, maxFails: number): void;

  /** Set when the selector wants {@link Selector.released} after every release (latency-aware balancers). */
  readonly tracksLatency?: boolean;
  /**
   * Called after a lease on the member at `pos` closed (after `activeChanged`), with the outcome.
   * `sample[0]` is its latency in ms (NaN when neither reported nor measured; a balancer that
   * sets `measuresLatency` always gets a measurement from its clock); `sample[1]` is the clock
   * reading of the release when the balancer took one, else NaN. Numbers travel in the array
   * because V8 boxes a double passed to a call it does not inline.
   */
  released?(pos: number, ok: boolean, sample: Float64Array): void;

  /** Set when the selector wants {@link Selector.availabilityChanged} (down/up, capacity). */
  readonly tracksAvailability?: boolean;
  /** Called after the member at `pos` left or re-entered rotation (blocked or at capacity). */
  availabilityChanged?(pos: number): void;
}
