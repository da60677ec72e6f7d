import { createRequire } from 'node:module';
import type { MessagePort } from 'node:worker_threads';
import { Worker } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';
import type { ReadModelTransaction, SqlParameter } from '#lib/projections/read-model.port.js';

/**
 * Carries out a read-model transaction's writes on a thread of its own, with its own connection, behind the caller:
 * `run` and `runMany` hand their rows over and return at once, while the thread inserts them; reads (`get`, `all`)
 * and the commit wait for the thread to reach them, so they see every write made before them. A failed write fails
 * the transaction: the next read and the commit reject, and the thread rolls back.
 *
 * Used for catch-up transactions (a rebuild), where writing rows is about a quarter of the work: the projections go
 * on computing while their rows are written, and handing a row over costs about a sixth of writing it.
 */

type ToWriterThread =
  | { op: 'begin' }
  | { op: 'run'; sql: string; parameters: readonly SqlParameter[] }
  | { op: 'runMany'; sql: string; rows: readonly (readonly SqlParameter[])[] }
  | { op: 'get' | 'all'; id: number; sql: string; parameters: readonly SqlParameter[] }
  | { op: 'commit' | 'rollback'; id: number }
  | { op: 'close' };

interface ThreadError {
  message: string;
  code: string | null;
}

type FromWriterThread = { id: number; error: ThreadError } | { id: number; result: unknown };

interface WriterThreadEnvironment {
  port: MessagePort;
  Database: typeof BetterSqlite3;
  options: { path: string; busyTimeoutMs: number };
}

/** The thread's program: one connection, the messages in order. It runs from its source text (no imports). */
function runWriterThread(environment: WriterThreadEnvironment): void {
  const { port, Database, options } = environment;
  const db = new Database(options.path, { timeout: options.busyTimeoutMs });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('cache_size = -65536');
  db.pragma('temp_store = MEMORY');
  db.pragma('wal_autocheckpoint = 0');
  const statements = new Map<string, BetterSqlite3.Statement>();
  const prepare = (sql: string): BetterSqlite3.Statement => {
    let statement = statements.get(sql);
    if (statement === undefined) {
      if (statements.size >= 1000) statements.clear();
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
  const errorOf = (error: unknown): ThreadError => ({
    message: error instanceof Error ? error.message : String(error),
    code: typeof (error as { code?: unknown } | null)?.code === 'string' ? (error as { code: string }).code : null,
  });
  /** The first failure of the open transaction: later writes are skipped, and reads and the commit answer it. */
  let failure: ThreadError | null = null;
  let changes = 0;
  const rollBack = (): void => {
    if (db.inTransaction) prepare('ROLLBACK').run();
  };
  port.on('message', (message: ToWriterThread) => {
    switch (message.op) {
      case 'begin':
        failure = null;
        changes = 0;
        try {
          prepare('BEGIN IMMEDIATE').run();
        } catch (error) {
          failure = errorOf(error);
        }
        return;
      case 'run':
        if (failure !== null) return;
        try {
          changes += prepare(message.sql).run(message.parameters).changes;
        } catch (error) {
          failure = errorOf(error);
        }
        return;
      case 'runMany':
        if (failure !== null) return;
        try {
          const statement = prepare(message.sql);
          for (const row of message.rows) changes += statement.run(row).changes;
        } catch (error) {
          failure = errorOf(error);
        }
        return;
      case 'get':
      case 'all':
        if (failure !== null) {
          port.postMessage({ id: message.id, error: failure });
          return;
        }
        try {
          const statement = prepare(message.sql);
          port.postMessage({ id: message.id, result: message.op === 'get' ? statement.get(message.parameters) : statement.all(message.parameters) });
        } catch (error) {
          port.postMessage({ id: message.id, error: errorOf(error) });
        }
        return;
      case 'commit':
        if (failure !== null) {
          rollBack();
          port.postMessage({ id: message.id, error: failure });
          return;
        }
        try {
          prepare('COMMIT').run();
          port.postMessage({ id: message.id, result: changes });
        } catch (error) {
          rollBack();
          port.postMessage({ id: message.id, error: errorOf(error) });
        }
        return;
      case 'rollback':
        try {
          rollBack();
          port.postMessage({ id: message.id, result: null });
        } catch (error) {
          port.postMessage({ id: message.id, error: errorOf(error) });
        }
        return;
      case 'close':
        rollBack();
        db.close();
        port.close();
        return;
    }
  });
}

const WRITER_THREAD_SOURCE = `'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.betterSqlite3);
(${runWriterThread.toString()})({ port: parentPort, Database, options: workerData.options });
`;

const betterSqlite3Path = createRequire(import.meta.url).resolve('better-sqlite3');

/** A failure reported by the writer thread, with SQLite's error code when it has one. */
export class ReadModelWriteError extends Error {
  constructor(
    message: string,
    readonly code: string | null,
  ) {
    super(message);
    this.name = 'ReadModelWriteError';
  }
}

/** Rows handed over per message: large enough that posting costs little per row, small enough to die young. */
const ROWS_PER_MESSAGE = 512;

export class ReadModelWriterThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve(result: unknown): void; reject(error: Error): void }>();
  private nextId = 1;
  private stopped: Error | null = null;
  private readonly exited: Promise<void>;

  constructor(options: { path: string; busyTimeoutMs: number }) {
    this.worker = new Worker(WRITER_THREAD_SOURCE, { eval: true, workerData: { betterSqlite3: betterSqlite3Path, options } });
    this.worker.on('message', (message: FromWriterThread) => {
      const waiting = this.pending.get(message.id);
      if (waiting === undefined) return;
      this.pending.delete(message.id);
      if ('error' in message) waiting.reject(new ReadModelWriteError(message.error.message, message.error.code));
      else waiting.resolve(message.result);
    });
    this.worker.on('error', (error) => this.stop(error));
    this.exited = new Promise((resolve) =>
      this.worker.once('exit', (code) => {
        this.stop(new Error(`The read-model writer thread exited (code ${code})`));
        resolve();
      }),
    );
    this.worker.unref();
  }

  begin(): void {
    this.post({ op: 'begin' });
  }

  /** The commit's rows changed, once the thread has written and committed everything handed to it. */
  commit(): Promise<number> {
    return this.request({ op: 'commit', id: this.nextId++ }) as Promise<number>;
  }

  async rollback(): Promise<void> {
    if (this.stopped === null) await this.request({ op: 'rollback', id: this.nextId++ });
  }

  /** A session of the open transaction, whose writes go behind the caller. */
  session(): WriteBehindSession {
    return new WriteBehindSession(this);
  }

  post(message: ToWriterThread): void {
    if (this.stopped !== null) throw this.stopped;
    this.worker.postMessage(message);
  }

  request(message: Extract<ToWriterThread, { id: number }>): Promise<unknown> {
    if (this.stopped !== null) return Promise.reject(this.stopped);
    return new Promise((resolve, reject) => {
      this.pending.set(message.id, { resolve, reject });
      // Only while an answer is awaited does the thread keep the process alive.
      this.worker.ref();
      this.worker.postMessage(message);
    }).finally(() => {
      if (this.pending.size === 0) this.worker.unref();
    });
  }

  read(op: 'get' | 'all', sql: string, parameters: readonly SqlParameter[]): Promise<unknown> {
    return this.request({ op, id: this.nextId++, sql, parameters });
  }

  async close(): Promise<void> {
    if (this.stopped === null) {
      this.worker.ref();
      this.worker.postMessage({ op: 'close' } satisfies ToWriterThread);
    }
    await this.exited;
  }

  private stop(error: Error): void {
    this.stopped ??= error;
    for (const waiting of this.pending.values()) waiting.reject(this.stopped);
    this.pending.clear();
  }
}

