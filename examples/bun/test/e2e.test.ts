/**
 * End-to-end tests of examples/bun: `npm run example:bun`'s exact command line (read from
 * package.json) as a child process in front of real node:http backends. The checks are shared
 * with examples/deno (examples/shared/proxy-suite.ts).
 */
import { proxySuite } from '../../shared/proxy-suite.js';

proxySuite({
  runtime: 'bun',
  script: 'example:bun',
  tlsFlags: () => [],
  badArgs: [[['--listen', '127.0.0.1:0', '--algorithm', 'round-robin', '--target', 'http://127.0.0.1:9', '--tls-cert', '/nonexistent/c.pem', '--tls-key', '/nonexistent/k.pem'], /cannot read --tls-cert \/nonexistent\/c\.pem/]],
});
