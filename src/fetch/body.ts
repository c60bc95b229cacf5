/**
 * Request bodies that can be sent again, and response bodies that hold their lease.
 *
 * As nginx does with `proxy_request_buffering` and `client_body_buffer_size`, a request body up
 * to a cap is read whole before the first try, so any try may send it; a larger one streams
 * through as it arrives and is never held: once a try has started reading it, no other try may
 * send it (nginx `request_body_no_buffering`).
 */
import { web, type ByteStreamLike, type StreamController, type StreamReaderLike } from './web.js';

/** Thrown into an upstream body stream when the client's body passes `maxBodyBytes`. */
export class BodyTooLarge extends Error {
  constructor(limit: number) {
    super(`request body larger than ${limit} bytes`);
    this.name = 'BodyTooLarge';
  }
}

/** A request body as the tries see it. */
export interface RequestBody {
  /** The body for the next try: bytes held whole, a stream, or `null` for none. */
  forTry(): Uint8Array | ByteStreamLike | null;
  /** True while another try may still send it (no body, held whole, or a stream not read yet). */
  readonly replayable: boolean;
  /** True once the client's body went past the size limit. */
  readonly tooLarge: boolean;
  /** Frees the client's body (when the request ends without it being read to the end). */
  dispose(): void;
}

const NO_BODY: RequestBody = { forTry: () => null, replayable: true, tooLarge: false, dispose: () => {} };

/**
 * Reads up to `holdBytes` of `body`: a body that ends within them is held whole; a longer one
 * becomes a one-shot stream (what was read, then the rest) that errors with
 * {@link BodyTooLarge} past `maxBytes`. Resolves to `'too-large'` when the body passes `maxBytes`
 * while it is being held.
 *
 * @example
 * ```ts
 * const body = await readRequestBody(request.body, 1_048_576, 104_857_600);
 * ```
 */
export async function readRequestBody(
  body: ByteStreamLike | null,
  holdBytes: number,
  maxBytes: number,
): Promise<RequestBody | 'too-large'> {
  if (body === null) return NO_BODY;
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return new HeldBody(concat(chunks, total));
    if (value === undefined || value.byteLength === 0) continue;
    total += value.byteLength;
    if (total > maxBytes) {
      void reader.cancel().catch(() => {});
      return 'too-large';
    }
    chunks.push(value);
    if (total > holdBytes) return new StreamedBody(chunks, total, reader, maxBytes);
  }
}

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** A body read whole: every try sends the same bytes. */
class HeldBody implements RequestBody {
  readonly replayable = true;
  readonly tooLarge = false;
  constructor(private readonly bytes: Uint8Array) {}
  forTry(): Uint8Array {
    return this.bytes;
  }
  dispose(): void {}
}

/**
 * A body too long to hold: what was read, then the rest straight from the client. Each try gets
 * a fresh stream; the first one to read from it consumes the body, and from then on no other try
 * may send it. A try that fails before reading (a refused connection) leaves it untouched.
 */
class StreamedBody implements RequestBody {
  private started = false;
  private finished = false;
  tooLarge = false;

  constructor(
    private readonly head: Uint8Array[],
    private total: number,
    private readonly reader: StreamReaderLike,
    private readonly maxBytes: number,
  ) {}

  get replayable(): boolean {
    return !this.started;
  }

  forTry(): ByteStreamLike {
    let mine = false;
    return new web.ReadableStream(
      {
        pull: async (controller: StreamController) => {
          if (!mine) {
            if (this.started) {
              controller.error(new Error('request body already sent'));
              return;
            }
            this.started = mine = true;
            for (const chunk of this.head) controller.enqueue(chunk);
            this.head.length = 0;
            return;
          }
          try {
            const { done, value } = await this.reader.read();
            if (done) {
              this.finished = true;
              controller.close();
              return;
            }
            if (value === undefined) return;
            this.total += value.byteLength;
            if (this.total > this.maxBytes) {
              this.tooLarge = true;
              const err = new BodyTooLarge(this.maxBytes);
              controller.error(err);
              void this.reader.cancel(err).catch(() => {});
              return;
            }
            controller.enqueue(value);
          } catch (err) {
            controller.error(err);
          }
        },
        cancel: (reason?: unknown) => {
          // A try that never read leaves the body for the next one.
          if (mine && !this.finished) void this.reader.cancel(reason).catch(() => {});
        },
      },
      { highWaterMark: 0 },
    );
  }

  dispose(): void {
    if (!this.finished) void this.reader.cancel().catch(() => {});
  }
}

/**
 * Wraps a response body so that `done(ok)` runs exactly once: `true` when it was read to the
 * end or the reader cancelled it (the client went away: not the target's fault), `false` when
 * the upstream broke off mid-body.
 *
 * @example
 * ```ts
 * const body = leasedBody(upstream.body, (ok) => lease.release(ok ? 'success' : 'failure'));
 * ```
 */
export function leasedBody(body: ByteStreamLike, done: (ok: boolean) => void): ByteStreamLike {
  const reader = body.getReader();
  let ended = false;
  const end = (ok: boolean): void => {
    if (ended) return;
    ended = true;
    done(ok);
  };
  return new web.ReadableStream(
    {
      async pull(controller: StreamController) {
        let result;
        try {
          result = await reader.read();
        } catch (err) {
          end(false);
          controller.error(err);
          return;
        }
        if (result.done) {
          end(true);
          controller.close();
        } else if (result.value !== undefined) {
          controller.enqueue(result.value);
        }
      },
      cancel(reason?: unknown) {
        end(true);
        return reader.cancel(reason).catch(() => {});
      },
    },
    { highWaterMark: 0 },
  );
}
