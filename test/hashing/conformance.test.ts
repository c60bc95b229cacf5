import { Rendezvous } from '../../src/index.js';
import { conformance } from '../conformance.js';

const key = (i: number) => `key-${i}`;

conformance({ name: 'Rendezvous', key, create: (targets, options) => new Rendezvous(targets, options) });
conformance({
  name: 'Rendezvous(loadFactor: 1.25)',
  key,
  create: (targets, options) => new Rendezvous(targets, { ...options, loadFactor: 1.25 }),
});
