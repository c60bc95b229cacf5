/**
 * One catalogue case: a kind of bad input applied to one twin of a variant, then both twins
 * probed and compared. See `catalogue.ts` for the kinds and `catalogue.test.ts` for the rules.
 */
import type { Balancer, Target } from '../../src/index.js';
import {
  baseTargets,
  build,
  classify,
  firstDifference,
  makeEnv,
  outcomeText,
  probe,
  type Env,
  type Flags,
  type Outcome,
  type ProbeResult,
  type Variant,
} from './twins.js';

export interface Ctx {
  readonly v: Variant;
  readonly env: Env;
  /** The twin; a constructor kind sets it to what it built. */
  lb: Balancer<Target>;
  /** Invariant violations an act found on its own (a leaked lease, a bad timer delay). */
  readonly problems: string[];
}

export interface Kind {
  /** The entry point: `ctor.targets`, `add`, `pick`, `withRetry`, … */
  readonly entry: string;
  /** What is bad about the input. */
  readonly kind: string;
  readonly applies?: (v: Variant) => boolean;
  /** Run on both twins before the act. */
  readonly setup?: (c: Ctx) => void;
  /**
   * The call with the bad input, on twin A. Replayed on twin B when A succeeded (or always when
   * not `atomic`), so that both twins have seen the same calls when they are compared.
   */
  readonly act: (c: Ctx) => unknown;
  /** Builds a balancer: nothing to compare when it throws. */
  readonly ctor?: boolean;
  /** False: the call may change state even when it fails (withRetry's attempts): B replays it too. */
  readonly atomic?: boolean;
  /** The act must throw a coded LoadwiseError (a documented-invalid input), for every variant or those the function picks. */
  readonly expect?: 'coded' | ((v: Variant) => boolean);
  /** Awaited (with a time bound). */
  readonly async?: boolean;
  /** Extra checks on the act's value when it succeeded. */
  readonly check?: (c: Ctx, value: unknown, problems: string[]) => void;
  /** Run on both twins after the act (default: release the leases the act opened). */
  readonly teardown?: (c: Ctx) => void;
  readonly flags?: Partial<Flags>;
  /**
   * Run on every `spread`-th variant only (rotating with the kind's position, so every variant
   * gets its share): inputs that only the shared code sees need not meet all 20 variants.
   */
  readonly spread?: number;
}

export interface Case {
  readonly id: string;
  readonly variant: string;
  readonly entry: string;
  readonly kind: string;
  readonly async: boolean;
  run(): CaseResult | Promise<CaseResult>;
}

export interface CaseResult {
  readonly pass: boolean;
  /** Why it failed: raw error, invariant, divergence, accepted bad input, hang. */
  readonly why?: string;
  /** What the act did on twin A. */
  readonly act: string;
}

/** How long an async act may take before it counts as a hang. */
export const ASYNC_BOUND_MS = 1_500;
const HUNG = Symbol('hung');

