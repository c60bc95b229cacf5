#!/usr/bin/env node
// Adds lockfile entries for optional platform packages (e.g. @deno/darwin-arm64,
// @rollup/rollup-win32-x64-msvc) that are missing from package-lock.json.
//
// Why: when `npm install` runs against a registry mirror that answers 404 for some platform
// binaries, npm silently leaves those optional dependencies out of package-lock.json, and then
// `npm ci` refuses the lockfile ("Missing: @deno/darwin-arm64@ from lock file"). An entry with
// the pinned version plus os/cpu/libc is enough: on other platforms npm skips it without a
// download; on the matching platform npm fetches it as usual. `npm install` keeps these entries.
//
// Usage: node .ci/lockfile-platform-stubs.cjs [--check]   (--check: report, change nothing, exit 1 if any)
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const file = path.join(__dirname, '..', 'package-lock.json');
const check = process.argv.includes('--check');
const lock = JSON.parse(fs.readFileSync(file, 'utf8'));
const pk = lock.packages;

const OSES = ['darwin', 'linux', 'win32', 'freebsd', 'openbsd', 'netbsd', 'android', 'sunos', 'aix', 'openharmony'];
const CPUS = [
  ['x64', /x64|x86_64|amd64/],
  ['arm64', /arm64|aarch64/],
  ['ia32', /ia32/],
  ['loong64', /loong64/],
  ['ppc64', /ppc64/],
  ['riscv64', /riscv64/],
  ['s390x', /s390x/],
  ['mips64el', /mips64el/],
  ['arm', /arm/],
];

function platformOf(name) {
  const base = name.split('/').pop();
  const os = base.includes('windows') ? 'win32' : OSES.find((o) => base.includes(o));
  const cpu = CPUS.find(([, re]) => re.test(base))?.[0];
  if (os === undefined || cpu === undefined) return undefined;
  const libc = os === 'linux' ? (base.includes('musl') ? 'musl' : 'glibc') : undefined;
  return { os, cpu, libc };
}

/** Where npm would find `dep` from the package at `key` (its own node_modules, then each ancestor's). */
function resolve(key, dep) {
  const parts = key === '' ? [] : key.split('/node_modules/');
  for (let i = parts.length; i >= 0; i--) {
    const prefix = parts.slice(0, i).join('/node_modules/');
    const candidate = (prefix === '' ? '' : `${prefix}/`) + `node_modules/${dep}`;
    if (pk[candidate] !== undefined) return candidate;
  }
  return undefined;
}

const added = [];
for (const [key, node] of Object.entries(pk)) {
  for (const [dep, version] of Object.entries(node.optionalDependencies ?? {})) {
    if (resolve(key, dep) !== undefined) continue;
    const platform = platformOf(dep);
    if (platform === undefined) continue; // not a platform binary package: leave it to npm
    if (!/^\d+\.\d+\.\d+(-[\w.]+)?$/.test(version)) continue; // only exact pins can be stubbed
    const at = pk[`node_modules/${dep}`] === undefined ? `node_modules/${dep}` : `${key}/node_modules/${dep}`;
    // Keys in the order npm writes them, so a later `npm install` produces no churn.
    const entry = { version, cpu: [platform.cpu] };
    if (node.dev === true) entry.dev = true;
    if (platform.libc !== undefined) entry.libc = [platform.libc];
    entry.optional = true;
    entry.os = [platform.os];
    pk[at] = entry;
    added.push(`${at}@${version} (${platform.os}/${platform.cpu}${platform.libc ? `/${platform.libc}` : ''})`);
  }
}

if (added.length === 0) {
  console.log('package-lock.json: no optional platform package is missing');
  process.exit(0);
}
console.log(`${check ? 'missing' : 'added'} ${added.length} optional platform entr${added.length === 1 ? 'y' : 'ies'}:`);
for (const a of added) console.log(`  ${a}`);
if (check) process.exit(1);

// npm keeps "packages" sorted by path with localeCompare('en') (the root, '', sorts first).
const sorted = {};
for (const k of Object.keys(pk).sort((a, b) => a.localeCompare(b, 'en'))) sorted[k] = pk[k];
lock.packages = sorted;
fs.writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
