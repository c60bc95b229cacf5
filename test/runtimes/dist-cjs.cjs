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

console.log(`${passed} passed, ${failed} failed`);
if (failed > 0) process.exitCode = 1;
