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
import { EVENT_COLUMNS, ensureStoreSchema } from './sqlite-schema.js';

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

/** What the idempotency check needs to know about an already recorded event id. */
type RecordedPlaceRow = [streamId: string, revision: number, position: number, type: string, schemaVersion: number, dataJson: string];

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

interface SubscriptionPage {
  events: RecordedEvent[];
  /** Every event at or before this position has been looked at (matching or not). */
  scannedToPosition: number;
}

/** The stream-to-revision cache is a convenience, not a source of truth; past this size it starts over. */
const REVISION_CACHE_LIMIT = 100_000;

/**
 * The embedded event store: one local SQLite file (WAL, synchronous=FULL), so an append resolves only
 * after its transaction is committed and fsynced.
 *
 * Appends made in the same event-loop turn are group-committed: one transaction and one fsync for all of
 * them. Each append is still judged on its own, in call order, as if the appends ran one after another:
 * a rejected append (wrong expected revision, duplicate event id) leaves the others in its batch untouched.
 *
 * Several processes may open the same file. Writers take SQLite's write lock (waiting up to the busy
 * timeout); each write transaction first checks whether another connection committed since, and if so
 * reloads what this instance caches (stream revisions, the head of the hash chain).
 */
export class SqliteEventStore implements EventStore {
  private readonly db: Database.Database;
  private readonly now: () => Date;
  private readonly pollIntervalMs: number;
  private readonly subscriptionPageSize: number;

  private readonly beginImmediate: Database.Statement;
  private readonly commit: Database.Statement;
  private readonly rollback: Database.Statement;
  private readonly savepoint: Database.Statement;
  private readonly rollbackToSavepoint: Database.Statement;
  private readonly releaseSavepoint: Database.Statement;
  private readonly selectDataVersion: Database.Statement;
  private readonly selectHead: Database.Statement;
  private readonly selectHeadPosition: Database.Statement;
  private readonly selectLastRevision: Database.Statement;
  private readonly selectPositionAtRevision: Database.Statement;
  private readonly selectRecordedPlace: Database.Statement;
  private readonly insertEvent: Database.Statement;
  private readonly selectStream: Database.Statement;
  private readonly selectAllCache = new Map<string, Database.Statement>();

  private queue: PendingAppend[] = [];
  private flushScheduled = false;
  private closed = false;
  private readonly subscriptions = new Set<SqliteSubscription>();

