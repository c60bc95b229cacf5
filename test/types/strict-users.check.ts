/**
 * Compile-time test, never run: code a user with `exactOptionalPropertyTypes` writes, passing
 * values that may be `undefined` straight through to optional fields (the runtime treats an
 * explicit `undefined` exactly as an absent field; test/types/strict-users.test.ts checks that).
 * `npm run typecheck` (tsconfig.test.json, which has `exactOptionalPropertyTypes`) compiles it;
 * before the public optional fields were declared `?: T | undefined`, every call below was
 * TS2379/TS2345. The `@ts-expect-error` lines pin the error classes' narrowed `code`.
 */
import {
  ConsistentHash,
  HealthChecker,
  LeastTime,
  LoadwiseError,
  Maglev,
  NoTargetError,
  InvalidOptionError,
  InvalidWeightError,
  PeakEwma,
  PowerOfTwoChoices,
  RetryBudget,
  RoundRobin,
  WeightedRoundRobin,
  withRetry,
  type Balancer,
  type BalancerOptions,
  type Outcome,
  type PickRequest,
  type Target,
} from '../../src/index.js';
import { balancedFetch } from '../../src/fetch/index.js';
import { cluster, exponential, runScenario, scenarios, simulate } from '../../src/sim/index.js';
import { checkShares, expectMinimalDisruption, runConformance } from '../../src/testing/index.js';

declare const maybeKey: string | undefined;
declare const maybeExclude: readonly string[] | undefined;
declare const maybeSignal: AbortSignal | undefined;
declare const maybeWeight: number | undefined;
declare const maybeBackup: boolean | undefined;
declare const maybeMaxActive: number | undefined;
declare const maybeNumber: number | undefined;
declare const maybeSeed: number | undefined;
declare const maybeLatency: number | undefined;
declare const maybeRandom: (() => number) | undefined;
declare const maybeString: string | undefined;

export function strictUsers(): void {
  // Target fields.
  const target: Target = { id: 'a', weight: maybeWeight, backup: maybeBackup, maxActive: maybeMaxActive };
  const targets = [{ id: 'a', weight: maybeWeight, url: 'http://a' }, { id: 'b', weight: maybeWeight, url: 'http://b' }];
  const wrr = new WeightedRoundRobin(targets, { seed: maybeSeed, random: maybeRandom, passive: undefined, outlier: undefined });
  wrr.add({ id: 'c', weight: maybeWeight, url: 'http://c' });
  new RoundRobin([target]);

  // Pick requests and outcomes.
  const request: PickRequest = { key: maybeKey, exclude: maybeExclude };
  const hashed = new ConsistentHash(['a', 'b'], { loadFactor: maybeNumber, compat: undefined, pointsPerWeight: maybeNumber });
  hashed.pick({ key: maybeKey });
  hashed.acquire(request).release({ ok: true, latencyMs: maybeLatency });
  const outcome: Outcome = { ok: false, latencyMs: maybeLatency };
  wrr.acquire({ exclude: maybeExclude }).release(outcome);

  // Every option group.
  const common: BalancerOptions = {
    seed: maybeSeed,
    random: maybeRandom,
    now: undefined,
    passive: { maxFails: maybeNumber, failTimeoutMs: maybeNumber },
    outlier: { consecutiveFailures: maybeNumber, successRate: { stdevFactor: maybeNumber }, failurePercentage: undefined },
    slowStart: { windowMs: 1000, aggression: maybeNumber, minWeightPercent: maybeNumber },
    panicThreshold: undefined,
    onEvent: undefined,
  };
  new PowerOfTwoChoices(['a', 'b'], { ...common, choices: maybeNumber });
  new PeakEwma(['a', 'b'], { decayMs: maybeNumber, choices: maybeNumber, noHistory: undefined, defaultRttMs: maybeNumber, penalty: maybeNumber });
  new LeastTime(['a', 'b'], { factor: maybeNumber, mode: undefined, decayMs: maybeNumber });
  new Maglev(['a', 'b'], { tableSize: maybeNumber, loadFactor: maybeNumber });

  // Health checks, retries, budgets.
  new HealthChecker(wrr, async () => true, { intervalMs: maybeNumber, timeoutMs: maybeNumber, seed: maybeSeed, onChange: undefined });
  const budget = new RetryBudget({ ttlMs: maybeNumber, percentCanRetry: maybeNumber, now: undefined });
  void withRetry(wrr, async (t) => t.url, {
    attempts: maybeNumber,
    key: maybeKey,
    exclude: maybeExclude,
    prefer: maybeString,
    signal: maybeSignal,
    timeoutMs: maybeNumber,
    backoff: { baseMs: 10, maxMs: maybeNumber },
    budget,
    isRetryable: undefined,
    retryOnResult: undefined,
  });
  balancedFetch(wrr, { retry: { tries: maybeNumber, timeoutMs: maybeNumber }, key: undefined });

  // loadwise/sim and loadwise/testing options.
  const servers = cluster(3, { service: exponential(10), weight: maybeWeight, speed: maybeNumber }, { 1: { speed: maybeNumber } });
  simulate({ ...scenarios.homogeneous, servers, seed: maybeSeed, warmupMs: maybeNumber }, scenarios.homogeneous.algorithms[0]!, { seed: maybeSeed });
  runScenario(scenarios.homogeneous, { seed: maybeSeed, only: undefined });
  checkShares({ a: 1 }, { a: 1 }, { confidence: maybeNumber, exact: undefined, tolerance: maybeNumber, message: maybeString });
  expectMinimalDisruption(hashed, hashed, 10, { confidence: maybeNumber, slack: maybeNumber, collateral: maybeNumber });
  runConformance((t, o) => new RoundRobin(t, o), { seed: maybeSeed, steps: maybeNumber, skip: undefined });
}

export function narrowedCodes(err: unknown, lb: Balancer): void {
  if (err instanceof NoTargetError) {
    const code: 'ERR_NO_TARGET' | 'ERR_TARGETS_AT_CAPACITY' = err.code;
    // @ts-expect-error a NoTargetError never carries another error's code
    if (err.code === 'ERR_INVALID_OPTION') lb.pick();
    void code;
  }
  if (err instanceof InvalidOptionError) {
    const code: 'ERR_INVALID_OPTION' = err.code;
    void code;
  }
  if (err instanceof InvalidWeightError) {
    const code: 'ERR_INVALID_WEIGHT' = err.code;
    void code;
  }
  if (LoadwiseError.is(err) && err.code === 'ERR_NO_TARGET') lb.pick();
}
