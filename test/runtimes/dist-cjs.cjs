// Smoke test of the built CommonJS bundle, required by package name through package.json
// "exports". Run after `npm run build`: node test/runtimes/dist-cjs.cjs
'use strict';
const { existsSync } = require('node:fs');
const path = require('node:path');
const lw = require('loadwise');

const root = path.join(__dirname, '..', '..');
let passed = 0;
let failed = 0;
function check(name, fn) {
  try {
    fn();
    passed++;
    console.log(`ok ${passed + failed} - ${name}`);
  } catch (err) {
    failed++;
    console.log(`not ok ${passed + failed} - ${name}\n  ${String((err && err.stack) || err).split('\n').join('\n  ')}`);
  }
}
function assert(cond, message) {
  if (!cond) throw new Error(message);
}
function throwsCode(fn, cls, code) {
  try {
    fn();
  } catch (err) {
    assert(err instanceof cls, `expected ${cls.name}, got ${err && err.name}`);
    assert(err instanceof lw.LoadwiseError, `${cls.name} is not a LoadwiseError`);
    assert(err.code === code, `expected code ${code}, got ${err.code}`);
    return err;
  }
  throw new Error(`expected ${cls.name} (${code}), nothing thrown`);
}

check('require("loadwise") resolves to dist/index.cjs through "exports"', () => {
  const resolved = require.resolve('loadwise');
  assert(resolved === path.join(root, 'dist', 'index.cjs'), `resolved to ${resolved}`);
  assert(require('loadwise/package.json').name === 'loadwise', 'loadwise/package.json');
});

for (const file of ['dist/index.cjs', 'dist/index.d.cts', 'dist/index.d.ts']) {
  check(`${file} exists`, () => assert(existsSync(path.join(root, file)), `${file} is missing`));
}

const BALANCERS = ['RoundRobin', 'WeightedRoundRobin', 'Random', 'WeightedRandom', 'LeastConnections', 'PowerOfTwoChoices'];
for (const name of BALANCERS) {
  check(`${name}: construct, pick, acquire/release, errors`, () => {
    const Cls = lw[name];
    assert(typeof Cls === 'function', `${name} is not exported`);
    const targets = ['a', 'b', { id: 'c', weight: 3 }];
    const lb = new Cls(targets, { seed: 7 });
    for (let i = 0; i < 30; i++) assert(targets.includes(lb.pick()), 'pick returned a foreign value');
    const lease = lb.acquire({ exclude: ['a', 'c'] });
    assert(lease.target === 'b', `exclude: got ${lease.target}`);
    assert(lease.release() === true && lease.release() === false, 'release is idempotent');
    throwsCode(() => new Cls([]).acquire(), lw.NoTargetError, 'ERR_NO_TARGET');
    throwsCode(() => lb.add('a'), lw.DuplicateIdError, 'ERR_DUPLICATE_ID');
    throwsCode(() => lb.remove(''), lw.InvalidIdError, 'ERR_INVALID_ID');
    throwsCode(() => lb.setWeight('zz', 1), lw.UnknownIdError, 'ERR_UNKNOWN_ID');
  });
}

check('seeded Random matches the sequence recorded on Node from src', () => {
  const lb = new lw.Random(['a', 'b', 'c', 'd', 'e'], { seed: 7 });
  const seq = Array.from({ length: 24 }, () => lb.pick()).join('');
  assert(seq === 'eedbccecdddeebbacdcdcdaa', seq);
});

check('error classes are exported and extend LoadwiseError', () => {
  const names = ['NoTargetError', 'InvalidWeightError', 'InvalidIdError', 'InvalidTargetError', 'DuplicateIdError', 'UnknownIdError', 'InvalidOptionError', 'InvalidOutcomeError'];
  for (const name of names) {
    assert(typeof lw[name] === 'function', `${name} is not exported`);
    assert(lw[name].prototype instanceof lw.LoadwiseError, `${name} does not extend LoadwiseError`);
    assert(lw[name].prototype instanceof Error, `${name} does not extend Error`);
  }
  assert(typeof lw.LoadwiseError.is === 'function', 'LoadwiseError.is');
  assert(typeof lw.createRandom === 'function' && typeof lw.targetId === 'function', 'functions');
  throwsCode(() => new lw.WeightedRoundRobin([{ id: 'a', weight: Infinity }]), lw.InvalidWeightError, 'ERR_INVALID_WEIGHT');
  throwsCode(() => new lw.PowerOfTwoChoices(['a'], { choices: 1 }), lw.InvalidOptionError, 'ERR_INVALID_OPTION');
});

// ---- subpath exports -------------------------------------------------------------------------

const SUBPATHS = { 'loadwise/sim': 'sim/index', 'loadwise/fetch': 'fetch/index', 'loadwise/testing': 'testing/index', 'loadwise/testing/arbitraries': 'testing/arbitraries' };
for (const [name, base] of Object.entries(SUBPATHS)) {
  check(`require("${name}") resolves to dist/${base}.cjs; its .d.cts exists`, () => {
    const resolved = require.resolve(name);
    assert(resolved === path.join(root, 'dist', `${base}.cjs`), `resolved to ${resolved}`);
    assert(existsSync(path.join(root, 'dist', `${base}.d.cts`)), `dist/${base}.d.cts is missing`);
  });
}

