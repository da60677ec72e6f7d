import { randomUUID } from 'node:crypto';
import { SqliteEventStore } from '#lib/event-store/embedded/sqlite-event-store.js';
import { createLedgerProjections } from '#lib/projections/ledger-projections.js';
import type { Projection } from '#lib/projections/projection.js';
import { ProjectionRunner } from '#lib/projections/projection-runner.js';
import { SqliteReadModelDb } from '../infrastructure/sqlite-read-model-db.js';

/**
 * The real parts wired as the service wires them, for integration tests: the embedded event store file,
 * a separate read-model file and a running ProjectionRunner with every ledger projection.
 */
export interface LedgerHarness {
  store: SqliteEventStore;
  db: SqliteReadModelDb;
  projections: Projection[];
  runner: ProjectionRunner;
  /** Opens another read-model file over the same store, with its own runner (not started). */
  openReadModel(): { db: SqliteReadModelDb; projections: Projection[]; runner: ProjectionRunner };
  close(): Promise<void>;
}

export async function openLedgerHarness(folder: string): Promise<LedgerHarness> {
  const name = randomUUID();
  const store = SqliteEventStore.open({ path: `${folder}/${name}.events.sqlite`, pollIntervalMs: 10 });
  const opened: { db: SqliteReadModelDb; runner: ProjectionRunner }[] = [];
  const openReadModel = () => {
    const db = SqliteReadModelDb.open({ path: `${folder}/${name}.${opened.length}.read.sqlite` });
    const projections = createLedgerProjections();
    const runner = new ProjectionRunner(store, db, projections);
    opened.push({ db, runner });
    return { db, projections, runner };
  };
  const main = openReadModel();
  await main.runner.start();
  return {
    store,
    ...main,
    openReadModel,
    async close() {
      for (const { db, runner } of opened) {
        await runner.stop();
        await db.close();
      }
      await store.close();
    },
  };
}
