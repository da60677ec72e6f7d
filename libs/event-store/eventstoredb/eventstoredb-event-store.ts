import {
  ANY,
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  StreamNotFoundError,
  WrongExpectedVersionError,
  type AllStreamResolvedEvent,
  type AllStreamSubscription,
  type AppendExpectedRevision,
  type Direction,
  type Filter,
  type ReadPosition,
} from '@eventstore/db-client';
import {
  ConcurrencyError,
  DuplicateEventIdError,
  type AppendResult,
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
import { backoffDelay, isInvalidPosition, isTransient, type Backoff } from './connection-errors.js';
import { EventIdDirectory } from './event-id-directory.js';
import { assertLedgerStream, isSystemStream, planFilter, prepareAppend, toRecordedEvent, type PreparedAppend } from './event-mapping.js';
import { EventStoreDbSubscription, type SubscriptionSource } from './eventstoredb-subscription.js';
import { positionFromAll, positionFromStreamRead, toEventStoreDbPosition, toSafeNumber } from './positions.js';

export interface EventStoreDbEventStoreOptions {
  /** An EventStoreDB connection string, e.g. `esdb://localhost:2113?tls=false` or `esdb+discover://...`. */
  connectionString: string;
  /** Events per read of $all (catch-up pages, the event-id directory's first pass). Default 1000. */
  readPageSize?: number;
  /** Events the server's filter looks at between checkpoints of a subscription. Default 256. */
  subscriptionSearchWindow?: number;
  /**
   * The server's chunk size (its `ChunkSize` setting, 256 MiB by default): a chunk starts with a record, so
   * reading from the start of the chunk that holds a position is how to find the events after a position
   * that is not an event's.
   */
  chunkSizeBytes?: number;
  /** Waits between attempts after a dropped connection: the first, and the longest (it doubles). Default 50 ms, 2 s. */
  reconnect?: Partial<Backoff>;
  /** Attempts of an append or a read after transient failures before its error is passed on. Default 6. */
  attempts?: number;
}

const DEFAULT_CHUNK_SIZE_BYTES = 256 * 1024 * 1024;

/**
 * The EventStore port on EventStoreDB (gRPC, @eventstore/db-client). See README.md in this folder for the
 * design and its limits, and docs/decisions/0060-0063.
 *
 * - Appends send the port's expected revision exactly (a revision, no_stream, stream_exists, or any only
 *   when the caller asked for it) and the writer's event ids, so the server itself recognises a retried
 *   append; WrongExpectedVersion becomes ConcurrencyError. Event ids the server does not check (in another
 *   stream, at another place, with other content) are checked against the event-id directory.
 * - Positions are the events' byte offsets in the server's log (commit = prepare position).
 * - Reads and subscriptions cover the ledger's events: EventStoreDB's own `$`-streams are left out.
 * - A dropped connection is retried: appends and reads a few times (`attempts`), subscriptions for as long
 *   as they run, resuming strictly after the last event delivered.
 */
export class EventStoreDbEventStore implements EventStore {
  private readonly client: EventStoreDBClient;
  private readonly readPageSize: number;
  private readonly searchWindow: number;
  private readonly chunkSizeBytes: number;
  private readonly backoff: Backoff;
  private readonly attempts: number;
  private readonly subscriptions = new Set<EventStoreDbSubscription>();
  /** Event ids of appends in flight: another append with one of them waits for it. */
  private readonly inFlightIds = new Map<string, Promise<void>>();
  private directory: { instance: EventIdDirectory; ready: Promise<EventIdDirectory> } | null = null;
  private closed = false;

  static open(options: EventStoreDbEventStoreOptions): EventStoreDbEventStore {
    return new EventStoreDbEventStore(options);
  }

  private constructor(options: EventStoreDbEventStoreOptions) {
    this.client = EventStoreDBClient.connectionString(options.connectionString);
    this.readPageSize = options.readPageSize ?? 1000;
    this.searchWindow = options.subscriptionSearchWindow ?? 256;
    this.chunkSizeBytes = options.chunkSizeBytes ?? DEFAULT_CHUNK_SIZE_BYTES;
    this.backoff = { firstDelayMs: options.reconnect?.firstDelayMs ?? 50, maxDelayMs: options.reconnect?.maxDelayMs ?? 2000 };
    this.attempts = options.attempts ?? 6;
    if (this.readPageSize < 2) throw new RangeError('readPageSize must be at least 2');
  }

  async append(streamId: string, events: readonly NewEvent[], expectedRevision: ExpectedRevision): Promise<AppendResult> {
    this.assertOpen();
    const prepared = prepareAppend(streamId, events, expectedRevision);
    if (prepared.eventIds.length === 0) return this.appendNothing(streamId, expectedRevision);
    const directory = await this.eventIdDirectory();
    for (;;) {
      const waitingOn = prepared.eventIds.flatMap((eventId) => this.inFlightIds.get(eventId) ?? []);
      if (waitingOn.length > 0) {
        await Promise.all(waitingOn);
        continue;
      }
      // Checked and marked in flight in one synchronous step, so two appends of one id never both write.
      if (prepared.eventIds.every((eventId) => directory.placeOf(eventId) === undefined)) return this.write(directory, prepared);
      return this.retryOfRecorded(directory, prepared);
    }
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    assertLedgerStream(streamId);
    const fromRevision = options.fromRevision ?? 0;
    const maxCount = options.maxCount ?? Number.MAX_SAFE_INTEGER;
    if (maxCount <= 0) return [];
    return this.withRetries(async () => {
      const events: RecordedEvent[] = [];
      try {
        for await (const resolved of this.client.readStream(streamId, { fromRevision: BigInt(fromRevision), maxCount })) {
          events.push(toRecordedEvent(resolved, positionFromStreamRead(resolved.event?.position, `an event of ${streamId}`)));
        }
      } catch (error) {
        if (error instanceof StreamNotFoundError) return [];
        throw error;
      }
      return events;
    });
  }

  /** Successive `readAll` pages: the server streams each read, so there is nothing to gain from reading ahead here. */
  async *readAllPages(options: ReadAllPagesOptions): AsyncGenerator<RecordedEvent[], void, undefined> {
    let afterPosition = options.afterPosition ?? 0;
    for (;;) {
      const page = await this.readAll({ afterPosition, maxCount: options.pageSize, ...(options.filter ? { filter: options.filter } : {}) });
      if (page.length > 0) yield page;
      if (page.length < options.pageSize) return;
      afterPosition = page[page.length - 1].position;
    }
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const afterPosition = options.afterPosition ?? 0;
    const maxCount = options.maxCount ?? Number.POSITIVE_INFINITY;
    const plan = planFilter(options.filter, this.searchWindow);
    const events: RecordedEvent[] = [];
    if (maxCount <= 0) return events;
    // The client (6.x) reads $all without a server-side filter: pages are filtered here. Each page after the
    // first starts at the last event of the one before, read again and passed over.
    let from: ReadPosition = afterPosition === 0 ? START : toEventStoreDbPosition(afterPosition);
    let through = afterPosition;
    for (;;) {
      let page: AllStreamResolvedEvent[];
      try {
        page = await this.readAllPage(FORWARDS, from, this.readPageSize);
      } catch (error) {
        if (!isInvalidPosition(error) || through !== afterPosition || from === START) throw error;
        from = await this.startAfter(afterPosition);
        continue;
      }
      for (const resolved of page) {
        const position = positionFromAll(resolved.event?.position, `event ${resolved.event?.id} in $all`);
        if (position <= through) continue;
        through = position;
        const event = resolved.event;
        if (event === undefined || !plan.accepts(event.streamId, event.type)) continue;
        events.push(toRecordedEvent(resolved, position));
        if (events.length >= maxCount) return events;
      }
      if (page.length < this.readPageSize) return events;
      from = toEventStoreDbPosition(through);
    }
  }

  subscribeToAll(options: SubscribeOptions = {}): Subscription {
    this.assertOpen();
    return this.catchUpSubscription(options.afterPosition ?? 0, options.filter);
  }

  /** The position of the last event of the ledger's (EventStoreDB's own events after it do not count). */
  async headPosition(): Promise<number> {
    this.assertOpen();
    let from: ReadPosition = END;
    for (;;) {
      // Usually the last event is the ledger's: read a few, then larger pages past a run of server events.
      const pageSize = from === END ? 4 : 64;
      const page = await this.readAllPage(BACKWARDS, from, pageSize);
      for (const resolved of page) {
        if (resolved.event !== undefined && !isSystemStream(resolved.event.streamId)) {
          return positionFromAll(resolved.event.position, `event ${resolved.event.id} in $all`);
        }
      }
      if (page.length < pageSize) return 0;
      from = toEventStoreDbPosition(positionFromAll(page[page.length - 1].event?.position, 'an event in $all'));
    }
  }

  /** Ends every subscription and the event-id directory, then the connection. Appends in flight finish first. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.inFlightIds.values()]);
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
    await this.directory?.instance.close();
    await this.client.dispose();
  }

  /**
   * An append whose event ids are all recorded already, in this stream, consecutively, at the place its
   * expected revision names, with the same type, schema version and data, is a retry: it gets the first
   * answer again, without a write. Any other reuse of a recorded event id is a DuplicateEventIdError.
   */
  private async retryOfRecorded(directory: EventIdDirectory, prepared: PreparedAppend): Promise<AppendResult> {
    const { streamId, eventIds, expectedRevision } = prepared;
    const places = eventIds.map((eventId) => directory.placeOf(eventId));
    const recordedIndex = places.findIndex((place) => place !== undefined);
    const first = places[0];
    if (first === undefined) throw new DuplicateEventIdError(eventIds[recordedIndex]);
    const firstRevisionExpected = expectedRevision === 'no_stream' ? 0 : typeof expectedRevision === 'number' ? expectedRevision + 1 : first.revision;
    for (const [index, place] of places.entries()) {
      if (place === undefined || place.streamId !== streamId || place.revision !== first.revision + index || first.revision !== firstRevisionExpected) {
        throw new DuplicateEventIdError(eventIds[index]);
      }
    }
    const recorded = await this.readStream(streamId, { fromRevision: first.revision, maxCount: eventIds.length });
    for (const [index, eventId] of eventIds.entries()) {
      const event = recorded[index];
      if (
        event === undefined ||
        event.eventId !== eventId ||
        event.type !== prepared.types[index] ||
        event.schemaVersion !== prepared.schemaVersions[index] ||
        JSON.stringify(event.data) !== prepared.dataJsons[index]
      ) {
        throw new DuplicateEventIdError(eventId);
      }
    }
    return { nextExpectedRevision: first.revision + eventIds.length - 1, position: recorded[recorded.length - 1].position };
  }

  private async write(directory: EventIdDirectory, prepared: PreparedAppend): Promise<AppendResult> {
    const { streamId, eventIds, expectedRevision } = prepared;
    let settle: () => void = () => undefined;
    const settled = new Promise<void>((resolve) => {
      settle = resolve;
    });
    for (const eventId of eventIds) this.inFlightIds.set(eventId, settled);
    try {
      const result = await this.withRetries(() =>
        this.client.appendToStream(streamId, prepared.eventData, { expectedRevision: toClientExpectedRevision(expectedRevision) }),
      );
      const nextExpectedRevision = toSafeNumber(result.nextExpectedRevision, `revision of ${streamId}`);
      directory.addAppend(streamId, eventIds, nextExpectedRevision - eventIds.length + 1);
      return { nextExpectedRevision, position: positionFromAll(result.position, `the append to ${streamId}`) };
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) {
        const actual = error.actualVersion;
        throw new ConcurrencyError(streamId, expectedRevision, typeof actual === 'bigint' ? toSafeNumber(actual, `revision of ${streamId}`) : -1);
      }
      throw error;
    } finally {
      for (const eventId of eventIds) this.inFlightIds.delete(eventId);
      settle();
    }
  }

  /** An append of no events writes nothing: it checks the expected revision and answers with the stream's last event. */
  private async appendNothing(streamId: string, expectedRevision: ExpectedRevision): Promise<AppendResult> {
    const last = await this.withRetries(async () => {
      try {
        for await (const resolved of this.client.readStream(streamId, { fromRevision: END, direction: BACKWARDS, maxCount: 1 })) {
          return toRecordedEvent(resolved, positionFromStreamRead(resolved.event?.position, `the last event of ${streamId}`));
        }
      } catch (error) {
        if (!(error instanceof StreamNotFoundError)) throw error;
      }
      return undefined;
    });
    const actual = last?.revision ?? -1;
    const matches =
      expectedRevision === 'any' ||
      (expectedRevision === 'no_stream' && actual === -1) ||
      (expectedRevision === 'stream_exists' && actual >= 0) ||
      expectedRevision === actual;
    if (!matches) throw new ConcurrencyError(streamId, expectedRevision, actual);
    return { nextExpectedRevision: actual, position: last?.position ?? 0 };
  }

  /** The directory, started on first need; resolves once it holds every event committed before the call. */
  private eventIdDirectory(): Promise<EventIdDirectory> {
    if (this.directory !== null && this.directory.instance.error !== null) {
      void this.directory.instance.close();
      this.directory = null;
    }
    if (this.directory === null) {
      const instance = new EventIdDirectory(this.catchUpSubscription(0, undefined));
      const ready = this.headPosition().then(async (head) => {
        await instance.reached(head);
        return instance;
      });
      this.directory = { instance, ready };
      // A directory that could not be built, or stopped following the log, is built again by the next append.
      ready.catch(() => {
        if (this.directory?.ready !== ready) return;
        this.directory = null;
        void instance.close();
      });
    }
    return this.directory.ready;
  }

  private catchUpSubscription(afterPosition: number, filter: SubscribeOptions['filter']): EventStoreDbSubscription {
    const source: SubscriptionSource = {
      startAfter: (position) => this.startAfter(position),
      open: (from: ReadPosition, serverFilter: Filter): AllStreamSubscription =>
        this.client.subscribeToAll({ fromPosition: from, filter: serverFilter }),
      detach: (subscription) => this.subscriptions.delete(subscription),
    };
    const subscription = new EventStoreDbSubscription(source, afterPosition, planFilter(filter, this.searchWindow), this.backoff);
    this.subscriptions.add(subscription);
    return subscription;
  }

  /**
   * The last event at or before `position`, as a place to start from: a read from it (then passing over
   * what is at or before `position`), or a subscription, which the server starts strictly after the event
   * it is given (and, given a record that is not an event, after the first event that follows it).
   */
  private async startAfter(position: number): Promise<ReadPosition> {
    if (position === 0) return START;
    const last = await this.lastEventAtOrBefore(position);
    return last === null ? START : toEventStoreDbPosition(last);
  }

  /** The position of the last event (any stream) at or before `position`, or null when there is none. */
  private async lastEventAtOrBefore(position: number): Promise<number | null> {
    try {
      const [atOrAfter] = await this.readAllPage(FORWARDS, toEventStoreDbPosition(position), 1);
      const found = atOrAfter === undefined ? undefined : positionFromAll(atOrAfter.event?.position, 'an event in $all');
      if (found === position) return position;
      // A record that is not an event, or the end of the log: the event before it.
      return this.lastEventBefore(found ?? position);
    } catch (error) {
      if (!isInvalidPosition(error)) throw error;
    }
    // Not where a record starts: read on from the start of its chunk, which always is.
    const chunkStart = Math.floor(position / this.chunkSizeBytes) * this.chunkSizeBytes;
    let from: ReadPosition = chunkStart === 0 ? START : toEventStoreDbPosition(chunkStart);
    let last: number | null = null;
    for (;;) {
      let page: AllStreamResolvedEvent[];
      try {
        page = await this.readAllPage(FORWARDS, from, this.readPageSize);
      } catch (error) {
        // A server with another chunk size: read from the start of the log.
        if (!isInvalidPosition(error) || from === START) throw error;
        from = START;
        continue;
      }
      for (const resolved of page) {
        const found = positionFromAll(resolved.event?.position, 'an event in $all');
        if (found > position) return last ?? (chunkStart === 0 ? null : this.lastEventBefore(chunkStart));
        last = found;
      }
      if (page.length < this.readPageSize) return last ?? (chunkStart === 0 ? null : this.lastEventBefore(chunkStart));
      from = toEventStoreDbPosition(last as number);
    }
  }

  private async lastEventBefore(position: number): Promise<number | null> {
    const [before] = await this.readAllPage(BACKWARDS, toEventStoreDbPosition(position), 1);
    return before === undefined ? null : positionFromAll(before.event?.position, 'an event in $all');
  }

  private readAllPage(direction: Direction, from: ReadPosition, maxCount: number): Promise<AllStreamResolvedEvent[]> {
    return this.withRetries(async () => {
      const page: AllStreamResolvedEvent[] = [];
      for await (const resolved of this.client.readAll({ fromPosition: from, maxCount, direction })) page.push(resolved);
      return page;
    });
  }

  private async withRetries<T>(operation: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await operation();
      } catch (error) {
        if (!isTransient(error) || attempt >= this.attempts || this.closed) throw error;
        await new Promise((resolve) => setTimeout(resolve, backoffDelay(this.backoff, attempt - 1)));
      }
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('The event store is closed');
  }
}

function toClientExpectedRevision(expected: ExpectedRevision): AppendExpectedRevision {
  switch (expected) {
    case 'any':
      return ANY;
    case 'no_stream':
      return NO_STREAM;
    case 'stream_exists':
      return STREAM_EXISTS;
    default:
      return BigInt(expected);
  }
}
