import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { SqliteEventStore } from '#lib/event-store/embedded/sqlite-event-store.js';
import { PostgresReadModelDb } from '#lib/shared/infrastructure/postgres-read-model-db.js';
import { SqliteReadModelDb } from '#lib/shared/infrastructure/sqlite-read-model-db.js';
import { dumpReadModel } from '#lib/shared/testing/read-model-dump.js';
import { createTempDir } from '#lib/shared/testing/temp-dir.js';
import { createTestDatabase, describeWithPostgres, type TestDatabase } from '../../test/support/postgres/postgres-test-db.js';
import { writeSyntheticLedger } from './bench/synthetic-ledger.js';
import { createLedgerProjections } from './ledger-projections.js';
import { ProjectionRunner } from './projection-runner.js';

/**
 * Every ledger projection folded into PostgreSQL over a log of thousands of deals: built live in small batches, it
 * equals a rebuild from zero; a second rebuild and a restart from the checkpoints change nothing; and it holds the
 * very rows the SQLite read models hold (one SQL text, two engines).
 */

describeWithPostgres('ledger projections on PostgreSQL', () => {
  const temp = createTempDir('projection-rebuild-postgres');
  let store: SqliteEventStore;
  const databases: TestDatabase[] = [];

  beforeAll(async () => {
    store = SqliteEventStore.open({ path: temp.file('events.sqlite') });
    await writeSyntheticLedger(store, { payees: 80, deals: 1500 });
  });
  afterAll(async () => {
    await store.close();
    for (const database of databases) await database.drop();
    temp.remove();
  });

  const openDb = async (label: string) => {
    const database = await createTestDatabase(label);
    databases.push(database);
    return PostgresReadModelDb.open({ connectionString: database.url });
  };

  it('build the same read model live as from zero, twice over, and the same rows as SQLite', async () => {
    const live = { db: await openDb('live'), projections: createLedgerProjections() };
    const liveRunner = new ProjectionRunner(store, live.db, live.projections, { batchSize: 97, eventsPerCatchUpTransaction: 97 });
    await liveRunner.start();
    await liveRunner.caughtUp();
    await liveRunner.stop();
    const liveDump = await dumpReadModel(live.db, live.projections, { includeCheckpoints: true });
    expect(liveDump.deals).toHaveLength(1500);

    // Stopped and started again: resumes at its checkpoints and applies nothing twice.
    await liveRunner.start();
    await liveRunner.caughtUp();
    await liveRunner.stop();
    expect(await dumpReadModel(live.db, live.projections, { includeCheckpoints: true })).toEqual(liveDump);

    const rebuilt = { db: await openDb('rebuilt'), projections: createLedgerProjections() };
    const rebuildRunner = new ProjectionRunner(store, rebuilt.db, rebuilt.projections, { writeBehindMinEvents: 0 });
    await rebuildRunner.rebuild();
    expect(await dumpReadModel(rebuilt.db, rebuilt.projections, { includeCheckpoints: true })).toEqual(liveDump);
    await rebuildRunner.rebuild();
    expect(await dumpReadModel(rebuilt.db, rebuilt.projections, { includeCheckpoints: true })).toEqual(liveDump);

    const sqlite = { db: SqliteReadModelDb.open({ path: temp.file('sqlite.read.sqlite') }), projections: createLedgerProjections() };
    await new ProjectionRunner(store, sqlite.db, sqlite.projections).rebuild();
    expect(await dumpReadModel(sqlite.db, sqlite.projections, { includeCheckpoints: true })).toEqual(liveDump);

    await Promise.all([live.db.close(), rebuilt.db.close(), sqlite.db.close()]);
  });
});
