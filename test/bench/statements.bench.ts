import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { SqliteEventStore } from '#lib/event-store/embedded/sqlite-event-store.js';
import { ProjectionRunner } from '#lib/projections/projection-runner.js';
import { SqliteReadModelDb } from '#lib/shared/infrastructure/sqlite-read-model-db.js';
import { computeStatement } from '#lib/commissions/domain/commission-engine.js';
import type { StatementInput } from '#lib/commissions/domain/statement.js';
import { createStatementsProjection } from '#lib/statements/application/statements.projection.js';
import { estimateStatement, explainStatementLine } from '#lib/statements/application/statement-queries.js';
import { statementAsOf } from '#lib/statements/application/statement-as-of.js';
import { atLeast, atMost, percentile, type BenchFigure, type BenchSize } from './bench-types.js';
import { orgShape, orgSizes, orgStatementInputs, seeded, writeOrgLog, type OrgShape } from './synthetic-org.js';

const pad = (value: number): string => String(value).padStart(2, '0');

/**
 * The statements read model under load:
 * 1. Full recompute of every payee-period with the commission engine: 10,000 payees x 12 monthly periods,
 *    1,000,000 deals (one in five split 70/30, so 1,200,000 credits), a three-tier marginal plan over attainment of a
 *    monthly quota with a period cap. Inputs are built first (the projection's credit shape), then timed, shared
 *    out by payee over worker threads (every payee-period is independent). Target: 10 s.
 * 2. Rebuild of the statements read model from the log (about 200,000 events by default: payees with monthly quotas,
 *    plan, assignments, daily FX, deals closing roughly in date order with some back-dated, 5% in EUR, amendments
 *    and cancellations). Target: 50,000 events/s.
 * 3. Over the rebuilt model: explain and as-of (from the log) latency p99, target 50 ms; estimator p99, target 20 ms.
 *
 * All generated data comes from seeded generators, so every run sees the same log. On its own:
 *   npm run build && node dist/test/bench/statements.bench.js [folder]
 */

// ---------------------------------------------------------------------------------------------------------------
// 1. Full recompute

export interface RecomputeBenchOptions {
  payees?: number;
  /** Deals in total; each payee owns the same number. */
  deals?: number;
  /** Worker threads to share the payee-periods over. Default 2. */
  workers?: number;
}

interface RecomputeWorkerResult {
  statements: number;
  credits: number;
  lines: number;
  elapsedMs: number;
}

function computeAll(inputs: readonly StatementInput[]): Omit<RecomputeWorkerResult, 'elapsedMs'> {
  let lines = 0;
  let credits = 0;
  for (const input of inputs) {
    lines += computeStatement(input).lines.length;
    credits += input.credits.length;
  }
  return { statements: inputs.length, credits, lines };
}

/** Worker side: build its share of inputs, say so, compute them all when told to, answer with the counts. */
function runRecomputeWorker(data: { from: number; to: number; shape: OrgShape }): void {
  const inputs = orgStatementInputs(data.from, data.to, data.shape);
  parentPort!.once('message', () => {
    const started = performance.now();
    const counts = computeAll(inputs);
    parentPort!.postMessage({ ...counts, elapsedMs: performance.now() - started });
  });
  parentPort!.postMessage('ready');
}

