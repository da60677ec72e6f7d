import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { benchSizes, type BenchFigure, type BenchRunOptions, type BenchSize } from './bench-types.js';
import { reachable, type BenchServer } from './bench-servers.js';

/** A group of figures `npm run bench` can run, selected by its key. */
export interface Bench {
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

/**
 * Runs the selected benchmarks (`argv`: keys, --size, --runs), printing progress as it goes and one table at the end;
 * answers the exit code: 1 when a figure missed a target that applies or a benchmark failed, else 0.
 */
export async function runBenchmarks(allBenches: readonly Bench[], argv: readonly string[], print: (line: string) => void = console.log): Promise<number> {
  const args = parseArgs(argv);
  const benches = args.keys.length === 0 ? allBenches : allBenches.filter((bench) => args.keys.includes(bench.key));
  if (benches.length === 0) throw new Error(`No benchmark named ${args.keys.join(', ')}; known: ${allBenches.map((bench) => bench.key).join(', ')}`);

  const processors = cpus();
  const loadBefore = loadavg();
  const machine =
    `machine: ${processors.length} cores (${processors[0]?.model.trim() ?? 'unknown'}), ` +
    `${Math.round(totalmem() / 2 ** 30)} GiB memory, Node ${process.version}, ${process.platform}/${process.arch}`;
  print(machine);
  print(`load average before: ${formatLoad(loadBefore)}`);
  print(`size: ${args.size ?? 'default (each benchmark at the size its targets are set at)'}${args.runs === undefined ? '' : `, runs: ${args.runs}`}`);

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
    print(`\n${bench.key}: ${bench.name} (size ${size}, ${runs} run${runs === 1 ? '' : 's'})`);
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
        print(`  run ${run + 1}/${runs}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
      }
    } catch (error) {
      failures++;
      rows.push(noteRow(bench.key, bench.name, `failed: ${error instanceof Error ? error.message : String(error)}`));
      console.error(error);
      continue;
    }
    for (const row of aggregateRuns(bench.key, perRun, args.size)) {
      if (row.result === 'MISSED') missedTargets++;
      rows.push(row);
    }
  }

  print(`\n${machine}`);
  print(`load average before: ${formatLoad(loadBefore)}; after: ${formatLoad(loadavg())}`);
  for (const line of tableLines(rows)) print(line);
  if (missedTargets > 0) print(`\n${missedTargets} figure(s) missed their target`);
  if (failures > 0) print(`\n${failures} benchmark(s) failed`);
  return missedTargets > 0 || failures > 0 ? 1 : 0;
}

export interface BenchArgs {
  keys: string[];
  size?: BenchSize;
  runs?: number;
}

export function parseArgs(argv: readonly string[]): BenchArgs {
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

/** One row of the final table. */
export interface Row {
  bench: string;
  figure: string;
  median?: number;
  min?: number;
  max?: number;
  unit: string;
  target: string;
  /** ok, MISSED, empty, or a note such as "skipped: needs Kafka". */
  result: string;
}

/** Each figure of a bench (in first-seen order) as the median of its runs, min and max beside it. */
export function aggregateRuns(key: string, perRun: readonly (readonly BenchFigure[])[], size: BenchSize | undefined): Row[] {
  const byName = new Map<string, BenchFigure[]>();
  for (const figures of perRun) {
    // Two figures of one run with the same name are different figures: the second is told apart by its number.
    const inThisRun = new Map<string, number>();
    for (const figure of figures) {
      const occurrence = (inThisRun.get(figure.name) ?? 0) + 1;
      inThisRun.set(figure.name, occurrence);
      const name = occurrence === 1 ? figure.name : `${figure.name} (${occurrence})`;
      const seen = byName.get(name);
      if (seen === undefined) byName.set(name, [{ ...figure, name }]);
      else seen.push(figure);
    }
  }
  return [...byName.values()].map((samples) => {
    const first = samples[0]!;
    if (first.note !== undefined) return { bench: key, figure: first.name, unit: first.unit, target: first.target ?? '', result: first.note };
    const sorted = [...samples].sort((left, right) => left.value - right.value);
    // The lower median run's own figure judges the target: a target is a bound on the value, so its pass is the median's.
    const lower = sorted[Math.floor((sorted.length - 1) / 2)]!;
    const median = sorted.length % 2 === 1 ? lower.value : (lower.value + sorted[sorted.length / 2]!.value) / 2;
    const applies = first.target !== undefined && (size === undefined || first.targetSize === undefined || first.targetSize === size);
    return {
      bench: key,
      figure: first.name,
      median,
      min: sorted[0]!.value,
      max: sorted[sorted.length - 1]!.value,
      unit: first.unit,
      target: first.target === undefined ? '' : applies ? first.target : `n/a (set at ${first.targetSize})`,
      result: !applies || lower.pass === undefined ? '' : lower.pass ? 'ok' : 'MISSED',
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

/** The table: a header, a rule of dashes per column (which also gives the column widths), a line per row. */
export function tableLines(table: readonly Row[]): string[] {
  const cells = table.map((row) => [row.bench, row.figure, formatNumber(row.median), formatNumber(row.min), formatNumber(row.max), row.unit, row.target, row.result]);
  const header = ['bench', 'figure', 'median', 'min', 'max', 'unit', 'target', 'result'];
  const numeric = new Set([2, 3, 4]);
  const widths = header.map((title, column) => Math.max(title.length, ...cells.map((row) => row[column]!.length)));
  const line = (row: readonly string[]) => row.map((cell, column) => (numeric.has(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!))).join('  ').trimEnd();
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...cells.map(line)];
}
