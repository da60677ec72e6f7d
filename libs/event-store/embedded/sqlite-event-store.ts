import { mkdirSync } from 'node:fs';
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
  type ReadStreamOptions,
  type RecordedEvent,
  type SubscribeOptions,
  type Subscription,
} from '../event-store.port.js';
import { GENESIS_HASH, chainHash } from './event-hash-chain.js';
import { KeyDirectory, type EventKeys } from './key-directory.js';
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
}

const COLUMNS_PER_ROW = 10;
const ROWS_PER_INSERT = 32;

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

interface PendingAppend {
  streamId: string;
  events: readonly NewEvent[];
  expectedRevision: ExpectedRevision;
  /** Serialized once, when append is called, so later mutation of the caller's objects changes nothing. */
  dataJsons: string[];
  metadataJsons: string[];
  resolve(result: AppendResult): void;
  reject(error: unknown): void;
}

/**
 * The embedded event store: one local SQLite file (WAL, synchronous=FULL), so an append resolves only
 * after its transaction is committed and fsynced.
 *
 * Appends made in the same event-loop turn are group-committed: one transaction and one fsync for all
 * of them. Each append is still judged on its own, in call order, as if the appends ran one after
 * another: a rejected append (wrong expected revision, duplicate event id) leaves the others in its
 * batch untouched. Every check runs against the key directory before anything is written, so a
 * rejected append never writes a row.
 *
 * Several processes may open the same file. Writers take SQLite's write lock (waiting up to the busy
 * timeout). Before using its key directory, an instance asks SQLite whether another connection has
 * committed since (PRAGMA data_version) and, if so, reads the new rows into it.
 */
export class SqliteEventStore implements EventStore {
  private readonly db: Database.Database;
  private readonly now: () => Date;
  private readonly pollIntervalMs: number;
  private readonly subscriptionPageSize: number;

  private readonly beginImmediate: Database.Statement;
  private readonly commit: Database.Statement;
  private readonly rollback: Database.Statement;
  private readonly selectDataVersion: Database.Statement;
  private readonly selectHead: Database.Statement;
  private readonly selectHeadPosition: Database.Statement;
  private readonly selectKeysAfter: Database.Statement;
  private readonly selectContentAt: Database.Statement;
  private readonly selectAtPositions: Database.Statement;
  /** Multi-row inserts by row count (powers of two up to ROWS_PER_INSERT): binding is cheaper per row. */
  private readonly insertEventsByRowCount = new Map<number, Database.Statement>();
  /** Values of rows decided in the current batch and not yet inserted, COLUMNS_PER_ROW per row. */
  private rowValues: unknown[] = [];
  private readonly selectAllCache = new Map<string, Database.Statement>();

  private queue: PendingAppend[] = [];
  private flushScheduled = false;
  private closed = false;
  private readonly subscriptions = new Set<SqliteSubscription>();

  /** Built on first use (an append or a stream read), so processes that only subscribe never pay for it. */
  private keys: KeyDirectory | null = null;
  /** The log's last position and hash, as of the last sync or own commit. */
  private lastPosition = 0;
  private lastHash = GENESIS_HASH;
  /** PRAGMA data_version when `keys` was last brought up to date; it moves only when another connection commits. */
  private syncedDataVersion = -1;

  static open(options: SqliteEventStoreOptions): SqliteEventStore {
    return new SqliteEventStore(options);
  }

