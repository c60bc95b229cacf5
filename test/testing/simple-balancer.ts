/**
 * A from-scratch `Balancer` as a user would write one (no loadwise internals, its own errors
 * carrying loadwise's codes): weighted random over the eligible targets. The conformance tests
 * check that it passes `runConformance`, and that the broken variants below each fail it.
 */
import type { Balancer, Lease, Outcome, PickRequest, Target, TargetStats } from '../../src/index.js';

class CodedError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface Entry<T> {
  target: T;
  id: string;
  weight: number;
  backup: boolean;
  maxActive: number;
  down: boolean;
  active: number;
  picks: number;
  failures: number;
}

const idOf = (t: Target): string => (typeof t === 'string' ? t : t.id);

export class SimpleBalancer<T extends Target = Target> implements Balancer<T> {
  protected entries: Entry<T>[] = [];
  private state: number;

  constructor(targets: readonly T[], seed = 1) {
    this.state = seed >>> 0 || 1;
    this.setTargets(targets);
  }

  protected random(): number {
    // xorshift32
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state / 4294967296;
  }

  protected entry(target: T): Entry<T> {
    if (typeof target === 'string') {
      if (target === '') throw new CodedError('ERR_INVALID_ID', 'empty id');
      return { target, id: target, weight: 1, backup: false, maxActive: Infinity, down: false, active: 0, picks: 0, failures: 0 };
    }
    if (typeof target !== 'object' || target === null) throw new CodedError('ERR_INVALID_TARGET', `bad target ${String(target)}`);
    const { id, weight = 1, backup = false, maxActive = Infinity } = target;
    if (typeof id !== 'string' || id === '') throw new CodedError('ERR_INVALID_ID', `bad id ${String(id)}`);
    this.checkWeight(weight);
    if (typeof backup !== 'boolean') throw new CodedError('ERR_INVALID_TARGET', 'bad backup');
    if (maxActive !== Infinity && (!Number.isInteger(maxActive) || maxActive < 1)) throw new CodedError('ERR_INVALID_TARGET', 'bad maxActive');
    return { target, id, weight, backup, maxActive, down: false, active: 0, picks: 0, failures: 0 };
  }

