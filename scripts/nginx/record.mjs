#!/usr/bin/env node
// Record ground-truth load-balancing fixtures from a real nginx.
//
//   apt-get install -y nginx-light      # or any nginx with the realip module
//   node scripts/nginx/record.mjs       # writes test/fixtures/nginx-*.json
//
// Options:  --out DIR        output directory (default: <repo>/test/fixtures)
//           --only a,b       subset of: wrr, hash-consistent, hash, ip-hash
// Env:      NGINX=/path/to/nginx          (default: `nginx`, then /usr/sbin/nginx)
//           LOADWISE_NGINX_BASE_PORT=9100 front port; backends use BASE+1 .. BASE+25
//
// Plain Node >= 20 ESM, no dependencies. It starts ONE nginx (daemon off, master_process off,
// worker_processes 1) from a temp dir, listening only on 127.0.0.1, sends every request
// sequentially, then kills nginx and removes the temp dir. See scripts/nginx/README.md.
//
// The backend ports are part of the fixtures (nginx `hash ... consistent` hashes the
// `server host:port` string), so keep the default base port unless it is taken; if you change
// it, the consistent-hash fixtures change too (which is fine: they record their own ids).

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const GLOBAL_TIMEOUT_MS = 15 * 60 * 1000;
const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const RECORDED_WITH = 'scripts/nginx/record.mjs';

// ---------------------------------------------------------------------------------------------
// CLI

const argv = process.argv.slice(2);
function option(name) {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}
const OUT_DIR = path.resolve(option('--out') ?? path.join(REPO, 'test', 'fixtures'));
const ALL_KINDS = ['wrr', 'hash-consistent', 'hash', 'ip-hash'];
const ONLY = (option('--only') ?? ALL_KINDS.join(',')).split(',').filter(Boolean);
for (const k of ONLY) if (!ALL_KINDS.includes(k)) fail(`unknown kind in --only: ${k}`);

const BASE_PORT = Number(process.env.LOADWISE_NGINX_BASE_PORT ?? 9100);
const MAX_SERVERS = 25;
const FRONT_PORT = BASE_PORT;
const HOST = '127.0.0.1';
const backendId = (i) => `${HOST}:${BASE_PORT + 1 + i}`; // i = 0 .. MAX_SERVERS-1

function fail(msg) {
  console.error(`record.mjs: ${msg}`);
  process.exit(1);
}

// ---------------------------------------------------------------------------------------------
// Deterministic inputs

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const randInt = (rng, lo, hi) => lo + Math.floor(rng() * (hi - lo + 1)); // inclusive

function serverList(weights) {
  if (weights.length > MAX_SERVERS) throw new Error('too many servers');
  return weights.map((weight, i) => ({ id: backendId(i), weight }));
}

function randomWeights(seed, n, lo, hi) {
  const rng = mulberry32(seed);
  return Array.from({ length: n }, () => randInt(rng, lo, hi));
}

const WRR_CASES = [
  ['weights 5,1,1', [5, 1, 1]],
  ['weights 1,1,1', [1, 1, 1]],
  ['weights 3,2,1', [3, 2, 1]],
  ['weights 1,2,3', [1, 2, 3]],
  ['weights 7,3,9,1,4', [7, 3, 9, 1, 4]],
  ['weights 100,1', [100, 1]],
  ['weights 2,3,5,7,11,13', [2, 3, 5, 7, 11, 13]],
  ['10 servers, weights 4,1,7,2,9,3,3,8,1,5', [4, 1, 7, 2, 9, 3, 3, 8, 1, 5]],
  ['25 servers, mulberry32(25) weights 1..20', randomWeights(25, 25, 1, 20)],
].map(([name, weights]) => {
  const total = weights.reduce((a, b) => a + b, 0);
  const requests = Math.min(3000, Math.max(200, 3 * total));
  return { name, servers: serverList(weights), requests };
});

// Server lists shared by the hash and hash-consistent fixtures.
const HASH_SERVER_LISTS = [
  ['3 servers, equal weight', [1, 1, 1]],
  ['5 servers, weights 1..5', [1, 2, 3, 4, 5]],
  ['10 servers, equal weight', [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]],
  ['3 servers, weights 3,1,1', [3, 1, 1]],
  ['25 servers, mulberry32(2525) weights 1..20', randomWeights(2525, 25, 1, 20)],
];

