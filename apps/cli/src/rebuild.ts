import { ProjectionRunner } from '#lib/projections/projection-runner.js';
import type { LedgerConfig } from '../../ledger/src/config/ledger-config.js';
import { createLedgerProjections } from '#lib/projections/ledger-projections.js';
import { openEventStore } from '../../ledger/src/open-event-store.js';
import { openReadModels, projectorLeaseOf } from '../../ledger/src/open-read-models.js';

/** The projector lease is held by a running projector: a rebuild beside it would write the same rows twice. */
export class ProjectorRunningError extends Error {
  constructor() {
    super('A projector holds the projector lease: stop the projector processes (LEDGER_ROLES with projector) before rebuilding the read models');
    this.name = 'ProjectorRunningError';
  }
}

/**
 * Drops every read model and folds the whole log into them again, from position 0. It takes the projector lease
 * first, as a projector does, and refuses to run while a projector holds it.
 */
export async function rebuildReadModels(config: LedgerConfig): Promise<{ projections: string[]; headPosition: number; elapsedMs: number }> {
  const store = await openEventStore(config);
  const readModels = await openReadModels(config).catch(async (error: unknown) => {
    await store.close();
    throw error;
  });
  const lease = projectorLeaseOf(config, readModels);
  const projections = createLedgerProjections();
  const runner = new ProjectionRunner(store, readModels, projections);
  const started = performance.now();
  try {
    if (!(await lease.tryAcquire())) throw new ProjectorRunningError();
    const headPosition = await store.headPosition();
    await runner.rebuild();
    return { projections: projections.map((projection) => projection.name), headPosition, elapsedMs: Math.round(performance.now() - started) };
  } finally {
    await runner.stop();
    await lease.release();
    await store.close();
    await readModels.close();
  }
}
