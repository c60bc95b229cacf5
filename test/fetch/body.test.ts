import { describe, expect, it } from 'vitest';
import { BodyTooLarge, leasedBody, readRequestBody, type RequestBody } from '../../src/fetch/body.js';
import type { ByteStreamLike } from '../../src/fetch/web.js';

/** A pull-based byte source that records what was pulled and whether it was cancelled. */
function source(chunks: readonly number[][], options: { failAfter?: number } = {}) {
  const log = { pulled: 0, cancelled: false, reason: undefined as unknown };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (options.failAfter !== undefined && log.pulled === options.failAfter) {
          controller.error(new Error('upstream broke'));
          return;
        }
        const next = chunks[log.pulled];
        if (next === undefined) {
          controller.close();
          return;
        }
        log.pulled++;
        controller.enqueue(new Uint8Array(next));
      },
      cancel(reason) {
        log.cancelled = true;
        log.reason = reason;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream: stream as unknown as ByteStreamLike, log };
}

/** Bytes 1..n in chunks of `size`. */
function counting(n: number, size: number): number[][] {
  const out: number[][] = [];
  for (let i = 1; i <= n; i += size) out.push(Array.from({ length: Math.min(size, n - i + 1) }, (_, k) => i + k));
  return out;
}

async function readAll(stream: ByteStreamLike): Promise<number[]> {
  const reader = stream.getReader();
  const out: number[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) {
      reader.releaseLock();
      return out;
    }
    if (value !== undefined) out.push(...value);
  }
}

async function readBody(stream: ByteStreamLike | null, hold: number, max: number): Promise<RequestBody> {
  const body = await readRequestBody(stream, hold, max);
  if (body === 'too-large') throw new Error('unexpected too-large');
  return body;
}

function asStream(value: Uint8Array | ByteStreamLike | null): ByteStreamLike {
  if (value === null || value instanceof Uint8Array) throw new Error('expected a stream');
  return value;
}

describe('readRequestBody', () => {
  it('no body: null for every try, replayable', async () => {
    const body = await readBody(null, 16, 100);
    expect(body.forTry()).toBeNull();
    expect(body.forTry()).toBeNull();
    expect(body.replayable).toBe(true);
    expect(body.tooLarge).toBe(false);
  });

  it('an empty body is held as zero bytes', async () => {
    const body = await readBody(source([]).stream, 16, 100);
    expect(body.forTry()).toEqual(new Uint8Array(0));
    expect(body.replayable).toBe(true);
  });

  it('a small body is held whole: every try sends the same bytes', async () => {
    const { stream, log } = source(counting(10, 3));
    const body = await readBody(stream, 16, 100);
    expect(log.pulled).toBe(4);
    const first = body.forTry();
    const second = body.forTry();
    expect(first).toBeInstanceOf(Uint8Array);
    expect([...(first as Uint8Array)]).toEqual(counting(10, 10)[0]);
    expect(second).toEqual(first);
    expect(body.replayable).toBe(true);
    expect(body.tooLarge).toBe(false);
  });

  it('a body of exactly the hold cap is held; one byte more streams', async () => {
    const exact = await readBody(source(counting(8, 4)).stream, 8, 100);
    expect(exact.forTry()).toBeInstanceOf(Uint8Array);
    const over = await readBody(source(counting(9, 4)).stream, 8, 100);
    expect(over.forTry()).not.toBeInstanceOf(Uint8Array);
  });

  it('a body over the hold cap streams: all bytes in order, the source read only as far as needed', async () => {
    const { stream, log } = source(counting(20, 3));
    const body = await readBody(stream, 4, 100);
    expect(log.pulled).toBe(2); // 6 bytes read to learn it is over 4
    expect(body.replayable).toBe(true);
    const tryStream = asStream(body.forTry());
    expect(body.replayable).toBe(true); // handed out, not read yet
    expect(await readAll(tryStream)).toEqual(counting(20, 20)[0]);
    expect(body.replayable).toBe(false);
    expect(log.cancelled).toBe(false);
  });

  it('replayable turns false as soon as a try starts reading', async () => {
    const body = await readBody(source(counting(20, 3)).stream, 4, 100);
    const reader = asStream(body.forTry()).getReader();
    expect(body.replayable).toBe(true);
    const first = await reader.read();
    expect(first.done).toBe(false);
    expect(body.replayable).toBe(false);
    await reader.cancel();
  });

  it('a second try after the first read errors instead of sending a partial body', async () => {
    const body = await readBody(source(counting(20, 3)).stream, 4, 100);
    await readAll(asStream(body.forTry()));
    await expect(readAll(asStream(body.forTry()))).rejects.toThrow('request body already sent');
  });

  it('a try that started reading and was cancelled consumes the body (and cancels the source)', async () => {
    const { stream, log } = source(counting(20, 3));
    const body = await readBody(stream, 4, 100);
    const reader = asStream(body.forTry()).getReader();
    await reader.read();
    await reader.cancel('try aborted');
    expect(log.cancelled).toBe(true);
    expect(log.reason).toBe('try aborted');
    expect(body.replayable).toBe(false);
    await expect(readAll(asStream(body.forTry()))).rejects.toThrow('request body already sent');
  });

  it('a try whose stream was cancelled before being read leaves the body intact for the next', async () => {
    const { stream, log } = source(counting(20, 3));
    const body = await readBody(stream, 4, 100);
    await asStream(body.forTry()).cancel(new Error('connection refused'));
    expect(log.cancelled).toBe(false);
    expect(body.replayable).toBe(true);
    expect(await readAll(asStream(body.forTry()))).toEqual(counting(20, 20)[0]);
  });

  it('a body over maxBytes while being held is too-large, and the source is cancelled', async () => {
    const { stream, log } = source(counting(15, 5));
    expect(await readRequestBody(stream, 100, 10)).toBe('too-large');
    expect(log.pulled).toBe(3);
    await Promise.resolve();
    expect(log.cancelled).toBe(true);
  });

  it('a body of exactly maxBytes is accepted', async () => {
    const body = await readBody(source(counting(10, 5)).stream, 100, 10);
    expect((body.forTry() as Uint8Array).byteLength).toBe(10);
  });

  it('a body over maxBytes while streaming errors the stream with BodyTooLarge and sets tooLarge', async () => {
    const { stream, log } = source(counting(16, 4));
    const body = await readBody(stream, 4, 10);
    expect(body.tooLarge).toBe(false);
    const error = await readAll(asStream(body.forTry())).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BodyTooLarge);
    expect((error as Error).name).toBe('BodyTooLarge');
    expect(body.tooLarge).toBe(true);
    await Promise.resolve();
    expect(log.cancelled).toBe(true);
    expect(log.reason).toBe(error);
  });

  it("a source error while streaming reaches the try's stream", async () => {
    const body = await readBody(source(counting(20, 3), { failAfter: 3 }).stream, 4, 100);
    await expect(readAll(asStream(body.forTry()))).rejects.toThrow('upstream broke');
  });

  it('a source error while holding rejects', async () => {
    await expect(readRequestBody(source(counting(20, 3), { failAfter: 1 }).stream, 100, 1000)).rejects.toThrow('upstream broke');
  });

  it('dispose() cancels a streamed body nobody read, and not a finished one', async () => {
    const unread = source(counting(20, 3));
    (await readBody(unread.stream, 4, 100)).dispose();
    await Promise.resolve();
    expect(unread.log.cancelled).toBe(true);

    const finished = source(counting(20, 3));
    const body = await readBody(finished.stream, 4, 100);
    await readAll(asStream(body.forTry()));
    body.dispose();
    await Promise.resolve();
    expect(finished.log.cancelled).toBe(false);
  });
});