  protected checkWeight(weight: unknown): asserts weight is number {
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight <= 0) throw new CodedError('ERR_INVALID_WEIGHT', `bad weight ${String(weight)}`);
  }

  protected find(id: string): Entry<T> {
    const e = this.entries.find((x) => x.id === id);
    if (e === undefined) throw new CodedError('ERR_UNKNOWN_ID', `unknown ${id}`);
    return e;
  }

  protected eligible(exclude: readonly string[]): Entry<T>[] {
    const usable = (e: Entry<T>) => !e.down && !exclude.includes(e.id) && e.active < e.maxActive;
    const primaries = this.entries.filter((e) => !e.backup && usable(e));
    return primaries.length > 0 ? primaries : this.entries.filter((e) => e.backup && usable(e));
  }

  protected choose(input?: string | PickRequest): Entry<T> {
    const exclude = typeof input === 'object' && input !== null ? (input.exclude ?? []) : [];
    const list = this.eligible(exclude);
    if (list.length === 0) throw new CodedError('ERR_NO_TARGET', 'no target');
    let r = this.random() * list.reduce((s, e) => s + e.weight, 0);
    for (const e of list) if ((r -= e.weight) < 0) return e;
    return list[list.length - 1]!;
  }

  pick(input?: string | PickRequest): T {
    const e = this.choose(input);
    e.picks++;
    return e.target;
  }

  acquire(input?: string | PickRequest): Lease<T> {
    const e = this.choose(input);
    e.picks++;
    e.active++;
    let open = true;
    const owner = this;
    return {
      target: e.target,
      release(outcome?: Outcome): boolean {
        if (outcome !== undefined && outcome !== 'success' && outcome !== 'failure') {
          if (typeof outcome !== 'object' || outcome === null || typeof outcome.ok !== 'boolean') throw new CodedError('ERR_INVALID_OUTCOME', 'bad outcome');
          const l = outcome.latencyMs;
          if (l !== undefined && !(typeof l === 'number' && Number.isFinite(l) && l >= 0)) throw new CodedError('ERR_INVALID_OUTCOME', 'bad latency');
        }
        return owner.close(e, () => open, () => (open = false), outcome);
      },
    };
  }

  protected close(e: Entry<T>, isOpen: () => boolean, shut: () => void, outcome?: Outcome): boolean {
    if (!isOpen()) return false;
    shut();
    if (!this.entries.includes(e)) return true;
    e.active--;
    if (outcome === 'failure' || (typeof outcome === 'object' && !outcome.ok)) e.failures++;
    return true;
  }

  add(target: T): void {
    const e = this.entry(target);
    if (this.entries.some((x) => x.id === e.id)) throw new CodedError('ERR_DUPLICATE_ID', `duplicate ${e.id}`);
    this.entries.push(e);
  }

  remove(id: string): boolean {
    const i = this.entries.findIndex((x) => x.id === id);
    if (i < 0) return false;
    this.entries.splice(i, 1);
    return true;
  }

  setTargets(targets: readonly T[]): void {
    if (!Array.isArray(targets)) throw new CodedError('ERR_INVALID_TARGET', 'not an array');
    const fresh = targets.map((t) => this.entry(t));
    const seen = new Set<string>();
    for (const e of fresh) {
      if (seen.has(e.id)) throw new CodedError('ERR_DUPLICATE_ID', `duplicate ${e.id}`);
      seen.add(e.id);
    }
    this.entries = fresh.map((e) => {
      const old = this.entries.find((x) => x.id === e.id);
      if (old === undefined) return e;
      Object.assign(old, { target: e.target, weight: e.weight, backup: e.backup, maxActive: e.maxActive });
      return old;
    });
  }

  setWeight(id: string, weight: number): void {
    const e = this.find(id);
    this.checkWeight(weight);
    e.weight = weight;
  }

  markDown(id: string): void {
    this.find(id).down = true;
  }

  markUp(id: string): void {
    this.find(id).down = false;
  }

  reportHealth(id: string, healthy: boolean): void {
    this.find(id).down = !healthy;
  }

  targets(): readonly T[] {
    return this.entries.map((e) => e.target);
  }

  get size(): number {
    return this.entries.length;
  }

  stats(): readonly TargetStats[] {
    return this.entries.map((e) => ({
      id: e.id,
      weight: e.weight,
      effectiveWeight: e.weight,
      active: e.active,
      picks: e.picks,
      failures: e.failures,
      state: e.down ? 'down' : e.backup ? 'backup' : 'up',
    }));
  }
}

/** Ignores `exclude`. */
export class IgnoresExclude<T extends Target = Target> extends SimpleBalancer<T> {
  protected override eligible(): Entry<T>[] {
    return super.eligible([]);
  }
}

/** Counts every `release` call, not just the first. */
export class ReleaseNotIdempotent<T extends Target = Target> extends SimpleBalancer<T> {
  protected override close(e: Entry<T>, _isOpen: () => boolean, shut: () => void, outcome?: Outcome): boolean {
    return super.close(e, () => true, shut, outcome);
  }
}

/** Throws a plain error without a code when nothing is eligible. */
export class UncodedEmptyError<T extends Target = Target> extends SimpleBalancer<T> {
  protected override choose(input?: string | PickRequest): Entry<T> {
    try {
      return super.choose(input);
    } catch {
      throw new Error('no backends');
    }
  }
}

/** setTargets rebuilds every entry from scratch, losing in-flight counts. */
export class ForgetfulSetTargets<T extends Target = Target> extends SimpleBalancer<T> {
  override setTargets(targets: readonly T[]): void {
    const fresh = targets.map((t) => this.entry(t));
    this.entries = fresh;
  }
}

/** Picks a down target now and then. */
export class IgnoresDown<T extends Target = Target> extends SimpleBalancer<T> {
  protected override eligible(exclude: readonly string[]): Entry<T>[] {
    const list = super.eligible(exclude);
    return list.length > 0 ? list : this.entries.filter((e) => !exclude.includes(e.id));
  }
}

export { idOf };
