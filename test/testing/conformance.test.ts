import { describe, expect, it } from 'vitest';
import * as lw from '../../src/index.js';
import type { Balancer } from '../../src/index.js';
import {
  ConformanceError,
  LoadwiseAssertionError,
  conformanceCases,
  expectConformance,
  runConformance,
  type BalancerFactory,
  type ConformanceCheckId,
  type ConformanceTarget,
} from '../../src/testing/index.js';
import { ForgetfulSetTargets, IgnoresDown, IgnoresExclude, ReleaseNotIdempotent, SimpleBalancer, UncodedEmptyError } from './simple-balancer.js';

type Ctor = new (targets: readonly ConformanceTarget[], options?: { seed?: number }) => Balancer<ConformanceTarget>;
const key = (i: number) => `key-${i}`;
const address = (i: number) => `10.${i % 7}.${(i * 37) % 256}.${i % 256}`;

const subjects: { name: string; factory: BalancerFactory; key?: (i: number) => string }[] = [];
for (const name of ['RoundRobin', 'WeightedRoundRobin', 'Random', 'WeightedRandom', 'LeastConnections', 'PowerOfTwoChoices']) {
  const C = (lw as unknown as Record<string, Ctor>)[name]!;
  subjects.push({ name, factory: (targets, { seed }) => new C(targets, { seed }) });
}
for (const name of ['ConsistentHash', 'Maglev', 'Rendezvous', 'JumpHash', 'ModuloHash']) {
  const C = (lw as unknown as Record<string, Ctor>)[name]!;
  subjects.push({ name, key, factory: (targets, { seed }) => new C(targets, { seed }) });
}
subjects.push({ name: 'IpHash', key: address, factory: (targets, { seed }) => new lw.IpHash(targets, { seed }) });
subjects.push({ name: "ConsistentHash(compat: 'nginx', loadFactor: 1.25)", key, factory: (t, { seed }) => new lw.ConsistentHash(t, { seed, compat: 'nginx', loadFactor: 1.25 }) });
// The latency-aware balancers, once they are exported; with a fixed clock, since they read time.
type TimedCtor = new (targets: readonly ConformanceTarget[], options?: { seed?: number; now?: () => number }) => Balancer<ConformanceTarget>;
for (const name of ['PeakEwma', 'LeastTime', 'Hcl']) {
  const C = (lw as unknown as Record<string, TimedCtor | undefined>)[name];
  if (typeof C === 'function') subjects.push({ name, factory: (targets, { seed }) => new C(targets, { seed, now: () => 0 }) });
}

const failed = (results: ReturnType<typeof runConformance>) => results.filter((r) => !r.ok).map((r) => r.id);

// Maglev rebuilds its 65,537-entry table and ConsistentHash its ring on every membership or
// weight change, so their 40 random sequences (the default) run as separate tests of 5 each:
// the same 40 seeds, as 'sequences' derives sequence r's seed as base + r · 0x9e3779b1.
const SEQUENCES = 40;
const SEQUENCE_STEP = 0x9e3779b1;
const sequenceParts: Record<string, number> = { Maglev: 8, ConsistentHash: 4 };

describe('runConformance passes for every loadwise balancer', () => {
  const summary = (results: ReturnType<typeof runConformance>) => results.filter((r) => !r.ok).map((r) => `${r.id}: ${r.error?.message}`);
  for (const s of subjects) {
    const keyed = s.key === undefined ? {} : { key: s.key };
    const parts = sequenceParts[s.name] ?? 1;
    if (parts === 1) {
      it(s.name, () => {
        const results = runConformance(s.factory, { ...keyed, deterministic: true });
        expect(summary(results)).toEqual([]);
        expect(results.length).toBe(16);
      });
      continue;
    }
    it(`${s.name} (every check but the random sequences)`, () => {
      const results = runConformance(s.factory, { ...keyed, deterministic: true, skip: ['sequences'] });
      expect(summary(results)).toEqual([]);
      expect(results.length).toBe(15);
    });
    const per = SEQUENCES / parts;
    for (let part = 0; part < parts; part++) {
      it(`${s.name} (random sequences ${part * per + 1}–${(part + 1) * per} of ${SEQUENCES})`, () => {
        const seed = (1 + part * per * SEQUENCE_STEP) >>> 0;
        const results = runConformance(s.factory, { ...keyed, only: ['sequences'], sequences: per, seed });
        expect(summary(results)).toEqual([]);
        expect(results.map((r) => r.id)).toEqual(['sequences']);
      });
    }
  }
});