describe('leasedBody', () => {
  function recorder(): { calls: boolean[]; done: (ok: boolean) => void } {
    const calls: boolean[] = [];
    return { calls, done: (ok) => void calls.push(ok) };
  }

  it('passes the bytes through in order and calls done(true) exactly once at the end', async () => {
    const { stream } = source(counting(10, 3));
    const r = recorder();
    const leased = leasedBody(stream, r.done);
    expect(r.calls).toEqual([]);
    expect(await readAll(leased)).toEqual(counting(10, 10)[0]);
    expect(r.calls).toEqual([true]);
    await leased.cancel();
    expect(r.calls).toEqual([true]);
  });

  it('does not read ahead of its reader', async () => {
    const { stream, log } = source(counting(10, 3));
    const leased = leasedBody(stream, () => {});
    await Promise.resolve();
    expect(log.pulled).toBe(0);
    const reader = leased.getReader();
    await reader.read();
    expect(log.pulled).toBe(1);
    await reader.cancel();
  });

  it('calls done(true) once when the reader cancels (the client left), and cancels the source', async () => {
    const { stream, log } = source(counting(10, 3));
    const r = recorder();
    const reader = leasedBody(stream, r.done).getReader();
    await reader.read();
    await reader.cancel('client gone');
    expect(r.calls).toEqual([true]);
    expect(log.cancelled).toBe(true);
    expect(log.reason).toBe('client gone');
  });

  it('calls done(true) when cancelled before any read', async () => {
    const { stream } = source(counting(10, 3));
    const r = recorder();
    await leasedBody(stream, r.done).cancel();
    expect(r.calls).toEqual([true]);
  });

  it('calls done(false) once when the source errors mid-body, and the error reaches the reader', async () => {
    const { stream } = source(counting(10, 3), { failAfter: 2 });
    const r = recorder();
    const leased = leasedBody(stream, r.done);
    await expect(readAll(leased)).rejects.toThrow('upstream broke');
    expect(r.calls).toEqual([false]);
  });
});
