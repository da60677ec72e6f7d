import type Database from 'better-sqlite3';

/** Bumped when the table layout changes; a file with a newer layout is refused rather than misread. */
export const STORE_SCHEMA_VERSION = 1;

/** The columns every event read selects, in this order (rows are read as arrays). */
export const EVENT_COLUMNS =
  'position, stream_id, revision, event_id, type, schema_version, data, metadata, recorded_at';

/**
 * The file holds the log and nothing else: `position` is the rowid, so the table's own order is the
 * global order and every commit writes to its end. There are deliberately no secondary indexes: each
 * one costs a random page write per event on every commit (measured: three of them cut durable
 * single-event appends from ~60k to ~15k events/s). Lookups by stream and by event id use the key
 * directory each process builds from this table (key-directory.ts), and `verifyChain` checks the
 * uniqueness that indexes would have enforced.
 */
export function ensureStoreSchema(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > STORE_SCHEMA_VERSION) {
    throw new Error(`Event store file has layout ${version}; this build reads layout ${STORE_SCHEMA_VERSION} or older`);
  }
  if (version === STORE_SCHEMA_VERSION) return;
  db.exec(`
    BEGIN IMMEDIATE;
    CREATE TABLE IF NOT EXISTS events (
      position       INTEGER PRIMARY KEY,
      stream_id      TEXT    NOT NULL,
      revision       INTEGER NOT NULL,
      event_id       TEXT    NOT NULL,
      type           TEXT    NOT NULL,
      schema_version INTEGER NOT NULL,
      data           TEXT    NOT NULL,
      metadata       TEXT    NOT NULL,
      recorded_at    TEXT    NOT NULL,
      hash           TEXT    NOT NULL
    );
    PRAGMA user_version = ${STORE_SCHEMA_VERSION};
    COMMIT;
  `);
}
