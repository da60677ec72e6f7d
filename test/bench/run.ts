import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { benchSizes, type BenchFigure, type BenchRunOptions, type BenchSize } from './bench-types.js';
import { reachable, type BenchServer } from './bench-servers.js';
import { runDisputesBench } from './disputes.bench.js';
import { runEventStoreBench } from './event-store.bench.js';
import { runStatementsBench } from './statements.bench.js';
import { runPayoutsBench } from './payouts.bench.js';
import { runEmmettPeerBench } from './emmett-peer.bench.js';
import { runSqlBaselineBench } from './sql-baseline.bench.js';
import { runScalingBench } from './scaling.bench.js';

/**
 * `npm run bench`: runs every benchmark on a real disk folder and prints one table at the end. A missed target
 * makes the exit code 1, so a regression is visible without reading the numbers.
 *
 *   npm run bench -- [key ...] [--size small|medium|large] [--runs N]
 *
 * Keys select groups (`event-store`, `statements`, `disputes`, `payouts`, `emmett`, `sql-baseline`, `scaling`).
 * Without --size each benchmark runs at the size its targets are set at; with it, every benchmark generates that
 * size of the synthetic org (test/bench/synthetic-org.ts) and targets set at another size print as n/a. Each figure
 * is the median of the runs (default 3, 1 at large), min and max beside it.
 */
interface Bench {
  key: string;
  name: string;
  run(dir: string, options: BenchRunOptions): Promise<BenchFigure[]>;
  /** Servers it needs: when one is not reachable the bench is skipped and the table says so. */
  needs?: readonly BenchServer[];
  /** The size its targets are set at, which it runs at without --size. Default medium. */
  defaultSize?: BenchSize;
  /** The sizes it can generate; absent: every size. Asked for another size, it is skipped and the table says so. */
  sizes?: readonly BenchSize[];
  /** Runs when --runs is not given; default 3, 1 at large. */
  defaultRuns?: (size: BenchSize) => number;
}

const allBenches: Bench[] = [
  { key: 'event-store', name: 'event store (embedded SQLite)', run: (dir, { size }) => runEventStoreBench({ dir, size, runs: 1 }) },
  {
    key: 'statements',
    name: 'statements read model (full recompute, rebuild from the log, explain / as-of / estimate latency)',
    // The recompute's target is set at large and the rebuild's at medium: three runs without --size, as before.
    defaultSize: 'medium',
    run: (dir, { size }) => runStatementsBench({ dir, size, runs: 1 }),
  },
  {
    key: 'disputes',
    name: 'disputes (filing over HTTP with validation, analyst queue with filters over open disputes)',
    run: (dir, { size }) => runDisputesBench({ dir, size }),
  },
  {
    key: 'payouts',
    name: 'payouts (close and approve a month of payees x 100 credits end to end; trial balance over the whole ledger)',
    defaultSize: 'large',
    run: (dir, { size }) => runPayoutsBench({ dir, size }),
  },
  {
    key: 'emmett',
    name: "peer: Emmett's SQLite event store, the same workload on both stores",
    run: (dir, { size }) => runEmmettPeerBench({ dir, size }),
  },
  {
    key: 'sql-baseline',
    name: 'peer: tiered commissions as one SQL query (better-sqlite3) against the engine, same credits',
    run: (dir, { size }) => runSqlBaselineBench({ dir, size }),
  },
  {
    key: 'scaling',
    name: 'cost as work grows: append, rebuild and full recompute at sizes ten times apart, each size in its own process',
    defaultSize: 'small',
    // It measures every size up to the one asked for, each in a child process: one run of each.
    defaultRuns: () => 1,
    run: (dir, { size }) => runScalingBench({ dir, upTo: size }),
  },
];

const args = parseArgs(process.argv.slice(2));
const benches = args.keys.length === 0 ? allBenches : allBenches.filter((bench) => args.keys.includes(bench.key));
if (benches.length === 0) throw new Error(`No benchmark named ${args.keys.join(', ')}; known: ${allBenches.map((bench) => bench.key).join(', ')}`);

const processors = cpus();
const loadBefore = loadavg();
const machine =
  `machine: ${processors.length} cores (${processors[0]?.model.trim() ?? 'unknown'}), ` +
  `${Math.round(totalmem() / 2 ** 30)} GiB memory, Node ${process.version}, ${process.platform}/${process.arch}`;
console.log(machine);
console.log(`load average before: ${formatLoad(loadBefore)}`);
console.log(`size: ${args.size ?? 'default (each benchmark at the size its targets are set at)'}${args.runs === undefined ? '' : `, runs: ${args.runs}`}`);

interface Row {
  bench: string;
  figure: string;
  median?: number;
  min?: number;
  max?: number;
  unit: string;
  target: string;
  result: string;
}

