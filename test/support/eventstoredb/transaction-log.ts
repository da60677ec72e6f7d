/**
 * The in-memory state of the EventStoreDB test double: a transaction log addressed by byte position, the
 * stream index, and the write-side checks EventStoreDB makes before it writes (expected version, idempotency
 * by event id). It follows the server's documented behaviour and its source (IndexWriter.CheckCommit,
 * StorageWriterService.WritePrepares, AllReader), for the part of it the ledger's adapter uses:
 *
 * - Every append is one implicit transaction: its events are prepare records written one after another,
 *   each committed on its own, so an event's $all position has commit position = prepare position = the
 *   byte offset of its record. The log starts with an epoch record at 0, so no event is at position 0.
 * - Record sizes follow the prepare record layout (header, stream name, event type, data, metadata, length
 *   prefix and suffix), so positions have gaps of a realistic size; they are never consecutive integers.
 * - Reads of $all must start at a record boundary (0, a record's position or the end of the log);
 *   anything else is an invalid position, as the server reports it.
 *
 * It is a test double: one process, memory only, no chunks, scavenging, deletes, metadata streams, ACLs or
 * cluster. Idempotency by event id for `any` uses every event ever written, where the server uses a bounded
 * cache of recent ones.
 */

/** 100 ns ticks since the Unix epoch, as the server stamps `created`. */
export type Ticks = bigint;

export interface StoredEvent {
  /** Log position of the event's record: its commit and prepare position in $all. */
  position: number;
  streamName: string;
  eventNumber: number;
  /** Lower-case canonical uuid. */
  eventId: string;
  eventType: string;
  contentType: string;
  data: Uint8Array;
  customMetadata: Uint8Array;
  created: Ticks;
}

export interface ProposedEvent {
  eventId: string;
  eventType: string;
  contentType: string;
  data: Uint8Array;
  customMetadata: Uint8Array;
}

export type ExpectedVersion =
  | { kind: 'revision'; revision: number }
  | { kind: 'no_stream' }
  | { kind: 'any' }
  | { kind: 'stream_exists' };

export type AppendOutcome =
  /** Written now, or found already written by the same event ids (an idempotent retry): the same answer. */
  | { kind: 'success'; idempotent: boolean; lastEventNumber: number; position: number }
  /** `currentVersion` is the stream's last event number, -1 when it has none. */
  | { kind: 'wrong_expected_version'; currentVersion: number };

export interface EventFilterExpression {
  on: 'stream' | 'event_type';
  prefixes: readonly string[];
  regex: string;
}

/** Where a read of $all starts: a log position, the start or the end. */
export type AllReadStart = { kind: 'start' } | { kind: 'end' } | { kind: 'position'; commit: number; prepare: number };

export class InvalidPositionError extends Error {
  constructor(readonly position: number) {
    super('Trying to read from an invalid position.');
    this.name = 'InvalidPositionError';
  }
}

const EPOCH_RECORD_SIZE = 120;
const NO_STREAM = -1;
const utf8 = new TextEncoder();

export class TransactionLog {
  /** Every event, system events included, in log order. */
  readonly events: StoredEvent[] = [];
  private readonly streams = new Map<string, StoredEvent[]>();
  /** Where records start: the epoch record, every event record, every empty commit record. */
  private readonly recordPositions = new Set<number>([0]);
  /** The end of the log: the next record is written here. */
  private writerCheckpoint = EPOCH_RECORD_SIZE;
  /** Event id to where it was last written (the server's committed-events cache, here never evicted). */
  private readonly committedEvents = new Map<string, { streamName: string; eventNumber: number }>();
  private readonly listeners = new Set<() => void>();

  constructor(private readonly now: () => Ticks = () => BigInt(Date.now()) * 10_000n) {}

  get endPosition(): number {
    return this.writerCheckpoint;
  }

