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
 *
 * Hash family (bench/hash-suites.ts, bench/hash-build.ts):
 *
 * - `hashring` 3.2 — libketama ring (MD5 through `node:crypto`, 160 points per server, an array
 *   of `{ value, server }` nodes, binary search) with an LRU cache of 5,000 keys in front of `get`.
 * - `consistent-hash` 1.2 — a ring of 40 random control points per node in a range of 100,003,
 *   keyed by a PJW-style string hash, binary search over a sorted key map built on first `get`.
 * - `@subspace/jump-consistent-hash` 1.1 — jump consistent hash over an 8-byte `Uint8Array` key,
 *   computed with BigInt; it takes no string, so the caller hashes the key to 8 bytes first.
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

/** npm `hashring` 3.x: `new HashRing(servers, algorithm?, options?)`. */
export interface HashRingT {
  get(key: string): string | undefined;
  add(servers: string | readonly string[]): HashRingT;
  remove(server: string): HashRingT;
}
export const HashRing = require('hashring') as new (servers: readonly string[], algorithm?: string, options?: Record<string, unknown>) => HashRingT;

/** npm `consistent-hash` 1.2: `new ConsistentHash(options?)`, then `add(node)` per node. */
export interface ConsistentHashRingT {
  add(node: string, weight?: number): ConsistentHashRingT;
  remove(node: string): ConsistentHashRingT;
  get(resource: string): string | null;
}
export const ConsistentHashRing = require('consistent-hash') as new (options?: { range?: number; weight?: number }) => ConsistentHashRingT;

/** `@subspace/jump-consistent-hash` 1.1: bucket in [0, numBuckets) for an 8-byte big-endian key. */
export const { jumpConsistentHash: subspaceJump } = require('@subspace/jump-consistent-hash') as {
  jumpConsistentHash: (key: Uint8Array, numBuckets: number) => number;
};
