/**
 * The npm peers, loaded through `require` because they are CommonJS (and three ship no types).
 * Each is wrapped only as far as needed to hand back a target, never re-implemented.
 *
 * - `roundround` 0.2 — a round-robin array iterator (plain RR).
 * - `load-balancers` 1.3 — `RandomBalancer` (uniform) and `P2cBalancer` (power of two choices,
 *   unweighted, with replacement; `pick()` increments the chosen bin and nothing ever decrements
 *   it, so it is a pick that also counts). It has no round-robin picker.
 * - `weighted-round-robin` 2.0 — nginx-style smooth weighted round robin, O(n) per pick.
 * - `weighted-random` 0.1 — weighted random by a linear scan (sums the weights on every call).
 * - `@keystonehq/alias-sampling` 0.1 — weighted random by Walker's alias method, O(1) per pick.
 */
import { createRequire } from 'node:module';
import type aliasSamplingFn from '@keystonehq/alias-sampling';
import type { P2cBalancer as P2cBalancerT, RandomBalancer as RandomBalancerT } from 'load-balancers';

const require = createRequire(import.meta.url);

export const roundround = require('roundround') as <T>(array: readonly T[], index?: number) => () => T;

interface LoadBalancersModule {
  P2cBalancer: typeof P2cBalancerT;
  RandomBalancer: typeof RandomBalancerT;
}
export const { P2cBalancer, RandomBalancer } = require('load-balancers') as LoadBalancersModule;

export interface WrrPeer {
  id: string;
  weight: number;
}
export interface WrrPeers {
  add(peer: WrrPeer): string;
  get(): WrrPeer | null;
  size(): number;
}
export const WrrPeers = require('weighted-round-robin') as new () => WrrPeers;

export const weightedRandom = require('weighted-random') as (weights: readonly number[]) => number;

export const aliasSampling = (require('@keystonehq/alias-sampling') as { default: typeof aliasSamplingFn }).default;
