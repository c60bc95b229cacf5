import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WeightedRoundRobin, type Lease } from '../../src/index.js';
import { NginxWrrReference } from '../support/nginx-wrr-reference.js';
import { readNginxFixture, type WrrCase } from '../support/nginx-fixtures.js';
import { THREW, attempt, differences } from '../support/sequences.js';

const fixture = readNginxFixture<WrrCase>('nginx-wrr.json');

describe('WeightedRoundRobin: parity with a real nginx', () => {
  it(`has recorded cases (${fixture.nginx})`, () => {
    expect(fixture.cases.length).toBeGreaterThanOrEqual(9);
  });
  for (const c of fixture.cases) {
    it(`reproduces nginx pick for pick: ${c.name}`, () => {
      const lb = new WeightedRoundRobin(c.servers);
      const got = c.sequence.map(() => lb.pick().id);
      expect(got).toEqual(c.sequence);
    });
  }

  it('gives the documented 5,1,1 sequence', () => {
    const lb = new WeightedRoundRobin([{ id: 'a', weight: 5 }, { id: 'b', weight: 1 }, { id: 'c', weight: 1 }]);
    expect(Array.from({ length: 14 }, () => lb.pick().id).join(' ')).toBe('a a b a c a a a a b a c a a');
  });
});

const weightsArb = fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 12 });
const named = (ws: readonly number[]) => ws.map((weight, i) => ({ id: `s${i}`, weight }));