const IP_SERVER_LISTS = [
  ['2 servers, equal weight', [1, 1]],
  ['3 servers, equal weight', [1, 1, 1]],
  ['5 servers, weights 1..5', [1, 2, 3, 4, 5]],
  ['10 servers, equal weight', [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]],
  ['3 servers, weights 3,1,1', [3, 1, 1]],
];

// Percent-encode every UTF-8 byte outside A-Z a-z 0-9 - _ . ~ : (uppercase hex, like
// encodeURIComponent except that ':' stays literal).
function pctEncode(s) {
  let out = '';
  for (const byte of new TextEncoder().encode(s)) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.~:]/.test(c) ? c : '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

// Returns { keys, decoded }: `keys` are the exact strings nginx sees in $arg_key (the raw query
// bytes, never URL-decoded by nginx); `decoded` maps a key that contains %XX escapes to what it
// decodes to, for information only.
function makeKeys(target = 2000) {
  const keys = [];
  const decoded = {};
  const seen = new Set();
  const addRaw = (raw, dec) => {
    if (raw === '' || seen.has(raw)) return; // the empty key gets its own case
    seen.add(raw);
    keys.push(raw);
    if (dec !== undefined && dec !== raw) decoded[raw] = dec;
  };
  const addText = (text) => addRaw(pctEncode(text), text);

  for (let i = 0; i < 100; i++) addRaw(String(i));
  for (let i = 1; i <= 500; i++) addRaw(`user:${i}`);
  for (const k of ['User:1', 'USER:1', 'user:01', 'user:1.', 'user1', 'a', 'A', 'b', 'z', '~',
    '-', '_', '.', ':', '..', 'key', 'Key', 'KEY', 'session-abc123', 'tenant.eu-west-1',
    'a:b:c', 'x~y', '0.0', '00', '-1', '1e3', 'null', 'undefined', 'true'])
    addRaw(k);
  // Non-ASCII and other text that must be percent-encoded in a query string.
  const nonAscii = [];
  for (let i = 1; i <= 10; i++) nonAscii.push(`ключ-${i}`);
  for (let i = 1; i <= 10; i++) nonAscii.push(`键${i}`);
  nonAscii.push('🔑', '🔑-1', '🔑-2', '👍🏽', 'café', 'naïve', 'Ελληνικά', 'עברית', 'العربية',
    '日本語キー', '한국어', 'ñandú', 'Ünïcödé', 'hello world', 'a b c', '100%', 'tab\there',
    'quote"', '<tag>', 'back\\slash', 'a&b', 'a=b', 'hash#tag', 'q?x', 'caret^', 'pipe|x');
  for (const t of nonAscii) addText(t);
  // Same text, different raw bytes: nginx does not normalise percent-encoding.
  addRaw('caf%c3%a9', 'café'); // lowercase hex (pctEncode would give caf%C3%A9)
  addRaw('hello+world'); // '+' is NOT decoded to a space by nginx; hashed literally
  addRaw('hello%20world', 'hello world');
  // Literal characters that are legal unencoded in a query string; hashed exactly as sent.
  for (const k of ['a/b', '/path/to/x', 'p+q', 'x@y.z', "it's", '(x)', 'a*b', 'a!b', 'a$b',
    'a,b', 'a;b', 'a?b', '?', '@'])
    addRaw(k);
  // Long keys.
  const longRng = mulberry32(777);
  const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  for (const len of [64, 100, 127, 128, 200, 255, 256, 257, 500, 512, 1000, 1024, 2048, 4000]) {
    let s = '';
    for (let i = 0; i < len; i++) s += ALNUM[Math.floor(longRng() * ALNUM.length)];
    addRaw(s);
  }
  addRaw('x'.repeat(300));
  addRaw('user:' + '9'.repeat(120));
  // Random keys from the unencoded alphabet, to fill up.
  const SAFE = ALNUM + '-_.~:';
  const rng = mulberry32(20240601);
  while (keys.length < target) {
    const len = randInt(rng, 1, 32);
    let s = '';
    for (let i = 0; i < len; i++) s += SAFE[Math.floor(rng() * SAFE.length)];
    addRaw(s);
  }
  return { keys, decoded };
}

