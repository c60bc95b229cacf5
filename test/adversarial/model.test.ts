/**
 * A bounded run of the model-based fuzzer (see model.ts for the invariants): every class, a
 * fixed seed per class so that `npm test` is reproducible; `npm run fuzz -- --runs N` explores
 * with fresh seeds.
 */
import fc from 'fast-check';
import { afterAll, describe, it } from 'vitest';
import { CLASSES, OPTION_SETS, REACTIONS, counters, fuzzProperty } from './model.js';

const RUNS = 60;
const MAX_COMMANDS = 60;
const started = performance.now();

afterAll(() => {
  console.log(
    `model fuzzer: ${counters.sequences} sequences × up to ${MAX_COMMANDS} commands = ${counters.steps} checked steps over ${CLASSES.length} classes ` +
      `× ${OPTION_SETS.length} option sets × ${REACTIONS.length} listener reactions, in ${((performance.now() - started) / 1000).toFixed(1)} s ` +
      `(${counters.picks} picks, ${counters.noTarget} NoTargetErrors, ${counters.events} events, ${counters.reentrant} re-entrant calls; npm run fuzz -- --runs N for more)`,
  );
});

describe('model-based fuzzer: random sequences with re-entrant listeners keep every invariant', () => {
  CLASSES.forEach((c, i) => {
    it(c.name, () => {
      fc.assert(fuzzProperty([c], MAX_COMMANDS), { numRuns: RUNS, seed: 0x5eed + i });
    });
  });
});
