import { closeSync, fdatasync, fdatasyncSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import {
  ConcurrencyError,
  DuplicateEventIdError,
  type AppendResult,
  type EventFilter,
  type EventStore,
  type ExpectedRevision,
  type NewEvent,
  type ReadAllOptions,
  type ReadAllPagesOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type SubscribeOptions,
  type Subscription,
} from '../event-store.port.js';
import { CatchUpReaderThread } from './catch-up-reader.js';
import { GENESIS_HASH, chainHash } from './event-hash-chain.js';
import { WriterThread, createLogWriter, type AppendRows, type LogWriter, type RowsMessage, type WriterResult } from './log-writer.js';
import { KeyDirectory } from './key-directory.js';
import { EVENT_COLUMNS, ensureStoreSchema } from './sqlite-schema.js';
import { SqliteSubscription, type SubscriptionPage } from './sqlite-subscription.js';

export interface SqliteEventStoreOptions {
  /** The store file; its folder is created when missing. */
  path: string;
  /** System clock for `recordedAt`. Default: the real clock. */
  now?: () => Date;
  /**
   * How often an idle subscription looks for events that another process wrote to the same file.
   * Events written through this instance wake subscribers at once. Default 100 ms.
   */
  pollIntervalMs?: number;
  /** How long to wait for another process's write lock before an append fails. Default 5000 ms. */
  busyTimeoutMs?: number;
  /** Events a catch-up subscription reads per query. Default 2000. */
  subscriptionPageSize?: number;
  /**
   * An event-loop turn that decides at most this many events is written on the calling thread when it
   * ends; a longer turn goes to the writer thread as it is decided. Default 256; 0 sends every turn to
   * the writer thread.
   */
  inlineTurnRows?: number;
  /**
   * A turn written on the calling thread is committed in parts of at least this many rows (whole appends), so that
   * the sync of one part overlaps the writing of the next and the callers of the first go on while the next syncs.
   * Default 32; 0 commits every append on its own.
   */
  inlineCommitRows?: number;
  /**
   * `readAllPages` reads ahead on a reader thread of its own when at least this many events lie between its start
   * and the head; a shorter read stays on the calling thread (starting a thread costs a few tens of milliseconds).
   * Default 20,000; 0 always uses the thread.
   */
  catchUpThreadMinEvents?: number;
}

/**
 * A turn that decides at most this many rows is written on the main thread when it ends; a longer one
 * goes to the writer thread as it is decided (see log-writer.ts). The single-event appends of many
 * concurrent writers make short turns; bulk appends make long ones.
 */
const DEFAULT_INLINE_TURN_ROWS = 256;
/** While the writer thread has rows in flight, decided rows follow them in messages of about this many. */
const ROWS_PER_MESSAGE = 32;
/**
 * The writer thread commits before the turn ends when it has caught up and holds this many rows, so a
 * long turn is committed in parts, each fsync overlapping the deciding of the next part.
 */
const COMMIT_MID_TURN_ROWS = 256;
/** A turn written on the main thread is committed in parts of at least this many rows (whole appends); see flushTurn. */
const DEFAULT_INLINE_COMMIT_ROWS = 32;
/** Bounds one transaction (and the latency of the appends at its front) when appends keep arriving. */
const MAX_ROWS_PER_COMMIT = 16_384;
/** Pages a catch-up reader thread reads ahead of its caller: enough to keep it busy, little memory. */
const CATCH_UP_PAGES_AHEAD = 2;
/** The writer thread checkpoints about every 4 MiB of log, as SQLite does by default (1000 pages of 4 KiB). */
const CHECKPOINT_ROWS = 4_000;

/** A row as read from the events table, in EVENT_COLUMNS order. */
type EventRow = [
  position: number,
  streamId: string,
  revision: number,
  eventId: string,
  type: string,
  schemaVersion: number,
  dataJson: string,
  metadataJson: string,
  recordedAt: string,
];

/** What the idempotency check compares with an already recorded event. */
type RecordedContentRow = [streamId: string, revision: number, type: string, schemaVersion: number, dataJson: string];

type KeyRow = [position: number, streamId: string, revision: number, eventId: string];

type Outcome = AppendResult | ConcurrencyError | DuplicateEventIdError;

interface PendingAppend {
  /**
   * What the append writes, taken from the caller's events when append is called (data and metadata
   * serialized then), so later mutation of the caller's objects changes nothing and they are not kept.
   * `firstRevision` is set when the append is accepted.
   */
  rows: AppendRows;
  expectedRevision: ExpectedRevision;
  resolve(result: AppendResult): void;
  reject(error: unknown): void;
  /** Set when decided; delivered once everything up to `horizon` is committed. */
  outcome: Outcome | null;
  /** The position of its first row, or 0 when it writes none. */
  firstPosition: number;
  /** The last position decided when this append was decided: its outcome rests on everything up to there. */
  horizon: number;
}

/**
 * The embedded event store: one local SQLite file (WAL, every acknowledged commit synced), so an append resolves only
 * after its transaction is committed and fsynced.
 *
 * Appends are decided when they are called, in call order, each on its own, as if they ran one after
 * another: the expected revision and event ids are checked against the key directory, which already
 * holds every earlier decided append, committed or not. A rejected append (wrong expected revision,
 * duplicate event id) writes nothing and leaves the others alone. Accepted appends get their positions
 * and revisions here; a log writer (`log-writer.ts`) writes their rows. The rows decided in one
 * event-loop turn share one transaction and one fsync: a short turn is written on this thread when it
 * ends, a long one by the writer thread while this thread goes on deciding. Every outcome, a rejection
 * included, is delivered only once everything decided before it is committed; if a commit fails, the
 * appends in it fail and every later one is decided again from the file.
 *
 * Several processes may open the same file. Each writer takes SQLite's write lock (waiting up to the
 * busy timeout) and checks that the file's head is where its rows were decided to follow; if another
 * process got there first, this instance reads the new rows into its key directory and decides again.
 */
export class SqliteEventStore implements EventStore {
  private readonly db: Database.Database;
  private readonly path: string;
  private readonly now: () => Date;
  private readonly pollIntervalMs: number;
  private readonly busyTimeoutMs: number;
  private readonly subscriptionPageSize: number;
  private readonly inlineTurnRows: number;
  private readonly inlineCommitRows: number;
  private readonly catchUpThreadMinEvents: number;

  private readonly selectDataVersion: Database.Statement;
  private readonly selectHeadPosition: Database.Statement;
  private readonly selectKeysAfter: Database.Statement;
  private readonly selectContentAt: Database.Statement;
  private readonly selectAtPositions: Database.Statement;
  private readonly selectStreamAfter: Database.Statement;
  private readonly selectAllCache = new Map<string, Database.Statement>();

  private closed = false;
  private readonly subscriptions = new Set<SqliteSubscription>();
  private readonly catchUpReaders = new Set<CatchUpReaderThread>();

  /**
   * Built on first use (an append or a stream read), so processes that only subscribe never pay for it.
   * Holds the file's events through `committedThrough`, then this instance's decided, uncommitted ones.
   */
  private keys: KeyDirectory | null = null;
  /** Every event up to here is committed, and the key directory matches the file up to here. */
  private committedThrough = 0;
  /** PRAGMA data_version when `keys` was last brought up to date; it moves when another connection commits. */
  private syncedDataVersion = -1;

  /** Decided appends whose outcome waits for a commit, in decision order (so in horizon order). */
  private unsettled: PendingAppend[] = [];
  private unsettledStart = 0;
  /** Decided rows not yet written or sent to the writer thread. */
  private outgoing: RowsMessage | null = null;
  private outgoingRows = 0;
  /** Rows went to the writer thread in this turn before its end: the thread waits for the end-of-turn message. */
  private sentMidTurn = false;
  /** The last position sent to the writer thread: it has rows in flight while this is past `committedThrough`. */
  private sentThrough = 0;
  /** One clock reading per event-loop turn: the recordedAt of every event decided in it. */
  private turnRecordedAt: string | null = null;
  private generation = 0;
  /** Writes short turns on this thread, on the store's own connection. */
  private inlineWriter: LogWriter | null = null;
  /** Started for the first long turn. */
  private writerThread: WriterThread | null = null;
  /** The write-ahead log file, opened for flushLog by the first commit on this thread. */
  private walFd: number | null = null;
  /** Rows committed on this thread are in the file through here; acknowledged once flushLog has synced them. */
  private writtenThrough = 0;
  private flushing = false;
  private readonly settledWaiters: (() => void)[] = [];

  static open(options: SqliteEventStoreOptions): SqliteEventStore {
    return new SqliteEventStore(options);
  }

  private constructor(options: SqliteEventStoreOptions) {
    if (options.path === '' || options.path === ':memory:') {
      throw new TypeError('The embedded event store needs a file path: its writer thread opens the file by name');
    }
    mkdirSync(dirname(options.path), { recursive: true });
    this.path = options.path;
    this.now = options.now ?? (() => new Date());
    this.pollIntervalMs = options.pollIntervalMs ?? 100;
    this.busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    this.subscriptionPageSize = options.subscriptionPageSize ?? 2000;
    this.inlineTurnRows = options.inlineTurnRows ?? DEFAULT_INLINE_TURN_ROWS;
    this.inlineCommitRows = options.inlineCommitRows ?? DEFAULT_INLINE_COMMIT_ROWS;
    this.catchUpThreadMinEvents = options.catchUpThreadMinEvents ?? 20_000;

    this.db = new Database(options.path, { timeout: this.busyTimeoutMs });
    try {
      // Takes effect only when this creates the file. With rows of about 1 KiB, 8 KiB pages make a
      // checkpoint (copying the write-ahead log into the file) about a fifth cheaper than SQLite's default
      // 4 KiB, while a commit of a few rows rewrites less of its last, partly filled page than with larger ones.
      this.db.pragma('page_size = 8192');
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      ensureStoreSchema(this.db);
      // Commits on this connection write the log without syncing it; flushLog syncs it before any of them is
      // acknowledged (see there). Checkpoints still sync the log before copying it and the file after.
      this.db.pragma('synchronous = NORMAL');
    } catch (error) {
      this.db.close();
      throw error;
    }

    this.selectDataVersion = this.db.prepare('PRAGMA data_version').pluck();
    this.selectHeadPosition = this.db.prepare('SELECT coalesce(max(position), 0) FROM events').pluck();
    this.selectKeysAfter = this.db
      .prepare('SELECT position, stream_id, revision, event_id FROM events WHERE position > ? ORDER BY position')
      .raw();
    this.selectContentAt = this.db
      .prepare('SELECT stream_id, revision, type, schema_version, data FROM events WHERE position = ?')
      .raw();
    this.selectAtPositions = this.db
      .prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE position IN (SELECT value FROM json_each(?)) ORDER BY position`)
      .raw();
    this.selectStreamAfter = this.db
      .prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE position > ? AND stream_id = ? ORDER BY position`)
      .raw();
  }

  append(streamId: string, events: readonly NewEvent[], expectedRevision: ExpectedRevision): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new Error('The event store is closed'));
    let rows: AppendRows;
    try {
      rows = appendRows(streamId, events, expectedRevision);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<AppendResult>((resolve, reject) => {
      this.decide({ rows, expectedRevision, resolve, reject, outcome: null, firstPosition: 0, horizon: 0 });
    });
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const keys = this.currentKeys();
    const fromRevision = options.fromRevision ?? 0;
    const maxCount = options.maxCount ?? Number.POSITIVE_INFINITY;
    const committedThrough = this.committedThrough;
    const positions = keys.streamPositions(streamId, fromRevision, options.maxCount, committedThrough);
    const rows = positions.length === 0 ? [] : (this.selectAtPositions.all(JSON.stringify(positions)) as EventRow[]);
    if (this.hasUnsettled() && rows.length < maxCount) {
      // Rows committed after the last acknowledged commit: this instance's own, acknowledged any moment
      // now, or another process's, which the key directory reads in once nothing is in flight.
      for (const row of this.selectStreamAfter.iterate(committedThrough, streamId) as IterableIterator<EventRow>) {
        if (row[2] >= fromRevision && rows.length < maxCount) rows.push(row);
      }
    }
    return rows.map(toRecordedEvent);
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const statement = this.selectAllStatement(options.filter, true);
    const rows = statement.all(
      options.afterPosition ?? 0,
      this.visibleHead(),
      ...filterParameters(options.filter),
      options.maxCount ?? -1,
    ) as EventRow[];
    return rows.map(toRecordedEvent);
  }

  async *readAllPages(options: ReadAllPagesOptions): AsyncGenerator<RecordedEvent[], void, undefined> {
    this.assertOpen();
    const { pageSize, filter } = options;
    if (!Number.isInteger(pageSize) || pageSize <= 0) throw new RangeError(`pageSize must be a positive integer, not ${pageSize}`);
    let afterPosition = options.afterPosition ?? 0;
    if ((this.selectHeadPosition.get() as number) - afterPosition < this.catchUpThreadMinEvents) {
      for (;;) {
        const page = await this.readAll({ afterPosition, maxCount: pageSize, filter });
        if (page.length > 0) yield page;
        if (page.length < pageSize) return;
        afterPosition = page[page.length - 1].position;
      }
    }
    const reader = new CatchUpReaderThread({
      path: this.path,
      busyTimeoutMs: this.busyTimeoutMs,
      sql: this.selectAllSql(filter, false),
      filterParameters: filterParameters(filter),
      afterPosition,
      pageSize,
      pagesAhead: CATCH_UP_PAGES_AHEAD,
    });
    this.catchUpReaders.add(reader);
    try {
      for (;;) {
        this.assertOpen();
        const rows = (await reader.nextPage()) as EventRow[];
        const visibleHead = this.visibleHead();
        if (rows.length > 0 && rows[rows.length - 1][0] > visibleHead) {
          // The end of the log holds this instance's commits that are not synced yet: the read ends before them.
          const visible = rows.filter((row) => row[0] <= visibleHead);
          if (visible.length > 0) yield visible.map(toRecordedEvent);
          return;
        }
        if (rows.length > 0) yield rows.map(toRecordedEvent);
        if (rows.length < pageSize) return;
      }
    } finally {
      this.catchUpReaders.delete(reader);
      await reader.close();
    }
  }

  subscribeToAll(options: SubscribeOptions = {}): Subscription {
    this.assertOpen();
    const subscription = new SqliteSubscription(
      {
        readPage: (afterPosition) => this.readSubscriptionPage(afterPosition, options.filter),
        detach: (detached) => this.subscriptions.delete(detached),
      },
      options.afterPosition ?? 0,
      this.pollIntervalMs,
    );
    this.subscriptions.add(subscription);
    return subscription;
  }

  async headPosition(): Promise<number> {
    this.assertOpen();
    return this.visibleHead();
  }

  /**
   * The file's head, but not past this instance's commits that are written and not yet synced (see flushLog): what
   * this process reads from the log is never lost by a power failure.
   */
  private visibleHead(): number {
    const head = this.selectHeadPosition.get() as number;
    return this.writtenThrough > this.committedThrough ? Math.min(head, this.committedThrough) : head;
  }

  /** Commits what is decided, ends every subscription, then closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.flushTurn();
    if (this.hasUnsettled()) await new Promise<void>((resolve) => this.settledWaiters.push(resolve));
    await this.writerThread?.close();
    this.writerThread = null;
    if (this.walFd !== null) closeSync(this.walFd);
    this.walFd = null;
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
    await Promise.all([...this.catchUpReaders].map((reader) => reader.close()));
    this.db.close();
  }

  /** Judges one append against everything decided before it; its outcome waits for those to commit. */
  private decide(pending: PendingAppend): void {
    try {
      const keys = this.currentKeys();
      try {
        pending.outcome = this.judge(keys, pending);
      } catch (error) {
        if (!isRejectionOfOneAppend(error)) throw error;
        pending.outcome = error;
      }
      pending.horizon = keys.throughPosition;
    } catch (error) {
      // Reading the file failed; nothing was decided.
      pending.reject(error);
      return;
    }
    if (!this.hasUnsettled() && pending.horizon <= this.committedThrough) {
      settle(pending);
      return;
    }
    this.unsettled.push(pending);
    if (this.outgoingRows > (this.threadInFlight() ? ROWS_PER_MESSAGE : this.inlineTurnRows)) this.sendToThread(false);
  }

  /**
   * Decides from the key directory and, when accepted, adds the append's rows to the outgoing message.
   * Throws ConcurrencyError or DuplicateEventIdError, before changing anything, to reject this append alone.
   */
  private judge(keys: KeyDirectory, pending: PendingAppend): AppendResult {
    const { rows, expectedRevision } = pending;
    const { streamId, eventIds } = rows;
    const replayed = this.findIdempotentReplay(keys, pending);
    if (replayed) return replayed;
    const actualRevision = keys.lastRevision(streamId);
    if (!revisionMatches(expectedRevision, actualRevision)) {
      throw new ConcurrencyError(streamId, expectedRevision, actualRevision);
    }
    const count = eventIds.length;
    if (count === 0) {
      return { nextExpectedRevision: actualRevision, position: keys.positionAtRevision(streamId, actualRevision) ?? 0 };
    }

    const firstPosition = keys.throughPosition + 1;
    for (let index = 0; index < count; index++) keys.add(firstPosition + index, streamId, actualRevision + 1 + index, eventIds[index]);
    rows.firstRevision = actualRevision + 1;
    this.outgoingFrom(firstPosition).appends.push(rows);
    this.outgoingRows += count;
    pending.firstPosition = firstPosition;
    return { nextExpectedRevision: actualRevision + count, position: firstPosition + count - 1 };
  }

  /**
   * An append whose event ids are all recorded already, in this stream, consecutively, at the places its
   * expected revision names and with the same content, is a retry: it gets the first answer again.
   * Returns undefined when none of its ids is recorded; throws DuplicateEventIdError for anything between.
   */
  private findIdempotentReplay(keys: KeyDirectory, pending: PendingAppend): AppendResult | undefined {
    const { rows, expectedRevision } = pending;
    const { streamId, eventIds, types, schemaVersions, dataJsons } = rows;
    let recordedCount = 0;
    for (const eventId of eventIds) if (keys.positionOfEvent(eventId) !== undefined) recordedCount++;
    if (recordedCount === 0) return undefined;

    const firstPosition = keys.positionOfEvent(eventIds[0]);
    if (recordedCount < eventIds.length || firstPosition === undefined) {
      const offending = eventIds.find((eventId) => keys.positionOfEvent(eventId) !== undefined) as string;
      throw new DuplicateEventIdError(offending);
    }
    const firstRevisionExpected =
      expectedRevision === 'no_stream' ? 0 : typeof expectedRevision === 'number' ? expectedRevision + 1 : undefined;
    let startRevision = -1;
    let lastPosition = 0;
    for (let index = 0; index < eventIds.length; index++) {
      lastPosition = keys.positionOfEvent(eventIds[index]) as number;
      const [recordedStreamId, revision, type, schemaVersion, dataJson] = this.recordedContentAt(lastPosition);
      if (index === 0) startRevision = revision;
      if (
        recordedStreamId !== streamId ||
        revision !== startRevision + index ||
        (firstRevisionExpected !== undefined && startRevision !== firstRevisionExpected) ||
        type !== types[index] ||
        schemaVersion !== schemaVersions[index] ||
        dataJson !== dataJsons[index]
      ) {
        throw new DuplicateEventIdError(eventIds[index]);
      }
    }
    return { nextExpectedRevision: startRevision + eventIds.length - 1, position: lastPosition };
  }

  /** A recorded event's content: from the file when committed, else from the append that decided it. */
  private recordedContentAt(position: number): RecordedContentRow {
    if (position <= this.committedThrough) return this.selectContentAt.get(position) as RecordedContentRow;
    for (let index = this.unsettled.length - 1; index >= this.unsettledStart; index--) {
      const { firstPosition, rows } = this.unsettled[index];
      const offset = position - firstPosition;
      if (firstPosition === 0 || offset < 0 || offset >= rows.eventIds.length) continue;
      return [rows.streamId, rows.firstRevision + offset, rows.types[offset], rows.schemaVersions[offset], rows.dataJsons[offset]];
    }
    throw new Error(`Event store position ${position} is neither committed nor decided`);
  }

  /**
   * The key directory. While appends are in flight it is used as it is: every commit checks the file's
   * head, which catches another process's writes. Otherwise it is first brought up to date with what
   * other connections committed.
   */
  private currentKeys(): KeyDirectory {
    if (this.keys !== null && this.hasUnsettled()) return this.keys;
    const dataVersion = this.selectDataVersion.get() as number;
    if (this.keys !== null && dataVersion === this.syncedDataVersion) return this.keys;
    const keys = this.keys ?? new KeyDirectory();
    for (const [position, streamId, revision, eventId] of this.selectKeysAfter.iterate(keys.throughPosition) as IterableIterator<KeyRow>) {
      keys.add(position, streamId, revision, eventId);
    }
    this.keys = keys;
    this.committedThrough = keys.throughPosition;
    this.syncedDataVersion = dataVersion;
    return keys;
  }

  /** The outgoing message, opened at `firstPosition` when there is none. */
  private outgoingFrom(firstPosition: number): RowsMessage {
    if (this.outgoing === null) {
      if (this.turnRecordedAt === null) {
        this.turnRecordedAt = this.now().toISOString();
        setImmediate(this.endTurn);
      }
      this.outgoing = { kind: 'rows', generation: this.generation, firstPosition, recordedAt: this.turnRecordedAt, appends: [], endOfTurn: false };
    }
    return this.outgoing;
  }

  private readonly endTurn = (): void => {
    this.turnRecordedAt = null;
    this.flushTurn();
  };

  /** Writes a short turn here and now, or tells the writer thread that the turn has ended. */
  private flushTurn(): void {
    const message = this.outgoing;
    if (message === null || this.sentMidTurn || this.threadInFlight() || this.outgoingRows > this.inlineTurnRows) {
      this.sendToThread(true);
      return;
    }
    this.outgoing = null;
    this.outgoingRows = 0;
    this.inlineWriter ??= createLogWriter({
      db: this.db,
      chainHash,
      genesisHash: GENESIS_HASH,
      policy: { commitMidTurnRows: COMMIT_MID_TURN_ROWS, maxRowsPerCommit: MAX_ROWS_PER_COMMIT },
      report: this.onInlineWriterResult,
    });
    // Commits of at least inlineCommitRows rows of whole appends each: the first one's sync runs while this thread writes the
    // next, and its appends are acknowledged (and their callers go on) while the next one syncs.
    let part: RowsMessage = { ...message, appends: [], endOfTurn: true };
    let partRows = 0;
    for (const rows of message.appends) {
      if (partRows > 0 && partRows >= this.inlineCommitRows) {
        this.inlineWriter.take(part);
        this.inlineWriter.commitIfDue();
        part = { ...message, firstPosition: part.firstPosition + partRows, appends: [], endOfTurn: true };
        partRows = 0;
      }
      part.appends.push(rows);
      partRows += rows.eventIds.length;
    }
    this.inlineWriter.take(part);
    this.inlineWriter.commitIfDue();
  }

  /**
   * Commits on this thread do not sync the log (synchronous=NORMAL): each is followed by an fdatasync of the log on
   * libuv's thread pool, and its appends are acknowledged only when that has returned. One sync runs at a time and
   * covers every commit before it started, so while one runs this thread goes on deciding and writing the next commit,
   * and the callers of the last one go on working. An acknowledged append is as durable as with synchronous=FULL.
   * Another process reading the file may see a commit a fraction of a millisecond before it is synced.
   */
  private readonly onInlineWriterResult = (result: WriterResult): void => {
    if (result.kind === 'committed') {
      this.writtenThrough = Math.max(this.writtenThrough, result.throughPosition);
      if (!this.flushing) this.flushLog();
      return;
    }
    // The failure path decides again from what the file holds: make what it holds durable and acknowledged first.
    if (this.writtenThrough > this.committedThrough) {
      fdatasyncSync(this.openWal());
      this.markCommitted(this.writtenThrough);
    }
    this.onWriterResult(result);
  };

  private flushLog(): void {
    const through = this.writtenThrough;
    this.flushing = true;
    fdatasync(this.openWal(), (error) => {
      this.flushing = false;
      if (error) {
        // What was written is in the file but not known to be on disk: those appends fail (a retry with the same
        // event ids is recognised once the key directory is read back from the file), and the rest are decided again.
        this.writtenThrough = this.committedThrough;
        this.redecideUncommitted(() => error);
        return;
      }
      this.markCommitted(through);
      if (this.writtenThrough > through) this.flushLog();
    });
  }

  private openWal(): number {
    this.walFd ??= openSync(`${this.path}-wal`, 'r');
    return this.walFd;
  }

  private markCommitted(through: number): void {
    if (through <= this.committedThrough) return;
    this.committedThrough = through;
    this.settleCommitted();
    for (const subscription of this.subscriptions) subscription.wake();
  }

  /** Sends the outgoing rows to the writer thread; at the end of a turn, says so (with no rows, when they went already). */
  private sendToThread(endOfTurn: boolean): void {
    let message = this.outgoing;
    if (message === null) {
      if (!endOfTurn || !this.sentMidTurn) return;
      message = { kind: 'rows', generation: this.generation, firstPosition: 0, recordedAt: '', appends: [], endOfTurn };
    }
    message.endOfTurn = endOfTurn;
    if (this.outgoingRows > 0) this.sentThrough = message.firstPosition + this.outgoingRows - 1;
    this.outgoing = null;
    this.outgoingRows = 0;
    this.sentMidTurn = !endOfTurn;
    if (this.writerThread === null) {
      this.writerThread = new WriterThread(
        {
          path: this.path,
          busyTimeoutMs: this.busyTimeoutMs,
          policy: { commitMidTurnRows: COMMIT_MID_TURN_ROWS, maxRowsPerCommit: MAX_ROWS_PER_COMMIT },
          checkpointRows: CHECKPOINT_ROWS,
        },
        { report: this.onWriterResult, stopped: this.onWriterStopped },
      );
    }
    this.writerThread.keepAlive(true);
    this.writerThread.send(message);
  }

  private threadInFlight(): boolean {
    return this.sentThrough > this.committedThrough;
  }

  /** A commit or a failure, from the inline writer or the writer thread (which report in order). */
  private readonly onWriterResult = (result: WriterResult): void => {
    if (result.generation !== this.generation) return;
    if (result.kind === 'committed') {
      // A commit on the writer thread syncs the log, and with it every commit of this thread's written before it.
      this.markCommitted(result.throughPosition);
      return;
    }
    const error = Object.assign(new Error(result.error.message), result.error.code === undefined ? {} : { code: result.error.code });
    // A stale transaction wrote nothing and failed nobody: its appends are decided again like the later ones.
    this.redecideUncommitted((pending) =>
      !result.stale && pending.firstPosition >= result.firstPosition && pending.firstPosition <= result.throughPosition ? error : null,
    );
  };

  private readonly onWriterStopped = (error: Error): void => {
    this.writerThread = null;
    // What the thread committed before it stopped is unknown here: those appends fail, and a retry with
    // the same event ids is recognised as one once the key directory is read back from the file.
    this.redecideUncommitted(() => error);
  };

  /** Delivers the outcomes that rest only on committed positions, in decision order. */
  private settleCommitted(): void {
    const unsettled = this.unsettled;
    let start = this.unsettledStart;
    while (start < unsettled.length && unsettled[start].horizon <= this.committedThrough) settle(unsettled[start++]);
    if (start === unsettled.length) {
      this.unsettled = [];
      this.unsettledStart = 0;
      this.writerThread?.keepAlive(false);
      for (const resolve of this.settledWaiters.splice(0)) resolve();
    } else if (start > 1024 && start * 2 > unsettled.length) {
      this.unsettled = unsettled.slice(start);
      this.unsettledStart = 0;
    } else {
      this.unsettledStart = start;
    }
  }

  /**
   * After a failed commit: takes back every uncommitted decision, newest first, so the key directory
   * matches the file through `committedThrough` again; fails the appends `failure` names, and decides
   * the others again, in their order, after reading in whatever other processes committed.
   */
  private redecideUncommitted(failure: (pending: PendingAppend) => Error | null): void {
    this.generation++;
    const uncommitted = this.unsettled.slice(this.unsettledStart);
    this.unsettled = [];
    this.unsettledStart = 0;
    this.outgoing = null;
    this.outgoingRows = 0;
    this.sentThrough = this.committedThrough;
    const keys = this.keys as KeyDirectory;
    for (let index = uncommitted.length - 1; index >= 0; index--) {
      const { firstPosition, rows } = uncommitted[index];
      if (firstPosition === 0) continue;
      for (let event = rows.eventIds.length - 1; event >= 0; event--) keys.removeNewest(rows.streamId, rows.eventIds[event]);
    }
    keys.rewindTo(this.committedThrough);
    this.syncedDataVersion = -1;
    for (const pending of uncommitted) {
      const error = failure(pending);
      if (error !== null) {
        pending.reject(error);
      } else {
        pending.outcome = null;
        pending.firstPosition = 0;
        this.decide(pending);
      }
    }
    if (!this.hasUnsettled()) {
      this.writerThread?.keepAlive(false);
      for (const resolve of this.settledWaiters.splice(0)) resolve();
    }
  }

  private hasUnsettled(): boolean {
    return this.unsettled.length > this.unsettledStart;
  }

  /**
   * Reads up to one page after `afterPosition`, bounded by the head read just before: commits land in
   * position order, so everything up to that head is visible and a short page means the whole range was
   * scanned, even if the filter matched little of it.
   */
  private readSubscriptionPage(afterPosition: number, filter: EventFilter | undefined): SubscriptionPage {
    const head = this.visibleHead();
    if (head <= afterPosition) return { events: [], scannedToPosition: afterPosition };
    const rows = this.selectAllStatement(filter, true).all(
      afterPosition,
      head,
      ...filterParameters(filter),
      this.subscriptionPageSize,
    ) as EventRow[];
    const scannedToPosition = rows.length < this.subscriptionPageSize ? head : rows[rows.length - 1][0];
    return { events: rows.map(toRecordedEvent), scannedToPosition };
  }

  /** One prepared statement per filter shape (how many prefixes, how many types), bounded above or not. */
  private selectAllStatement(filter: EventFilter | undefined, boundedAbove: boolean): Database.Statement {
    const key = `${filter?.streamPrefixes?.length ?? 0}/${filter?.eventTypes?.length ?? 0}/${boundedAbove}`;
    let statement = this.selectAllCache.get(key);
    if (!statement) {
      statement = this.db.prepare(this.selectAllSql(filter, boundedAbove)).raw();
      this.selectAllCache.set(key, statement);
    }
    return statement;
  }

  /** Parameters: after position, [through position,] filterParameters(filter), limit. */
  private selectAllSql(filter: EventFilter | undefined, boundedAbove: boolean): string {
    const prefixCount = filter?.streamPrefixes?.length ?? 0;
    const typeCount = filter?.eventTypes?.length ?? 0;
    const conditions = ['position > ?'];
    if (boundedAbove) conditions.push('position <= ?');
    if (prefixCount > 0) {
      // substr and length count characters the same way, so the prefix test holds for any text.
      // Each prefix is bound twice (see filterParameters).
      conditions.push(`(${Array.from({ length: prefixCount }, () => 'substr(stream_id, 1, length(?)) = ?').join(' OR ')})`);
    }
    if (typeCount > 0) conditions.push(`type IN (${Array.from({ length: typeCount }, () => '?').join(', ')})`);
    return `SELECT ${EVENT_COLUMNS} FROM events WHERE ${conditions.join(' AND ')} ORDER BY position LIMIT ?`;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('The event store is closed');
  }
}

