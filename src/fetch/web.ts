/**
 * The web-standard types the HTTP layer uses, declared here because `src/` compiles against
 * ECMAScript alone (no DOM or Node types), and the constructors looked up on `globalThis` at
 * call time, so the same code runs on Node, Deno, Bun and edge runtimes.
 */
import type { AbortSignalLike, RuntimeAbortSignal } from '../core/runtime.js';

/**
 * The part of `Headers` the HTTP layer uses.
 *
 * @example
 * ```ts
 * const headers: HeadersLike = new Headers({ accept: 'application/json' });
 * ```
 */
export interface HeadersLike {
  get(name: string): string | null;
  has(name: string): boolean;
  set(name: string, value: string): void;
  append(name: string, value: string): void;
  delete(name: string): void;
  forEach(callback: (value: string, name: string) => void): void;
}

/**
 * What a stream reader's `read()` resolves to.
 *
 * @example
 * ```ts
 * const { done, value }: ReadResultLike = await reader.read();
 * ```
 */
export interface ReadResultLike {
  readonly done: boolean;
  readonly value?: Uint8Array | undefined;
}

/**
 * The part of `ReadableStreamDefaultReader` the HTTP layer uses.
 *
 * @example
 * ```ts
 * const reader: StreamReaderLike = response.body!.getReader();
 * ```
 */
export interface StreamReaderLike {
  read(): Promise<ReadResultLike>;
  cancel(reason?: unknown): Promise<void>;
  releaseLock(): void;
}

/**
 * The part of a byte `ReadableStream` the HTTP layer uses.
 *
 * @example
 * ```ts
 * const body: ByteStreamLike | null = response.body;
 * ```
 */
export interface ByteStreamLike {
  readonly locked: boolean;
  getReader(): StreamReaderLike;
  cancel(reason?: unknown): Promise<void>;
}

/**
 * The part of `Request` the HTTP layer reads.
 *
 * @example
 * ```ts
 * const request: RequestLike = new Request('http://proxy.example/v1/users');
 * ```
 */
export interface RequestLike {
  readonly method: string;
  readonly url: string;
  readonly headers: HeadersLike;
  readonly body: ByteStreamLike | null;
  readonly signal?: AbortSignalLike | undefined;
}

/**
 * The part of `Response` the HTTP layer reads.
 *
 * @example
 * ```ts
 * const response: ResponseLike = await fetch('http://10.0.0.1:8080/');
 * ```
 */
export interface ResponseLike {
  readonly status: number;
  readonly statusText: string;
  readonly headers: HeadersLike;
  readonly body: ByteStreamLike | null;
}

/**
 * What the HTTP layer passes to the upstream `fetch`: `redirect: 'manual'` (a proxy hands
 * redirects to its client) and `duplex: 'half'` (required by Node and Deno for a streamed body).
 *
 * @example
 * ```ts
 * const init: UpstreamInit = { method: 'GET', headers: new Headers(), body: null, redirect: 'manual', duplex: 'half', signal };
 * ```
 */
export interface UpstreamInit {
  readonly method: string;
  readonly headers: WebHeaders;
  readonly body: Uint8Array | WebReadableStream | null;
  readonly redirect: 'manual';
  readonly duplex: 'half';
  readonly signal: RuntimeAbortSignal;
}

/** The runtime's own `Headers` type wherever the program has one; {@link HeadersLike} otherwise. */
export type WebHeaders = typeof globalThis extends { Headers: { prototype: infer H } } ? H : HeadersLike;

/** The runtime's own `ReadableStream` type wherever the program has one; {@link ByteStreamLike} otherwise. */
export type WebReadableStream = typeof globalThis extends { ReadableStream: { prototype: infer S } } ? S : ByteStreamLike;

/**
 * The upstream client: the runtime's `fetch`, or one with a connection pool of your choice
 * (undici's `fetch` with a keep-alive `Agent` on Node). Checked loosely (bivariantly), so any
 * `fetch` implementation fits whatever its own `RequestInit` and `Response` types say.
 *
 * @example
 * ```ts
 * // The runtime's own fetch takes the init as it is:
 * const plain: UpstreamFetch = (url, init) => fetch(url, init);
 * // undici's fetch with a keep-alive pool (undici ships its own copies of the web types, hence the cast):
 * import { Agent, fetch as undiciFetch, type RequestInit } from 'undici';
 * const agent = new Agent({ keepAliveTimeout: 10_000 });
 * const pooled: UpstreamFetch = (url, init) => undiciFetch(url, { ...init, dispatcher: agent } as unknown as RequestInit);
 * ```
 */
export type UpstreamFetch = {
  // A method's parameters are compared bivariantly; a plain function type's are not.
  bivariant(url: string, init: UpstreamInit): Promise<ResponseLike>;
}['bivariant'];

/**
 * The runtime's own `Request` type wherever the program has one (the DOM lib, `@types/node`,
 * Deno, Bun), so a handler from `createProxy` is what `Deno.serve` and `Bun.serve` expect;
 * {@link RequestLike} otherwise.
 *
 * @example
 * ```ts
 * const handler = (request: WebRequest) => proxy(request);
 * ```
 */
export type WebRequest = typeof globalThis extends { Request: { prototype: infer R } } ? R : RequestLike;

/**
 * The runtime's own `Response` type wherever the program has one; {@link ResponseLike} otherwise.
 *
 * @example
 * ```ts
 * const answer: Promise<WebResponse> = proxy(request);
 * ```
 */
export type WebResponse = typeof globalThis extends { Response: { prototype: infer R } } ? R : ResponseLike;

interface UnderlyingSource {
  pull?(controller: StreamController): void | Promise<void>;
  cancel?(reason?: unknown): void | Promise<void>;
}

/** The controller a `ReadableStream` source is given. */
export interface StreamController {
  enqueue(chunk: Uint8Array): void;
  close(): void;
  error(reason?: unknown): void;
}

interface WebHost {
  fetch(url: string, init: UpstreamInit): Promise<ResponseLike>;
  Headers: new (init?: HeadersLike) => HeadersLike;
  Response: new (
    body: ByteStreamLike | Uint8Array | string | null,
    init: { status: number; statusText?: string; headers: HeadersLike },
  ) => ResponseLike;
  Request: new (url: string, init?: unknown) => RequestLike;
  ReadableStream: new (source: UnderlyingSource, strategy?: { highWaterMark: number }) => ByteStreamLike;
  URLSearchParams: new (init: string) => { get(name: string): string | null };
  TextEncoder: new () => { encode(text: string): Uint8Array };
  URL: new (url: string) => { readonly protocol: string; readonly host: string; readonly pathname: string; readonly search: string; readonly username: string; readonly password: string; readonly hash: string; readonly origin: string };
}

/** `globalThis`, typed with the web-standard classes the HTTP layer uses. */
export const web = globalThis as unknown as WebHost;

/** The runtime's `fetch`, looked up at call time (so test doubles installed later are used). */
export const globalFetch: UpstreamFetch = (url, init) => web.fetch(url, init);
