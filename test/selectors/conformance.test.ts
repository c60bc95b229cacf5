import {
  LeastConnections,
  PowerOfTwoChoices,
  Random,
  RoundRobin,
  WeightedRandom,
  WeightedRoundRobin,
  type Balancer,
} from '../../src/index.js';
import { conformance, type Spec } from '../conformance.js';

type Ctor = new (targets: readonly Spec[], options?: { seed?: number }) => Balancer<Spec>;

const balancers: [string, Ctor][] = [
  ['RoundRobin', RoundRobin],
  ['WeightedRoundRobin', WeightedRoundRobin],
  ['Random', Random],
  ['WeightedRandom', WeightedRandom],
  ['LeastConnections', LeastConnections],
  ['PowerOfTwoChoices', PowerOfTwoChoices],
];

for (const [name, Class] of balancers) {
  conformance({ name, create: (targets, options) => new Class(targets, options) });
}
conformance({
  name: 'PowerOfTwoChoices(choices: 3)',
  create: (targets, options) => new PowerOfTwoChoices(targets, { ...options, choices: 3 }),
});
