import { BaseBalancer } from '../balancer.js';
import { InvalidOptionError } from '../core/errors.js';
import type { Member } from '../core/member.js';
import type { RandomSource } from '../core/rng.js';
import type { Selector } from '../core/selector.js';
import type { BalancerOptions, Target } from '../types.js';
import type { Algorithm, SimTarget } from './types.js';

/**
 * Options of {@link JoinShortestQueue}.
 *
 * @example
 * ```ts
 * const options: JoinShortestQueueOptions<SimTarget> = { load: (t) => view.inSystem(t.index) };
 * ```
 */
export interface JoinShortestQueueOptions<T extends Target> extends BalancerOptions {
  /** The load of a target as the oracle knows it (lower is better); `Infinity` for "never, unless all are". */
  readonly load: (target: T) => number;
}

class JoinShortestQueueSelector<T extends Target> implements Selector<T> {
  private members: readonly Member<T>[] = [];

  constructor(
    private readonly random: RandomSource,
    private readonly load: (target: T) => number,
  ) {}

  rebuild(members: readonly Member<T>[]): void {
    this.members = members;
  }

  select(_key: string | undefined, filtered: boolean): number {
    const ms = this.members;
    let best = -1;
    let bestLoad = Number.POSITIVE_INFINITY;
    let ties = 0;
    for (let i = 0; i < ms.length; i++) {
      const m = ms[i]!;
      if (filtered && !m.available()) continue;
      const load = this.load(m.target);
      if (best < 0 || load < bestLoad) {
        best = i;
        bestLoad = load;
        ties = 1;
      } else if (load === bestLoad && this.random() * ++ties < 1) {
        best = i; // uniform among the least loaded (reservoir sampling)
      }
    }
    return best;
  }
}

/**
 * Join the shortest queue with global knowledge: every pick goes to the target whose `load`
 * (supplied by the caller, e.g. the simulator's count of requests at each server from every
 * proxy) is lowest, ties broken uniformly at random. No real proxy can know that, which is what
 * makes it the reference line in simulations: an algorithm close to it is about as good as
 * routing on queue lengths gets. Everything else (leases, exclusion, backups, `maxActive`,
 * health, stats) is the shared balancer base's, so it runs through the same path as the real
 * balancers.
 *
 * @example
 * ```ts
 * import { JoinShortestQueue } from 'loadwise/sim';
 * const queue = new Map([['a', 3], ['b', 0], ['c', 1]]);
 * const lb = new JoinShortestQueue(['a', 'b', 'c'], { load: (id) => queue.get(id)! });
 * lb.pick(); // 'b'
 * ```
 */
export class JoinShortestQueue<T extends Target = Target> extends BaseBalancer<T> {
  private readonly load: (target: T) => number;

  constructor(targets: readonly T[], options: JoinShortestQueueOptions<T>) {
    super(targets, options, ['load']);
    const load = options?.load;
    if (typeof load !== 'function') throw new InvalidOptionError('load', load, 'a function (target) => number');
    this.load = load;
  }

  protected createSelector(): Selector<T> {
    return new JoinShortestQueueSelector<T>(this.random, this.load);
  }
}

/**
 * The join-shortest-queue oracle as a simulator algorithm: load = requests at the server
 * (queued + in service, from every proxy) per worker; servers that are down count as infinitely
 * loaded. Marked as the reference line.
 *
 * @example
 * ```ts
 * import { runScenario, scenarios, jsqOracle } from 'loadwise/sim';
 * runScenario({ ...scenarios.homogeneous, algorithms: [jsqOracle] });
 * ```
 */
export const jsqOracle: Algorithm = {
  name: 'JSQ oracle',
  reference: true,
  create: (targets, options, { view }) =>
    new JoinShortestQueue<SimTarget>(targets, {
      ...options,
      load: (t) => (view.isDown(t.index) ? Number.POSITIVE_INFINITY : view.inSystem(t.index) / view.workers(t.index)),
    }),
};