/**
 * The transaction the projections see: writes are handed to the thread, reads wait for it. Rows of consecutive
 * `runMany` calls with the same statement (a projection writing one statement's lines after another's) travel
 * together, ROWS_PER_MESSAGE at a time: a message costs about as much as a few dozen rows.
 */
class WriteBehindSession implements ReadModelTransaction {
  private open = true;
  private pendingSql: string | null = null;
  private pendingRows: (readonly SqlParameter[])[] = [];

  constructor(private readonly thread: ReadModelWriterThread) {}

  /** Hands over what is still pending; nothing can be written through the session after. */
  end(): void {
    if (this.open) this.handOver();
    this.open = false;
  }

  /** Ends the session without handing anything more over: the transaction is being rolled back. */
  abandon(): void {
    this.pendingRows = [];
    this.open = false;
  }

  async run(sql: string, parameters: readonly SqlParameter[] = []): Promise<void> {
    this.assertOpen();
    this.handOver();
    this.thread.post({ op: 'run', sql, parameters });
  }

  async runMany(sql: string, rows: Iterable<readonly SqlParameter[]>): Promise<void> {
    this.assertOpen();
    if (this.pendingSql !== sql) {
      this.handOver();
      this.pendingSql = sql;
    }
    for (const row of rows) {
      this.pendingRows.push(row);
      if (this.pendingRows.length === ROWS_PER_MESSAGE) this.handOver();
    }
  }

  async get<Row>(sql: string, parameters: readonly SqlParameter[] = []): Promise<Row | undefined> {
    this.assertOpen();
    this.handOver();
    return (await this.thread.read('get', sql, parameters)) as Row | undefined;
  }

  async all<Row>(sql: string, parameters: readonly SqlParameter[] = []): Promise<Row[]> {
    this.assertOpen();
    this.handOver();
    return (await this.thread.read('all', sql, parameters)) as Row[];
  }

  private handOver(): void {
    if (this.pendingSql !== null && this.pendingRows.length > 0) this.thread.post({ op: 'runMany', sql: this.pendingSql, rows: this.pendingRows });
    this.pendingRows = [];
  }

  private assertOpen(): void {
    if (!this.open) throw new Error('This read-model transaction has already ended');
  }
}

export type { WriteBehindSession };
