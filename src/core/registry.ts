import { DuplicateIdError, InvalidTargetError, UnknownIdError, describe } from './errors.js';
import { Member, checkId, checkWeight, parseTarget, type TargetSpec } from './member.js';
import type { Target } from '../types.js';

/**
 * Membership of one balancer: ids, weights and the per-target {@link Member} records, in the
 * order the user gave. Every mutation validates all of its input before it changes anything, so
 * a thrown error leaves the registry as it was. Each successful mutation bumps `version`, which
 * tells the balancer to rebuild its derived tables before the next pick.
 */
/**
 * An algorithm's extra rule for weights, applied after the general checks (finite, > 0): for
 * example nginx's integer weights. Throws to reject; the registry is unchanged then.
 */
export type WeightRule = (id: string, weight: number) => void;

export class Registry<T extends Target> {
  /**
   * The members in order. `remove` and `setTargets` replace the array instead of changing it,
   * and `add` only appends, so a loop over it survives membership changes made during the loop
   * (by an event listener): it visits every member it started with, once.
   */
  members: Member<T>[] = [];
  readonly byId = new Map<string, Member<T>>();
  version = 0;

  private readonly weightRule: WeightRule | undefined;

  constructor(targets: readonly T[], weightRule?: WeightRule) {
    this.weightRule = weightRule;
    this.setTargets(targets);
  }

  get(id: string): Member<T> {
    const m = typeof id === 'string' ? this.byId.get(id) : undefined;
    if (m === undefined) throw new UnknownIdError(checkId(id));
    return m;
  }

  add(target: T): Member<T> {
    const spec = parseTarget(target);
    this.weightRule?.(spec.id, spec.weight);
    if (this.byId.has(spec.id)) throw new DuplicateIdError(spec.id);
    const m = new Member(target, spec.id, spec.weight, spec.backup, spec.maxActive);
    this.members.push(m);
    this.byId.set(spec.id, m);
    this.version++;
    return m;
  }

  /** Detaches and returns the member, or undefined when the id is not here. */
  remove(id: string): Member<T> | undefined {
    const m = this.byId.get(checkId(id));
    if (m === undefined) return undefined;
    this.byId.delete(id);
    // A new array rather than a splice: a loop over the old one (a scan whose event listener
    // called remove) goes on over the members it started with, skipping none; it sees the
    // removed one detached. O(n), as the splice was.
    const members = this.members;
    const next = new Array<Member<T>>(members.length - 1);
    for (let i = 0, j = 0; i < members.length; i++) if (members[i] !== m) next[j++] = members[i]!;
    this.members = next;
    m.attached = false;
    this.version++;
    return m;
  }

  /** Replaces the membership; returns the members that were dropped. Kept ids keep their record. */
  setTargets(targets: readonly T[]): Member<T>[] {
    if (!Array.isArray(targets)) {
      throw new InvalidTargetError(`invalid targets ${describe(targets)}: expected an array`);
    }
    // Each element is read once (and the length once): an element getter must not hand the
    // checks one target and the member record another.
    const n = targets.length;
    const values: T[] = new Array<T>(n);
    const specs: TargetSpec[] = new Array<TargetSpec>(n);
    const seen = new Set<string>();
    for (let i = 0; i < n; i++) {
      const target = targets[i]!;
      const spec = parseTarget(target);
      this.weightRule?.(spec.id, spec.weight);
      if (seen.has(spec.id)) throw new DuplicateIdError(spec.id);
      seen.add(spec.id);
      specs[i] = spec;
      values[i] = target;
    }
    const next: Member<T>[] = new Array<Member<T>>(n);
    for (let i = 0; i < n; i++) {
      const spec = specs[i]!;
      const target = values[i]!;
      const kept = this.byId.get(spec.id);
      if (kept !== undefined) {
        kept.target = target;
        kept.weight = spec.weight;
        kept.backup = spec.backup;
        kept.maxActive = spec.maxActive;
        next[i] = kept;
      } else {
        next[i] = new Member(target, spec.id, spec.weight, spec.backup, spec.maxActive);
      }
    }
    const dropped: Member<T>[] = [];
    for (const m of this.members) {
      if (!seen.has(m.id)) {
        m.attached = false;
        dropped.push(m);
      }
    }
    this.byId.clear();
    for (const m of next) this.byId.set(m.id, m);
    this.members = next;
    this.version++;
    return dropped;
  }

  setWeight(id: string, weight: number): void {
    const m = this.get(id);
    const w = checkWeight(m.id, weight);
    this.weightRule?.(m.id, w);
    m.weight = w;
    this.version++;
  }
}