function makeIpAddresses() {
  const out = [];
  const seen = new Set();
  const add = (a) => {
    if (!seen.has(a)) {
      seen.add(a);
      out.push(a);
    }
  };
  // IPv4. nginx ip_hash uses only the first three octets of an IPv4 address.
  for (const a of ['0.0.0.0', '1.1.1.1', '1.2.3.4', '8.8.8.8', '8.8.4.4', '10.0.0.1', '10.0.0.2',
    '10.0.0.255', '10.0.1.1', '127.0.0.1', '127.0.0.2', '172.16.0.1', '192.168.0.1',
    '192.168.0.2', '192.168.0.254', '192.168.1.1', '203.0.113.7', '198.51.100.1',
    '255.255.255.0', '255.255.255.254']) // 255.255.255.255 is rejected by nginx's parser
    add(a);
  for (let x = 0; x < 256; x++) add(`10.0.${x}.1`);
  for (let x = 0; x < 64; x++) add(`172.${16 + (x >> 4)}.${(x * 17) & 255}.${(x * 29) & 255}`);
  const rng = mulberry32(4242);
  for (let i = 0; i < 200; i++) { // pairs in the same /24
    const p = `${randInt(rng, 1, 223)}.${randInt(rng, 0, 255)}.${randInt(rng, 0, 255)}`;
    const d1 = randInt(rng, 0, 255);
    let d2 = randInt(rng, 0, 255);
    if (d2 === d1) d2 = (d1 + 1) & 255;
    add(`${p}.${d1}`);
    add(`${p}.${d2}`);
  }
  while (out.length < 1800) {
    const a = `${randInt(rng, 0, 255)}.${randInt(rng, 0, 255)}.${randInt(rng, 0, 255)}.${randInt(rng, 0, 255)}`;
    if (a !== '255.255.255.255') add(a);
  }
  // IPv6 (nginx ip_hash uses all 16 bytes). Mostly canonical RFC 5952 text, plus a few
  // non-canonical spellings of addresses that also appear canonically.
  for (const a of ['::', '::1', '2001:db8::1', '2001:db8::2', '2001:db8:0:0:0:0:0:1',
    '2001:DB8::2', '2001:0db8:0000:0000:0000:0000:0000:0003', 'fe80::1', 'ff02::1',
    '2001:db8:85a3::8a2e:370:7334', '64:ff9b::808:808', '::ffff:10.0.0.1', '::ffff:192.168.0.1',
    '::ffff:a00:2', '2606:4700:4700::1111', '2a00:1450:4001:82a::200e'])
    add(a);
  for (let i = 0; i < 40; i++) add(`2001:db8:1:${i.toString(16)}::1`); // differ in byte 7
  for (let i = 0; i < 24; i++) add(`2001:db8::${(i + 16).toString(16)}`); // differ in last byte
  const hex16 = () => randInt(rng, 0, 0xffff).toString(16);
  while (out.length < 2000) {
    const groups = Array.from({ length: 8 }, hex16).join(':');
    add(canonicalIpv6(groups));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// IP parsing (only to check that nginx's $remote_addr is the address we injected)

function ipv4Bytes(s) {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  const b = m.slice(1).map(Number);
  return b.every((x) => x <= 255) ? b : null;
}
function ipv6Bytes(s) {
  let tail4 = null;
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    tail4 = ipv4Bytes(s.slice(lastColon + 1));
    if (!tail4) return null;
    s = s.slice(0, lastColon + 1) + '0:0';
  }
  const parts = s.split('::');
  if (parts.length > 2) return null;
  const groups = (t) => (t === '' ? [] : t.split(':'));
  const head = groups(parts[0]);
  const tail = parts.length === 2 ? groups(parts[1]) : [];
  const fill = parts.length === 2 ? 8 - head.length - tail.length : 0;
  if (fill < 0 || (parts.length === 1 && head.length !== 8)) return null;
  const all = [...head, ...Array(fill).fill('0'), ...tail];
  if (all.length !== 8 || !all.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return null;
  const bytes = all.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 255]);
  if (tail4) bytes.splice(12, 4, ...tail4);
  return bytes;
}
function canonicalIpv6(s) {
  return new URL(`http://[${s}]/`).hostname.slice(1, -1);
}
function sameAddress(a, b) {
  const fa = a.includes(':') ? ipv6Bytes(a) : ipv4Bytes(a);
  const fb = b.includes(':') ? ipv6Bytes(b) : ipv4Bytes(b);
  return fa !== null && fb !== null && fa.length === fb.length && fa.every((x, i) => x === fb[i]);
}

