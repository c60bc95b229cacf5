/**
 * Long runs of the model-based fuzzer (test/adversarial/model.ts): `npm run fuzz -- --runs N`
 * runs N random sequences per class (default 1,000) with fresh seeds and prints sequences ×
 * steps; on a violation it prints fast-check's shrunk counterexample, the seed and path to
 * replay it (`--seed S --path P`), and exits 1.
 *
 * Options: --runs N, --commands N (longest sequence, default 100), --class Name (repeatable),
 * --seed S and --path P (replay one failure).
 */
import fc from 'fast-check';
import { CLASSES, counters, fuzzProperty } from '../test/adversarial/model.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const runs = Number(arg('runs') ?? 1_000);
const maxCommands = Number(arg('commands') ?? 100);
const seed = arg('seed');
const path = arg('path');
const only = process.argv.flatMap((a, i) => (a === '--class' ? [process.argv[i + 1]!] : []));
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(maxCommands) || maxCommands < 1) {
  console.error('usage: npm run fuzz -- [--runs N] [--commands N] [--class Name]... [--seed S --path P]');
  process.exit(2);
}
const classes = only.length > 0 ? CLASSES.filter((c) => only.includes(c.name)) : CLASSES;
if (classes.length === 0) {
  console.error(`no such class; one of: ${CLASSES.map((c) => c.name).join(', ')}`);
  process.exit(2);
}

const started = performance.now();
let failed = false;
for (const c of classes) {
  const t0 = performance.now();
  const before = { ...counters };
  const params: fc.Parameters<unknown> = { numRuns: runs };
  if (seed !== undefined) params.seed = Number(seed);
  if (path !== undefined) params.path = path;
  const details = fc.check(fuzzProperty([c], maxCommands), params as fc.Parameters<[unknown, unknown]> as never);
  const seqs = counters.sequences - before.sequences;
  const steps = counters.steps - before.steps;
  const line = `${c.name.padEnd(24)} ${String(seqs).padStart(8)} sequences ${String(steps).padStart(10)} steps  ${((performance.now() - t0) / 1000).toFixed(1)} s`;
  if (details.failed) {
    failed = true;
    console.log(`${line}  FAILED`);
    console.log(fc.defaultReportMessage(details));
    const cause = details.errorInstance;
    console.log(`Violation: ${cause instanceof Error ? cause.message : String(cause)}`);
  } else {
    console.log(line);
  }
}
console.log(
  `total: ${counters.sequences} sequences × up to ${maxCommands} commands = ${counters.steps} checked steps, ${classes.length} classes, ` +
    `${((performance.now() - started) / 1000).toFixed(1)} s${failed ? ' — FAILED' : ''}`,
);
console.log(
  `covered: ${counters.picks} picks checked, ${counters.noTarget} NoTargetErrors checked, ${counters.events} events, ` +
    `${counters.reentrant} re-entrant listener calls`,
);
process.exit(failed ? 1 : 0);
