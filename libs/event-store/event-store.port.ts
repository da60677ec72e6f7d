/**
 * The event store port: one interface, several adapters (embedded SQLite file, EventStoreDB),
 * one contract suite (libs/event-store/contract/event-store.contract.ts) that every adapter passes.
 *
 * Revisions are 0-based per stream (the first event of a stream has revision 0), as in EventStoreDB.
 * Global positions are positive, strictly increasing in commit order, and may have gaps; position 0
 * means "before the first event", so reading after position 0 reads the whole log.
 */

/** What the writer expects the stream to be when its append lands. */
export type ExpectedRevision =
  | 'no_stream' // the stream must have no events
  | 'stream_exists' // the stream must have at least one event
  | 'any' // no check (never for aggregate writes)
  | number; // the revision of the stream's last event

export interface Actor {
  id: string;
  role: string;
}

export interface EventMetadata {
  actor: Actor;
  /** Shared by every event a single request or process produced. */
  correlationId: string;
  /** The event id (or command id) that caused this event; null for an outside command. */
  causationId: string | null;
  /** The client's idempotency key for the command, when it gave one. */
  commandId: string | null;
  /** Business time: when the thing happened in the world (ISO-8601). */
  occurredAt: string;
}

export interface NewEvent<Type extends string = string, Data = unknown> {
  /** A uuid chosen by the writer, so a retried append is recognised and not duplicated. */
  eventId: string;
  type: Type;
  schemaVersion: number;
  /** JSON-safe; money as decimal strings. */
  data: Data;
  metadata: EventMetadata;
}

export interface RecordedEvent<Type extends string = string, Data = unknown> extends NewEvent<Type, Data> {
  streamId: string;
  revision: number;
  position: number;
  /** System time: when the store committed the event (ISO-8601). */
  recordedAt: string;
}

export interface AppendResult {
  /** The revision of the stream's last event after the append: pass it as the next expected revision. */
  nextExpectedRevision: number;
  /** The global position of the last appended event. */
  position: number;
}

export interface ReadStreamOptions {
  /** First revision to read (inclusive). Default 0. */
  fromRevision?: number;
  maxCount?: number;
}

export interface EventFilter {
  /** Only events whose stream id starts with one of these. */
  streamPrefixes?: readonly string[];
  /** Only events of these types. */
  eventTypes?: readonly string[];
}

export interface ReadAllOptions {
  /** Read events strictly after this global position. Default 0 (the whole log). */
  afterPosition?: number;
  maxCount?: number;
  filter?: EventFilter;
}

export interface ReadAllPagesOptions {
  /** Read events strictly after this global position. Default 0 (the whole log). */
  afterPosition?: number;
  /** Most events per page. */
  pageSize: number;
  filter?: EventFilter;
}

export interface SubscribeOptions {
  /** Deliver events strictly after this position (a stored checkpoint). Default 0. */
  afterPosition?: number;
  filter?: EventFilter;
}

/**
 * A catch-up subscription: reads history after the given position, then turns live, delivering every
 * matching event exactly once and in global order. Iterate it with `for await`; `stop()` ends the iteration.
 */
export interface Subscription extends AsyncIterable<RecordedEvent> {
  stop(): Promise<void>;
}

export interface EventStore {
  append(streamId: string, events: readonly NewEvent[], expectedRevision: ExpectedRevision): Promise<AppendResult>;
  /** Events of one stream in revision order; an empty array for a stream with no events. */
  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  /**
   * The log after a position, a page at a time, for a reader catching up (a projection rebuild): the same events as
   * successive `readAll` calls, in global order, each page holding at most `pageSize`. The iteration ends once a read
   * finds fewer than `pageSize` events (that short page is yielded when it is not empty): the log's end as it then
   * stood. An adapter may read a few pages ahead of the caller; leaving the loop early (`break`, `return()`) stops it.
   */
  readAllPages(options: ReadAllPagesOptions): AsyncIterable<RecordedEvent[]>;
  subscribeToAll(options?: SubscribeOptions): Subscription;
  /** The position of the last committed event (0 for an empty log). */
  headPosition(): Promise<number>;
  close(): Promise<void>;
}

/** The stream is not at the expected revision. HTTP 409 at the edge. */
export class ConcurrencyError extends Error {
  readonly code = 'STORE.CONCURRENCY';
  constructor(
    readonly streamId: string,
    readonly expectedRevision: ExpectedRevision,
    /** The stream's actual last revision, or -1 when it has no events. */
    readonly actualRevision: number,
  ) {
    super(`Stream ${streamId} is at revision ${actualRevision}, expected ${String(expectedRevision)}`);
    this.name = 'ConcurrencyError';
  }
}

/** An event id that is already recorded elsewhere (another stream or another place in this stream). */
export class DuplicateEventIdError extends Error {
  readonly code = 'STORE.DUPLICATE_EVENT_ID';
  constructor(readonly eventId: string) {
    super(`Event id ${eventId} is already recorded with different content or at a different place`);
    this.name = 'DuplicateEventIdError';
  }
}
