/**
 * Runs the whole adversarial catalogue outside vitest and prints every failing case with its
 * reason, the slowest cases and the time per entry point: for updating KNOWN_OPEN in
 * catalogue.test.ts, or for checking another tree. `npx tsx test/adversarial/report.ts [lanes]`
 */
import { catalogue, kindCount } from './catalogue.js';
import { CatalogueRunner } from './runner.js';

const cases = catalogue();
console.log(`kinds ${kindCount()}, cases ${cases.length}`);
const t0 = performance.now();
const runner = new CatalogueRunner(cases.length, 5_000, Number(process.argv[2] ?? 2));
await runner.start();
const results = await runner.range(0, cases.length);
runner.stop();
console.log(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s, ${runner.hangs} hangs`);
const failed = results.map((r, i) => ({ r, c: cases[i]! })).filter((x) => !x.r.pass);
console.log(`failed ${failed.length}`);
for (const f of failed) console.log(`FAIL ${f.c.id} :: ${f.r.why ?? ''}`);
const slowest = results.map((r, i) => [r.ms, cases[i]!.id] as const).sort((a, b) => b[0] - a[0]).slice(0, 15);
for (const [ms, id] of slowest) console.log(`slow ${ms.toFixed(1)} ms ${id}`);
const byEntry = new Map<string, [number, number]>();
results.forEach((r, i) => {
  const e = cases[i]!.entry;
  const v = byEntry.get(e) ?? [0, 0];
  v[0] += r.ms;
  v[1]++;
  byEntry.set(e, v);
});
for (const [e, [ms, n]] of [...byEntry].sort((a, b) => b[1][0] - a[1][0])) console.log(`entry ${e}: ${n} cases, ${ms.toFixed(0)} ms`);
process.exit(0);
