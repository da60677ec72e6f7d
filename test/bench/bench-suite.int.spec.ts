import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from '@jest/globals';

/**
 * `npm run bench -- --size small` end to end: the compiled runner (built here, as `npm run bench` builds it) runs every
 * benchmark at the small size as a child process, and prints one complete table. It asserts what is printed, never how
 * fast: the figures belong to docs/benchmarks.md, not to the test suite.
 */
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

interface TableRow {
  bench: string;
  figure: string;
  median: string;
  min: string;
  max: string;
  unit: string;
  target: string;
  result: string;
}

/** The final table, its columns cut where the rule of dashes under the header leaves gaps. */
function parseTable(output: string): TableRow[] {
  const lines = output.split('\n');
  const headerAt = lines.findIndex((line) => /^bench\s+figure\s+median\s+min\s+max\s+unit\s+target\s+result$/.test(line));
  if (headerAt < 0) return [];
  const rule = lines[headerAt + 1]!;
  const columns: [number, number][] = [];
  for (const match of rule.matchAll(/-+/g)) columns.push([match.index!, match.index! + match[0].length]);
  const rows: TableRow[] = [];
  for (const line of lines.slice(headerAt + 2)) {
    if (line.trim() === '') break;
    const cells = columns.map(([start, end], index) => (index === columns.length - 1 ? line.slice(start) : line.slice(start, end)).trim());
    const [bench, figure, median, min, max, unit, target, result] = cells as [string, string, string, string, string, string, string, string];
    rows.push({ bench, figure, median, min, max, unit, target, result });
  }
  return rows;
}

