/**
 * Target sets shared by every benchmark, so loadwise and the npm peers route over the same pools.
 */

/** Pool sizes every balancer is measured at. */
export const SIZES = [10, 100, 1000, 10000] as const;

/** The weight mix of the weighted balancers: weights cycle 1, 2, 3, 4, 5, 1, 2, … (5 distinct weights). */
export function weightOf(i: number): number {
  return (i % 5) + 1;
}

/** `n` distinct `host:port` ids: 10.0.0.0:8080, 10.0.0.1:8080, … */
export function hostIds(n: number): string[] {
  const out = new Array<string>(n);
  for (let i = 0; i < n; i++) out[i] = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:8080`;
  return out;
}

export interface WeightedHost {
  readonly id: string;
  readonly weight: number;
}

/** `n` targets `{ id, weight }` with weights cycling 1..5. Fresh objects on every call. */
export function weightedHosts(n: number): WeightedHost[] {
  return hostIds(n).map((id, i) => ({ id, weight: weightOf(i) }));
}

/** The weights of {@link weightedHosts}`(n)`, as a plain array. */
export function weightsOf(n: number): number[] {
  return Array.from({ length: n }, (_, i) => weightOf(i));
}
