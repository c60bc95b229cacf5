/**
 * Every balancer class (and the option sets that change how it picks), built the same way, for
 * tests that must hold for all of them: twins that must behave alike, bad inputs that must leave
 * no trace. Hash classes get a key for every pick.
 */
import {
  ConsistentHash,
  Hcl,
  IpHash,
  JumpHash,
  LeastConnections,
  LeastTime,
  Maglev,
  ModuloHash,
  PeakEwma,
  PowerOfTwoChoices,
  Random,
  Rendezvous,
  RoundRobin,
  WeightedRandom,
  WeightedRoundRobin,
  type Balancer,
  type BalancerOptions,
  type Target,
} from '../../src/index.js';

/** Every balancer class, by name: the one list the tests, the fuzzer and the soak take them from. */
export const BALANCER_CLASSES = {
  RoundRobin,
  WeightedRoundRobin,
  Random,
  WeightedRandom,
  LeastConnections,
  PowerOfTwoChoices,
  PeakEwma,
  LeastTime,
  Hcl,
  ConsistentHash,
  Maglev,
  Rendezvous,
  JumpHash,
  IpHash,
  ModuloHash,
} as const;

export type ClassName = keyof typeof BALANCER_CLASSES;

/** A class in one of its modes: its name, with the mode in parentheses ('ConsistentHash(nginx)'). */
export type VariantName = ClassName | `${ClassName}(${string})`;

/** The class a {@link VariantName} names. */
export function classOf(name: VariantName): (typeof BALANCER_CLASSES)[ClassName] {
  return BALANCER_CLASSES[name.replace(/\(.*\)$/, '') as ClassName];
}

export interface ClassCase {
  readonly name: string;
  /** Integer weights only (nginx-compatible hash modes, JumpHash). */
  readonly integerWeights: boolean;
  /** Routes by key: every pick needs one. */
  readonly hashed: boolean;
  create<T extends Target>(targets: readonly T[], options?: BalancerOptions): Balancer<T>;
}

const plain = (name: string, create: ClassCase['create'], integerWeights = false): ClassCase => ({ name, integerWeights, hashed: false, create });
const hashed = (name: string, create: ClassCase['create'], integerWeights = false): ClassCase => ({ name, integerWeights, hashed: true, create });

export const CLASSES: readonly ClassCase[] = [
  plain('RoundRobin', (t, o) => new RoundRobin(t, o)),
  plain('WeightedRoundRobin', (t, o) => new WeightedRoundRobin(t, o)),
  plain('Random', (t, o) => new Random(t, o)),
  plain('WeightedRandom', (t, o) => new WeightedRandom(t, o)),
  plain('LeastConnections', (t, o) => new LeastConnections(t, o)),
  plain('PowerOfTwoChoices', (t, o) => new PowerOfTwoChoices(t, o)),
  plain('PeakEwma', (t, o) => new PeakEwma(t, o)),
  plain('LeastTime', (t, o) => new LeastTime(t, o)),
  plain('Hcl', (t, o) => new Hcl(t, o)),
  hashed('ConsistentHash', (t, o) => new ConsistentHash(t, o)),
  hashed('ConsistentHash(nginx)', (t, o) => new ConsistentHash(t, { ...o, compat: 'nginx' }), true),
  hashed('ConsistentHash(ketama)', (t, o) => new ConsistentHash(t, { ...o, compat: 'ketama' })),
  hashed('Maglev', (t, o) => new Maglev(t, o)),
  hashed('Maglev(loadFactor)', (t, o) => new Maglev(t, { ...o, loadFactor: 1.25 })),
  hashed('Rendezvous', (t, o) => new Rendezvous(t, o)),
  hashed('JumpHash', (t, o) => new JumpHash(t, o), true),
  hashed('IpHash', (t, o) => new IpHash(t, o), true),
  hashed('ModuloHash', (t, o) => new ModuloHash(t, o), true),
];

/** The pick input for step `i`: a key for the hash classes, optionally with exclusions. */
export function request(c: ClassCase, i: number, exclude?: readonly string[]): { key?: string; exclude?: readonly string[] } {
  const key = `10.0.${i & 255}.${(i * 7) & 255}`;
  if (exclude === undefined) return c.hashed ? { key } : {};
  return c.hashed ? { key, exclude } : { exclude };
}

/**
 * A fixed script of acquires (every fifth excluding 'b') and releases (some failed, some with
 * latencies, some left open) whose chosen ids are returned: two balancers that behave alike
 * give equal scripts.
 */
export function script<T extends Target>(c: ClassCase, lb: Balancer<T>, steps = 60, from = 0): string[] {
  const out: string[] = [];
  const open: { release(outcome?: 'success' | 'failure' | { ok: boolean; latencyMs?: number }): unknown }[] = [];
  for (let i = from; i < from + steps; i++) {
    let lease;
    try {
      // Every fifth step excludes 'b', so that picks also run the filtered path.
      lease = lb.acquire(request(c, i, i % 5 === 4 ? ['b'] : undefined));
    } catch (err) {
      out.push(`threw ${(err as { code?: string }).code ?? String(err)}`);
      continue;
    }
    const t = lease.target;
    out.push(typeof t === 'string' ? t : t.id);
    open.push(lease);
    if (i % 3 === 0) open.shift()!.release({ ok: i % 9 !== 0, latencyMs: (i * 37) % 50 });
    else if (i % 3 === 1 && open.length > 4) open.shift()!.release('success');
  }
  for (const l of open) l.release('success');
  return out;
}