check('the CommonJS bundles require nothing outside the package but fast-check (arbitraries only)', () => {
  const { readFileSync, readdirSync } = require('node:fs');
  const requires = (file) => [...readFileSync(path.join(root, file), 'utf8').matchAll(/\brequire\((['"])([^'"]+)\1\)/g)].map((m) => m[2]);
  const chunks = readdirSync(path.join(root, 'dist')).filter((f) => f.endsWith('.cjs') && f.startsWith('chunk-'));
  for (const file of ['dist/index.cjs', 'dist/sim/index.cjs', 'dist/fetch/index.cjs', 'dist/testing/index.cjs', ...chunks.map((c) => `dist/${c}`)]) {
    for (const spec of requires(file)) assert(/^\.\.?\/chunk-[\w-]+\.cjs$/.test(spec), `${file} requires ${spec}`);
  }
  assert(requires('dist/testing/index.cjs').length === 0, 'loadwise/testing should be self-contained');
  assert(requires('dist/testing/arbitraries.cjs').join() === 'fast-check', `arbitraries requires ${requires('dist/testing/arbitraries.cjs')}`);
});

check('loadwise/fetch: require works and shares classes with loadwise', () => {
  const f = require('loadwise/fetch');
  assert(typeof f.createProxy === 'function' && typeof f.balancedFetch === 'function', 'createProxy / balancedFetch');
  throwsCode(() => f.createProxy({ balancer: new lw.RoundRobin(['a']), tryTimeoutMs: -1 }), lw.InvalidOptionError, 'ERR_INVALID_OPTION');
});

check('loadwise/sim: exports work and share classes with loadwise', () => {
  const sim = require('loadwise/sim');
  for (const name of ['runScenario', 'simulate', 'cluster', 'exponential', 'formatTable', 'renderCdfSvg', 'JoinShortestQueue']) {
    assert(typeof sim[name] === 'function', `${name} is not a function`);
  }
  assert(typeof sim.scenarios === 'object' && 'homogeneous' in sim.scenarios, 'scenarios.homogeneous');
  throwsCode(() => new sim.JoinShortestQueue([], { load: () => 0 }).acquire(), lw.NoTargetError, 'ERR_NO_TARGET');
});

check('loadwise/testing: expectShares (statistical and exact), conformance, disruption', () => {
  const testing = require('loadwise/testing');
  const lb = new lw.WeightedRoundRobin([{ id: 'a', weight: 5 }, 'b', 'c']);
  const counts = { a: 0, b: 0, c: 0 };
  for (let i = 0; i < 700; i++) counts[lw.targetId(lb.pick())]++;
  assert(testing.expectShares(counts, { a: 5, b: 1, c: 1 }, { exact: true }).ok, 'exact WRR shares');
  assert(testing.expectShares(counts, { a: 5, b: 1, c: 1 }).ok, 'statistical shares');
  let err;
  try {
    testing.expectShares(counts, { a: 1, b: 1, c: 1 });
  } catch (e) {
    err = e;
  }
  assert(err instanceof testing.FairnessError && err instanceof testing.LoadwiseAssertionError && err instanceof Error, 'FairnessError');
  const results = testing.runConformance((targets, { seed }) => new lw.LeastConnections(targets, { seed }), { sequences: 5 });
  assert(results.every((r) => r.ok), results.filter((r) => !r.ok).map((r) => `${r.id}: ${r.error.message}`).join('\n'));
  const broken = testing.runConformance((targets, { seed }) => {
    const inner = new lw.RoundRobin(targets, { seed });
    return Object.assign(Object.create(inner), { pick: (input) => inner.pick(typeof input === 'object' ? { key: input.key } : input) });
  }, { only: ['exclude'] });
  assert(broken.length === 1 && !broken[0].ok, 'a balancer ignoring exclude must fail');
  const ids = ['a', 'b', 'c', 'd', 'e'];
  testing.expectMinimalDisruption(new lw.Rendezvous(ids), new lw.Rendezvous(ids.slice(1)), 5000);
});

check('loadwise/testing/arbitraries works with fast-check from CommonJS', () => {
  const fc = require('fast-check');
  const { arbitraryTargets, arbitraryWeight } = require('loadwise/testing/arbitraries');
  for (const ts of fc.sample(arbitraryTargets({ weight: { min: 1, max: 9, integer: true } }), { numRuns: 20, seed: 2 })) {
    const lb = new lw.JumpHash(ts);
    assert(ts.includes(lb.pick('k')), 'pick returned a foreign value');
  }
  for (const w of fc.sample(arbitraryWeight({ min: 0.5, max: 2 }), 50)) assert(w >= 0.5 && w <= 2, `weight ${w}`);
});

console.log(`${passed} passed, ${failed} failed`);
if (failed > 0) process.exitCode = 1;
