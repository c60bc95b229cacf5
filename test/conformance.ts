/**
 * The contract every balancer satisfies, whatever its algorithm. Each balancer's test file calls
 * `conformance(...)`; later balancers (hash family, latency-aware) reuse it unchanged.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DuplicateIdError,
  InvalidIdError,
  InvalidOptionError,
  InvalidOutcomeError,
  InvalidTargetError,
  InvalidWeightError,
  LoadwiseError,
  NoTargetError,
  UnknownIdError,
  type Balancer,
  type Lease,
  type Outcome,
} from '../src/index.js';

export interface Spec {
  readonly id: string;
  readonly weight?: number;
  readonly backup?: boolean;
  readonly maxActive?: number;
}

export interface ConformanceSubject {
  readonly name: string;
  create(targets: readonly Spec[], options?: { seed?: number }): Balancer<Spec>;
  /** Optional routing key passed to every pick (hash balancers). */
  readonly key?: (i: number) => string;
}

const ids = (xs: readonly Spec[]): string[] => xs.map((t) => t.id);

function expectError(fn: () => unknown, cls: new (...args: never[]) => LoadwiseError, code: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(cls);
  expect(LoadwiseError.is(caught)).toBe(true);
  expect((caught as LoadwiseError).code).toBe(code);
}

/** A snapshot of everything observable, to prove a failed call changed nothing. */
function observe(lb: Balancer<Spec>): unknown {
  return { size: lb.size, targets: lb.targets(), stats: lb.stats() };
}