const rows: Row[] = [];
let missedTargets = 0;
let failures = 0;
for (const bench of benches) {
  const size = args.size ?? bench.defaultSize ?? 'medium';
  if (args.size !== undefined && bench.sizes !== undefined && !bench.sizes.includes(args.size)) {
    rows.push(noteRow(bench.key, bench.name, `skipped: runs at ${bench.sizes.join(' / ')} only`));
    continue;
  }
  const missing: string[] = [];
  for (const server of bench.needs ?? []) if (!(await reachable(server))) missing.push(server.name);
  if (missing.length > 0) {
    rows.push(noteRow(bench.key, bench.name, `skipped: needs ${missing.join(' and ')}`));
    continue;
  }
  const runs = args.runs ?? bench.defaultRuns?.(size) ?? (size === 'large' ? 1 : 3);
  console.log(`\n${bench.key}: ${bench.name} (size ${size}, ${runs} run${runs === 1 ? '' : 's'})`);
  const perRun: BenchFigure[][] = [];
  try {
    for (let run = 0; run < runs; run++) {
      const dir = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'incentive-ledger-bench-'));
      const started = performance.now();
      try {
        perRun.push(await bench.run(dir, { size: args.size }));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      console.log(`  run ${run + 1}/${runs}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
  } catch (error) {
    failures++;
    rows.push(noteRow(bench.key, bench.name, `failed: ${error instanceof Error ? error.message : String(error)}`));
    console.error(error);
    continue;
  }
  for (const row of aggregate(bench.key, perRun, args.size)) {
    if (row.result === 'MISSED') missedTargets++;
    rows.push(row);
  }
}

console.log(`\n${machine}`);
console.log(`load average before: ${formatLoad(loadBefore)}; after: ${formatLoad(loadavg())}`);
printTable(rows);
if (missedTargets > 0) console.log(`\n${missedTargets} figure(s) missed their target`);
if (failures > 0) console.log(`\n${failures} benchmark(s) failed`);
if (missedTargets > 0 || failures > 0) process.exitCode = 1;

function parseArgs(argv: readonly string[]): { keys: string[]; size?: BenchSize; runs?: number } {
  const keys: string[] = [];
  let size: BenchSize | undefined;
  let runs: number | undefined;
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index]!;
    const [flag, inline] = arg.startsWith('--') ? (arg.split('=', 2) as [string, string | undefined]) : [arg, undefined];
    const value = () => inline ?? argv[++index];
    if (flag === '--size') {
      const given = value();
      if (!benchSizes.includes(given as BenchSize)) throw new Error(`--size takes ${benchSizes.join(', ')}; got ${given}`);
      size = given as BenchSize;
    } else if (flag === '--runs') {
      runs = Number(value());
      if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs takes a positive whole number');
    } else if (flag.startsWith('--')) {
      throw new Error(`Unknown option ${flag}; known: --size, --runs`);
    } else {
      keys.push(arg);
    }
  }
  return { keys, size, runs };
}

/** Each figure of a bench (in first-seen order) as the median of its runs, min and max beside it. */
function aggregate(key: string, perRun: readonly BenchFigure[][], size: BenchSize | undefined): Row[] {
  const byName = new Map<string, BenchFigure[]>();
  for (const figures of perRun) {
    for (const figure of figures) {
      const seen = byName.get(figure.name);
      if (seen === undefined) byName.set(figure.name, [figure]);
      else seen.push(figure);
    }
  }
  return [...byName.values()].map((samples) => {
    const first = samples[0]!;
    if (first.note !== undefined) return { bench: key, figure: first.name, unit: first.unit, target: first.target ?? '', result: first.note };
    const sorted = [...samples].sort((left, right) => left.value - right.value);
    // The median run's own figure: its pass is the median's, as a target is a bound on the value.
    const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
    const applies = first.target !== undefined && (size === undefined || first.targetSize === undefined || first.targetSize === size);
    return {
      bench: key,
      figure: first.name,
      median: sorted.length % 2 === 1 ? median.value : (median.value + sorted[sorted.length / 2]!.value) / 2,
      min: sorted[0]!.value,
      max: sorted[sorted.length - 1]!.value,
      unit: first.unit,
      target: first.target === undefined ? '' : applies ? first.target : `n/a (set at ${first.targetSize})`,
      result: !applies || median.pass === undefined ? '' : median.pass ? 'ok' : 'MISSED',
    };
  });
}

function noteRow(bench: string, figure: string, note: string): Row {
  return { bench, figure, unit: '', target: '', result: note };
}

function formatLoad(load: readonly number[]): string {
  return load.map((value) => value.toFixed(2)).join(' ');
}

function formatNumber(value: number | undefined): string {
  if (value === undefined) return '';
  if (!Number.isFinite(value)) return String(value);
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 1 ? 2 : 3;
  return value.toLocaleString('en-US', { maximumFractionDigits: digits });
}

function printTable(table: readonly Row[]): void {
  const cells = table.map((row) => [row.bench, row.figure, formatNumber(row.median), formatNumber(row.min), formatNumber(row.max), row.unit, row.target, row.result]);
  const header = ['bench', 'figure', 'median', 'min', 'max', 'unit', 'target', 'result'];
  const numeric = new Set([2, 3, 4]);
  const widths = header.map((title, column) => Math.max(title.length, ...cells.map((row) => row[column]!.length)));
  const line = (row: readonly string[]) => row.map((cell, column) => (numeric.has(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!))).join('  ').trimEnd();
  console.log(line(header));
  console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  for (const row of cells) console.log(line(row));
}
