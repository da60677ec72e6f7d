import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SqliteEventStore } from '#lib/event-store/embedded/sqlite-event-store.js';
import { SqliteReadModelDb } from '#lib/shared/infrastructure/sqlite-read-model-db.js';
import { dumpReadModel } from '#lib/shared/testing/read-model-dump.js';
import { createTempDir } from '#lib/shared/testing/temp-dir.js';
import { writeSyntheticLedger } from './bench/synthetic-ledger.js';
import { createLedgerProjections } from './ledger-projections.js';
import { ProjectionRunner } from './projection-runner.js';

/**
 * Every ledger projection over a log of thousands of deals (splits, overlays, amendments, cancellations):
 * read models built live, event by event, equal those rebuilt from zero in large catch-up transactions. How
 * fast a rebuild runs is measured by the benchmark scripts (`npm run bench`), never asserted by a test.
 */

const temp = createTempDir('projection-rebuild');
let store: SqliteEventStore;

beforeAll(async () => {
  // Every catch-up read goes through the store's reader thread, as a rebuild of a long log does.
  store = SqliteEventStore.open({ path: temp.file('events.sqlite'), catchUpThreadMinEvents: 0 });
  await writeSyntheticLedger(store, { payees: 120, deals: 4000 });
});
afterAll(async () => {
  await store.close();
  temp.remove();
});

describe('ledger projections over a synthetic log', () => {
  it('build the same read model live in small batches as a rebuild does in large ones, twice over', async () => {
    const live = { db: SqliteReadModelDb.open({ path: temp.file('live.sqlite') }), projections: createLedgerProjections() };
    // Small pages and transactions: many more commits, rows read back from the file between batches.
    const liveRunner = new ProjectionRunner(store, live.db, live.projections, { batchSize: 97, eventsPerCatchUpTransaction: 97 });
    await liveRunner.start();
    await liveRunner.caughtUp();
    await liveRunner.stop();
    const liveDump = await dumpReadModel(live.db, live.projections, { includeCheckpoints: true });
    expect(liveDump.deals).toHaveLength(4000);

    const rebuilt = { db: SqliteReadModelDb.open({ path: temp.file('rebuilt.sqlite') }), projections: createLedgerProjections() };
    // Rows written behind the projections, on the read-model database's writer thread, as a long rebuild does.
    const rebuildRunner = new ProjectionRunner(store, rebuilt.db, rebuilt.projections, { writeBehindMinEvents: 0 });
    await rebuildRunner.rebuild();
    expect(await dumpReadModel(rebuilt.db, rebuilt.projections, { includeCheckpoints: true })).toEqual(liveDump);
    await rebuildRunner.rebuild();
    expect(await dumpReadModel(rebuilt.db, rebuilt.projections, { includeCheckpoints: true })).toEqual(liveDump);
    await live.db.close();
    await rebuilt.db.close();
  });

});