function toRecordedEvent(row: EventRow): RecordedEvent {
  return {
    eventId: row[3],
    type: row[4],
    schemaVersion: row[5],
    data: JSON.parse(row[6]),
    metadata: JSON.parse(row[7]),
    streamId: row[1],
    revision: row[2],
    position: row[0],
    recordedAt: row[8],
  };
}

function filterParameters(filter: EventFilter | undefined): string[] {
  if (!filter) return [];
  return [...(filter.streamPrefixes ?? []).flatMap((prefix) => [prefix, prefix]), ...(filter.eventTypes ?? [])];
}

function revisionMatches(expected: ExpectedRevision, actual: number): boolean {
  switch (expected) {
    case 'any':
      return true;
    case 'no_stream':
      return actual === -1;
    case 'stream_exists':
      return actual >= 0;
    default:
      return expected === actual;
  }
}

/**
 * Checks an append's arguments and takes from its events what will be written, serializing data and
 * metadata. Throws before anything is decided when the append is malformed.
 */
function appendRows(streamId: string, events: readonly NewEvent[], expectedRevision: ExpectedRevision): AppendRows {
  if (typeof streamId !== 'string' || streamId.length === 0) throw new TypeError('streamId must be a non-empty string');
  if (
    !(expectedRevision === 'any' || expectedRevision === 'no_stream' || expectedRevision === 'stream_exists') &&
    !(Number.isSafeInteger(expectedRevision) && expectedRevision >= 0)
  ) {
    throw new TypeError(`expectedRevision must be 'any', 'no_stream', 'stream_exists' or a revision >= 0, got ${String(expectedRevision)}`);
  }
  const count = events.length;
  const rows: AppendRows = {
    streamId,
    firstRevision: -1,
    eventIds: new Array(count),
    types: new Array(count),
    schemaVersions: new Array(count),
    dataJsons: new Array(count),
    metadataJsons: new Array(count),
  };
  for (let index = 0; index < count; index++) {
    const { eventId, type, schemaVersion, data, metadata } = events[index];
    if (typeof eventId !== 'string' || eventId.length === 0) throw new TypeError('eventId must be a non-empty string');
    if (typeof type !== 'string' || type.length === 0) throw new TypeError('type must be a non-empty string');
    if (!Number.isSafeInteger(schemaVersion) || schemaVersion < 1) throw new TypeError('schemaVersion must be an integer >= 1');
    if (metadata === null || typeof metadata !== 'object') throw new TypeError('metadata is required');
    rows.eventIds[index] = eventId;
    rows.types[index] = type;
    rows.schemaVersions[index] = schemaVersion;
    rows.dataJsons[index] = JSON.stringify(data);
    rows.metadataJsons[index] = JSON.stringify(metadata);
  }
  if (count > 1) {
    const seen = new Set<string>();
    for (const eventId of rows.eventIds) {
      if (seen.has(eventId)) throw new DuplicateEventIdError(eventId);
      seen.add(eventId);
    }
  }
  return rows;
}

function settle(pending: PendingAppend): void {
  const outcome = pending.outcome as Outcome;
  if (outcome instanceof Error) pending.reject(outcome);
  else pending.resolve(outcome);
}

function isRejectionOfOneAppend(error: unknown): error is ConcurrencyError | DuplicateEventIdError {
  return error instanceof ConcurrencyError || error instanceof DuplicateEventIdError;
}

