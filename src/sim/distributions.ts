import { InvalidOptionError } from '../core/errors.js';
import type { RandomSource } from '../core/rng.js';
import { exp, ln } from './math.js';

/**
 * A distribution of non-negative durations in ms (service times, think times), as plain data so
 * that scenarios can be printed, compared and stored as JSON. Build them with {@link constant},
 * {@link exponential}, {@link logNormal}, {@link bimodal} and {@link empirical}.
 *
 * @example
 * ```ts
 * import type { Distribution } from 'loadwise/sim';
 * const service: Distribution = { type: 'exponential', mean: 10 };
 * ```
 */
export type Distribution =
  | { readonly type: 'constant'; readonly value: number }
  | { readonly type: 'exponential'; readonly mean: number }
  | {
      readonly type: 'lognormal';
      readonly mean: number;
      /** Standard deviation of the underlying normal (of `ln(x)`). */
      readonly sigma: number;
    }
  | {
      readonly type: 'bimodal';
      readonly fast: Distribution;
      readonly slow: Distribution;
      /** Probability of a draw from `slow`, in [0, 1]. */
      readonly slowFraction: number;
    }
  | { readonly type: 'empirical'; readonly samples: readonly number[] };

/**
 * Always `value` ms.
 *
 * @example
 * ```ts
 * import { constant } from 'loadwise/sim';
 * constant(5); // { type: 'constant', value: 5 }
 * ```
 */
export function constant(value: number): Distribution {
  return { type: 'constant', value };
}

/**
 * Exponential with the given mean (memoryless: the M in M/M/c).
 *
 * @example
 * ```ts
 * import { exponential } from 'loadwise/sim';
 * exponential(10); // mean 10 ms, standard deviation 10 ms
 * ```
 */
export function exponential(mean: number): Distribution {
  return { type: 'exponential', mean };
}

/**
 * Log-normal with the given mean and shape `sigma` (the standard deviation of `ln(x)`): the
 * usual model of request latency, with a long right tail. The median is
 * `mean × exp(-sigma² / 2)` and the p99 is `median × exp(2.326 × sigma)`.
 *
 * @example
 * ```ts
 * import { logNormal } from 'loadwise/sim';
 * logNormal(10, 1); // mean 10 ms, median 6.07 ms, p99 62 ms
 * ```
 */
export function logNormal(mean: number, sigma: number): Distribution {
  return { type: 'lognormal', mean, sigma };
}

/**
 * A mixture of two modes, e.g. cache hits and misses: a draw comes from `slow` with probability
 * `slowFraction`, else from `fast`. A number stands for a constant.
 *
 * @example
 * ```ts
 * import { bimodal, exponential } from 'loadwise/sim';
 * bimodal(2, exponential(50), 0.1); // 90 % take 2 ms, 10 % take ~50 ms
 * ```
 */
export function bimodal(fast: Distribution | number, slow: Distribution | number, slowFraction: number): Distribution {
  return {
    type: 'bimodal',
    fast: typeof fast === 'number' ? constant(fast) : fast,
    slow: typeof slow === 'number' ? constant(slow) : slow,
    slowFraction,
  };
}

/**
 * Resamples measured durations (each draw is one of `samples`, uniformly): replay a production
 * latency histogram. The array is copied.
 *
 * @example
 * ```ts
 * import { empirical } from 'loadwise/sim';
 * empirical([3.1, 4.0, 4.2, 5.5, 120]);
 * ```
 */
export function empirical(samples: readonly number[]): Distribution {
  return { type: 'empirical', samples: samples.slice() };
}

/**
 * The analytic mean of a distribution, in ms.
 *
 * @example
 * ```ts
 * import { bimodal, meanOf } from 'loadwise/sim';
 * meanOf(bimodal(2, 50, 0.1)); // 6.8
 * ```
 */
export function meanOf(d: Distribution): number {
  switch (d.type) {
    case 'constant':
      return d.value;
    case 'exponential':
    case 'lognormal':
      return d.mean;
    case 'bimodal':
      return (1 - d.slowFraction) * meanOf(d.fast) + d.slowFraction * meanOf(d.slow);
    case 'empirical': {
      let sum = 0;
      for (const x of d.samples) sum += x;
      return sum / d.samples.length;
    }
  }
}

