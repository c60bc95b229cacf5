/**
 * npm run demo: loadwise in front of real traffic. Four node:http backends on 127.0.0.1 (2, 5,
 * 10 and 20 ms per request, 4 workers each), the Node example (examples/node/main.ts) started as
 * a child process in front of them, once per algorithm, and the same traffic through each: while
 * it runs b answers 503 for a while and a is killed and restarted. Then a table (share of answers
 * per backend, p50, p99, errors, retries), the latency CDF as SVG, and what to notice.
 *
 *   npm run demo [-- --quick] [--requests N] [--concurrency N] [--algorithms a,b] [--out DIR]
 *
 * Exit status 0; 130 after Ctrl-C (every child process is stopped, every server closed); 1 on a
 * failure; 2 for a bad command line. The simulator demo is `npm run demo:sim`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Presets, SingleBar } from 'cli-progress';
import { createRandom } from '../../src/index.js';
import { sampleSum, sampleValue } from '../node/prom-text.js';
import { DemoBackend, type BackendSpec } from './backends.js';
import { killAll, scrape, startProxy, type RunningProxy } from './proxy.js';
import { backendFigures, chart, formatTable, notes, toRow, type Row } from './report.js';
import { drive, type Step } from './traffic.js';

const ALGORITHMS = ['round-robin', 'weighted-round-robin', 'least-connections', 'power-of-two-choices', 'peak-ewma', 'consistent-hash'];
const QUICK_ALGORITHMS = ['round-robin', 'least-connections'];

/** Weights proportional to capacity (workers / service time), for the weighted algorithms. */
const BACKENDS: readonly BackendSpec[] = [
  { name: 'a', serviceMs: 2, workers: 4, weight: 10 },
  { name: 'b', serviceMs: 5, workers: 4, weight: 4 },
  { name: 'c', serviceMs: 10, workers: 4, weight: 2 },
  { name: 'd', serviceMs: 20, workers: 4, weight: 1 },
];
const FAILING = 'b';
const KILLED = 'a';
const SLOWEST = 'd';
/** When things happen, as a fraction of the requests sent. */
const SCHEDULE = { failFrom: 0.3, killAt: 0.45, failUntil: 0.6, restartAt: 0.75 };
const PROXY_FLAGS = ['--tries', '2', '--retry-on', 'error,timeout,http_502,http_503', '--try-timeout-ms', '1000', '--passive', '--max-fails', '2', '--fail-timeout-ms', '500'];
const USERS = 64;
const SEED = 2024;

const USAGE = `usage: npm run demo [-- --quick] [--requests N] [--concurrency N] [--algorithms ${ALGORITHMS.join(',')}] [--out DIR]`;

function usage(message: string): never {
  process.stderr.write(`demo: ${message}\n${USAGE}\n`);
  process.exit(2);
}

let flags;
try {
  ({ values: flags } = parseArgs({
    options: {
      quick: { type: 'boolean' },
      requests: { type: 'string' },
      concurrency: { type: 'string' },
      algorithms: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  }));
} catch (error) {
  usage((error as Error).message.split('\n')[0]!);
}
if (flags.help === true) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const count = (name: string, text: string | undefined, fallback: number, max: number): number => {
  if (text === undefined) return fallback;
  const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= 1 && n <= max)) usage(`bad --${name} ${JSON.stringify(text)}: an integer from 1 to ${max}`);
  return n;
};
const quick = flags.quick === true;
const requests = count('requests', flags.requests, quick ? 400 : 2_000, 100_000);
const concurrency = count('concurrency', flags.concurrency, quick ? 16 : 32, 512);
const algorithms = flags.algorithms === undefined ? (quick ? QUICK_ALGORITHMS : ALGORITHMS) : flags.algorithms.split(',');
for (const a of algorithms) if (!ALGORITHMS.includes(a)) usage(`unknown algorithm ${JSON.stringify(a)}: use ${ALGORITHMS.join(', ')}`);
const outDir = resolve(flags.out ?? join(fileURLToPath(new URL('../../', import.meta.url)), 'demo-results'));
const warmup = Math.min(500, Math.ceil(requests / 4));
/**
 * The whole run's time limit: on a busy machine each algorithm gets its share of what is left
 * (less ~2.5 s to start its proxy and warm up) and stops sending when it is used up.
 */
