/**
 * loadwise simulator CLI: runs named scenarios from `src/sim/scenarios.ts` and prints the
 * results table; optionally writes the latency CDF as SVG and the results as JSON.
 *
 *   npm run sim -- <scenario>... | all  [--svg out.svg] [--json out.json] [--seed n]
 *                                       [--only Name,Name] [--nines] [--no-servers] [--list]
 *
 * With several scenarios, `--svg` and `--json` paths get the scenario's name before the
 * extension (out-slowdown.svg). Output is deterministic: same scenario and seed, same bytes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { formatTable, renderCdfSvg, runScenario, scenarios, type ScenarioDefinition } from '../src/sim/index.js';

const USAGE = `usage: npm run sim -- <scenario>... | all [--svg out.svg] [--json out.json] [--seed n] [--only A,B] [--nines] [--no-servers] [--list]
scenarios: ${Object.keys(scenarios).join(', ')}`;

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
const names: string[] = [];
let svg: string | undefined;
let json: string | undefined;
let seed: number | undefined;
let only: string[] | undefined;
let nines = false;
let servers = true;
for (let i = 0; i < args.length; i++) {
  const a = args[i]!;
  const value = (): string => {
    const v = args[++i];
    if (v === undefined) fail(`${a} needs a value`);
    return v;
  };
  if (a === '--svg') svg = value();
  else if (a === '--json') json = value();
  else if (a === '--seed') {
    seed = Number(value());
    if (!Number.isFinite(seed)) fail('--seed needs a number');
  } else if (a === '--only') only = value().split(',').map((s) => s.trim()).filter((s) => s !== '');
  else if (a === '--nines') nines = true;
  else if (a === '--no-servers') servers = false;
  else if (a === '--list') {
    for (const [name, s] of Object.entries(scenarios)) process.stdout.write(`${name.padEnd(12)} ${s.description ?? ''}\n`);
    process.exit(0);
  } else if (a === '--help' || a === '-h') {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  } else if (a.startsWith('-')) fail(`unknown option ${a}`);
  else names.push(a);
}
if (names.length === 0) fail('name a scenario');
const all = scenarios as Readonly<Record<string, ScenarioDefinition>>;
const chosen = names.includes('all') ? Object.keys(all) : names;
for (const name of chosen) if (all[name] === undefined) fail(`unknown scenario ${name}`);

const pathFor = (path: string, name: string): string => {
  if (chosen.length === 1) return path;
  const dot = path.lastIndexOf('.');
  return dot > path.lastIndexOf('/') ? `${path.slice(0, dot)}-${name}${path.slice(dot)}` : `${path}-${name}`;
};
const write = (path: string, text: string): void => {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  process.stderr.write(`wrote ${path}\n`);
};

chosen.forEach((name, i) => {
  const options: { seed?: number; only?: readonly string[] } = {};
  if (seed !== undefined) options.seed = seed;
  if (only !== undefined) options.only = only;
  const result = runScenario(all[name]!, options);
  if (i > 0) process.stdout.write('\n');
  process.stdout.write(formatTable(result, { servers }));
  if (svg !== undefined) write(pathFor(svg, name), renderCdfSvg(result, { yScale: nines ? 'nines' : 'linear' }));
  if (json !== undefined) {
    // Timelines are bulky; the JSON keeps everything else.
    const slim = { ...result, results: result.results.map(({ timeline: _timeline, ...rest }) => rest) };
    write(pathFor(json, name), `${JSON.stringify(slim, null, 2)}\n`);
  }
});