  lastEventNumber(streamName: string): number {
    const stream = this.streams.get(streamName);
    return stream === undefined ? NO_STREAM : stream.length - 1;
  }

  /** Checks the expected version and the event ids as the server does, then writes, all at once. */
  append(streamName: string, expected: ExpectedVersion, proposed: readonly ProposedEvent[]): AppendOutcome {
    const decision = this.checkCommit(streamName, expected, proposed.map((event) => event.eventId));
    if (decision.kind !== 'ok') return decision;
    const currentVersion = this.lastEventNumber(streamName);
    if (proposed.length === 0) {
      // The server writes an empty commit record: the log moves on, the stream does not.
      const position = this.writeRecord(EPOCH_RECORD_SIZE);
      this.notify();
      return { kind: 'success', idempotent: false, lastEventNumber: currentVersion, position };
    }
    let stream = this.streams.get(streamName);
    if (stream === undefined) {
      stream = [];
      this.streams.set(streamName, stream);
    }
    const created = this.now();
    let position = 0;
    for (const [offset, event] of proposed.entries()) {
      position = this.writeRecord(prepareRecordSize(streamName, event));
      const stored: StoredEvent = { ...event, position, streamName, eventNumber: currentVersion + 1 + offset, created };
      stream.push(stored);
      this.events.push(stored);
      this.committedEvents.set(event.eventId, { streamName, eventNumber: stored.eventNumber });
    }
    this.notify();
    return { kind: 'success', idempotent: false, lastEventNumber: currentVersion + proposed.length, position };
  }

  readStream(streamName: string, direction: 'forwards' | 'backwards', from: number | 'start' | 'end', count: number): StoredEvent[] | null {
    const stream = this.streams.get(streamName);
    if (stream === undefined) return null;
    if (direction === 'forwards') {
      if (from === 'end') return [];
      const first = from === 'start' ? 0 : from;
      return stream.slice(first, first + count);
    }
    const last = from === 'end' ? stream.length - 1 : from === 'start' ? 0 : Math.min(from, stream.length - 1);
    const result: StoredEvent[] = [];
    for (let eventNumber = last; eventNumber >= 0 && result.length < count; eventNumber--) result.push(stream[eventNumber]);
    return result;
  }

  /** Forwards: events at or after the start. Backwards: events before it. Throws InvalidPositionError. */
  readAll(direction: 'forwards' | 'backwards', start: AllReadStart, count: number, filter: EventFilterExpression | null): StoredEvent[] {
    const result: StoredEvent[] = [];
    if (direction === 'forwards') {
      if (start.kind === 'end') return result;
      const from = start.kind === 'start' ? 0 : this.validPosition(start.commit);
      for (let index = this.indexAtOrAfter(from); index < this.events.length && result.length < count; index++) {
        if (matches(filter, this.events[index])) result.push(this.events[index]);
      }
      return result;
    }
    if (start.kind === 'start') return result;
    const before = start.kind === 'end' ? Number.POSITIVE_INFINITY : this.validPosition(start.commit);
    for (let index = this.indexAtOrAfter(before) - 1; index >= 0 && result.length < count; index--) {
      if (matches(filter, this.events[index])) result.push(this.events[index]);
    }
    return result;
  }

  /**
   * Where a catch-up subscription to $all starts reading, as an index into `events`: from the start it reads
   * everything; from a position it reads one event at or after it and starts after that one, so the event at
   * the position itself is not delivered (nor, when the position is a record that is not an event, the first
   * event after it).
   */
  subscriptionStartIndex(start: AllReadStart): number {
    if (start.kind === 'start') return 0;
    if (start.kind === 'end') return this.events.length;
    const index = this.indexAtOrAfter(this.validPosition(start.commit));
    return Math.min(index + 1, this.events.length);
  }

