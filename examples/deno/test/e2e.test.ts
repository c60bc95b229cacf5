/**
 * End-to-end tests of examples/deno: `npm run example:deno`'s exact command line (read from
 * package.json, permissions included) as a child process in front of real node:http backends.
 * The shared checks are in examples/shared/proxy-suite.ts; here are Deno's permission errors.
 */
import { proxySuite } from '../../shared/proxy-suite.js';

proxySuite({
  runtime: 'deno',
  script: 'example:deno',
  // The npm script reads no files; HTTPS needs the two PEM files readable.
  tlsFlags: (dir) => [`--allow-read=${dir}`],
  badArgs: [
    // Outside the script's --allow-net: refused at start, not a 502 per request.
    [['--listen', '127.0.0.1:0', '--algorithm', 'round-robin', '--target', 'http://192.0.2.1:8080'], /no network permission for --target http:\/\/192\.0\.2\.1:8080: add 192\.0\.2\.1:8080 to deno's --allow-net/],
    [['--listen', '192.0.2.1:8080', '--algorithm', 'round-robin', '--target', 'http://127.0.0.1:9'], /no network permission to listen on 192\.0\.2\.1:8080/],
    [['--listen', '127.0.0.1:0', '--algorithm', 'round-robin', '--target', 'http://127.0.0.1:9', '--tls-cert', 'c.pem', '--tls-key', 'k.pem'], /no permission to read --tls-cert c\.pem: run deno with --allow-read=c\.pem/],
  ],
});
