// Smoke test of the built ESM bundle, imported by package name through package.json "exports"
// (a package can import itself by name). Run after `npm run build`: node test/runtimes/dist-esm.mjs
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as lw from 'loadwise';
import * as sim from 'loadwise/sim';
import * as lwFetch from 'loadwise/fetch';
import * as testing from 'loadwise/testing';
import * as arbitraries from 'loadwise/testing/arbitraries';
import fc from 'fast-check';

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

/** Every module specifier an ESM file imports or re-exports from. */
function specifiers(js) {
  return [...js.matchAll(/^\s*(?:import|export)\b[^'"]*?\bfrom\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]/gm)].map((m) => m[1] ?? m[2]);
}

check('the ESM bundles import nothing outside the package (no node: modules, no bare specifiers)', () => {
  // Entries share code through relative chunks (tsup splitting); the chunks themselves import nothing.
  for (const file of ['dist/index.js', 'dist/sim/index.js', 'dist/fetch/index.js', 'dist/testing/index.js']) {
    const js = readFileSync(root + file, 'utf8');
    for (const spec of specifiers(js)) {
      assert(/^\.\.?\/chunk-[\w-]+\.js$/.test(spec), `${file} imports ${spec}`);
      const chunk = readFileSync(new URL(spec, new URL(`../../${file}`, import.meta.url)), 'utf8');
      // Chunks may share further chunks (one per combination of entries), nothing else.
      for (const inner of specifiers(chunk)) assert(/^\.\/chunk-[\w-]+\.js$/.test(inner), `${spec} imports ${inner}`);
      assert(!/\brequire\(/.test(chunk) && !/['"]node:/.test(chunk), `${spec} uses require or a node: module`);
    }
    assert(!/\brequire\(/.test(js), `${file} calls require`);
    assert(!/['"]node:/.test(js), `${file} mentions a node: module`);
  }
  assert(specifiers(readFileSync(root + 'dist/testing/index.js', 'utf8')).length === 0, 'loadwise/testing should be self-contained');
  const arb = specifiers(readFileSync(root + 'dist/testing/arbitraries.js', 'utf8'));
  assert(arb.length === 1 && arb[0] === 'fast-check', `loadwise/testing/arbitraries imports ${arb.join(', ')} (expected fast-check only)`);
});

// ---- subpath exports -------------------------------------------------------------------------

const SUBPATHS = { 'loadwise/sim': 'sim/index', 'loadwise/fetch': 'fetch/index', 'loadwise/testing': 'testing/index', 'loadwise/testing/arbitraries': 'testing/arbitraries' };
for (const [name, base] of Object.entries(SUBPATHS)) {
  check(`import "${name}" resolves to dist/${base}.js; its .cjs, .d.ts and .d.cts exist`, () => {
    const resolved = import.meta.resolve(name);
    assert(resolved === new URL(`../../dist/${base}.js`, import.meta.url).href, `resolved to ${resolved}`);
    for (const ext of ['.js', '.cjs', '.d.ts', '.d.cts']) assert(existsSync(root + `dist/${base}${ext}`), `dist/${base}${ext} is missing`);
  });
}

check('package.json exports: types first, import and require for every subpath; fast-check an optional peer', () => {
  const pkg = JSON.parse(readFileSync(root + 'package.json', 'utf8'));
  for (const [sub, base] of [['.', 'index'], ['./sim', 'sim/index'], ['./fetch', 'fetch/index'], ['./testing', 'testing/index'], ['./testing/arbitraries', 'testing/arbitraries']]) {
    const e = pkg.exports[sub];
    assert(e !== undefined, `exports["${sub}"] is missing`);
    assert(Object.keys(e.import)[0] === 'types' && Object.keys(e.require)[0] === 'types', `exports["${sub}"]: types must come first`);
    assert(e.import.types === `./dist/${base}.d.ts` && e.import.default === `./dist/${base}.js`, `exports["${sub}"].import`);
    assert(e.require.types === `./dist/${base}.d.cts` && e.require.default === `./dist/${base}.cjs`, `exports["${sub}"].require`);
  }
  assert(pkg.peerDependencies?.['fast-check'] === '^3 || ^4', 'peerDependencies.fast-check');
  assert(pkg.peerDependenciesMeta?.['fast-check']?.optional === true, 'peerDependenciesMeta.fast-check.optional');
  assert(pkg.dependencies === undefined || Object.keys(pkg.dependencies).length === 0, 'loadwise has no runtime dependencies');
});

check('the subpath .d.ts/.d.cts files declare their API', () => {
  const expected = {
    'sim/index': ['runScenario', 'simulate', 'cluster', 'exponential', 'JoinShortestQueue', 'jsqOracle', 'formatTable', 'renderCdfSvg', 'scenarios'],
    'fetch/index': ['createProxy', 'balancedFetch', 'ProxyOptions', 'RetryPolicy', 'ProxyEvent', 'headerKey', 'cookieKey', 'queryKey', 'clientAddressKey', 'TrustedProxies'],
    'testing/index': ['expectShares', 'checkShares', 'normalQuantile', 'measureDisruption', 'expectMinimalDisruption', 'runConformance', 'expectConformance', 'conformanceCases', 'FairnessError', 'ConformanceError', 'DisruptionError'],
    'testing/arbitraries': ['arbitraryTargets', 'arbitraryTarget', 'arbitraryWeight', 'arbitraryTargetId', 'arbitraryKey'],
  };
  for (const [base, names] of Object.entries(expected)) {
    for (const ext of ['.d.ts', '.d.cts']) {
      const dts = readFileSync(root + `dist/${base}${ext}`, 'utf8');
      for (const name of names) assert(new RegExp(`\\b${name}\\b`).test(dts), `dist/${base}${ext} does not mention ${name}`);
    }
  }
});

check('loadwise/fetch: exports work, and bad options throw the InvalidOptionError of loadwise', () => {
  for (const name of ['createProxy', 'balancedFetch', 'headerKey', 'cookieKey', 'queryKey', 'clientAddressKey', 'removeHopByHop', 'setForwarded', 'statusVerdict']) {
    assert(typeof lwFetch[name] === 'function', `${name} is not a function`);
  }
  let caught;
  try {
    lwFetch.createProxy({ balancer: new lw.RoundRobin(['a']), retry: { on: ['nope'] } });
  } catch (err) {
    caught = err;
  }
  assert(caught instanceof lw.InvalidOptionError && caught.code === 'ERR_INVALID_OPTION', `expected InvalidOptionError, got ${caught}`);
});

check('loadwise/sim: exports work and share classes with loadwise (one chunk)', () => {
  for (const name of ['runScenario', 'simulate', 'cluster', 'exponential', 'constant', 'formatTable', 'renderCdfSvg', 'JoinShortestQueue']) {
    assert(typeof sim[name] === 'function', `${name} is not a function`);
  }
  assert(typeof sim.scenarios === 'object' && 'homogeneous' in sim.scenarios, 'scenarios.homogeneous');
  const jsq = new sim.JoinShortestQueue([], { load: () => 0 });
  let err;
  try {
    jsq.pick();
  } catch (e) {
    err = e;
  }
  assert(err instanceof lw.NoTargetError, 'the oracle\'s NoTargetError is not loadwise\'s class');
  assert(err.code === 'ERR_NO_TARGET', err?.code);
});

check('loadwise/testing: expectShares, runConformance and measureDisruption on the built balancers', () => {
  const lb = new lw.WeightedRandom([{ id: 'a', weight: 3 }, { id: 'b', weight: 1 }], { seed: 3 });
  const counts = { a: 0, b: 0 };
  for (let i = 0; i < 20_000; i++) counts[lb.pick().id]++;
  assert(testing.expectShares(counts, { a: 3, b: 1 }).ok, 'fair shares');
  let failure;
  try {
    testing.expectShares(counts, { a: 1, b: 1 });
  } catch (e) {
    failure = e;
  }
  assert(failure instanceof testing.FairnessError && failure.code === 'ERR_FAIRNESS', 'a FairnessError for wrong weights');
  assert(/pick counts do not match the weights/.test(failure.message), failure.message);
  assert(Math.abs(testing.normalQuantile(0.975) - 1.959963984540054) < 1e-12, 'normalQuantile(0.975)');
  const results = testing.runConformance((targets, { seed }) => new lw.RoundRobin(targets, { seed }), { sequences: 5 });
  assert(results.length > 10 && results.every((r) => r.ok), results.filter((r) => !r.ok).map((r) => `${r.id}: ${r.error.message}`).join('\n'));
  const ids = ['a', 'b', 'c', 'd'];
  const r = testing.measureDisruption(new lw.ConsistentHash(ids), new lw.ConsistentHash([...ids, 'e']), 4000);
  assert(r.flows.every((f) => f.to === 'e') && r.fraction > 0.1 && r.fraction < 0.3, `disruption ${r.fraction}`);
});

check('loadwise/testing/arbitraries: generated targets are accepted by the built balancers', () => {
  const samples = fc.sample(arbitraries.arbitraryTargets({ backup: true, maxActive: true }), { numRuns: 30, seed: 1 });
  for (const ts of samples) {
    const lb = new lw.LeastConnections(ts, { seed: 1 });
    assert(ts.includes(lb.pick()), 'pick returned a foreign value');
  }
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