export function conformance(subject: ConformanceSubject): void {
  const key = subject.key ?? (() => undefined);
  const req = (i: number, exclude?: readonly string[]) => {
    const k = key(i);
    return exclude === undefined ? (k === undefined ? undefined : { key: k }) : k === undefined ? { exclude } : { key: k, exclude };
  };
  const three: Spec[] = [{ id: 'a', weight: 3 }, { id: 'b', weight: 1 }, { id: 'c', weight: 2 }];

  describe(`${subject.name}: conformance`, () => {
    it('returns the very objects it was given, and only members', () => {
      const lb = subject.create(three, { seed: 1 });
      for (let i = 0; i < 200; i++) {
        const t = lb.pick(req(i));
        expect(three).toContain(t);
      }
      expect(lb.size).toBe(3);
      expect(lb.targets()).toEqual(three);
    });

    it('accepts plain string targets', () => {
      const lb = subject.create(['x', 'y'] as unknown as Spec[], { seed: 1 });
      const seen = new Set<unknown>();
      for (let i = 0; i < 100; i++) seen.add(lb.pick(req(i)));
      for (const t of seen) expect(['x', 'y']).toContain(t);
    });

    it('throws NoTargetError with code ERR_NO_TARGET when empty', () => {
      const lb = subject.create([], { seed: 1 });
      expectError(() => lb.pick(req(0)), NoTargetError, 'ERR_NO_TARGET');
      expectError(() => lb.acquire(req(0)), NoTargetError, 'ERR_NO_TARGET');
      lb.add({ id: 'late' });
      expect(lb.pick(req(0)).id).toBe('late');
    });

    it('honours exclude and fails cleanly when everything is excluded', () => {
      const lb = subject.create(three, { seed: 2 });
      for (let i = 0; i < 200; i++) expect(lb.pick(req(i, ['a', 'c'])).id).toBe('b');
      for (let i = 0; i < 50; i++) expect(['a', 'c']).toContain(lb.pick(req(i, ['b', 'nope'])).id);
      const before = observe(lb);
      expectError(() => lb.pick(req(0, ['a', 'b', 'c'])), NoTargetError, 'ERR_NO_TARGET');
      expect(observe(lb)).toEqual(before);
      // The exclusion lasted one pick only.
      const seen = new Set<string>();
      for (let i = 0; i < 300; i++) seen.add(lb.pick(req(i)).id);
      expect(seen.size).toBeGreaterThan(0);
    });

    it('never picks a target marked down, and takes it back after markUp', () => {
      const lb = subject.create(three, { seed: 3 });
      lb.markDown('a');
      for (let i = 0; i < 300; i++) expect(lb.pick(req(i)).id).not.toBe('a');
      expect(lb.stats().find((s) => s.id === 'a')?.state).toBe('down');
      lb.markDown('b');
      lb.markDown('c');
      expectError(() => lb.pick(req(0)), NoTargetError, 'ERR_NO_TARGET');
      lb.markUp('a');
      expect(lb.pick(req(0)).id).toBe('a');
      expectError(() => lb.markDown('zz'), UnknownIdError, 'ERR_UNKNOWN_ID');
    });

    it('uses backups only while no primary is eligible', () => {
      const lb = subject.create([{ id: 'p1' }, { id: 'bk', backup: true }, { id: 'p2' }], { seed: 4 });
      for (let i = 0; i < 100; i++) expect(lb.pick(req(i)).id).not.toBe('bk');
      lb.markDown('p1');
      for (let i = 0; i < 100; i++) expect(lb.pick(req(i)).id).toBe('p2');
      lb.markDown('p2');
      for (let i = 0; i < 20; i++) expect(lb.pick(req(i)).id).toBe('bk');
      expect(lb.pick(req(0, ['p2'])).id).toBe('bk');
      lb.markUp('p1');
      for (let i = 0; i < 50; i++) expect(lb.pick(req(i)).id).toBe('p1');
      expect(lb.stats().map((s) => s.state)).toEqual(['up', 'backup', 'down']);
    });

    it('respects maxActive and says ERR_TARGETS_AT_CAPACITY when all are full', () => {
      const lb = subject.create([{ id: 'a', maxActive: 1 }, { id: 'b', maxActive: 2 }], { seed: 5 });
      const leases = [lb.acquire(req(0)), lb.acquire(req(1)), lb.acquire(req(2))];
      expect(leases.map((l) => l.target.id).sort()).toEqual(['a', 'b', 'b']);
      expectError(() => lb.acquire(req(3)), NoTargetError, 'ERR_TARGETS_AT_CAPACITY');
      leases[0]!.release('success');
      const freed = leases[0]!.target.id;
      expect(lb.acquire(req(4)).target.id).toBe(freed);
    });

    it('counts in-flight leases; release is idempotent and validated', () => {
      const lb = subject.create(three, { seed: 6 });
      const lease = lb.acquire(req(0));
      const id = lease.target.id;
      const active = () => lb.stats().find((s) => s.id === id)!.active;
      expect(active()).toBe(1);
      expectError(() => lease.release('ok' as unknown as Outcome), InvalidOutcomeError, 'ERR_INVALID_OUTCOME');
      expectError(() => lease.release({ ok: true, latencyMs: -1 }), InvalidOutcomeError, 'ERR_INVALID_OUTCOME');
      expectError(() => lease.release({ ok: true, latencyMs: Number.NaN }), InvalidOutcomeError, 'ERR_INVALID_OUTCOME');
      expect(active()).toBe(1);
      expect(lease.release({ ok: false, latencyMs: 12 })).toBe(true);
      expect(lease.release('success')).toBe(false);
      expect(lease.release('failure')).toBe(false);
      const s = lb.stats().find((x) => x.id === id)!;
      expect(s.active).toBe(0);
      expect(s.failures).toBe(1);
      expect(s.latencyMs).toBe(12);
    });

    it('ignores late releases after remove and after the same id is added again', () => {
      const lb = subject.create([{ id: 'a' }], { seed: 7 });
      const old = lb.acquire(req(0));
      expect(lb.remove('a')).toBe(true);
      expect(lb.remove('a')).toBe(false);
      lb.add({ id: 'a' });
      const fresh = lb.acquire(req(1));
      expect(old.release('failure')).toBe(true);
      expect(lb.stats()[0]).toMatchObject({ id: 'a', active: 1, failures: 0 });
      fresh.release('success');
      expect(lb.stats()[0]).toMatchObject({ active: 0, failures: 0 });
    });

    it('setTargets keeps the state of retained ids and drops the rest', () => {
      const lb = subject.create(three, { seed: 8 });
      const leases: Lease<Spec>[] = [];
      for (let i = 0; i < 6; i++) leases.push(lb.acquire(req(i)));
      const before = new Map(lb.stats().map((s) => [s.id, s]));
      const next: Spec[] = [{ id: 'c', weight: 5 }, { id: 'd' }, { id: 'a', weight: 3 }];
      lb.setTargets(next);
      expect(lb.targets()).toEqual(next);
      const after = new Map(lb.stats().map((s) => [s.id, s]));
      expect(after.get('a')).toMatchObject({ active: before.get('a')!.active, picks: before.get('a')!.picks });
      expect(after.get('c')).toMatchObject({ active: before.get('c')!.active, weight: 5 });
      expect(after.get('d')).toMatchObject({ active: 0, picks: 0 });
      for (const l of leases) l.release('success');
      for (const s of lb.stats()) expect(s.active).toBe(0);
    });

    it('rejects bad input with a named error and leaves the balancer as it was', () => {
      const lb = subject.create(three, { seed: 9 });
      lb.acquire(req(0));
      const before = observe(lb);
      for (const w of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, -1, '2', null]) {
        expectError(() => lb.setWeight('a', w as number), InvalidWeightError, 'ERR_INVALID_WEIGHT');
        expectError(() => lb.add({ id: 'n', weight: w as number }), InvalidWeightError, 'ERR_INVALID_WEIGHT');
        expectError(() => lb.setTargets([{ id: 'q' }, { id: 'n', weight: w as number }]), InvalidWeightError, 'ERR_INVALID_WEIGHT');
      }
      for (const id of ['', 7, null, undefined]) {
        expectError(() => lb.add({ id } as unknown as Spec), InvalidIdError, 'ERR_INVALID_ID');
      }
      expectError(() => lb.add(42 as unknown as Spec), InvalidTargetError, 'ERR_INVALID_TARGET');
      expectError(() => lb.add({ id: 'm', maxActive: 0 }), InvalidTargetError, 'ERR_INVALID_TARGET');
      expectError(() => lb.add({ id: 'm', backup: 'yes' } as unknown as Spec), InvalidTargetError, 'ERR_INVALID_TARGET');
      expectError(() => lb.setTargets('a' as unknown as Spec[]), InvalidTargetError, 'ERR_INVALID_TARGET');
      expectError(() => lb.add({ id: 'a' }), DuplicateIdError, 'ERR_DUPLICATE_ID');
      expectError(() => lb.setTargets([{ id: 'x' }, { id: 'x' }]), DuplicateIdError, 'ERR_DUPLICATE_ID');
      expectError(() => lb.setWeight('zz', 2), UnknownIdError, 'ERR_UNKNOWN_ID');
      expectError(() => lb.markUp('zz'), UnknownIdError, 'ERR_UNKNOWN_ID');
      expectError(() => lb.pick({ exclude: 'a' as unknown as string[] }), InvalidOptionError, 'ERR_INVALID_OPTION');
      expectError(() => lb.pick({ key: 5 as unknown as string }), InvalidOptionError, 'ERR_INVALID_OPTION');
      expect(observe(lb)).toEqual(before);
      expect(three).toContain(lb.pick(req(1)));
    });

    it('rejects bad options by name', () => {
      expectError(() => subject.create(three, { seed: Number.NaN }), InvalidOptionError, 'ERR_INVALID_OPTION');
      expectError(() => subject.create(three, { sede: 1 } as unknown as { seed: number }), InvalidOptionError, 'ERR_INVALID_OPTION');
      expectError(() => subject.create(three, { random: 3 } as unknown as { seed: number }), InvalidOptionError, 'ERR_INVALID_OPTION');
    });

    it('is deterministic under a seed', () => {
      const run = () => {
        const lb = subject.create(three, { seed: 1234 });
        const out: string[] = [];
        for (let i = 0; i < 100; i++) {
          const l = lb.acquire(req(i));
          out.push(l.target.id);
          if (i % 3 === 0) l.release('success');
        }
        return out;
      };
      expect(run()).toEqual(run());
    });

    it('keeps every invariant over random operation sequences (model-based)', () => {
      fc.assert(
        fc.property(fc.commands(commandArbitraries(), { maxCommands: 80 }), fc.integer(), (cmds, seed) => {
          const real = subject.create([], { seed });
          const model: Model = { members: [], leases: [], step: 0 };
          fc.modelRun(() => ({ model, real: { lb: real, key } }), cmds);
        }),
        { numRuns: 150 },
      );
    });
  });
}