export async function runStatementRecomputeBench(options: RecomputeBenchOptions = {}): Promise<BenchFigure[]> {
  const payees = options.payees ?? 10_000;
  const shape = orgShape(payees, options.deals ?? 1_000_000);
  const workerCount = Math.max(1, options.workers ?? 2);
  const slices = Array.from({ length: workerCount }, (_, index) => ({ from: Math.floor((payees * index) / workerCount), to: Math.floor((payees * (index + 1)) / workerCount) }));
  // Flags such as --input-type (for a caller's `node -e`) do not apply to a worker loaded from a file.
  const execArgv = process.execArgv.filter((flag) => !flag.startsWith('--input-type') && flag !== '-e' && flag !== '--eval');
  const workers = slices.map((slice) => new Worker(fileURLToPath(import.meta.url), { execArgv, workerData: { kind: 'statement-recompute', ...slice, shape } }));
  try {
    await Promise.all(workers.map((worker) => new Promise<void>((resolve, reject) => {
      worker.once('error', reject);
      worker.once('message', () => resolve());
    })));
    const started = performance.now();
    const results = await Promise.all(
      workers.map((worker) => new Promise<RecomputeWorkerResult>((resolve) => {
        worker.once('message', (message: RecomputeWorkerResult) => resolve(message));
        worker.postMessage('go');
      })),
    );
    const wallMs = performance.now() - started;
    const total = results.reduce((sum, result) => ({ statements: sum.statements + result.statements, credits: sum.credits + result.credits, lines: sum.lines + result.lines }), { statements: 0, credits: 0, lines: 0 });
    const seconds = Math.round(wallMs) / 1000;
    return [
      {
        name: `full recompute: ${total.statements} payee-periods, ${total.credits} credits, ${total.lines} lines (${workerCount} worker threads)`,
        value: seconds,
        unit: 's',
        target: '<= 10',
        pass: seconds <= 10,
        targetSize: 'large',
      },
      { name: 'full recompute: busiest worker\'s engine time', value: Math.round(Math.max(...results.map((result) => result.elapsedMs))) / 1000, unit: 's' },
      { name: 'full recompute: credits per second, all workers', value: Math.round(total.credits / (wallMs / 1000)), unit: 'credits/s' },
    ];
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// 2. Rebuild from the log, 3. query latencies

export interface RebuildBenchOptions {
  /** Folder for the store and read-model files. */
  dir: string;
  payees?: number;
  /** About two events each. Default 90,000 (about 200,000 events in all). */
  deals?: number;
  /** The rebuild figure is the best of this many runs. Default 3. */
  runs?: number;
  /** Timed calls per query latency figure. Default 300. */
  samples?: number;
}

async function timeEach(samples: number, call: (index: number) => Promise<unknown>): Promise<number[]> {
  for (let index = 0; index < Math.min(20, samples); index++) await call(samples + index);
  const times: number[] = [];
  for (let index = 0; index < samples; index++) {
    const started = performance.now();
    await call(index);
    times.push(performance.now() - started);
  }
  return times;
}

export async function runStatementRebuildBench(options: RebuildBenchOptions): Promise<BenchFigure[]> {
  const payees = options.payees ?? 1_000;
  const deals = options.deals ?? 90_000;
  const runs = options.runs ?? 3;
  const samples = options.samples ?? 300;
  const storePath = join(options.dir, 'statements-bench.events.sqlite');
  const store = SqliteEventStore.open({ path: storePath });
  const figures: BenchFigure[] = [];
  try {
    // The org without managers or disputes: the log this figure's target was set on.
    const events = await writeOrgLog(store, { payees, deals, hierarchy: false, disputeEvery: 0 });
    let bestMs = Number.POSITIVE_INFINITY;
    let counts = '';
    let db: SqliteReadModelDb | null = null;
    for (let run = 0; run < runs; run++) {
      await db?.close();
      const readModelPath = join(options.dir, `statements-bench.read-${run}.sqlite`);
      db = SqliteReadModelDb.open({ path: readModelPath });
      const projection = createStatementsProjection();
      const runner = new ProjectionRunner(store, db, [projection]);
      const started = performance.now();
      await runner.rebuild();
      const elapsedMs = performance.now() - started;
      if (elapsedMs < bestMs) {
        bestMs = elapsedMs;
        counts = `${projection.counts.advanced} advanced, ${projection.counts.resumed} resumed, ${projection.counts.recomputed} recomputed`;
      }
    }
    figures.push(atLeast(`rebuild the statements read model from ${events} events (${runs > 1 ? `best of ${runs}; ` : ''}${counts})`, Math.round(events / (bestMs / 1000)), 'events/s', 50_000, 'medium'));

    const reader = db!;
    const random = seeded(99);
    const pick = () => ({ payeeId: `p${Math.floor(random() * payees)}`, periodId: `2026-${pad(1 + Math.floor(random() * 12))}` });
    const lineTargets: { payeeId: string; periodId: string; lineId: string }[] = [];
    while (lineTargets.length < samples + 20) {
      const { payeeId, periodId } = pick();
      const lines = await reader.read((session) => session.all<{ line_id: string }>('SELECT line_id FROM statement_lines WHERE payee_id = ? AND period_id = ?', [payeeId, periodId]));
      if (lines.length > 0) lineTargets.push({ payeeId, periodId, lineId: lines[Math.floor(random() * lines.length)]!.line_id });
    }
    const explainTimes = await timeEach(samples, (index) => explainStatementLine(reader, lineTargets[index]!));
    figures.push(atMost('explain a statement line, p99', percentile(explainTimes, 99), 'ms', 50, 'medium'));
    const asOf = new Date().toISOString();
    const asOfTimes = await timeEach(samples, (index) => statementAsOf(store, reader, { ...lineTargets[index]!, asOf }));
    figures.push(atMost(`statement as of a time, from the log, p99 (about ${Math.round((deals * 1.2) / payees)} deal streams per payee)`, percentile(asOfTimes, 99), 'ms', 50, 'medium'));
    const estimateTimes = await timeEach(samples, (index) => {
      const { payeeId, periodId } = lineTargets[index]!;
      return estimateStatement(reader, {
        payeeId,
        periodId,
        deals: [
          { amount: '25000.00', currency: 'USD', closeDate: `${periodId}-20`, product: 'platform', dealType: 'new_business' },
          { amount: '8000.00', currency: 'EUR', closeDate: `${periodId}-21`, product: 'services', dealType: 'new_business', sharePercent: '50' },
        ],
      });
    });
    figures.push(atMost('estimate with two hypothetical deals, p99', percentile(estimateTimes, 99), 'ms', 20, 'medium'));
    await reader.close();
    return figures;
  } finally {
    await store.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${storePath}${suffix}`, { force: true });
  }
}

/**
 * Every statements figure: the recompute, then the rebuild and the query latencies. Without a size, each part runs at
 * the size its targets were set at (the recompute at large, the rebuild over 1,000 payees and 90,000 deals: medium).
 */
export async function runStatementsBench(options: RebuildBenchOptions & { recompute?: RecomputeBenchOptions; size?: BenchSize }): Promise<BenchFigure[]> {
  const size = options.size;
  const recompute = size === undefined ? options.recompute : { ...options.recompute, ...orgSizes[size] };
  const rebuild = size === undefined ? options : { ...options, ...orgSizes[size], samples: options.samples ?? (size === 'small' ? 100 : 300) };
  return [...(await runStatementRecomputeBench(recompute)), ...(await runStatementRebuildBench(rebuild))];
}

if (!isMainThread && (workerData as { kind?: string } | null)?.kind === 'statement-recompute') {
  runRecomputeWorker(workerData as { from: number; to: number; shape: OrgShape });
} else if (isMainThread && process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(process.argv[2] ?? tmpdir(), 'statements-bench-'));
  try {
    for (const figure of await runStatementsBench({ dir })) {
      console.log(`${figure.name}: ${figure.value.toLocaleString('en-US')} ${figure.unit}${figure.target ? ` (target ${figure.target}: ${figure.pass ? 'ok' : 'MISSED'})` : ''}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