/**
 * Checks a distribution's parameters; throws `InvalidOptionError` (code `ERR_INVALID_OPTION`)
 * naming `name` and the bad value.
 *
 * @example
 * ```ts
 * import { validateDistribution, exponential } from 'loadwise/sim';
 * validateDistribution(exponential(-1), 'service'); // throws: invalid option service.mean: -1 ...
 * ```
 */
export function validateDistribution(d: Distribution, name: string): void {
  if (typeof d !== 'object' || d === null) throw new InvalidOptionError(name, d, 'a Distribution');
  const nonNegative = (field: string, v: unknown, positive = false): void => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (positive && v === 0)) {
      throw new InvalidOptionError(`${name}.${field}`, v, positive ? 'a finite number > 0' : 'a finite number >= 0');
    }
  };
  switch (d.type) {
    case 'constant':
      nonNegative('value', d.value);
      return;
    case 'exponential':
      nonNegative('mean', d.mean);
      return;
    case 'lognormal':
      nonNegative('mean', d.mean, true);
      nonNegative('sigma', d.sigma);
      return;
    case 'bimodal':
      if (typeof d.slowFraction !== 'number' || !(d.slowFraction >= 0 && d.slowFraction <= 1)) {
        throw new InvalidOptionError(`${name}.slowFraction`, d.slowFraction, 'a number from 0 to 1');
      }
      validateDistribution(d.fast, `${name}.fast`);
      validateDistribution(d.slow, `${name}.slow`);
      return;
    case 'empirical':
      if (!Array.isArray(d.samples) || d.samples.length === 0) {
        throw new InvalidOptionError(`${name}.samples`, d.samples, 'a non-empty array of durations');
      }
      for (let i = 0; i < d.samples.length; i++) nonNegative(`samples[${i}]`, d.samples[i]);
      return;
    default:
      throw new InvalidOptionError(`${name}.type`, (d as { type?: unknown }).type, "'constant', 'exponential', 'lognormal', 'bimodal' or 'empirical'");
  }
}

/**
 * Compiles a distribution into a sampling function that draws from `random`. Uses only
 * {@link ln}, {@link exp}, `Math.sqrt` and arithmetic, so the draws are identical on every
 * engine.
 *
 * @example
 * ```ts
 * import { createRandom } from 'loadwise';
 * import { exponential, sampler } from 'loadwise/sim';
 * const draw = sampler(exponential(10), createRandom(1));
 * draw(); // a duration in ms, the same on every run
 * ```
 */
export function sampler(d: Distribution, random: RandomSource): () => number {
  validateDistribution(d, 'distribution');
  switch (d.type) {
    case 'constant': {
      const v = d.value;
      return () => v;
    }
    case 'exponential': {
      const mean = d.mean;
      return () => -mean * ln(1 - random());
    }
    case 'lognormal': {
      const sigma = d.sigma;
      const mu = ln(d.mean) - (sigma * sigma) / 2;
      const normal = normalSampler(random);
      return () => exp(mu + sigma * normal());
    }
    case 'bimodal': {
      const fast = sampler(d.fast, random);
      const slow = sampler(d.slow, random);
      const p = d.slowFraction;
      return () => (random() < p ? slow() : fast());
    }
    case 'empirical': {
      const xs = Float64Array.from(d.samples);
      const n = xs.length;
      return () => xs[Math.floor(random() * n)]!;
    }
  }
}

/** Standard normal draws by Marsaglia's polar method (no trigonometry), in pairs. */
function normalSampler(random: RandomSource): () => number {
  let spare = 0;
  let hasSpare = false;
  return () => {
    if (hasSpare) {
      hasSpare = false;
      return spare;
    }
    let u: number;
    let v: number;
    let s: number;
    do {
      u = 2 * random() - 1;
      v = 2 * random() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const m = Math.sqrt((-2 * ln(s)) / s);
    spare = v * m;
    hasSpare = true;
    return u * m;
  };
}
