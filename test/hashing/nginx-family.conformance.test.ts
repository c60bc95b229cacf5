/**
 * The shared balancer contract for ConsistentHash (every mode, and with bounded loads),
 * ModuloHash and IpHash. IpHash routes by client address, so its keys are addresses (IPv4 in
 * several /24s, and IPv6).
 */
import { ConsistentHash } from '../../src/hashing/consistent-hash.js';
import { IpHash } from '../../src/hashing/ip-hash.js';
import { ModuloHash } from '../../src/hashing/modulo-hash.js';
import { conformance } from '../conformance.js';

const key = (i: number) => `key-${i}`;
const address = (i: number) => (i % 3 === 2 ? `2001:db8::${(i * 7919).toString(16)}` : `10.${i % 7}.${(i * 37) % 256}.${i % 256}`);

conformance({ name: 'ConsistentHash', key, create: (targets, options) => new ConsistentHash(targets, options) });
conformance({
  name: 'ConsistentHash(loadFactor: 1.25)',
  key,
  create: (targets, options) => new ConsistentHash(targets, { ...options, loadFactor: 1.25 }),
});
conformance({
  name: "ConsistentHash(compat: 'nginx')",
  key,
  create: (targets, options) => new ConsistentHash(targets, { ...options, compat: 'nginx' }),
});
conformance({
  name: "ConsistentHash(compat: 'ketama')",
  key,
  create: (targets, options) => new ConsistentHash(targets, { ...options, compat: 'ketama' }),
});
conformance({
  name: "ConsistentHash(compat: 'hashring', loadFactor: 1.5)",
  key,
  create: (targets, options) => new ConsistentHash(targets, { ...options, compat: 'hashring', loadFactor: 1.5 }),
});
conformance({ name: 'ModuloHash', key, create: (targets, options) => new ModuloHash(targets, options) });
conformance({ name: 'IpHash', key: address, create: (targets, options) => new IpHash(targets, options) });