  private constructor(options: SqliteEventStoreOptions) {
    mkdirSync(dirname(options.path), { recursive: true });
    this.now = options.now ?? (() => new Date());
    this.pollIntervalMs = options.pollIntervalMs ?? 100;
    this.subscriptionPageSize = options.subscriptionPageSize ?? 2000;

    this.db = new Database(options.path, { timeout: options.busyTimeoutMs ?? 5000 });
    try {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      ensureStoreSchema(this.db);
    } catch (error) {
      this.db.close();
      throw error;
    }

    this.beginImmediate = this.db.prepare('BEGIN IMMEDIATE');
    this.commit = this.db.prepare('COMMIT');
    this.rollback = this.db.prepare('ROLLBACK');
    this.selectDataVersion = this.db.prepare('PRAGMA data_version').pluck();
    this.selectHead = this.db.prepare('SELECT position, hash FROM events ORDER BY position DESC LIMIT 1').raw();
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
    for (let rowCount = 1; rowCount <= ROWS_PER_INSERT; rowCount *= 2) {
      const placeholders = Array.from({ length: rowCount }, () => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ');
      this.insertEventsByRowCount.set(
        rowCount,
        this.db.prepare(
          `INSERT INTO events (position, stream_id, revision, event_id, type, schema_version, data, metadata, recorded_at, hash)
           VALUES ${placeholders}`,
        ),
      );
    }
  }

  append(streamId: string, events: readonly NewEvent[], expectedRevision: ExpectedRevision): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new Error('The event store is closed'));
    const dataJsons: string[] = new Array(events.length);
    const metadataJsons: string[] = new Array(events.length);
    try {
      validateAppend(streamId, events, expectedRevision);
      for (let index = 0; index < events.length; index++) {
        dataJsons[index] = JSON.stringify(events[index].data);
        metadataJsons[index] = JSON.stringify(events[index].metadata);
      }
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ streamId, events, expectedRevision, dataJsons, metadataJsons, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // setImmediate, not a microtask: every append made in this turn, including those made by
        // continuations of the previous batch's promises, joins the same transaction.
        setImmediate(this.flush);
      }
    });
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const positions = this.syncedKeys().streamPositions(streamId, options.fromRevision ?? 0, options.maxCount);
    if (positions.length === 0) return [];
    const rows = this.selectAtPositions.all(JSON.stringify(positions)) as EventRow[];
    return rows.map(toRecordedEvent);
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const statement = this.selectAllStatement(options.filter, false);
    const rows = statement.all(
      options.afterPosition ?? 0,
      ...filterParameters(options.filter),
      options.maxCount ?? -1,
    ) as EventRow[];
    return rows.map(toRecordedEvent);
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
    return this.selectHeadPosition.get() as number;
  }

  /** Writes what is queued, ends every subscription, then closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.queue.length > 0) this.flush();
    this.closed = true;
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
    this.db.close();
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;

    const outcomes: (AppendResult | ConcurrencyError | DuplicateEventIdError)[] = new Array(batch.length);
    const added: EventKeys[] = [];
    let keys: KeyDirectory | null = null;
    let throughPositionBefore = 0;
    try {
      this.beginImmediate.run();
      keys = this.syncedKeys();
      throughPositionBefore = keys.throughPosition;
      const recordedAt = this.now().toISOString();
      for (let index = 0; index < batch.length; index++) {
        try {
          outcomes[index] = this.applyAppend(keys, batch[index], recordedAt, added);
        } catch (error) {
          if (!isRejectionOfOneAppend(error)) throw error;
          outcomes[index] = error;
        }
      }
      this.insertDecidedRows();
      this.commit.run();
    } catch (error) {
      this.rowValues = [];
      if (this.db.inTransaction) this.rollback.run();
      if (keys !== null) keys.removeNewest(added, throughPositionBefore);
      // The next sync reloads the head position and hash from the file.
      this.syncedDataVersion = -1;
      for (const pending of batch) pending.reject(error);
      return;
    }
    for (let index = 0; index < batch.length; index++) {
      const outcome = outcomes[index];
      if (outcome instanceof Error) batch[index].reject(outcome);
      else batch[index].resolve(outcome);
    }
    for (const subscription of this.subscriptions) subscription.wake();
  };

  /**
   * Runs inside the batch transaction; decides from the key directory, then writes. Throws
   * ConcurrencyError or DuplicateEventIdError, before writing anything, to reject this append alone.
   */
  private applyAppend(keys: KeyDirectory, pending: PendingAppend, recordedAt: string, added: EventKeys[]): AppendResult {
    const { streamId, events, expectedRevision } = pending;
    const replayed = this.findIdempotentReplay(keys, pending);
    if (replayed) return replayed;
    const actualRevision = keys.lastRevision(streamId);
    if (!revisionMatches(expectedRevision, actualRevision)) {
      throw new ConcurrencyError(streamId, expectedRevision, actualRevision);
    }
    if (events.length === 0) {
      return { nextExpectedRevision: actualRevision, position: keys.positionAtRevision(streamId, actualRevision) ?? 0 };
    }

    let position = this.lastPosition;
    let hash = this.lastHash;
    for (let index = 0; index < events.length; index++) {
      const event = events[index];
      position++;
      const revision = actualRevision + 1 + index;
      const dataJson = pending.dataJsons[index];
      const metadataJson = pending.metadataJsons[index];
      hash = chainHash(hash, {
        position,
        streamId,
        revision,
        eventId: event.eventId,
        type: event.type,
        schemaVersion: event.schemaVersion,
        dataJson,
        metadataJson,
        recordedAt,
      });
      this.rowValues.push(position, streamId, revision, event.eventId, event.type, event.schemaVersion, dataJson, metadataJson, recordedAt, hash);
      const eventKeys: EventKeys = { position, streamId, revision, eventId: event.eventId };
      keys.add(eventKeys);
      added.push(eventKeys);
    }
    this.lastPosition = position;
    this.lastHash = hash;
    return { nextExpectedRevision: actualRevision + events.length, position };
  }

  /**
   * An append whose event ids are all recorded already, in this stream, consecutively, at the places its
   * expected revision names and with the same content, is a retry: it gets the first answer again.
   * Returns undefined when none of its ids is recorded; throws DuplicateEventIdError for anything between.
   */
  private findIdempotentReplay(keys: KeyDirectory, pending: PendingAppend): AppendResult | undefined {
    const { streamId, events, expectedRevision } = pending;
    let recordedCount = 0;
    for (const event of events) if (keys.positionOfEvent(event.eventId) !== undefined) recordedCount++;
    if (recordedCount === 0) return undefined;

    const firstPosition = keys.positionOfEvent(events[0].eventId);
    if (recordedCount < events.length || firstPosition === undefined) {
      const offending = events.find((event) => keys.positionOfEvent(event.eventId) !== undefined) as NewEvent;
      throw new DuplicateEventIdError(offending.eventId);
    }
    // The recorded events may have been decided earlier in this batch.
    this.insertDecidedRows();
    const firstRevisionExpected =
      expectedRevision === 'no_stream' ? 0 : typeof expectedRevision === 'number' ? expectedRevision + 1 : undefined;
    let startRevision = -1;
    let lastPosition = 0;
    for (let index = 0; index < events.length; index++) {
      const event = events[index];
      lastPosition = keys.positionOfEvent(event.eventId) as number;
      const [recordedStreamId, revision, type, schemaVersion, dataJson] = this.selectContentAt.get(lastPosition) as RecordedContentRow;
      if (index === 0) startRevision = revision;
      if (
        recordedStreamId !== streamId ||
        revision !== startRevision + index ||
        (firstRevisionExpected !== undefined && startRevision !== firstRevisionExpected) ||
        type !== event.type ||
        schemaVersion !== event.schemaVersion ||
        dataJson !== pending.dataJsons[index]
      ) {
        throw new DuplicateEventIdError(event.eventId);
      }
    }
    return { nextExpectedRevision: startRevision + events.length - 1, position: lastPosition };
  }

  private insertDecidedRows(): void {
    const values = this.rowValues;
    let offset = 0;
    let rowsLeft = values.length / COLUMNS_PER_ROW;
    for (let rowCount = ROWS_PER_INSERT; rowsLeft > 0; rowCount /= 2) {
      const statement = this.insertEventsByRowCount.get(rowCount) as Database.Statement;
      while (rowsLeft >= rowCount) {
        statement.run(values.slice(offset, offset + rowCount * COLUMNS_PER_ROW));
        offset += rowCount * COLUMNS_PER_ROW;
        rowsLeft -= rowCount;
      }
    }
    this.rowValues = [];
  }

  /** The key directory, first brought up to date with whatever other connections committed. */
  private syncedKeys(): KeyDirectory {
    const dataVersion = this.selectDataVersion.get() as number;
    if (this.keys !== null && dataVersion === this.syncedDataVersion) return this.keys;
    const keys = this.keys ?? new KeyDirectory();
    for (const [position, streamId, revision, eventId] of this.selectKeysAfter.iterate(keys.throughPosition) as IterableIterator<KeyRow>) {
      keys.add({ position, streamId, revision, eventId });
    }
    const head = this.selectHead.get() as [number, string] | undefined;
    this.lastPosition = head?.[0] ?? 0;
    this.lastHash = head?.[1] ?? GENESIS_HASH;
    this.keys = keys;
    this.syncedDataVersion = dataVersion;
    return keys;
  }

  /**
   * Reads up to one page after `afterPosition`, bounded by the head read just before: commits land in
   * position order, so everything up to that head is visible and a short page means the whole range was
   * scanned, even if the filter matched little of it.
   */
  private readSubscriptionPage(afterPosition: number, filter: EventFilter | undefined): SubscriptionPage {
    const head = this.selectHeadPosition.get() as number;
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
    const prefixCount = filter?.streamPrefixes?.length ?? 0;
    const typeCount = filter?.eventTypes?.length ?? 0;
    const key = `${prefixCount}/${typeCount}/${boundedAbove}`;
    let statement = this.selectAllCache.get(key);
    if (!statement) {
      const conditions = ['position > ?'];
      if (boundedAbove) conditions.push('position <= ?');
      if (prefixCount > 0) {
        // substr and length count characters the same way, so the prefix test holds for any text.
        // Each prefix is bound twice (see filterParameters).
        conditions.push(`(${Array.from({ length: prefixCount }, () => 'substr(stream_id, 1, length(?)) = ?').join(' OR ')})`);
      }
      if (typeCount > 0) conditions.push(`type IN (${Array.from({ length: typeCount }, () => '?').join(', ')})`);
      statement = this.db
        .prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE ${conditions.join(' AND ')} ORDER BY position LIMIT ?`)
        .raw();
      this.selectAllCache.set(key, statement);
    }
    return statement;
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

function validateAppend(streamId: string, events: readonly NewEvent[], expectedRevision: ExpectedRevision): void {
  if (typeof streamId !== 'string' || streamId.length === 0) throw new TypeError('streamId must be a non-empty string');
  if (
    !(expectedRevision === 'any' || expectedRevision === 'no_stream' || expectedRevision === 'stream_exists') &&
    !(Number.isSafeInteger(expectedRevision) && expectedRevision >= 0)
  ) {
    throw new TypeError(`expectedRevision must be 'any', 'no_stream', 'stream_exists' or a revision >= 0, got ${String(expectedRevision)}`);
  }
  for (const event of events) {
    if (typeof event.eventId !== 'string' || event.eventId.length === 0) throw new TypeError('eventId must be a non-empty string');
    if (typeof event.type !== 'string' || event.type.length === 0) throw new TypeError('type must be a non-empty string');
    if (!Number.isSafeInteger(event.schemaVersion) || event.schemaVersion < 1) throw new TypeError('schemaVersion must be an integer >= 1');
    if (event.metadata === null || typeof event.metadata !== 'object') throw new TypeError('metadata is required');
  }
  if (events.length > 1) {
    const seen = new Set<string>();
    for (const event of events) {
      if (seen.has(event.eventId)) throw new DuplicateEventIdError(event.eventId);
      seen.add(event.eventId);
    }
  }
}

function isRejectionOfOneAppend(error: unknown): error is ConcurrencyError | DuplicateEventIdError {
  return error instanceof ConcurrencyError || error instanceof DuplicateEventIdError;
}

