import { readFileSync } from 'node:fs';

/** An upstream's `server` lines, in config order, as the recorder wrote them. */
export type NginxServers = { id: string; weight: number }[];

/** `hash $key` / `hash $key consistent`: the server nginx chose for each key. */
export interface HashCase {
  name: string;
  servers: NginxServers;
  keys: string[];
  expected: string[];
  /** Set on the empty-key case, which nginx routes by its round robin. */
  fallback?: 'round-robin';
}

/** `ip_hash`: the server nginx chose for each client address. */
export interface IpCase {
  name: string;
  servers: NginxServers;
  addresses: string[];
  expected: string[];
}

/** Smooth weighted round robin: the servers nginx chose, in order. */
export interface WrrCase {
  name: string;
  servers: NginxServers;
  sequence: string[];
}

export interface NginxFixture<C> {
  /** The `nginx -v` line of the nginx that was recorded. */
  nginx: string;
  cases: C[];
}

/** Reads a fixture recorded from a real nginx by scripts/nginx/record.mjs (test/fixtures/). */
export function readNginxFixture<C>(file: string): NginxFixture<C> {
  return JSON.parse(readFileSync(new URL(`../fixtures/${file}`, import.meta.url), 'utf8')) as NginxFixture<C>;
}