describe('runConformance on user balancers', () => {
  const factory =
    (C: typeof SimpleBalancer): BalancerFactory =>
    (targets, { seed }) =>
      new C(targets, seed);

  it('passes a correct from-scratch implementation whose errors only carry the codes', () => {
    expect(failed(runConformance(factory(SimpleBalancer), { deterministic: true }))).toEqual([]);
    expect(() => expectConformance(factory(SimpleBalancer))).not.toThrow();
  });

  const broken: [string, typeof SimpleBalancer, ConformanceCheckId[]][] = [
    ['ignores exclude', IgnoresExclude, ['exclude', 'backup', 'sequences']],
    ['release is not idempotent', ReleaseNotIdempotent, ['leases', 'sequences']],
    ['throws an error without a code when empty', UncodedEmptyError, ['empty', 'exclude', 'down', 'max-active', 'add-remove', 'sequences']],
    ['setTargets forgets state', ForgetfulSetTargets, ['set-targets', 'sequences']],
    ['picks down targets when nothing else is left', IgnoresDown, ['down', 'sequences']],
  ];
  for (const [what, C, checks] of broken) {
    it(`fails one that ${what}`, () => {
      const results = runConformance(factory(C));
      for (const id of checks) expect(failed(results), id).toContain(id);
      for (const r of results.filter((x) => !x.ok)) expect(r.error).toBeInstanceOf(Error);
    });
  }

  it('explains a failure: what was called, what was expected, what happened', () => {
    const results = runConformance(factory(IgnoresExclude), { only: ['exclude'] });
    expect(results).toHaveLength(1);
    expect(results[0]!.error).toBeInstanceOf(LoadwiseAssertionError);
    expect(results[0]!.error!.message).toMatch(/pick excluding a and c \(#\d+\): expected "b", got "[ac]"/);

    const empty = runConformance(factory(UncodedEmptyError), { only: ['empty'] });
    expect(empty[0]!.error!.message).toContain("expected an error with code ERR_NO_TARGET, got code undefined (Error: no backends)");

    const seq = runConformance(factory(ReleaseNotIdempotent), { only: ['sequences'], seed: 7 });
    expect(seq[0]!.error!.message).toMatch(/random operation sequence \(seed \d+\) failed after \d+ operations/);
    expect(seq[0]!.error!.message).toContain('release(');
  });

  it('expectConformance throws one ConformanceError listing every failed check', () => {
    let caught: unknown;
    try {
      expectConformance(factory(ReleaseNotIdempotent));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConformanceError);
    const err = caught as ConformanceError;
    expect(err.code).toBe('ERR_CONFORMANCE');
    expect(err.failures.map((f) => f.id)).toEqual(expect.arrayContaining(['leases', 'sequences']));
    expect(err.results.length).toBeGreaterThan(err.failures.length);
    expect(err.message).toMatch(/^\d+ of 15 conformance checks failed:\n- leases: /);
  });

  it('records a balancer that throws unexpectedly as a failed check', () => {
    const results = runConformance(() => {
      throw new TypeError('constructor exploded');
    });
    expect(results.every((r) => !r.ok)).toBe(true);
    expect(results[0]!.error!.message).toBe('constructor exploded');
  });

  it('reports a factory that returns something else', () => {
    const results = runConformance((() => 42) as unknown as BalancerFactory, { only: ['members'] });
    expect(results[0]!.error!.message).toContain('the factory returned 42, not a balancer');
  });
});

describe('conformanceCases', () => {
  it('hands out lazy named cases for any runner, honouring skip, only and deterministic', () => {
    let built = 0;
    const f: BalancerFactory = (targets, { seed }) => {
      built++;
      return new SimpleBalancer(targets, seed);
    };
    const cases = conformanceCases(f, { skip: ['strings', 'sequences'] });
    expect(built).toBe(0);
    expect(cases.map((c) => c.id)).not.toContain('strings');
    expect(cases.map((c) => c.id)).not.toContain('deterministic');
    for (const c of cases) {
      expect(typeof c.name).toBe('string');
      c.run();
    }
    expect(built).toBeGreaterThan(0);
    expect(conformanceCases(f, { only: ['deterministic'] }).map((c) => c.id)).toEqual(['deterministic']);
    expect(conformanceCases(f, { deterministic: true }).map((c) => c.id)).toContain('deterministic');
  });

  it('rejects a non-function factory', () => {
    expect(() => conformanceCases(42 as unknown as BalancerFactory)).toThrow(TypeError);
  });
});
