import { hostname } from 'node:os';
import { join } from 'node:path';
import type { ProjectorLease } from '#lib/projections/projector-lease.js';
import type { ReadModelDb } from '#lib/projections/read-model.port.js';
import { PostgresReadModelDb } from '#lib/shared/infrastructure/postgres-read-model-db.js';
import { SqliteProjectorLease } from '#lib/shared/infrastructure/sqlite-projector-lease.js';
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

/**
 * The projector lease of this process over `readModels`: an advisory lock on the PostgreSQL read-model database's
 * writer session, or a lock on a file beside the SQLite read models (docs/decisions/0066-projector-lease.md).
 */
export function projectorLeaseOf(config: LedgerConfig, readModels: ReadModelDb): ProjectorLease {
  if (readModels instanceof PostgresReadModelDb) return readModels.projectorLease({ holder: `${hostname()}:${process.pid}` });
  return new SqliteProjectorLease(join(config.dataDir, 'projector.lease'));
}
