/**
 * From the checked command line to loadwise objects: the balancer for `--algorithm` over the
 * `--target`s, and the key function for `--key`.
 */
import {
  ConsistentHash,
  Hcl,
  IpHash,
  JumpHash,
  LeastConnections,
  LeastTime,
  Maglev,
  ModuloHash,
  PeakEwma,
  PowerOfTwoChoices,
  Random,
  Rendezvous,
  RoundRobin,
  WeightedRandom,
  WeightedRoundRobin,
  HealthChecker,
  type Balancer,
  type BalancerEvent,
  type BalancerOptions,
} from '../../src/index.js';
import { clientAddressKey, cookieKey, headerKey, queryKey, type KeyFunction, type ProxyOptions } from '../../src/fetch/index.js';
import type { Algorithm, Config, KeySpec } from './args.js';

/** A target as the balancer holds it: id `host:port`, base URL, optional weight. */
export interface Backend {
  readonly id: string;
  readonly url: string;
  readonly weight?: number;
}

type Constructor = new (targets: readonly Backend[], options?: BalancerOptions) => Balancer<Backend>;

/** The class behind each `--algorithm`. */
export const BALANCERS: Readonly<Record<Algorithm, Constructor>> = {
  'round-robin': RoundRobin,
  'weighted-round-robin': WeightedRoundRobin,
  random: Random,
  'weighted-random': WeightedRandom,
  'least-connections': LeastConnections,
  'power-of-two-choices': PowerOfTwoChoices,
  'peak-ewma': PeakEwma,
  'least-time': LeastTime,
  hcl: Hcl,
  'consistent-hash': ConsistentHash,
  maglev: Maglev,
  rendezvous: Rendezvous,
  'jump-hash': JumpHash,
  'ip-hash': IpHash,
  'modulo-hash': ModuloHash,
};

/**
 * The balancer for `config.algorithm` over `config.targets`, with passive failure counting when
 * `--passive` is on. Throws a `LoadwiseError` for a weight the algorithm refuses (e.g. `ip-hash`
 * takes integer weights only).
 */
export function createBalancer(
  config: Pick<Config, 'algorithm' | 'targets' | 'passive'>,
  onEvent?: (event: BalancerEvent) => void,
): Balancer<Backend> {
  const options: BalancerOptions = {
    ...(config.passive === undefined ? {} : { passive: config.passive }),
    ...(onEvent === undefined ? {} : { onEvent }),
  };
  return new BALANCERS[config.algorithm](config.targets, options);
}

/** The routing key for `--key`; `undefined` without one. */
export function keyFunction(spec: KeySpec | undefined): KeyFunction | undefined {
  if (spec === undefined) return undefined;
  switch (spec.from) {
    case 'header':
      return headerKey(spec.name);
    case 'cookie':
      return cookieKey(spec.name);
    case 'query':
      return queryKey(spec.name);
    case 'client-address':
      return clientAddressKey();
  }
}

/**
 * The `createProxy` options every adapter takes from the command line (key, retries, time limits,
 * trusted proxies, sticky sessions); each adapter adds what is its own (the upstream `fetch`,
 * metrics).
 */
export function proxyOptions(config: Config, balancer: Balancer<Backend>): ProxyOptions<Backend> {
  return {
    balancer,
    key: keyFunction(config.key),
    retry: { tries: config.tries, on: config.retryOn },
    tryTimeoutMs: config.tryTimeoutMs,
    timeoutMs: config.timeoutMs,
    forwarded: { trust: config.trustProxy },
    sticky: config.sticky,
  };
}

/** What the health checks need of a runtime's fetch: a status and a body to read to the end. */
type HealthFetch = (url: string, init: { signal: AbortSignal; redirect: 'manual' }) => Promise<{ status: number; arrayBuffer(): Promise<unknown> }>;

/**
 * The active health checks for `--health-path`: `GET target + path` every `--health-interval-ms`,
 * 2xx is healthy; `undefined` without `--health-path`. Not started yet.
 */
export function healthChecker(config: Pick<Config, 'health'>, balancer: Balancer<Backend>, fetch: HealthFetch): HealthChecker<Backend> | undefined {
  const health = config.health;
  if (health === undefined) return undefined;
  return new HealthChecker<Backend>(
    balancer,
    async (target, signal) => {
      const res = await fetch(target.url + health.path, { signal: signal as AbortSignal, redirect: 'manual' });
      await res.arrayBuffer(); // read to the end, so the connection goes back to the pool
      return res.status >= 200 && res.status < 300;
    },
    // The check's own time limit does not shrink with the interval: a busy target is not a dead one.
    { intervalMs: health.intervalMs, timeoutMs: health.timeoutMs },
  );
}
