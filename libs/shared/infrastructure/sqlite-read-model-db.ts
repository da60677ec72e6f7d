import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { assertSelect, type ReadModelDb, type ReadModelReader, type ReadModelTransaction, type SqlParameter, type TransactionOptions } from '#lib/projections/read-model.port.js';
import { ReadModelWriterThread } from './read-model-writer-thread.js';
import { WalCheckpointer } from './wal-checkpointer.js';

export interface SqliteReadModelDbOptions {
  /** The read-model file; a separate file from the event store. Its folder is created when missing. */
  path: string;
  /** How long to wait for another connection's lock, ms. Default 5000. */
  busyTimeoutMs?: number;
}

/** A transaction changing at least this many rows hands the write-ahead log checkpoints to a thread of their own. */
const LARGE_TRANSACTION_ROWS = 2000;
const CHECKPOINT_INTERVAL_MS = 100;
/** Without that thread, the writer checkpoints once this many rows have changed since its last checkpoint. */
const ROWS_PER_INLINE_CHECKPOINT = 4000;

/** Prepared statements are cached by SQL text; projections and queries use a fixed set, so this stays small. */
const STATEMENT_CACHE_LIMIT = 1000;

class StatementCache {
  private readonly statements = new Map<string, Database.Statement>();
  constructor(private readonly db: Database.Database) {}

  prepare(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      if (this.statements.size >= STATEMENT_CACHE_LIMIT) this.statements.clear();
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}

/** Serialises async work: each piece starts when the previous one has settled. */
class Serialiser {
  private tail: Promise<unknown> = Promise.resolve();

