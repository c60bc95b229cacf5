/**
 * loadwise demo: the six request-routing balancers, side by side, in a deterministic
 * discrete-event simulation. Every balancer routes the same seeded stream of requests (Poisson
 * arrivals, exponential request sizes) to the same five simulated backends, through the real
 * `acquire()` / `lease.release()` API: a lease opens when a request arrives and is released
 * when the simulated backend finishes it, so the in-flight counts the balancers see are real.
 *
 * No timers, no sleeping, no wall clock: simulated time jumps from event to event, and the
 * balancers read that simulated time through their `now` option. Same output on every run.
 *
 * Run: npm run demo:sim (npm run demo is the live demo, live.ts)
 */
import {
  LeastConnections,
  PowerOfTwoChoices,
  Random,
  RoundRobin,
  WeightedRandom,
  WeightedRoundRobin,
  createRandom,
  type Balancer,
  type BalancerOptions,
  type Lease,
} from '../../src/index.js';

/** A simulated backend. It is also the balancer's target: loadwise hands back this very object. */
interface Backend {
  readonly id: string;
  /** Proportional to capacity; used by the weighted balancers, ignored by RoundRobin and Random. */
  readonly weight: number;
  /** Mean service time of one request, in simulated ms. */
  readonly serviceMs: number;
  /** Requests served concurrently; the rest wait in a FIFO queue. */
  readonly workers: number;
  /** Position in BACKENDS, for the simulator's own bookkeeping. */
  readonly index: number;
}

const REQUESTS = 20_000;
const UTILISATION = 0.82;
const SEED = 2024;

// Four fast backends and one 3x slower: capacity 4/10 vs 4/30 requests per ms, hence weights 3:1.
const BACKENDS: readonly Backend[] = ['a', 'b', 'c', 'd', 'e'].map((id, index) => {
  const slow = id === 'e';
  return { id, index, weight: slow ? 1 : 3, serviceMs: slow ? 30 : 10, workers: 4 };
});

const BALANCERS: ReadonlyArray<readonly [string, (options: BalancerOptions) => Balancer<Backend>]> = [
  ['RoundRobin', (o) => new RoundRobin(BACKENDS, o)],
  ['WeightedRoundRobin', (o) => new WeightedRoundRobin(BACKENDS, o)],
  ['Random', (o) => new Random(BACKENDS, o)],
  ['WeightedRandom', (o) => new WeightedRandom(BACKENDS, o)],
  ['LeastConnections', (o) => new LeastConnections(BACKENDS, o)],
  ['PowerOfTwoChoices', (o) => new PowerOfTwoChoices(BACKENDS, o)],
];

// ---- the request stream, shared by every balancer -------------------------------------------

const capacity = BACKENDS.reduce((sum, b) => sum + b.workers / b.serviceMs, 0); // requests per ms
const arrivalRate = UTILISATION * capacity;

const rng = createRandom(SEED);
const exponential = (mean: number): number => -mean * Math.log(1 - rng());
/** Arrival time of each request, in simulated ms. */
const arrivals = new Float64Array(REQUESTS);
/** Size of each request: its service time on a backend is `size × serviceMs` (mean size 1). */
const sizes = new Float64Array(REQUESTS);
for (let r = 0, t = 0; r < REQUESTS; r++) {
  t += exponential(1 / arrivalRate);
  arrivals[r] = t;
  sizes[r] = exponential(1);
}

// ---- the simulator -----------------------------------------------------------------------------

interface Result {
  readonly name: string;
  /** Share of requests per backend, in %, from the balancer's own `stats()`. */
  readonly share: number[];
  /** Most requests in flight (queued + in service) on each backend at any moment. */
  readonly maxInFlight: number[];
  readonly meanMs: number;
  readonly p99Ms: number;
}

