import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { EventStore } from '#lib/event-store/event-store.port.js';
import { loadLedgerConfig } from '../../apps/ledger/src/config/ledger-config.js';
import { createLedgerApp } from '../../apps/ledger/src/ledger.app.js';
import { EVENT_STORE } from '../../apps/ledger/src/ledger.tokens.js';

/** The whole HTTP application over a fresh temporary data directory, as a user would drive it. */
export interface LedgerTestApp {
  app: INestApplication;
  http: ReturnType<typeof request>;
  store: EventStore;
  dataDir: string;
  /** The global log position of the last event: tests assert it did not move after a rejected command. */
  headPosition(): Promise<number>;
  close(): Promise<void>;
}

export async function startLedgerTestApp(environment: Record<string, string> = {}): Promise<LedgerTestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ledger-e2e-'));
  const config = loadLedgerConfig({ LEDGER_DATA_DIR: dataDir, LEDGER_LOG_LEVEL: 'error', ...environment });
  const app = await createLedgerApp(config);
  await app.init();
  const store = app.get<EventStore>(EVENT_STORE);
  return {
    app,
    http: request(app.getHttpServer()),
    store,
    dataDir,
    headPosition: () => store.headPosition(),
    close: async () => {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