  run<Result>(work: () => Promise<Result>): Promise<Result> {
    const result = this.tail.then(work, work);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/** One session on a connection; refuses use once its transaction has ended, so a stray await cannot write outside it. */
class SqliteSession implements ReadModelTransaction {
  private open = true;
  /** Rows inserted, updated or deleted so far. */
  changes = 0;
  constructor(private readonly statements: StatementCache) {}

  end(): void {
    this.open = false;
  }

  async run(sql: string, parameters: readonly SqlParameter[] = []): Promise<void> {
    this.assertOpen();
    // An array binds its elements in order; passing it whole avoids spreading thousands of arguments.
    this.changes += this.statements.prepare(sql).run(parameters).changes;
  }

  async runMany(sql: string, rows: Iterable<readonly SqlParameter[]>): Promise<void> {
    this.assertOpen();
    let statement: Database.Statement | null = null;
    for (const row of rows) {
      statement ??= this.statements.prepare(sql);
      this.changes += statement.run(row).changes;
    }
  }

  async get<Row>(sql: string, parameters: readonly SqlParameter[] = []): Promise<Row | undefined> {
    this.assertOpen();
    return this.statements.prepare(sql).get(parameters) as Row | undefined;
  }

  async all<Row>(sql: string, parameters: readonly SqlParameter[] = []): Promise<Row[]> {
    this.assertOpen();
    return this.statements.prepare(sql).all(parameters) as Row[];
  }

  private assertOpen(): void {
    if (!this.open) throw new Error('This read-model transaction has already ended');
  }
}

/**
 * The read models in a local SQLite file of their own (better-sqlite3, WAL), apart from the event store:
 * it can be deleted and rebuilt from the log at any time.
 *
 * Two connections: projections write through one; queries read through the other, so a query never sees a
 * batch that is still being applied (WAL gives it the last committed snapshot).
 *
 * synchronous=NORMAL: in WAL mode a crash can lose the last few commits but never corrupts the file, and
 * because each commit holds its projection checkpoints too, lost commits are simply replayed from the log.
 *
 * Write-ahead log checkpoints (copying the log back into the file) never run inside a COMMIT, as SQLite's automatic
 * ones would. While commits are small, the writer checkpoints after a commit once a few thousand rows have changed
 * since the last one; from the first transaction that changes many rows (a rebuild, a catch-up), a thread of its own
 * does it (`WalCheckpointer`), asked after commits at most every CHECKPOINT_INTERVAL_MS.
 */
export class SqliteReadModelDb implements ReadModelDb {
  private readonly writer: Database.Database;
  private readonly reader: Database.Database;
  private readonly writerStatements: StatementCache;
  private readonly readerStatements: StatementCache;
  private readonly writes = new Serialiser();
  private readonly reads = new Serialiser();
  private readonly path: string;
  private readonly busyTimeoutMs: number;
  private checkpointer: WalCheckpointer | null = null;
  /** Started for the first write-behind transaction. */
  private writerThread: ReadModelWriterThread | null = null;
  private checkpointRequestedAt = Number.NEGATIVE_INFINITY;
  private rowsSinceCheckpoint = 0;
  private closed = false;

  static open(options: SqliteReadModelDbOptions): SqliteReadModelDb {
    return new SqliteReadModelDb(options);
  }

  private constructor(options: SqliteReadModelDbOptions) {
    mkdirSync(dirname(options.path), { recursive: true });
    const timeout = options.busyTimeoutMs ?? 5000;
    this.path = options.path;
    this.busyTimeoutMs = timeout;
    this.writer = new Database(options.path, { timeout });
    try {
      this.writer.pragma('journal_mode = WAL');
      this.writer.pragma('synchronous = NORMAL');
      this.writer.pragma('cache_size = -65536');
      this.writer.pragma('temp_store = MEMORY');
      this.writer.pragma('wal_autocheckpoint = 0');
      this.reader = new Database(options.path, { timeout });
    } catch (error) {
      this.writer.close();
      throw error;
    }
    this.writerStatements = new StatementCache(this.writer);
    this.readerStatements = new StatementCache(this.reader);
  }

  transaction<Result>(work: (transaction: ReadModelTransaction) => Promise<Result>, options: TransactionOptions = {}): Promise<Result> {
    if (options.writeBehind === true) return this.writes.run(() => this.writeBehind(work));
    return this.writes.run(async () => {
      this.assertOpen();
      const session = new SqliteSession(this.writerStatements);
      this.writerStatements.prepare('BEGIN IMMEDIATE').run();
      try {
        const result = await work(session);
        session.end();
        this.writerStatements.prepare('COMMIT').run();
        this.afterCommit(session.changes);
        return result;
      } catch (error) {
        session.end();
        if (this.writer.inTransaction) this.writerStatements.prepare('ROLLBACK').run();
        throw error;
      }
    });
  }

  /**
   * A transaction on the writer thread's connection: the caller's writes are carried out behind it. Transactions run
   * one at a time whichever connection they use, so the two writers never contend for the file's lock.
   */
  private async writeBehind<Result>(work: (transaction: ReadModelTransaction) => Promise<Result>): Promise<Result> {
    this.assertOpen();
    this.writerThread ??= new ReadModelWriterThread({ path: this.path, busyTimeoutMs: this.busyTimeoutMs });
    const thread = this.writerThread;
    thread.begin();
    const session = thread.session();
    try {
      const result = await work(session);
      session.end();
      this.afterCommit(await thread.commit());
      return result;
    } catch (error) {
      session.abandon();
      await thread.rollback();
      throw error;
    }
  }

  read<Result>(work: (reader: ReadModelReader) => Promise<Result>): Promise<Result> {
    return this.reads.run(async () => {
      this.assertOpen();
      const session = new SqliteSession(this.readerStatements);
      // A deferred transaction pins one snapshot for every statement of this read.
      this.readerStatements.prepare('BEGIN').run();
      try {
        return await work(session);
      } finally {
        session.end();
        if (this.reader.inTransaction) this.readerStatements.prepare('COMMIT').run();
      }
    });
  }

  async query<Row>(sql: string, parameters: readonly SqlParameter[] = []): Promise<Row[]> {
    assertSelect(sql);
    // Outside a transaction, one statement reads one snapshot (autocommit).
    return this.reads.run(async () => {
      this.assertOpen();
      return this.readerStatements.prepare(sql).all(parameters) as Row[];
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Let running work finish before the connections go.
    await Promise.all([this.writes.run(async () => undefined), this.reads.run(async () => undefined)]);
    this.closed = true;
    await this.writerThread?.close();
    await this.checkpointer?.close();
    this.reader.close();
    this.writer.close();
  }

  private afterCommit(changes: number): void {
    if (this.checkpointer === null && changes >= LARGE_TRANSACTION_ROWS) {
      this.checkpointer = new WalCheckpointer({ path: this.path, busyTimeoutMs: this.busyTimeoutMs });
    }
    if (this.checkpointer === null || !this.checkpointer.running) {
      // No thread (small commits), or it could not open the file: checkpoint here, between transactions.
      this.rowsSinceCheckpoint += changes;
      if (this.rowsSinceCheckpoint < ROWS_PER_INLINE_CHECKPOINT) return;
      this.rowsSinceCheckpoint = 0;
      this.writerStatements.prepare('PRAGMA wal_checkpoint(PASSIVE)').run();
      return;
    }
    const now = performance.now();
    if (now - this.checkpointRequestedAt < CHECKPOINT_INTERVAL_MS) return;
    this.checkpointRequestedAt = now;
    this.checkpointer.request();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('The read-model database is closed');
  }
}
