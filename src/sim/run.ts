import { InvalidOptionError } from '../core/errors.js';
import { offeredUtilisation, simulate } from './engine.js';
import { measureReaction } from './timeline.js';
import type { AlgorithmResult, ScenarioDefinition, ScenarioResult } from './types.js';

/**
 * Options of {@link runScenario}.
 *
 * @example
 * ```ts
 * runScenario(scenarios.homogeneous, { seed: 7, only: ['RoundRobin', 'JSQ oracle'] });
 * ```
 */
export interface RunOptions {
  /** Overrides the scenario's seed. */
  readonly seed?: number | undefined;
  /** Run only the algorithms with these names, in the definition's order. */
  readonly only?: readonly string[] | undefined;
}

/**
 * Simulates every algorithm of a scenario definition on the same seeded workload and collects
 * the results (with the {@link Reaction} to the watched slowdown, when the definition has one).
 *
 * @example
 * ```ts
 * import { formatTable, runScenario, scenarios } from 'loadwise/sim';
 * const result = runScenario(scenarios['slow-server']);
 * console.log(formatTable(result));
 * ```
 */
export function runScenario(definition: ScenarioDefinition, options: RunOptions = {}): ScenarioResult {
  const seed = options.seed ?? definition.seed ?? 1;
  let algorithms = definition.algorithms;
  if (options.only !== undefined) {
    const only = options.only;
    for (const name of only) {
      if (!algorithms.some((a) => a.name === name)) {
        throw new InvalidOptionError('only', name, `one of ${algorithms.map((a) => a.name).join(', ')}`);
      }
    }
    algorithms = algorithms.filter((a) => only.includes(a.name));
  }
  const results: AlgorithmResult[] = algorithms.map((algorithm) => {
    const r = simulate(definition, algorithm, { seed });
    if (definition.watch === undefined || r.timeline === undefined) return r;
    return { ...r, reaction: measureReaction(r.timeline, definition.watch, definition.durationMs) };
  });
  return {
    scenario: definition.name,
    description: definition.description ?? '',
    seed,
    servers: definition.servers.length,
    durationMs: definition.durationMs,
    warmupMs: definition.warmupMs ?? 0,
    proxies: definition.proxies ?? 1,
    utilisation: offeredUtilisation(definition),
    notes: definition.notes ?? [],
    results,
  };
}