// ---- model-based commands -------------------------------------------------------------

interface ModelMember {
  id: string;
  weight: number;
  backup: boolean;
  maxActive: number;
  down: boolean;
  active: number;
  /** Bumped when the id is removed, so leases on an old incarnation are recognised. */
  incarnation: number;
}
interface ModelLease {
  lease: Lease<Spec>;
  id: string;
  incarnation: number;
}
interface Model {
  members: ModelMember[];
  leases: ModelLease[];
  step: number;
}
interface Real {
  lb: Balancer<Spec>;
  key: (i: number) => string | undefined;
}

let incarnations = 0;
const ID_POOL = ['a', 'b', 'c', 'd', 'e', 'f'];

function spec(m: ModelMember): Spec {
  const s: { id: string; weight: number; backup?: boolean; maxActive?: number } = { id: m.id, weight: m.weight };
  if (m.backup) s.backup = true;
  if (m.maxActive !== Number.POSITIVE_INFINITY) s.maxActive = m.maxActive;
  return s;
}

function eligible(model: Model, exclude: readonly string[]): ModelMember[] {
  const usable = (m: ModelMember) => !m.down && !exclude.includes(m.id) && m.active < m.maxActive;
  const primaries = model.members.filter((m) => !m.backup && usable(m));
  return primaries.length > 0 ? primaries : model.members.filter((m) => m.backup && usable(m));
}

