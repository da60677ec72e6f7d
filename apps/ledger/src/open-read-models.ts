import { join } from 'node:path';
import type { ReadModelDb } from '#lib/projections/read-model.port.js';
import { PostgresReadModelDb } from '#lib/shared/infrastructure/postgres-read-model-db.js';
import { SqliteReadModelDb } from '#lib/shared/infrastructure/sqlite-read-model-db.js';
import type { LedgerConfig } from './config/ledger-config.js';

/**
 * Opens the read-model database the configuration names (LEDGER_READ_MODELS): the SQLite file in the data directory,
 * or a PostgreSQL database, migrated on open. Used by the service and the command line.
 */
export async function openReadModels(config: LedgerConfig): Promise<ReadModelDb> {
  switch (config.readModelsKind) {
    case 'sqlite':
      return SqliteReadModelDb.open({ path: join(config.dataDir, 'read-models.sqlite') });
    case 'postgres':
      return PostgresReadModelDb.open({ connectionString: config.postgresUrl as string, readPoolSize: config.postgresPoolSize });
    default: {
      const unknownKind: never = config.readModelsKind;
      throw new Error(`Unknown read-model database ${String(unknownKind)}`);
    }
  }
}
