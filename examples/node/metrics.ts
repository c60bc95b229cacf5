/**
 * Prometheus metrics for the Node adapter (`--metrics`), with `prom-client`. Fed by nothing but
 * `createProxy`'s `onEvent` (tries, latencies, failures, retries, what the client got) and the
 * balancer's `stats()` (open leases and state, read when scraped), on a registry of its own.
 *
 *   loadwise_upstream_tries_total{target}                 tries sent to a target (`try` events)
 *   loadwise_upstream_failures_total{target,kind}         tries without a response (kind error or
 *                                                         timeout) and 5xx responses (kind 5xx)
 *   loadwise_upstream_latency_seconds{target}             histogram: time to response headers of the
 *                                                         tries that got a response (`try-end`)
 *   loadwise_upstream_open_leases{target}                 open leases (stats().active)
 *   loadwise_upstream_state{target,state}                 1 for the target's state, 0 for the others
 *   loadwise_proxy_retries_total                          tries beyond the first of a request
 *   loadwise_proxy_responses_total{code,reason}           every status sent to a client (`done`)
 *   loadwise_proxy_errors_total{code}                     the proxy's own 502 (tries failed), 503
 *                                                         (no target) and 504 (timed out)
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { targetId, type Balancer, type Target, type TargetState } from '../../src/index.js';
import type { OutcomeReason, ProxyEvent } from '../../src/fetch/index.js';

const STATES: readonly TargetState[] = ['up', 'down', 'ejected', 'slow-start', 'backup'];
const FAILURE_KINDS = ['error', 'timeout', '5xx'] as const;
/** The proxy's own error answers, by the `done` event's reason. */
const OWN_ERRORS: Partial<Record<OutcomeReason, string>> = { failed: '502', 'no-target': '503', timeout: '504' };
/** Seconds: from 1 ms (loopback) to 10 s. */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface ProxyMetrics<T extends Target> {
  readonly registry: Registry;
  /** Give it to `createProxy({ onEvent })`. */
  readonly onEvent: (event: ProxyEvent<T>) => void;
  /** The answer to a request for the metrics path: the text format for GET and HEAD, 405 otherwise. */
  serve(request: Request): Promise<Response>;
}

/** Metrics for a proxy over `balancer`; every current target's series start at 0. */
export function createMetrics<T extends Target>(balancer: Balancer<T>): ProxyMetrics<T> {
  const registry = new Registry();
  const registers = [registry];
  const ids = (): string[] => balancer.stats().map((s) => s.id);

  const tries = new Counter({
    name: 'loadwise_upstream_tries_total',
    help: 'Tries sent to each target (a request retried on another target counts once per try).',
    labelNames: ['target'] as const,
    registers,
    collect() {
      for (const target of ids()) this.inc({ target }, 0);
    },
  });
  const failures = new Counter({
    name: 'loadwise_upstream_failures_total',
    help: 'Failed tries per target: kind error (no connection, reset) or timeout (no response headers in time), or a 5xx response (kind 5xx).',
    labelNames: ['target', 'kind'] as const,
    registers,
    collect() {
      for (const target of ids()) for (const kind of FAILURE_KINDS) this.inc({ target, kind }, 0);
    },
  });
  // prom-client's zero() overwrites a series, so only the targets not observed yet are zeroed.
  const observed = new Set<string>();
  const latency = new Histogram({
    name: 'loadwise_upstream_latency_seconds',
    help: 'Time from the start of a try to its response headers, for the tries that got a response.',
    labelNames: ['target'] as const,
    buckets: BUCKETS,
    registers,
    collect() {
      for (const target of ids()) {
        if (observed.has(target)) continue;
        observed.add(target);
        this.zero({ target });
      }
    },
  });
  new Gauge({
    name: 'loadwise_upstream_open_leases',
    help: 'Open leases per target: tries in flight, responses still streaming to the client included.',
    labelNames: ['target'] as const,
    registers,
    collect() {
      this.reset();
      for (const s of balancer.stats()) this.set({ target: s.id }, s.active);
    },
  });
  new Gauge({
    name: 'loadwise_upstream_state',
    help: "1 for each target's current state (up, down, ejected, slow-start, backup), 0 for the others.",
    labelNames: ['target', 'state'] as const,
    registers,
    collect() {
      this.reset();
      for (const s of balancer.stats()) for (const state of STATES) this.set({ target: s.id, state }, s.state === state ? 1 : 0);
    },
  });
  const retries = new Counter({
    name: 'loadwise_proxy_retries_total',
    help: 'Tries beyond the first of a request.',
    registers,
  });
  const responses = new Counter({
    name: 'loadwise_proxy_responses_total',
    help: 'Responses sent to clients, by status code and reason (response: passed on from a target; failed, no-target, timeout, rejected, client-abort, internal: the proxy answered itself).',
    labelNames: ['code', 'reason'] as const,
    registers,
  });
  const errors = new Counter({
    name: 'loadwise_proxy_errors_total',
    help: "The proxy's own error answers: 502 (every try failed), 503 (no eligible target), 504 (timed out).",
    labelNames: ['code'] as const,
    registers,
  });
  for (const code of Object.values(OWN_ERRORS)) errors.inc({ code }, 0);

  const onEvent = (e: ProxyEvent<T>): void => {
    switch (e.type) {
      case 'try':
        tries.inc({ target: targetId(e.target) });
        if (e.attempt > 1) retries.inc();
        return;
      case 'try-end': {
        const target = targetId(e.target);
        if (e.status === undefined) {
          failures.inc({ target, kind: e.failure ?? 'error' });
          return;
        }
        observed.add(target);
        latency.observe({ target }, e.latencyMs / 1000);
        if (e.status >= 500) failures.inc({ target, kind: '5xx' });
        return;
      }
      case 'done': {
        responses.inc({ code: String(e.status), reason: e.reason });
        const own = OWN_ERRORS[e.reason];
        if (own !== undefined) errors.inc({ code: own });
        return;
      }
      case 'cooldown':
        return;
    }
  };

  const serve = async (request: Request): Promise<Response> => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return new Response('Method Not Allowed\n', { status: 405, headers: { allow: 'GET, HEAD' } });
    }
    const text = await registry.metrics();
    const headers = { 'content-type': registry.contentType, 'cache-control': 'no-store' };
    return new Response(request.method === 'HEAD' ? null : text, { headers });
  };

  return { registry, onEvent, serve };
}