// ---------------------------------------------------------------------------------------------
// nginx

function findNginx() {
  const candidates = process.env.NGINX ? [process.env.NGINX] : ['nginx', '/usr/sbin/nginx'];
  for (const bin of candidates) {
    const r = spawnSync(bin, ['-V'], { encoding: 'utf8' });
    if (!r.error) return { bin, version: r.stderr.split('\n')[0].trim(), full: r.stderr };
  }
  fail('nginx not found; install it (apt-get install -y nginx-light) or set NGINX=/path/to/nginx');
}

function upstreamBlock(name, directive, servers) {
  const lines = [`  upstream ${name} {`];
  if (directive) lines.push(`    ${directive}`);
  for (const s of servers) lines.push(`    server ${s.id} weight=${s.weight};`);
  lines.push('  }');
  return lines.join('\n');
}

function nginxConf(dir, upstreams) {
  const backends = [];
  for (let i = 0; i < MAX_SERVERS; i++) {
    const id = backendId(i);
    backends.push(`  server {
    listen ${id};
    location / { return 200 "${id}"; }
  }`);
  }
  const locations = upstreams
    .map((u) => `    location = /${u.name} { proxy_pass http://${u.name}; }`)
    .join('\n');
  return `# generated by ${RECORDED_WITH}; temporary
daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;

events { worker_connections 512; }

http {
  access_log off;
  server_tokens off;
  default_type text/plain;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  large_client_header_buffers 4 64k;
  keepalive_requests 1000000;
  keepalive_timeout 120s;

${upstreams.map((u) => upstreamBlock(u.name, u.directive, u.servers)).join('\n')}

  # front: proxies to the upstream under test, reports what nginx saw
  server {
    listen ${HOST}:${FRONT_PORT};
    set_real_ip_from ${HOST};
    real_ip_header X-Real-IP;
    proxy_next_upstream off;
    proxy_connect_timeout 5s;
    proxy_read_timeout 10s;
    add_header X-Upstream-Addr $upstream_addr always;
    add_header X-Arg-Key $arg_key always;
    add_header X-Remote-Addr $remote_addr always;
${locations}
    location / { return 404 "no such upstream"; }
  }

  # backends: each answers with its own "host:port"
${backends.join('\n')}
}
`;
}

function portFree(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, HOST, () => srv.close(() => resolve(true)));
  });
}

async function waitForPort(port, child, dir, ms = 10000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, HOST);
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  let log = '';
  try { log = fs.readFileSync(path.join(dir, 'error.log'), 'utf8'); } catch {}
  throw new Error(`nginx did not start listening on ${HOST}:${port}\n${log}`);
}

// ---------------------------------------------------------------------------------------------
// HTTP client: one keep-alive connection, strictly sequential requests, no retries (a retried
// request could mean two picks for one recorded entry).

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
function get(pathAndQuery, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: HOST, port: FRONT_PORT, path: pathAndQuery, method: 'GET', headers, agent },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.setTimeout(15000, () => req.destroy(new Error(`timeout: GET ${pathAndQuery}`)));
    req.on('error', reject);
    req.end();
  });
}

// Sends one request and returns the backend id, after checking that exactly one backend was
// tried and that it is one of `servers`.
async function pick(upstream, servers, { query = '', headers } = {}) {
  const p = `/${upstream}${query}`;
  const res = await get(p, headers);
  if (res.status !== 200) throw new Error(`GET ${p}: status ${res.status}: ${res.body}`);
  const id = res.body;
  if (res.headers['x-upstream-addr'] !== id)
    throw new Error(`GET ${p}: upstream_addr "${res.headers['x-upstream-addr']}" != body "${id}"`);
  if (!servers.some((s) => s.id === id)) throw new Error(`GET ${p}: unexpected backend ${id}`);
  return { id, headers: res.headers };
}

