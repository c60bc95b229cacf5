/**
 * The adversarial bad-input catalogue (issue 14, "The suite"). Every public entry point ×
 * every balancer variant × many kinds of bad input: each case applies its input to one of two
 * twin balancers (same targets, seed and clock), then drives both through the same probe and
 * compares everything observable. A case passes when
 *
 * - the call succeeded and the twins, having seen the same calls, behave identically; or
 * - the call threw a coded `LoadwiseError` (or the caller's own exception, from a throwing
 *   getter, trap, clock or random source) and left the balancer exactly as it was: the twin
 *   that never saw the call behaves identically;
 *
 * and nothing else went wrong on the way: no raw error (a `TypeError` of loadwise's own making),
 * no non-member picked, no negative latency or active count, every lease back at 0, nothing
 * left out of rotation after every window passed, a documented-invalid input rejected with a
 * code. Cases run in worker threads under a watchdog, so a hang is a failure, not a stuck run.
 *
 * Known open defects are listed in KNOWN_OPEN with the cases that show them: those cases must
 * still fail, so this file turns red when a fix lands and the entry must be removed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogue, inputCount, kindCount } from './catalogue.js';
import { CatalogueRunner, type Timed } from './runner.js';
import { VARIANTS } from './twins.js';

/** A worker that answers nothing for this long is on a case that hangs. */
const HANG_MS = 5_000;
/** Worker threads running the catalogue side by side. */
const LANES = 2;

/**
 * Defects of issue 14 (and others) that are not fixed yet, each with the ids of the cases that
 * show it (`variant/entry/kind`; a RegExp matches many). Every listed case must fail; every
 * failing case must be listed.
 */
const KNOWN_OPEN: readonly { readonly defect: string; readonly cases: readonly (string | RegExp)[] }[] = [];

const cases = catalogue();
const runner = new CatalogueRunner(cases.length, HANG_MS, LANES);

interface Group {
  readonly variant: string;
  readonly entry: string;
  readonly from: number;
  readonly to: number;
}
const groups: Group[] = [];
for (let i = 0; i < cases.length; i++) {
  const c = cases[i]!;
  const g = groups[groups.length - 1];
  if (g !== undefined && g.variant === c.variant && g.entry === c.entry) (g as { to: number }).to = i + 1;
  else groups.push({ variant: c.variant, entry: c.entry, from: i, to: i + 1 });
}

function knownOpen(id: string): string | undefined {
  for (const k of KNOWN_OPEN) {
    for (const p of k.cases) if (typeof p === 'string' ? p === id : p.test(id)) return k.defect;
  }
  return undefined;
}

const started = performance.now();
let failed = 0;
let known = 0;

beforeAll(async () => {
  await runner.start();
}, 60_000);

afterAll(() => {
  runner.stop();
  const results = runner.results.filter((r): r is Timed => r !== undefined);
  const slowest = results.reduce((m, r) => Math.max(m, r.ms), 0);
  console.log(
    `adversarial catalogue: ${kindCount()} kinds (entry point × bad input; ${inputCount()} distinct bad inputs), ${cases.length} cases over ${VARIANTS.length} balancer variants ` +
      `(+ RetryBudget), ${groups.length} groups; ${failed} failing, of which ${known} known open; ${runner.hangs} hangs; ` +
      `slowest case ${slowest.toFixed(0)} ms; ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
});

describe('adversarial catalogue: bad input never hangs, corrupts or quietly breaks a balancer', () => {
  for (const g of groups) {
    it(`${g.variant} × ${g.entry} (${g.to - g.from} cases)`, async () => {
      const results = await runner.range(g.from, g.to);
      const unexpected: string[] = [];
      const fixed: string[] = [];
      results.forEach((r, j) => {
        const id = cases[g.from + j]!.id;
        const defect = knownOpen(id);
        if (!r.pass) failed++;
        if (!r.pass && defect !== undefined) known++;
        if (!r.pass && defect === undefined) unexpected.push(`${id}\n    ${r.why ?? ''}`);
        if (r.pass && defect !== undefined) fixed.push(`${id} passes now: remove it from KNOWN_OPEN (${defect})`);
      });
      expect({ unexpected, fixed }).toEqual({ unexpected: [], fixed: [] });
    }, 60_000);
  }
});