function simulate(name: string, create: (options: BalancerOptions) => Balancer<Backend>): Result {
  let clock = 0;
  const lb = create({ seed: 7, now: () => clock });

  // Worker slots of every backend in one list; `running[s]` is the request in service, or -1.
  const slotBackend: number[] = [];
  for (const b of BACKENDS) for (let w = 0; w < b.workers; w++) slotBackend.push(b.index);
  const slots = slotBackend.length;
  const running = new Int32Array(slots).fill(-1);
  const endsAt = new Float64Array(slots);

  const queues: number[][] = BACKENDS.map(() => []);
  const queueHeads = new Array<number>(BACKENDS.length).fill(0);
  const inFlight = new Array<number>(BACKENDS.length).fill(0);
  const maxInFlight = new Array<number>(BACKENDS.length).fill(0);
  const leases: (Lease<Backend> | undefined)[] = new Array<Lease<Backend> | undefined>(REQUESTS);
  const latency = new Float64Array(REQUESTS);

  const start = (slot: number, r: number, b: Backend): void => {
    running[slot] = r;
    endsAt[slot] = clock + sizes[r]! * b.serviceMs;
  };

  let next = 0;
  let done = 0;
  while (done < REQUESTS) {
    // The earliest completion among the busy workers (at most 20: a scan beats a heap here).
    let first = -1;
    for (let s = 0; s < slots; s++) {
      if (running[s]! >= 0 && (first < 0 || endsAt[s]! < endsAt[first]!)) first = s;
    }

    if (next < REQUESTS && (first < 0 || arrivals[next]! < endsAt[first]!)) {
      // Arrival: the balancer picks a backend and opens a lease on it.
      const r = next++;
      clock = arrivals[r]!;
      const lease = lb.acquire();
      leases[r] = lease;
      const b = lease.target;
      inFlight[b.index]!++;
      if (inFlight[b.index]! > maxInFlight[b.index]!) maxInFlight[b.index] = inFlight[b.index]!;
      const idle = slotBackend.findIndex((owner, s) => owner === b.index && running[s] === -1);
      if (idle >= 0) start(idle, r, b);
      else queues[b.index]!.push(r);
    } else {
      // Completion: the backend answers, the lease is released, the worker takes the next in line.
      clock = endsAt[first]!;
      const r = running[first]!;
      running[first] = -1;
      latency[r] = clock - arrivals[r]!;
      leases[r]!.release({ ok: true, latencyMs: latency[r]! });
      leases[r] = undefined;
      done++;
      const b = BACKENDS[slotBackend[first]!]!;
      inFlight[b.index]!--;
      const queue = queues[b.index]!;
      const head = queueHeads[b.index]!;
      if (head < queue.length) {
        queueHeads[b.index] = head + 1;
        start(first, queue[head]!, b);
      }
    }
  }

  const stats = lb.stats();
  if (stats.some((s) => s.active !== 0)) throw new Error(`${name}: leases left open`);
  const sorted = latency.slice().sort();
  let total = 0;
  for (const l of latency) total += l;
  return {
    name,
    share: stats.map((s) => (100 * s.picks) / REQUESTS),
    maxInFlight,
    meanMs: total / REQUESTS,
    p99Ms: sorted[Math.ceil(0.99 * REQUESTS) - 1]!,
  };
}

// ---- the report --------------------------------------------------------------------------------

const results = BALANCERS.map(([name, create]) => simulate(name, create));

const NAME = 19;
const COL = 5;
const num = (x: number, digits: number, width = COL): string => x.toFixed(digits).padStart(width);
const ids = BACKENDS.map((b) => b.id.padStart(COL)).join('');
const capacityShare = BACKENDS.map((b) => (100 * b.workers) / b.serviceMs / capacity);

console.log(
  `loadwise demo: ${REQUESTS.toLocaleString('en-US')} simulated requests, Poisson arrivals at ` +
    `${Math.round(UTILISATION * 100)} % of total capacity, seed ${SEED}`,
);
console.log(`backends a-d: ${BACKENDS[0]!.workers} workers, 10 ms mean service, weight 3`);
console.log(`backend  e  : ${BACKENDS[4]!.workers} workers, 30 ms mean service (3x slower), weight 1`);
console.log('');
console.log(`${''.padEnd(NAME)}${'share of requests %'.padStart(5 * COL)}  ${'max in flight'.padStart(5 * COL)}  ${'latency ms'.padStart(16)}`);
console.log(`${'balancer'.padEnd(NAME)}${ids}  ${ids}  ${'mean'.padStart(8)}${'p99'.padStart(8)}`);
console.log(`${'(capacity)'.padEnd(NAME)}${capacityShare.map((s) => num(s, 1)).join('')}`);
for (const r of results) {
  console.log(
    r.name.padEnd(NAME) +
      r.share.map((s) => num(s, 1)).join('') +
      '  ' +
      r.maxInFlight.map((m) => num(m, 0)).join('') +
      '  ' +
      num(r.meanMs, 1, 8) +
      num(r.p99Ms, 1, 8),
  );
}
console.log('');
console.log('What to notice:');
console.log('- RoundRobin and Random ignore weights: e gets 20 % of the requests but has 7.7 % of the');
console.log('  capacity, so its queue grows for the whole run (max in flight) and the p99 runs into seconds.');
console.log('- WeightedRoundRobin and WeightedRandom match the capacity shares (WRR exactly, per period),');
console.log('  but they cannot see a queue building: a burst on e still waits behind 30 ms requests.');
console.log('- LeastConnections and PowerOfTwoChoices route on open leases (acquire/release): they steer');
console.log('  around e whenever it is busy, keeping every queue short and the p99 lowest.');