// ---------------------------------------------------------------------------------------------
// Recorders

async function recordWrr(cases, names) {
  const out = [];
  for (const [i, c] of cases.entries()) {
    const sequence = [];
    for (let r = 0; r < c.requests; r++) sequence.push((await pick(names[i], c.servers)).id);
    out.push({ name: c.name, servers: c.servers, sequence });
    log(`  wrr: ${c.name}: ${sequence.length} picks`);
  }
  return out;
}

async function recordHash(kind, lists, names, keySet) {
  const out = [];
  for (const [i, [name, weights]] of lists.entries()) {
    const servers = serverList(weights);
    const expected = [];
    for (const key of keySet.keys) {
      const { id, headers } = await pick(names[i], servers, { query: `?key=${key}` });
      if (headers['x-arg-key'] !== key)
        throw new Error(`${kind}: nginx saw $arg_key "${headers['x-arg-key']}", sent "${key}"`);
      expected.push(id);
    }
    // A non-empty key must map to the same server every time (stateless); spot-check that.
    for (let k = 0; k < 100; k++) {
      const j = (k * 7919) % keySet.keys.length;
      const again = (await pick(names[i], servers, { query: `?key=${keySet.keys[j]}` })).id;
      if (again !== expected[j]) throw new Error(`${kind}: ${name}: key ${keySet.keys[j]} moved`);
    }
    out.push({ name, servers, keys: keySet.keys, expected });
    log(`  ${kind}: ${name}: ${expected.length} keys`);
  }
  return out;
}

// Empty $arg_key: nginx's hash balancers fall back to plain (smooth weighted) round robin,
// which is stateful, so this gets a fresh upstream and its own case.
async function recordEmptyKey(kind, name, servers, upstream) {
  const total = servers.reduce((a, s) => a + s.weight, 0);
  const keys = Array(3 * total).fill('');
  const expected = [];
  for (const _ of keys) {
    const { id, headers } = await pick(upstream, servers, { query: '?key=' });
    if ((headers['x-arg-key'] ?? '') !== '') throw new Error(`${kind}: empty key not empty`);
    expected.push(id);
  }
  log(`  ${kind}: ${name}: ${expected.length} empty keys`);
  return {
    name,
    note: 'An empty $arg_key makes nginx fall back to its smooth weighted round robin over the ' +
      'same upstream (state starts fresh in this upstream, requests in this order). The same ' +
      'happens when the key argument is absent.',
    fallback: 'round-robin',
    servers,
    keys,
    expected,
  };
}

