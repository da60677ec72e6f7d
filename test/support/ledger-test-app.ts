import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { EventStore } from '#lib/event-store/event-store.port.js';
import { loadLedgerConfig } from '../../apps/ledger/src/config/ledger-config.js';
import { createLedgerApp } from '../../apps/ledger/src/ledger.app.js';
import { EVENT_STORE } from '../../apps/ledger/src/ledger.tokens.js';
import { EventStoreDbTestDouble } from './eventstoredb/eventstoredb-test-double.js';

/**
 * The whole HTTP application over a fresh temporary data directory, as a user would drive it.
 *
 * The event store is the embedded file; with LEDGER_TEST_STORE=eventstoredb in the environment of the test
 * run, each app gets a fresh EventStoreDB test double (test/support/eventstoredb) and LEDGER_STORE=eventstoredb,
 * so the end-to-end suite runs on the EventStoreDB adapter over gRPC:
 *   LEDGER_TEST_STORE=eventstoredb npm test -- test/e2e
 */
export interface LedgerTestApp {
  app: INestApplication;
  http: ReturnType<typeof request>;
  store: EventStore;
  dataDir: string;
  /** The EventStoreDB test double the app's store talks to, when it runs on one (tests can drop or restart it). */
  eventStoreDb: EventStoreDbTestDouble | null;
  /** The global log position of the last event: tests assert it did not move after a rejected command. */
  headPosition(): Promise<number>;
  close(): Promise<void>;
}

export interface LedgerTestAppOptions {
  /** Default: LEDGER_TEST_STORE from the environment of the test run, else embedded. */
  store?: 'embedded' | 'eventstoredb';
}

export async function startLedgerTestApp(environment: Record<string, string> = {}, options: LedgerTestAppOptions = {}): Promise<LedgerTestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ledger-e2e-'));
  const storeKind = options.store ?? (process.env.LEDGER_TEST_STORE === 'eventstoredb' ? 'eventstoredb' : 'embedded');
  const eventStoreDb = storeKind === 'eventstoredb' ? await EventStoreDbTestDouble.start() : null;
  const storeEnvironment: Record<string, string> = eventStoreDb
    ? { LEDGER_STORE: 'eventstoredb', LEDGER_EVENTSTOREDB_CONNECTION_STRING: eventStoreDb.connectionString }
    : {};
  const config = loadLedgerConfig({ LEDGER_DATA_DIR: dataDir, LEDGER_LOG_LEVEL: 'error', ...storeEnvironment, ...environment });
  const app = await createLedgerApp(config);
  await app.init();
  const store = app.get<EventStore>(EVENT_STORE);
  return {
    app,
    http: request(app.getHttpServer()),
    store,
    dataDir,
    eventStoreDb,
    headPosition: () => store.headPosition(),
    close: async () => {
      await app.close();
      await eventStoreDb?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