function checkInvariants(model: Model, real: Real): void {
  const stats = real.lb.stats();
  expect(stats.map((s) => s.id)).toEqual(model.members.map((m) => m.id));
  expect(real.lb.size).toBe(model.members.length);
  for (let i = 0; i < stats.length; i++) {
    const s = stats[i]!;
    const m = model.members[i]!;
    expect(s.active).toBe(m.active);
    expect(s.active).toBeGreaterThanOrEqual(0);
    expect(s.weight).toBe(m.weight);
  }
}

function pickAndCheck(model: Model, real: Real, exclude: readonly string[], acquire: boolean): void {
  const allowed = eligible(model, exclude);
  const k = real.key(model.step++);
  const input = k === undefined ? { exclude } : { key: k, exclude };
  if (allowed.length === 0) {
    let caught: unknown;
    try {
      if (acquire) real.lb.acquire(input);
      else real.lb.pick(input);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(NoTargetError);
    return;
  }
  if (!acquire) {
    const t = real.lb.pick(input);
    expect(allowed.map((m) => m.id)).toContain(t.id);
    return;
  }
  const lease = real.lb.acquire(input);
  const m = allowed.find((x) => x.id === lease.target.id);
  expect(m).toBeDefined();
  m!.active++;
  model.leases.push({ lease, id: m!.id, incarnation: m!.incarnation });
}

class AddCommand implements fc.Command<Model, Real> {
  constructor(
    readonly id: string,
    readonly weight: number,
    readonly backup: boolean,
    readonly maxActive: number,
  ) {}
  check(): boolean {
    return true;
  }
  run(model: Model, real: Real): void {
    const m: ModelMember = {
      id: this.id,
      weight: this.weight,
      backup: this.backup,
      maxActive: this.maxActive,
      down: false,
      active: 0,
      incarnation: ++incarnations,
    };
    if (model.members.some((x) => x.id === this.id)) {
      expect(() => real.lb.add(spec(m))).toThrow(DuplicateIdError);
    } else {
      real.lb.add(spec(m));
      model.members.push(m);
    }
    checkInvariants(model, real);
  }
  toString(): string {
    return `add(${this.id},w=${this.weight}${this.backup ? ',backup' : ''},max=${this.maxActive})`;
  }
}

class RemoveCommand implements fc.Command<Model, Real> {
  constructor(readonly id: string) {}
  check(): boolean {
    return true;
  }
  run(model: Model, real: Real): void {
    const i = model.members.findIndex((m) => m.id === this.id);
    expect(real.lb.remove(this.id)).toBe(i >= 0);
    if (i >= 0) model.members.splice(i, 1);
    checkInvariants(model, real);
  }
  toString(): string {
    return `remove(${this.id})`;
  }
}

class SetTargetsCommand implements fc.Command<Model, Real> {
  constructor(readonly order: readonly string[]) {}
  check(): boolean {
    return true;
  }
  run(model: Model, real: Real): void {
    const next = this.order.map(
      (id) =>
        model.members.find((m) => m.id === id) ?? {
          id,
          weight: 1 + (id.charCodeAt(0) % 4),
          backup: false,
          maxActive: Number.POSITIVE_INFINITY,
          down: false,
          active: 0,
          incarnation: ++incarnations,
        },
    );
    real.lb.setTargets(next.map(spec));
    model.members = next;
    checkInvariants(model, real);
  }
  toString(): string {
    return `setTargets(${this.order.join(',')})`;
  }
}

class SetWeightCommand implements fc.Command<Model, Real> {
  constructor(
    readonly id: string,
    readonly weight: number,
  ) {}
  check(): boolean {
    return true;
  }
  run(model: Model, real: Real): void {
    const m = model.members.find((x) => x.id === this.id);
    if (m === undefined) expect(() => real.lb.setWeight(this.id, this.weight)).toThrow(UnknownIdError);
    else {
      real.lb.setWeight(this.id, this.weight);
      m.weight = this.weight;
    }
    checkInvariants(model, real);
  }
  toString(): string {
    return `setWeight(${this.id},${this.weight})`;
  }
}

class MarkCommand implements fc.Command<Model, Real> {
  constructor(
    readonly id: string,
    readonly down: boolean,
  ) {}
  check(): boolean {
    return true;
  }
  run(model: Model, real: Real): void {
    const m = model.members.find((x) => x.id === this.id);
    const call = () => (this.down ? real.lb.markDown(this.id) : real.lb.markUp(this.id));
    if (m === undefined) expect(call).toThrow(UnknownIdError);
    else {
      call();
      m.down = this.down;
    }
    checkInvariants(model, real);
  }
  toString(): string {
    return `${this.down ? 'markDown' : 'markUp'}(${this.id})`;
  }
}

class PickCommand implements fc.Command<Model, Real> {
  constructor(
    readonly exclude: readonly string[],
    readonly acquire: boolean,
  ) {}
  check(): boolean {
    return true;
  }
  run(model: Model, real: Real): void {
    pickAndCheck(model, real, this.exclude, this.acquire);
    checkInvariants(model, real);
  }
  toString(): string {
    return `${this.acquire ? 'acquire' : 'pick'}(exclude=${this.exclude.join(',')})`;
  }
}

class ReleaseCommand implements fc.Command<Model, Real> {
  constructor(
    readonly index: number,
    readonly ok: boolean,
    readonly twice: boolean,
  ) {}
  check(model: Readonly<Model>): boolean {
    return model.leases.length > 0;
  }
  run(model: Model, real: Real): void {
    const [entry] = model.leases.splice(this.index % model.leases.length, 1);
    const { lease, id, incarnation } = entry!;
    expect(lease.release(this.ok ? 'success' : 'failure')).toBe(true);
    if (this.twice) expect(lease.release('failure')).toBe(false);
    const m = model.members.find((x) => x.id === id);
    if (m !== undefined && m.incarnation === incarnation) m.active--;
    checkInvariants(model, real);
  }
  toString(): string {
    return `release(#${this.index},${this.ok ? 'ok' : 'fail'}${this.twice ? ',twice' : ''})`;
  }
}

function commandArbitraries(): fc.Arbitrary<fc.Command<Model, Real>>[] {
  const id = fc.constantFrom(...ID_POOL);
  const exclude = fc.subarray(ID_POOL, { maxLength: 3 });
  return [
    fc
      .tuple(id, fc.integer({ min: 1, max: 9 }), fc.boolean(), fc.oneof(fc.constant(Number.POSITIVE_INFINITY), fc.integer({ min: 1, max: 3 })))
      .map(([i, w, b, max]) => new AddCommand(i, w, b && i === 'f', max)),
    id.map((i) => new RemoveCommand(i)),
    fc.uniqueArray(id, { maxLength: 5 }).map((order) => new SetTargetsCommand(order)),
    fc.tuple(id, fc.integer({ min: 1, max: 9 })).map(([i, w]) => new SetWeightCommand(i, w)),
    fc.tuple(id, fc.boolean()).map(([i, d]) => new MarkCommand(i, d)),
    fc.tuple(exclude, fc.boolean()).map(([ex, a]) => new PickCommand(ex, a)),
    fc.tuple(exclude, fc.constant(true)).map(([ex, a]) => new PickCommand(ex, a)),
    fc.tuple(fc.nat(), fc.boolean(), fc.boolean()).map(([i, ok, twice]) => new ReleaseCommand(i, ok, twice)),
  ];
}

export { ids };
