/**
 * Cheap whole-sequence checks. vitest's `expect` costs about 10 µs a call, so an `expect` per
 * pick inside a loop of thousands dominates a test's run time; these collect what a loop saw and
 * let one assertion check all of it, while a failure still names the positions that differ.
 */

/** What {@link attempt} records for a call that threw. */
export const THREW = '(threw)';

/** `fn()`, or {@link THREW} if it throws: lets "throws here" be one element of a compared sequence. */
export function attempt(fn: () => string): string {
  try {
    return fn();
  } catch {
    return THREW;
  }
}

/**
 * The first `limit` positions where `got` and `want` differ (by `Object.is`), as readable lines,
 * and a length line if their lengths differ; `[]` when they are equal. Use it as
 * `expect(differences(got, want)).toEqual([])`: one assertion for a whole sequence, and on
 * failure the message shows where it diverged. For sequences of primitives (ids, indexes), in
 * arrays or typed arrays.
 */
export function differences<T>(got: ArrayLike<T>, want: ArrayLike<T>, limit = 10): string[] {
  const out: string[] = [];
  if (got.length !== want.length) out.push(`length: got ${got.length}, want ${want.length}`);
  const n = Math.max(got.length, want.length);
  for (let i = 0; i < n && out.length < limit; i++) {
    if (!Object.is(got[i], want[i])) out.push(`#${i}: got ${show(got[i])}, want ${show(want[i])}`);
  }
  return out;
}

const show = (x: unknown): string => (typeof x === 'string' ? JSON.stringify(x) : String(x));
