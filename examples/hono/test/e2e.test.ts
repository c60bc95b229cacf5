/**
 * End-to-end tests of examples/hono: the same app (app.ts, with the `balance()` middleware on
 * `/api/*`) served by serve.ts on Node (`@hono/node-server`), Deno (`Deno.serve`) and Bun
 * (`Bun.serve`), each started exactly as its `npm run example:hono*` script starts it, in front of
 * real node:http backends. Per runtime one long-lived process; every per-test timeout is at least
 * three times the measured time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanupSuite,
  client,
  clientAddress,
  get,
  getMany,
  ms,
  runScript,
  startBackends,
  startScript,
  targetArgs,
  type Backend,
  type Started,
} from '../../shared/harness.js';

/** Time allowed for the first line; measured 0.1–1.5 s. */
const STARTUP_MS = 10_000;

const RUNTIMES = [
  ['node', 'example:hono'],
  ['deno', 'example:hono:deno'],
  ['bun', 'example:hono:bun'],
] as const;

for (const [runtime, script] of RUNTIMES) {
  describe(`examples/hono on ${runtime}`, () => {
    const log = (...parts: unknown[]): void => console.log(`[examples/hono e2e, ${runtime}]`, ...parts);
    let a: Backend;
    let b: Backend;
    let bad: Backend;
    let started: Started;
    let from: string;

    beforeAll(async () => {
      [a, b] = (await startBackends(['a', 'b'])) as [Backend, Backend];
      [bad] = (await startBackends(['bad'], 502)) as [Backend];
      from = await clientAddress();
      const args = ['--listen', '127.0.0.1:0', '--algorithm', 'round-robin', ...targetArgs([a, b, bad]), '--tries', '2', '--retry-on', 'error,timeout,http_502'];
      started = await startScript(script, args, STARTUP_MS);
    }, 3 * STARTUP_MS);
    afterAll(cleanupSuite);

    const hits = (): number => a.hits + b.hits + bad.hits;

    it('answers its own route, proxies /api/* with /api stripped, and leaves other paths alone', { timeout: 5_000 }, async () => {
      expect(started.firstLine).toBe(`listening on http://127.0.0.1:${started.port}`);
      const pool = client(started.origin);
      const t0 = performance.now();

      const own = await get(pool, '/');
      expect(own).toMatchObject({ status: 200, body: 'Hono here; /api/* goes through loadwise\n' });
      expect(hits()).toBe(0);

      for (const [path, upstream] of [
        ['/api/users?id=7', '/users?id=7'],
        ['/api', '/'],
        ['/api/', '/'],
        ['/api/a/b%20c?x=1&y', '/a/b%20c?x=1&y'],
      ] as const) {
        const res = await get(pool, path);
        expect(res.status, path).toBe(200);
        const answered = [a, b].find((x) => x.name === res.body)!;
        expect(answered.lastPath, path).toBe(upstream);
      }

      const before = hits();
      for (const path of ['/apiary', '/other']) expect((await get(pool, path)).status, path).toBe(404);
      expect(hits()).toBe(before);
      log(`first line after ${ms(started.startupMs)}; / by Hono, /api/users?id=7 → /users?id=7, /api → /, /apiary and /other 404 unproxied; ${ms(performance.now() - t0)}`);
    });

    it('retries a 502 on the next backend: 90 GETs, 0 failed', { timeout: 10_000 }, async () => {
      for (const x of [a, b, bad]) x.hits = 0;
      const r = await getMany(client(started.origin), 90, '/api/retry', 6);
      expect(r.statuses).toEqual({ 200: 90 });
      expect(a.hits + b.hits).toBe(90);
      expect(bad.hits).toBeGreaterThan(0); // each one a 502 the client never saw
      log(`90 GETs through a, b and a backend answering 502: all 200, shares ${JSON.stringify(r.backends)}, ${bad.hits} tries answered 502 and were retried; ${ms(r.ms)}`);
    });

    it("sets X-Forwarded-For to the client's address", { timeout: 5_000 }, async () => {
      const pool = client(started.origin, { localAddress: from });
      const res = await get(pool, '/api/xff', { 'x-forwarded-for': '203.0.113.9' });
      expect(res.status).toBe(200);
      const seen = [a, b].find((x) => x.name === res.body)!.lastHeaders!;
      expect(seen['x-forwarded-for']).toBe(from);
      log(`X-Forwarded-For ${seen['x-forwarded-for']} from a client bound to ${from} that sent 203.0.113.9`);
    });

    it('exits 0 promptly on SIGTERM', { timeout: 6_000 }, async () => {
      const { exit, ms: took } = await started.child.terminate(4_000);
      expect(exit).toBe(0);
      expect(took).toBeLessThan(2_000);
      log(`SIGTERM → exit ${exit} after ${ms(took)}`);
    });
  });
}

describe('examples/hono: bad command lines', () => {
  afterAll(cleanupSuite);

  it('exits 2 with a one-line message on every runtime', { timeout: 15_000 }, async () => {
    const args = ['--listen', '127.0.0.1:0', '--algorithm', 'round-robin', '--target', 'http://127.0.0.1:9', '--health-path', '/health'];
    const t0 = performance.now();
    const results = await Promise.all(RUNTIMES.map(([, script]) => runScript(script, args, 10_000)));
    for (const [i, r] of results.entries()) {
      expect({ exit: r.exit, stdout: r.stdout }, r.stderr).toEqual({ exit: 2, stdout: '' });
      expect(r.stderr).toMatch(new RegExp(`^loadwise-hono \\(${RUNTIMES[i]![0]}\\): --health-path is not in the Hono example`));
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    }
    log(`--health-path refused with exit 2 on node, deno and bun; ${ms(performance.now() - t0)} for all (concurrent)`);
  });
});

function log(...parts: unknown[]): void {
  console.log('[examples/hono e2e]', ...parts);
}