describe('WeightedRoundRobin: exact against the nginx algorithm', () => {
  it('matches the O(n) nginx loop under random down/up, exclusions, max_conns, weight and membership changes', () => {
    type Op =
      | { kind: 'pick'; exclude: number[] }
      | { kind: 'acquire'; exclude: number[] }
      | { kind: 'release'; index: number }
      | { kind: 'down' | 'up'; peer: number }
      | { kind: 'weight'; peer: number; weight: number }
      | { kind: 'drop'; peer: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 6, arbitrary: fc.record({ kind: fc.constant('pick' as const), exclude: fc.array(fc.nat(11), { maxLength: 2 }) }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('acquire' as const), exclude: fc.array(fc.nat(11), { maxLength: 1 }) }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('release' as const), index: fc.nat() }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('down' as const, 'up' as const), peer: fc.nat(11) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('weight' as const), peer: fc.nat(11), weight: fc.integer({ min: 1, max: 20 }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const), peer: fc.nat(11) }) },
    );
    fc.assert(
      fc.property(weightsArb, fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 12, maxLength: 12 }), fc.array(op, { maxLength: 300 }), (ws, caps, ops) => {
        const servers = named(ws).map((s, i) => (i % 3 === 0 ? { ...s, maxActive: caps[i]! } : s));
        const lb = new WeightedRoundRobin(servers);
        const ref = new NginxWrrReference(servers);
        const leases: Lease<(typeof servers)[number]>[] = [];
        for (const o of ops) {
          const ids = ref.peers.map((p) => p.id);
          if (o.kind === 'pick' || o.kind === 'acquire') {
            const exclude = o.exclude.map((i) => ids[i % ids.length]!).filter((x) => x !== undefined);
            const want = ref.pick(exclude);
            if (want === undefined) {
              expect(() => (o.kind === 'pick' ? lb.pick({ exclude }) : lb.acquire({ exclude }))).toThrow();
              continue;
            }
            if (o.kind === 'pick') expect(lb.pick({ exclude }).id).toBe(want);
            else {
              const lease = lb.acquire({ exclude });
              expect(lease.target.id).toBe(want);
              ref.peers.find((p) => p.id === want)!.active++;
              leases.push(lease);
            }
          } else if (o.kind === 'release') {
            if (leases.length === 0) continue;
            const [lease] = leases.splice(o.index % leases.length, 1);
            lease!.release('success');
            const p = ref.peers.find((x) => x.id === lease!.target.id);
            if (p) p.active--;
          } else if (o.kind === 'down' || o.kind === 'up') {
            const p = ref.peers[o.peer % ref.peers.length]!;
            p.down = o.kind === 'down';
            if (p.down) lb.markDown(p.id);
            else lb.markUp(p.id);
          } else if (o.kind === 'weight') {
            const p = ref.peers[o.peer % ref.peers.length]!;
            lb.setWeight(p.id, o.weight);
            p.weight = o.weight;
          } else if (ref.peers.length > 1) {
            const p = ref.peers[o.peer % ref.peers.length]!;
            lb.remove(p.id);
            ref.setPeers(ref.peers.filter((x) => x !== p));
            // Leases on the removed peer stay open but no longer count anywhere.
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('WeightedRoundRobin: the recorded period', () => {
  it('replays nginx exactly, and resumes the exact engine at any point of the period', () => {
    fc.assert(
      fc.property(weightsArb, fc.nat(2000), fc.nat(11), fc.array(fc.nat(11), { maxLength: 2 }), fc.nat(300), (ws, before, down, exclude, after) => {
        const servers = named(ws);
        const lb = new WeightedRoundRobin(servers);
        const ref = new NginxWrrReference(servers);
        // Every pick of both, in order (THREW where one throws / nginx finds no peer), checked at once.
        const got: string[] = [];
        const want: string[] = [];
        const step = (tried?: string[]) => {
          got.push(attempt(() => (tried === undefined ? lb.pick() : lb.pick({ exclude: tried })).id));
          want.push(ref.pick(tried) ?? THREW);
        };
        // Long enough to record the period (Σw <= 240) and replay part of it.
        for (let i = 0; i < before; i++) step();
        const ids = ref.peers.map((p) => p.id);
        step(exclude.map((i) => ids[i % ids.length]!));
        const d = ref.peers[down % ref.peers.length]!;
        d.down = true;
        lb.markDown(d.id);
        for (let i = 0; i < after; i++) step();
        d.down = false;
        lb.markUp(d.id);
        for (let i = 0; i < 100; i++) step();
        expect(differences(got, want)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('replays a 65,536-pick period: an equal-weight pool of 10,000 and a mixed pool', () => {
    const big = new WeightedRoundRobin(Array.from({ length: 10_000 }, (_, i) => ({ id: String(i), weight: 1 })));
    const got = Array.from({ length: 25_000 }, () => big.pick().id);
    expect(differences(got, got.map((_, i) => String(i % 10_000)))).toEqual([]);
    const mixed = named([5, 1, 1]);
    const lb = new WeightedRoundRobin(mixed);
    const ref = new NginxWrrReference(mixed);
    const picks = Array.from({ length: 100 }, () => lb.pick().id);
    expect(picks).toEqual(picks.map(() => ref.pick()));
  });
});

describe('WeightedRoundRobin: effective weights after passive failures (nginx)', () => {
  it('lowers a failed peer by weight / max_fails and regrows it by one per round, pick for pick', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 2, maxLength: 8 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.boolean(), { maxLength: 400 }),
        (ws, maxFails, outcomes) => {
          const servers = named(ws);
          // The clock stands still, so failures are never forgiven and failed peers stay out.
          const lb = new WeightedRoundRobin(servers, { now: () => 0, passive: { maxFails, failTimeoutMs: 1e9 } });
          // nginx's per-peer state: current weight, effective weight, fails.
          const ref = servers.map((p) => ({ id: p.id, w: p.weight, cw: 0, ew: p.weight, fails: 0 }));
          for (const ok of outcomes) {
            let best: (typeof ref)[number] | undefined;
            let total = 0;
            for (const p of ref) {
              if (p.fails >= maxFails) continue;
              p.cw += p.ew;
              total += p.ew;
              if (p.ew < p.w) p.ew++;
              if (best === undefined || p.cw > best.cw) best = p;
            }
            if (best === undefined) {
              expect(() => lb.acquire()).toThrow();
              continue;
            }
            best.cw -= total;
            const lease = lb.acquire();
            expect(lease.target.id).toBe(best.id);
            lease.release(ok ? 'success' : 'failure');
            if (!ok) {
              best.fails++;
              best.ew = Math.max(0, best.ew - Math.floor(best.w / maxFails));
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('WeightedRoundRobin: fairness', () => {
  it('gives every target exactly its weight in each period, with prefix deviation at most 1.5', () => {
    fc.assert(
      fc.property(weightsArb, (ws) => {
        const lb = new WeightedRoundRobin(named(ws));
        const total = ws.reduce((a, b) => a + b, 0);
        const counts = new Array<number>(ws.length).fill(0);
        let worst = 0;
        for (let period = 1; period <= 3; period++) {
          for (let t = 1; t <= total; t++) {
            const i = Number(lb.pick().id.slice(1));
            counts[i]!++;
            const picks = (period - 1) * total + t;
            for (let j = 0; j < ws.length; j++) worst = Math.max(worst, Math.abs(counts[j]! - (picks * ws[j]!) / total));
          }
          // Exactly w_i picks per period: current weights return to zero after each period.
          for (let j = 0; j < ws.length; j++) expect(counts[j]).toBe(period * ws[j]!);
        }
        // picks_i(t) - t*w_i/W = -cw_i(t)/W, so the deviation is nginx's current weight over the
        // total. The required bound is 1.5; a search over 200,000 random weight sets (1..20, up
        // to 12 targets) found at most 1.0204 (weights 1,3,20,5,20), so 1.5 has real headroom
        // and any implementation drift from nginx would show up in the exactness test above.
        expect(worst).toBeLessThanOrEqual(1.5);
      }),
      { numRuns: 300 },
    );
  });

  it('handles 10,000 targets: equal weights rotate in list order', () => {
    const n = 10_000;
    const lb = new WeightedRoundRobin(Array.from({ length: n }, (_, i) => ({ id: String(i), weight: 1 })));
    const got = Array.from({ length: 2 * n }, () => lb.pick().id);
    expect(differences(got, got.map((_, i) => String(i % n)))).toEqual([]);
  });
});
