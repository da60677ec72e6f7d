import type Database from 'better-sqlite3';

/** Bumped when the table layout changes; a file with a newer layout is refused rather than misread. */
export const STORE_SCHEMA_VERSION = 1;

/** The columns every read selects, in this order (rows are read as arrays). */
export const EVENT_COLUMNS =
  'position, stream_id, revision, event_id, type, schema_version, data, metadata, recorded_at';

/**
 * `position` is the rowid, so the global log is the table's own order and reading after a checkpoint is
 * a seek. `command_id` is copied out of the metadata so that finding the events of one client command
 * is an index lookup.
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
      command_id     TEXT,
      recorded_at    TEXT    NOT NULL,
      hash           BLOB    NOT NULL
    );
    CREATE UNIQUE INDEX IF NOT EXISTS events_event_id ON events (event_id);
    CREATE UNIQUE INDEX IF NOT EXISTS events_stream_revision ON events (stream_id, revision);
    CREATE INDEX IF NOT EXISTS events_command_id ON events (command_id) WHERE command_id IS NOT NULL;
    PRAGMA user_version = ${STORE_SCHEMA_VERSION};
    COMMIT;
  `);
}
