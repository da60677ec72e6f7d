import { createRequire } from 'node:module';
import type { MessagePort } from 'node:worker_threads';
import { Worker } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';
import { GENESIS_HASH, canonicalEventText, chainHash, type ChainedEventFields } from './event-hash-chain.js';

/**
 * Writes decided rows to the log. The main thread decides every append (expected revisions, duplicate
 * ids, positions, revisions) against its key directory and hands the rows of whole appends to a log
 * writer, which:
 *
 * - opens a transaction for the first rows it gets: BEGIN IMMEDIATE (SQLite's write lock, shared by
 *   every process on the file), then a check that the file's head is the position those rows were
 *   decided to follow;
 * - chains the hashes on from the head's hash and inserts the rows, as they arrive;
 * - commits (fsync) once the main thread's event-loop turn has ended, so the appends of one turn share
 *   one fsync, or earlier when it has caught up with a long turn and holds enough rows.
 *
 * A head further on than expected means another process wrote in between: nothing is written and the
 * main thread decides those appends again. A failed transaction is rolled back and reported; every later
 * message of the same generation is dropped unanswered, because it was decided after rows that were
 * never written (the main thread decides those again).
 *
 * The same writer runs in two places. A turn of a few appends is written on the main thread, on the
 * store's own connection, as soon as the turn ends: handing it to another thread would cost more than
 * it saves. A long turn (bulk appends) goes to a writer thread with its own connection as it is
 * decided, so inserting, hashing and the fsync run while the main thread decides the rest.
 */

export interface LogWriterPolicy {
  /** When caught up in the middle of a turn, commit if the transaction holds at least this many rows. */
  commitMidTurnRows: number;
  /** Commit once a transaction holds this many rows, whatever else is waiting. */
  maxRowsPerCommit: number;
}

/** The rows of one accepted append: row i has revision `firstRevision + i`. */
export interface AppendRows {
  streamId: string;
  firstRevision: number;
  eventIds: string[];
  types: string[];
  schemaVersions: number[];
  dataJsons: string[];
  metadataJsons: string[];
}

/** Rows of whole appends, at positions `firstPosition`, `firstPosition + 1`, ... in order. */
export interface RowsMessage {
  kind: 'rows';
  /** Bumped by the main thread each time it takes its uncommitted appends back after a failure. */
  generation: number;
  firstPosition: number;
  recordedAt: string;
  appends: AppendRows[];
  /** The main thread's turn ended with this message (which may hold no rows). */
  endOfTurn: boolean;
}

export type WriterResult =
  | { kind: 'committed'; generation: number; firstPosition: number; throughPosition: number }
  | {
      kind: 'failed';
      generation: number;
      /** The rows of the transaction that was rolled back. */
      firstPosition: number;
      throughPosition: number;
      /** Another process committed first: the rows were not tried, and may be decided again. */
      stale: boolean;
      error: { message: string; code?: string };
    };

export interface LogWriter {
  /** Takes a message's rows into the open transaction (opening one), committing when the policy says so. */
  take(message: RowsMessage): void;
  /** Commits the open transaction if the turn it belongs to has ended or it holds enough rows. */
  commitIfDue(): void;
  inTransaction(): boolean;
}

/** What createLogWriter may use: it also runs from its source text on the writer thread (no imports). */
interface LogWriterEnvironment {
  db: BetterSqlite3.Database;
  chainHash(previousHash: string, fields: ChainedEventFields): string;
  genesisHash: string;
  policy: LogWriterPolicy;
  /** Gets every commit and every failure, in order; called last, once the writer's state is settled. */
  report(result: WriterResult): void;
}

/**
 * The log writer over one connection. It runs from its source text on the writer thread (see
 * WRITER_THREAD_SOURCE), so it must use only its parameter and globals: no imports, no module-level names.
 */
