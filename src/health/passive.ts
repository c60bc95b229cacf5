import { InvalidOptionError } from '../core/errors.js';
import { checkOptionNames, intOption, numberOption } from '../core/options.js';
import type { Member } from '../core/member.js';
import type { Target } from '../types.js';

/**
 * Passive failure counting, nginx's `max_fails` / `fail_timeout`.
 *
 * @example
 * ```ts
 * new RoundRobin(targets, { passive: { maxFails: 3, failTimeoutMs: 30_000 } });
 * new RoundRobin(targets, { passive: true }); // nginx defaults: 1 failure, 10 s
 * ```
 */
export interface PassiveOptions {
  /** Failures within `failTimeoutMs` that take a target out; default 1 (nginx). */
  readonly maxFails?: number | undefined;
  /** The counting window and the time out of rotation, in ms; default 10,000 (nginx). */
  readonly failTimeoutMs?: number | undefined;
}

/** Validated passive-failure settings. */
export interface PassivePolicy {
  readonly maxFails: number;
  readonly failTimeoutMs: number;
}

export function passivePolicy(value: unknown): PassivePolicy | null {
  if (value === undefined || value === false) return null;
  if (value === true) return { maxFails: 1, failTimeoutMs: 10_000 };
  if (typeof value !== 'object' || value === null) throw new InvalidOptionError('passive', value, 'true or { maxFails?, failTimeoutMs? }');
  checkOptionNames(value, ['maxFails', 'failTimeoutMs']);
  const v = value as PassiveOptions;
  return {
    maxFails: intOption('passive.maxFails', v.maxFails, 1, 1),
    failTimeoutMs: numberOption('passive.failTimeoutMs', v.failTimeoutMs, 10_000, 0),
  };
}

/**
 * nginx's rules, per peer (ngx_http_upstream_free_round_robin_peer and get_peer):
 * - a failure counts (`fails++`) and stamps `accessed = checked = now`; at `maxFails` the peer
 *   is out until `checked + failTimeoutMs`;
 * - once that time has passed the peer is tried again, and choosing it stamps `checked = now`;
 * - a success after such a check (`accessed < checked`) forgets the failures; one more failure
 *   takes the peer out for another `failTimeoutMs`.
 * So failures only add up within a window, and recovery needs a successful request.
 *
 * Returns whether the peer must now be out of rotation.
 */
export function recordFailure<T extends Target>(m: Member<T>, policy: PassivePolicy, now: number): boolean {
  m.fails++;
  m.accessedAt = now;
  m.checkedAt = now;
  if (m.fails < policy.maxFails) return false;
  m.failedUntil = now + policy.failTimeoutMs;
  return true;
}

/** A success forgets the failures once the peer was checked after its last failure. */
export function recordSuccess<T extends Target>(m: Member<T>): void {
  if (m.accessedAt < m.checkedAt) m.fails = 0;
}

/** Choosing a peer whose failure window has passed starts a new check (nginx `checked = now`). */
export function recordSelection<T extends Target>(m: Member<T>, policy: PassivePolicy, now: number): void {
  if (now - m.checkedAt > policy.failTimeoutMs) m.checkedAt = now;
}
