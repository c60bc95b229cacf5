/**
 * murmur3's 32-bit finaliser: a bijection on 32-bit integers in which every input bit affects
 * every output bit with probability close to 1/2.
 *
 * @example
 * ```ts
 * fmix32(1); // 0x514e28b7
 * ```
 */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Combines a key hash and a member hash into one well-mixed 32-bit value (rendezvous scores,
 * Maglev probes). The member hash is spread by a golden-ratio multiply first, so members whose
 * hashes differ in few bits still land far apart.
 *
 * @example
 * ```ts
 * mix32(keyHash, memberHash) === mix32(keyHash, memberHash); // deterministic
 * ```
 */
export function mix32(keyHash: number, memberHash: number): number {
  return fmix32(keyHash ^ Math.imul(memberHash, 0x9e3779b1));
}
