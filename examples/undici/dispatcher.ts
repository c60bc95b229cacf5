/**
 * `LoadwiseDispatcher`: an undici `Dispatcher` that sends every request to the target a loadwise
 * balancer chose, over one keep-alive `Pool` per target.
 *
 *   const lb = new LeastConnections([{ id: 'a', url: 'http://10.0.0.1:8080' }, { id: 'b', url: 'http://10.0.0.2:8080' }], { passive: true });
 *   const dispatcher = new LoadwiseDispatcher(lb);
 *   await fetch('http://service/v1/users', { dispatcher });          // undici's fetch
 *   await request('http://service/v1/users', { dispatcher });        // undici.request
 *
 * - The request's own origin is ignored: its path and query go to the chosen target's `url`
 *   (origin, plus the url's path as a prefix). `Host` is the target's.
 * - One lease per request, released when the response body ends or errors, with the time from
 *   `dispatch` to the response headers as `latencyMs`. A transport error (refused, reset, undici's
 *   `headersTimeout`/`bodyTimeout`) or a status `isFailure` accepts (default: >= 500) is a failure of
 *   the target; the caller aborting (an AbortSignal, a cancelled body) is not.
 * - Pools are made on a target's first request and closed (gracefully) once the target has left
 *   the balancer: checked on every dispatch by comparing counts, so it costs nothing otherwise.
 * - No retries: wrap it in undici's `RetryAgent` (each retry is dispatched here again, so it gets a
 *   lease and a pick of its own), or `balancedFetch` from `loadwise/fetch` for nginx's rules.
 */
