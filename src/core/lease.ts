import { InvalidOutcomeError } from './errors.js';
import type { Member } from './member.js';
import type { Lease, Outcome, Target } from '../types.js';

/** What a lease reports back to when it closes. */
export interface LeaseOwner<T extends Target> {
  /**
   * `[0]`: the latency the release reported, in ms, or NaN; `[1]`: scratch for the owner. The
   * lease writes here instead of passing the number: V8 boxes a double passed to a call it
   * does not inline, which would allocate on every release.
   */
  readonly releaseSample: Float64Array;
  /** Closes the lease on `member`; the reported latency is in `releaseSample[0]`. */
  settle(member: Member<T>, ok: boolean, lease: OpenLease<T>): void;
}

/**
 * An open request on one member. A class rather than a closure so that `acquire` allocates one
 * small object and nothing else.
 */
export class OpenLease<T extends Target> implements Lease<T> {
  readonly target: T;
  private readonly owner: LeaseOwner<T>;
  private readonly member: Member<T>;
  /** @internal The owner's clock reading at `acquire`, or NaN when the owner measures no latency. */
  readonly startedAt: number;
  private open = true;

  constructor(owner: LeaseOwner<T>, member: Member<T>, startedAt: number) {
    this.owner = owner;
    this.member = member;
    this.target = member.target;
    this.startedAt = startedAt;
  }

  release(outcome?: Outcome): boolean {
    if (!this.open) return false;
    let ok = true;
    let latencyMs = Number.NaN;
    if (outcome === undefined || outcome === 'success') {
      // defaults
    } else if (outcome === 'failure') {
      ok = false;
    } else if (typeof outcome === 'object' && outcome !== null && typeof outcome.ok === 'boolean') {
      ok = outcome.ok;
      const l = outcome.latencyMs;
      if (l !== undefined) {
        if (typeof l !== 'number' || !(l >= 0) || l === Number.POSITIVE_INFINITY) throw new InvalidOutcomeError(outcome);
        latencyMs = l;
      }
    } else {
      // Validate before closing, so a bad call leaves the lease open to be released properly.
      throw new InvalidOutcomeError(outcome);
    }
    this.open = false;
    const owner = this.owner;
    owner.releaseSample[0] = latencyMs;
    owner.settle(this.member, ok, this);
    return true;
  }
}
