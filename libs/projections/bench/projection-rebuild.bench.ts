import { join } from 'node:path';
import { SqliteEventStore } from '#lib/event-store/embedded/sqlite-event-store.js';
import { SqliteReadModelDb } from '#lib/shared/infrastructure/sqlite-read-model-db.js';
import { createLedgerProjections } from '../ledger-projections.js';
import { ProjectionRunner } from '../projection-runner.js';
import { writeSyntheticLedger, type SyntheticLedgerShape } from './synthetic-ledger.js';

/** Same shape as test/bench's BenchFigure, so the bench runner can print it with the others. */
export interface RebuildBenchFigure {
  name: string;
  value: number;
  unit: string;
  target?: string;
  pass?: boolean;
}

export interface ProjectionRebuildBenchOptions {
  /** Folder for the store and read-model files. */
  dir: string;
  /** Default: 500 payees and 25,000 deals (about 59,000 events). */
  shape?: SyntheticLedgerShape;
  /** The figure is the best of this many rebuilds of the same log. Default 5. */
  runs?: number;
}

/** The rate every ledger projection together must rebuild at, over the deal-heavy log below. */
export const REBUILD_TARGET_EVENTS_PER_SECOND = 50_000;

/**
 * Rebuild throughput of every ledger projection from the embedded store into a fresh read-model file, over a
 * deal-heavy log: each deal closes with a 60/40 split and a manager overlay (two events), one in five is amended,
 * one in seventeen cancelled. The figure counts every event of the log, read and applied.
 *
 * It is the best of several runs: on a shared two-core machine a run swings by 20% with the neighbours' load.
 */
export async function runProjectionRebuildBench(options: ProjectionRebuildBenchOptions): Promise<RebuildBenchFigure[]> {
  const store = SqliteEventStore.open({ path: join(options.dir, 'rebuild-bench.events.sqlite') });
  const db = SqliteReadModelDb.open({ path: join(options.dir, 'rebuild-bench.read.sqlite') });
  try {
    const events = await writeSyntheticLedger(store, options.shape ?? { payees: 500, deals: 25_000 });
    const runner = new ProjectionRunner(store, db, createLedgerProjections());
    let bestMs = Number.POSITIVE_INFINITY;
    for (let run = 0; run < (options.runs ?? 5); run++) {
      const started = performance.now();
      await runner.rebuild();
      bestMs = Math.min(bestMs, performance.now() - started);
    }
    const eventsPerSecond = Math.round(events / (bestMs / 1000));
    return [
      {
        name: `rebuild all read models from ${events} events (best of ${options.runs ?? 5})`,
        value: eventsPerSecond,
        unit: 'events/s',
        target: `>= ${REBUILD_TARGET_EVENTS_PER_SECOND}`,
        pass: eventsPerSecond >= REBUILD_TARGET_EVENTS_PER_SECOND,
      },
    ];
  } finally {
    await db.close();
    await store.close();
  }
}
