/**
 * A strict parser of the Prometheus text exposition format (version 0.0.4), for the metrics test
 * and the live demo: it reads what `/metrics` serves and throws on anything the format does not
 * allow (a sample before its family's `# TYPE`, a family declared twice, a bad name, label or
 * value, a duplicate series, a histogram whose buckets are not cumulative or lack `+Inf`).
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  /** The sample's own name: the family's, or with `_bucket`, `_sum`, `_count` (histograms, summaries). */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Family {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string | undefined;
  readonly samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set<MetricType>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES: Readonly<Record<MetricType, readonly string[]>> = {
  counter: [''],
  gauge: [''],
  untyped: [''],
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['', '_sum', '_count'],
};

/** Parses a whole exposition; families by name, in order of appearance. */
export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const helps = new Map<string, string>();
  const series = new Set<string>();
  if (text !== '' && !text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const lines = text === '' ? [] : text.slice(0, -1).split('\n');
  lines.forEach((line, i) => {
    const where = `line ${i + 1} (${JSON.stringify(line)})`;
    if (line === '') return;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (m === null) {
        if (/^# (HELP|TYPE)\b/.test(line)) throw new Error(`bad ${where}`);
        return; // a comment
      }
      const [, kind, name, rest] = m as unknown as [string, 'HELP' | 'TYPE', string, string];
      if (!NAME.test(name)) throw new Error(`bad metric name in ${where}`);
      if (kind === 'HELP') {
        if (helps.has(name)) throw new Error(`second HELP for ${name} at ${where}`);
        helps.set(name, unescape(rest, false, where));
        return;
      }
      if (!TYPES.has(rest as MetricType)) throw new Error(`bad type in ${where}`);
      if (families.has(name)) throw new Error(`second TYPE for ${name} at ${where}`);
      families.set(name, { name, type: rest as MetricType, help: undefined, samples: [] });
      return;
    }
    const sample = parseSample(line, where);
    const family = familyOf(families, sample.name);
    if (family === undefined) throw new Error(`sample before its family's TYPE at ${where}`);
    const key = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (series.has(key)) throw new Error(`duplicate series at ${where}`);
    series.add(key);
    family.samples.push(sample);
  });
  const out = new Map<string, Family>();
  for (const [name, f] of families) {
    out.set(name, { ...f, help: helps.get(name) });
    if (f.type === 'histogram') checkHistogram(f);
  }
  for (const name of helps.keys()) if (!families.has(name)) throw new Error(`HELP for ${name} without a TYPE`);
  return out;
}

function familyOf(families: Map<string, Family>, sampleName: string): Family | undefined {
  for (const [name, f] of families) {
    if (sampleName.startsWith(name) && SUFFIXES[f.type].includes(sampleName.slice(name.length))) return f;
  }
  return undefined;
}

function parseSample(line: string, where: string): Sample {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)(?: (-?\d+))?$/.exec(line);
  if (m === null) throw new Error(`bad sample at ${where}`);
  const labels: Record<string, string> = {};
  const body = m[2] === undefined ? '' : m[2].slice(1, -1);
  let rest = body;
  while (rest !== '') {
    const lm = /^([^=]+)="((?:[^"\\]|\\.)*)"(,|$)/.exec(rest);
    if (lm === null || !LABEL_NAME.test(lm[1]!)) throw new Error(`bad labels at ${where}`);
    if (lm[1]! in labels) throw new Error(`label ${lm[1]} twice at ${where}`);
    labels[lm[1]!] = unescape(lm[2]!, true, where);
    rest = rest.slice(lm[0].length);
    if (lm[3] === ',' && rest === '') break; // a trailing comma is allowed
  }
  return { name: m[1]!, labels, value: parseValue(m[3]!, where) };
}

function parseValue(text: string, where: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (text === 'NaN') return Number.NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) throw new Error(`bad value ${JSON.stringify(text)} at ${where}`);
  return Number(text);
}

/** Label values escape `\\`, `\"` and `\n`; HELP text escapes `\\` and `\n`. */
function unescape(text: string, quotes: boolean, where: string): string {
  return text.replace(/\\(.)/g, (_, c: string) => {
    if (c === '\\') return '\\';
    if (c === 'n') return '\n';
    if (c === '"' && quotes) return '"';
    throw new Error(`bad escape \\${c} at ${where}`);
  });
}

/** Per label set: buckets ascending in `le`, cumulative, ending at `+Inf` equal to `_count`. */
function checkHistogram(f: Family): void {
  const groups = new Map<string, { le: number; value: number }[]>();
  const counts = new Map<string, number>();
  const keyOf = (labels: Readonly<Record<string, string>>): string =>
    JSON.stringify(Object.entries(labels).filter(([k]) => k !== 'le').sort());
  for (const s of f.samples) {
    const key = keyOf(s.labels);
    if (s.name === `${f.name}_bucket`) {
      const le = s.labels.le;
      if (le === undefined) throw new Error(`${f.name}: a bucket without le`);
      const list = groups.get(key) ?? [];
      list.push({ le: parseValue(le, `${f.name} le`), value: s.value });
      groups.set(key, list);
    } else if (s.name === `${f.name}_count`) {
      counts.set(key, s.value);
    }
  }
  for (const [key, list] of groups) {
    for (let i = 1; i < list.length; i++) {
      if (!(list[i]!.le > list[i - 1]!.le) || list[i]!.value < list[i - 1]!.value) throw new Error(`${f.name}${key}: buckets not cumulative`);
    }
    const last = list.at(-1)!;
    if (last.le !== Number.POSITIVE_INFINITY || last.value !== counts.get(key)) throw new Error(`${f.name}${key}: +Inf bucket missing or not _count`);
  }
}

/**
 * The value of the one sample named `name` whose labels include `labels`; throws when none or
 * several match, so a test asserts on exactly the series it means.
 */
export function sampleValue(families: Map<string, Family>, name: string, labels: Readonly<Record<string, string>> = {}): number {
  const family = familyOf(families, name);
  const found = (family?.samples ?? []).filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length !== 1) throw new Error(`${found.length} samples of ${name}${JSON.stringify(labels)}`);
  return found[0]!.value;
}

/** The sum of the samples named `name` whose labels include `labels` (0 for none). */
export function sampleSum(families: Map<string, Family>, name: string, labels: Readonly<Record<string, string>> = {}): number {
  const family = familyOf(families, name);
  return (family?.samples ?? [])
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}
