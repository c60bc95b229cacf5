// Smoke test of the built ESM bundle, imported by package name through package.json "exports"
// (a package can import itself by name). Run after `npm run build`: node test/runtimes/dist-esm.mjs
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as lw from 'loadwise';

const root = fileURLToPath(new URL('../../', import.meta.url));
let passed = 0;
let failed = 0;
function check(name, fn) {
  try {
    fn();
    passed++;
    console.log(`ok ${passed + failed} - ${name}`);
  } catch (err) {
    failed++;
    console.log(`not ok ${passed + failed} - ${name}\n  ${String(err?.stack ?? err).split('\n').join('\n  ')}`);
  }
}
function assert(cond, message) {
  if (!cond) throw new Error(message);
}
function throwsCode(fn, cls, code) {
  try {
    fn();
  } catch (err) {
    assert(err instanceof cls, `expected ${cls.name}, got ${err?.name}`);
    assert(err instanceof lw.LoadwiseError, `${cls.name} is not a LoadwiseError`);
    assert(err.code === code, `expected code ${code}, got ${err.code}`);
    return err;
  }
  throw new Error(`expected ${cls.name} (${code}), nothing thrown`);
}

const BALANCERS = ['RoundRobin', 'WeightedRoundRobin', 'Random', 'WeightedRandom', 'LeastConnections', 'PowerOfTwoChoices'];
const ERRORS = {
  LoadwiseError: null,
  NoTargetError: 'ERR_NO_TARGET',
  InvalidWeightError: 'ERR_INVALID_WEIGHT',
  InvalidIdError: 'ERR_INVALID_ID',
  InvalidTargetError: 'ERR_INVALID_TARGET',
  DuplicateIdError: 'ERR_DUPLICATE_ID',
  UnknownIdError: 'ERR_UNKNOWN_ID',
  InvalidOptionError: 'ERR_INVALID_OPTION',
  InvalidOutcomeError: 'ERR_INVALID_OUTCOME',
};

check('import "loadwise" resolves to dist/index.js through "exports"', () => {
  const resolved = import.meta.resolve('loadwise');
  assert(resolved === new URL('../../dist/index.js', import.meta.url).href, `resolved to ${resolved}`);
});

for (const file of ['dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/index.d.cts']) {
  check(`${file} exists`, () => assert(existsSync(root + file), `${file} is missing`));
}

check('dist/index.d.ts and dist/index.d.cts declare the public API', () => {
  for (const file of ['dist/index.d.ts', 'dist/index.d.cts']) {
    const dts = readFileSync(root + file, 'utf8');
    for (const name of [...BALANCERS, ...Object.keys(ERRORS), 'createRandom', 'targetId', 'Balancer', 'Lease', 'Target', 'Outcome', 'TargetStats', 'PickRequest']) {
      assert(new RegExp(`\\b${name}\\b`).test(dts), `${file} does not mention ${name}`);
    }
  }
});

check('the ESM bundle imports nothing (no node: modules, no bare specifiers)', () => {
  const js = readFileSync(root + 'dist/index.js', 'utf8');
  assert(!/^\s*import\s/m.test(js), 'dist/index.js has an import statement');
  assert(!/\brequire\(/.test(js), 'dist/index.js calls require');
  assert(!/['"]node:/.test(js), 'dist/index.js mentions a node: module');
});

for (const name of BALANCERS) {
  check(`${name}: construct, pick, acquire/release, NoTargetError`, () => {
    const Cls = lw[name];
    assert(typeof Cls === 'function', `${name} is not exported`);
    const targets = [{ id: 'a', weight: 2 }, { id: 'b', weight: 1 }, 'c'];
    const lb = new Cls(targets, { seed: 1 });
    assert(lb.size === 3, 'size');
    for (let i = 0; i < 30; i++) assert(targets.includes(lb.pick()), 'pick returned a foreign value');
    const lease = lb.acquire({ exclude: ['a', 'b'] });
    assert(lease.target === 'c', `exclude: got ${lease.target}`);
    assert(lease.release('success') === true && lease.release() === false, 'release is idempotent');
    throwsCode(() => new Cls([]).pick(), lw.NoTargetError, 'ERR_NO_TARGET');
    throwsCode(() => lb.setWeight('a', Number.NaN), lw.InvalidWeightError, 'ERR_INVALID_WEIGHT');
  });
}

check('WeightedRoundRobin 5,1,1 picks a a b a c a a', () => {
  const lb = new lw.WeightedRoundRobin([{ id: 'a', weight: 5 }, { id: 'b', weight: 1 }, { id: 'c', weight: 1 }]);
  const seq = Array.from({ length: 7 }, () => lb.pick().id).join(' ');
  assert(seq === 'a a b a c a a', seq);
});

check('createRandom(42) and targetId are exported and work', () => {
  assert(lw.createRandom(42)() === 0.5767213918734342, 'createRandom(42) first value');
  assert(lw.targetId({ id: 'x' }) === 'x', 'targetId');
});

check('error classes are exported with their codes', () => {
  for (const [name, code] of Object.entries(ERRORS)) {
    const Cls = lw[name];
    assert(typeof Cls === 'function', `${name} is not exported`);
    assert(Cls === lw.LoadwiseError || Cls.prototype instanceof lw.LoadwiseError, `${name} does not extend LoadwiseError`);
    if (code !== null) {
      const lb = new lw.RoundRobin(['a']);
      const trigger = {
        NoTargetError: () => new lw.RoundRobin([]).pick(),
        InvalidWeightError: () => lb.add({ id: 'b', weight: 0 }),
        InvalidIdError: () => lb.add(''),
        InvalidTargetError: () => lb.add(null),
        DuplicateIdError: () => lb.add('a'),
        UnknownIdError: () => lb.markDown('zz'),
        InvalidOptionError: () => new lw.RoundRobin(['a'], { sead: 1 }),
        InvalidOutcomeError: () => lb.acquire().release('ok'),
      }[name];
      const err = throwsCode(trigger, Cls, code);
      assert(err.name === name, `name ${err.name}`);
    }
  }
});

check('CommonJS and ESM copies recognise each other\'s errors via LoadwiseError.is', () => {
  const cjs = createRequire(import.meta.url)('loadwise');
  assert(cjs.LoadwiseError !== lw.LoadwiseError, 'expected two copies (ESM and CJS)');
  let err;
  try {
    new cjs.RoundRobin([]).pick();
  } catch (e) {
    err = e;
  }
  assert(!(err instanceof lw.NoTargetError), 'instanceof across copies should be false');
  assert(lw.LoadwiseError.is(err), 'LoadwiseError.is across copies');
  assert(err.code === 'ERR_NO_TARGET', err.code);
});

console.log(`${passed} passed, ${failed} failed`);
if (failed > 0) process.exitCode = 1;
