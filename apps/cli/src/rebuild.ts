import { join } from 'node:path';
import { ProjectionRunner } from '#lib/projections/projection-runner.js';
import { SqliteReadModelDb } from '#lib/shared/infrastructure/sqlite-read-model-db.js';
import type { LedgerConfig } from '../../ledger/src/config/ledger-config.js';
import { createLedgerProjections } from '#lib/projections/ledger-projections.js';
import { openEventStore } from '../../ledger/src/open-event-store.js';

/** Drops every read model and folds the whole log into them again, from position 0. */
export async function rebuildReadModels(config: LedgerConfig): Promise<{ projections: string[]; headPosition: number; elapsedMs: number }> {
  const store = await openEventStore(config);
  const readModels = SqliteReadModelDb.open({ path: join(config.dataDir, 'read-models.sqlite') });
  const projections = createLedgerProjections();
  const runner = new ProjectionRunner(store, readModels, projections);
  const started = performance.now();
  try {
    const headPosition = await store.headPosition();
    await runner.rebuild();
    return { projections: projections.map((projection) => projection.name), headPosition, elapsedMs: Math.round(performance.now() - started) };
  } finally {
    await runner.stop();
    await store.close();
    await readModels.close();
  }
}
