import { describe, expect, it } from 'vitest';
import { RoundRobin } from '../../src/index.js';
import { JoinShortestQueue, jsqOracle, runScenario, scenarios, type Algorithm } from '../../src/sim/index.js';
import { conformance, type Spec } from '../conformance.js';

// The oracle is a full Balancer: with a constant load it must meet the shared contract.
conformance({
  name: 'JoinShortestQueue(load: 0)',
  create: (targets, options) => new JoinShortestQueue<Spec>(targets, { ...options, load: () => 0 }),
});

describe('sim/oracle: JoinShortestQueue', () => {
  it('picks the least loaded target, ties uniformly', () => {
    const load = new Map([
      ['a', 3],
      ['b', 1],
      ['c', 1],
      ['d', 2],
    ]);
    const lb = new JoinShortestQueue(['a', 'b', 'c', 'd'], { load: (id) => load.get(id)!, seed: 1 });
    const counts = new Map<string, number>();
    for (let i = 0; i < 2000; i++) {
      const t = lb.pick();
      counts.set(t, (counts.get(t) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual(['b', 'c']);
    expect(counts.get('b')! / 2000).toBeGreaterThan(0.45);
    expect(counts.get('b')! / 2000).toBeLessThan(0.55);
    load.set('c', 0);
    expect(lb.pick()).toBe('c');
    expect(lb.pick({ exclude: ['c'] })).toBe('b');
  });

  it('requires a load function', () => {
    expect(() => new JoinShortestQueue(['a'], {} as never)).toThrow(/load/);
  });

  it('beats RoundRobin on p99 with one of 20 servers 3x slower', () => {
    const short = { ...scenarios['slow-server'], durationMs: 5_000, warmupMs: 1_000 };
    const rr: Algorithm = { name: 'RoundRobin', create: (t, o) => new RoundRobin(t, o) };
    const result = runScenario({ ...short, algorithms: [rr, jsqOracle] });
    const [roundRobin, oracle] = result.results;
    expect(oracle!.latency.p99).toBeLessThanOrEqual(roundRobin!.latency.p99);
    // RoundRobin overloads the slow server: its queue is still growing when arrivals stop.
    expect(roundRobin!.servers[19]!.backlogAtEnd).toBeGreaterThan(100);
    expect(oracle!.latency.p99).toBeLessThan(100);
  });
});