async function recordIpHash(lists, names, addresses) {
  const out = [];
  for (const [i, [name, weights]] of lists.entries()) {
    const servers = serverList(weights);
    const expected = [];
    for (const addr of addresses) {
      const { id, headers } = await pick(names[i], servers, { headers: { 'X-Real-IP': addr } });
      if (!sameAddress(headers['x-remote-addr'] ?? '', addr))
        throw new Error(`ip-hash: realip did not apply: sent ${addr}, nginx saw ${headers['x-remote-addr']}`);
      expected.push(id);
    }
    const distinct = new Set(expected).size;
    if (distinct < Math.min(servers.length, 2))
      throw new Error(`ip-hash: ${name}: all addresses went to one server; realip not honoured?`);
    out.push({ name, servers, addresses, expected });
    log(`  ip-hash: ${name}: ${expected.length} addresses over ${distinct} servers`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Output: stable key order, objects indented, arrays of primitives packed into ~100-column lines.

function format(value, indent = '') {
  const inner = indent + '  ';
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    if (value.every((v) => v === null || typeof v !== 'object')) {
      const lines = [];
      let line = '';
      for (const v of value) {
        const s = JSON.stringify(v);
        if (line && inner.length + line.length + s.length + 2 > 100) {
          lines.push(line);
          line = '';
        }
        line += (line ? ' ' : '') + s + ',';
      }
      lines.push(line);
      lines[lines.length - 1] = lines[lines.length - 1].slice(0, -1);
      return `[\n${lines.map((l) => inner + l).join('\n')}\n${indent}]`;
    }
    if (value.every((v) => v && typeof v === 'object' && !Array.isArray(v) &&
      Object.values(v).every((x) => x === null || typeof x !== 'object'))) {
      // small flat objects (server lists) one per line
      return `[\n${value.map((v) => inner + JSON.stringify(v)).join(',\n')}\n${indent}]`;
    }
    return `[\n${value.map((v) => inner + format(v, inner)).join(',\n')}\n${indent}]`;
  }
  if (value && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 0) return '{}';
    return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${format(v, inner)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}

function writeFixture(file, doc) {
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const p = path.join(OUT_DIR, file);
  fs.writeFileSync(p, format(doc) + '\n');
  log(`wrote ${path.relative(process.cwd(), p) || p}`);
}

function log(msg) {
  console.log(msg);
}

// ---------------------------------------------------------------------------------------------
// Main

let child = null;
let tmpDir = null;
function cleanup() {
  if (child && child.exitCode === null && child.signalCode === null) {
    try { child.kill('SIGKILL'); } catch {}
  }
  agent.destroy();
  if (tmpDir) {
    try { fs.rmSync(tmpDir, { recursive: true, force: true }); } catch {}
    tmpDir = null;
  }
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    cleanup();
    process.exit(130);
  });
}

async function main() {
  const nginx = findNginx();
  if (!/--with-http_realip_module/.test(nginx.full) && ONLY.includes('ip-hash'))
    fail('this nginx lacks the realip module, needed for the ip-hash fixture (use --only to skip)');
  log(`using ${nginx.bin}: ${nginx.version}`);

  for (let p = FRONT_PORT; p <= FRONT_PORT + MAX_SERVERS; p++)
    if (!(await portFree(p)))
      fail(`port ${HOST}:${p} is in use; set LOADWISE_NGINX_BASE_PORT (fixture ids will change)`);

  const upstreams = [];
  const addUpstream = (prefix, directive, servers) => {
    const name = `${prefix}_${upstreams.length}`;
    upstreams.push({ name, directive, servers });
    return name;
  };
  const plan = {};
  if (ONLY.includes('wrr'))
    plan.wrr = WRR_CASES.map((c) => addUpstream('wrr', null, c.servers));
  const emptyServers = serverList([5, 1, 1]);
  if (ONLY.includes('hash-consistent')) {
    plan.chash = HASH_SERVER_LISTS.map(([, w]) => addUpstream('chash', 'hash $arg_key consistent;', serverList(w)));
    plan.chashEmpty = addUpstream('chash', 'hash $arg_key consistent;', emptyServers);
  }
  if (ONLY.includes('hash')) {
    plan.hash = HASH_SERVER_LISTS.map(([, w]) => addUpstream('hash', 'hash $arg_key;', serverList(w)));
    plan.hashEmpty = addUpstream('hash', 'hash $arg_key;', emptyServers);
  }
  if (ONLY.includes('ip-hash'))
    plan.ip = IP_SERVER_LISTS.map(([, w]) => addUpstream('ip', 'ip_hash;', serverList(w)));

  tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loadwise-nginx-'));
  const conf = path.join(tmpDir, 'nginx.conf');
  fs.writeFileSync(conf, nginxConf(tmpDir, upstreams));
  const test = spawnSync(nginx.bin, ['-t', '-q', '-p', tmpDir, '-e', path.join(tmpDir, 'error.log'), '-c', conf], { encoding: 'utf8' });
  if (test.status !== 0) throw new Error(`nginx -t failed:\n${test.stderr}`);

  child = spawn(nginx.bin, ['-p', tmpDir, '-e', path.join(tmpDir, 'error.log'), '-c', conf], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  child.on('error', (e) => fail(`cannot start nginx: ${e.message}`));
  await waitForPort(FRONT_PORT, child, tmpDir);
  log(`nginx running (pid ${child.pid}), prefix ${tmpDir}`);

  const header = (directive, notes) => ({
    nginx: nginx.version,
    recordedWith: RECORDED_WITH,
    directive,
    notes,
  });

  if (plan.wrr) {
    const cases = await recordWrr(WRR_CASES, plan.wrr);
    writeFixture('nginx-wrr.json', {
      ...header('(default round robin) server ... weight=W;', [
        'Each case is a fresh upstream (all current_weight 0); sequence[i] is the server that ' +
          'served request i, requests sent one after another, all servers healthy.',
        'ids are exactly the `server` strings in the upstream block, in config order.',
      ]),
      cases,
    });
  }

  let keySet = null;
  const keyNotes = [
    'keys[i] is exactly the string nginx hashed: the value of $arg_key, which nginx takes from ' +
      'the raw query string WITHOUT url-decoding. The request was GET /<upstream>?key=<keys[i]> ' +
      'with keys[i] put into the URL verbatim.',
    'Most keys use only A-Z a-z 0-9 - _ . ~ : (no encoding needed). Keys containing %XX ' +
      'escapes were produced by percent-encoding UTF-8 text (uppercase hex); `decoded` maps ' +
      'such a key to the text it stands for, for information only: hash the key, not the ' +
      'decoded text. "caf%c3%a9" (lowercase hex) and "caf%C3%A9" are different keys to nginx. ' +
      'A few keys contain literal / + @ ! $ \' ( ) * , ; ? characters: also hashed as sent; ' +
      '"+" is not a space.',
    'Hash input is the key bytes, all ASCII here (UTF-8 of keys[i]).',
    'ids are exactly the `server` strings in the upstream block, in config order.',
    'The empty key is a separate case: nginx falls back to round robin for it.',
  ];
  if (plan.chash || plan.hash) keySet = makeKeys(2000);

  if (plan.chash) {
    const cases = await recordHash('hash-consistent', HASH_SERVER_LISTS, plan.chash, keySet);
    cases.push(await recordEmptyKey('hash-consistent', 'empty key, weights 5,1,1', emptyServers, plan.chashEmpty));
    writeFixture('nginx-hash-consistent.json', {
      ...header('hash $arg_key consistent;', keyNotes),
      decoded: keySet.decoded,
      cases,
    });
  }
  if (plan.hash) {
    const cases = await recordHash('hash', HASH_SERVER_LISTS, plan.hash, keySet);
    cases.push(await recordEmptyKey('hash', 'empty key, weights 5,1,1', emptyServers, plan.hashEmpty));
    writeFixture('nginx-hash.json', {
      ...header('hash $arg_key;', keyNotes),
      decoded: keySet.decoded,
      cases,
    });
  }
  if (plan.ip) {
    const addresses = makeIpAddresses();
    const cases = await recordIpHash(IP_SERVER_LISTS, plan.ip, addresses);
    writeFixture('nginx-ip-hash.json', {
      ...header('ip_hash;', [
        'The client address was injected with the realip module (set_real_ip_from 127.0.0.1; ' +
          'real_ip_header X-Real-IP;), which replaces the connection address that ip_hash ' +
          'reads; every response was checked to report $remote_addr equal to the injected ' +
          'address. All TCP connections really came from 127.0.0.1.',
        'addresses[i] is the X-Real-IP text sent. IPv4 hashes the first 3 octets; IPv6 ' +
          '(including IPv4-mapped ::ffff:a.b.c.d, which stays IPv6) hashes all 16 bytes. ' +
          'Some IPv6 addresses appear in several spellings (e.g. 2001:db8::1 and ' +
          '2001:db8:0:0:0:0:0:1); they are the same address.',
        'ids are exactly the `server` strings in the upstream block, in config order.',
      ]),
      cases,
    });
  }

  child.kill('SIGTERM');
  await new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const t = setTimeout(() => { try { child.kill('SIGKILL'); } catch {} }, 5000);
    child.once('exit', () => { clearTimeout(t); resolve(); });
  });
  log('nginx stopped');
}

const globalTimer = setTimeout(() => {
  console.error(`record.mjs: global timeout (${GLOBAL_TIMEOUT_MS / 1000}s) reached`);
  cleanup();
  process.exit(1);
}, GLOBAL_TIMEOUT_MS);

main().then(
  () => {
    clearTimeout(globalTimer);
    cleanup();
  },
  (err) => {
    console.error(err && err.stack ? err.stack : err);
    cleanup();
    process.exit(1);
  },
);
