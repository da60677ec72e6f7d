import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import type { BenchFigure } from './bench-types.js';
import { runDisputesBench } from './disputes.bench.js';
import { runEventStoreBench } from './event-store.bench.js';
import { runStatementsBench } from './statements.bench.js';
import { runPayoutsBench } from './payouts.bench.js';
import { runKafkaBench } from './kafka.bench.js';
import { runPostgresBench } from './postgres.bench.js';

/**
 * `npm run bench`: runs every benchmark on a real disk folder and prints one table. A missed target
 * makes the exit code 1, so a regression is visible without reading the numbers.
 * `npm run bench -- event-store` (or `statements`, `disputes`, `payouts`, `kafka`, `postgres`) runs only the benchmarks with
 * that key. `kafka` needs a broker (KAFKA_BROKERS, e.g. from deploy/kafka/kafka.sh start); `postgres` starts a PostgreSQL
 * server from the machine's binaries unless LEDGER_BENCH_POSTGRES_URL names one.
 */
const allBenches: { key: string; name: string; run(dir: string): Promise<BenchFigure[]> }[] = [
  { key: 'event-store', name: 'event store (embedded SQLite)', run: (dir) => runEventStoreBench({ dir }) },
  {
    key: 'statements',
    name: 'statements read model (full recompute, rebuild from the log, explain / as-of / estimate latency)',
    run: (dir) => runStatementsBench({ dir }),
  },
  {
    key: 'disputes',
    name: 'disputes (filing over HTTP with validation, analyst queue with filters over 10,000 open disputes)',
    run: (dir) => runDisputesBench({ dir }),
  },
  {
    key: 'payouts',
    name: 'payouts (close and approve a month of 10,000 payees x 100 credits end to end; trial balance over the whole ledger)',
    run: (dir) => runPayoutsBench({ dir }),
  },
  {
    key: 'kafka',
    name: 'Kafka relay (catch-up throughput; approval acknowledged -> readable by a consumer) against KAFKA_BROKERS',
    run: (dir) => runKafkaBench({ dir }),
  },
  {
    key: 'postgres',
    name: 'read models in PostgreSQL (statements rebuild; statement reads over HTTP under 200 concurrent readers)',
    run: (dir) => runPostgresBench({ dir }),
  },
];
const selected = process.argv.slice(2);
const benches = selected.length === 0 ? allBenches : allBenches.filter((bench) => selected.includes(bench.key));
if (benches.length === 0) throw new Error(`No benchmark named ${selected.join(', ')}; known: ${allBenches.map((bench) => bench.key).join(', ')}`);

const processors = cpus();
console.log(
  `machine: ${processors.length} cores (${processors[0]?.model.trim() ?? 'unknown'}), ` +
    `${Math.round(totalmem() / 2 ** 30)} GiB memory, Node ${process.version}, ${process.platform}/${process.arch}, ` +
    `load average ${loadavg().map((load) => load.toFixed(2)).join(' ')}`,
);

let missedTargets = 0;
for (const bench of benches) {
  const dir = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'incentive-ledger-bench-'));
  try {
    const figures = await bench.run(dir);
    console.log(`\n${bench.name}`);
    printTable(figures);
    missedTargets += figures.filter((figure) => figure.pass === false).length;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
if (missedTargets > 0) {
  console.log(`\n${missedTargets} figure(s) missed their target`);
  process.exitCode = 1;
}

function printTable(figures: readonly BenchFigure[]): void {
  const rows = figures.map((figure) => [
    figure.name,
    figure.value.toLocaleString('en-US'),
    figure.unit,
    figure.target ?? '',
    figure.pass === undefined ? '' : figure.pass ? 'ok' : 'MISSED',
  ]);
  const header = ['figure', 'value', 'unit', 'target', ''];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const line = (cells: string[]) =>
    cells.map((cell, column) => (column === 1 ? cell.padStart(widths[column]) : cell.padEnd(widths[column]))).join('  ').trimEnd();
  console.log(line(header));
  console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  for (const row of rows) console.log(line(row));
}
