import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { ProjectorLease } from '#lib/projections/projector-lease.js';

/**
 * The projector lease for read models in a local SQLite file: a write lock on a small lock file beside it
 * (`BEGIN IMMEDIATE` held open, SQLite's RESERVED lock, an fcntl lock of the operating system). Another process's
 * attempt fails at once while it is held; the operating system drops it when the holder's process ends, however it
 * ends. It only ever excludes processes on the same machine, which is the only place a local read-model file can be
 * shared anyway.
 */
export class SqliteProjectorLease implements ProjectorLease {
  private connection: Database.Database | null = null;

  constructor(private readonly path: string) {}

  get held(): boolean {
    return this.connection !== null;
  }

  async tryAcquire(): Promise<boolean> {
    if (this.connection !== null) return true;
    mkdirSync(dirname(this.path), { recursive: true });
    const connection = new Database(this.path, { timeout: 0 });
    try {
      connection.prepare('BEGIN IMMEDIATE').run();
    } catch (error) {
      connection.close();
      if ((error as { code?: string }).code === 'SQLITE_BUSY') return false;
      throw error;
    }
    this.connection = connection;
    return true;
  }

  async release(): Promise<void> {
    const connection = this.connection;
    this.connection = null;
    if (connection === null) return;
    if (connection.inTransaction) connection.prepare('ROLLBACK').run();
    connection.close();
  }

  onLost(): void {
    // A lock held by this process's own open file: it is lost only with the process.
  }
}