import { Dispatcher, Pool, errors } from 'undici';
import type { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type { Balancer, Lease, Target } from '../../src/index.js';
import { parseBase, type UpstreamBase } from '../../src/fetch/index.js';

/** A target with a base URL: `{ id: 'a', url: 'http://10.0.0.1:8080' }`, optionally with a path prefix. */
export type UrlTarget = Exclude<Target, string> & { readonly url: string };

export interface LoadwiseDispatcherOptions {
  /** Options for each target's `Pool`: `connections`, `keepAliveTimeout`, `headersTimeout`, `connect` (TLS), … */
  readonly pool?: Pool.Options;
  /** Which statuses count as a failure of the target; default `status >= 500`. */
  readonly isFailure?: (status: number) => boolean;
  /** A routing key for the hash balancers (ConsistentHash, Maglev, …), e.g. from a header. */
  readonly key?: (options: Dispatcher.DispatchOptions) => string | undefined;
}

interface Upstream {
  readonly url: string;
  readonly base: UpstreamBase;
  readonly pool: Pool;
}

const ignore = (): void => {};
const serverError = (status: number): boolean => status >= 500;

export class LoadwiseDispatcher<T extends UrlTarget> extends Dispatcher {
  readonly balancer: Balancer<T>;
  readonly #options: LoadwiseDispatcherOptions;
  readonly #isFailure: (status: number) => boolean;
  readonly #upstreams = new Map<string, Upstream>();
  #closed = false;

  constructor(balancer: Balancer<T>, options: LoadwiseDispatcherOptions = {}) {
    super();
    this.balancer = balancer;
    this.#options = options;
    this.#isFailure = options.isFailure ?? serverError;
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    let lease: Lease<T> | undefined;
    let upstream: Upstream;
    try {
      if (this.#closed) throw new errors.ClientClosedError();
      if (this.#upstreams.size > this.balancer.size) this.prune();
      const key = this.#options.key?.(options);
      lease = this.balancer.acquire(key === undefined ? undefined : { key });
      upstream = this.#upstream(lease.target);
    } catch (error) {
      lease?.release('failure'); // an unusable url: the target's fault
      return fail(handler, error as Error);
    }
    const state = new LeaseState(lease, this.#isFailure);
    const tracked = handler.onRequestStart === undefined ? new LegacyLeaseHandler(handler as LegacyHandler, state) : new LeaseHandler(handler, state);
    const path = upstream.base.path === '' ? options.path : upstream.base.path + options.path;
    return upstream.pool.dispatch({ ...options, origin: upstream.base.origin, path }, tracked);
  }

  /** Closes the pools of targets no longer in the balancer (also done by `dispatch` when it sees more pools than targets). */
  prune(): void {
    const ids = new Set<string>();
    for (const t of this.balancer.targets()) ids.add(t.id);
    for (const [id, up] of this.#upstreams) {
      if (ids.has(id)) continue;
      this.#upstreams.delete(id);
      up.pool.close().catch(ignore);
    }
  }

  /** The ids of the targets that have a pool right now. */
  pooled(): string[] {
    return [...this.#upstreams.keys()];
  }

  /** The target's pool, made on first use, remade when its url changed. */
  #upstream(target: T): Upstream {
    const known = this.#upstreams.get(target.id);
    if (known !== undefined && known.url === target.url) return known;
    known?.pool.close().catch(ignore);
    const base = parseBase(target.url);
    const pool = new Pool(base.origin, this.#options.pool);
    // Re-emit as undici's Agent does; 'drain' matters to callers that honour dispatch() === false.
    const emit = this.emit.bind(this) as (event: string, ...args: unknown[]) => boolean;
    for (const event of ['connect', 'disconnect', 'connectionError', 'drain']) {
      (pool as EventEmitter).on(event, (origin: URL, targets: readonly Dispatcher[], ...rest: unknown[]) => emit(event, origin, [this, ...targets], ...rest));
    }
    const upstream = { url: target.url, base, pool };
    this.#upstreams.set(target.id, upstream);
    return upstream;
  }

  /** Marks the dispatcher closed and hands over every pool. */
  #shutDown(): Pool[] {
    const pools = [...this.#upstreams.values()].map((u) => u.pool);
    this.#closed = true;
    this.#upstreams.clear();
    return pools;
  }

  /** Stops taking requests, lets those in flight finish, closes every pool. */
  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    const done = Promise.all(this.#shutDown().map((p) => p.close().catch(ignore))).then(ignore);
    if (callback === undefined) return done;
    void done.then(callback);
  }

  /** Aborts every request in flight (with `error`) and closes every pool. */
  override destroy(): Promise<void>;
  override destroy(error: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(error: Error | null, callback: () => void): void;
  override destroy(a?: Error | null | (() => void), b?: () => void): Promise<void> | void {
    const error = typeof a === 'function' || a === undefined ? null : a;
    const callback = typeof a === 'function' ? a : b;
    const done = Promise.all(this.#shutDown().map((p) => p.destroy(error).catch(ignore))).then(ignore);
    if (callback === undefined) return done;
    void done.then(callback);
  }
}

/** Reports an error that happened before any pool saw the request, in the handler's own style. */
function fail(handler: Dispatcher.DispatchHandler, error: Error): false {
  if (handler.onRequestStart !== undefined) handler.onResponseError?.(IDLE, error);
  else if (handler.onError !== undefined) handler.onError(error);
  else throw error;
  return false;
}

const IDLE: Dispatcher.DispatchController = { aborted: false, paused: false, reason: null, abort: ignore, pause: ignore, resume: ignore };

/** One request's lease: what it saw, and the release once it is over. */
class LeaseState {
  readonly #lease: Lease;
  readonly #isFailure: (status: number) => boolean;
  readonly #startedAt = performance.now();
  #latencyMs: number | undefined;
  #ok = true;
  /** The caller (not the target) aborted: an AbortSignal, a cancelled or dropped body. */
  callerAborted = false;

  constructor(lease: Lease, isFailure: (status: number) => boolean) {
    this.#lease = lease;
    this.#isFailure = isFailure;
  }

  headers(status: number): void {
    this.#latencyMs ??= performance.now() - this.#startedAt;
    this.#ok = !this.#isFailure(status);
  }

  end(): void {
    this.#lease.release(this.#latencyMs === undefined ? { ok: this.#ok } : { ok: this.#ok, latencyMs: this.#latencyMs });
  }

  error(): void {
    if (!this.callerAborted) this.#ok = false;
    this.end();
  }
}

/** The pre-7 handler shape that undici 7's own `request` and `fetch` still pass (its methods are deprecated in the types). */
interface LegacyHandler {
  onConnect?(abort: (error?: Error) => void, context?: unknown): void;
  onResponseStarted?(): void;
  onHeaders?(status: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean;
  onData?(chunk: Buffer): boolean;
  onComplete?(trailers: string[] | null): void;
  onError?(error: Error): void;
  onUpgrade?(status: number, rawHeaders: Buffer[] | string[] | null, socket: Duplex): void;
  onBodySent?(chunkSize: number, totalBytesSent: number): void;
}

/** Passes a legacy handler's calls through untouched, noting headers, end and errors. */
class LegacyLeaseHandler implements LegacyHandler {
  readonly #inner: LegacyHandler;
  readonly #state: LeaseState;

  constructor(inner: LegacyHandler, state: LeaseState) {
    this.#inner = inner;
    this.#state = state;
  }

  onConnect(abort: (error?: Error) => void, context?: unknown): void {
    const state = this.#state;
    this.#inner.onConnect?.((error) => {
      state.callerAborted = true;
      abort(error);
    }, context);
  }

  onResponseStarted(): void {
    this.#inner.onResponseStarted?.();
  }

  onHeaders(status: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    this.#state.headers(status);
    return this.#inner.onHeaders?.(status, rawHeaders, resume, statusText) ?? true;
  }

  onData(chunk: Buffer): boolean {
    return this.#inner.onData?.(chunk) ?? true;
  }

  onComplete(trailers: string[] | null): void {
    this.#state.end();
    this.#inner.onComplete?.(trailers);
  }

  onError(error: Error): void {
    this.#state.error();
    if (this.#inner.onError === undefined) throw error;
    this.#inner.onError(error);
  }

  onUpgrade(status: number, rawHeaders: Buffer[] | string[] | null, socket: Duplex): void {
    this.#state.headers(status);
    this.#state.end();
    this.#inner.onUpgrade?.(status, rawHeaders, socket);
  }

  onBodySent(chunkSize: number, totalBytesSent: number): void {
    this.#inner.onBodySent?.(chunkSize, totalBytesSent);
  }
}

type Controller = Dispatcher.DispatchController;
type Raw = Exclude<Controller['rawHeaders'], undefined>;
type Headers = Parameters<NonNullable<Dispatcher.DispatchHandler['onResponseStart']>>[2];

/** Passes an undici 7 handler's calls through, with a controller that notes the caller's aborts. */
class LeaseHandler implements Dispatcher.DispatchHandler {
  readonly #inner: Dispatcher.DispatchHandler;
  readonly #state: LeaseState;
  #controller: WatchedController | undefined;

  constructor(inner: Dispatcher.DispatchHandler, state: LeaseState) {
    this.#inner = inner;
    this.#state = state;
  }

  #watch(controller: Controller): Controller {
    // undici passes no controller to an error raised before the request started (a refused connection).
    if (controller == null) return controller;
    if (this.#controller?.inner !== controller) this.#controller = new WatchedController(controller, this.#state);
    return this.#controller;
  }

  onRequestStart(controller: Controller, context: unknown): void {
    this.#inner.onRequestStart?.(this.#watch(controller), context);
  }

  onRequestUpgrade(controller: Controller, status: number, headers: Headers, socket: Duplex): void {
    this.#state.headers(status);
    this.#state.end();
    this.#inner.onRequestUpgrade?.(this.#watch(controller), status, headers, socket);
  }

  onResponseStart(controller: Controller, status: number, headers: Headers, statusMessage?: string): void {
    this.#state.headers(status);
    this.#inner.onResponseStart?.(this.#watch(controller), status, headers, statusMessage);
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    this.#inner.onResponseData?.(this.#watch(controller), chunk);
  }

  onResponseEnd(controller: Controller, trailers: Headers): void {
    this.#state.end();
    this.#inner.onResponseEnd?.(this.#watch(controller), trailers);
  }

  onResponseError(controller: Controller, error: Error): void {
    this.#state.error();
    this.#inner.onResponseError?.(this.#watch(controller), error);
  }
}

class WatchedController implements Controller {
  readonly inner: Controller;
  readonly #state: LeaseState;

  constructor(inner: Controller, state: LeaseState) {
    this.inner = inner;
    this.#state = state;
  }

  get aborted(): boolean {
    return this.inner.aborted;
  }
  get paused(): boolean {
    return this.inner.paused;
  }
  get reason(): Error | null {
    return this.inner.reason;
  }
  get rawHeaders(): Raw {
    return this.inner.rawHeaders ?? null;
  }
  get rawTrailers(): Raw {
    return this.inner.rawTrailers ?? null;
  }
  abort(reason: Error): void {
    this.#state.callerAborted = true;
    this.inner.abort(reason);
  }
  pause(): void {
    this.inner.pause();
  }
  resume(): void {
    this.inner.resume();
  }
}