  /** Calls `listener` after every write; returns the function that stops it. */
  onWrite(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private checkCommit(
    streamName: string,
    expected: ExpectedVersion,
    eventIds: readonly string[],
  ): AppendOutcome | { kind: 'ok' } {
    const currentVersion = this.lastEventNumber(streamName);
    const wrongExpectedVersion = { kind: 'wrong_expected_version', currentVersion } as const;
    if (expected.kind === 'stream_exists' && currentVersion === NO_STREAM) return wrongExpectedVersion;

    if (expected.kind === 'any' || expected.kind === 'stream_exists') {
      // Idempotent when every id was written to this stream; corrupted (a wrong expected version) when only
      // some were; written again when the first id was not.
      let endEventNumber = -1;
      for (const [index, eventId] of eventIds.entries()) {
        const info = this.committedEvents.get(eventId);
        if (info === undefined || info.streamName !== streamName) return index === 0 ? { kind: 'ok' } : wrongExpectedVersion;
        endEventNumber = info.eventNumber;
      }
      if (eventIds.length === 0) return { kind: 'ok' };
      return this.idempotent(streamName, endEventNumber);
    }

    const expectedVersion = expected.kind === 'no_stream' ? NO_STREAM : expected.revision;
    if (expectedVersion < currentVersion) {
      // The events after the expected version must be these ids, in order, for a retry; otherwise the
      // writer was simply behind.
      let eventNumber = expectedVersion;
      for (const eventId of eventIds) {
        eventNumber += 1;
        const info = this.committedEvents.get(eventId);
        if (info !== undefined && info.streamName === streamName && info.eventNumber === eventNumber) continue;
        const stored = this.streams.get(streamName)?.[eventNumber];
        if (stored !== undefined && stored.eventId === eventId) continue;
        return wrongExpectedVersion;
      }
      if (eventNumber === expectedVersion) return wrongExpectedVersion;
      return this.idempotent(streamName, eventNumber);
    }
    if (expectedVersion > currentVersion) return wrongExpectedVersion;
    return { kind: 'ok' };
  }

  /** The answer to a retry: the last event of the range and its position, as the first write answered. */
  private idempotent(streamName: string, endEventNumber: number): AppendOutcome {
    const event = (this.streams.get(streamName) as StoredEvent[])[endEventNumber];
    return { kind: 'success', idempotent: true, lastEventNumber: endEventNumber, position: event.position };
  }

  private writeRecord(size: number): number {
    const position = this.writerCheckpoint;
    this.recordPositions.add(position);
    this.writerCheckpoint += size;
    return position;
  }

  private validPosition(position: number): number {
    if (position === this.writerCheckpoint || this.recordPositions.has(position)) return position;
    throw new InvalidPositionError(position);
  }

  /** The index in `events` of the first event at or after `position` (binary search: positions increase). */
  private indexAtOrAfter(position: number): number {
    let low = 0;
    let high = this.events.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.events[middle].position < position) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

export function matches(filter: EventFilterExpression | null, event: StoredEvent): boolean {
  if (filter === null) return true;
  const subject = filter.on === 'stream' ? event.streamName : event.eventType;
  if (filter.prefixes.length > 0) return filter.prefixes.some((prefix) => subject.startsWith(prefix));
  return new RegExp(filter.regex).test(subject);
}

/**
 * A prepare record's size on disk: length prefix, record type and version, log position, flags,
 * transaction position and offset, stream name, expected version, event id, correlation id, timestamp,
 * event type, data and metadata (each length-prefixed), length suffix.
 */
function prepareRecordSize(streamName: string, event: ProposedEvent): number {
  const lengthPrefixed = (bytes: number) => bytes + (bytes < 128 ? 1 : 2);
  return (
    4 + 2 + 8 + 2 + 8 + 4 +
    lengthPrefixed(utf8.encode(streamName).length) +
    8 + 16 + 16 + 8 +
    lengthPrefixed(utf8.encode(event.eventType).length) +
    4 + event.data.length +
    4 + event.customMetadata.length +
    4
  );
}
