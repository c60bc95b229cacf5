import { describe, expect, it } from 'vitest';
import { Hcl, LeastTime, PeakEwma, withRetry, type Balancer, type BalancerOptions } from '../../src/index.js';
import { conformance } from '../conformance.js';

/**
 * Latency-aware balancers route on measured time, so time is an input like randomness: each
 * instance gets its own clock that moves 0.25 ms per reading, and a seed then fixes every pick
 * ("is deterministic under a seed" would otherwise depend on the machine's speed).
 */
function stepClock(): () => number {
  let t = 0;
  return () => (t += 0.25);
}

// The shared contract, unchanged, for the latency-aware balancers and their main variants.
conformance({ name: 'PeakEwma', create: (targets, options) => new PeakEwma(targets, { now: stepClock(), ...options }) });
conformance({
  name: "PeakEwma(noHistory: 'penalty', choices: 3)",
  create: (targets, options) => new PeakEwma(targets, { now: stepClock(), ...options, noHistory: 'penalty', choices: 3 }),
});
conformance({ name: 'LeastTime', create: (targets, options) => new LeastTime(targets, { now: stepClock(), ...options }) });
conformance({ name: 'LeastTime(factor: 0)', create: (targets, options) => new LeastTime(targets, { now: stepClock(), ...options, factor: 0 }) });
conformance({ name: 'Hcl', create: (targets, options) => new Hcl(targets, { now: stepClock(), ...options }) });
conformance({
  name: 'Hcl(choices: 2, quantile: 0.5)',
  create: (targets, options) => new Hcl(targets, { now: stepClock(), ...options, choices: 2, quantile: 0.5 }),
});

// ---- with health, slow start and withRetry ---------------------------------------------------

type Make = (targets: readonly string[], options: BalancerOptions) => Balancer<string>;
const makers: [string, Make][] = [
  ['PeakEwma', (t, o) => new PeakEwma(t, o)],
  ['LeastTime', (t, o) => new LeastTime(t, o)],
  ['Hcl', (t, o) => new Hcl(t, o)],
];

for (const [name, make] of makers) {
  describe(`${name}: with health features and withRetry`, () => {
    it('withRetry retries elsewhere; passive failure counting takes the failing target out', async () => {
      let t = 0;
      const now = () => t;
      const lb = make(['bad', 'good1', 'good2'], { now, seed: 3, passive: { maxFails: 1, failTimeoutMs: 10_000 } });
      for (let i = 0; i < 20; i++) {
        const got = await withRetry(
          lb,
          async (target) => {
            t += 5;
            if (target === 'bad') throw new Error('down');
            return target;
          },
          { now },
        );
        expect(got).not.toBe('bad');
      }
      expect(lb.stats().find((s) => s.id === 'bad')!.failures).toBeLessThanOrEqual(1);
      for (const s of lb.stats()) expect(s.active).toBe(0);
    });

    it('outlier ejection and return; slow start ramps the returning target', () => {
      let t = 0;
      const lb = make(['a', 'b', 'c', 'd'], {
        now: () => t,
        seed: 4,
        outlier: { consecutiveFailures: 2, baseEjectionTimeMs: 1_000, maxEjectionPercent: 50 },
        slowStart: { windowMs: 1_000, minWeightPercent: 10 },
      });
      for (let i = 0; i < 2; i++) lb.acquire({ exclude: ['b', 'c', 'd'] }).release('failure');
      expect(lb.stats()[0]!.state).toBe('ejected');
      for (let i = 0; i < 50; i++) expect(lb.pick()).not.toBe('a');
      t = 1_001;
      lb.pick();
      expect(lb.stats()[0]!.state).toBe('slow-start');
      expect(lb.stats()[0]!.effectiveWeight).toBeLessThan(1);
      t = 2_500;
      lb.pick();
      expect(lb.stats()[0]).toMatchObject({ state: 'up', effectiveWeight: 1 });
    });
  });
}