const BUDGET_MS = 45_000;

// ---- everything started here is stopped on the way out -----------------------------------------

const backends = BACKENDS.map((spec) => new DemoBackend(spec));
const byName = (name: string): DemoBackend => backends.find((b) => b.spec.name === name)!;
let proxy: RunningProxy | undefined;
let bar: SingleBar | undefined;
const interrupt = new AbortController();

process.on('exit', killAll); // the last resort: SIGKILL any child still there
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupt.signal.aborted) {
      killAll();
      process.exit(130);
    }
    interrupt.abort();
    bar?.stop();
    process.stderr.write(`\ndemo: ${signal}, stopping\n`);
    void shutdown().finally(() => process.exit(130));
  });
}

async function shutdown(): Promise<void> {
  await proxy?.stop(1_000);
  killAll();
  for (const b of backends) b.close();
}

// ---- the run -----------------------------------------------------------------------------------

const rng = createRandom(SEED);
const users = Array.from({ length: requests }, () => `u${Math.floor(rng() * USERS)}`);
const warmupUsers = Array.from({ length: warmup }, (_, i) => `u${i % USERS}`);
const at = (fraction: number): number => Math.round(fraction * requests);
const tty = process.stderr.isTTY === true;
const say = (line: string): void => void process.stdout.write(`${line}\n`);

/** Algorithms stopped by the time limit. */
const cut: string[] = [];

async function runAlgorithm(algorithm: string, maxMs: number): Promise<Row> {
  // Same starting point for every algorithm: all four up and healthy, a fresh proxy.
  for (const b of backends) {
    if (!b.alive) await b.restart();
    b.reset();
  }
  const targets = backends.flatMap((b) => ['--target', `${b.url}=${b.spec.weight}`]);
  const key = algorithm === 'consistent-hash' ? ['--key', 'header:x-user'] : [];
  proxy = await startProxy(['--listen', '127.0.0.1:0', '--algorithm', algorithm, ...targets, ...key, ...PROXY_FLAGS, '--metrics']);
  if (!tty) say(`${algorithm}: proxy pid ${proxy.pid} on ${proxy.origin}`);

  // Warm-up (connections, JIT), not measured.
  await drive({ origin: proxy.origin, users: warmupUsers, concurrency, signal: interrupt.signal, maxMs: 1_500 });
  for (const b of backends) b.reset();
  const retriesBefore = sampleValue(await scrape(proxy.origin), 'loadwise_proxy_retries_total');

  const failing = byName(FAILING);
  const killed = byName(KILLED);
  let phase = 'all up';
  const step = (fraction: number, what: string, run: () => void | Promise<void>): Step => ({
    at: at(fraction),
    run: async () => {
      await run();
      phase = what;
      bar?.update({ phase });
    },
  });
  const steps = [
    step(SCHEDULE.failFrom, `${FAILING} answers 503`, () => void (failing.failing = true)),
    step(SCHEDULE.killAt, `${FAILING} answers 503, ${KILLED} down`, () => killed.kill()),
    step(SCHEDULE.failUntil, `${KILLED} down`, () => void (failing.failing = false)),
    step(SCHEDULE.restartAt, `${KILLED} back`, async () => {
      try {
        await killed.restart();
      } catch (error) {
        process.stderr.write(`demo: could not restart ${KILLED} on port ${killed.port}: ${(error as Error).message}\n`);
      }
    }),
  ];
  bar = tty
    ? new SingleBar({ format: `${algorithm.padEnd(21)} {bar} {value}/{total}  {phase}`, hideCursor: true, barsize: 30 }, Presets.shades_classic)
    : undefined;
  bar?.start(requests, 0, { phase });
  const traffic = await drive({
    origin: proxy.origin,
    users,
    concurrency,
    steps,
    signal: interrupt.signal,
    maxMs,
    ...(bar === undefined ? {} : { onProgress: (n: number) => bar!.update(n) }),
  });
  bar?.stop();
  bar = undefined;
  const metrics = await scrape(proxy.origin);
  await proxy.stop();
  proxy = undefined;
  if (interrupt.signal.aborted) throw new Error('interrupted');

  const row = toRow({
    algorithm: traffic.sent < requests ? `${algorithm}*` : algorithm,
    traffic,
    users,
    backends: backends.map(backendFigures),
    retries: sampleValue(metrics, 'loadwise_proxy_retries_total') - retriesBefore,
    openLeases: sampleSum(metrics, 'loadwise_upstream_open_leases'),
  });
  if (traffic.sent < requests) cut.push(`${algorithm} (${traffic.sent} of ${requests})`);
  if (!tty) say(`${algorithm}: ${traffic.sent} requests in ${(traffic.wallMs / 1000).toFixed(1)} s`);
  return row;
}

