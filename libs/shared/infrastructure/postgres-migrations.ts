import type pg from 'pg';

/**
 * The PostgreSQL read-model database's own schema: what lives beside the projections' tables. Projections manage
 * their tables themselves (each has a layout version in `projection_state`; another version is dropped and replayed
 * from the log), so migrations only cover the shared tables that must survive a rebuild: checkpoints and the
 * projector lease. Each migration runs once, in order, in its own transaction, and is recorded in
 * `schema_migrations`; never edit one that has shipped, add the next.
 */
export interface Migration {
  version: number;
  name: string;
  statements: readonly string[];
}

export const MIGRATIONS_TABLE = 'schema_migrations';
/** The advisory lock key (in a namespace of the ledger's own) under which migrations run, so that processes starting together apply each once. */
export const MIGRATION_LOCK_KEY = 0x4c4d_0001;

export const readModelMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'checkpoint tables',
    statements: [
      'CREATE TABLE IF NOT EXISTS projection_state (projection_name TEXT PRIMARY KEY, position BIGINT NOT NULL, layout_version BIGINT NOT NULL)',
      'CREATE TABLE IF NOT EXISTS process_checkpoints (process_name TEXT PRIMARY KEY, position BIGINT NOT NULL)',
    ],
  },
  {
    version: 2,
    name: 'projector lease holder',
    statements: [
      // Who holds the projector lease (the advisory lock is the lease itself; this row says who took it, for /health).
      'CREATE TABLE IF NOT EXISTS projector_lease (lease_name TEXT PRIMARY KEY, holder TEXT NOT NULL, acquired_at TIMESTAMPTZ NOT NULL)',
    ],
  },
];

export interface MigrationResult {
  /** Versions applied by this call, in order. */
  applied: number[];
  /** The schema version after it. */
  version: number;
}

/**
 * Applies the migrations not yet recorded, each in a transaction of its own, under a transaction-scoped advisory
 * lock: a second process starting at the same time waits, then finds them recorded. Idempotent.
 */
export async function migrate(client: pg.ClientBase, migrations: readonly Migration[] = readModelMigrations): Promise<MigrationResult> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
  const applied: number[] = [];
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
      const done = await client.query(`SELECT 1 FROM ${MIGRATIONS_TABLE} WHERE version = $1`, [migration.version]);
      if (done.rowCount === 0) {
        for (const statement of migration.statements) await client.query(statement);
        await client.query(`INSERT INTO ${MIGRATIONS_TABLE} (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
        applied.push(migration.version);
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw new Error(`Read-model migration ${migration.version} (${migration.name}) failed: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
    }
  }
  const version = await client.query<{ version: string | number | null }>(`SELECT max(version) AS version FROM ${MIGRATIONS_TABLE}`);
  return { applied, version: Number(version.rows[0].version ?? 0) };
}