export function createLogWriter(environment: LogWriterEnvironment): LogWriter {
  const { db, chainHash, genesisHash, policy, report } = environment;
  const COLUMNS = 10;
  const ROWS_PER_INSERT = 32;

  const begin = db.prepare('BEGIN IMMEDIATE');
  const commit = db.prepare('COMMIT');
  const rollback = db.prepare('ROLLBACK');
  const selectHead = db.prepare('SELECT position, hash FROM events ORDER BY position DESC LIMIT 1').raw();
  const insertByRowCount: BetterSqlite3.Statement[] = [];
  for (let rowCount = 1; rowCount <= ROWS_PER_INSERT; rowCount *= 2) {
    const rows = Array.from({ length: rowCount }, () => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ');
    insertByRowCount[rowCount] = db.prepare(
      `INSERT INTO events (position, stream_id, revision, event_id, type, schema_version, data, metadata, recorded_at, hash) VALUES ${rows}`,
    );
  }

  interface OpenTransaction {
    generation: number;
    firstPosition: number;
    /** The last position of the rows taken into it. */
    throughPosition: number;
    rows: number;
    hash: string;
    /** Values of rows not yet inserted, COLUMNS per row (inserted ROWS_PER_INSERT rows at a time). */
    unbound: unknown[];
    turnEnded: boolean;
  }
  let transaction: OpenTransaction | null = null;
  let deadGeneration = -1;

  function take(message: RowsMessage): void {
    if (message.generation <= deadGeneration) return;
    let rowCount = 0;
    for (const rows of message.appends) rowCount += rows.eventIds.length;
    if (rowCount === 0) {
      if (transaction !== null) transaction.turnEnded ||= message.endOfTurn;
      return;
    }
    const current = transaction ?? open(message, rowCount);
    if (current === null) return;
    transaction = current;
    try {
      if (message.firstPosition !== current.throughPosition + 1) {
        throw new Error(`Rows at position ${message.firstPosition} do not follow position ${current.throughPosition}`);
      }
      current.throughPosition += rowCount;
      current.rows += rowCount;
      current.turnEnded ||= message.endOfTurn;
      const { recordedAt } = message;
      let { hash, unbound } = current;
      let position = message.firstPosition;
      for (const rows of message.appends) {
        const { streamId, firstRevision, eventIds, types, schemaVersions, dataJsons, metadataJsons } = rows;
        for (let index = 0; index < eventIds.length; index++, position++) {
          const revision = firstRevision + index;
          const eventId = eventIds[index];
          const type = types[index];
          const schemaVersion = schemaVersions[index];
          const dataJson = dataJsons[index];
          const metadataJson = metadataJsons[index];
          hash = chainHash(hash, { position, streamId, revision, eventId, type, schemaVersion, dataJson, metadataJson, recordedAt });
          unbound.push(position, streamId, revision, eventId, type, schemaVersion, dataJson, metadataJson, recordedAt, hash);
          if (unbound.length === ROWS_PER_INSERT * COLUMNS) {
            insertByRowCount[ROWS_PER_INSERT].run(unbound);
            unbound = [];
          }
        }
      }
      current.hash = hash;
      current.unbound = unbound;
    } catch (error) {
      fail(current.generation, current.firstPosition, current.throughPosition, false, error);
      return;
    }
    if (current.rows >= policy.maxRowsPerCommit) commitOpen();
  }

  /** BEGIN IMMEDIATE, then checks that the file ends where `message` was decided to follow. */
  function open(message: RowsMessage, rowCount: number): OpenTransaction | null {
    const { generation, firstPosition } = message;
    const throughPosition = firstPosition + rowCount - 1;
    try {
      begin.run();
      const head = selectHead.get() as [number, string] | undefined;
      const headPosition = head?.[0] ?? 0;
      if (headPosition === firstPosition - 1) {
        const hash = head?.[1] ?? genesisHash;
        return { generation, firstPosition, throughPosition: firstPosition - 1, rows: 0, hash, unbound: [], turnEnded: false };
      }
      const stale = headPosition > firstPosition - 1;
      const reason = stale
        ? `Another process committed up to position ${headPosition} first`
        : `The event store file ends at position ${headPosition}, before position ${firstPosition - 1} that this store saw committed`;
      fail(generation, firstPosition, throughPosition, stale, new Error(reason));
    } catch (error) {
      fail(generation, firstPosition, throughPosition, false, error);
    }
    return null;
  }

  function commitIfDue(): void {
    if (transaction !== null && (transaction.turnEnded || transaction.rows >= policy.commitMidTurnRows)) commitOpen();
  }

  function commitOpen(): void {
    const current = transaction as OpenTransaction;
    try {
      // The remainder, in statements of 16, 8, ... rows.
      const { unbound } = current;
      let offset = 0;
      for (let rowCount = ROWS_PER_INSERT / 2; rowCount >= 1; rowCount /= 2) {
        if (unbound.length - offset >= rowCount * COLUMNS) {
          insertByRowCount[rowCount].run(unbound.slice(offset, offset + rowCount * COLUMNS));
          offset += rowCount * COLUMNS;
        }
      }
      commit.run();
    } catch (error) {
      fail(current.generation, current.firstPosition, current.throughPosition, false, error);
      return;
    }
    transaction = null;
    report({ kind: 'committed', generation: current.generation, firstPosition: current.firstPosition, throughPosition: current.throughPosition });
  }

  function fail(generation: number, firstPosition: number, throughPosition: number, stale: boolean, error: unknown): void {
    try {
      if (db.inTransaction) rollback.run();
    } finally {
      transaction = null;
      deadGeneration = generation;
      const { message, code } = error as { message?: unknown; code?: unknown };
      report({
        kind: 'failed',
        generation,
        firstPosition,
        throughPosition,
        stale,
        error: { message: String(message ?? error), ...(typeof code === 'string' ? { code } : {}) },
      });
    }
  }

  return { take, commitIfDue, inTransaction: () => transaction !== null };
}

export interface WriterThreadOptions {
  path: string;
  busyTimeoutMs: number;
  policy: LogWriterPolicy;
  /** Checkpoint the write-ahead log when idle after this many committed rows (four times this when never idle). */
  checkpointRows: number;
}

type ToWriterThread = RowsMessage | { kind: 'close' };

/** What runWriterThread may use: it runs from its source text (no imports). */
interface WriterThreadEnvironment {
  port: MessagePort;
  receiveMessageOnPort(port: MessagePort): { message: unknown } | undefined;
  Database: typeof BetterSqlite3;
  createLogWriter: typeof createLogWriter;
  chainHash(previousHash: string, fields: ChainedEventFields): string;
  genesisHash: string;
  options: WriterThreadOptions;
}

/**
 * The writer thread's program: takes every message that has arrived, then commits if due. Its connection
 * checkpoints the write-ahead log between commits, when idle, rather than inside a COMMIT (SQLite's
 * automatic checkpoint), so the appends waiting on a commit do not wait for a checkpoint as well.
 */
function runWriterThread(environment: WriterThreadEnvironment): void {
  const { port, receiveMessageOnPort, Database, createLogWriter, chainHash, genesisHash, options } = environment;
  const db = new Database(options.path, { timeout: options.busyTimeoutMs });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('wal_autocheckpoint = 0');
  const walCheckpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
  let rowsSinceCheckpoint = 0;
  const writer = createLogWriter({
    db,
    chainHash,
    genesisHash,
    policy: options.policy,
    report(result) {
      if (result.kind === 'committed') rowsSinceCheckpoint += result.throughPosition - result.firstPosition + 1;
      port.postMessage(result);
    },
  });
  const takeWaiting = () => receiveMessageOnPort(port)?.message as ToWriterThread | undefined;

  port.on('message', (first: ToWriterThread) => {
    let message: ToWriterThread | undefined = first;
    for (;;) {
      for (; message !== undefined; message = takeWaiting()) {
        if (message.kind === 'close') {
          db.close();
          port.close();
          return;
        }
        writer.take(message);
      }
      // Caught up with what the main thread has sent so far.
      writer.commitIfDue();
      if (writer.inTransaction() || rowsSinceCheckpoint < options.checkpointRows) return;
      message = takeWaiting();
      if (message === undefined || rowsSinceCheckpoint >= 4 * options.checkpointRows) {
        rowsSinceCheckpoint = 0;
        try {
          // PASSIVE: copies what it can without waiting for readers; what is left goes next time.
          walCheckpoint.run();
        } catch {
          // Another connection holds the checkpoint lock: it is checkpointing already.
        }
      }
      if (message === undefined) return;
    }
  });
}

/**
 * The writer thread's source: the log writer and the chain's hash function as text, so the same code
 * runs from the TypeScript sources (tests) and from the build, and the chain has one definition.
 */
const WRITER_THREAD_SOURCE = `'use strict';
const { parentPort, receiveMessageOnPort, workerData } = require('node:worker_threads');
const { hash } = require('node:crypto');
const Database = require(workerData.betterSqlite3);
${canonicalEventText.toString()}
${chainHash.toString()}
${createLogWriter.toString()}
(${runWriterThread.toString()})({
  port: parentPort,
  receiveMessageOnPort,
  Database,
  createLogWriter,
  chainHash,
  genesisHash: ${JSON.stringify(GENESIS_HASH)},
  options: workerData.options,
});
`;

const betterSqlite3Path = createRequire(import.meta.url).resolve('better-sqlite3');

export interface WriterThreadHandlers {
  report(result: WriterResult): void;
  /** The thread stopped without being asked to (it could not open the file, or crashed). */
  stopped(error: Error): void;
}

/** The main thread's handle on a writer thread. */
export class WriterThread {
  private readonly worker: Worker;
  private readonly exited: Promise<void>;
  private closing = false;

  constructor(options: WriterThreadOptions, handlers: WriterThreadHandlers) {
    this.worker = new Worker(WRITER_THREAD_SOURCE, { eval: true, workerData: { betterSqlite3: betterSqlite3Path, options } });
    let failure: Error | undefined;
    this.worker.on('message', handlers.report);
    this.worker.on('error', (error) => (failure = error));
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', (code) => {
        if (!this.closing) handlers.stopped(failure ?? new Error(`The event store's writer thread exited with code ${code}`));
        resolve();
      });
    });
    this.worker.unref();
  }

  send(message: RowsMessage): void {
    this.worker.postMessage(message);
  }

  /** While rows are in flight the thread keeps the process alive; when idle it does not. */
  keepAlive(busy: boolean): void {
    if (busy) this.worker.ref();
    else this.worker.unref();
  }

  /** Call once nothing is in flight: closes the thread's connection and waits for the thread to end. */
  async close(): Promise<void> {
    this.closing = true;
    this.worker.ref();
    this.worker.postMessage({ kind: 'close' } satisfies ToWriterThread);
    await this.exited;
  }
}