const expectedRows: Record<string, RegExp[]> = {
  'event-store': [/^append 1 event, 64 concurrent writers$/, /^append latency p50/, /^append latency p99/, /^append 100 events, 16 concurrent writers$/, /^catch-up subscription read \+ decode of 10000 events$/],
  statements: [/^full recompute: 1200 payee-periods/, /^rebuild the statements read model from \d+ events/, /^explain a statement line, p99$/, /^statement as of a time/, /^estimate with two hypothetical deals, p99$/],
  disputes: [/^file disputes over HTTP \(1000,/, /^analyst queue over HTTP, \d+ open disputes/, /^analyst queue on the read model/],
  payouts: [/^close \+ approve 100 payees x 100 credits/, /^trial balance over the whole ledger/],
  emmett: [
    ...['append 1 event, one writer', 'append 1 event, 64 concurrent writers', 'append 100 events per append', 'read a 100-event stream whole', 'aggregate a 100-event stream', 'catch-up of the whole log', 'read the whole log in batches']
      .flatMap((step) => ['ours', 'Emmett', 'ratio ours/Emmett'].map((side) => new RegExp(`^${step.replace(/[+()]/g, '\\$&')}.*: ${side}$`))),
    /^durability: ours WAL \+ synchronous=FULL; Emmett WAL \+ synchronous=FULL/,
  ],
  'sql-baseline': [/: engine, one thread$/, /: one SQL query/, /^tiered commissions: ratio ours\/SQL/, /^payee-period totals equal to the cent/, /^payee-period totals that differ/],
  limits: [/^fsync alone/, /^SQLite commit of one 1 KiB row, WAL, synchronous=FULL/, /^SQLite commit .*synchronous=OFF/, /^JSON.parse of one stored event/, /^decimal.js work of one statement line/],
  scaling: ['small', 'medium'].flatMap((size) =>
    ['append', 'rebuild', 'recompute'].flatMap((step) => [new RegExp(`^${step} at ${size} \\(\\d+ \\w+s\\): time$`), new RegExp(`^${step} at ${size} .*: cost per \\w+$`), new RegExp(`^${step} at ${size} .*: peak RSS of its process$`)]),
  ),
};

describe('npm run bench -- --size small', () => {
  let exitCode: number | null = null;
  let output = '';
  let rows: TableRow[] = [];

  beforeAll(async () => {
    const build = spawnSync(process.execPath, [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: repoRoot, encoding: 'utf8', timeout: 170_000 });
    if (build.error !== undefined || build.status !== 0) {
      throw new Error(`Build failed (tsc -p tsconfig.build.json, exit ${build.status}):\n${build.stdout}\n${build.stderr}\n${build.error ?? ''}`);
    }
    const child = spawn(process.execPath, [join(repoRoot, 'dist/test/bench/run.js'), '--size', 'small'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let errors = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (errors += chunk));
    exitCode = await new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    if (exitCode !== 0) output += `\n[stderr]\n${errors}`;
    rows = parseTable(output);
  }, 300_000);

  it('exits 0: no bench failed, and no target applies at the small size', () => {
    expect({ exitCode, output: exitCode === 0 ? '' : output }).toEqual({ exitCode: 0, output: '' });
  });

  it('prints the machine and the load average before and after the run', () => {
    expect(output).toMatch(/^machine: \d+ cores \(.+\), \d+ GiB memory, Node v\d+\.\d+\.\d+, \w+\/\w+$/m);
    expect(output).toMatch(/^load average before: [\d.]+ [\d.]+ [\d.]+; after: [\d.]+ [\d.]+ [\d.]+$/m);
    expect(output).toMatch(/^size: small$/m);
  });

  it('prints every expected figure of every bench, each with a median between its min and max', () => {
    for (const [bench, patterns] of Object.entries(expectedRows)) {
      const figures = rows.filter((row) => row.bench === bench);
      for (const pattern of patterns) expect({ bench, pattern: String(pattern), found: figures.some((row) => pattern.test(row.figure)) }).toEqual({ bench, pattern: String(pattern), found: true });
    }
    const measured = rows.filter((row) => row.median !== '');
    expect(measured.length).toBeGreaterThan(80);
    for (const row of measured) {
      const [median, min, max] = [row.median, row.min, row.max].map((cell) => Number(cell.replace(/,/g, '')));
      expect({ figure: row.figure, ordered: min! <= median! && median! <= max! }).toEqual({ figure: row.figure, ordered: true });
    }
  });

  it('prints targets as n/a at the small size, since every target is set at medium or large', () => {
    const withTargets = rows.filter((row) => row.target !== '');
    expect(withTargets.length).toBeGreaterThanOrEqual(10);
    for (const row of withTargets) expect(row.target).toMatch(/^n\/a \(set at (medium|large)\)$/);
  });

  it('prints the peers side by side with ours, and says what a peer cannot do', () => {
    const emmettRatios = rows.filter((row) => row.bench === 'emmett' && row.figure.endsWith(': ratio ours/Emmett'));
    expect(emmettRatios).toHaveLength(7);
    for (const row of emmettRatios) expect(row.median !== '' || row.result.startsWith('n/a')).toBe(true);
    const concurrentPeer = rows.find((row) => row.bench === 'emmett' && /64 concurrent writers.*: Emmett$/.test(row.figure))!;
    expect(concurrentPeer.median !== '' || concurrentPeer.result.startsWith('not supported')).toBe(true);
    const sqlRatio = rows.find((row) => row.bench === 'sql-baseline' && row.figure.startsWith('tiered commissions: ratio ours/SQL'))!;
    expect(Number(sqlRatio.median)).toBeGreaterThan(0);
    const agreeing = Number(rows.find((row) => row.figure.startsWith('payee-period totals equal to the cent'))!.median.replace(/,/g, ''));
    const differing = Number(rows.find((row) => row.figure.startsWith('payee-period totals that differ'))!.median.replace(/,/g, ''));
    expect(agreeing + differing).toBe(1200);
  });

  it('prints the cost per unit of each step at medium against small', () => {
    for (const step of ['append', 'rebuild', 'recompute']) {
      const growth = rows.find((row) => row.bench === 'scaling' && row.figure.startsWith(`${step}: cost per`) && row.figure.includes('at medium / at small'));
      expect(Number(growth?.median)).toBeGreaterThan(0);
    }
  });
});
