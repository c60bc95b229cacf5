/**
 * Small helpers shared by the `loadwise/testing` modules. Self-contained on purpose: this entry
 * imports nothing at run time from the main bundle, so it works next to any copy of `loadwise`
 * (ESM or CommonJS) and with users' own `Balancer` implementations.
 */
import type { Target } from '../types.js';

/** The id of a target: the string itself, or its `id` field. */
export function idOf(target: Target | unknown): string {
  if (typeof target === 'string') return target;
  if (typeof target === 'object' && target !== null && typeof (target as { id?: unknown }).id === 'string') {
    return (target as { id: string }).id;
  }
  throw new TypeError(`not a target (expected a string or an object with a string id): ${describe(target)}`);
}

/** A short, safe rendering of any value for messages. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint' || value == null) return String(value);
  if (typeof value === 'function') return '[function]';
  try {
    const json = JSON.stringify(value);
    return json.length > 200 ? `${json.slice(0, 197)}...` : json;
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** A number with at most `digits` decimals, trailing zeros dropped; locale-independent. */
export function fixed(x: number, digits = 6): string {
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x)) return String(x);
  return String(Number(x.toFixed(digits)));
}

/** A plain-text table with left-aligned columns. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].map((l) => `  ${l}`).join('\n');
}

/**
 * Structural equality for the plain data `stats()` and `targets()` return: primitives by
 * `Object.is`, arrays and plain objects member by member.
 */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => deepEqual(x, bb[i]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(b, k)) return false;
    if (!deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

/** A small seeded PRNG (mulberry32), `[0, 1)`; enough for choosing test operations. */
export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