  /** Cached state of the committed log, valid while no other connection has written (see dataVersion). */
  private lastPosition = 0;
  private lastHash: Buffer = GENESIS_HASH;
  private readonly lastRevisionByStream = new Map<string, number>();
  private dataVersion = -1;

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
      // Index pages for random event ids stay in memory instead of being re-read on every insert.
      this.db.pragma('cache_size = -65536');
      ensureStoreSchema(this.db);
    } catch (error) {
      this.db.close();
      throw error;
    }

    this.beginImmediate = this.db.prepare('BEGIN IMMEDIATE');
    this.commit = this.db.prepare('COMMIT');
    this.rollback = this.db.prepare('ROLLBACK');
    this.savepoint = this.db.prepare('SAVEPOINT append');
    this.rollbackToSavepoint = this.db.prepare('ROLLBACK TO append');
    this.releaseSavepoint = this.db.prepare('RELEASE append');
    this.selectDataVersion = this.db.prepare('PRAGMA data_version').pluck();
    this.selectHead = this.db.prepare('SELECT position, hash FROM events ORDER BY position DESC LIMIT 1').raw();
    this.selectHeadPosition = this.db.prepare('SELECT coalesce(max(position), 0) FROM events').pluck();
    this.selectLastRevision = this.db
      .prepare('SELECT revision FROM events WHERE stream_id = ? ORDER BY revision DESC LIMIT 1')
      .pluck();
    this.selectPositionAtRevision = this.db
      .prepare('SELECT position FROM events WHERE stream_id = ? AND revision = ?')
      .pluck();
    this.selectRecordedPlace = this.db
      .prepare('SELECT stream_id, revision, position, type, schema_version, data FROM events WHERE event_id = ?')
      .raw();
    this.insertEvent = this.db.prepare(
      `INSERT INTO events (position, stream_id, revision, event_id, type, schema_version, data, metadata, command_id, recorded_at, hash)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.selectStream = this.db
      .prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision LIMIT ?`)
      .raw();

    this.reloadCachedState();
  }

  append(streamId: string, events: readonly NewEvent[], expectedRevision: ExpectedRevision): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new Error('The event store is closed'));
    let dataJsons: string[];
    let metadataJsons: string[];
    try {
      validateAppend(streamId, events, expectedRevision);
      dataJsons = events.map((event) => JSON.stringify(event.data));
      metadataJsons = events.map((event) => JSON.stringify(event.metadata));
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
    const rows = this.selectStream.all(streamId, options.fromRevision ?? 0, options.maxCount ?? -1) as EventRow[];
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

    const outcomes: (AppendResult | Error)[] = new Array(batch.length);
    try {
      this.beginImmediate.run();
      this.reloadCachedStateIfAnotherWriterCommitted();
      const recordedAt = this.now().toISOString();
      for (let index = 0; index < batch.length; index++) {
        try {
          outcomes[index] = this.applyAppend(batch[index], recordedAt);
        } catch (error) {
          if (!isRejectionOfOneAppend(error) || !this.db.inTransaction) throw error;
          outcomes[index] = error;
        }
      }
      this.commit.run();
    } catch (error) {
      if (this.db.inTransaction) this.rollback.run();
      // The cached head and revisions may describe rows that were rolled back.
      this.reloadCachedState();
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

  /** Runs inside the batch transaction. Throws ConcurrencyError or DuplicateEventIdError to reject this append alone. */
  private applyAppend(pending: PendingAppend, recordedAt: string): AppendResult {
    const { streamId, events, expectedRevision } = pending;
    const actualRevision = this.currentRevision(streamId);
    if (!revisionMatches(expectedRevision, actualRevision)) {
      const replayed = this.findIdempotentReplay(pending);
      if (replayed) return replayed;
      throw new ConcurrencyError(streamId, expectedRevision, actualRevision);
    }
    if (events.length === 0) {
      const position =
        actualRevision < 0 ? 0 : (this.selectPositionAtRevision.get(streamId, actualRevision) as number);
      return { nextExpectedRevision: actualRevision, position };
    }

    // One statement is atomic on its own; several need a savepoint so a failure leaves none of them.
    const needsSavepoint = events.length > 1;
    if (needsSavepoint) this.savepoint.run();
    let position = this.lastPosition;
    let hash = this.lastHash;
    try {
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
        this.insertEvent.run(
          position,
          streamId,
          revision,
          event.eventId,
          event.type,
          event.schemaVersion,
          dataJson,
          metadataJson,
          event.metadata.commandId ?? null,
          recordedAt,
          hash,
        );
      }
    } catch (error) {
      if (needsSavepoint && this.db.inTransaction) {
        this.rollbackToSavepoint.run();
        this.releaseSavepoint.run();
      }
      if (isUniqueViolationOn(error, 'events.event_id')) {
        // Either a retry of events already recorded at these places, or an id reused elsewhere.
        const replayed = this.findIdempotentReplay(pending);
        if (replayed) return replayed;
      }
      throw error;
    }
    if (needsSavepoint) this.releaseSavepoint.run();

    this.lastPosition = position;
    this.lastHash = hash;
    if (this.lastRevisionByStream.size >= REVISION_CACHE_LIMIT) this.lastRevisionByStream.clear();
    this.lastRevisionByStream.set(streamId, actualRevision + events.length);
    return { nextExpectedRevision: actualRevision + events.length, position };
  }

  /**
   * An append whose event ids are all recorded already, in this stream, consecutively, at the places its
   * expected revision names and with the same content, is a retry: it gets the first answer again.
   * Returns undefined when none of its ids is recorded; throws DuplicateEventIdError for anything between.
   */
  private findIdempotentReplay(pending: PendingAppend): AppendResult | undefined {
    const { streamId, events, expectedRevision } = pending;
    if (events.length === 0) return undefined;
    const places = events.map((event) => this.selectRecordedPlace.get(event.eventId) as RecordedPlaceRow | undefined);
    if (places.every((place) => place === undefined)) return undefined;

    const first = places[0];
    const firstRevisionExpected =
      expectedRevision === 'no_stream' ? 0 : typeof expectedRevision === 'number' ? expectedRevision + 1 : undefined;
    const startRevision = first?.[1];
    if (
      first === undefined ||
      first[0] !== streamId ||
      (firstRevisionExpected !== undefined && startRevision !== firstRevisionExpected)
    ) {
      const offending = events[places.findIndex((place) => place !== undefined)];
      throw new DuplicateEventIdError(offending.eventId);
    }
    for (let index = 0; index < events.length; index++) {
      const place = places[index];
      const event = events[index];
      if (
        place === undefined ||
        place[0] !== streamId ||
        place[1] !== first[1] + index ||
        place[3] !== event.type ||
        place[4] !== event.schemaVersion ||
        place[5] !== pending.dataJsons[index]
      ) {
        throw new DuplicateEventIdError(event.eventId);
      }
    }
    const last = places[places.length - 1] as RecordedPlaceRow;
    return { nextExpectedRevision: last[1], position: last[2] };
  }

  private currentRevision(streamId: string): number {
    const cached = this.lastRevisionByStream.get(streamId);
    if (cached !== undefined) return cached;
    const recorded = (this.selectLastRevision.get(streamId) as number | undefined) ?? -1;
    this.lastRevisionByStream.set(streamId, recorded);
    return recorded;
  }

  /** PRAGMA data_version changes only when another connection commits, so our own writes cost nothing here. */
  private reloadCachedStateIfAnotherWriterCommitted(): void {
    if ((this.selectDataVersion.get() as number) !== this.dataVersion) this.reloadCachedState();
  }

  private reloadCachedState(): void {
    this.lastRevisionByStream.clear();
    const head = this.selectHead.get() as [number, Buffer] | undefined;
    this.lastPosition = head?.[0] ?? 0;
    this.lastHash = head?.[1] ?? GENESIS_HASH;
    this.dataVersion = this.selectDataVersion.get() as number;
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

interface SubscriptionSource {
  readPage(afterPosition: number): SubscriptionPage;
  detach(subscription: SqliteSubscription): void;
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/**
 * A catch-up subscription: pages through history, then waits to be woken by a commit of this store
 * instance or by the poll timer (which catches commits of other processes on the same file).
 * Calls to next() are served one after another, so concurrent callers never receive the same event.
 */
class SqliteSubscription implements Subscription, AsyncIterator<RecordedEvent> {
  private afterPosition: number;
  private page: RecordedEvent[] = [];
  private pageIndex = 0;
  private stopped = false;
  private inFlight: Promise<IteratorResult<RecordedEvent>> | null = null;
  private wakeWaiter: (() => void) | null = null;

  constructor(
    private readonly source: SubscriptionSource,
    afterPosition: number,
    private readonly pollIntervalMs: number,
  ) {
    this.afterPosition = afterPosition;
  }

  [Symbol.asyncIterator](): AsyncIterator<RecordedEvent> {
    return this;
  }

  next(): Promise<IteratorResult<RecordedEvent>> {
    if (this.inFlight === null) {
      if (this.stopped) return Promise.resolve(DONE);
      if (this.pageIndex < this.page.length) return Promise.resolve({ done: false, value: this.page[this.pageIndex++] });
    }
    const previous = this.inFlight ?? Promise.resolve(DONE);
    const current = previous.then(() => this.nextAfterWaiting());
    this.inFlight = current;
    void current.finally(() => {
      if (this.inFlight === current) this.inFlight = null;
    });
    return current;
  }

  async return(): Promise<IteratorResult<RecordedEvent>> {
    await this.stop();
    return DONE;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.page = [];
    this.source.detach(this);
    this.wake();
  }

  wake(): void {
    const waiter = this.wakeWaiter;
    this.wakeWaiter = null;
    waiter?.();
  }

  private async nextAfterWaiting(): Promise<IteratorResult<RecordedEvent>> {
    for (;;) {
      if (this.stopped) return DONE;
      if (this.pageIndex < this.page.length) return { done: false, value: this.page[this.pageIndex++] };
      const { events, scannedToPosition } = this.source.readPage(this.afterPosition);
      this.afterPosition = scannedToPosition;
      this.page = events;
      this.pageIndex = 0;
      if (events.length > 0) continue;
      // Reading the page and arming the waiter happen in one synchronous step, so a commit cannot slip between them.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => this.wake(), this.pollIntervalMs);
        this.wakeWaiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
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
  const seen = new Set<string>();
  for (const event of events) {
    if (typeof event.eventId !== 'string' || event.eventId.length === 0) throw new TypeError('eventId must be a non-empty string');
    if (typeof event.type !== 'string' || event.type.length === 0) throw new TypeError('type must be a non-empty string');
    if (!Number.isSafeInteger(event.schemaVersion) || event.schemaVersion < 1) throw new TypeError('schemaVersion must be an integer >= 1');
    if (event.metadata === null || typeof event.metadata !== 'object') throw new TypeError('metadata is required');
    if (seen.has(event.eventId)) throw new DuplicateEventIdError(event.eventId);
    seen.add(event.eventId);
  }
}

function isRejectionOfOneAppend(error: unknown): error is ConcurrencyError | DuplicateEventIdError {
  return error instanceof ConcurrencyError || error instanceof DuplicateEventIdError;
}

function isUniqueViolationOn(error: unknown, column: string): boolean {
  return (
    error instanceof Error &&
    (error as Error & { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE' &&
    error.message.includes(column)
  );
}