function bounded<V>(p: Promise<V>): Promise<V | typeof HUNG> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<typeof HUNG>((resolve) => {
    timer = setTimeout(() => resolve(HUNG), ASYNC_BOUND_MS);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

function releaseAll(c: Ctx): void {
  for (const l of c.env.leases.splice(0)) {
    try {
      l.release('success');
    } catch {
      // a hostile lease; the probe will see what it left
    }
  }
}

function twin(v: Variant, k: Kind): Ctx {
  const env = makeEnv();
  Object.assign(env.flags, k.flags);
  const c: Ctx = { v, env, lb: undefined as unknown as Balancer<Target>, problems: [] };
  if (!k.ctor) c.lb = build(v, env, baseTargets());
  return c;
}

export function makeCase(v: Variant, k: Kind): Case {
  const id = `${v.name}/${k.entry}/${k.kind}`;
  return {
    id,
    variant: v.name,
    entry: k.entry,
    kind: k.kind,
    async: k.async === true,
    run: k.async === true ? () => runAsync(v, k) : () => runSync(v, k),
  };
}

function act(k: Kind, c: Ctx): { o: Outcome; value: unknown } {
  try {
    const value = k.act(c);
    return { o: { kind: 'ok' }, value };
  } catch (err) {
    return { o: classify(err), value: undefined };
  }
}

async function actAsync(k: Kind, c: Ctx): Promise<{ o: Outcome | 'hung'; value: unknown }> {
  try {
    const r = await bounded(Promise.resolve().then(() => k.act(c)));
    if (r === HUNG) return { o: 'hung', value: undefined };
    return { o: { kind: 'ok' }, value: r };
  } catch (err) {
    return { o: classify(err), value: undefined };
  }
}

/** Twins A and B of `v`, each through `k.setup`; or the failed result when that throws. */
function setUpTwins(v: Variant, k: Kind): { a: Ctx; b: Ctx } | CaseResult {
  try {
    const a = twin(v, k);
    const b = twin(v, k);
    k.setup?.(a);
    k.setup?.(b);
    return { a, b };
  } catch (err) {
    return { pass: false, why: `harness: the twins could not be set up: ${classify(err).kind} ${String(err)}`, act: '-' };
  }
}

function runSync(v: Variant, k: Kind): CaseResult {
  const pair = setUpTwins(v, k);
  if ('pass' in pair) return pair;
  const { a, b } = pair;
  const problems: string[] = [];
  const ra = act(k, a);
  judge(k, a, ra.o, ra.value, problems);
  const replay = k.atomic === false || ra.o.kind === 'ok';
  if (replay) {
    const rb = act(k, b);
    if (outcomeText(rb.o) !== outcomeText(ra.o)) problems.push(`not deterministic: the replay on twin B gave ${outcomeText(rb.o)}`);
  }
  return finish(k, a, b, ra.o, replay, problems);
}

async function runAsync(v: Variant, k: Kind): Promise<CaseResult> {
  const pair = setUpTwins(v, k);
  if ('pass' in pair) return pair;
  const { a, b } = pair;
  const problems: string[] = [];
  const ra = await actAsync(k, a);
  if (ra.o === 'hung') return { pass: false, why: `hang: the call did not settle within ${ASYNC_BOUND_MS} ms`, act: 'hung' };
  judge(k, a, ra.o, ra.value, problems);
  const replay = k.atomic === false || ra.o.kind === 'ok';
  if (replay) {
    const rb = await actAsync(k, b);
    if (rb.o === 'hung') problems.push('not deterministic: the replay on twin B did not settle');
    else if (outcomeText(rb.o) !== outcomeText(ra.o)) problems.push(`not deterministic: the replay on twin B gave ${outcomeText(rb.o)}`);
  }
  return finish(k, a, b, ra.o, replay, problems);
}

function judge(k: Kind, a: Ctx, o: Outcome, value: unknown, problems: string[]): void {
  if (o.kind === 'raw') problems.push(`raw error escaped: ${o.text}`);
  for (const p of a.problems) problems.push(p);
  const mustThrow = typeof k.expect === 'function' ? k.expect(a.v) : k.expect === 'coded';
  if (mustThrow && o.kind !== 'coded') problems.push(`accepted bad input: expected a coded LoadwiseError, got ${outcomeText(o)}`);
  if (o.kind === 'ok' && k.check !== undefined) {
    try {
      k.check(a, value, problems);
    } catch (err) {
      const c = classify(err);
      problems.push(`check: ${c.kind === 'raw' ? 'raw ' : ''}${outcomeText(c)}`);
    }
  }
}

function finish(k: Kind, a: Ctx, b: Ctx, o: Outcome, replayed: boolean, problems: string[]): CaseResult {
  const actText = outcomeText(o);
  // A constructor that threw left nothing to compare.
  if (k.ctor === true && (o.kind !== 'ok' || !replayed)) return result(problems, actText);
  for (const c of [a, b]) {
    try {
      (k.teardown ?? releaseAll)(c);
    } catch (err) {
      const t = classify(err);
      if (t.kind === 'raw') problems.push(`teardown: raw ${t.text}`);
    }
  }
  const pa: ProbeResult = { trace: [], problems: [] };
  const pb: ProbeResult = { trace: [], problems: [] };
  probe(a.lb, a.env, a.v, pa);
  probe(b.lb, b.env, b.v, pb);
  for (const p of pa.problems) problems.push(`twin A: ${p}`);
  for (const p of pb.problems) if (!pa.problems.includes(p)) problems.push(`twin B: ${p}`);
  const diff = firstDifference(pa.trace, pb.trace);
  if (diff !== undefined) {
    problems.push(
      replayed ? `twins diverged although both saw the same calls: ${diff}` : `the failed call (${actText}) changed state: ${diff}`,
    );
  }
  return result(problems, actText);
}

function result(problems: readonly string[], act: string): CaseResult {
  if (problems.length === 0) return { pass: true, act };
  return { pass: false, why: problems.slice(0, 4).join(' | '), act };
}
