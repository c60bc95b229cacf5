/**
 * `npm run demo` (examples/demo/live.ts) as a child process in its reduced mode (`--quick`: two
 * algorithms, 400 requests each): it exits 0, prints the table and the notes, writes an SVG that
 * is well-formed XML with one line per algorithm, and leaves none of the proxies it started
 * running (checked by the PIDs it prints). Then Ctrl-C in the middle of a run: exit 130 and the
 * proxy of that moment gone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const log = (...parts: unknown[]): void => console.log('[examples/demo]', ...parts);

const started: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const c of started.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

interface Demo {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  readonly exited: Promise<number | string>;
}

function runDemo(args: readonly string[]): Demo {
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/demo/live.ts', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  started.push(child);
  const demo: Demo = {
    child,
    stdout: '',
    stderr: '',
    exited: new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'))),
  };
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (demo.stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (demo.stderr += s));
  return demo;
}

/** Whether `pid` is a running examples/node proxy (a reused PID running something else is not). */
function proxyAlive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('examples/node/main.ts');
  } catch {
    return false;
  }
}

const proxyPids = (stdout: string): number[] => [...stdout.matchAll(/^[\w-]+: proxy pid (\d+) on http:\/\/127\.0\.0\.1:\d+$/gm)].map((m) => Number(m[1]));

/**
 * Checks that `text` is one well-formed XML element (tags nested and closed, attributes quoted,
 * `&` only in entities, nothing outside the root but white space) and counts the elements by name.
 */
function parseXml(text: string): { root: string; rootAttributes: string; elements: Map<string, number> } {
  const token = /<!--[\s\S]*?-->|<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/y;
  const stack: string[] = [];
  const elements = new Map<string, number>();
  let root: string | undefined;
  let rootAttributes = '';
  let closedRoot = false;
  while (token.lastIndex < text.length) {
    const at = token.lastIndex;
    const m = token.exec(text);
    if (m === null) throw new Error(`not XML at ${at}: ${JSON.stringify(text.slice(at, at + 40))}`);
    const [whole, slash, name, attributes, selfClosing, chars] = m;
    if (whole.startsWith('<!--')) continue;
    if (chars !== undefined) {
      if (stack.length === 0 && chars.trim() !== '') throw new Error(`text outside the root at ${at}`);
      if (/&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.test(chars)) throw new Error(`bare & at ${at}`);
      continue;
    }
    if (closedRoot) throw new Error(`a second root element at ${at}`);
    if (slash === '/') {
      if (stack.pop() !== name) throw new Error(`</${name}> does not close the open element at ${at}`);
      if (stack.length === 0) closedRoot = true;
      continue;
    }
    if (root === undefined) {
      root = name!;
      rootAttributes = attributes ?? '';
    }
    elements.set(name!, (elements.get(name!) ?? 0) + 1);
    if (selfClosing === '/') {
      if (stack.length === 0) closedRoot = true;
    } else {
      stack.push(name!);
    }
  }
  if (root === undefined || stack.length > 0 || !closedRoot) throw new Error(`unclosed elements: ${stack.join(' > ')}`);
  return { root, rootAttributes, elements };
}

describe('npm run demo', () => {
  it('--quick: prints the table and the notes, writes a well-formed SVG, exits 0, leaves no proxy running', async () => {
    const out = mkdtempSync(join(tmpdir(), 'loadwise-demo-'));
    dirs.push(out);
    const t0 = performance.now();
    const demo = runDemo(['--quick', '--out', out]);
    const code = await demo.exited;
    const tookS = (performance.now() - t0) / 1000;
    log(`--quick took ${tookS.toFixed(1)} s; its output:\n${demo.stdout}`);
    expect(code, demo.stderr).toBe(0);

    // The table: a header and one row per algorithm, with every column a number.
    const lines = demo.stdout.split('\n');
    const header = lines.findIndex((l) => /^algorithm\s+a\s+b\s+c\s+d\s+p50\s+p99\s+errors\s+retries\s+affinity %\s+req\/s$/.test(l));
    expect(header, demo.stdout).toBeGreaterThan(0);
    const rows = lines.slice(header + 1, header + 3).map((l) => l.trim().split(/\s+/));
    expect(rows.map((r) => r[0]!.replace(/\*$/, ''))).toEqual(['round-robin', 'least-connections']);
    for (const r of rows) {
      expect(r).toHaveLength(11);
      for (const cell of r.slice(1)) expect(cell).toMatch(/^\d+(\.\d+)?$/);
      const shares = r.slice(1, 5).map(Number);
      expect(shares.reduce((s, x) => s + x, 0)).toBeCloseTo(100, 0);
      expect(Number(r[6])).toBeGreaterThanOrEqual(Number(r[5])); // p99 >= p50
    }
    // The schedule (a backend answering 503, another killed) makes the proxy retry.
    expect(rows.some((r) => Number(r[8]) > 0)).toBe(true);
    expect(demo.stdout).toMatch(/\nWhat to notice:\n- p99 /);

    // The SVG: where it says, well-formed, one polyline per algorithm.
    const svgPath = /^latency CDF per algorithm: (.+)$/m.exec(demo.stdout)?.[1];
    expect(svgPath).toBe(join(out, 'latency-cdf.svg'));
    const svg = readFileSync(svgPath!, 'utf8');
    const xml = parseXml(svg);
    expect(xml.root).toBe('svg');
    expect(xml.rootAttributes).toContain('xmlns="http://www.w3.org/2000/svg"');
    expect(xml.elements.get('polyline')).toBe(2);
    expect(svg).toContain('<title>round-robin</title>');
    expect(svg).toContain('<title>least-connections</title>');

    // No child left: each proxy it printed is gone.
    const pids = proxyPids(demo.stdout);
    expect(pids).toHaveLength(2);
    expect(pids.filter(proxyAlive)).toEqual([]);
  }, 120_000);

  it('Ctrl-C in the middle of a run: exit 130, the running proxy stopped', async () => {
    const out = mkdtempSync(join(tmpdir(), 'loadwise-demo-'));
    dirs.push(out);
    const demo = runDemo(['--quick', '--requests', '100000', '--out', out]);
    const deadline = performance.now() + 60_000;
    while (proxyPids(demo.stdout).length === 0) {
      if (demo.child.exitCode !== null || performance.now() > deadline) throw new Error(`no proxy started: ${demo.stdout} ${demo.stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const [pid] = proxyPids(demo.stdout) as [number];
    expect(proxyAlive(pid)).toBe(true);
    await new Promise((r) => setTimeout(r, 500)); // traffic is flowing
    const t0 = performance.now();
    demo.child.kill('SIGINT');
    expect(await demo.exited).toBe(130);
    log(`exited ${(performance.now() - t0).toFixed(0)} ms after SIGINT; stderr: ${JSON.stringify(demo.stderr)}`);
    expect(proxyAlive(pid)).toBe(false);
    expect(demo.stderr).toContain('demo: SIGINT, stopping');
    expect(existsSync(join(out, 'latency-cdf.svg'))).toBe(false);
  }, 90_000);
});