async function main(): Promise<void> {
  const t0 = performance.now();
  for (const b of backends) await b.start();
  const describe = BACKENDS.map((b) => `${b.name} ${b.serviceMs} ms`).join(', ');
  say(`loadwise live demo: ${algorithms.length} algorithms in turn, each a fresh examples/node proxy (node --import tsx) in front of the same 4 backends`);
  say(`backends on 127.0.0.1: ${describe}; ${BACKENDS[0]!.workers} workers each (the rest queue); weights ${BACKENDS.map((b) => b.weight).join('/')}`);
  say(`traffic: ${requests} GETs per algorithm, ${concurrency} in flight, ${USERS} users (x-user, the consistent-hash key); after ${warmup} warm-up requests`);
  const pct = (x: number): string => `${Math.round(100 * x)} %`;
  say(
    `schedule, by requests sent: ${FAILING} answers 503 from ${pct(SCHEDULE.failFrom)} to ${pct(SCHEDULE.failUntil)}; ` +
      `${KILLED} is killed at ${pct(SCHEDULE.killAt)} and restarted at ${pct(SCHEDULE.restartAt)}`,
  );
  say(`proxy flags: ${PROXY_FLAGS.join(' ')} --metrics`);
  say('');

  const rows: Row[] = [];
  for (const [i, algorithm] of algorithms.entries()) {
    const left = BUDGET_MS - (performance.now() - t0);
    rows.push(await runAlgorithm(algorithm, Math.max(1_000, left / (algorithms.length - i) - 2_500)));
  }
  if (!tty) say('');

  say(formatTable(rows, BACKENDS.map((b) => b.name)));
  say('');
  say('errors: requests the client got no 200 for; retries: tries beyond the first (loadwise_proxy_retries_total from the proxy\'s /metrics);');
  say("affinity: share of each user's 200s that came from that user's usual backend");
  if (cut.length > 0) {
    say(`* stopped early to finish within ${BUDGET_MS / 1000} s (a busy machine): ${cut.join(', ')} requests sent; the later phases of their schedule were cut short`);
  }
  const leaked = rows.filter((r) => r.result.openLeasesAtEnd !== 0);
  if (leaked.length > 0) say(`open leases after the run: ${leaked.map((r) => `${r.algorithm} ${r.result.openLeasesAtEnd}`).join(', ')}`);
  say('');
  say('What to notice:');
  for (const note of notes(rows, SLOWEST, FAILING, KILLED)) say(`- ${note}`);
  say('');

  mkdirSync(outDir, { recursive: true });
  const svgPath = join(outDir, 'latency-cdf.svg');
  writeFileSync(svgPath, chart(rows, `loadwise live demo: client latency, ${requests} requests per algorithm`));
  say(`latency CDF per algorithm: ${svgPath}`);
  say(`took ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

main().then(
  async () => {
    await shutdown();
    process.exit(0);
  },
  async (error: unknown) => {
    bar?.stop();
    if (!interrupt.signal.aborted) process.stderr.write(`demo: ${(error as Error).stack ?? String(error)}\n`);
    await shutdown();
    process.exit(interrupt.signal.aborted ? 130 : 1);
  },
);
