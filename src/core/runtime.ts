/**
 * The few host facilities beyond ECMAScript that the async helpers (`withRetry`, `HealthChecker`)
 * use: timers, `AbortController` and `DOMException`. Looked up on `globalThis` at call time, so
 * fake timers installed by a test runner are honoured, and typed here without DOM or Node types.
 */

/**
 * The part of `AbortSignal` loadwise needs; any real `AbortSignal` satisfies it.
 *
 * @example
 * ```ts
 * const signal: AbortSignalLike = AbortSignal.timeout(1_000);
 * ```
 */
export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason?: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * The runtime's own `AbortSignal` type wherever the program has one (the DOM lib or
 * `@types/node`), so a signal loadwise hands out goes straight to `fetch`; {@link AbortSignalLike}
 * otherwise. At run time it is always a real `AbortSignal`.
 */
export type RuntimeAbortSignal = typeof globalThis extends { AbortSignal: { prototype: infer S } } ? S : AbortSignalLike;

/** An `AbortController` as the runtime provides it. */
export interface RuntimeController {
  readonly signal: RuntimeAbortSignal;
  abort(reason?: unknown): void;
}

interface Host {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  AbortController: new () => RuntimeController;
  DOMException?: new (message: string, name: string) => unknown;
  Deno?: { unrefTimer?: (id: number) => void };
}

/** `globalThis`, typed with what the helpers use from it. */
export const host = globalThis as unknown as Host;

/**
 * The timer functions the checker uses; inject fakes in tests. Handles are opaque: the checker
 * only passes them back to `clearTimeout`, and calls `handle.unrefTimer()` when the handle has one
 * (Node, Bun) or `Deno.unrefTimer(handle)` for numeric handles on Deno, so that health checks
 * never keep a process alive. `Hcl`'s `timers` option takes the same functions for its probes.
 *
 * @example
 * ```ts
 * const timers: HealthTimers = {
 *   setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
 *   clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
 * };
 * new HealthChecker(lb, probe, { timers });
 * ```
 */
export interface HealthTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * The runtime's `setTimeout` / `clearTimeout`, looked up at call time so that a test runner's
 * fake timers are honoured.
 */
export const systemTimers: HealthTimers = {
  setTimeout: (callback: () => void, ms: number): unknown => host.setTimeout(callback, ms),
  clearTimeout: (handle: unknown): void => host.clearTimeout(handle),
};

/** The longest delay `setTimeout` honours (2^31 − 1 ms); longer ones fire at once. */
export const MAX_TIMER_MS = 2_147_483_647;

/** A `DOMException` named `name` where the runtime has one (what `AbortSignal.timeout` uses), else an Error. */
export function domError(message: string, name: string): unknown {
  if (typeof host.DOMException === 'function') return new host.DOMException(message, name);
  const err = new Error(message);
  err.name = name;
  return err;
}

/** Lets the process exit while this timer is pending: `unref()` on Node and Bun, `Deno.unrefTimer` on Deno. */
export function unrefTimer(handle: unknown): void {
  try {
    if (typeof handle === 'object' && handle !== null) {
      const u = (handle as { unref?: unknown }).unref;
      if (typeof u === 'function') u.call(handle);
    } else if (typeof handle === 'number') {
      const deno = host.Deno;
      if (deno !== undefined && typeof deno.unrefTimer === 'function') deno.unrefTimer(handle);
    }
  } catch {
    // an injected timer's handle that the runtime does not know: nothing to unref
  }
}
