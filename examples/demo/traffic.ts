/**
 * The live demo's load: a fixed number of GET requests through the proxy with a fixed number in
 * flight (a closed loop), each with a user key (`x-user`, for the hash balancers), timed from
 * sending to the end of the body. Scheduled actions (a backend fails, is killed, comes back) run
 * when a given number of requests has been sent, so every algorithm sees them at the same point
 * of the same traffic.
 */
import { Pool } from 'undici';

export interface Step {
  /** Run before the request with this index is sent. */
  readonly at: number;
  readonly run: () => void | Promise<void>;
}

export interface Traffic {
  readonly origin: string;
  /** The user of each request; its length is the number of requests. */
  readonly users: readonly string[];
  readonly concurrency: number;
  readonly steps?: readonly Step[];
  /** Called after each completed request with the number completed. */
  readonly onProgress?: (done: number) => void;
  /** Stop sending (Ctrl-C). */
  readonly signal?: AbortSignal;
  /** Stop sending after this long (ms): the results then cover the requests sent. */
  readonly maxMs?: number;
}

export interface TrafficResult {
  /** Requests sent (and completed): all of them unless stopped early. */
  readonly sent: number;
  /** Per request sent: client-side latency in ms, status (0: no response), answering backend ('' if none). */
  readonly latencyMs: Float64Array;
  readonly status: Int32Array;
  readonly backend: string[];
  readonly wallMs: number;
}

export async function drive(t: Traffic): Promise<TrafficResult> {
  const n = t.users.length;
  const latencyMs = new Float64Array(n);
  const status = new Int32Array(n);
  const backend = new Array<string>(n).fill('');
  const steps = [...(t.steps ?? [])].sort((x, y) => x.at - y.at);
  const pool = new Pool(t.origin, { connections: t.concurrency, keepAliveTimeout: 10_000 });
  let sent = 0;
  let done = 0;
  let step = 0;
  const t0 = performance.now();
  const deadline = t0 + (t.maxMs ?? Number.POSITIVE_INFINITY);
  const worker = async (): Promise<void> => {
    while (sent < n && t.signal?.aborted !== true && performance.now() < deadline) {
      while (step < steps.length && steps[step]!.at <= sent) await steps[step++]!.run();
      if (sent >= n) break;
      const i = sent++;
      const user = t.users[i]!;
      const start = performance.now();
      try {
        const res = await pool.request({ path: `/work?user=${user}`, method: 'GET', headers: { 'x-user': user } });
        await res.body.text();
        status[i] = res.statusCode;
        const b = res.headers['x-backend'];
        backend[i] = typeof b === 'string' ? b : '';
      } catch {
        status[i] = 0;
      }
      latencyMs[i] = performance.now() - start;
      t.onProgress?.(++done);
    }
  };
  try {
    await Promise.all(Array.from({ length: t.concurrency }, worker));
  } finally {
    await pool.destroy();
  }
  const wallMs = performance.now() - t0;
  return { sent, latencyMs: latencyMs.subarray(0, sent), status: status.subarray(0, sent), backend: backend.slice(0, sent), wallMs };
}
